# The module's own cookies are not handed on (API.md sections 4 and 5), on
# the virtual host aapi_protect_cookie (AuthAPITokenCookies On): a CGI (or
# PHP, or a proxied backend) in a protected area, authenticated by the
# access cookie, and a CGI in an unprotected area of that server see the
# other cookies of the request in HTTP_COOKIE, never auth_api_access or
# auth_api_refresh; with only the module's cookies, no HTTP_COOKIE with
# anything in it. The JSON API of that server still reads its cookies.
# Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 6, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('aapi_protect_cookie');

my $ORIGIN = 'http://' . AAPI::Test::hostport();
my $U = new_account();

# Checks that the environment ENV has no module cookie in HTTP_COOKIE and,
# when WANT is given, that HTTP_COOKIE holds each of WANT's pairs; without
# WANT, that HTTP_COOKIE is absent or empty.
sub cookie_env_ok {
    my ($env, $name, @want) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $hc = $env->{HTTP_COOKIE};
    ok(!defined $hc || $hc !~ /auth_api_access/, "$name: HTTP_COOKIE has no auth_api_access")
        or diag("HTTP_COOKIE=" . substr($hc, 0, 200));
    ok(!defined $hc || $hc !~ /auth_api_refresh/, "$name: HTTP_COOKIE has no auth_api_refresh")
        or diag("HTTP_COOKIE=" . substr($hc, 0, 200));
    if (@want) {
        for my $w (@want) {
            like($hc // '', qr/(?:^|[;,]\s*)\Q$w\E(?:[;,]|\s*$)/, "$name: HTTP_COOKIE has $w");
        }
    }
    else {
        ok(!defined $hc || $hc =~ /^[\s;]*$/, "$name: HTTP_COOKIE is absent or empty")
            or diag("HTTP_COOKIE=" . substr($hc, 0, 200));
    }
}

# Returns the Cookie line with the module's cookies of session S around
# the cookie theme=dark (or without it when PLAIN).
sub mixed_line {
    my ($s, $plain) = @_;
    return $plain
        ? "Cookie: auth_api_access=$s->{access}; auth_api_refresh=$s->{refresh}"
        : "Cookie: auth_api_access=$s->{access}; theme=dark; auth_api_refresh=$s->{refresh}";
}

subtest 'a protected CGI and PHP page see the other cookies, not the module\'s' => sub {
    for my $path ('/protected/loc/env.cgi', '/protected/loc/env.php', '/protected/dir/env.cgi') {
        my $s = cookie_session($U);
        my $r = raw_req('GET', $path, [ mixed_line($s) ]);
        is($r->{status}, 200, "$path, cookie-authenticated: 200") or diag(substr($r->{body}, 0, 300));
        my $env = cgi_env($r);
        is($env->{AUTH_API_USER_ID}, $U->{id}, "$path: authenticated by the access cookie");
        cookie_env_ok($env, $path, 'theme=dark');
        $r = raw_req('GET', $path, [ mixed_line($s, 1) ]);
        is($r->{status}, 200, "$path, only the module's cookies: 200");
        cookie_env_ok(cgi_env($r), "$path, only the module's cookies");
    }
};

subtest 'a CGI in an unprotected area sees the other cookies, not the module\'s' => sub {
    my $s = cookie_session($U);
    my $r = raw_req('GET', '/protected/pub/env.cgi', [ mixed_line($s) ]);
    is($r->{status}, 200, 'unprotected CGI: 200');
    my $env = cgi_env($r);
    is($env->{_marker}, 'PUBLIC-CGI-OK', 'the unprotected CGI ran');
    cookie_env_ok($env, 'unprotected CGI', 'theme=dark');
    $r = raw_req('GET', '/protected/pub/env.cgi', [ mixed_line($s, 1) ]);
    cookie_env_ok(cgi_env($r), "unprotected CGI, only the module's cookies");
    # two Cookie headers (httpd joins them with a comma), the module's
    # cookie in either: neither gets through
    $r = raw_req('GET', '/protected/pub/env.cgi',
                 [ "Cookie: auth_api_refresh=$s->{refresh}", 'Cookie: lang=en; auth_api_access=x.y.z' ]);
    $env = cgi_env($r);
    my $hc = $env->{HTTP_COOKIE} // '';
    ok($hc !~ /auth_api_(?:access|refresh)/, 'unprotected CGI, two Cookie headers: no module cookie')
        or diag("HTTP_COOKIE=" . substr($hc, 0, 200));
    # AuthType auth-api under "Require all granted": no check, same rule
    $r = raw_req('GET', '/protected/open/env.cgi', [ mixed_line($s) ]);
    is($r->{status}, 200, 'Require all granted: 200');
    cookie_env_ok(cgi_env($r), 'AuthType auth-api, Require all granted', 'theme=dark');
};

subtest 'after a silent refresh the CGI sees the other cookies, not the module\'s' => sub {
    my $s = cookie_session($U);
    wait_token_expired($s->{access});
    my $r = raw_req('GET', '/protected/loc/env.cgi', [ mixed_line($s) ]);
    is($r->{status}, 200, 'expired access + refresh cookie: 200') or diag(substr($r->{body}, 0, 300));
    ok(set_cookies($r)->{auth_api_access}, 'fresh cookies were set');
    cookie_env_ok(cgi_env($r), 'after a silent refresh', 'theme=dark');
};

subtest 'a proxied backend gets the other cookies, not the module\'s' => sub {
    my $s = cookie_session($U);
    my $r = raw_req('GET', '/protected/proxy/env.cgi', [ mixed_line($s) ]);
    is($r->{status}, 200, 'through the proxy: 200') or diag(substr($r->{body}, 0, 300));
    my $env = cgi_env($r);
    is($env->{_marker}, 'BACKEND-OK', 'the backend answered');
    is($env->{HTTP_X_AUTH_API_USER_ID}, $U->{id}, 'the backend got the identity');
    cookie_env_ok($env, 'backend', 'theme=dark');
};

subtest 'the JSON API of the server still reads its cookies' => sub {
    my $s = cookie_session($U);
    my $r = request_json('GET', '/me', undef, Cookie => "theme=dark; auth_api_access=$s->{access}");
    is($r->{status}, 200, 'GET /me with the access cookie: 200') or diag($r->{body});
    is($r->data->{user}{id} // $r->data->{id}, $U->{id}, 'GET /me: the account');
    $r = request_json('POST', '/refresh', undef,
                      Cookie => "theme=dark; auth_api_refresh=$s->{refresh}", Origin => $ORIGIN);
    is($r->{status}, 200, 'POST /refresh with only the refresh cookie: 200') or diag($r->{body});
    my $c = set_cookies($r);
    ok($c->{auth_api_access} && $c->{auth_api_refresh}, 'POST /refresh sets fresh cookies');
    isnt(($c->{auth_api_refresh} || {})->{value} // '', $s->{refresh}, 'the refresh cookie was rotated');
};

subtest 'control: a cookie the client sends reaches the CGI' => sub {
    my $r = raw_req('GET', '/protected/pub/env.cgi', [ 'Cookie: theme=dark; lang=en' ]);
    is($r->{status}, 200, 'unprotected CGI: 200');
    is(cgi_env($r)->{HTTP_COOKIE}, 'theme=dark; lang=en', 'HTTP_COOKIE as sent');
};
