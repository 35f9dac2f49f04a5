# What the database holds (API.md section 4): no plaintext password, no
# refresh token, only a SHA-256 of it; bcrypt hashes with the configured
# cost; the schema version recorded.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use Digest::SHA qw(sha256_hex);

plan tests => 7, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

# a password that appears nowhere else
my $PW = 'Zq9!' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 20) . 'X';
my $U = register_user(password => $PW);
my $ID = ($U->{user} || {})->{id} // '';
my @REFRESH = ($U->{refresh_token} // ());
for (1 .. 2) {
    my $t = login_as($U->{email}, $PW)->data->{refresh_token};
    push @REFRESH, $t if defined $t;
}

subtest 'no plaintext password, no refresh token in the database' => sub {
    is($U->{status}, 201, 'registered') or diag($U->{res}{body});
    is(scalar @REFRESH, 3, 'three refresh tokens (register + 2 logins)');
    my $bytes = db_file_bytes();
    cmp_ok(length $bytes, '>', 1000, 'read the database (' . (db_is_mysql() ? 'mariadb-dump' : 'SQLite file') . ')');
    ok(index($bytes, $ID) >= 0, 'the dump holds the account (sanity check)');
    is(index($bytes, $PW), -1, 'the password is not in the database');
    is(index($bytes, lc $PW), -1, 'nor in lower case');
    for my $i (0 .. $#REFRESH) {
        my $t = $REFRESH[$i];
        is(index($bytes, $t), -1, "refresh token $i is not in the database");
        my $raw = b64u_dec($t);
        is(index($bytes, $raw), -1, "nor its decoded bytes") if length $raw >= 16;
        is(index($bytes, unpack('H*', $raw)), -1, "nor their hex") if length $raw >= 16;
    }
};

subtest 'sessions store the SHA-256 of the refresh token' => sub {
    my @rows = db_query('SELECT refresh_hash FROM sessions WHERE user_id = ' . sql_quote($ID));
    is(scalar @rows, 3, 'three sessions');
    my %stored = map { lc($_->[0] // '') => 1 } @rows;
    for my $h (keys %stored) {
        like($h, qr/^[0-9a-f]{64}$/, "stored value is 64 hex digits");
    }
    for my $i (0 .. $#REFRESH) {
        ok($stored{ sha256_hex($REFRESH[$i]) }, "refresh token $i is stored as its SHA-256");
    }
};

subtest 'passwords are bcrypt hashes with the configured cost' => sub {
    my $h = db_query('SELECT password_hash FROM users WHERE id = ' . sql_quote($ID));
    like($h // '', qr/^\$2[aby]\$04\$[.\/A-Za-z0-9]{53}$/, 'bcrypt, cost 4 (AuthAPIPasswordHash bcrypt 4)');
    Apache::TestRequest::module('aapi_slowhash');
    my $s = register_user();
    Apache::TestRequest::module('default');
    is($s->{status}, 201, 'an account on the bcrypt-10 host');
    my $h2 = db_query('SELECT password_hash FROM users WHERE email_norm = ' . sql_quote(lc $s->{email}));
    like($h2 // '', qr/^\$2[aby]\$10\$/, 'bcrypt, cost 10 on that host');
    my $o = register_user(password => $PW);
    my $h3 = db_query('SELECT password_hash FROM users WHERE email_norm = ' . sql_quote(lc $o->{email}));
    isnt($h3, $h, 'the same password gets another salt');
};

subtest 'the stored account' => sub {
    my ($row) = db_query('SELECT email, email_norm, role, email_verified, disabled FROM users WHERE id = '
                         . sql_quote($ID));
    is_deeply($row, [$U->{email}, lc $U->{email}, 'user', 0, 0], 'email, email_norm, role, flags');
    my $n = db_query('SELECT COUNT(*) FROM users WHERE id = ' . sql_quote($ID));
    is($n, 1, 'one row');
};

subtest 'schema_migrations records the schema' => sub {
    my $n = db_query('SELECT COUNT(*) FROM schema_migrations');
    cmp_ok($n // 0, '>=', 1, 'at least one migration recorded');
};

subtest 'the session check of a protected request reads indexes only' => sub {
    # the statement of src/store_sql.c (AAPI_SQL_SESSION_LIVE), for one of
    # this account's sessions: on SQLite each table is searched in one
    # covering index (migrations 003, 004 and 005); on MariaDB both are found
    # by their primary key, which holds the row
    my $sid = db_query('SELECT id FROM sessions WHERE user_id = ' . sql_quote($ID));
    ok(defined $sid && length $sid, 'a session of the account') or return;
    my $q = 'SELECT s.user_id, u.email, u.username, u.role, u.email_verified'
          . ' FROM sessions s JOIN users u ON u.id = s.user_id'
          . ' WHERE s.id = ' . sql_quote($sid) . ' AND s.revoked_at IS NULL'
          . ' AND s.expires_at > 0 AND u.disabled = 0';
    if (db_is_mysql()) {
        my %key = map { ($_->[2] // '') => ($_->[5] // '') } db_query("EXPLAIN $q");
        is($key{s}, 'PRIMARY', 'sessions: by primary key');
        is($key{u}, 'PRIMARY', 'users: by primary key');
        return;
    }
    my $plan = join "\n", map { $_->[0] // '' } db_query("EXPLAIN QUERY PLAN $q");
    like($plan, qr/SEARCH s USING COVERING INDEX sessions_live \(id=\?/,
         'sessions: one search of the covering index sessions_live');
    like($plan, qr/SEARCH u USING COVERING INDEX users_live \(id=\?/,
         'users: one search of the covering index users_live');
};

subtest 'virtual hosts sharing the database: statements registered once' => sub {
    # the test server's virtual hosts inherit DBDriver/DBDParams; mod_dbd
    # warns "conflicting SQL statements" when a label is registered twice
    # for one configuration. The log keeps earlier runs: read from this
    # server's start, the migration of its fresh database (t/TEST deletes
    # it before every start; the MariaDB one is new)
    my $log = Apache::Test::vars('t_logs') . '/error_log';
    open my $fh, '<', $log or return fail("read $log: $!");
    my @lines = <$fh>;
    close $fh;
    my ($from) = grep { $lines[$_] =~ /applied schema migration 001_/ } reverse 0 .. $#lines;
    ok(defined $from, 'the log holds the start of this server') or return;
    my @conflicts = grep { /conflicting SQL statements/ } @lines[$from .. $#lines];
    is(scalar @conflicts, 0, 'mod_dbd reports no conflicting statements')
        or diag($conflicts[0]);
};
