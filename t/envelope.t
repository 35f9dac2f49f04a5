# The response envelope, routing under the mount, 404/405, /health,
# /jwks.json and a second mount (API.md sections 1-3).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;

plan tests => 11, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

subtest 'GET /health: 200 success envelope' => sub {
    my $r = get_json('/health');
    is_envelope_ok($r, 200, 'GET /health');
    is(ref $r->{json}{data}, 'HASH', 'data is an object');
};

subtest 'GET /health on a server whose database is unreachable: 503' => sub {
    local $AAPI::Test::TIMEOUT = 60;
    Apache::TestRequest::module('aapi_nodb');
    my $r = get_json('/health');
    Apache::TestRequest::module('default');
    is_error($r, 503, 'SERVICE_UNAVAILABLE', 'health, no database');
    my $ra = $r->header('Retry-After');
    ok(defined $ra && $ra =~ /^\d+$/ && $ra > 0,
       'Retry-After is a number of seconds')
        or diag('Retry-After: ' . (defined $ra ? $ra : '(none)'));
};

subtest 'endpoints that need the database answer 503 when it is down' => sub {
    Apache::TestRequest::module('aapi_nodb');
    my $reg = post_json('/register', { email => uniq_email(),
                                       password => strong_password() });
    my $login = post_json('/login', { email => uniq_email(),
                                      password => strong_password() });
    Apache::TestRequest::module('default');
    is_error($reg, 503, 'SERVICE_UNAVAILABLE', 'register, no database');
    ok(defined $reg->header('Retry-After'), 'register: Retry-After');
    is_error($login, 503, 'SERVICE_UNAVAILABLE', 'login, no database');
    ok(defined $login->header('Retry-After'), 'login: Retry-After');
};

subtest 'GET /jwks.json: the raw RFC 7517 key set, empty with HMAC' => sub {
    my $r = get_json('/jwks.json');
    is($r->{status}, 200, 'status 200');
    like($r->header('Content-Type') || '', qr{^application/json;\s*charset=utf-8$}i,
         'Content-Type application/json; charset=utf-8');
    like($r->header('Cache-Control') || '', qr/no-store/, 'Cache-Control no-store');
    is_deeply($r->{json}, { keys => [] }, 'body is exactly {"keys":[]}')
        or diag("body: $r->{body}");
};

subtest 'unknown paths under the mount: 404 NOT_FOUND' => sub {
    is_error(get_json('/nope'), 404, 'NOT_FOUND', 'GET /nope');
    is_error(post_json('/nope', {}), 404, 'NOT_FOUND', 'POST /nope');
    is_error(get_json('/health/extra'), 404, 'NOT_FOUND', 'GET /health/extra');
    is_error(post_json('/register/x', {}), 404, 'NOT_FOUND', 'POST /register/x');
    is_error(get_json('/REGISTER'), 404, 'NOT_FOUND', 'GET /REGISTER (paths are case-sensitive)');
    is_error(get_json(''), 404, 'NOT_FOUND', 'GET the mount itself');
    is_error(get_json('/'), 404, 'NOT_FOUND', 'GET the mount with a slash');
};

subtest '/api/v1/authx is outside the mount' => sub {
    local $AAPI::Test::MOUNT = '';
    for my $path ('/api/v1/authx/health', '/api/v1/authhealth',
                  '/api/v1/authx/jwks.json') {
        my $r = get_json($path);
        is($r->{status}, 404, "GET $path: 404");
        ok(!(ref $r->{json} eq 'HASH' && $r->{json}{success}),
           "GET $path: not answered as an endpoint");
    }
    my $r = post_json('/api/v1/authx/register',
                      { email => uniq_email(), password => strong_password() });
    isnt($r->{status}, 201, 'POST /api/v1/authx/register creates nothing');
};

subtest '405 METHOD_NOT_ALLOWED with an Allow header' => sub {
    my @cases = (
        [ 'GET',    '/register', [qw(POST)],             [qw(GET)] ],
        [ 'DELETE', '/login',    [qw(POST)],             [qw(DELETE GET)] ],
        [ 'PUT',    '/me',       [qw(GET PATCH POST)],   [qw(PUT)] ],
        [ 'POST',   '/health',   [qw(GET)],              [qw(POST)] ],
        [ 'DELETE', '/jwks.json', [qw(GET)],             [qw(DELETE)] ],
    );
    for my $c (@cases) {
        my ($m, $path, $want, $not) = @$c;
        my $r = request_json($m, $path, $m eq 'GET' || $m eq 'DELETE' ? undef : {});
        is_error($r, 405, 'METHOD_NOT_ALLOWED', "$m $path");
        my $allow = $r->header('Allow');
        ok(defined $allow, "$m $path: Allow header present") or next;
        my %a = map { uc($_) => 1 } split /\s*,\s*/, $allow;
        ok($a{$_}, "$m $path: Allow lists $_") for @$want;
        ok(!$a{$_}, "$m $path: Allow does not list $_") for @$not;
    }
};

subtest 'success envelope of a creating request' => sub {
    my $u = register_user();
    is_envelope_ok($u->{res}, 201, 'POST /register');
    is($u->{res}{json}{message}, 'Registration successful', 'message');
    my $l = login_as($u->{email}, $u->{password});
    is_envelope_ok($l, 200, 'POST /login');
    is($l->{json}{message}, 'Login successful', 'message');
};

subtest 'error envelopes: errors only with VALIDATION_FAILED' => sub {
    my $v = post_json('/register', { email => 'not-an-address',
                                     password => strong_password() });
    is_error($v, 422, 'VALIDATION_FAILED', 'invalid email');
    ok(ref $v->{json}{errors}{email} eq 'ARRAY', 'errors.email is a list');

    my $u = register_user();
    my $c = post_json('/register', { email => $u->{email},
                                     password => strong_password() });
    is_error($c, 409, 'EMAIL_TAKEN', 'duplicate email');
    ok(!exists $c->{json}{errors}, 'no errors member with 409');

    my $bad = post_json('/login', '{"email":');
    is_error($bad, 400, 'INVALID_JSON', 'broken JSON');

    my $cred = login_as(uniq_email(), 'Wrong-Passw0rd!');
    is_error($cred, 401, 'INVALID_CREDENTIALS', 'unknown user');

    my $tok = get_json('/me');
    is_error($tok, 401, 'INVALID_TOKEN', 'no token');
};

subtest 'the second mount /other/auth shares the accounts' => sub {
    local $AAPI::Test::MOUNT = '/other/auth';
    is_envelope_ok(get_json('/health'), 200, 'GET /other/auth/health');
    is_error(get_json('/nope'), 404, 'NOT_FOUND', 'GET /other/auth/nope');
    my $u = register_user();
    is_envelope_ok($u->{res}, 201, 'POST /other/auth/register');
    my $me = bearer_get('/me', $u->{access_token} || 'x');
    is_envelope_ok($me, 200, 'GET /other/auth/me');
    {
        local $AAPI::Test::MOUNT = '/api/v1/auth';
        my $l = login_as($u->{email}, $u->{password});
        is_envelope_ok($l, 200, 'login on /api/v1/auth with that account');
        my $me2 = bearer_get('/me', $u->{access_token} || 'x');
        is($me2->{status}, 200, 'its token works on /api/v1/auth/me');
    }
};

subtest 'virtual hosts inherit the mount and the main settings' => sub {
    for my $vh (qw(aapi_strict aapi_hs512 aapi_slowhash)) {
        Apache::TestRequest::module($vh);
        my $r = get_json('/health');
        Apache::TestRequest::module('default');
        is_envelope_ok($r, 200, "GET /health on $vh");
    }
};
