# Tokens as cookies (API.md sections 3-4, AuthAPITokenCookies): the
# cookies login, register and refresh set, their attributes, the refresh
# cookie, cookies expired by logout, and the CSRF rule: a cookie-
# authenticated unsafe request needs an Origin (or, lacking it, a Referer)
# of the server itself or of a listed origin, else 403 CSRF_REJECTED and
# nothing changes.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Session;

plan tests => 14, need_module('mod_auth_api.c', 'mod_dbd.c');

my $MOUNT = '/api/v1/auth';
my $LISTED = 'https://app.example.com';
my $EVIL = 'https://evil.example';

Apache::TestRequest::module('aapi_cookies');
my $OWN = own_origin();
my ($PORT) = $OWN =~ /:(\d+)$/;

# Logs ACCOUNT in on the current host; returns {access, refresh, res,
# data}: the cookie values the login set.
sub cookie_login {
    my $acct = shift;
    my $r = login_as($acct->{email}, $acct->{password});
    die "login failed ($r->{status}): $r->{body}\n" unless $r->{status} == 200;
    my $jar = cookie_jar($r);
    return { access => ($jar->{auth_api_access} || {})->{value},
             refresh => ($jar->{auth_api_refresh} || {})->{value},
             res => $r, data => $r->data };
}

# Sends METHOD PATH (BODY) with the session S's cookies (both, or those in
# ONLY) and HEADERS; no Authorization header.
sub with_cookies {
    my ($s, $method, $path, $body, %h) = @_;
    my $only = delete $h{only};
    my %c;
    $c{auth_api_access} = $s->{access} if !$only || $only eq 'access';
    $c{auth_api_refresh} = $s->{refresh} if !$only || $only eq 'refresh';
    return request_json($method, $path, $body, Cookie => cookie_header(%c), %h);
}

# Checks the attributes of the two token cookies of response R.
sub token_cookies_ok {
    my ($r, $name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $jar = cookie_jar($r);
    my $secure = exists $o{secure} ? $o{secure} : 1;
    my $samesite = $o{samesite} || 'Lax';
    my $d = $r->data;
    for my $c (['auth_api_access', '/', $o{access_ttl} // 900, 'access_token'],
               ['auth_api_refresh', $MOUNT, $o{refresh_ttl} // 2592000, 'refresh_token']) {
        my ($cname, $path, $ttl, $field) = @$c;
        my $k = $jar->{$cname};
        ok($k, "$name: Set-Cookie $cname") or next;
        ok(length $k->{value} >= 40, "$name: $cname has a value");
        is($k->{value}, $d->{$field}, "$name: $cname is the $field of the body")
            unless $o{no_tokens};
        is($k->{attr}{path}, $path, "$name: $cname Path=$path");
        ok($k->{attr}{httponly}, "$name: $cname HttpOnly");
        is(!!$k->{attr}{secure}, !!$secure, "$name: $cname " . ($secure ? '' : 'not ') . 'Secure');
        is($k->{attr}{samesite}, $samesite, "$name: $cname SameSite=$samesite");
        is($k->{attr}{'max-age'}, $ttl, "$name: $cname Max-Age=$ttl");
        ok(!exists $k->{attr}{domain}, "$name: $cname has no Domain");
    }
    my @dupes = grep { my $n = $_; (grep { $_->{name} eq $n } set_cookies($r)) > 1 }
                qw(auth_api_access auth_api_refresh);
    is("@dupes", '', "$name: each cookie set once");
}

# Checks that response R expires both token cookies.
sub cookies_cleared_ok {
    my ($r, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $jar = cookie_jar($r);
    for my $c (['auth_api_access', '/'], ['auth_api_refresh', $MOUNT]) {
        my $k = $jar->{$c->[0]};
        ok($k, "$name: Set-Cookie $c->[0]") or next;
        is($k->{attr}{'max-age'}, '0', "$name: $c->[0] Max-Age=0");
        is($k->{attr}{path}, $c->[1], "$name: $c->[0] Path=$c->[1] (the path it was set with)");
        is($k->{value}, '', "$name: $c->[0] emptied");
    }
}

my $A = new_account();

subtest 'login, register and refresh set the token cookies' => sub {
    my $r = login_as($A->{email}, $A->{password});
    is($r->{status}, 200, 'login') or diag($r->{body});
    token_cookies_ok($r, 'login');
    my $reg = register_user();
    is($reg->{status}, 201, 'register') or diag($reg->{res}{body});
    token_cookies_ok($reg->{res}, 'register');
    my $ref = refresh_with($r->data->{refresh_token});
    is($ref->{status}, 200, 'refresh (body token)') or diag($ref->{body});
    token_cookies_ok($ref, 'refresh');
    isnt(cookie_jar($ref)->{auth_api_refresh}{value}, cookie_jar($r)->{auth_api_refresh}{value},
         'the refresh cookie holds the new token');
};

subtest 'GET /me and GET /sessions with only the access cookie' => sub {
    my $s = cookie_login($A);
    my $r = with_cookies($s, 'GET', '/me', undef, only => 'access');
    is($r->{status}, 200, 'GET /me, cookie only, no Origin') or diag($r->{body});
    is(($r->data->{user} || {})->{id}, $A->{user}{id}, 'the user');
    $r = with_cookies($s, 'GET', '/sessions', undef, only => 'access');
    is($r->{status}, 200, 'GET /sessions, cookie only') or diag($r->{body});
    $r = request_json('GET', '/me', undef, Cookie => 'auth_api_access=not.a.token');
    is_error($r, 401, 'INVALID_TOKEN', 'a garbage access cookie');
};

subtest 'POST /refresh with the refresh cookie' => sub {
    my $s = cookie_login($A);
    my $r = with_cookies($s, 'POST', '/refresh', undef, only => 'refresh', Origin => $OWN);
    token_response_ok($r, 200, 'Token refreshed', $A->{user}{id}, 'cookie refresh, own Origin');
    token_cookies_ok($r, 'cookie refresh');
    my $new = cookie_jar($r)->{auth_api_refresh}{value} // '';
    isnt($new, $s->{refresh}, 'rotated');
    is(sid_of(cookie_jar($r)->{auth_api_access}{value} // ''), sid_of($s->{access}), 'same session');
    $r = with_cookies({ refresh => $new }, 'POST', '/refresh', {}, only => 'refresh', Origin => $LISTED);
    is($r->{status}, 200, 'the new cookie, a listed Origin, body {}') or diag($r->{body});
    $r = request_json('POST', '/refresh', undef, Cookie => 'auth_api_refresh=' . ('A' x 43), Origin => $OWN);
    is_error($r, 401, 'INVALID_TOKEN', 'an unknown refresh cookie');
    $r = request_json('POST', '/refresh', undef, Origin => $OWN);
    is_error($r, 401, 'INVALID_TOKEN', 'no cookie, no body');
};

# the requests CSRF applies to: [name, method, path, body maker(session, victim)]
my @UNSAFE = (
    [ 'POST /logout',     'POST',   '/logout',     sub { undef } ],
    [ 'POST /logout-all', 'POST',   '/logout-all', sub { undef } ],
    [ 'PATCH /me',        'PATCH',  '/me',         sub { { first_name => 'Mallory' } } ],
    [ 'POST /me',         'POST',   '/me',         sub { { first_name => 'Mallory' } } ],
    [ 'DELETE /sessions/{id}', 'DELETE', sub { '/sessions/' . sid_of($_[1]{access}) }, sub { undef } ],
    [ 'POST /change-password', 'POST', '/change-password',
      sub { { current_password => $_[2], new_password => 'Ev1l-Chang3d!pw' } } ],
    [ 'DELETE /me',       'DELETE', '/me',         sub { { password => $_[2] } } ],
    [ 'POST /refresh (cookie)', 'POST', '/refresh', sub { undef } ],
);

# the origins that are refused: [name, headers]
my @REFUSED = (
    [ 'no Origin, no Referer',           ],
    [ 'a foreign Origin',                Origin => $EVIL ],
    [ 'Origin: null',                    Origin => 'null' ],
    [ 'Origin: null, own Referer',       Origin => 'null', Referer => "$OWN/page" ],
    [ 'a foreign Origin, own Referer',   Origin => $EVIL, Referer => "$OWN/page" ],
    [ 'a foreign Referer only',          Referer => "$EVIL/page" ],
    [ 'own host, another port',          Origin => 'http://127.0.0.1:' . ($PORT == 1 ? 2 : $PORT - 1) ],
    [ 'own host and port over https',    Origin => "https://127.0.0.1:$PORT" ],
    [ 'own origin as a prefix',          Origin => "$OWN.evil.example" ],
    [ 'a Referer with own origin as userinfo', Referer => "http://127.0.0.1:$PORT\@evil.example/" ],
    [ 'a listed origin as a prefix',     Origin => "$LISTED.evil.example" ],
    [ 'a listed origin over http',       Origin => 'http://app.example.com' ],
);

subtest 'cookie-authenticated unsafe requests from a refused origin: 403, nothing changes' => sub {
    my $u = new_account(first_name => 'Alice');
    my $victim = cookie_login($u);
    my $s = cookie_login($u);
    my @bad;
    for my $req (@UNSAFE) {
        my ($rname, $method, $path, $body) = @$req;
        for my $o (@REFUSED) {
            my ($oname, %h) = @$o;
            my $p = ref $path ? $path->($s, $victim) : $path;
            my $r = with_cookies($s, $method, $p, $body->($s, $victim, $u->{password}), %h);
            my $j = $r->{json} || {};
            push @bad, "$rname, $oname: $r->{status} " . ($j->{error} // substr($r->{body}, 0, 100))
                unless $r->{status} == 403 && ($j->{error} // '') eq 'CSRF_REJECTED';
        }
    }
    is(scalar @bad, 0, scalar(@UNSAFE) . ' requests x ' . scalar(@REFUSED) . ' origins: all 403 CSRF_REJECTED')
        or diag(join "\n", @bad);
    my $probe = with_cookies($s, 'POST', '/logout', undef, only => 'access', Origin => $EVIL);
    is_error($probe, 403, 'CSRF_REJECTED', 'the answer');
    ok(!defined $probe->header('Set-Cookie'), 'no cookies set or cleared');
    # nothing changed
    my $me = with_cookies($s, 'GET', '/me', undef, only => 'access');
    is($me->{status}, 200, 'the session is alive') or diag($me->{body});
    is(($me->data->{user} || {})->{first_name}, 'Alice', 'the name is unchanged');
    is(with_cookies($victim, 'GET', '/me', undef, only => 'access')->{status}, 200,
       'the other session is alive');
    is(login_as($u->{email}, $u->{password})->{status}, 200, 'the password is unchanged');
    my $r = with_cookies($s, 'POST', '/refresh', undef, only => 'refresh', Origin => $OWN);
    is($r->{status}, 200, 'the refresh cookie was not rotated: it still refreshes') or diag($r->{body});
};

subtest 'the same requests from the own origin, a listed origin or an own Referer' => sub {
    my @ok = (
        [ 'own Origin',        Origin => $OWN ],
        [ 'a listed Origin',   Origin => $LISTED ],
        [ 'own Referer, no Origin', Referer => "$OWN/app/page?x=1" ],
    );
    for my $o (@ok) {
        my ($oname, %h) = @$o;
        my $u = new_account(first_name => 'Alice');
        my $victim = cookie_login($u);
        my $s = cookie_login($u);
        my $r = with_cookies($s, 'PATCH', '/me', { first_name => 'Bob' }, %h);
        is($r->{status}, 200, "$oname: PATCH /me") or diag($r->{body});
        is(($r->data->{user} || {})->{first_name}, 'Bob', "$oname: changed");
        $r = with_cookies($s, 'DELETE', '/sessions/' . sid_of($victim->{access}), undef, %h);
        is($r->{status}, 200, "$oname: DELETE /sessions/{id}") or diag($r->{body});
        $r = with_cookies($s, 'POST', '/refresh', undef, only => 'refresh', %h);
        is($r->{status}, 200, "$oname: POST /refresh with the cookie") or diag($r->{body});
        my $n = { access => cookie_jar($r)->{auth_api_access}{value},
                  refresh => cookie_jar($r)->{auth_api_refresh}{value} };
        $r = with_cookies($n, 'POST', '/change-password',
                          { current_password => $u->{password}, new_password => 'N3w-Secr3t!Phrase-x' }, %h);
        is($r->{status}, 200, "$oname: POST /change-password") or diag($r->{body});
        $r = with_cookies($n, 'POST', '/logout', undef, %h);
        is($r->{status}, 200, "$oname: POST /logout") or diag($r->{body});
        is(with_cookies($n, 'GET', '/me', undef)->{status}, 401, "$oname: logged out");
    }
};

subtest 'bearer-authenticated unsafe requests need no Origin' => sub {
    my $u = new_account();
    my $l = cookie_login($u);
    my $tok = $l->{data}{access_token};
    my $r = patch_json('/me', { first_name => 'Carol' }, Authorization => "Bearer $tok");
    is($r->{status}, 200, 'PATCH /me, bearer, no Origin') or diag($r->{body});
    $r = patch_json('/me', { first_name => 'Dave' }, Authorization => "Bearer $tok", Origin => $EVIL);
    is($r->{status}, 200, 'PATCH /me, bearer, a foreign Origin (no cookie sent)') or diag($r->{body});
    $r = post_json('/refresh', { refresh_token => $l->{data}{refresh_token} });
    is($r->{status}, 200, 'POST /refresh with the token in the body, no Origin') or diag($r->{body});
    $r = post_json('/logout', undef, Authorization => "Bearer $tok");
    is($r->{status}, 200, 'POST /logout, bearer, no Origin') or diag($r->{body});
    cookies_cleared_ok($r, 'bearer logout');
};

subtest 'POST /logout expires the cookies; they open nothing afterwards' => sub {
    my $s = cookie_login($A);
    my $r = with_cookies($s, 'POST', '/logout', undef, Origin => $OWN);
    is_success($r, 200, 'POST /logout with cookies');
    cookies_cleared_ok($r, 'logout');
    is_error(with_cookies($s, 'GET', '/me', undef, only => 'access'), 401, 'INVALID_TOKEN',
             'the old access cookie');
    is_error(with_cookies($s, 'POST', '/refresh', undef, only => 'refresh', Origin => $OWN), 401,
             'INVALID_TOKEN', 'the old refresh cookie');
};

subtest 'POST /logout-all expires the cookies and ends every session' => sub {
    my $u = new_account();
    my $other = cookie_login($u);
    my $s = cookie_login($u);
    my $r = with_cookies($s, 'POST', '/logout-all', undef, Origin => $OWN);
    is_success($r, 200, 'POST /logout-all with cookies');
    is($r->data->{sessions_ended}, 3, 'three sessions ended') or diag($r->{body});
    cookies_cleared_ok($r, 'logout-all');
    is(with_cookies($other, 'GET', '/me', undef)->{status}, 401, 'the other session is refused');
    is(with_cookies($s, 'GET', '/me', undef)->{status}, 401, 'this one too');
};

subtest 'a failed cookie refresh does not leave a usable cookie' => sub {
    my $r = request_json('POST', '/refresh', undef, Cookie => 'auth_api_refresh=' . ('B' x 43), Origin => $OWN);
    is_error($r, 401, 'INVALID_TOKEN', 'unknown refresh cookie');
    my $jar = cookie_jar($r);
    ok(!grep({ ($_->{value} // '') ne '' && ($_->{attr}{'max-age'} // 1) ne '0' } values %$jar),
       'no token cookie set by a failure');
};

subtest 'AuthAPICookieSecure Off, SameSite Strict, AuthAPITokensInBody Off' => sub {
    Apache::TestRequest::module('aapi_cookies_strict');
    my $own = own_origin();
    my $reg = register_user();
    is($reg->{status}, 201, 'register') or diag($reg->{res}{body});
    token_response_ok($reg->{res}, 201, 'Registration successful', ($reg->{user} || {})->{id},
                      'register', no_tokens => 1);
    token_cookies_ok($reg->{res}, 'register', secure => 0, samesite => 'Strict', no_tokens => 1);
    my $u = { %$reg };
    my $r = login_as($u->{email}, $u->{password});
    token_response_ok($r, 200, 'Login successful', $u->{user}{id}, 'login', no_tokens => 1);
    token_cookies_ok($r, 'login', secure => 0, samesite => 'Strict', no_tokens => 1);
    unlike($r->{body}, qr/eyJ/, 'no JWT anywhere in the body');
    my $s = { access => cookie_jar($r)->{auth_api_access}{value},
              refresh => cookie_jar($r)->{auth_api_refresh}{value} };
    unlike($r->{body}, qr/\Q$s->{refresh}\E/, 'the refresh token is not in the body');
    is(with_cookies($s, 'GET', '/me', undef, only => 'access')->{status}, 200, 'GET /me with the cookie');
    my $ref = with_cookies($s, 'POST', '/refresh', undef, only => 'refresh', Origin => $own);
    token_response_ok($ref, 200, 'Token refreshed', $u->{user}{id}, 'cookie refresh', no_tokens => 1);
    token_cookies_ok($ref, 'cookie refresh', secure => 0, samesite => 'Strict', no_tokens => 1);
    my $csrf = with_cookies($s, 'POST', '/logout', undef, Origin => $EVIL);
    is_error($csrf, 403, 'CSRF_REJECTED', 'CSRF is checked here too');
    Apache::TestRequest::module('aapi_cookies');
};

subtest 'without AuthAPITokenCookies: no cookies set, cookies not read' => sub {
    Apache::TestRequest::module('default');
    my $u = new_account();
    ok(!defined $u->{res}->header('Set-Cookie'), 'register sets no cookie');
    my $r = login_as($u->{email}, $u->{password});
    ok(!defined $r->header('Set-Cookie'), 'login sets no cookie');
    my $d = $r->data;
    $r = request_json('GET', '/me', undef, Cookie => "auth_api_access=$d->{access_token}");
    is_error($r, 401, 'INVALID_TOKEN', 'GET /me with an access cookie only');
    $r = request_json('POST', '/refresh', undef, Cookie => "auth_api_refresh=$d->{refresh_token}",
                      Origin => own_origin());
    is_error($r, 401, 'INVALID_TOKEN', 'POST /refresh with a refresh cookie only');
    is(refresh_with($d->{refresh_token})->{status}, 200, 'the refresh token was not used by that');
    Apache::TestRequest::module('aapi_cookies');
};

subtest 'the access cookie opens other mounts; the refresh cookie path is the mount' => sub {
    my $s = cookie_login($A);
    local $AAPI::Test::MOUNT = '/other/auth';
    my $r = with_cookies($s, 'GET', '/me', undef, only => 'access');
    is($r->{status}, 200, 'GET /other/auth/me with the access cookie') or diag($r->{body});
    my $l = login_as($A->{email}, $A->{password});
    is(cookie_jar($l)->{auth_api_refresh}{attr}{path}, '/other/auth',
       'a login on /other/auth limits the refresh cookie to /other/auth');
    is(cookie_jar($l)->{auth_api_access}{attr}{path}, '/', 'the access cookie is for /');
};

subtest 'a Bearer header wins over the cookie' => sub {
    my $u = new_account();
    my $s = cookie_login($A);
    my $r = request_json('GET', '/me', undef, Cookie => "auth_api_access=$s->{access}",
                         Authorization => "Bearer $u->{access_token}");
    is(($r->data->{user} || {})->{id}, $u->{user}{id}, 'the user of the bearer token');
    $r = request_json('POST', '/logout', undef, Cookie => "auth_api_access=$s->{access}",
                      Authorization => "Bearer $u->{access_token}");
    is($r->{status}, 200, 'a bearer logout with a cookie present and no Origin') or diag($r->{body});
    is(me_status($u->{access_token}), 401, 'the bearer session ended');
    is(with_cookies($s, 'GET', '/me', undef, only => 'access')->{status}, 200,
       'the cookie session did not');
};

subtest 'safe methods with the cookie need no Origin' => sub {
    my $s = cookie_login($A);
    for my $m (['GET', '/me'], ['GET', '/sessions'], ['GET', '/verify-token'], ['HEAD', '/me']) {
        my $r = with_cookies($s, $m->[0], $m->[1], undef, only => 'access', Origin => $EVIL);
        is($r->{status}, 200, "$m->[0] $m->[1] with a foreign Origin") or diag($r->{body});
    }
};
