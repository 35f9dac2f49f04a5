# Cookies on protected content (API.md sections 4 and 5) on the virtual
# host aapi_protect_cookie (AuthAPITokenCookies On, AuthAPICookieSecure
# Off, AuthAPISilentRefresh On, AuthAPIAccessTTL 2s, AuthAPILeeway 0): the
# access cookie alone authenticates; an expired access cookie with a live
# refresh cookie is let through and handed fresh cookies, also to parallel
# requests of one page and to a POST, whose body arrives intact; a
# cookie-authenticated unsafe request needs a same-origin Origin or
# Referer. Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;
use AAPI::Forged qw(forged_tokens);

plan tests => 11, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('aapi_protect_cookie');

my $ORIGIN = 'http://' . AAPI::Test::hostport();
my $U = new_account();
my $ENV = '/protected/loc/env.cgi';
my $ECHO = '/protected/loc/echo.cgi';

# Logs U in on the cookie host; returns {access, refresh, res}.
sub cookie_login {
    my $r = login_as($U->{email}, $U->{password});
    die "login: $r->{status} $r->{body}\n" unless $r->{status} == 200;
    my $c = set_cookies($r);
    return { access => $c->{auth_api_access}{value}, refresh => $c->{auth_api_refresh}{value},
             cookies => $c, res => $r };
}

# Waits (at most 10 s) until the access token TOK has expired.
sub wait_expired {
    my $tok = shift;
    my (undef, $c) = jwt_decode($tok);
    my $deadline = time + 10;
    sleep 1 while time <= $c->{exp} && time < $deadline;
    select undef, undef, undef, 0.2;
}

# Returns the Cookie header line for the session S (access and/or refresh).
sub cookie_line {
    my %c = @_;
    return 'Cookie: ' . cookie_header(map { ("auth_api_$_" => $c{$_}) } grep { defined $c{$_} } keys %c);
}

subtest 'login sets both cookies; the refresh cookie has Path=/' => sub {
    my $s = cookie_login();
    my $a = $s->{cookies}{auth_api_access};
    my $f = $s->{cookies}{auth_api_refresh};
    ok($a && length $a->{value}, 'auth_api_access set');
    ok($f && length $f->{value}, 'auth_api_refresh set');
    is($a->{attr}{path}, '/', 'access cookie Path=/');
    is($f->{attr}{path}, '/', 'refresh cookie Path=/ (silent refresh)');
    ok(exists $a->{attr}{httponly} && exists $f->{attr}{httponly}, 'HttpOnly');
    ok(!exists $a->{attr}{secure}, 'not Secure (AuthAPICookieSecure Off)');
    is($a->{attr}{'max-age'}, 2, 'access cookie Max-Age=2');
    my (undef, $c) = jwt_decode($s->{access});
    is($c->{exp} - $c->{iat}, 2, 'the access token lives 2 s');
};

subtest 'the access cookie alone authenticates' => sub {
    my $s = cookie_login();
    my $r = raw_req('GET', $ENV, [ cookie_line(access => $s->{access}) ]);
    is($r->{status}, 200, 'access cookie only: 200') or diag(substr($r->{body}, 0, 300));
    my $env = cgi_env($r);
    is($env->{REMOTE_USER}, $U->{email}, 'REMOTE_USER');
    is($env->{AUTH_TYPE}, 'auth-api', 'AUTH_TYPE');
    my (undef, $c) = jwt_decode($s->{access});
    is($env->{AUTH_API_SESSION_ID}, $c->{sid}, 'AUTH_API_SESSION_ID');
    is($env->{AUTH_API_EXPIRES}, rfc3339($c->{exp}), 'AUTH_API_EXPIRES');
    is(raw_req('GET', '/protected/loc/hello.txt', [ cookie_line(access => $s->{access}) ])->{status},
       200, 'a static file with the access cookie');
    $r = raw_req('GET', $ENV, []);
    is($r->{status}, 401, 'no cookie: 401');
    $r = raw_req('GET', $ENV, [ cookie_line(access => 'x.y.z') ]);
    is($r->{status}, 401, 'a garbage access cookie: 401');
    ok(no_content($r), 'a garbage access cookie: none of the content');
    $r = raw_req('GET', $ENV, [ "Authorization: Bearer $s->{access}" ]);
    is($r->{status}, 200, 'the same token as Bearer: 200');
};

subtest 'silent refresh: expired access cookie + refresh cookie' => sub {
    my $s = cookie_login();
    my (undef, $c0) = jwt_decode($s->{access});
    wait_expired($s->{access});
    my $r = raw_req('GET', $ENV, [ cookie_line(access => $s->{access}) ]);
    is($r->{status}, 401, 'the expired access cookie alone: 401');
    ok(no_content($r), 'expired, alone: none of the content');

    $r = raw_req('GET', $ENV, [ cookie_line(access => $s->{access}, refresh => $s->{refresh}) ]);
    is($r->{status}, 200, 'expired access + refresh cookie: 200') or diag(substr($r->{body}, 0, 300));
    my $env = cgi_env($r);
    is($env->{_marker}, 'CGI-OK', 'the CGI ran');
    is($env->{REMOTE_USER}, $U->{email}, 'REMOTE_USER');
    is($env->{AUTH_API_SESSION_ID}, $c0->{sid}, 'the same session');
    my $new = set_cookies($r);
    my $na = ($new->{auth_api_access} || {})->{value};
    my $nf = ($new->{auth_api_refresh} || {})->{value};
    ok($na && $na ne $s->{access}, 'a fresh access cookie');
    ok($nf && $nf ne $s->{refresh}, 'a fresh refresh cookie');
    is(($new->{auth_api_refresh} || {})->{attr}{path}, '/', 'the refresh cookie has Path=/');
    is(($new->{auth_api_access} || {})->{attr}{path}, '/', 'the access cookie has Path=/');
    my (undef, $c1) = jwt_decode($na // 'e30.e30.');
    cmp_ok($c1->{exp} // 0, '>', time, 'the new access token is live');
    is($env->{AUTH_API_EXPIRES}, rfc3339($c1->{exp} // 0), 'AUTH_API_EXPIRES is the new expiry');

    $r = raw_req('GET', $ENV, [ cookie_line(access => $na, refresh => $nf) ]);
    is($r->{status}, 200, 'the fresh cookies: 200');
    is($r->header('Set-Cookie'), undef, 'a live access cookie: no new cookies');

    # later the successor refreshes in its turn
    wait_expired($na);
    $r = raw_req('GET', $ENV, [ cookie_line(access => $na, refresh => $nf) ]);
    is($r->{status}, 200, 'the next expiry: refreshed again');
    ok(set_cookies($r)->{auth_api_access}, 'again fresh cookies');
};

subtest 'silent refresh with the refresh cookie alone' => sub {
    my $s = cookie_login();
    my $r = raw_req('GET', $ENV, [ cookie_line(refresh => $s->{refresh}) ]);
    is($r->{status}, 200, 'refresh cookie only: 200') or diag(substr($r->{body}, 0, 300));
    ok(set_cookies($r)->{auth_api_access}, 'a fresh access cookie');
    $r = raw_req('GET', $ENV, [ cookie_line(refresh => 'A' x 43) ]);
    is($r->{status}, 401, 'an unknown refresh cookie: 401');
    ok(no_content($r), 'an unknown refresh cookie: none of the content');
};

subtest 'parallel requests of one page with the same expired cookies all pass' => sub {
    my $s = cookie_login();
    wait_expired($s->{access});
    my $line = cookie_line(access => $s->{access}, refresh => $s->{refresh});
    my @res = parallel(12, sub {
        my $r = raw_req('GET', $ENV, [$line]);
        my $c = set_cookies($r);
        return { status => $r->{status},
                 refresh => ($c->{auth_api_refresh} || {})->{value} // '',
                 sid => cgi_env($r)->{AUTH_API_SESSION_ID} // '' };
    }, 60);
    my @st = map { ref $_ eq 'HASH' ? $_->{status} // 'error' : 'error' } @res;
    my $bad = grep { $_ ne '200' } @st;
    ok(!$bad, 'all 12 answered 200')
        or diag("statuses: @st\n",
                join "\n", map { $_->{error} } grep { ref $_ eq 'HASH' && $_->{error} } @res);
    my %succ = map { $_->{refresh} => 1 } grep { ref $_ eq 'HASH' && $_->{refresh} } @res;
    is(scalar keys %succ, 1, 'all were handed the same refresh cookie (one live chain)')
        or diag(join "\n", keys %succ);
    my (undef, $c) = jwt_decode($s->{access});
    my @sids = grep { $_ ne $c->{sid} } map { ref $_ eq 'HASH' ? $_->{sid} // '' : '' } @res;
    is(scalar @sids, 0, 'all in the same session');
    # the session lives on: its successor refreshes once more
    my ($next) = keys %succ;
    my $r = raw_req('GET', $ENV, [ cookie_line(refresh => $next // 'x') ]);
    is($r->{status}, 200, 'the successor refresh cookie works afterwards');
};

subtest 'a POST body arrives intact through a silent refresh' => sub {
    my $s = cookie_login();
    wait_expired($s->{access});
    my $body = join '', map { chr(($_ * 7 + 3) % 256) } 0 .. 40_000;
    $body .= "\r\n\r\nend\0of\nbody";
    my $r = raw_req('POST', $ECHO, [ cookie_line(access => $s->{access}, refresh => $s->{refresh}),
                                     "Origin: $ORIGIN", 'Content-Type: application/octet-stream' ],
                    $body);
    is($r->{status}, 200, 'POST with expired access + refresh cookie: 200')
        or diag(substr($r->{body}, 0, 300));
    is($r->header('X-Body-Length'), length $body, 'the CGI was told the whole length');
    is(length $r->{body}, length $body, 'the same number of bytes came back');
    ok($r->{body} eq $body, 'the body is intact');
    ok(set_cookies($r)->{auth_api_access}, 'fresh cookies');

    my $form = 'name=Ann+Lee&note=' . ('x' x 5000) . '&last=1';
    $r = raw_req('POST', $ECHO, [ cookie_line(access => set_cookies($r)->{auth_api_access}{value}),
                                  "Origin: $ORIGIN", 'Content-Type: application/x-www-form-urlencoded' ],
                 $form);
    is($r->{status}, 200, 'a form POST with a live access cookie: 200');
    ok($r->{body} eq $form, 'the form body is intact');
};

subtest 'cookie-authenticated unsafe requests need the same origin' => sub {
    my $s = cookie_login();
    my $live = cookie_line(access => $s->{access});
    my @ct = ('Content-Type: application/x-www-form-urlencoded');
    my %cases = (
        'no Origin, no Referer'   => [],
        'a foreign Origin'        => [ 'Origin: https://evil.example' ],
        'Origin null'             => [ 'Origin: null' ],
        'a foreign Referer'       => [ 'Referer: https://evil.example/page' ],
        'another port'            => [ 'Origin: http://127.0.0.1:1' ],
        'another scheme'          => [ 'Origin: https://' . AAPI::Test::hostport() ],
    );
    for my $name (sort keys %cases) {
        for my $m (qw(POST PUT DELETE PATCH)) {
            my $r = raw_req($m, $ECHO, [ $live, @ct, @{ $cases{$name} } ], 'a=1&b=2');
            is($r->{status}, 403, "$m, access cookie, $name: 403") or diag(substr($r->{body}, 0, 200));
            unlike($r->{body}, qr/a=1&b=2/, "$m, $name: the CGI did not run");
        }
    }
    my $r = raw_req('POST', $ECHO, [ $live, @ct, "Origin: $ORIGIN" ], 'a=1&b=2');
    is($r->{status}, 200, 'POST, same Origin: 200');
    is($r->{body}, 'a=1&b=2', 'POST, same Origin: the body');
    $r = raw_req('POST', $ECHO, [ $live, @ct, "Referer: $ORIGIN/protected/loc/form.html" ], 'a=1&b=2');
    is($r->{status}, 200, 'POST, same-origin Referer and no Origin: 200');
    $r = raw_req('GET', $ENV, [ $live ]);
    is($r->{status}, 200, 'GET without Origin: 200');
    $r = raw_req('POST', $ECHO, [ "Authorization: Bearer $s->{access}", @ct ], 'a=1&b=2');
    is($r->{status}, 200, 'POST with a Bearer header and no Origin: 200 (no CSRF check)');

    # an expired access cookie: no refresh happens for a foreign request
    my $t = cookie_login();
    wait_expired($t->{access});
    $r = raw_req('POST', $ECHO, [ cookie_line(access => $t->{access}, refresh => $t->{refresh}), @ct ],
                 'a=1&b=2');
    is($r->{status}, 403, 'POST, expired access + refresh cookie, no Origin: 403');
    ok(!set_cookies($r)->{auth_api_refresh}, 'no cookies handed out');
    $r = raw_req('POST', $ECHO, [ cookie_line(refresh => $t->{refresh}), @ct,
                                  'Origin: https://evil.example' ], 'a=1&b=2');
    is($r->{status}, 403, 'POST, refresh cookie only, foreign Origin: 403');
    # the refresh token was not spent by the refused requests
    $r = raw_req('GET', $ENV, [ cookie_line(access => $t->{access}, refresh => $t->{refresh}) ]);
    is($r->{status}, 200, 'the same cookies on a GET afterwards: 200');
};

subtest 'after logout the cookies open nothing' => sub {
    my $s = cookie_login();
    my $r = post_json('/logout', {}, Authorization => "Bearer $s->{access}");
    is($r->{status}, 200, 'POST /logout') or diag($r->{body});
    my $gone = set_cookies($r);
    for my $n (qw(auth_api_access auth_api_refresh)) {
        is($gone->{$n}{attr}{'max-age'}, '0', "logout expires $n");
        is($gone->{$n}{attr}{path}, '/',
           "$n is expired on Path=/, the path it was set with");
    }
    $r = raw_req('GET', $ENV, [ cookie_line(access => $s->{access}) ]);
    is($r->{status}, 401, 'the live access cookie of the ended session: 401');
    $r = raw_req('GET', $ENV, [ cookie_line(access => $s->{access}, refresh => $s->{refresh}) ]);
    is($r->{status}, 401, 'with the refresh cookie too: 401');
    ok(!set_cookies($r)->{auth_api_access}, 'no fresh cookies');
    ok(no_content($r), 'none of the content');
};

# A refresh cookie that will never work again (unknown, of an ended
# session, rotated away) is expired by the refusal, with the access
# cookie: the browser stops presenting it, and the server stops looking it
# up in the database, on every request until it would have expired. A
# refusal that says nothing of the cookie (no refresh was tried) leaves
# the cookies alone.
subtest 'a refresh cookie that no longer works is expired by the refusal' => sub {
    my $expired_both = sub {
        my ($r, $name) = @_;
        my $c = set_cookies($r);
        for my $n (qw(auth_api_access auth_api_refresh)) {
            my $e = $c->{$n} || {};
            ok(defined $e->{value} && $e->{value} eq '' && ($e->{attr}{'max-age'} // '') eq '0',
               "$name: $n expired") or diag(join "\n", $r->{res}->header('Set-Cookie'));
            is($e->{attr}{path}, '/', "$name: $n expired on Path=/");
        }
        like($r->header('Cache-Control') // '', qr/no-store/, "$name: Cache-Control no-store");
    };
    my $r = raw_req('GET', $ENV, [ cookie_line(refresh => 'A' x 43) ]);
    is($r->{status}, 401, 'an unknown refresh cookie: 401');
    $expired_both->($r, 'an unknown refresh cookie');

    my $s = cookie_login();
    my $lo = post_json('/logout', {}, Authorization => "Bearer $s->{access}");
    is($lo->{status}, 200, 'POST /logout (the browser keeps its cookies)');
    wait_expired($s->{access});
    $r = raw_req('GET', $ENV, [ cookie_line(access => $s->{access}, refresh => $s->{refresh}) ]);
    is($r->{status}, 401, 'the cookies of an ended session, the access one expired: 401');
    ok(no_content($r), 'the cookies of an ended session: none of the content');
    $expired_both->($r, 'the cookies of an ended session');
    # a browser sent to the login page drops them too
    $r = raw_req('GET', '/protected/login/hello.txt',
                 [ cookie_line(refresh => $s->{refresh}), 'Accept: text/html' ]);
    is($r->{status}, 302, 'the same with AuthAPILoginURL, a browser: 302 to the login page');
    $expired_both->($r, 'sent to the login page');

    # a refusal that tried no refresh: a live access cookie of an ended
    # session (the refresh cookie is not looked at)
    $s = cookie_login();
    post_json('/logout', {}, Authorization => "Bearer $s->{access}");
    $r = raw_req('GET', $ENV, [ cookie_line(access => $s->{access}, refresh => $s->{refresh}) ]);
    is($r->{status}, 401, 'a live access cookie of an ended session: 401');
    is(join(' ', $r->{res}->header('Set-Cookie')), '', 'no refresh tried: no Set-Cookie');
};

# A cookie name sent more than once (a browser holding cookies of two
# paths or domains, or a cookie set from a sibling host): the same value
# twice is that value; different values leave the credential ambiguous and
# none is used, on protected content as on the API, with a line of the
# module's own at info level, never httpd's error-level one (AH00011).
subtest 'a cookie sent twice: the same value counts, different ones do not' => sub {
    my $log = Apache::Test::vars('t_logs') . '/error_log';
    my $from = -s $log;
    my $s = cookie_login();
    my $twice = sub { 'Cookie: ' . join '; ', map { "auth_api_access=$_" } @_ };
    my $r = raw_req('GET', $ENV, [ $twice->($s->{access}, $s->{access}) ]);
    is($r->{status}, 200, 'the access cookie twice, alike: 200') or diag(substr($r->{body}, 0, 300));
    is(cgi_env($r)->{AUTH_API_USER_ID}, $U->{id}, 'alike: the user');
    $r = raw_req('GET', $ENV, [ $twice->($s->{access}, 'x.y.z') ]);
    is($r->{status}, 401, 'the live one, then another value: 401');
    ok(no_content($r), 'ambiguous: none of the content');
    $r = raw_req('GET', $ENV, [ $twice->('x.y.z', $s->{access}) ]);
    is($r->{status}, 401, 'another value, then the live one: 401');
    $r = raw_req('GET', $ENV, [ "Cookie: auth_api_access=$s->{access}", 'Cookie: auth_api_access=x.y.z' ]);
    is($r->{status}, 401, 'in two Cookie headers: 401');
    $r = request_json('POST', '/refresh', undef, Origin => $ORIGIN,
                      Cookie => "auth_api_refresh=$s->{refresh}; auth_api_refresh=" . ('A' x 43));
    is($r->{status}, 401, 'POST /refresh with two refresh cookies: 401') or diag($r->{body});
    $r = request_json('POST', '/refresh', undef, Origin => $ORIGIN,
                      Cookie => "auth_api_refresh=$s->{refresh}; auth_api_refresh=$s->{refresh}");
    is($r->{status}, 200, 'POST /refresh with the refresh cookie twice, alike: 200') or diag($r->{body});
    open my $fh, '<', $log or return fail("read $log: $!");
    seek $fh, $from, 0;
    my @lines = <$fh>;
    close $fh;
    is(scalar(grep { /AH00011/ } @lines), 0, "no error-level line of httpd's");
    ok(scalar(grep { /AAPI0203:.*auth_api_access sent more than once/ } @lines),
       "the module's info line names the cookie");
    ok(!grep({ index($_, $s->{access}) >= 0 } @lines), 'the log never holds the token');
};

# The catalog of forged tokens that t/protect_tokens.t sends as Bearer
# tokens (AAPI::Forged), sent as the access cookie: each is refused, and
# none makes silent refresh spend the refresh cookie (only an expired token
# that is otherwise valid does).
subtest 'forged access cookies are refused' => sub {
    my $s = cookie_login();
    my (undef, $c) = jwt_decode($s->{access});
    my @forged = forged_tokens(token => $s->{access}, claims => $c, secret => secret(),
                               iss => 'https://test.example');
    for my $f (@forged) {
        my ($group, $name, $tok) = @$f;
        my $r = raw_req('GET', $ENV, [ cookie_line(access => $tok) ]);
        is($r->{status}, 401, "$group/$name as the access cookie: 401");
        ok(no_content($r), "$group/$name: none of the content");
    }
    for my $f (grep { $_->[0] =~ /^(?:alg|altered|encoding|headers)$/ } @forged) {
        my ($group, $name, $tok) = @$f;
        my $r = raw_req('GET', $ENV, [ cookie_line(access => $tok, refresh => $s->{refresh}) ]);
        is($r->{status}, 401, "$group/$name with a live refresh cookie: 401");
        ok(!set_cookies($r)->{auth_api_access}, "$group/$name: no fresh cookies");
    }
    # the control: the refresh cookie was not spent, silent refresh still works
    my $r = raw_req('GET', $ENV, [ cookie_line(refresh => $s->{refresh}) ]);
    is($r->{status}, 200, 'control: the refresh cookie alone still lets a page through');
    is(cgi_env($r)->{AUTH_API_USER_ID}, $U->{id}, 'control: with the identity');
};
