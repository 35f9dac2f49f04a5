# AuthBasicProvider auth-api (API.md section 5): Basic authentication with
# the email or the username and the password of an account, alone and
# behind mod_authn_socache; the identity for CGI; a password change or an
# account deletion refuses the old password at once in every process
# (virtual host aapi_protect_revoke, where a process would otherwise trust
# checked credentials for 60 s), while what other accounts do (renames,
# logouts, password changes) sends no process back to a user's password
# hash. Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;
use File::Spec::Functions qw(catfile);
use Math::BigInt ();

plan tests => 9, need_module('mod_auth_api.c', 'mod_dbd.c');

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

# The bucket of user id UID, as the module's table of checked credentials
# picks it (tokcache.c: the first eight bytes, little-endian, times a
# constant, the top eight bits).
sub user_bucket {
    my ($uid) = @_;
    my @b = unpack 'C*', substr($uid . ("\0" x 8), 0, 8);
    my $w = Math::BigInt->new(0);
    $w = $w * 256 + $b[$_] for reverse 0 .. 7;
    my $m = ($w * Math::BigInt->from_hex('9e3779b97f4a7c15'))
            % Math::BigInt->new(2)->bpow(64);
    return ($m >> 56)->numify;
}

# The size of the error log now.
sub error_log_offset {
    my $f = catfile(Apache::Test::vars('t_logs'), 'error_log');
    return -e $f ? -s $f : 0;
}

# How many times since OFFSET the error log says the Basic credentials of
# user UID were checked against the database (AAPI1003, at debug level).
sub checked_count {
    my ($offset, $uid) = @_;
    my $f = catfile(Apache::Test::vars('t_logs'), 'error_log');
    open my $fh, '<', $f or return 0;
    seek $fh, $offset, 0;
    my $n = 0;
    while (<$fh>) {
        $n++ if /AAPI1003: Basic credentials of user \Q$uid\E checked/;
    }
    return $n;
}

# What another account does moves only its own counters: the Basic
# credentials that every process has checked stay trusted, where before
# any rename, logout-all or password change anywhere sent every process
# back to each user's password hash (a cheap request of one account made
# every Basic request of all the others pay a full hash).
subtest "other accounts' changes leave a user's checked credentials alone" => sub {
    Apache::TestRequest::module('aapi_protect_revoke');
    my $v = new_account();
    # another account, in another bucket than V's (one in 256 shares it)
    my $w;
    for (1 .. 5) {
        $w = new_account();
        last if user_bucket($w->{id}) != user_bucket($v->{id});
    }
    isnt(user_bucket($w->{id}), user_bucket($v->{id}),
         "an account in another bucket than the user's");
    my ($st, $seen, $want) = basic_bursts($v->{username}, $v->{password});
    burst_ok($st, $seen, $want, 200, 'every process has checked them');
    my @warmed = sort keys %$seen;

    my $from = error_log_offset();
    my $token = $w->{access_token};
    for my $i (1 .. 3) {
        my $r = patch_json('/me', { username => uniq_username() },
                           Authorization => "Bearer $token");
        is($r->{status}, 200, "the other account renamed ($i)")
            or diag($r->{body});
        ($st, $seen, $want) = basic_bursts($v->{username}, $v->{password},
                                           \@warmed);
        burst_ok($st, $seen, $want, 200, "after rename $i");
    }
    my $pw = 'Other!Horse-Battery-9';
    my $r = post_json('/change-password',
                      { current_password => $w->{password}, new_password => $pw },
                      Authorization => "Bearer $token");
    is($r->{status}, 200, "the other account's password changed")
        or diag($r->{body});
    ($st, $seen, $want) = basic_bursts($v->{username}, $v->{password}, \@warmed);
    burst_ok($st, $seen, $want, 200, 'after the password change');
    $r = post_json('/logout-all', {}, Authorization => "Bearer $token");
    is($r->{status}, 200, "the other account's logout-all") or diag($r->{body});
    ($st, $seen, $want) = basic_bursts($v->{username}, $v->{password}, \@warmed);
    burst_ok($st, $seen, $want, 200, 'after the logout-all');
    is(checked_count($from, $v->{id}), 0,
       "no process checked the user's credentials against the database again");

    # the user's own change does send every process back to the database
    $from = error_log_offset();
    my $new = uniq_username();
    $r = patch_json('/me', { username => $new },
                    Authorization => "Bearer $v->{access_token}");
    is($r->{status}, 200, 'the user renamed') or diag($r->{body});
    ($st, $seen, $want) = basic_bursts($new, $v->{password}, \@warmed);
    burst_ok($st, $seen, $want, 200, 'the new name, after');
    cmp_ok(checked_count($from, $v->{id}), '>=', scalar @warmed,
           "its own rename: each process checked them again");
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
