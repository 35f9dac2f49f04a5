# POST /login (API.md sections 3-4): by email, username or login; a new
# session each time; one indistinguishable 401 for every failure; the same
# hashing time for unknown and known users, also for an account whose hash
# was made under a lower cost: a sign-in hashes its password again under
# the current AuthAPIPasswordHash (never under a lower one).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect ();
use Time::HiRes ();

plan tests => 10, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $PW = strong_password();
my $UN = uniq_username();
my $U = register_user(username => $UN, first_name => 'Lou');
my $E = $U->{email};
my $ID = ($U->{user} || {})->{id} // '';

# Checks a successful login response and that it is USER's.
sub login_ok {
    my ($r, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_envelope_ok($r, 200, $name);
    is($r->{json}{message}, 'Login successful', "$name: message");
    my $d = $r->data;
    is(($d->{user} || {})->{id}, $ID, "$name: data.user is the account");
    like($d->{access_token} // '', qr/^[\w-]+\.[\w-]+\.[\w-]+$/, "$name: access_token");
    is($d->{token_type}, 'Bearer', "$name: token_type");
    is($d->{expires_in}, 900, "$name: expires_in");
    ok(length($d->{refresh_token} // '') >= 43, "$name: refresh_token");
    is($d->{refresh_expires_in}, 2592000, "$name: refresh_expires_in");
    my @secret = grep { /pass|hash|secret|totp/i } keys %{ $d->{user} || {} };
    is("@secret", '', "$name: no secret in the user object");
}

# Returns the number of sessions of the account.
sub sessions { db_query('SELECT COUNT(*) FROM sessions WHERE user_id = ' . sql_quote($ID)) + 0 }

subtest 'the account to log in with' => sub {
    is($U->{status}, 201, 'registered') or diag($U->{res}{body});
    ok(length $ID, 'it has an id');
};

subtest 'login by email, username, or login' => sub {
    login_ok(post_json('/login', { email => $E, password => $PW }), 'by email');
    login_ok(post_json('/login', { username => $UN, password => $PW }), 'by username');
    login_ok(post_json('/login', { login => $E, password => $PW }), 'by login = email');
    login_ok(post_json('/login', { login => $UN, password => $PW }), 'by login = username');
};

subtest 'the email is matched without regard to case' => sub {
    login_ok(post_json('/login', { email => uc $E, password => $PW }), 'upper-case email');
    login_ok(post_json('/login', { login => ucfirst $E, password => $PW }), 'login, capitalised');
    my $wrong_case = post_json('/login', { email => $E, password => lc $PW });
    is_error($wrong_case, 401, 'INVALID_CREDENTIALS', 'the password is matched exactly');
};

subtest 'each login is a new session' => sub {
    my $before = sessions();
    my $a = post_json('/login', { email => $E, password => $PW })->data;
    my $b = post_json('/login', { email => $E, password => $PW })->data;
    ok($a->{refresh_token} && $b->{refresh_token}, 'two refresh tokens');
    isnt($a->{refresh_token}, $b->{refresh_token}, 'refresh tokens differ');
    isnt($a->{access_token}, $b->{access_token}, 'access tokens differ');
    my (undef, $ca) = eval { jwt_decode($a->{access_token}) };
    my (undef, $cb) = eval { jwt_decode($b->{access_token}) };
    ok($ca && $cb && $ca->{sid} && $cb->{sid} && $ca->{sid} ne $cb->{sid},
       'the tokens name different sessions (sid)');
    is(sessions(), $before + 2, 'two more rows in sessions');
    is(bearer_get('/me', $a->{access_token})->{status}, 200, 'the first token still works');
    is(bearer_get('/me', $b->{access_token})->{status}, 200, 'the second token works');
};

subtest 'unknown user, wrong password, disabled account: one identical 401' => sub {
    my $d = register_user();
    is($d->{status}, 201, 'a second account');
    is(login_as($d->{email}, $d->{password})->{status}, 200, 'it can log in');
    db_exec('UPDATE users SET disabled = 1 WHERE email_norm = ' . sql_quote(lc $d->{email}));

    my %r = (
        unknown  => login_as(uniq_email('nobody'), $PW),
        wrong    => login_as($E, 'Wrong-Passw0rd!'),
        disabled => login_as($d->{email}, $d->{password}),
        unknown_username => post_json('/login', { username => uniq_username(), password => $PW }),
        wrong_by_username => post_json('/login', { username => $UN, password => $PW . 'x' }),
        password_prefix => login_as($E, substr($PW, 0, 8)),
    );
    is_error($r{$_}, 401, 'INVALID_CREDENTIALS', $_) for sort keys %r;
    for my $k (qw(wrong disabled unknown_username wrong_by_username password_prefix)) {
        is($r{$k}{body}, $r{unknown}{body}, "$k: body byte-identical to unknown user");
    }
    my $hdr = sub { my $r = shift; join "\n", map { "$_: " . ($r->header($_) // '') }
                    qw(Content-Type Cache-Control WWW-Authenticate Set-Cookie) };
    for my $k (qw(wrong disabled)) {
        is($hdr->($r{$k}), $hdr->($r{unknown}), "$k: same headers as unknown user");
    }
    unlike($r{unknown}{body}, qr/exist|unknown|disabled|wrong password|not found/i,
           'the body does not say which');
};

subtest 'missing fields: 422' => sub {
    my $r = post_json('/login', { email => $E });
    is_error($r, 422, 'VALIDATION_FAILED', 'missing password');
    ok(ref $r->{json}{errors}{password} eq 'ARRAY', 'errors.password') or diag($r->{body});

    $r = post_json('/login', { password => $PW });
    is_error($r, 422, 'VALIDATION_FAILED', 'missing login');
    my @keys = keys %{ ref $r->{json}{errors} eq 'HASH' ? $r->{json}{errors} : {} };
    ok((grep { /^(?:email|username|login)$/ } @keys), 'errors names the login field')
        or diag($r->{body});

    $r = post_json('/login', {});
    is_error($r, 422, 'VALIDATION_FAILED', 'empty object');
    ok(ref $r->{json}{errors}{password} eq 'ARRAY', 'errors.password too') or diag($r->{body});
};

subtest 'a failed login creates no session' => sub {
    my $before = sessions();
    login_as($E, 'Wrong-Passw0rd!') for 1 .. 3;
    is(sessions(), $before, 'no new sessions row');
};

subtest 'logins on the second mount and on a virtual host share the account' => sub {
    {
        local $AAPI::Test::MOUNT = '/other/auth';
        login_ok(post_json('/login', { email => $E, password => $PW }), 'on /other/auth');
    }
    Apache::TestRequest::module('aapi_hs512');
    my $r = post_json('/login', { email => $E, password => $PW });
    Apache::TestRequest::module('default');
    is($r->{status}, 200, 'on the HS512 virtual host') or diag($r->{body});
};

subtest 'timing: unknown user vs wrong password (bcrypt 10)' => sub {
    Apache::TestRequest::module('aapi_slowhash');
    my $u = register_user();
    is($u->{status}, 201, 'account on the bcrypt-10 host') or diag($u->{res}{body});
    my $login = sub { my @b = @_; sub { post_json('/login', { email => $b[0], password => $b[1] }) } };
    same_time(unknown => sub { $login->(uniq_email('ghost'), 'Wrong-Passw0rd!')->() },
              wrong => $login->($u->{email}, 'Wrong-Passw0rd!'),
              status => 401, name => 'POST /login');
    Apache::TestRequest::module('default');
};

# The cost in the stored bcrypt hash of the account with address EMAIL.
sub stored_cost {
    my $h = db_query('SELECT password_hash FROM users WHERE email_norm = '
                     . sql_quote(lc shift)) // '';
    return $h =~ /^\$2[aby]\$(\d\d)\$/ ? $1 + 0 : "not bcrypt: $h";
}

subtest 'a sign-in under a higher cost hashes the password again' => sub {
    # made on the main server, bcrypt 4
    my $u = register_user();
    is($u->{status}, 201, 'account made under cost 4') or diag($u->{res}{body});
    is(stored_cost($u->{email}), 4, 'stored with cost 4');
    my $pw = strong_password();

    Apache::TestRequest::module('aapi_slowhash');
    my $r = post_json('/login', { email => $u->{email}, password => 'Wrong-Passw0rd!' });
    is($r->{status}, 401, 'a wrong password on the bcrypt-10 host: 401');
    is(stored_cost($u->{email}), 4, '... changes nothing');
    $r = post_json('/login', { email => $u->{email}, password => $pw });
    is($r->{status}, 200, 'signed in on the bcrypt-10 host') or diag($r->{body});
    is(stored_cost($u->{email}), 10, 'stored with cost 10 now');
    my $token = $r->{status} == 200 ? $r->data->{access_token} : '';
    is(get_json('/me', Authorization => "Bearer $token")->{status}, 200,
       'the session of that sign-in lives');
    Apache::TestRequest::module('default');

    is(post_json('/login', { email => $u->{email}, password => $pw })->{status},
       200, 'the same password on the main server');
    is(stored_cost($u->{email}), 10, 'not hashed down to cost 4 there');
    is(get_json('/me', Authorization => "Bearer $u->{access_token}")->{status},
       200, 'the first session lives on: no session ended');

    # Basic does the same (an account made under cost 4 again)
    my $v = register_user();
    Apache::TestRequest::module('aapi_slowhash');
    $r = AAPI::Protect::preq('GET', '/protected/basic/hello.txt',
        [ Authorization => AAPI::Protect::basic_auth($v->{email}, $pw) ]);
    Apache::TestRequest::module('default');
    is($r->{status}, 200, 'Basic on the bcrypt-10 host');
    is(stored_cost($v->{email}), 10, 'Basic: stored with cost 10 now');
};
