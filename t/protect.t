# AuthType auth-api on other content (API.md section 5): a <Location>, a
# <Directory> and .htaccess refuse requests without a valid access token
# (401 with a Bearer challenge) and serve static files, CGI, PHP and SSI
# with one; AuthAPILoginURL sends browsers to the login page instead; the
# API under /api/v1/auth is unaffected. Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 12, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $U = new_account();
my $TOK = $U->{access_token};

# the three ways of protecting, with the files each directory holds
my %AREA = (
    'a <Location>'  => { base => '/protected/loc', files => [qw(hello.txt env.cgi env.php env.shtml)] },
    'a <Directory>' => { base => '/protected/dir', files => [qw(hello.txt env.cgi env.php)] },
    '.htaccess'     => { base => '/protected/ht',  files => [qw(hello.txt env.cgi)] },
);
my %MARK = (txt => qr/^protected-static-marker: \w+$/m, cgi => qr/^CGI-OK$/m,
            php => qr/^PHP-OK$/m, shtml => qr/^SSI-OK$/m);

# Checks that RES is a 401 with exactly the challenge WANT and no content.
sub refused {
    my ($res, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->{status}, 401, "$name: 401") or diag(substr($res->{body}, 0, 300));
    is(challenge($res), $want, "$name: WWW-Authenticate: $want");
    ok(no_content($res), "$name: none of the content in the body");
}

for my $area (sort keys %AREA) {
    my $a = $AREA{$area};
    subtest "$area: no token, a bad token, a valid token" => sub {
        for my $f (@{ $a->{files} }) {
            my $path = "$a->{base}/$f";
            my ($ext) = $f =~ /\.(\w+)$/;
            refused(pget($path), 'Bearer', "$path without a token");
            refused(bearer_at($path, 'x.y.z'), 'Bearer error="invalid_token"',
                    "$path with a malformed token");
            refused(bearer_at($path, $TOK . 'x'), 'Bearer error="invalid_token"',
                    "$path with an altered token");
            my $r = bearer_at($path, $TOK);
            is($r->{status}, 200, "$path with a valid token: 200")
                or diag(substr($r->{body}, 0, 500));
            like($r->{body}, $MARK{$ext}, "$path: the content");
        }
    };
}

subtest 'the scheme is case-insensitive' => sub {
    for my $scheme (qw(Bearer bearer BEARER bEaReR)) {
        for my $path ('/protected/loc/hello.txt', '/protected/dir/env.cgi', '/protected/ht/hello.txt') {
            my $r = pget($path, Authorization => "$scheme $TOK");
            is($r->{status}, 200, "$scheme on $path") or diag(substr($r->{body}, 0, 300));
        }
    }
};

subtest 'AuthType written in another case' => sub {
    refused(pget('/protected/case/hello.txt'), 'Bearer', 'AuthType Auth-API without a token');
    refused(bearer_at('/protected/case/hello.txt', 'x.y.z'), 'Bearer error="invalid_token"',
            'AuthType Auth-API with a malformed token');
    my $r = bearer_at('/protected/case/env.cgi', $TOK);
    is($r->{status}, 200, 'AuthType Auth-API with a token: 200') or diag(substr($r->{body}, 0, 300));
    like($r->{body}, qr/^AUTH_TYPE=auth-api$/m, 'AuthType Auth-API: AUTH_TYPE=auth-api');
    for my $type (qw(long under)) {
        my $r2 = bearer_at("/protected/nearmiss-$type/hello.txt", $TOK);
        isnt($r2->{status}, 200, "an AuthType near auth-api ($type): not this "
             . "module's, not 200 ($r2->{status})");
        ok(no_content($r2), "an AuthType near auth-api ($type): none of the content");
    }
};

subtest 'directory index and trailing slash' => sub {
    refused(pget('/protected/loc/'), 'Bearer', '/protected/loc/ without a token');
    my $r = bearer_at('/protected/loc/', $TOK);
    is($r->{status}, 200, '/protected/loc/ with a token');
    like($r->{body}, qr/protected-index-marker: loc/, 'the index page');
    refused(pget('/protected/dir/'), 'Bearer', '/protected/dir/ without a token');
    refused(pget('/protected/ht/'), 'Bearer', '/protected/ht/ without a token');
};

subtest 'the access cookie is ignored where AuthAPITokenCookies is Off' => sub {
    my $r = pget('/protected/loc/hello.txt', Cookie => "auth_api_access=$TOK");
    refused($r, 'Bearer', 'main server, access cookie only');
};

subtest 'the API mount is unaffected' => sub {
    my $r = bearer_get('/me', $TOK);
    is_envelope_ok($r, 200, 'GET /me with the token');
    is(($r->data->{user} || {})->{email}, $U->{email}, 'GET /me: the account');
    is_error(get_json('/me'), 401, 'INVALID_TOKEN', 'GET /me without a token');
    is(get_json('/health')->{status}, 200, 'GET /health without a token');
    $r = post_json('/login', { email => $U->{email}, password => $U->{password} });
    is($r->{status}, 200, 'POST /login without a token');
};

# ---- AuthAPILoginURL /login.html on /protected/login -----------------------

# Returns the decoded next= of a Location header (form encoding: + is a
# space), or undef.
sub next_of {
    my $loc = shift // return undef;
    my ($n) = $loc =~ /[?&]next=([^&]*)/ or return undef;
    $n =~ tr/+/ /;
    $n =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $n;
}

my $HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

subtest 'AuthAPILoginURL: a browser without a token is redirected' => sub {
    for my $target ('/protected/login/hello.txt',
                    '/protected/login/env.cgi?a=1&b=two%20words',
                    '/protected/login/',
                    '/protected/login/hello.txt?next=https://evil.example/') {
        for my $accept ('text/html', $HTML) {
            my $r = raw_req('GET', $target, ["Accept: $accept"]);
            is($r->{status}, 302, "GET $target (Accept: $accept): 302")
                or diag(substr($r->{body}, 0, 300));
            my $loc = $r->header('Location');
            like($loc // '', qr{^/login\.html\?next=}, "$target: Location /login.html?next=...")
                or diag('Location: ' . ($loc // '(none)'));
            is(next_of($loc), $target, "$target: next is the original path and query");
            ok(no_content($r), "$target: none of the content");
        }
    }
};

subtest 'AuthAPILoginURL: next keeps encoded characters of the path' => sub {
    # the path as the client wrote it: "%3F" and "%23" are part of the
    # name, not the start of a query or a fragment
    for my $target ('/protected/login/a%3Fb.txt?x=1', '/protected/login/a%23b.txt',
                    '/protected/login/a%26next%3Devil.txt') {
        my $r = raw_req('GET', $target, ['Accept: text/html']);
        is($r->{status}, 302, "GET $target: 302");
        is(next_of($r->header('Location')), $target,
           "$target: next decodes to the original request target")
            or diag('Location: ' . ($r->header('Location') // '(none)'));
    }
};

subtest 'AuthAPILoginURL: next is never another site' => sub {
    # httpd merges the slashes and serves this site's page; a browser would
    # read "//host/..." or "/\host/..." as the address of another site
    for my $case (['//evil.example/../protected/login/hello.txt',
                   '/evil.example/../protected/login/hello.txt'],
                  ['///evil.example/../protected/login/hello.txt?a=1',
                   '/evil.example/../protected/login/hello.txt?a=1'],
                  ['/\\evil.example/../protected/login/hello.txt',
                   '/evil.example/../protected/login/hello.txt'],
                  ['//protected/login/hello.txt', '/protected/login/hello.txt']) {
        my ($target, $want) = @$case;
        my $r = raw_req('GET', $target, ['Accept: text/html']);
        is($r->{status}, 302, "GET $target: 302") or diag(substr($r->{body}, 0, 300));
        my $next = next_of($r->header('Location'));
        is($next, $want, "GET $target: next is $want");
        like($next // '', qr{^/[^/\\]}, "GET $target: next starts with one slash, "
             . 'then neither a slash nor a backslash');
        ok(no_content($r), "GET $target: none of the content");
    }
};

subtest 'AuthAPILoginURL: API clients and other methods get 401' => sub {
    my $p = '/protected/login/hello.txt';
    my $r = pget($p);
    refused($r, 'Bearer', 'GET without Accept');
    is($r->header('Location'), undef, 'GET without Accept: no Location');
    refused(pget($p, Accept => 'application/json'), 'Bearer', 'GET Accept: application/json');
    refused(pget($p, Accept => '*/*'), 'Bearer', 'GET Accept: */*');
    $r = preq('POST', $p, [ Accept => 'text/html', 'Content-Type' => 'application/x-www-form-urlencoded' ], 'a=1');
    refused($r, 'Bearer', 'POST with Accept: text/html');
    is($r->header('Location'), undef, 'POST: no Location');
    $r = preq('PUT', $p, [ Accept => 'text/html' ], 'x');
    is($r->{status}, 401, 'PUT with Accept: text/html: 401');
    $r = preq('DELETE', $p, [ Accept => 'text/html' ]);
    is($r->{status}, 401, 'DELETE with Accept: text/html: 401');
    $r = bearer_at($p, $TOK, Accept => 'text/html');
    is($r->{status}, 200, 'GET with a valid token and Accept: text/html: 200');
    like($r->{body}, qr/protected-static-marker/, 'the content');
};
