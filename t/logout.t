# POST /logout and POST /logout-all (API.md sections 3-4): the session
# (or every session of the user) ends at once: its refresh token and its
# access tokens stop working; other users are not touched.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Session;

plan tests => 8, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $A = new_account();
my $B = new_account();

sub logout     { post_json('/logout', undef, Authorization => "Bearer $_[0]") }
sub logout_all { post_json('/logout-all', undef, Authorization => "Bearer $_[0]") }

subtest 'POST /logout ends this session' => sub {
    my $l = new_login($A);
    my $keep = new_login($A);
    my $d1 = refresh_with($l->{refresh_token})->data;     # a second access token
    is(me_status($l->{access_token}), 200, 'the access token works before');
    my $r = logout($l->{access_token});
    is_success($r, 200, 'POST /logout');
    ok(!defined $r->header('Set-Cookie'), 'no cookies without AuthAPITokenCookies');
    is_error(bearer_get('/me', $l->{access_token}), 401, 'INVALID_TOKEN', 'the access token on GET /me');
    is_error(bearer_get('/me', $d1->{access_token}), 401, 'INVALID_TOKEN',
             'an access token of the session from a refresh');
    is_error(get_json('/verify-token', Authorization => "Bearer $l->{access_token}"), 401,
             'INVALID_TOKEN', 'GET /verify-token');
    is_error(refresh_with($d1->{refresh_token}), 401, 'INVALID_TOKEN', 'the current refresh token');
    is_error(refresh_with($l->{refresh_token}), 401, 'INVALID_TOKEN',
             'the rotated one (inside the grace)');
    is(me_status($keep->{access_token}), 200, 'another session of the user: alive');
    is(refresh_with($keep->{refresh_token})->{status}, 200, 'and refreshes');
};

subtest 'POST /logout with a body, and by a session that has refreshed' => sub {
    my $l = new_login($A);
    my $d = refresh_with($l->{refresh_token})->data;
    my $r = post_json('/logout', { refresh_token => $d->{refresh_token} },
                      Authorization => "Bearer $d->{access_token}");
    is($r->{status}, 200, 'logout with a JSON body') or diag($r->{body});
    is(me_status($d->{access_token}), 401, 'access token refused');
    is(refresh_with($d->{refresh_token})->{status}, 401, 'refresh token refused');
};

subtest 'a second logout, and logout without a token' => sub {
    my $l = new_login($A);
    is(logout($l->{access_token})->{status}, 200, 'first logout');
    is_error(logout($l->{access_token}), 401, 'INVALID_TOKEN', 'the same token again');
    my $r = post_json('/logout', undef);
    is_error($r, 401, 'INVALID_TOKEN', 'no token');
    is_error(post_json('/logout', undef, Authorization => 'Bearer x.y.z'), 401,
             'INVALID_TOKEN', 'a garbage token');
    is_error(logout($l->{refresh_token}), 401, 'INVALID_TOKEN', 'a refresh token as bearer');
    is_error(get_json('/logout', Authorization => "Bearer " . new_login($A)->{access_token}),
             405, 'METHOD_NOT_ALLOWED', 'GET /logout');
};

subtest 'a logout does not revive after a refresh of the ended session' => sub {
    my $l = new_login($A);
    is(logout($l->{access_token})->{status}, 200, 'logout');
    my $r = refresh_with($l->{refresh_token});
    is_error($r, 401, 'INVALID_TOKEN', 'refresh of the ended session');
    is(me_status($l->{access_token}), 401, 'the access token stays refused');
};

subtest 'POST /logout-all ends every session of the user' => sub {
    my $u = new_account();
    my @l = map { new_login($u) } 1 .. 3;
    my $d = refresh_with($l[1]{refresh_token})->data;
    my $b = new_login($B);
    is(me_status($_->{access_token}), 200, 'a session works before') for @l;
    my $r = logout_all($l[0]{access_token});
    is_envelope_ok($r, 200, 'POST /logout-all');
    # the registration session and the three logins
    is($r->data->{sessions_ended}, 4, 'data.sessions_ended counts every live session')
        or diag($r->{body});
    for my $i (0 .. $#l) {
        is_error(bearer_get('/me', $l[$i]{access_token}), 401, 'INVALID_TOKEN', "session $i: access token");
        is(refresh_with($l[$i]{refresh_token})->{status}, 401, "session $i: its refresh token");
    }
    is(me_status($u->{access_token}), 401, 'the registration session: access token');
    is(refresh_with($u->{refresh_token})->{status}, 401, 'the registration session: refresh token');
    is(me_status($d->{access_token}), 401, 'a refreshed access token');
    is(refresh_with($d->{refresh_token})->{status}, 401, 'a refreshed refresh token');
    is(me_status($b->{access_token}), 200, 'another user is not touched');
    is(refresh_with($b->{refresh_token})->{status}, 200, 'and still refreshes');
    my $n = login_as($u->{email}, $u->{password});
    is($n->{status}, 200, 'the user can log in again');
    is(me_status($n->data->{access_token} // 'x'), 200, 'and the new session works');
};

subtest 'POST /logout-all with only one session' => sub {
    my $u = new_account();
    my $r = logout_all($u->{access_token});
    is($r->{status}, 200, '200') or diag($r->{body});
    is($r->data->{sessions_ended}, 1, 'sessions_ended 1');
    is(me_status($u->{access_token}), 401, 'the session ended');
    is_error(logout_all($u->{access_token}), 401, 'INVALID_TOKEN', 'again with the dead token');
};

subtest 'POST /logout-all does not end sessions of other users' => sub {
    my @others = map { new_login($B) } 1 .. 2;
    my $u = new_account();
    is(logout_all($u->{access_token})->{status}, 200, 'logout-all of another account');
    is(me_status($_->{access_token}), 200, 'a session of B is alive') for @others;
};

subtest 'logout ends the session for every mount and virtual host' => sub {
    my $l = new_login($A);
    is(logout($l->{access_token})->{status}, 200, 'logout on the default mount');
    {
        local $AAPI::Test::MOUNT = '/other/auth';
        is(me_status($l->{access_token}), 401, 'refused on /other/auth');
    }
    for my $vh (qw(aapi_grace1 aapi_cors aapi_cookies)) {
        Apache::TestRequest::module($vh);
        is(me_status($l->{access_token}), 401, "refused on $vh");
        Apache::TestRequest::module('default');
    }
};
