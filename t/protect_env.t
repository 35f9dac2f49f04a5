# What programs behind AuthType auth-api receive (API.md section 5): the
# REMOTE_USER chosen by AuthAPIRemoteUser per <Location>, <Directory> and
# .htaccess, AUTH_TYPE and the AUTH_API_* variables for CGI, PHP and SSI;
# X-Auth-Api-* headers for proxied backends with AuthAPIForwardHeaders On;
# and never an X-Auth-Api-* header that the client made up.
# Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 14, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $U = new_account();

my @VARS = qw(AUTH_API_USER_ID AUTH_API_EMAIL AUTH_API_USERNAME AUTH_API_ROLE
              AUTH_API_EMAIL_VERIFIED AUTH_API_SESSION_ID AUTH_API_EXPIRES);
my @HEADERS = map { (my $h = $_) =~ s/^AUTH_API_/HTTP_X_AUTH_API_/; $h } @VARS;

# The spoofed identity headers a client sends, in assorted spellings.
my @SPOOF = ('X-Auth-Api-Role: admin', 'x-auth-api-user-id: spoofed-id',
             'X-AUTH-API-EMAIL: boss@evil.example', 'X-Auth-API-Username: boss',
             'x-Auth-api-Email-Verified: true', 'X-Auth-Api-Session-Id: spoofed-sid',
             'X-Auth-Api-Expires: 2099-01-01T00:00:00Z', 'X-Auth-Api-Foo: bar',
             'X-Auth-Api-Role: editor');

# Returns what account U's token TOK should give a program.
sub expected {
    my ($u, $tok, %o) = @_;
    my (undef, $c) = jwt_decode($tok);
    return {
        AUTH_TYPE               => 'auth-api',
        AUTH_API_USER_ID        => $u->{id},
        AUTH_API_EMAIL          => $u->{email},
        AUTH_API_USERNAME       => $u->{username} // '',
        AUTH_API_ROLE           => $o{role} // 'user',
        AUTH_API_EMAIL_VERIFIED => $o{verified} ? 'true' : 'false',
        AUTH_API_SESSION_ID     => $c->{sid},
        AUTH_API_EXPIRES        => rfc3339($c->{exp}),
    };
}

# GETs PATH with TOK (and header LINES) and checks its environment against
# WANT and REMOTE_USER against RU; returns the environment.
sub env_ok {
    my ($path, $tok, $want, $ru, $lines) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = raw_req('GET', $path, [ "Authorization: Bearer $tok", @{ $lines || [] } ]);
    is($r->{status}, 200, "$path: 200") or diag(substr($r->{body}, 0, 500));
    my $env = cgi_env($r);
    like($env->{_marker}, qr/^(?:CGI|PHP|SSI)-OK$/, "$path: the program ran");
    is($env->{REMOTE_USER}, $ru, "$path: REMOTE_USER");
    for my $k (sort keys %$want) {
        is($env->{$k}, $want->{$k}, "$path: $k");
    }
    is("@{ $env->{_dups} }", '', "$path: no variable twice");
    return $env;
}

subtest 'CGI, PHP and SSI in a <Location>: REMOTE_USER is the email' => sub {
    my $want = expected($U, $U->{access_token});
    like($want->{AUTH_API_EXPIRES}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'the expected expiry is RFC 3339 UTC');
    for my $f (qw(env.cgi env.php env.shtml)) {
        env_ok("/protected/loc/$f", $U->{access_token}, $want, $U->{email});
    }
};

subtest 'AuthAPIRemoteUser sub in a <Directory>' => sub {
    my $want = expected($U, $U->{access_token});
    for my $f (qw(env.cgi env.php)) {
        env_ok("/protected/dir/$f", $U->{access_token}, $want, $U->{id});
    }
};

subtest 'AuthAPIRemoteUser username in .htaccess and in a <Location>' => sub {
    my $want = expected($U, $U->{access_token});
    env_ok('/protected/ht/env.cgi', $U->{access_token}, $want, $U->{username});
    env_ok('/protected/uname/env.cgi', $U->{access_token}, $want, $U->{username});
    env_ok('/protected/uname/env.php', $U->{access_token}, $want, $U->{username});
    # the same token in the default area again: the setting is per area
    env_ok('/protected/loc/env.cgi', $U->{access_token}, $want, $U->{email});
};

subtest 'internal redirects: a CGI as directory index and as error document' => sub {
    my $want = expected($U, $U->{access_token});
    env_ok('/protected/idx/', $U->{access_token}, $want, $U->{email});
    my $r = raw_req('GET', '/protected/idx/missing.txt', [ "Authorization: Bearer $U->{access_token}" ]);
    is($r->{status}, 404, 'a missing file: 404');
    my $env = cgi_env($r);
    is($env->{_marker}, 'CGI-OK', 'the error document ran');
    is($env->{REMOTE_USER}, $U->{email}, 'error document: REMOTE_USER');
    for my $k (sort keys %$want) {
        is($env->{$k}, $want->{$k}, "error document: $k");
    }
    my @dups = grep { /^(?:REMOTE_USER|AUTH_TYPE|AUTH_API_)/ } @{ $env->{_dups} };
    is("@dups", '', 'error document: no identity variable twice');
    for my $t ('/protected/idx/', '/protected/idx/missing.txt') {
        $r = raw_req('GET', $t, []);
        is($r->{status}, 401, "$t without a token: 401");
        ok(no_content($r), "$t without a token: the CGI did not run");
    }
};

subtest 'an account without a username' => sub {
    my $n = register_user();
    is($n->{status}, 201, 'registered without a username') or diag($n->{res}{body});
    $n->{id} = ($n->{user} || {})->{id};
    my $want = expected($n, $n->{access_token} // 'e30.e30.');
    is($want->{AUTH_API_USERNAME}, '', 'AUTH_API_USERNAME is empty');
    env_ok('/protected/loc/env.cgi', $n->{access_token} // 'x', $want, $n->{email});
    env_ok('/protected/uname/env.cgi', $n->{access_token} // 'x', $want, $n->{email});
};

subtest 'role and verified address come from a new login' => sub {
    set_role($U->{email}, 'editor');
    set_verified($U->{email}, 1);
    my $tok = fresh_token($U);
    my $want = expected($U, $tok, role => 'editor', verified => 1);
    isnt($want->{AUTH_API_SESSION_ID}, $U->{sid}, 'a new session');
    for my $f (qw(env.cgi env.php env.shtml)) {
        env_ok("/protected/loc/$f", $tok, $want, $U->{email});
    }
    # (the old token is refused once its session is checked again:
    # t/protect_identity.t)
    set_role($U->{email}, 'user');
    set_verified($U->{email}, 0);
};

subtest 'spoofed X-Auth-Api-* headers never reach CGI or PHP' => sub {
    my $want = expected($U, $U->{access_token});
    for my $path (qw(/protected/loc/env.cgi /protected/loc/env.php /protected/dir/env.cgi
                     /protected/ht/env.cgi /protected/uname/env.php)) {
        my $env = env_ok($path, $U->{access_token}, $want,
                         $path =~ /dir/ ? $U->{id} : $path =~ /ht|uname/ ? $U->{username} : $U->{email},
                         \@SPOOF);
        no_spoof($env, "$path with a token");
    }
    # AuthType auth-api with "Require all granted" and forwarding on
    for my $path (qw(/protected/open/env.cgi /protected/open/env.php)) {
        my $r = raw_req('GET', $path, \@SPOOF);
        is($r->{status}, 200, "$path without a token: 200 (Require all granted)");
        my $env = cgi_env($r);
        like($env->{_marker}, qr/^(?:CGI|PHP)-OK$/, "$path: the program ran");
        no_spoof($env, "$path without a token");
        my @id = grep { /^AUTH_API_/ } sort keys %$env;
        is("@id", '', "$path without a token: no AUTH_API_* variable");
        $r = raw_req('GET', $path, [ "Authorization: Bearer $U->{access_token}", @SPOOF ]);
        is($r->{status}, 200, "$path with a token: 200");
        no_spoof(cgi_env($r), "$path with a token");
    }
};

subtest 'variables of the same names set before authentication are replaced' => sub {
    my $want = expected($U, $U->{access_token});
    for my $f (qw(env.cgi env.php env.shtml)) {
        env_ok("/protected/preset/$f", $U->{access_token}, $want, $U->{email},
               [ 'X-Preset: admin' ]);
    }
    # a static file: no CGI folds the environment; mod_headers reads the
    # variable as it stands
    my $r = raw_req('GET', '/protected/preset/hello.txt',
                    [ "Authorization: Bearer $U->{access_token}", 'X-Preset: admin' ]);
    is($r->{status}, 200, 'a static file: 200');
    is(($r->{res}->header('X-Seen-Role') // '(none)'), 'user',
       'a static file: %{AUTH_API_ROLE}e is the identity\'s role');
};

subtest 'AuthAPIForwardHeaders On: the identity reaches the proxied backend' => sub {
    my $want = expected($U, $U->{access_token});
    for my $spoof ([], \@SPOOF) {
        my $name = @$spoof ? 'with spoofed headers' : 'plain';
        my $r = raw_req('GET', '/protected/proxy/env.cgi',
                        [ "Authorization: Bearer $U->{access_token}", @$spoof ]);
        is($r->{status}, 200, "$name: 200") or diag(substr($r->{body}, 0, 500));
        my $env = cgi_env($r);
        is($env->{_marker}, 'BACKEND-OK', "$name: the backend answered");
        for my $k (sort keys %$want) {
            next if $k eq 'AUTH_TYPE';
            (my $h = $k) =~ s/^AUTH_API_/HTTP_X_AUTH_API_/;
            is($env->{$h}, $want->{$k}, "$name: $h");
        }
        my @other = grep { /^HTTP_X_AUTH_API_/ && !{ map { $_ => 1 } @HEADERS }->{$_} } sort keys %$env;
        is("@other", '', "$name: no other X-Auth-Api-* header");
    }
    my $r = raw_req('GET', '/protected/proxy/env.cgi', \@SPOOF);
    is($r->{status}, 401, 'without a token: 401');
    ok(no_content($r), 'without a token: the backend did not answer');
};

subtest 'without AuthAPIForwardHeaders: no X-Auth-Api-* header reaches the backend' => sub {
    my $r = raw_req('GET', '/protected/proxynofwd/env.cgi',
                    [ "Authorization: Bearer $U->{access_token}", @SPOOF ]);
    is($r->{status}, 200, 'with a token: 200') or diag(substr($r->{body}, 0, 500));
    my $env = cgi_env($r);
    is($env->{_marker}, 'BACKEND-OK', 'the backend answered');
    no_spoof($env, 'backend, forwarding off');
    is(raw_req('GET', '/protected/proxynofwd/env.cgi', \@SPOOF)->{status}, 401, 'without a token: 401');
};

subtest 'Require all granted with forwarding: no client-made header reaches the backend' => sub {
    my $r = raw_req('GET', '/protected/proxyopen/env.cgi', \@SPOOF);
    is($r->{status}, 200, 'without a token: 200') or diag(substr($r->{body}, 0, 500));
    my $env = cgi_env($r);
    is($env->{_marker}, 'BACKEND-OK', 'the backend answered');
    no_spoof($env, 'open proxy, no token');
    $r = raw_req('GET', '/protected/proxyopen/env.cgi',
                 [ "Authorization: Bearer $U->{access_token}", @SPOOF ]);
    is($r->{status}, 200, 'with a token: 200');
    $env = cgi_env($r);
    my @bad = grep { /^HTTP_X_AUTH_API/ && $env->{$_} =~ /admin|editor|spoofed|evil|boss|2099|^bar$/ } sort keys %$env;
    is("@bad", '', 'open proxy, with a token: no spoofed value');
};

# Spellings of the identity headers with underscores, which httpd forwards
# to a proxied backend as they are and which several backend stacks read as
# the dashed names.
my @UNDERSCORE = ('X_Auth_Api_Role: admin', 'x_auth_api_user_id: spoofed-id',
                  'X-Auth_Api-Email: boss@evil.example', 'X_AUTH-API_FOO: bar');

# Returns the names of the response headers of RES that the backend echoed
# (any spelling of X-Auth-Api-*) and that have an underscore.
sub echoed_underscores {
    my $r = shift;
    return sort grep { /_/ && /^x.auth.api/i } $r->{res}->header_field_names;
}

subtest 'underscore spellings of X-Auth-Api-* never reach a proxied backend' => sub {
    # a control: straight to the backend, they arrive and are echoed
    Apache::TestRequest::module('aapi_protect_backend');
    my $r = raw_req('GET', '/protected/backend/env.cgi', \@UNDERSCORE);
    Apache::TestRequest::module('default');
    is($r->{status}, 200, 'control: the backend on its own host: 200');
    is(scalar(my @e = echoed_underscores($r)), scalar(@UNDERSCORE),
       'control: the backend echoes each underscore spelling it receives');

    for my $case (['/protected/proxy/env.cgi', 1, 'forwarding on'],
                  ['/protected/proxynofwd/env.cgi', 1, 'forwarding off'],
                  ['/protected/proxyopen/env.cgi', 0, 'Require all granted, no token'],
                  ['/protected/proxyopen/env.cgi', 1, 'Require all granted, a token']) {
        my ($path, $with_token, $name) = @$case;
        my @h = (@UNDERSCORE, $with_token ? ("Authorization: Bearer $U->{access_token}") : ());
        $r = raw_req('GET', $path, \@h);
        is($r->{status}, 200, "$name: 200") or diag(substr($r->{body}, 0, 500));
        is(cgi_env($r)->{_marker}, 'BACKEND-OK', "$name: the backend answered");
        my @got = echoed_underscores($r);
        is("@got", '', "$name: no underscore spelling reached the backend");
    }
};

subtest 'Basic with AuthAPIForwardHeaders: the identity, and nothing the client made' => sub {
    my $auth = 'Authorization: ' . basic_auth($U->{email}, $U->{password});
    my $r = raw_req('GET', '/protected/basicproxy/env.cgi', [ $auth, @SPOOF, @UNDERSCORE ]);
    is($r->{status}, 200, 'Basic through the proxy: 200') or diag(substr($r->{body}, 0, 500));
    my $env = cgi_env($r);
    is($env->{_marker}, 'BACKEND-OK', 'the backend answered');
    is($env->{HTTP_X_AUTH_API_USER_ID}, $U->{id}, 'the user id reached the backend');
    is($env->{HTTP_X_AUTH_API_EMAIL}, $U->{email}, 'the email reached the backend');
    is($env->{HTTP_X_AUTH_API_ROLE}, 'user', 'the role, not the spoofed one');
    is($env->{HTTP_X_AUTH_API_FOO}, undef, 'a client-made X-Auth-Api-Foo did not reach it');
    my @got = echoed_underscores($r);
    is("@got", '', 'no underscore spelling reached it');
    $r = raw_req('GET', '/protected/basicproxy/env.cgi', \@SPOOF);
    is($r->{status}, 401, 'without credentials: 401');
    ok(no_content($r), 'without credentials: the backend did not answer');
};

subtest 'the proxied backend is not reachable around the protection' => sub {
    my $r = raw_req('GET', '/protected/backend/env.cgi', \@SPOOF);
    is($r->{status}, 403, 'the backend directory on the main server: 403');
    ok(no_content($r), 'no backend output');
    # a control: outside AuthType auth-api the same headers do reach a CGI,
    # so the checks above can see them
    Apache::TestRequest::module('aapi_protect_backend');
    $r = raw_req('GET', '/protected/backend/env.cgi', \@SPOOF);
    Apache::TestRequest::module('default');
    is($r->{status}, 200, 'the backend on its own host: 200');
    my $env = cgi_env($r);
    is($env->{HTTP_X_AUTH_API_FOO}, 'bar', 'control: a client header reaches an unprotected CGI');
    like($env->{HTTP_X_AUTH_API_ROLE} // '', qr/admin/, 'control: the spoofed role too');
};
