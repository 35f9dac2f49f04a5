# Logout, logout-all, ending a session and a password change take effect
# at once on AuthType auth-api areas, in every process of the server
# (API.md sections 4 and 5). The virtual host aapi_protect_revoke trusts a
# verified token for 60 s (AuthAPISessionCacheTTL): only the shared
# revocation counter can make a process that verified a token refuse it
# within that time. Each process is first warmed with the token (bursts
# until every request-serving child has answered 200, as its access log
# shows), then a burst after the logout must be refused by all of them.
# Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 9, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('aapi_protect_revoke');

my $P = '/protected/loc/hello.txt';

# Sends bursts of parallel GETs of the protected file with TOKEN until
# every process of PIDS (default: every request-serving child) has
# answered (see AAPI::Protect::bursts).
sub token_bursts {
    my ($token, $pids) = @_;
    return bursts(path => $P, want => $pids, code => sub { bearer_at($P, $token)->{status} });
}

# Checks that every status of ST is WANT.
sub all_are {
    my ($st, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my %n;
    $n{$_}++ for @$st;
    my $bad = grep { $_ ne $want } @$st;
    ok(@$st && !$bad, "$name: all " . scalar(@$st) . " answered $want")
        or diag('got ' . join(', ', map { "$_ x$n{$_}" } sort keys %n));
}

# Checks that every pid of WANT is in SEEN.
sub covered {
    my ($seen, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my @missing = grep { !$seen->{$_} } @$want;
    ok(@$want && !@missing, "$name: every process answered (" . scalar(@$want) . ')')
        or diag("processes that did not answer: @missing; answered: "
                . join(' ', sort keys %$seen));
}

# Warms every process with TOKEN; returns the pids that answered 200.
sub warm {
    my ($token, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($st, $seen, $want) = token_bursts($token);
    all_are($st, 200, "$name, before");
    covered($seen, $want, "$name, before");
    return [ sort keys %$seen ];
}

# Checks that after the end every warmed process (WARMED) refuses TOKEN.
sub refused_everywhere {
    my ($token, $warmed, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($st, $seen, $alive) = token_bursts($token, $warmed);
    all_are($st, 401, "$name, after");
    covered($seen, $alive, "$name, after: each process that had verified it");
}

my $U = new_account();

subtest 'the log names the processes' => sub {
    my @w = worker_pids();
    cmp_ok(scalar @w, '>=', 1, 'request-serving children: ' . scalar @w);
    my $off = log_offset();
    my $r = bearer_at($P, $U->{access_token});
    is($r->{status}, 200, 'a request on the virtual host');
    my @l = log_lines($off, 1);
    ok(@l && $l[-1][0] =~ /^\d+$/ && $l[-1][3] eq $P, 'logged with its pid')
        or diag(explain(\@l));
};

subtest 'logout: the token is refused by every process at once' => sub {
    my $tok = fresh_token($U);
    my $other = fresh_token($U);
    my $warmed = warm($tok, 'the token');
    warm($other, "another session's token");
    my $r = post_json('/logout', {}, Authorization => "Bearer $tok");
    is($r->{status}, 200, 'POST /logout') or diag($r->{body});
    refused_everywhere($tok, $warmed, 'the logged-out token');
    is(bearer_at($P, $other)->{status}, 200, "another session's token still works");
};

subtest 'logout-all: every session of the user' => sub {
    my $a = fresh_token($U);
    my $b = fresh_token($U);
    my $wa = warm($a, 'session a');
    my $wb = warm($b, 'session b');
    my $r = post_json('/logout-all', {}, Authorization => "Bearer $a");
    is($r->{status}, 200, 'POST /logout-all') or diag($r->{body});
    refused_everywhere($a, $wa, 'session a');
    refused_everywhere($b, $wb, 'session b');
};

subtest 'DELETE /sessions/{id}: that session' => sub {
    my $a = fresh_token($U);
    my $b = fresh_token($U);
    my (undef, $cb) = jwt_decode($b);
    my $wb = warm($b, 'session b');
    my $r = delete_json("/sessions/$cb->{sid}", undef, Authorization => "Bearer $a");
    is($r->{status}, 200, 'DELETE /sessions/{b}') or diag($r->{body});
    refused_everywhere($b, $wb, 'the ended session');
    is(bearer_at($P, $a)->{status}, 200, 'the session that ended it still works');
};

subtest 'change-password: the other sessions' => sub {
    my $u = new_account();
    my $a = fresh_token($u);
    my $b = fresh_token($u);
    my $wb = warm($b, 'the other session');
    my $new = 'N3w-Horse!Battery-Staple';
    my $r = post_json('/change-password', { current_password => $u->{password},
                                            new_password => $new },
                      Authorization => "Bearer $a");
    is($r->{status}, 200, 'POST /change-password') or diag($r->{body});
    refused_everywhere($b, $wb, 'the other session');
    my $ok = bearer_at($P, $a)->{status};
    note("the session that changed the password: $ok");
};

# Once the shared cache records a session as ended, no later check of the
# database marks it live again. That is what a check racing a logout would
# do (it read the session live, the logout then ended it and recorded it
# ended, the check then recorded it live): every process would serve the
# logged-out token again, here for 60 s. The race is made by hand: after
# the logout the session is made live again in the database, as the racing
# check saw it, and a refresh, which records the session live in the shared
# cache after its database work, runs.
subtest 'an ended session is not made live again by a later check' => sub {
    my $login = AAPI::Test::login_as($U->{email}, $U->{password});
    my ($tok, $refresh) = @{ $login->data }{qw(access_token refresh_token)};
    my $warmed = warm($tok, 'the token');
    my $r = post_json('/logout', {}, Authorization => "Bearer $tok");
    is($r->{status}, 200, 'POST /logout') or diag($r->{body});
    refused_everywhere($tok, $warmed, 'the logged-out token');
    my (undef, $claims) = jwt_decode($tok);
    db_exec('UPDATE sessions SET revoked_at = NULL WHERE id = '
            . sql_quote($claims->{sid}));
    $r = post_json('/refresh', { refresh_token => $refresh });
    is($r->{status}, 200, 'a refresh that reads the session live, as a racing check would')
        or diag($r->{body});
    refused_everywhere($tok, $warmed, 'the logged-out token afterwards');
    refused_everywhere($r->data->{access_token}, $warmed, 'the token of that refresh')
        if $r->{status} == 200;
};

subtest 'a username change: every process refuses the old tokens' => sub {
    my $u = new_account();
    my $a = fresh_token($u);
    my $b = fresh_token($u);
    my $wa = warm($a, 'session a');
    my $wb = warm($b, 'session b');
    my $r = patch_json('/me', { username => uniq_username() }, Authorization => "Bearer $a");
    is($r->{status}, 200, 'PATCH /me with a new username') or diag($r->{body});
    refused_everywhere($a, $wa, 'the token that made the change');
    refused_everywhere($b, $wb, "another session's token");
};

subtest 'a username change: every process refuses the old name for Basic' => sub {
    my $u = new_account();
    my $p = '/protected/basic/hello.txt';
    my $as = sub {
        my $name = shift;
        return sub { preq('GET', $p, [ Authorization => basic_auth($name, $u->{password}) ])->{status} };
    };
    my ($st, $seen, $want) = bursts(path => $p, code => $as->($u->{username}));
    all_are($st, 200, 'the name, before');
    covered($seen, $want, 'the name, before');
    my $new = uniq_username();
    my $r = patch_json('/me', { username => $new }, Authorization => "Bearer $u->{access_token}");
    is($r->{status}, 200, 'PATCH /me with a new username') or diag($r->{body});
    my ($st2, $seen2, $alive) = bursts(path => $p, want => [ sort keys %$seen ],
                                       code => $as->($u->{username}));
    all_are($st2, 401, 'the old name, after');
    covered($seen2, $alive, 'the old name, after: each process that had checked it');
    is(preq('GET', $p, [ Authorization => basic_auth($new, $u->{password}) ])->{status}, 200,
       'the new name');
};

# Once the shared cache records that a session's user has changed, no
# later check of the database records what it read before the change: a
# check racing the change (it read the old name, the change then recorded
# itself, the check then recorded the old name) would have every process
# take the old tokens again, here for 60 s. The race is made by hand, as
# for a logout above: after the change the old name is put back in the
# database, as the racing check saw it, a refresh (which records the
# session live in the shared cache after its database work) runs, and the
# new name is put back.
subtest 'a username change is not undone by a later check' => sub {
    my $u = new_account();
    my $login = AAPI::Test::login_as($u->{email}, $u->{password});
    my ($tok, $refresh) = @{ $login->data }{qw(access_token refresh_token)};
    my $warmed = warm($tok, 'the token');
    my $new = uniq_username();
    my $r = patch_json('/me', { username => $new }, Authorization => "Bearer $tok");
    is($r->{status}, 200, 'PATCH /me with a new username') or diag($r->{body});
    refused_everywhere($tok, $warmed, 'the old token');
    my $set = sub {
        db_exec('UPDATE users SET username = ' . sql_quote($_[0]) . ', username_norm = '
                . sql_quote(lc $_[0]) . ' WHERE id = ' . sql_quote($u->{id}));
    };
    $set->($u->{username});
    $r = post_json('/refresh', { refresh_token => $refresh });
    is($r->{status}, 200, 'a refresh that reads the old name, as a racing check would')
        or diag($r->{body});
    $set->($new);
    refused_everywhere($tok, $warmed, 'the old token afterwards');
};
