# bench/lib/AapiBench.pm - what bench/throughput.pl and bench/instructions.pl
# share: a private ServerRoot under /tmp, the httpd configuration, starting
# and stopping httpd (always by its own pid), a tiny keep-alive HTTP/1.1
# client for 127.0.0.1, registration and login through the API, and the
# results file. Perl core modules only.
package AapiBench;

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

use Exporter 'import';
our @EXPORT_OK = qw(
    say_ die_ with_deadline make_root as_user_prefix remove_root free_port write_conf
    start_process stop_process wait_listening http_open http_req
    register_user login_user basic_header results_write median check_status
);

our $APACHE  = $ENV{APACHE}  || '/usr/sbin/apache2';
our $MODDIR  = $ENV{APACHE_MODULES} || '/usr/lib/apache2/modules';
our $TOP     = abs_path(dirname(__FILE__) . '/../..');
our $MODULE  = "$TOP/.libs/mod_auth_api.so";

# the bench account; the password passes the default policy
our $EMAIL    = 'bench.user@example.com';
our $PASSWORD = 'Bench!Perf-2024x';

my %started;    # pid => name, for the cleanup

sub say_ { print STDERR '[bench] ', @_, "\n" }
sub die_ { die "bench: @_\n" }

# Runs CODE with a hard deadline of SECONDS; dies with a clear message when
# it is exceeded. The caller's cleanup (END, trap) still runs.
sub with_deadline {
    my ($seconds, $what, $code) = @_;
    local $SIG{ALRM} = sub { die "bench: $what took more than ${seconds}s, "
                                 . "aborted\n" };
    my $prev = alarm($seconds);
    my @r = eval { $code->() };
    my $err = $@;
    alarm(0);
    die $err if $err;
    return wantarray ? @r : $r[0];
}

# ==== the private ServerRoot ====

# Makes /tmp/aapi-bench.XXXXXX with conf/,
# htdocs/{plain,open,opendir,jwt,jwtdir,basic}/file.bin
# (the same 1 KiB), var/ for SQLite and logs/; the children (www-data when we
# are root) can read htdocs and write var/.
sub make_root {
    my $root = tempdir('aapi-bench.XXXXXX', DIR => '/tmp', CLEANUP => 0);
    chmod 0755, $root;
    mkdir "$root/$_" for qw(conf htdocs var logs out);
    my $data = join '', map { chr(($_ * 7 + 13) & 0xff) } 0 .. 1023;
    for my $d (qw(plain open opendir jwt jwtdir basic)) {
        mkdir "$root/htdocs/$d";
        open my $fh, '>:raw', "$root/htdocs/$d/file.bin" or die_ "write: $!";
        print $fh $data;
        close $fh;
    }
    # the HMAC secret: 48 random bytes (base64, as tools/run.sh makes it)
    open my $rnd, '<:raw', '/dev/urandom' or die_ "urandom: $!";
    read($rnd, my $secret, 48) == 48 or die_ 'short read from /dev/urandom';
    close $rnd;
    my $old = umask 077;
    open my $sf, '>', "$root/conf/jwt.secret" or die_ "secret: $!";
    print $sf encode_base64($secret, '');
    close $sf;
    umask $old;
    if ($> == 0) {
        my ($uid, $gid) = (getpwnam('www-data'))[2, 3];
        defined $uid or die_ 'running as root but there is no www-data user';
        # var/ for SQLite; logs/ and out/ and the secret for an httpd that
        # runs as www-data from the start (under valgrind, see write_conf)
        chown $uid, $gid, "$root/var", "$root/out", "$root/logs";
        chown 0, $gid, "$root/conf/jwt.secret";
        chmod 0640, "$root/conf/jwt.secret";
    }
    chmod 0777, "$root/out";    # callgrind writes its files as the child user
    return $root;
}

sub remove_root {
    my ($root) = @_;
    remove_tree($root) if $root && $root =~ m{^/tmp/aapi-bench\.} && -d $root;
}

# A free TCP port on 127.0.0.1 (asks the kernel).
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or die_ "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# Writes ROOT/conf/NAME.conf. %o: port, mpm (event|prefork), cost (bcrypt),
# extra (more directives), as_user (httpd itself will run as www-data).
# Returns the path.
sub write_conf {
    my ($root, $name, %o) = @_;
    my $port = $o{port} or die_ 'write_conf: port';
    my $mpm  = $o{mpm} || 'event';
    my $cost = $o{cost} || 10;
    my $extra = defined $o{extra} ? $o{extra} : '';
    # as root the children become www-data; with as_user the whole httpd is
    # started as www-data (no User lines): callgrind then writes its output
    # as the user it opened the file with
    my $user = $> == 0 && !$o{as_user} ? "User www-data\nGroup www-data\n" : '';
    my $mpm_conf = $mpm eq 'event' ? <<"EV" : <<"PF";
# two cores: two processes of 25 threads, all started at once and kept
# (no process is reaped in the middle of a measurement)
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
ServerLimit          2
StartServers         2
ThreadsPerChild      25
ThreadLimit          25
MaxRequestWorkers    50
MinSpareThreads      25
MaxSpareThreads      75
MaxConnectionsPerChild 0
AsyncRequestWorkerFactor 2
EV
# one process (httpd -X under valgrind)
LoadModule mpm_prefork_module $MODDIR/mod_mpm_prefork.so
StartServers         1
MaxRequestWorkers    1
MaxConnectionsPerChild 0
PF
    my $conf = <<"CONF";
# generated by bench/ - a private httpd on 127.0.0.1:$port
ServerRoot   "$root"
PidFile      "$root/logs/$name.pid"
ServerName   127.0.0.1
Listen       127.0.0.1:$port
$mpm_conf
LoadModule authz_core_module   $MODDIR/mod_authz_core.so
LoadModule authn_core_module   $MODDIR/mod_authn_core.so
LoadModule authz_user_module   $MODDIR/mod_authz_user.so
LoadModule auth_basic_module   $MODDIR/mod_auth_basic.so
LoadModule mime_module         $MODDIR/mod_mime.so
LoadModule dbd_module          $MODDIR/mod_dbd.so
LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so
LoadModule auth_api_module     "$MODULE"

$user
ErrorLog  "$root/logs/$name-error.log"
LogLevel  warn
# no access log: every scenario would pay the same write; leaving it out
# makes the module's share of the work larger, not smaller
TypesConfig /etc/mime.types
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
Timeout 60

DBDriver  sqlite3
DBDParams "$root/var/auth.db"

AuthAPIJWTSecretFile "$root/conf/jwt.secret"
AuthAPIIssuer        http://127.0.0.1
AuthAPIAudience      bench-api
AuthAPIPasswordHash  bcrypt $cost
$extra
# the bench registers and logs in from 127.0.0.1 more often than the default
# limits allow (once they exist)
<IfDirective AuthAPIRateLimit>
    AuthAPIRateLimit login    100000 1m
    AuthAPIRateLimit register 100000 1m
</IfDirective>

DocumentRoot "$root/htdocs"
<Directory "$root/htdocs">
    Options None
    AllowOverride None
    Require all granted
</Directory>

<Location /api/v1/auth>
    SetHandler auth-api
</Location>

# (a) /plain: unprotected
# /open: unprotected too, in a <Location> of its own, to tell what httpd
# spends merging such a section from what the protection in one costs
<Location /open>
    Require all granted
</Location>
# (b) /jwt: access token
<Location /jwt>
    AuthType auth-api
    Require valid-user
</Location>
# the same two ways in a <Directory>, as httpd's documentation advises for
# files on disk (httpd merges a <Location> twice a request, a <Directory>
# once)
<Directory "$root/htdocs/opendir">
    Require all granted
</Directory>
<Directory "$root/htdocs/jwtdir">
    AuthType auth-api
    Require valid-user
</Directory>
# (c) /basic: user name and password against the same accounts
<Location /basic>
    AuthType Basic
    AuthName bench
    AuthBasicProvider auth-api
    Require valid-user
</Location>
CONF
    $conf =~ s/\n{3,}/\n\n/g;
    my $path = "$root/conf/$name.conf";
    open my $fh, '>', $path or die_ "write $path: $!";
    print $fh $conf;
    close $fh;
    my $out = `@{[ as_user_prefix($o{as_user}) ]} $APACHE -t -f '$path' 2>&1`;
    $? == 0 or die_ "the configuration does not pass apache2 -t:\n$out";
    return $path;
}

# The command prefix that drops root to www-data (nothing when not root).
sub as_user_prefix {
    my ($on) = @_;
    return $on && $> == 0
        ? 'setpriv --reuid=www-data --regid=www-data --clear-groups' : '';
}

# ==== processes ====

# Starts ARGV (a list) in the background with stdout/stderr to LOG; returns
# its pid, remembered for stop_process / the cleanup.
sub start_process {
    my ($name, $log, @argv) = @_;
    my $pid = fork();
    defined $pid or die_ "fork: $!";
    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        exec @argv or POSIX::_exit(127);
    }
    $started{$pid} = $name;
    return $pid;
}

# Stops PID: SIGTERM, up to WAIT seconds, then SIGKILL (to that pid and, as
# it leads its own process group, to the httpd children it made).
sub stop_process {
    my ($pid, $wait) = @_;
    return unless $pid && $started{$pid};
    $wait ||= 30;
    kill 'TERM', $pid;
    my $deadline = time + $wait;
    my $status;
    while (time < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid || $r == -1) { $status = $?; last }
        sleep 0.05;
    }
    if (!defined $status) {
        say_ "$started{$pid} (pid $pid) did not stop in ${wait}s, killing it";
        kill 'KILL', -$pid;
        kill 'KILL', $pid;
        waitpid($pid, 0);
        $status = -1;
    }
    delete $started{$pid};
    return $status;
}

sub stop_all {
    for my $pid (keys %started) {
        stop_process($pid, 20);
    }
}

# Waits (at most SECONDS) until 127.0.0.1:PORT accepts a connection while
# PID is alive; returns the connected socket.
sub wait_listening {
    my ($port, $pid, $seconds, $errlog) = @_;
    my $deadline = time + $seconds;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $started{$pid};
            my $tail = $errlog && -f $errlog ? `tail -n 20 '$errlog'` : '';
            die_ "httpd exited during start-up (status $?)\n$tail";
        }
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => 2);
        return $s if $s;
        sleep 0.1;
    }
    die_ "httpd did not listen on 127.0.0.1:$port within ${seconds}s";
}

# ==== a tiny HTTP/1.1 client ====

sub http_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 10);
    $s or die_ "connect 127.0.0.1:$port: $!";
    return $s;
}

# Sends one request on SOCK (kept alive) and reads the whole response within
# TIMEOUT seconds. Returns (status, \%headers, body).
sub http_req {
    my ($sock, $method, $path, $headers, $body, $timeout) = @_;
    $timeout ||= 120;
    my $req = "$method $path HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for my $h (@{ $headers || [] }) { $req .= "$h\r\n" }
    if (defined $body) {
        $req .= 'Content-Length: ' . length($body) . "\r\n";
    }
    $req .= "\r\n" . (defined $body ? $body : '');
    my $off = 0;
    while ($off < length $req) {
        my $n = syswrite($sock, $req, length($req) - $off, $off);
        defined $n or die_ "write: $!";
        $off += $n;
    }
    my $buf = '';
    my $deadline = time + $timeout;
    my $read = sub {
        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        my $left = $deadline - time;
        die_ "no response to $method $path within ${timeout}s" if $left <= 0;
        select(my $rout = $rin, undef, undef, $left) or return;
        my $n = sysread($sock, $buf, 65536, length $buf);
        defined $n or die_ "read: $!";
        $n or die_ "connection closed during the response to $method $path";
    };
    $read->() while index($buf, "\r\n\r\n") < 0;
    my $end = index($buf, "\r\n\r\n");
    my ($status_line, @lines) = split /\r\n/, substr($buf, 0, $end);
    $buf = substr($buf, $end + 4);
    my ($status) = $status_line =~ m{^HTTP/1\.[01] (\d{3})}
        or die_ "bad status line: $status_line";
    my %h;
    for (@lines) { my ($k, $v) = split /:\s*/, $_, 2; $h{lc $k} = $v }
    my $content = '';
    if ($method eq 'HEAD' || $status == 204 || $status == 304) {
    }
    elsif (defined $h{'content-length'}) {
        $read->() while length($buf) < $h{'content-length'};
        $content = substr($buf, 0, $h{'content-length'});
    }
    elsif (($h{'transfer-encoding'} || '') =~ /chunked/i) {
        while (1) {
            $read->() while index($buf, "\r\n") < 0;
            my $e = index($buf, "\r\n");
            my $size = hex(substr($buf, 0, $e));
            $read->() while length($buf) < $e + 2 + $size + 2;
            $content .= substr($buf, $e + 2, $size);
            $buf = substr($buf, $e + 2 + $size + 2);
            last if $size == 0;
        }
    }
    else {
        die_ "response without length to $method $path";
    }
    return ($status, \%h, $content);
}

# ==== the API ====

sub api_post {
    my ($port, $what, $data) = @_;
    my $s = http_open($port);
    my ($st, $h, $body) = http_req($s, 'POST', "/api/v1/auth/$what",
        ['Content-Type: application/json', 'Connection: close'],
        JSON::PP->new->canonical->encode($data), 60);
    close $s;
    my $json = eval { JSON::PP->new->decode($body) };
    return ($st, $json, $body);
}

# Registers the bench account (or EMAIL with PASSWORD); returns its access
# token.
sub register_user {
    my ($port, $email, $password) = @_;
    my ($st, $json, $body) = api_post($port, 'register',
        { email => $email // $EMAIL, password => $password // $PASSWORD });
    $st == 201 && $json && $json->{data}{access_token}
        or die_ "register answered $st: $body";
    return $json->{data}{access_token};
}

# Logs the bench account in (a new session); returns the access token.
sub login_user {
    my ($port) = @_;
    my ($st, $json, $body) = api_post($port, 'login',
        { email => $EMAIL, password => $PASSWORD });
    $st == 200 && $json && $json->{data}{access_token}
        or die_ "login answered $st: $body";
    return $json->{data}{access_token};
}

sub basic_header {
    return 'Authorization: Basic ' . encode_base64("$EMAIL:$PASSWORD", '');
}

# Dies unless GET PATH with HEADERS answers WANT (a status).
sub check_status {
    my ($port, $path, $want, @headers) = @_;
    my $s = http_open($port);
    my ($st) = http_req($s, 'GET', $path, [@headers, 'Connection: close'],
                        undef, 60);
    close $s;
    $st == $want or die_ "GET $path answered $st, expected $want "
                         . "(the configuration is not what the bench needs)";
}

sub median {
    my @v = sort { $a <=> $b } @_;
    return undef unless @v;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

# Replaces the section TITLE of bench/last-run.txt with TEXT, keeping the
# other section (throughput / instructions).
sub results_write {
    my ($title, $text) = @_;
    my $file = "$TOP/bench/last-run.txt";
    my %sec;
    my @order;
    if (open my $in, '<', $file) {
        local $/;
        my $all = <$in>;
        close $in;
        while ($all =~ /^==== (.+?) ====\n(.*?)(?=^==== |\z)/msg) {
            push @order, $1 unless exists $sec{$1};
            $sec{$1} = $2;
        }
    }
    push @order, $title unless exists $sec{$title};
    $text .= "\n" unless $text =~ /\n\z/;
    $sec{$title} = "$text\n";
    open my $out, '>', "$file.tmp" or die_ "write $file: $!";
    print $out "==== $_ ====\n$sec{$_}" for @order;
    close $out;
    rename "$file.tmp", $file or die_ "rename: $!";
    return $file;
}

1;
