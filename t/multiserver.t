# Several servers sharing one database (API.md section 4): an end made on one
# server is refused by another at once when AuthAPISOCache names a shared
# cache (memcache), and within AuthAPISessionCacheTTL when each server has
# its own (shmcb); so is the old token of a username change. Starts its own memcached and two plain httpd instances on
# loopback ports, with one SQLite file and one secret; stops them at the end.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use AAPI::Httpd qw(free_port wait_port start_httpd $MODDIR);
use AAPI::Test ();
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use MIME::Base64 ();
use JSON::PP ();
use Time::HiRes qw(sleep);

plan tests => 9, need_module('mod_auth_api.c');

my $vars    = Apache::Test::config()->{vars};
my $HTTPD   = $vars->{httpd};
my $SO      = catfile($vars->{top_dir}, '.libs', 'mod_auth_api.so');
my $MEMCACHED = '/usr/bin/memcached';
my $TMP     = tempdir('aapi-multi-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $ROOT    = $> == 0;
chmod 0777, $TMP;
my $http = HTTP::Tiny->new(timeout => 30);
my $json = JSON::PP->new;
my $memcached_pid;

END {
    # the test's own exit status survives the clean-up (waitpid sets $?)
    local $?;
    AAPI::Httpd::stop_all();
    if ($memcached_pid) { kill 'TERM', $memcached_pid; waitpid $memcached_pid, 0 }
}

ok(-x $MEMCACHED, 'memcached is installed (Debian package memcached)')
    or BAIL_OUT('no memcached');
my $mport = free_port();
$memcached_pid = fork() // die "fork: $!";
if (!$memcached_pid) {
    exec $MEMCACHED, '-l', '127.0.0.1', '-p', $mport, '-U', '0', '-m', '16',
         ($ROOT ? ('-u', 'nobody') : ()) or POSIX::_exit(127);
}
ok(wait_port($mport), 'memcached answers');

my $secret = join '', map { ('a' .. 'z')[rand 26] } 1 .. 48;
mkdir "$TMP/db" or die;
chmod 0777, "$TMP/db";

# Starts an httpd named NAME with CACHE (AuthAPISOCache) and TTL; returns
# its base URL.
sub start_server {
    my ($name, $cache, $ttl, $db) = @_;
    $db //= "$TMP/db/auth.db";
    my $dir = "$TMP/$name";
    mkdir $dir or die "$dir: $!";
    chmod 0777, $dir;
    my $port = free_port();
    my $mpm = -e "$MODDIR/mod_mpm_event.so" ? 'event' : 'prefork';
    for my $area (qw(members basic)) {
        mkdir "$dir/$area" or die;
        open my $page, '>', "$dir/$area/page.txt" or die;
        print $page "protected\n";
        close $page;
    }
    # one process: what it has verified and trusts is what each check
    # below meets, whichever connection a request comes on
    my @one = $mpm eq 'event'
        ? ('ServerLimit 1', 'StartServers 1', 'ThreadsPerChild 25',
           'MaxRequestWorkers 25', 'MinSpareThreads 1', 'MaxSpareThreads 25')
        : ('ServerLimit 1', 'StartServers 1', 'MaxRequestWorkers 1',
           'MinSpareServers 1', 'MaxSpareServers 1');
    start_httpd($HTTPD, $dir, $port,
        "LoadModule mpm_${mpm}_module $MODDIR/mod_mpm_$mpm.so", @one,
        "LoadModule authz_core_module $MODDIR/mod_authz_core.so",
        "LoadModule authz_user_module $MODDIR/mod_authz_user.so",
        "LoadModule authn_core_module $MODDIR/mod_authn_core.so",
        "LoadModule auth_basic_module $MODDIR/mod_auth_basic.so",
        "LoadModule dbd_module $MODDIR/mod_dbd.so",
        "LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so",
        "LoadModule socache_memcache_module $MODDIR/mod_socache_memcache.so",
        "LoadModule auth_api_module $SO",
        "DBDriver sqlite3", qq(DBDParams "$db"),
        "AuthAPIJWTSecret $secret", "AuthAPIPasswordHash bcrypt 4",
        "AuthAPISOCache $cache", "AuthAPISessionCacheTTL $ttl",
        "DocumentRoot \"$dir\"",
        "<Directory \"$dir\">", "    Require all granted", "</Directory>",
        "<Location /api/v1/auth>", "    SetHandler auth-api", "</Location>",
        "<Directory \"$dir/members\">", "    AuthType auth-api",
        "    Require valid-user", "</Directory>",
        "<Directory \"$dir/basic\">", "    AuthType Basic", "    AuthName test",
        "    AuthBasicProvider auth-api", "    Require valid-user", "</Directory>");
    return "http://127.0.0.1:$port";
}

# Posts DATA as JSON to URL; returns (status, decoded body).
sub post_json { return send_json('POST', @_) }

# Sends DATA as JSON to URL with METHOD; returns (status, decoded body).
sub send_json {
    my ($method, $url, $data, $tok) = @_;
    my $r = $http->request($method, $url, { headers => {
        'Content-Type' => 'application/json',
        $tok ? (Authorization => "Bearer $tok") : () },
        content => $json->encode($data) });
    return ($r->{status}, eval { $json->decode($r->{content}) });
}

# Returns the statuses of N GETs of URL with Basic credentials USER:PW.
sub basic_statuses {
    my ($url, $user, $pw, $n) = @_;
    my $auth = 'Basic ' . MIME::Base64::encode_base64("$user:$pw", '');
    return join ' ', map {
        $http->get($url, { headers => { Authorization => $auth } })->{status}
    } 1 .. $n;
}

# Returns the statuses of N GETs of URL with TOK.
sub statuses {
    my ($url, $tok, $n) = @_;
    return join ' ', map {
        $http->get($url, { headers => { Authorization => "Bearer $tok" } })->{status}
    } 1 .. $n;
}

my $A = start_server('a', "memcache:127.0.0.1:$mport", '60s');
my $B = start_server('b', "memcache:127.0.0.1:$mport", '60s');
my $C = start_server('c', 'shmcb', '3s');   # a third server without the shared cache

my ($st, $body) = post_json("$A/api/v1/auth/register",
    { email => 'multi@example.com', password => 'Str0ng!Passw0rd' });
my $tok = $body->{data}{access_token};
is($st, 201, 'registered on server A');

subtest 'memcache: a logout on A is refused by B at once' => sub {
    is(statuses("$B/members/page.txt", $tok, 8), join(' ', (200) x 8),
       'B serves the token (and now trusts it for 60 s)');
    is(statuses("$C/members/page.txt", $tok, 4), join(' ', (200) x 4),
       'C serves it too (and trusts it for 3 s)');
    my ($ls) = post_json("$A/api/v1/auth/logout", {}, $tok);
    is($ls, 200, 'logout on A');
    is(statuses("$B/members/page.txt", $tok, 8), join(' ', (401) x 8),
       'B refuses the token at once');
};

subtest 'shmcb: another server converges within AuthAPISessionCacheTTL' => sub {
    # C checked the session before the logout; its trust lasts 3 s at most
    sleep 4;
    is(statuses("$C/members/page.txt", $tok, 4), join(' ', (401) x 4),
       'C refuses the token once its trust has run out');
};

subtest 'memcache: a username change on A refuses the old token on B at once' => sub {
    my ($st, $body) = post_json("$A/api/v1/auth/register",
        { email => 'multi2@example.com', username => 'multi_two', password => 'Str0ng!Passw0rd' });
    is($st, 201, 'registered on server A, with a username');
    my ($t2, $r2) = @{ $body->{data} || {} }{qw(access_token refresh_token)};
    is(statuses("$B/members/page.txt", $t2, 8), join(' ', (200) x 8),
       'B serves the token (and now trusts it for 60 s)');
    my ($ps) = send_json('PATCH', "$A/api/v1/auth/me", { username => 'multi_three' }, $t2);
    is($ps, 200, 'PATCH /me on A: a new username');
    is(statuses("$B/members/page.txt", $t2, 8), join(' ', (401) x 8),
       'B refuses the old token at once');
    my ($rs, $rb) = post_json("$A/api/v1/auth/refresh", { refresh_token => $r2 });
    is($rs, 200, 'a refresh on A');
    is(statuses("$B/members/page.txt", $rb->{data}{access_token} // '', 4), join(' ', (200) x 4),
       'B serves the refreshed token');
};

# Sends the memcached text command LINE (and DATA, for a set) to the test
# memcached; returns its answer, up to END or a one-line reply.
sub memcached {
    my ($line, $data) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $mport,
                                     Timeout => 10) or return '';
    print $sock "$line\r\n", (defined $data ? "$data\r\n" : '');
    my $out = '';
    while (defined(my $l = <$sock>)) {
        $out .= $l;
        last if $l =~ /^(?:END|STORED|NOT_STORED|ERROR|CLIENT_ERROR.*|SERVER_ERROR.*)\r\n$/;
    }
    close $sock;
    return $out;
}

# A session state of another form (here the bare "L" and user id that an
# earlier version of the module stored), met in a shared cache during an
# upgrade: it is asked of the database, not taken for a session whose
# user has changed or ended.
subtest 'memcache: a session state of another form is asked of the database' => sub {
    my ($st, $body) = post_json("$A/api/v1/auth/register",
        { email => 'multi3@example.com', password => 'Str0ng!Passw0rd' });
    is($st, 201, 'registered on server A');
    my $t3 = $body->{data}{access_token} // '';
    my $uid = $body->{data}{user}{id} // '';
    my $payload = (split /\./, $t3)[1] // '';
    $payload =~ tr{-_}{+/};
    my $claims = eval { $json->decode(MIME::Base64::decode_base64($payload)) } || {};
    # the key: the session id, the database's id, the kind
    my ($sid_hex, $kind_hex) = map { unpack 'H*', $_ } "$claims->{sid}:",
                                                      ':aapi-session';
    my ($key) = memcached('lru_crawler metadump all')
                =~ /key=(\S*\Q$sid_hex\E(?:[0-9a-f]{2}){1,64}?\Q$kind_hex\E)\b/i;
    $key =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge if defined $key;
    ok($key, 'the session state is in memcached') or return;
    like(memcached("get $key"), qr/\r\nL\Q$uid\E\0/, 'in the form of this version');
    my $old = "L$uid";
    like(memcached("set $key 0 60 " . length($old), $old), qr/^STORED/,
         'replaced by the older form');
    is(statuses("$B/members/page.txt", $t3, 4), join(' ', (200) x 4),
       'B serves the token: it asked the database');
};

# The Basic provider keeps a verification for AuthAPISessionCacheTTL (60 s
# here); with a shared cache a password or username change made on A gives
# the user a new stamp there, and B checks the credentials again at once.
subtest 'memcache: a password or username change on A is seen by Basic on B at once' => sub {
    my ($st, $body) = post_json("$A/api/v1/auth/register",
        { email => 'multi4@example.com', username => 'multi_four', password => 'Str0ng!Passw0rd' });
    is($st, 201, 'registered on server A, with a username');
    my $tok = $body->{data}{access_token} // '';
    my $page = "$B/basic/page.txt";
    is(basic_statuses($page, 'multi4@example.com', 'Str0ng!Passw0rd', 6), join(' ', (200) x 6),
       'B lets the email and password in (and now trusts them for 60 s)');
    is(basic_statuses($page, 'multi_four', 'Str0ng!Passw0rd', 6), join(' ', (200) x 6),
       'the username too');
    my ($cs) = post_json("$A/api/v1/auth/change-password",
        { current_password => 'Str0ng!Passw0rd', new_password => 'N3w!Passw0rd-four' }, $tok);
    is($cs, 200, 'change-password on A');
    is(basic_statuses($page, 'multi4@example.com', 'Str0ng!Passw0rd', 6), join(' ', (401) x 6),
       'B refuses the old password at once');
    is(basic_statuses($page, 'multi4@example.com', 'N3w!Passw0rd-four', 3), join(' ', (200) x 3),
       'B lets the new password in');
    is(basic_statuses($page, 'multi_four', 'N3w!Passw0rd-four', 3), join(' ', (200) x 3),
       'with the username too (B trusts it now)');
    my ($ps) = send_json('PATCH', "$A/api/v1/auth/me", { username => 'multi_five' }, $tok);
    is($ps, 200, 'PATCH /me on A: a new username');
    is(basic_statuses($page, 'multi_four', 'N3w!Passw0rd-four', 6), join(' ', (401) x 6),
       'B refuses the old username at once');
    is(basic_statuses($page, 'multi_five', 'N3w!Passw0rd-four', 3), join(' ', (200) x 3),
       'B lets the new username in');
};

# A server whose database cannot be reached at start-up learns the
# database's id (which names its state in the shared cache) from the first
# request that needs it, once the database is there.
subtest "a database missing at start-up: its id is read once it is there" => sub {
    my $late = "$TMP/late";
    my $D = start_server('d', "memcache:127.0.0.1:$mport", '60s',
                         "$late/auth.db");
    my ($st) = post_json("$D/api/v1/auth/register",
        { email => 'late@example.com', password => 'Str0ng!Passw0rd' });
    is($st, 503, 'no database yet: 503');

    # the database appears, with the schema (as an administrator would
    # make it with AuthAPIAutoMigrate Off)
    mkdir $late or die "$late: $!";
    chmod 0777, $late;
    my $top = Apache::Test::vars('top_dir');
    my $schema = join '', map { local (@ARGV, $/) = ($_); <> }
                 sort glob("$top/sql/sqlite3/*.sql");
    my ($rc, $out) = AAPI::Test::run_cmd($schema, 0, 'sqlite3', '-batch',
                                          "$late/auth.db");
    is($rc, 0, 'the schema made') or diag($out);
    chmod 0666, "$late/auth.db";
    (undef, my $id) = AAPI::Test::run_cmd('SELECT id FROM aapi_instance;', 0,
                                          'sqlite3', '-batch', "$late/auth.db");
    chomp $id;
    like($id, qr/^[0-9a-f]{32}$/, "the database's id");

    ($st, my $body) = post_json("$D/api/v1/auth/register",
        { email => 'late@example.com', password => 'Str0ng!Passw0rd' });
    is($st, 201, 'registered once the database is there');
    my $t = $body->{data}{access_token} // '';
    my $payload = (split /\./, $t)[1] // '';
    $payload =~ tr{-_}{+/};
    my $claims = eval { $json->decode(MIME::Base64::decode_base64($payload)) } || {};
    my $hex = unpack 'H*', "$claims->{sid}:$id:aapi-session";
    like(memcached('lru_crawler metadump all'), qr/key=\S*\Q$hex\E\b/i,
         "the session's state is in the shared cache under the database's id");
    is(statuses("$D/members/page.txt", $t, 3), '200 200 200',
       'its token opens the protected area');
    my ($lo) = post_json("$D/api/v1/auth/logout", {}, $t);
    is($lo, 200, 'logout');
    is(statuses("$D/members/page.txt", $t, 3), '401 401 401',
       'refused at once afterwards');
};
