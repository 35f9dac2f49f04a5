# Revocation takes effect at once in every server process (API.md section
# 4): after logout, logout-all, DELETE /sessions/{id} and a password change,
# a burst of parallel requests with an ended session's access token (enough
# that several httpd processes answer) is refused everywhere, although the
# same burst just before was served (so that each process had the session
# in whatever it caches). The virtual host aapi_revoke logs the answering
# process of every request (t/conf/sessions.conf.in).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Session;
use File::Spec::Functions qw(catfile);
use Time::HiRes ();

plan tests => 7, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('aapi_revoke');

my $N = 24;
my $LOG = catfile(Apache::Test::vars('t_logs'), 'aapi_revoke_access.log');

# Returns the current size of the access log of aapi_revoke.
sub log_size { -s $LOG || 0 }

# Returns the distinct process ids that logged a request since offset FROM.
sub pids_since {
    my $from = shift;
    open my $fh, '<', $LOG or return ();
    seek $fh, $from, 0;
    my %p;
    while (<$fh>) { $p{$1} = 1 if /^(\d+) / }
    return sort keys %p;
}

# Sends a burst of N parallel authenticated GETs with TOKEN over several
# endpoints and mounts; returns the statuses and the pids that answered.
sub burst_with {
    my $token = shift;
    my $from = log_size();
    my @st = burst($N, sub {
        my $i = shift;
        my @ep = (['/api/v1/auth', '/me'], ['/api/v1/auth', '/verify-token'],
                  ['/other/auth', '/me'], ['/api/v1/auth', '/sessions']);
        my ($mount, $path) = @{ $ep[$i % @ep] };
        local $AAPI::Test::MOUNT = $mount;
        return bearer_get($path, $token);
    });
    Time::HiRes::sleep(0.2);     # let the log lines land
    return (\@st, [pids_since($from)]);
}

# Warms the server processes with TOKEN: bursts until at least two
# processes served it (at most 5 bursts); checks that all were served.
sub warm {
    my ($token, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my (@st, %pids);
    for (1 .. 5) {
        my ($st, $pids) = burst_with($token);
        push @st, @$st;
        $pids{$_} = 1 for @$pids;
        last if keys %pids >= 2;
    }
    all_are(200, "$name: the warming burst is served", @st);
    cmp_ok(scalar keys %pids, '>=', 2, "$name: it reached several server processes")
        or diag('pids: ' . join ' ', sort keys %pids);
    return [sort keys %pids];
}

# Checks that a burst with the ended TOKEN is refused everywhere.
sub refused_everywhere {
    my ($token, $name, $warm) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($st, $pids) = burst_with($token);
    all_are(401, "$name: every request of the burst is refused", @$st);
    diag("warmed processes @$warm; answered by @$pids") if grep { $_ ne '401' } @$st;
}

subtest 'the burst reaches several processes' => sub {
    my $u = new_account();
    my ($st, $pids) = burst_with($u->{access_token});
    all_are(200, 'all served', @$st);
    ok(-s $LOG, 'the access log of aapi_revoke is written') or diag($LOG);
};

subtest 'POST /logout' => sub {
    my $u = new_account();
    my $keep = new_login($u);
    my $l = new_login($u);
    my $warm = warm($l->{access_token}, 'logout');
    is(post_json('/logout', undef, Authorization => "Bearer $l->{access_token}")->{status}, 200, 'logout');
    refused_everywhere($l->{access_token}, 'the logged-out token', $warm);
    my ($st) = burst_with($keep->{access_token});
    all_are(200, 'another session of the user is still served everywhere', @$st);
};

subtest 'POST /logout-all' => sub {
    my $u = new_account();
    my @l = map { new_login($u) } 1 .. 2;
    my $warm = warm($l[1]{access_token}, 'logout-all');
    warm($u->{access_token}, 'logout-all, registration session');
    is(post_json('/logout-all', undef, Authorization => "Bearer $l[0]{access_token}")->{status}, 200,
       'logout-all');
    refused_everywhere($l[1]{access_token}, 'another session\'s token', $warm);
    refused_everywhere($u->{access_token}, 'the registration session\'s token', $warm);
    refused_everywhere($l[0]{access_token}, 'the caller\'s token', $warm);
};

subtest 'DELETE /sessions/{id}' => sub {
    my $u = new_account();
    my $l = new_login($u);
    my $warm = warm($l->{access_token}, 'DELETE /sessions/{id}');
    is(delete_json('/sessions/' . sid_of($l->{access_token}), undef,
                   Authorization => "Bearer $u->{access_token}")->{status}, 200, 'session ended');
    refused_everywhere($l->{access_token}, 'the ended session\'s token', $warm);
};

subtest 'POST /change-password' => sub {
    my $u = new_account();
    my $other = new_login($u);
    my $me = new_login($u);
    my $warm = warm($other->{access_token}, 'change-password');
    my $r = post_json('/change-password', { current_password => $u->{password},
                                            new_password => 'N3w-Secr3t!Phrase-x' },
                      Authorization => "Bearer $me->{access_token}");
    is($r->{status}, 200, 'password changed') or diag($r->{body});
    refused_everywhere($other->{access_token}, 'another session\'s token', $warm);
    my ($st) = burst_with($me->{access_token});
    all_are(200, 'the changing session is still served everywhere', @$st);
};

subtest 'refresh reuse after the grace ends the session in every process' => sub {
    Apache::TestRequest::module('aapi_grace1');
    my $u = new_account();
    my $l = new_login($u);
    my $d = refresh_with($l->{refresh_token})->data;
    Apache::TestRequest::module('aapi_revoke');
    my $warm = warm($d->{access_token}, 'reuse');
    Time::HiRes::sleep(2.5);
    Apache::TestRequest::module('aapi_grace1');
    is(refresh_with($l->{refresh_token})->{status}, 401, 'the reused token is refused');
    Apache::TestRequest::module('aapi_revoke');
    refused_everywhere($d->{access_token}, 'the session\'s newest access token', $warm);
};

subtest 'DELETE /me' => sub {
    my $u = new_account();
    my $other = new_login($u);
    my $warm = warm($other->{access_token}, 'DELETE /me');
    is(delete_json('/me', { password => $u->{password} },
                   Authorization => "Bearer $u->{access_token}")->{status}, 200, 'account deleted');
    refused_everywhere($other->{access_token}, 'another session\'s token', $warm);
    refused_everywhere($u->{access_token}, 'the deleting session\'s token', $warm);
};
