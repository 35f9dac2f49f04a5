# GET /sessions and DELETE /sessions/{id} (API.md section 3): the user's
# live sessions, the caller's marked current; ending one of them; other
# users' sessions are not found.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Session;
use Time::HiRes ();
use Time::Local ();

plan tests => 10, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $RFC3339 = qr/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?Z$/;

# Returns the epoch seconds of an RFC 3339 UTC timestamp, or undef.
sub epoch_of {
    my @f = ($_[0] // '') =~ $RFC3339 or return undef;
    return Time::Local::timegm($f[5], $f[4], $f[3], $f[2], $f[1] - 1, $f[0]);
}

sub list_of {
    my $tok = shift;
    my $r = bearer_get('/sessions', $tok, @_);
    return ($r, ref $r->data->{sessions} eq 'ARRAY' ? $r->data->{sessions} : []);
}

sub end_session {
    my ($tok, $id) = @_;
    return delete_json("/sessions/$id", undef, Authorization => "Bearer $tok");
}

my $A = new_account();
my $B = new_account();

subtest 'GET /sessions lists the live sessions, current marked' => sub {
    my $u = new_account();
    my $t0 = time;
    my @l = map { new_login($u) } 1 .. 2;
    my ($r, $list) = list_of($l[0]{access_token});
    is_envelope_ok($r, 200, 'GET /sessions');
    is(scalar @$list, 3, 'three sessions: the registration and two logins') or diag($r->{body});
    my %by_id = map { ($_->{id} // '') => $_ } @$list;
    my @sids = map { sid_of($_) } $u->{access_token}, map { $_->{access_token} } @l;
    is_deeply([sort keys %by_id], [sort @sids], 'the ids are the sessions (sid claims)');
    my @current = grep { JSON::PP::is_bool($_->{current}) && $_->{current} } @$list;
    is(scalar @current, 1, 'exactly one is current');
    is($current[0]{id}, $sids[1], 'the caller\'s session is current');
    ok(!grep({ !JSON::PP::is_bool($_->{current}) } @$list), 'current is a JSON boolean everywhere');
    for my $s (@$list) {
        my $n = substr($s->{id} // '', 0, 8);
        is_deeply([sort keys %$s],
                  [sort qw(id current created_at last_used_at expires_at ip user_agent)],
                  "$n: the members") or diag(explain $s);
        like($s->{$_} // '', $RFC3339, "$n: $_ is RFC 3339 UTC") for qw(created_at last_used_at expires_at);
        my ($c, $e) = (epoch_of($s->{created_at}), epoch_of($s->{expires_at}));
        ok(defined $c && abs($c - $t0) <= 60, "$n: created_at is now");
        ok(defined $e && defined $c && abs($e - $c - 30 * 86400) <= 60,
           "$n: expires_at is created_at + AuthAPIRefreshTTL (30 d)");
        is($s->{ip}, '127.0.0.1', "$n: ip");
        is($s->{user_agent}, 'aapi-test/1', "$n: user_agent");
        unlike(join(' ', keys %$s), qr/hash|token|secret/i, "$n: no token or hash member");
    }
    my ($r2, $list2) = list_of($l[1]{access_token});
    my @cur2 = grep { $_->{current} } @$list2;
    is(scalar @cur2, 1, 'from another session: one current');
    is($cur2[0]{id}, $sids[2], 'that session');
};

subtest 'the user agent and last use are recorded' => sub {
    my $u = new_account();
    my $r = post_json('/login', { email => $u->{email}, password => $u->{password} },
                      'User-Agent' => 'Browser/9 (test)');
    my $d = $r->data;
    my ($lr, $list) = list_of($d->{access_token});
    my ($s) = grep { $_->{id} eq sid_of($d->{access_token}) } @$list;
    is($s && $s->{user_agent}, 'Browser/9 (test)', 'the login\'s User-Agent');
    my $before = epoch_of($s && $s->{last_used_at});
    Time::HiRes::sleep(2.1);
    my $n = refresh_with($d->{refresh_token})->data;
    ($lr, $list) = list_of($n->{access_token});
    ($s) = grep { $_->{id} eq sid_of($d->{access_token}) } @$list;
    my $after = epoch_of($s && $s->{last_used_at});
    ok(defined $before && defined $after && $after >= $before + 2,
       'last_used_at moves on with a refresh')
        or diag("before " . ($before // 'undef') . ", after " . ($after // 'undef'));
};

subtest 'any User-Agent header: login works, the list shows it as text' => sub {
    my $u = new_account();
    my $long_utf8 = ('a' x 511) . ("\xc3\xa9" x 50);     # a cut at 512 bytes splits a character
    my @cases = (
        [ 'a long ASCII User-Agent', 'x' x 600, 'x' x 100 ],
        [ 'a long UTF-8 User-Agent', $long_utf8, 'a' x 100 ],
        [ 'a Latin-1 byte (obs-text)', "Mozilla/5.0 caf\xe9", 'Mozilla/5.0 caf' ],
    );
    for my $c (@cases) {
        my ($name, $ua, $prefix) = @$c;
        my $r = post_json('/login', { email => $u->{email}, password => $u->{password} }, 'User-Agent' => $ua);
        is($r->{status}, 200, "$name: login") or diag($r->{body});
        my $tok = $r->data->{access_token} // 'x';
        my ($lr, $list) = list_of($tok);
        is($lr->{status}, 200, "$name: GET /sessions") or diag($lr->{body});
        my ($s) = grep { $_->{id} eq sid_of($tok) } @$list;
        ok($s && defined $s->{user_agent} && !ref $s->{user_agent}, "$name: user_agent is a string")
            or diag(explain $s);
        like($s && $s->{user_agent} // '', qr/^\Q$prefix\E/, "$name: it starts as the header does");
        cmp_ok(length($s && $s->{user_agent} // ''), '<=', 600, "$name: bounded");
    }
    my $r = request_json('POST', '/register', { email => uniq_email(), password => strong_password() },
                         'User-Agent' => "Reg/1 \xff\xfe");
    is($r->{status}, 201, 'register with a non-UTF-8 User-Agent') or diag($r->{body});
};

subtest 'ended sessions and other users\' sessions are not listed' => sub {
    my $u = new_account();
    my $l = new_login($u);
    my $b = new_login($B);
    is(post_json('/logout', undef, Authorization => "Bearer $l->{access_token}")->{status}, 200,
       'one session logged out');
    my ($r, $list) = list_of($u->{access_token});
    is_deeply([map { $_->{id} } @$list], [sid_of($u->{access_token})], 'only the live session')
        or diag($r->{body});
    ok(!grep({ $_->{id} eq sid_of($b->{access_token}) } @$list), 'no session of another user');
};

subtest 'DELETE /sessions/{id} ends one of the user\'s sessions' => sub {
    my $u = new_account();
    my $other = new_login($u);
    my $d = refresh_with($other->{refresh_token})->data;
    my $sid = sid_of($other->{access_token});
    my $r = end_session($u->{access_token}, $sid);
    is_success($r, 200, 'DELETE /sessions/{id}');
    is_error(bearer_get('/me', $other->{access_token}), 401, 'INVALID_TOKEN', 'its access token');
    is_error(bearer_get('/me', $d->{access_token}), 401, 'INVALID_TOKEN', 'its refreshed access token');
    is_error(refresh_with($d->{refresh_token}), 401, 'INVALID_TOKEN', 'its refresh token');
    is(me_status($u->{access_token}), 200, 'the caller\'s session is alive');
    my (undef, $list) = list_of($u->{access_token});
    is_deeply([map { $_->{id} } @$list], [sid_of($u->{access_token})], 'no longer listed');
    is_error(end_session($u->{access_token}, $sid), 404, 'NOT_FOUND', 'the same id again');
};

subtest 'DELETE /sessions/{id}: unknown and other users\' ids are not found' => sub {
    my $u = new_account();
    my $b = new_login($B);
    my $bsid = sid_of($b->{access_token});
    my $r = end_session($u->{access_token}, $bsid);
    is_error($r, 404, 'NOT_FOUND', 'another user\'s session');
    is(me_status($b->{access_token}), 200, 'it is alive');
    is(refresh_with($b->{refresh_token})->{status}, 200, 'and refreshes');
    my $unknown = end_session($u->{access_token}, '0123456789abcdef0123456789abcdef');
    is_error($unknown, 404, 'NOT_FOUND', 'an unknown id');
    is($r->{body}, $unknown->{body}, 'another user\'s id and an unknown id: the same body');
    is_error(end_session($u->{access_token}, 'x'), 404, 'NOT_FOUND', 'a short id');
    is_error(end_session($u->{access_token}, "' OR '1'='1"), 404, 'NOT_FOUND', 'an SQL-ish id');
    is(me_status($u->{access_token}), 200, 'the caller is alive');
    is(me_status($b->{access_token}), 200, 'B is alive after all that');
};

subtest 'DELETE /sessions/{own current id} ends the caller\'s session' => sub {
    my $u = new_account();
    my $r = end_session($u->{access_token}, sid_of($u->{access_token}));
    is($r->{status}, 200, '200') or diag($r->{body});
    is(me_status($u->{access_token}), 401, 'the access token is refused');
    is(refresh_with($u->{refresh_token})->{status}, 401, 'the refresh token is refused');
};

subtest 'authentication and methods' => sub {
    is_error(get_json('/sessions'), 401, 'INVALID_TOKEN', 'GET /sessions without a token');
    is_error(delete_json('/sessions/abc'), 401, 'INVALID_TOKEN', 'DELETE /sessions/x without a token');
    my $u = new_account();
    my $l = new_login($u);
    is(post_json('/logout', undef, Authorization => "Bearer $l->{access_token}")->{status}, 200, 'logout');
    is_error(bearer_get('/sessions', $l->{access_token}), 401, 'INVALID_TOKEN',
             'GET /sessions with an ended session\'s token');
    is_error(end_session($l->{access_token}, sid_of($u->{access_token})), 401, 'INVALID_TOKEN',
             'DELETE with an ended session\'s token');
    is(me_status($u->{access_token}), 200, 'the target session survived');
    my $r = post_json('/sessions', {}, Authorization => "Bearer $u->{access_token}");
    is_error($r, 405, 'METHOD_NOT_ALLOWED', 'POST /sessions');
    $r = request_json('GET', '/sessions/' . sid_of($u->{access_token}), undef,
                      Authorization => "Bearer $u->{access_token}");
    is_error($r, 405, 'METHOD_NOT_ALLOWED', 'GET /sessions/{id}');
};

subtest 'a session expired by time is not listed and cannot be ended' => sub {
    Apache::TestRequest::module('aapi_shortrefresh');
    my $u = new_account();
    my $l = new_login($u);
    my (undef, $list) = list_of($u->{access_token});
    is(scalar @$list, 2, 'two sessions') or diag(explain $list);
    Time::HiRes::sleep(3.1);     # AuthAPIRefreshTTL 2s: both have expired
    # their access tokens (AuthAPIAccessTTL 15m) end with them, once the
    # session state trusted for AuthAPISessionCacheTTL (1s here) runs out
    is(me_status($l->{access_token}), 401, 'an access token of an expired session: 401');
    is(me_status($u->{access_token}), 401, 'the other one, used before the expiry: 401');
    my $m = new_login($u);
    my (undef, $list2) = list_of($m->{access_token});
    is_deeply([map { $_->{id} } @$list2], [sid_of($m->{access_token})],
              'only the new session is listed');
    is_error(end_session($m->{access_token}, sid_of($l->{access_token})), 404, 'NOT_FOUND',
             'ending an expired session: not found');
    Apache::TestRequest::module('default');
};

subtest 'answers without a payload still carry the data member of the envelope' => sub {
    # API.md section 2: { "success": true, "message": ..., "data": { ... } }
    my $u = new_account();
    my @l = map { new_login($u) } 1 .. 3;
    my %r;
    $r{'DELETE /sessions/{id}'} = end_session($u->{access_token}, sid_of($l[0]{access_token}));
    $r{'POST /logout'} = post_json('/logout', undef, Authorization => "Bearer $l[1]{access_token}");
    $r{'POST /change-password'} = post_json('/change-password',
        { current_password => $u->{password}, new_password => 'N3w-Secr3t!Phrase-x' },
        Authorization => "Bearer $l[2]{access_token}");
    $r{'DELETE /me'} = delete_json('/me', { password => 'N3w-Secr3t!Phrase-x' },
                                   Authorization => "Bearer $l[2]{access_token}");
    for my $k (sort keys %r) {
        is_envelope_ok($r{$k}, 200, $k);
        is(ref(($r{$k}{json} || {})->{data}), 'HASH', "$k: data is an object");
    }
};
