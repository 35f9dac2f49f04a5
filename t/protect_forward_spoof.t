# Client-sent X-Auth-Api-* headers never reach a CGI or a proxied backend
# where AuthAPIForwardHeaders On applies, whatever the AuthType (API.md
# section 5): under AuthType Basic with AuthBasicProvider auth-api that a
# "Require ip" lets pass without credentials, and in an area with no
# AuthType at all. With valid Basic credentials the program sees the
# module's own values. Configuration: t/conf/protect.conf.in, areas
# /protected/basicany, /protected/plainfwd and their proxied twins.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 5, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $U = new_account();

# what a client makes up: dashed names and an underscore spelling
my @SPOOF = ('X-Auth-Api-Role: admin', 'X-Auth-Api-Email: ceo@example.com',
             'X_Auth_Api_User_Id: x');
# more names and spellings, for the proxied backend (which sees underscore
# names)
my @MORE = ('X-AUTH-API-USERNAME: boss', 'X-Auth-Api-Foo: bar',
            'X_AUTH-API_EXPIRES: 2099-01-01T00:00:00Z', 'x_auth_api_session_id: spoofed-sid',
            'x-Auth-Api-Email-Verified: true');
my $SPOOFED = qr/ceo\@example\.com|admin|^x$|boss|^bar$|2099|spoofed|^true$/;

# Returns "name: value" of every response header of R that the backend
# echoed (any spelling of X-Auth-Api-*), sorted.
sub echoed {
    my $r = shift;
    my @e;
    $r->{res}->headers->scan(sub { push @e, "$_[0]: $_[1]" if $_[0] =~ /^x.auth.api/i });
    return sort @e;
}

subtest 'control: the spoofed headers do reach a CGI and the backend elsewhere' => sub {
    # an area without forwarding and without authentication, as a baseline
    my $r = raw_req('GET', '/protected/pub/env.cgi', \@SPOOF);
    is($r->{status}, 200, 'an open CGI: 200');
    is(cgi_env($r)->{HTTP_X_AUTH_API_ROLE}, 'admin', 'control: a CGI sees a client header');
    Apache::TestRequest::module('aapi_protect_backend');
    $r = raw_req('GET', '/protected/backend/env.cgi', [ @SPOOF, @MORE ]);
    Apache::TestRequest::module('default');
    is($r->{status}, 200, 'the backend on its own host: 200');
    my @e = echoed($r);
    is(scalar @e, @SPOOF + @MORE, 'control: the backend echoes every spelling it receives')
        or diag(join "\n", @e);
};

subtest 'AuthType Basic + Require ip, no credentials: no client-made X-Auth-Api-* reaches the CGI' => sub {
    for my $f (qw(env.cgi env.php)) {
        my $r = raw_req('GET', "/protected/basicany/$f", [ @SPOOF, @MORE ]);
        is($r->{status}, 200, "$f without credentials: 200 (Require ip)")
            or diag(substr($r->{body}, 0, 300));
        my $env = cgi_env($r);
        like($env->{_marker}, qr/^(?:CGI|PHP)-OK$/, "$f: the program ran");
        is($env->{REMOTE_USER}, undef, "$f: no REMOTE_USER");
        no_spoof($env, "$f, Basic + Require ip, no credentials");
    }
};

subtest 'no AuthType, Require all granted: no client-made X-Auth-Api-* reaches the CGI' => sub {
    for my $f (qw(env.cgi env.php)) {
        my $r = raw_req('GET', "/protected/plainfwd/$f", [ @SPOOF, @MORE ]);
        is($r->{status}, 200, "$f: 200") or diag(substr($r->{body}, 0, 300));
        my $env = cgi_env($r);
        like($env->{_marker}, qr/^(?:CGI|PHP)-OK$/, "$f: the program ran");
        no_spoof($env, "$f, no AuthType");
    }
    # a Bearer token changes nothing there: nothing authenticates
    my $r = raw_req('GET', '/protected/plainfwd/env.cgi',
                    [ "Authorization: Bearer $U->{access_token}", @SPOOF ]);
    is($r->{status}, 200, 'with a Bearer token: 200');
    no_spoof(cgi_env($r), 'no AuthType, with a Bearer token');
};

subtest 'the proxied twins: no spelling of X-Auth-Api-* reaches the backend' => sub {
    for my $case (['/protected/basicanyproxy/env.cgi', 'Basic + Require ip, no credentials'],
                  ['/protected/plainfwdproxy/env.cgi', 'no AuthType']) {
        my ($path, $name) = @$case;
        my $r = raw_req('GET', $path, [ @SPOOF, @MORE ]);
        is($r->{status}, 200, "$name: 200") or diag(substr($r->{body}, 0, 300));
        my $env = cgi_env($r);
        is($env->{_marker}, 'BACKEND-OK', "$name: the backend answered");
        no_spoof($env, "$name, backend");
        my @e = echoed($r);
        is("@e", '', "$name: the backend received no X-Auth-Api-* header in any spelling")
            or diag(join "\n", @e);
    }
};

# Valid credentials where "Require ip" already grants: httpd 2.4 runs
# authentication only when a Require needs a user, so the credentials are
# not checked and the program gets no identity; what must hold is that
# nothing the client made gets through.
subtest 'AuthType Basic + Require ip, valid credentials: no client-made value reaches the CGI or the backend' => sub {
    my $auth = 'Authorization: ' . basic_auth($U->{email}, $U->{password});
    my $r = raw_req('GET', '/protected/basicany/env.cgi', [ $auth, @SPOOF, @MORE ]);
    is($r->{status}, 200, 'CGI: 200') or diag(substr($r->{body}, 0, 300));
    my $env = cgi_env($r);
    is($env->{_marker}, 'CGI-OK', 'the CGI ran');
    my @bad = grep { /^HTTP_X_AUTH_API/ && $env->{$_} =~ $SPOOFED } sort keys %$env;
    is("@bad", '', 'CGI: no HTTP_X_AUTH_API_* variable has a client-made value')
        or diag(join "\n", map { "$_=$env->{$_}" } @bad);
    is($env->{HTTP_X_AUTH_API_FOO}, undef, 'CGI: a client-made X-Auth-Api-Foo is gone');

    $r = raw_req('GET', '/protected/basicanyproxy/env.cgi', [ $auth, @SPOOF, @MORE ]);
    is($r->{status}, 200, 'proxy: 200') or diag(substr($r->{body}, 0, 300));
    $env = cgi_env($r);
    is($env->{_marker}, 'BACKEND-OK', 'the backend answered');
    @bad = grep { /^HTTP_X_AUTH_API/ && $env->{$_} =~ $SPOOFED } sort keys %$env;
    is("@bad", '', 'backend: no HTTP_X_AUTH_API_* variable has a client-made value')
        or diag(join "\n", map { "$_=$env->{$_}" } @bad);
    my @under = grep { /_/ } map { (split /:/)[0] } echoed($r);
    is("@under", '', 'backend: no underscore spelling reached it');
};
