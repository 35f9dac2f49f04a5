# AuthBasicProvider auth-api (API.md section 5): Basic authentication with
# the email or the username and the password of an account, alone and
# behind mod_authn_socache; the identity for CGI; a password change or an
# account deletion refuses the old password at once in every process
# (virtual host aapi_protect_revoke, where a process would otherwise trust
# checked credentials for 60 s). Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 8, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $U = new_account();

# GETs PATH with Basic USER:PW.
sub basic_get {
    my ($path, $user, $pw) = @_;
    return raw_req('GET', $path, [ 'Authorization: ' . basic_auth($user, $pw) ]);
}

# Checks that USER:PW is refused on PATH with a Basic challenge.
sub basic_refused {
    my ($path, $user, $pw, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = basic_get($path, $user, $pw);
    is($r->{status}, 401, "$name: 401") or diag(substr($r->{body}, 0, 300));
    like(challenge($r), qr/^Basic realm="test"/, "$name: Basic challenge");
    ok(no_content($r), "$name: none of the content");
}

subtest 'Basic with the email or the username' => sub {
    my $p = '/protected/basic/env.cgi';
    my $r = pget($p);
    is($r->{status}, 401, 'no credentials: 401');
    like(challenge($r), qr/^Basic realm="test"/, 'no credentials: Basic realm="test"');
    for my $login ($U->{email}, uc $U->{email}, $U->{username}, uc $U->{username}) {
        login_identity_ok(basic_get($p, $login, $U->{password}), $U, $login, 'Basic');
    }
    $r = basic_get('/protected/basic/hello.txt', $U->{email}, $U->{password});
    is($r->{status}, 200, 'a static file: 200');
    like($r->{body}, qr/protected-static-marker/, 'a static file: the content');
};

subtest 'Basic refusals' => sub {
    my $p = '/protected/basic/env.cgi';
    basic_refused($p, $U->{email}, 'Wrong-Passw0rd!', 'wrong password');
    basic_refused($p, $U->{email}, lc $U->{password}, 'password in another case');
    basic_refused($p, $U->{email}, '', 'empty password');
    basic_refused($p, $U->{email}, $U->{password} . 'x', 'password with a character more');
    basic_refused($p, uniq_email(), $U->{password}, 'unknown email');
    basic_refused($p, 'nosuchuser_zz', $U->{password}, 'unknown username');
    basic_refused($p, '', $U->{password}, 'empty user');
    # the name is matched exactly (after lower-casing) on every store
    basic_refused($p, $U->{email} . ' ', $U->{password}, 'email with a trailing space');
    basic_refused($p, $U->{username} . '  ', $U->{password}, 'username with trailing spaces');
    basic_refused($p, ' ' . $U->{username}, $U->{password}, 'username with a leading space');
    my $r = raw_req('GET', $p, [ "Authorization: Bearer $U->{access_token}" ]);
    is($r->{status}, 401, 'a Bearer token on a Basic area: 401');
    ok(no_content($r), 'a Bearer token on a Basic area: none of the content');
    my $d = new_account();
    db_exec('UPDATE users SET disabled = 1 WHERE email_norm = ' . sql_quote(lc $d->{email}));
    basic_refused($p, $d->{email}, $d->{password}, 'a disabled account');
    # the right password still works after all those refusals
    is(basic_get($p, $U->{email}, $U->{password})->{status}, 200, 'the right password still works');
};

subtest 'role and verified address are read at each check' => sub {
    my $u = new_account();
    set_role($u->{email}, 'admin');
    set_verified($u->{email}, 1);
    my $env = cgi_env(basic_get('/protected/basic/env.cgi', $u->{username}, $u->{password}));
    is($env->{AUTH_API_ROLE}, 'admin', 'AUTH_API_ROLE admin');
    is($env->{AUTH_API_EMAIL_VERIFIED}, 'true', 'AUTH_API_EMAIL_VERIFIED true');
};

subtest 'behind mod_authn_socache' => sub {
    my $p = '/protected/basiccache/env.cgi';
    my $u = new_account();
    for my $i (1 .. 3) {
        my $r = basic_get($p, $u->{email}, $u->{password});
        is($r->{status}, 200, "email, request $i: 200") or diag(substr($r->{body}, 0, 300));
        my $env = cgi_env($r);
        is($env->{REMOTE_USER}, $u->{email}, "email, request $i: REMOTE_USER");
        note("request $i: AUTH_API_USER_ID=" . ($env->{AUTH_API_USER_ID} // '(not set)'));
    }
    my $r = basic_get($p, $u->{username}, $u->{password});
    is($r->{status}, 200, 'username: 200');
    basic_refused($p, $u->{email}, 'Wrong-Passw0rd!', 'wrong password after cached successes');
    basic_refused($p, uniq_email(), $u->{password}, 'unknown email');
};

# ---- at once, in every process (virtual host aapi_protect_revoke) --------

my $BP = '/protected/basic/hello.txt';

# Sends bursts of parallel Basic GETs of a protected file with USER:PW until
# every process of WANT (default: every request-serving child) has answered
# (see AAPI::Protect::bursts).
sub basic_bursts {
    my ($user, $pw, $want) = @_;
    return bursts(path => $BP, want => $want,
                  code => sub { basic_get($BP, $user, $pw)->{status} });
}

# Checks that all of ST are WANT and that SEEN covers WANTED.
sub burst_ok {
    my ($st, $seen, $wanted, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my %n;
    $n{$_}++ for @$st;
    ok(@$st && !grep({ $_ ne $want } @$st), "$name: all " . scalar(@$st) . " answered $want")
        or diag('got ' . join(', ', map { "$_ x$n{$_}" } sort keys %n));
    my @missing = grep { !$seen->{$_} } @$wanted;
    ok(@$wanted && !@missing, "$name: every process answered (" . scalar(@$wanted) . ')')
        or diag("missing: @missing");
}

subtest 'a password change refuses the old password at once, in every process' => sub {
    Apache::TestRequest::module('aapi_protect_revoke');
    my $u = new_account();
    my ($st, $seen, $want) = basic_bursts($u->{email}, $u->{password});
    burst_ok($st, $seen, $want, 200, 'the old password, before');
    my @warmed = sort keys %$seen;
    my $new = 'N3w-Horse!Battery-Staple';
    my $r = post_json('/change-password', { current_password => $u->{password}, new_password => $new },
                      Authorization => "Bearer $u->{access_token}");
    is($r->{status}, 200, 'POST /change-password') or diag($r->{body});
    ($st, $seen, $want) = basic_bursts($u->{email}, $u->{password}, \@warmed);
    burst_ok($st, $seen, $want, 401, 'the old password, after');
    is(basic_get('/protected/basic/env.cgi', $u->{email}, $new)->{status}, 200, 'the new password: 200');
    is(basic_get('/protected/basic/env.cgi', $u->{username}, $new)->{status}, 200,
       'the new password with the username: 200');
    Apache::TestRequest::module('default');
};

subtest 'an account deletion refuses its credentials at once, in every process' => sub {
    Apache::TestRequest::module('aapi_protect_revoke');
    my $u = new_account();
    my ($st, $seen, $want) = basic_bursts($u->{username}, $u->{password});
    burst_ok($st, $seen, $want, 200, 'before');
    my @warmed = sort keys %$seen;
    my $r = delete_json('/me', { password => $u->{password} },
                        Authorization => "Bearer $u->{access_token}");
    is($r->{status}, 200, 'DELETE /me') or diag($r->{body});
    ($st, $seen, $want) = basic_bursts($u->{username}, $u->{password}, \@warmed);
    burst_ok($st, $seen, $want, 401, 'after the deletion');
    Apache::TestRequest::module('default');
};

subtest 'Basic is unaffected by the logins of others' => sub {
    is(basic_get('/protected/basic/env.cgi', $U->{email}, $U->{password})->{status}, 200,
       'the first account still works');
};

# An unknown account costs a refused Basic login the same hashing time as a
# wrong password (the dummy hash), so that timing does not tell which
# accounts exist; on the bcrypt-10 virtual host, where a hash takes long
# enough to measure.
subtest 'timing: unknown account vs wrong password (bcrypt 10)' => sub {
    Apache::TestRequest::module('aapi_slowhash');
    my $u = register_user();
    is($u->{status}, 201, 'account on the bcrypt-10 host') or diag($u->{res}{body});
    my $p = '/protected/basic/hello.txt';
    same_time(unknown => sub { basic_get($p, uniq_email('ghost'), 'Wrong-Passw0rd!') },
              wrong => sub { basic_get($p, $u->{email}, 'Wrong-Passw0rd!') },
              status => 401, name => 'Basic');
    Apache::TestRequest::module('default');
};
