# Silent refresh is never done by a subrequest (API.md section 5), on the
# cookie virtual hosts aapi_protect_cookie and aapi_protect_nograce (the
# same without the refresh reuse grace, where a refresh token presented a
# second time ends its session). An SSI page outside any protection that
# includes a protected CGI, requested with an expired access cookie and a
# live refresh cookie: no cookies are set, the include shows no identity,
# the refresh token is not rotated, and the next top-level request still
# refreshes. A protected SSI page that includes a CGI of another protected
# section: the page refreshes once, and the include runs with the tokens
# the page obtained. A page whose include a cookie authenticated is
# private and varies on Cookie. Configuration: t/conf/protect.conf.in; pages:
# t/htdocs/protected/pub/include.shtml, t/htdocs/protected/loc/include.shtml.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;
use Digest::SHA qw(sha256_hex);

my @HOSTS = qw(aapi_protect_cookie aapi_protect_nograce);

plan tests => 3 * @HOSTS, need_module('mod_auth_api.c', 'mod_dbd.c');

my $PUBLIC_PAGE = '/protected/pub/include.shtml';     # includes /protected/loc/env.cgi
my $PROTECTED_PAGE = '/protected/loc/include.shtml';  # includes /protected/dir/env.cgi

# Returns "name=count" for each cookie name RES sets, sorted.
sub set_cookie_counts {
    my %n;
    $n{$_}++ for set_cookie_names(shift);
    return join ' ', map { "$_=$n{$_}" } sort keys %n;
}

# Checks that the body of RES shows nothing of account U: no output of the
# included CGI, not its email nor its id.
sub no_identity {
    my ($r, $u, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $b = $r->{body} // '';
    ok($b !~ /^CGI-OK$/m, "$name: the protected CGI did not run");
    ok(index($b, $u->{email}) < 0, "$name: the body does not show the email");
    ok(index($b, $u->{id}) < 0, "$name: the body does not show the user id");
    my @id = $b =~ /^((?:REMOTE_USER|AUTH_API_\w+)=\S.*)$/mg;
    is("@id", '', "$name: no identity variable with a value");
}

for my $host (@HOSTS) {
    Apache::TestRequest::module($host);
    my $U = new_account();

    subtest "$host: control: with a live access cookie the public page's include shows the user" => sub {
        my $s = cookie_session($U);
        my $r = raw_req('GET', $PUBLIC_PAGE, [ token_cookie_line(access => $s->{access}) ]);
        is($r->{status}, 200, 'the page: 200') or diag(substr($r->{body}, 0, 300));
        like($r->{body}, qr/^PUBLIC-SSI-OK$/m, 'the SSI page was served');
        like($r->{body}, qr/^CGI-OK$/m, 'the protected CGI ran in the include');
        is(cgi_env($r)->{REMOTE_USER}, $U->{email}, 'the include sees REMOTE_USER');
        is($r->header('Set-Cookie'), undef, 'no Set-Cookie');
        $r = raw_req('GET', $PUBLIC_PAGE, []);
        is($r->{status}, 200, 'without cookies, the page: 200');
        like($r->{body}, qr/INCLUDE-REFUSED/, 'without cookies, the include is refused');
        no_identity($r, $U, 'without cookies');
    };

    subtest "$host: an unprotected page's include does not silently refresh" => sub {
        for my $case ('expired access + refresh cookie', 'refresh cookie alone') {
            my ($s, $line) = refresh_due($U, $case =~ /expired/);
            my $r = raw_req('GET', $PUBLIC_PAGE, [ $line ]);
            is($r->{status}, 200, "$case: the page: 200") or diag(substr($r->{body}, 0, 300));
            like($r->{body}, qr/^PUBLIC-SSI-OK$/m, "$case: the SSI page was served");
            my @set = set_cookie_names($r);
            is("@set", '', "$case: no Set-Cookie");
            no_identity($r, $U, $case);
            is(session_refresh_hash($s->{sid}), sha256_hex($s->{refresh}),
               "$case: the session's refresh_hash is still the SHA-256 of the client's refresh cookie");

            # a top-level request with the same cookies still refreshes
            $r = raw_req('GET', '/protected/loc/env.cgi', [ $line ]);
            is($r->{status}, 200, "$case: then a protected URL with the same cookies: 200")
                or diag(substr($r->{body}, 0, 300));
            is(cgi_env($r)->{REMOTE_USER}, $U->{email}, "$case: then: REMOTE_USER");
            my $new = set_cookies($r);
            my $nf = ($new->{auth_api_refresh} || {})->{value};
            ok($new->{auth_api_access} && $nf && $nf ne $s->{refresh},
               "$case: then: fresh cookies");
            is(session_refresh_hash($s->{sid}), sha256_hex($nf // ''),
               "$case: then: the session holds the fresh refresh token");
        }
    };

    subtest "$host: a protected page's include runs with the tokens the page obtained" => sub {
        for my $case ('expired access + refresh cookie', 'refresh cookie alone') {
            my ($s, $line) = refresh_due($U, $case =~ /expired/);
            my $r = raw_req('GET', $PROTECTED_PAGE, [ $line ]);
            is($r->{status}, 200, "$case: the page: 200") or diag(substr($r->{body}, 0, 500));
            is(set_cookie_counts($r), 'auth_api_access=1 auth_api_refresh=1',
               "$case: exactly one Set-Cookie per cookie name");
            my $env = cgi_env($r);
            is($env->{PAGE_REMOTE_USER}, $U->{email}, "$case: the page itself sees REMOTE_USER");
            ok($r->{body} =~ /^CGI-OK$/m, "$case: the included CGI ran")
                or diag(substr($r->{body}, 0, 500));
            # /protected/dir has AuthAPIRemoteUser sub: its own check set this
            is($env->{REMOTE_USER}, $U->{id}, "$case: the include's REMOTE_USER is the user id");
            is($env->{AUTH_API_USER_ID}, $U->{id}, "$case: the include's AUTH_API_USER_ID");
            is($env->{AUTH_API_SESSION_ID}, $s->{sid}, "$case: the include's session");

            my $new = set_cookies($r);
            my $na = ($new->{auth_api_access} || {})->{value};
            my $nf = ($new->{auth_api_refresh} || {})->{value};
            ok($na && $nf && $nf ne $s->{refresh}, "$case: fresh cookies");
            my (undef, $claims) = jwt_decode($na // 'e30.e30.');
            is($env->{AUTH_API_EXPIRES}, rfc3339($claims->{exp} // 0),
               "$case: the include's AUTH_API_EXPIRES is that of the new access token");
            is(session_refresh_hash($s->{sid}), sha256_hex($nf // ''),
               "$case: the session holds the SHA-256 of the refresh cookie that was set (no second rotation)");
            my $live = db_query('SELECT COUNT(*) FROM sessions WHERE id = ' . sql_quote($s->{sid})
                                . ' AND revoked_at IS NULL');
            is($live, 1, "$case: the session is not ended");

            # the cookies the page set open the next page
            $r = raw_req('GET', '/protected/loc/env.cgi', [ token_cookie_line(access => $na // 'x', refresh => $nf // 'x') ]);
            is($r->{status}, 200, "$case: the new cookies: 200");
            is($r->header('Set-Cookie'), undef, "$case: the new cookies: no further refresh");
        }
    };
}
