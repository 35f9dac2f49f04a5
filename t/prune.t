# Pruning of ended sessions (AuthAPIPruneInterval, a mod_watchdog callback):
# a session revoked or expired at least one interval ago is deleted with its
# refresh history; a live one, and one that ended less than an interval ago,
# stay; what a client is answered does not change. Starts its own httpd on
# the suite's database (the SQLite file, or the MariaDB database of
# t/run-mariadb.sh) and stops it at the end: its main server prunes every
# hour, a virtual host on the same database every 3 seconds, and the
# shortest interval of a database is the one it is pruned at.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use AAPI::Httpd qw(free_port start_httpd $MODDIR);
use AAPI::Test qw(db_query db_exec db_path db_is_mysql sql_quote jwt_decode
                  uniq_email strong_password);
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();
use Time::HiRes qw(sleep time);

plan tests => 10, need_module('mod_auth_api.c', 'mod_dbd.c');

my $INTERVAL = 3;
my $vars  = Apache::Test::config()->{vars};
my $SO    = catfile($vars->{top_dir}, '.libs', 'mod_auth_api.so');
my $TMP   = tempdir('aapi-prune-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $TMP;
my $http  = HTTP::Tiny->new(timeout => 30);
my $json  = JSON::PP->new;

END { local $?; AAPI::Httpd::stop_all() }

my @db = db_is_mysql()
    ? ('DBDriver mysql', qq(DBDParams "$ENV{AAPI_MYSQL_PARAMS}"))
    : ('DBDriver sqlite3', 'DBDParams "' . db_path() . '"');
my $mpm = -e "$MODDIR/mod_mpm_event.so" ? 'event' : 'prefork';
my $port = free_port();
my $vport = free_port();
my $secret = join '', map { ('a' .. 'z')[rand 26] } 1 .. 48;
start_httpd($vars->{httpd}, $TMP, $port,
    "LoadModule mpm_${mpm}_module $MODDIR/mod_mpm_$mpm.so",
    "LoadModule authz_core_module $MODDIR/mod_authz_core.so",
    "LoadModule authn_core_module $MODDIR/mod_authn_core.so",
    "LoadModule dbd_module $MODDIR/mod_dbd.so",
    "LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so",
    "LoadModule auth_api_module $SO",
    'LogLevel info', @db,
    "AuthAPIJWTSecret $secret", 'AuthAPIPasswordHash bcrypt 4',
    'AuthAPIPruneInterval 1h',
    "<Location /api/v1/auth>", "    SetHandler auth-api", "</Location>",
    "Listen 127.0.0.1:$vport",
    "<VirtualHost 127.0.0.1:$vport>", "    AuthAPIPruneInterval $INTERVAL",
    '</VirtualHost>');
my $BASE = "http://127.0.0.1:$port/api/v1/auth";

# Sends DATA as JSON to the endpoint PATH with METHOD (and the access
# token TOK); returns (status, decoded body).
sub call {
    my ($method, $path, $data, $tok) = @_;
    my $r = $http->request($method, "$BASE$path", { headers => {
        'Content-Type' => 'application/json',
        $tok ? (Authorization => "Bearer $tok") : () },
        content => $json->encode($data // {}) });
    return ($r->{status}, eval { $json->decode($r->{content}) });
}

# Returns the session id, the access and the refresh token of a login.
sub login {
    my ($email, $pw) = @_;
    my ($st, $b) = call('POST', '/login', { email => $email, password => $pw });
    my $d = ($b || {})->{data} || {};
    return (undef) unless $st == 200 && $d->{access_token};
    my (undef, $claims) = jwt_decode($d->{access_token});
    return ($claims->{sid}, $d->{access_token}, $d->{refresh_token});
}

sub rows     { db_query('SELECT COUNT(*) FROM sessions WHERE id = ' . sql_quote($_[0])) + 0 }
sub history  { db_query('SELECT COUNT(*) FROM refresh_history WHERE session_id = '
                        . sql_quote($_[0])) + 0 }

# Waits (at most 4 intervals) until session SID has no row; returns 1 when
# it has none.
sub gone_within {
    my $sid = shift;
    my $until = time + 4 * $INTERVAL + 2;
    while (time < $until) {
        return 1 if rows($sid) == 0;
        sleep 0.25;
    }
    return rows($sid) == 0;
}

my $email = uniq_email('prune');
my $pw = strong_password();
my ($rs) = call('POST', '/register', { email => $email, password => $pw });
is($rs, 201, 'registered on the pruning server');

my ($s1, $a1, $r1) = login($email, $pw);
my ($s2, $a2, $r2) = login($email, $pw);
my ($s3, $a3, $r3) = login($email, $pw);
ok($s1 && $s2 && $s3 && rows($s1) && rows($s2) && rows($s3), 'three sessions, each a row');

# s1: refreshed once (a row of refresh history), then logged out
my ($fs, $fb) = call('POST', '/refresh', { refresh_token => $r1 });
my $a1b = ($fb->{data} || {})->{access_token};
my ($ls) = call('POST', '/logout', {}, $a1b);
subtest 'a session refreshed and logged out keeps its rows for an interval' => sub {
    is($fs, 200, 'refreshed');
    is($ls, 200, 'logged out');
    is(rows($s1), 1, 'its row is still there');
    ok(history($s1) >= 1, 'so is its refresh history');
};

# s3: past its expiry (as a 30-day-old session would be)
db_exec('UPDATE sessions SET expires_at = ' . (time() - 10 * $INTERVAL)
        . ' WHERE id = ' . sql_quote($s3));

ok(gone_within($s1), "the logged-out session's row is deleted within a few intervals");
is(history($s1), 0, '... with its refresh history');
ok(gone_within($s3), "the expired session's row is deleted");
is(rows($s2), 1, 'the live session stays');

subtest 'answers are the same without the rows' => sub {
    my ($st, $b) = call('POST', '/refresh', { refresh_token => $r1 });
    is($st, 401, "the pruned session's old refresh token: 401");
    is(($b || {})->{error}, 'INVALID_TOKEN', '... INVALID_TOKEN');
    ($st, $b) = call('POST', '/refresh', { refresh_token => $r3 });
    is($st, 401, "the expired session's refresh token: 401");
    ($st) = call('GET', '/me', undef, $a2);
    is($st, 200, 'the live session still works');
    ($st, $b) = call('POST', '/refresh', { refresh_token => $r2 });
    is($st, 200, '... and refreshes');
};

# what the server logged: the deletions, at info, no database error
my $log = do { local (@ARGV, $/) = catfile($TMP, 'error_log'); <> } // '';
like($log, qr/AAPI1101: pruning: \d+ sessions? that ended before \S+ deleted/,
     'the error log names each pruning that deleted something');
unlike($log, qr/AAPI010[1-5]|AAPI110[2-4]/, 'no database or watchdog error');
