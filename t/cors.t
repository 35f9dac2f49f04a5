# Cross-origin requests (API.md section 4, AuthAPICORSOrigins): preflights
# of listed origins are answered; listed origins get Access-Control-Allow-
# Origin (their own, never "*") with credentials; other origins and "null"
# get no Access-Control-* header at all.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Session;

plan tests => 10, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('aapi_cors');

my $APP = 'https://app.example.com';
my $ADMIN = 'https://admin.example.com:8443';

# Returns the Access-Control-* headers of R as "Name: value" lines.
sub acl_headers {
    my $r = shift;
    my @n = grep { /^Access-Control-/i } $r->{res}->headers->header_field_names;
    return join "\n", map { my $n = $_; map { "$n: $_" } $r->{res}->headers->header($n) } sort @n;
}

sub preflight {
    my ($path, $origin, $method, %h) = @_;
    return request_json('OPTIONS', $path, undef, Origin => $origin,
                        'Access-Control-Request-Method' => $method, %h);
}

# Checks a preflight answer R allowing ORIGIN for METHOD.
sub preflight_ok {
    my ($r, $origin, $method, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($r->{status}, 204, "$name: 204") or diag($r->{body});
    is($r->header('Access-Control-Allow-Origin'), $origin, "$name: Allow-Origin echoes the origin");
    is($r->header('Access-Control-Allow-Credentials'), 'true', "$name: Allow-Credentials true");
    my $m = $r->header('Access-Control-Allow-Methods') // '';
    like($m, qr/(?:^|[\s,])\Q$method\E(?:$|[\s,])/, "$name: Allow-Methods has $method") or diag($m);
    my $h = $r->header('Access-Control-Allow-Headers') // '';
    like($h, qr/(?:^|[\s,])Authorization(?:$|[\s,])/i, "$name: Allow-Headers has Authorization") or diag($h);
    like($h, qr/(?:^|[\s,])Content-Type(?:$|[\s,])/i, "$name: Allow-Headers has Content-Type") or diag($h);
    like($r->header('Vary') // '', qr/\bOrigin\b/i, "$name: Vary: Origin");
    is(length($r->{body}), 0, "$name: no body");
}

subtest 'preflights of a listed origin' => sub {
    preflight_ok(preflight('/login', $APP, 'POST', 'Access-Control-Request-Headers' => 'content-type'),
                 $APP, 'POST', 'OPTIONS /login');
    preflight_ok(preflight('/refresh', $APP, 'POST',
                           'Access-Control-Request-Headers' => 'authorization, content-type'),
                 $APP, 'POST', 'OPTIONS /refresh');
    preflight_ok(preflight('/me', $APP, 'PATCH'), $APP, 'PATCH', 'OPTIONS /me (PATCH)');
    preflight_ok(preflight('/sessions/abc', $APP, 'DELETE'), $APP, 'DELETE', 'OPTIONS /sessions/{id}');
    preflight_ok(preflight('/logout', $ADMIN, 'POST'), $ADMIN, 'POST', 'a second listed origin with a port');
};

subtest 'preflights of other origins: no Access-Control-* headers' => sub {
    for my $o ('https://evil.example', 'null', 'http://app.example.com', 'https://app.example.com:444',
               'https://app.example.com.evil.example', 'https://admin.example.com', '*',
               'https://app.example.com, https://evil.example') {
        my $r = preflight('/login', $o, 'POST', 'Access-Control-Request-Headers' => 'content-type');
        is(acl_headers($r), '', "Origin: $o: no Access-Control-* header");
        ok($r->{status} =~ /^(?:2\d\d|403)$/, "Origin: $o: answered ($r->{status})");
    }
};

subtest 'requests of a listed origin get Allow-Origin and Allow-Credentials' => sub {
    my $u = new_account();
    my @cases = (
        [ 'GET /health',   get_json('/health', Origin => $APP) ],
        [ 'POST /login',   post_json('/login', { email => $u->{email}, password => $u->{password} }, Origin => $APP) ],
        [ 'GET /me',       bearer_get('/me', $u->{access_token}, Origin => $APP) ],
        [ 'GET /me 401',   get_json('/me', Origin => $APP) ],
        [ 'POST /login 422', post_json('/login', {}, Origin => $APP) ],
        [ 'POST /refresh', post_json('/refresh', { refresh_token => $u->{refresh_token} }, Origin => $ADMIN) ],
    );
    for my $c (@cases) {
        my ($name, $r) = @$c;
        my $want = $name eq 'POST /refresh' ? $ADMIN : $APP;
        is($r->header('Access-Control-Allow-Origin'), $want, "$name ($r->{status}): Allow-Origin");
        is($r->header('Access-Control-Allow-Credentials'), 'true', "$name: Allow-Credentials");
        like($r->header('Vary') // '', qr/\bOrigin\b/i, "$name: Vary: Origin");
    }
};

subtest 'a listed origin can read the 404 and 405 answers too' => sub {
    for my $c ([ 'GET /nosuch (404)', get_json('/nosuch', Origin => $APP), 404 ],
               [ 'GET /login (405)',  get_json('/login', Origin => $APP), 405 ],
               [ 'DELETE /sessions/a/b (404)', delete_json('/sessions/a/b', undef, Origin => $APP), 404 ]) {
        my ($name, $r, $st) = @$c;
        is($r->{status}, $st, "$name: status");
        is($r->header('Access-Control-Allow-Origin'), $APP, "$name: Allow-Origin");
        is($r->header('Access-Control-Allow-Credentials'), 'true', "$name: Allow-Credentials");
    }
};

subtest 'requests of other origins: no Access-Control-* headers' => sub {
    my $u = new_account();
    for my $o ('https://evil.example', 'null', 'http://app.example.com', 'https://APP.example.com.evil') {
        for my $c ([ 'GET /health', sub { get_json('/health', Origin => $o) } ],
                   [ 'GET /me',     sub { bearer_get('/me', $u->{access_token}, Origin => $o) } ],
                   [ 'POST /login 401', sub { post_json('/login', { email => $u->{email}, password => 'x' }, Origin => $o) } ]) {
            my $r = $c->[1]->();
            is(acl_headers($r), '', "$c->[0], Origin: $o: no Access-Control-* header");
        }
    }
    my $r = bearer_get('/me', $u->{access_token});
    is(acl_headers($r), '', 'no Origin at all: no Access-Control-* header');
    is($r->{status}, 200, 'and the request is served');
};

subtest '"*" is never sent' => sub {
    my @r = (preflight('/login', $APP, 'POST'), get_json('/health', Origin => $APP),
             preflight('/login', 'https://evil.example', 'POST'), get_json('/health', Origin => 'null'),
             get_json('/health'));
    ok(!grep({ ($_->header('Access-Control-Allow-Origin') // '') =~ /\*/ } @r), 'no Allow-Origin: *');
};

subtest 'a server without AuthAPICORSOrigins sends no Access-Control-* headers' => sub {
    Apache::TestRequest::module('default');
    my $r = preflight('/login', $APP, 'POST');
    is(acl_headers($r), '', 'preflight: none');
    $r = get_json('/health', Origin => $APP);
    is(acl_headers($r), '', 'GET /health: none');
    Apache::TestRequest::module('aapi_cors');
};

subtest 'a plain OPTIONS request (no preflight) is no CORS answer' => sub {
    my $r = request_json('OPTIONS', '/login');
    like($r->{status}, qr/^2\d\d$/, 'OPTIONS /login without Origin: 2xx') or diag($r->{body});
    like($r->header('Allow') // '', qr/\bPOST\b/, 'Allow names POST');
    is(acl_headers($r), '', 'no Access-Control-* header');
};

subtest 'a preflight changes nothing and needs no credentials' => sub {
    my $u = new_account();
    my $r = request_json('OPTIONS', '/logout', undef, Origin => $APP,
                         'Access-Control-Request-Method' => 'POST',
                         Authorization => "Bearer $u->{access_token}");
    is($r->{status}, 204, 'preflight of /logout with a token') or diag($r->{body});
    is(me_status($u->{access_token}), 200, 'the session is not logged out');
    $r = request_json('OPTIONS', '/me', undef, Origin => $APP, 'Access-Control-Request-Method' => 'DELETE');
    is($r->{status}, 204, 'preflight of DELETE /me without a token') or diag($r->{body});
    is(user_count($u->{email}), 1, 'the account is still there');
};

subtest 'a listed CORS origin passes the CSRF check of a cookie host' => sub {
    # aapi_cookies lists https://app.example.com: its cookie requests pass
    Apache::TestRequest::module('aapi_cookies');
    my $u = new_account();
    my $r = login_as($u->{email}, $u->{password});
    my $jar = cookie_jar($r);
    my $access = ($jar->{auth_api_access} || {})->{value} // '';
    $r = patch_json('/me', { first_name => 'Eve' }, Cookie => "auth_api_access=$access", Origin => $APP);
    is($r->{status}, 200, 'PATCH /me with the cookie from the listed origin') or diag($r->{body});
    is($r->header('Access-Control-Allow-Origin'), $APP, 'with Allow-Origin');
    is($r->header('Access-Control-Allow-Credentials'), 'true', 'and Allow-Credentials');
    $r = patch_json('/me', { first_name => 'Eve' }, Cookie => "auth_api_access=$access", Origin => $ADMIN);
    is_error($r, 403, 'CSRF_REJECTED', 'an origin listed only on another host');
    is(acl_headers($r), '', 'and no Access-Control-* header for it');
    Apache::TestRequest::module('aapi_cors');
};
