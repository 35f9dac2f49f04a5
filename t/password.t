# POST /change-password and DELETE /me (API.md sections 3-4): a wrong
# current password is a 422 (the module's choice: not 401, which clients
# would take for a dead token); a new password follows the policy; a change
# ends every other session of the user at once; deleting the account ends
# all its sessions and frees its address.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Session;
use Time::HiRes ();

plan tests => 11, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $NEW = 'N3w-Secr3t!Phrase-x';

sub change_pw {
    my ($tok, $body) = @_;
    return post_json('/change-password', $body, Authorization => "Bearer $tok");
}

sub delete_me {
    my ($tok, $body) = @_;
    return delete_json('/me', $body, Authorization => "Bearer $tok");
}

# Checks that R is a 422 naming FIELD in errors; NAME for the messages.
sub field_error {
    my ($r, $field, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_error($r, 422, 'VALIDATION_FAILED', $name);
    ok(ref(($r->{json} || {})->{errors}) eq 'HASH' && ref $r->{json}{errors}{$field} eq 'ARRAY'
       && @{ $r->{json}{errors}{$field} }, "$name: errors.$field") or diag($r->{body});
}

subtest 'wrong current password: 422 errors.current_password, nothing changes' => sub {
    my $u = new_account();
    my $other = new_login($u);
    my $r = change_pw($u->{access_token}, { current_password => 'Wrong-Passw0rd!', new_password => $NEW });
    field_error($r, 'current_password', 'wrong current password');
    ok(!$r->header('WWW-Authenticate'), 'no WWW-Authenticate: the token is fine');
    is(me_status($u->{access_token}), 200, 'this session alive');
    is(me_status($other->{access_token}), 200, 'the other session alive');
    is(login_as($u->{email}, $u->{password})->{status}, 200, 'the old password still works');
    is(login_as($u->{email}, $NEW)->{status}, 401, 'the new one does not');
    $r = change_pw($u->{access_token}, { current_password => lc $u->{password}, new_password => $NEW });
    field_error($r, 'current_password', 'current password in the wrong case');
};

subtest 'the new password must pass the policy' => sub {
    # an address that would pass the policy as a password
    my $u = new_account(email => 'Ab1.' . uniq_email());
    my %bad = (
        'too short'        => 'Sh0rt!',
        'no uppercase'     => 'lower-case-only-1!',
        'no digit'         => 'No-Digits-Here!!',
        'a common one'     => 'Password123!',
        'the email'        => $u->{email},
        'over 72 bytes'    => 'Aa1!' . ('x' x 80),
    );
    for my $k (sort keys %bad) {
        my $r = change_pw($u->{access_token}, { current_password => $u->{password}, new_password => $bad{$k} });
        field_error($r, 'new_password', "new password $k");
    }
    is(login_as($u->{email}, $u->{password})->{status}, 200, 'the password is unchanged');
};

subtest 'missing or mistyped fields: 422' => sub {
    my $u = new_account();
    field_error(change_pw($u->{access_token}, { new_password => $NEW }), 'current_password', 'no current_password');
    field_error(change_pw($u->{access_token}, { current_password => $u->{password} }), 'new_password', 'no new_password');
    field_error(change_pw($u->{access_token}, { current_password => $u->{password}, new_password => 12345678 }),
                'new_password', 'new_password a number');
    field_error(change_pw($u->{access_token}, { current_password => $u->{password}, new_password => '' }),
                'new_password', 'new_password empty');
    is_error(change_pw($u->{access_token}, '{"current_password":'), 400, 'INVALID_JSON', 'broken JSON');
    is_error(post_json('/change-password', { current_password => $u->{password}, new_password => $NEW }),
             401, 'INVALID_TOKEN', 'no token');
    is(login_as($u->{email}, $u->{password})->{status}, 200, 'the password is unchanged');
};

subtest 'success: other sessions end at once, this one stays' => sub {
    my $u = new_account();
    my @others = map { new_login($u) } 1 .. 2;
    my $d = refresh_with($others[0]{refresh_token})->data;
    my $me = new_login($u);
    my $b = new_account();
    my $r = change_pw($me->{access_token}, { current_password => $u->{password}, new_password => $NEW });
    is_success($r, 200, 'POST /change-password');
    for my $i (0 .. $#others) {
        is_error(bearer_get('/me', $others[$i]{access_token}), 401, 'INVALID_TOKEN', "other session $i: access token");
        is_error(refresh_with($others[$i]{refresh_token}), 401, 'INVALID_TOKEN', "other session $i: refresh token");
    }
    is(me_status($u->{access_token}), 401, 'the registration session: access token');
    is(refresh_with($u->{refresh_token})->{status}, 401, 'the registration session: refresh token');
    is(me_status($d->{access_token}), 401, 'a refreshed access token of another session');
    is(refresh_with($d->{refresh_token})->{status}, 401, 'a refreshed refresh token of another session');
    is(me_status($me->{access_token}), 200, 'this session: access token works');
    my $n = refresh_with($me->{refresh_token});
    is($n->{status}, 200, 'this session: refresh token works') or diag($n->{body});
    is(me_status($n->data->{access_token} // 'x'), 200, 'and the refreshed access token');
    my (undef, $list) = (undef, bearer_get('/sessions', $me->{access_token})->data->{sessions} || []);
    is_deeply([map { $_->{id} } @$list], [sid_of($me->{access_token})], 'only this session is listed');
    is_error(login_as($u->{email}, $u->{password}), 401, 'INVALID_CREDENTIALS', 'the old password fails');
    my $l = login_as($u->{email}, $NEW);
    is($l->{status}, 200, 'the new password logs in') or diag($l->{body});
    is(me_status($b->{access_token}), 200, 'another user is not touched');
};

subtest 'the camelCase aliases' => sub {
    my $u = new_account();
    my $r = change_pw($u->{access_token}, { currentPassword => $u->{password}, newPassword => $NEW });
    is($r->{status}, 200, 'currentPassword, newPassword') or diag($r->{body});
    is(login_as($u->{email}, $NEW)->{status}, 200, 'changed');
    $r = change_pw($u->{access_token}, { currentPassword => 'Wrong-Passw0rd!', newPassword => $u->{password} });
    field_error($r, 'current_password', 'a wrong currentPassword');
};

subtest 'change twice; a dead session cannot change the password' => sub {
    my $u = new_account();
    my $other = new_login($u);
    is(change_pw($u->{access_token}, { current_password => $u->{password}, new_password => $NEW })->{status},
       200, 'first change');
    my $r = change_pw($other->{access_token}, { current_password => $NEW, new_password => 'Th1rd-Pass!word' });
    is_error($r, 401, 'INVALID_TOKEN', 'from a session the change ended');
    is(change_pw($u->{access_token}, { current_password => $NEW, new_password => 'Th1rd-Pass!word' })->{status},
       200, 'second change from the surviving session');
    is(login_as($u->{email}, 'Th1rd-Pass!word')->{status}, 200, 'the third password works');
    is(login_as($u->{email}, $NEW)->{status}, 401, 'the second does not');
};

subtest 'DELETE /me: wrong or missing password: 422, nothing deleted' => sub {
    my $u = new_account();
    my $r = delete_me($u->{access_token}, { password => 'Wrong-Passw0rd!' });
    field_error($r, 'password', 'wrong password');
    ok(!$r->header('WWW-Authenticate'), 'no WWW-Authenticate');
    field_error(delete_me($u->{access_token}, {}), 'password', 'no password');
    field_error(delete_me($u->{access_token}, { password => 42 }), 'password', 'password a number');
    $r = delete_me($u->{access_token}, undef);
    like($r->{status}, qr/^(?:400|422)$/, 'no body at all: 400 or 422') or diag($r->{body});
    is_error(delete_json('/me', { password => $u->{password} }), 401, 'INVALID_TOKEN', 'no token');
    is(me_status($u->{access_token}), 200, 'the account is there');
    is(user_count($u->{email}), 1, 'in the database too');
};

subtest 'DELETE /me: the account and all its sessions are gone' => sub {
    my $u = new_account(username => uniq_username());
    my $other = new_login($u);
    my $d = refresh_with($other->{refresh_token})->data;
    my $b = new_account();
    my $r = delete_me($u->{access_token}, { password => $u->{password} });
    is_success($r, 200, 'DELETE /me');
    is(user_count($u->{email}), 0, 'no account row');
    my $uid = $u->{user}{id};
    is(db_query('SELECT COUNT(*) FROM sessions WHERE user_id = ' . sql_quote($uid)) + 0, 0, 'no session rows');
    for my $t ([$u->{access_token}, 'this session'], [$other->{access_token}, 'another session'],
               [$d->{access_token}, 'a refreshed access token']) {
        is_error(bearer_get('/me', $t->[0]), 401, 'INVALID_TOKEN', "$t->[1]: GET /me");
    }
    is_error(bearer_get('/sessions', $u->{access_token}), 401, 'INVALID_TOKEN', 'GET /sessions');
    is_error(refresh_with($d->{refresh_token}), 401, 'INVALID_TOKEN', 'a refresh token');
    is_error(refresh_with($u->{refresh_token}), 401, 'INVALID_TOKEN', 'the registration refresh token');
    is_error(login_as($u->{email}, $u->{password}), 401, 'INVALID_CREDENTIALS', 'login by email');
    is_error(post_json('/login', { username => $u->{fields}{username}, password => $u->{password} }),
             401, 'INVALID_CREDENTIALS', 'login by username');
    is_error(delete_me($u->{access_token}, { password => $u->{password} }), 401, 'INVALID_TOKEN',
             'DELETE /me again');
    is(me_status($b->{access_token}), 200, 'another user is not touched');
};

subtest 'DELETE /me: the address and username can be registered again' => sub {
    my $un = uniq_username();
    my $u = new_account(username => $un);
    is(delete_me($u->{access_token}, { password => $u->{password} })->{status}, 200, 'deleted');
    my $again = register_user(email => uc $u->{email}, username => $un);
    is($again->{status}, 201, 'the same address (another case) and username: 201') or diag($again->{res}{body});
    isnt(($again->{user} || {})->{id}, $u->{user}{id}, 'a new account id');
    is(me_status($again->{access_token} // 'x'), 200, 'the new account works');
    is(me_status($u->{access_token}), 401, 'the old token does not open the new account');
    is_error(refresh_with($u->{refresh_token}), 401, 'INVALID_TOKEN', 'nor the old refresh token');
};

subtest 'the alias /profile deletes too' => sub {
    my $u = new_account();
    my $r = delete_json('/profile', { password => $u->{password} }, Authorization => "Bearer $u->{access_token}");
    is($r->{status}, 200, 'DELETE /profile') or diag($r->{body});
    is(user_count($u->{email}), 0, 'gone');
};

subtest 'a login with the old password racing the change never leaves a session alive' => sub {
    # bcrypt 10 (aapi_slowhash): a login spends long enough between reading
    # the password hash and creating its session for a change to land there
    Apache::TestRequest::module('aapi_slowhash');
    my @found;
    for my $round (1 .. 8) {
        my $u = new_account();
        my $me = new_login($u);
        my $t0 = Time::HiRes::time() + 0.3;
        my @res = parallel(7, sub {
            my $i = shift;
            if ($i == 0) {
                Time::HiRes::sleep($t0 - Time::HiRes::time());
                return { change => change_pw($me->{access_token},
                             { current_password => $u->{password}, new_password => $NEW })->{status} };
            }
            # logins with the old password, started 40 ms apart
            Time::HiRes::sleep($t0 + 0.04 * $i - Time::HiRes::time());
            my $r = login_as($u->{email}, $u->{password});
            return { login => $r->{status}, at => $r->data->{access_token} };
        }, 90);
        push @found, "round $round: the change gave " . ($res[0]{change} // $res[0]{error})
            unless ($res[0]{change} // 0) == 200;
        my @alive = grep { ($_->{login} // 0) == 200 && me_status($_->{at}) != 401 } @res[1 .. $#res];
        push @found, "round $round: " . scalar(@alive) . ' session(s) of an old-password login alive after the change'
            if @alive;
        last if @found;
    }
    is(scalar @found, 0, 'no session authenticated by the old password survives the change')
        or diag(join "\n", @found);
    Apache::TestRequest::module('default');
};
