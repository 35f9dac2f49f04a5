# POST /refresh (API.md sections 3-4): rotation, the reuse grace, reuse
# detection that ends the whole session, one identical 401 for every bad
# refresh token, parallel refreshes of one token, a logout racing a refresh;
# a session's history of rotated tokens stays bounded (the newest 256, none
# past the refresh lifetime).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Session;
use Time::HiRes ();

plan tests => 17, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $A = new_account();
my $UID = $A->{user}{id};

# Checks that refresh token RT, access token AT (when given) and the
# session they belong to are dead; NAME for the messages.
sub session_dead {
    my ($name, $rt, @at) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_error(refresh_with($rt), 401, 'INVALID_TOKEN', "$name: the refresh token") if defined $rt;
    for my $i (0 .. $#at) {
        my $r = bearer_get('/me', $at[$i]);
        is_error($r, 401, 'INVALID_TOKEN', "$name: access token $i on GET /me");
    }
}

subtest 'a refresh rotates the refresh token and keeps the session' => sub {
    my $l = new_login($A);
    my $r = refresh_with($l->{refresh_token});
    my $d = token_response_ok($r, 200, 'Token refreshed', $UID, 'POST /refresh');
    isnt($d->{refresh_token}, $l->{refresh_token}, 'a new refresh token');
    isnt($d->{access_token}, $l->{access_token}, 'a new access token');
    ok(length sid_of($l->{access_token}), 'the login access token has a sid');
    is(sid_of($d->{access_token}), sid_of($l->{access_token}), 'the same session (sid)');
    my (undef, $c) = jwt_decode($d->{access_token});
    is($c->{sub}, $UID, 'sub is the user');
    is(bearer_get('/me', $d->{access_token})->{status}, 200, 'the new access token works');
    my $r2 = refresh_with($d->{refresh_token});
    my $d2 = token_response_ok($r2, 200, 'Token refreshed', $UID, 'the new refresh token refreshes');
    isnt($d2->{refresh_token}, $d->{refresh_token}, 'and rotates again');
    is(sid_of($d2->{access_token}), sid_of($l->{access_token}), 'still the same session');
};

subtest 'the refreshToken alias' => sub {
    my $l = new_login($A);
    my $r = refresh_with($l->{refresh_token}, field => 'refreshToken');
    my $d = token_response_ok($r, 200, 'Token refreshed', $UID, 'refreshToken');
    is(sid_of($d->{access_token}), sid_of($l->{access_token}), 'the same session');
};

subtest 'within the grace: the just-rotated token gives the same successor' => sub {
    my $l = new_login($A);
    my $t0 = $l->{refresh_token};
    my $d1 = refresh_with($t0)->data;
    ok($d1->{refresh_token}, 'first rotation');
    my $again = refresh_with($t0);
    my $d1b = token_response_ok($again, 200, 'Token refreshed', $UID, 'the rotated token again');
    is($d1b->{refresh_token}, $d1->{refresh_token}, 'the same new refresh token as the first rotation');
    is(sid_of($d1b->{access_token}), sid_of($l->{access_token}), 'the same session');
    is(bearer_get('/me', $d1b->{access_token})->{status}, 200, 'its access token works');
    my $third = refresh_with($t0)->data;
    is($third->{refresh_token}, $d1->{refresh_token}, 'a third presentation: still the same');
    my $d2 = refresh_with($d1->{refresh_token});
    is($d2->{status}, 200, 'the successor refreshes') or diag($d2->{body});
    is(bearer_get('/me', $l->{access_token})->{status}, 200, 'the session is alive');
};

subtest 'a token rotated two generations back is reuse: the session ends' => sub {
    my $l = new_login($A);
    my $other = new_login($A);
    my $t0 = $l->{refresh_token};
    my $d1 = refresh_with($t0)->data;
    my $d2 = refresh_with($d1->{refresh_token})->data;
    ok($d1->{refresh_token} && $d2->{refresh_token}, 'two rotations');
    my $r = refresh_with($t0);
    is_error($r, 401, 'INVALID_TOKEN', 'the token two generations back (inside the grace)');
    session_dead('after the reuse', $d2->{refresh_token},
                 $l->{access_token}, $d1->{access_token}, $d2->{access_token});
    is_error(refresh_with($d1->{refresh_token}), 401, 'INVALID_TOKEN', 'the middle token too');
    is(me_status($other->{access_token}), 200, 'another session of the user is not touched');
    is(refresh_with($other->{refresh_token})->{status}, 200, 'and refreshes');
};

subtest 'after the grace (1 s): reuse ends the whole session' => sub {
    Apache::TestRequest::module('aapi_grace1');
    my $l = new_login($A);
    my $d1 = refresh_with($l->{refresh_token})->data;
    ok($d1->{refresh_token}, 'rotated') or diag(explain $d1);
    Time::HiRes::sleep(2.5);
    my $r = refresh_with($l->{refresh_token});
    is_error($r, 401, 'INVALID_TOKEN', 'the rotated token after the grace');
    like($r->header('WWW-Authenticate') // '', qr/^Bearer\b.*error="invalid_token"/,
         'WWW-Authenticate: Bearer error="invalid_token"');
    session_dead('after the reuse', $d1->{refresh_token}, $l->{access_token}, $d1->{access_token});
    my $list = bearer_get('/sessions', new_login($A)->{access_token})->data->{sessions} || [];
    ok(!grep({ $_->{id} eq sid_of($l->{access_token}) } @$list), 'the session is not listed any more');
    Apache::TestRequest::module('default');
};

subtest 'after the grace (1 s): the current token still refreshes' => sub {
    Apache::TestRequest::module('aapi_grace1');
    my $l = new_login($A);
    my $d1 = refresh_with($l->{refresh_token})->data;
    Time::HiRes::sleep(2.2);
    my $r = refresh_with($d1->{refresh_token});
    is($r->{status}, 200, 'an unused token does not expire with the grace') or diag($r->{body});
    Apache::TestRequest::module('default');
};

subtest 'AuthAPIRefreshReuseGrace 0: any second use of a rotated token is reuse' => sub {
    Apache::TestRequest::module('aapi_grace0');
    my $l = new_login($A);
    my $d1 = refresh_with($l->{refresh_token});
    is($d1->{status}, 200, 'the first use rotates') or diag($d1->{body});
    my $r = refresh_with($l->{refresh_token});
    is_error($r, 401, 'INVALID_TOKEN', 'the rotated token at once again');
    session_dead('after the reuse', $d1->data->{refresh_token}, $l->{access_token},
                 $d1->data->{access_token} // 'x');
    Apache::TestRequest::module('default');
};

subtest 'AuthAPIRefreshReuseGrace 1s: a reuse 1.6 s after the rotation is refused' => sub {
    Apache::TestRequest::module('aapi_grace1');
    my $l = new_login($A);
    # rotate just after a whole second, reuse 1.6 s later: a window kept in
    # whole seconds must not stretch to two seconds
    my $now = Time::HiRes::time();
    Time::HiRes::sleep(1.05 - ($now - int $now));
    my $t = Time::HiRes::time();
    my $d1 = refresh_with($l->{refresh_token});
    is($d1->{status}, 200, 'rotated') or diag($d1->{body});
    Time::HiRes::sleep($t + 1.6 - Time::HiRes::time());
    my $r = refresh_with($l->{refresh_token});
    is_error($r, 401, 'INVALID_TOKEN', 'the rotated token 1.6 s later');
    is(me_status($l->{access_token}), 401, 'the session ended');
    Apache::TestRequest::module('default');
};

subtest 'unknown, malformed, expired, access token: one identical 401' => sub {
    Apache::TestRequest::module('aapi_shortrefresh');
    my $short = new_login($A);
    is($short->{refresh_expires_in}, 2, 'refresh_expires_in follows AuthAPIRefreshTTL 2s');
    my $t_expire = Time::HiRes::time() + 3.2;
    Apache::TestRequest::module('default');

    my $l = new_login($A);
    my $valid = $l->{refresh_token};
    my $unknown = b64u_enc(join '', map { chr int rand 256 } 1 .. 32);
    (my $flipped = $valid) =~ s/^(.)/$1 eq 'A' ? 'B' : 'A'/e;
    my %r = (
        unknown            => refresh_with($unknown),
        'one char changed' => refresh_with($flipped),
        'too short'        => refresh_with(substr $valid, 0, 20),
        'too long'         => refresh_with($valid . 'AAAA'),
        'not base64url'    => refresh_with(('!' x 43)),
        'with a space'     => refresh_with(substr($valid, 0, 20) . ' ' . substr($valid, 21)),
        'huge'             => refresh_with('A' x 4000),
        'empty'            => refresh_with(''),
        'missing'          => post_json('/refresh', {}),
        'no body'          => post_json('/refresh', undef),
        'access token'     => refresh_with($l->{access_token}),
        'access token (refreshToken)' => refresh_with($l->{access_token}, field => 'refreshToken'),
    );
    Time::HiRes::sleep($t_expire - Time::HiRes::time()) if $t_expire > Time::HiRes::time();
    Apache::TestRequest::module('aapi_shortrefresh');
    $r{expired} = refresh_with($short->{refresh_token});
    Apache::TestRequest::module('default');

    for my $k (sort keys %r) {
        is_error($r{$k}, 401, 'INVALID_TOKEN', $k);
        is($r{$k}{body}, $r{unknown}{body}, "$k: the body is byte-identical to unknown");
        like($r{$k}->header('WWW-Authenticate') // '', qr/^Bearer\b.*error="invalid_token"/,
             "$k: WWW-Authenticate");
    }
    is(refresh_with($valid)->{status}, 200, 'the valid token was not harmed by the attempts');
};

subtest 'an expired session cannot be revived; a live one slides' => sub {
    Apache::TestRequest::module('aapi_shortrefresh');
    my $l = new_login($A);
    my $t = $l->{refresh_token};
    my ($ok, @st) = (1);
    # refreshed every ~0.8 s for ~4 s: each rotation starts a new 2 s life
    for (1 .. 5) {
        Time::HiRes::sleep(0.8);
        my $r = refresh_with($t);
        push @st, $r->{status};
        last unless $r->{status} == 200;
        $t = $r->data->{refresh_token};
    }
    all_are(200, 'a session refreshed inside its TTL stays alive', @st);
    Time::HiRes::sleep(3.2);
    is_error(refresh_with($t), 401, 'INVALID_TOKEN', 'after 3 s without use: expired');
    Apache::TestRequest::module('default');
};

subtest 'refresh on the second mount and another virtual host' => sub {
    my $l = new_login($A);
    my $r;
    {
        local $AAPI::Test::MOUNT = '/other/auth';
        $r = refresh_with($l->{refresh_token});
    }
    is($r->{status}, 200, 'POST /other/auth/refresh') or diag($r->{body});
    Apache::TestRequest::module('aapi_grace1');
    my $r2 = refresh_with($r->data->{refresh_token} // 'x');
    Apache::TestRequest::module('default');
    is($r2->{status}, 200, 'the successor on another virtual host') or diag($r2->{body});
};

subtest '12 parallel refreshes of one token: all 200, one successor' => sub {
    my $l = new_login($A);
    my @res = parallel(12, sub {
        my $r = refresh_with($l->{refresh_token});
        return { status => $r->{status}, rt => $r->data->{refresh_token},
                 at => $r->data->{access_token}, body => substr($r->{body}, 0, 200) };
    }, 60);
    all_are(200, 'all 200', map { $_->{status} // $_->{error} } @res)
        or diag(join "\n", map { $_->{body} // $_->{error} } @res);
    my %succ = map { ($_->{rt} // 'none') => 1 } @res;
    is(scalar keys %succ, 1, 'one new refresh token for all') or diag(join ' ', keys %succ);
    my ($rt) = keys %succ;
    isnt($rt, $l->{refresh_token}, 'a new one');
    my ($at) = grep { defined } map { $_->{at} } @res;
    is(me_status($at // 'x'), 200, 'GET /me with a returned access token');
    my %sids = map { sid_of($_->{at} // '') => 1 } @res;
    is_deeply([keys %sids], [sid_of($l->{access_token})], 'all in the same session');
    my $next = refresh_with($rt);
    is($next->{status}, 200, 'the successor refreshes') or diag($next->{body});
    is(me_status($next->data->{access_token} // 'x'), 200, 'and its access token works');
};

subtest 'parallel refreshes of one token on several virtual hosts at once' => sub {
    my $l = new_login($A);
    my @hosts = ('default', 'aapi_cors', 'aapi_revoke', 'aapi_cookies');
    my @res = parallel(8, sub {
        Apache::TestRequest::module($hosts[$_[0] % @hosts]);
        my $r = refresh_with($l->{refresh_token});
        return { status => $r->{status}, rt => $r->data->{refresh_token} };
    }, 60);
    all_are(200, 'all 200', map { $_->{status} // $_->{error} } @res);
    my %succ = map { ($_->{rt} // 'none') => 1 } @res;
    is(scalar keys %succ, 1, 'one successor') or diag(join ' ', keys %succ);
};

subtest 'a logout racing a refresh never leaves the session alive' => sub {
    my @alive;
    for my $round (1 .. 10) {
        my $l = new_login($A);
        my @res = parallel(2, sub {
            if ($_[0] == 0) {
                return { logout => post_json('/logout', undef,
                             Authorization => "Bearer $l->{access_token}")->{status} };
            }
            my $r = refresh_with($l->{refresh_token});
            return { refresh => $r->{status}, rt => $r->data->{refresh_token},
                     at => $r->data->{access_token} };
        }, 60);
        my ($lo, $rf) = @res;
        my @problems;
        push @problems, "logout gave " . ($lo->{logout} // $lo->{error})
            unless ($lo->{logout} // 0) == 200;
        push @problems, "refresh gave " . ($rf->{refresh} // $rf->{error})
            unless ($rf->{refresh} // 0) =~ /^(?:200|401)$/;
        push @problems, 'login access token alive' if me_status($l->{access_token}) != 401;
        push @problems, 'login refresh token alive'
            if refresh_with($l->{refresh_token})->{status} != 401;
        if ($rf->{rt}) {
            push @problems, 'refreshed access token alive' if me_status($rf->{at}) != 401;
            push @problems, 'refreshed refresh token alive'
                if refresh_with($rf->{rt})->{status} != 401;
        }
        push @alive, "round $round: @problems" if @problems;
    }
    is(scalar @alive, 0, '10 rounds: the session always ended') or diag(join "\n", @alive);
};

subtest 'a disabled account cannot refresh' => sub {
    my $u = new_account();
    my $l = new_login($u);
    db_exec('UPDATE users SET disabled = 1 WHERE id = ' . sql_quote($u->{user}{id}));
    my $r = refresh_with($l->{refresh_token});
    is_error($r, 401, 'INVALID_TOKEN', 'refresh of a disabled account');
    my $unknown = refresh_with(b64u_enc(join '', map { chr int rand 256 } 1 .. 32));
    is($r->{body}, $unknown->{body}, 'the same body as an unknown token');
    is(me_status($l->{access_token}), 401, 'its access token is refused too');
};

subtest 'refresh takes only POST' => sub {
    my $r = get_json('/refresh');
    is_error($r, 405, 'METHOD_NOT_ALLOWED', 'GET /refresh');
    like($r->header('Allow') // '', qr/\bPOST\b/, 'Allow names POST');
};

# The rows of session SID's history of rotated refresh tokens.
sub history_rows {
    my $sid = shift;
    return db_query('SELECT COUNT(*) FROM refresh_history WHERE session_id = '
                    . sql_quote($sid)) + 0;
}

subtest "a session's history of rotated tokens stays bounded" => sub {
    my $l = new_login($A);
    my $sid = sid_of($l->{access_token});
    my @tokens = ($l->{refresh_token});
    my $ok = 1;
    for my $i (1 .. 300) {
        my $r = refresh_with($tokens[-1]);
        if ($r->{status} != 200) {
            $ok = 0;
            diag("refresh $i: $r->{status} $r->{body}");
            last;
        }
        push @tokens, $r->data->{refresh_token};
    }
    ok($ok && @tokens == 301, '300 refreshes in a row');
    is(history_rows($sid), 256, 'the history keeps the newest 256');
    # rotated away 300 refreshes ago: no longer known, refused as an
    # expired token would be, and the session lives on
    is_error(refresh_with($tokens[0]), 401, 'INVALID_TOKEN',
             'the first token, rotated away 300 refreshes ago');
    my $r = refresh_with($tokens[-1]);
    is($r->{status}, 200, 'the session lives on: the current token refreshes');
    my $cur = $r->{status} == 200 ? $r->data->{refresh_token} : '';
    # rotated away 200 refreshes ago: in the history, reuse, the end
    is_error(refresh_with($tokens[100]), 401, 'INVALID_TOKEN',
             'a token rotated away 200 refreshes ago');
    session_dead('after that reuse', $cur);

    # rows of tokens rotated away longer ago than the refresh lifetime
    # (30 days here) go at the next rotation
    my $m = new_login($A);
    my $msid = sid_of($m->{access_token});
    my $d = refresh_with($m->{refresh_token})->data;
    db_exec('INSERT INTO refresh_history (token_hash, session_id, rotated_at)'
            . ' VALUES (' . sql_quote(AAPI::Test::rand_hex(64)) . ', ' . sql_quote($msid)
            . ', ' . ((time - 31 * 86400) * 1000) . ')');
    is(history_rows($msid), 2, 'a row 31 days old put in the history');
    is(refresh_with($d->{refresh_token})->{status}, 200, 'the next refresh');
    is(history_rows($msid), 2, 'the old row is gone, the two rotations are there');
    is(db_query('SELECT COUNT(*) FROM refresh_history WHERE session_id = '
                . sql_quote($msid) . ' AND rotated_at < '
                . ((time - 30 * 86400) * 1000)) + 0, 0,
       'nothing older than 30 days');
};
