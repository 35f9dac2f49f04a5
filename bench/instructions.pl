#!/usr/bin/perl
# bench/instructions.pl - "make bench-instructions": instructions per
# request (valgrind --tool=callgrind, Ir) of httpd -X (prefork, one process)
# serving the 1 KiB file (a) unprotected, (b) with the same access token every
# time (in a <Location>, and as (b-dir) in a <Directory>), (b-cold) with a
# token it has never seen (a session of its own, made by a login
# beforehand), (b-fresh) with a token it has just issued, (b-moved) after
# another user's password change (the global revocation counter moved),
# (b-shard) after a logout of a session of another shard (its counter
# moved), (c) with the same Basic credentials every time; and, to
# tell httpd's share from the module's, (a) with (b)'s header and in a
# section of its own. See bench/README.md.
#
# Each scenario runs once under callgrind, started with its instrumentation
# off (--instr-atstart=no), so that start-up, the set-up (the logins that
# mint (b-fresh)'s tokens, (b-moved)'s password changes, (b-shard)'s
# logouts), one warm-up request of the
# scenario and shut-down are not counted. The instrumentation is switched
# on for the N measured requests only (vgdb "instrumentation on|off", what
# callgrind_control -i sends: once around all N, or for (b-moved) and
# (b-shard) around each request after its set-up), always while httpd
# waits for the next
# request on the keep-alive connection (asleep in a system call, read from
# /proc), so that the dump holds N whole requests and nothing else; each
# measured request is sent only once httpd waits for it. Per request = Ir
# of the dump / N. The dumps are also checked for what the requests did
# (e.g. no (b-fresh) request asks the database).
#
#   BENCH_N         requests per measured run (200)
#   BENCH_TIMEOUT   whole run, seconds (900)
#   BENCH_KEEP=1    keep the temporary ServerRoot (callgrind files in out/:
#                   callgrind.<scenario>.1 holds the measured requests)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use AapiBench qw(say_ die_ with_deadline make_root as_user_prefix remove_root free_port
                 write_conf start_process stop_process wait_listening http_open
                 http_req register_user login_user basic_header results_write
                 check_status);
use JSON::PP ();
use Math::BigInt ();
use MIME::Base64 ();
use Time::HiRes qw(time sleep);

$| = 1;    # the table (stdout) before the last progress line (stderr)

my $N       = $ENV{BENCH_N}       || 200;
my $TIMEOUT = $ENV{BENCH_TIMEOUT} || 900;
$N =~ /^\d+$/ && $N >= 10 && $N <= 5000 or die_ 'BENCH_N: 10 to 5000';
$TIMEOUT =~ /^\d+$/ or die_ 'BENCH_TIMEOUT: seconds';
-x '/usr/bin/valgrind' or die_ 'valgrind is missing (make bench-instructions '
                             . 'installs it as root)';

# Settings of the measured server, and why:
#  - bcrypt 4: only the warm-up and the logins that mint the tokens hash a
#    password; the measured requests never do (cache), so the cost does not
#    enter the per-request figure, only the run time under valgrind.
#  - AuthAPIAccessTTL 1h: the minted tokens stay valid through all runs.
#  - AuthAPISessionCacheTTL 1h: under callgrind N requests take many seconds;
#    with the 5 s default the per-process caches would expire in the middle
#    and a few "warm" requests would be cold ones. At full speed a re-check
#    every 5 s is spread over thousands of requests; its cost is (b-cold).
#    It also keeps (b-fresh)'s sessions live in the shared cache from their
#    login to their measured request (seconds apart; the run is checked:
#    no measured (b-fresh) request may ask the database).
#  - AuthAPIPruneInterval 0: no pruning thread. Its mod_watchdog thread
#    wakes ten times a second to see whether a run is due; under callgrind
#    the N requests take seconds, and those wake-ups (about 400
#    instructions a request here, none of them the requests') would be
#    counted as the requests'. At full speed they are ten a second
#    whatever the load; the pruning runs themselves are hourly.
my $EXTRA = "AuthAPIAccessTTL 1h\nAuthAPISessionCacheTTL 1h\n"
          . "AuthAPIPruneInterval 0\n";

my ($root, $pid);
our @fresh;     # tokens issued by the server under callgrind (b-fresh)
our $fresh_from;    # when the first of them was asked for
our @spare;     # sessions to log out in (b-shard), one a measured request,
                # none in the shard of the warm token's session
our $other;     # the token of another account, whose password (b-moved)
                # changes before each measured request
our @other_pw = ('Other!Perf-2024x', 'Other!Perf-2025y');
our $other_turn = 0;    # which of @other_pw is the current one
my $cleaned;
sub cleanup {
    return if $cleaned++;
    stop_process($pid, 60) if $pid;
    if ($root) {
        if ($ENV{BENCH_KEEP}) { say_ "kept $root" } else { remove_root($root) }
    }
}
END { my $rc = $?; cleanup(); $? = $rc }
$SIG{INT} = $SIG{TERM} = $SIG{HUP} = sub { die "bench: interrupted\n" };

my $ok = eval { with_deadline($TIMEOUT, 'make bench-instructions', \&main); 1 };
if (!$ok) {
    print STDERR $@;
    for my $log (glob($root ? "$root/logs/*-error.log" : '')) {
        print STDERR "---- $log (tail) ----\n", `tail -n 15 '$log'`;
    }
    cleanup();
    exit 1;
}
exit 0;

sub main {
    my $t0 = time;
    $root = make_root();
    my $port = free_port();

    # 1. an ordinary httpd on the same database: the account, the warm
    #    token, N+1 tokens of N+1 sessions for the cold run, N sessions of
    #    other shards than the warm token's for (b-shard) to log out, and
    #    another account for (b-moved)
    my $conf = write_conf($root, 'mint', port => $port, mpm => 'prefork',
                          cost => 4, extra => $EXTRA);
    $pid = start_process('httpd (mint)', "$root/logs/mint-stdout.log",
                         $AapiBench::APACHE, '-f', $conf, '-DFOREGROUND');
    close(wait_listening($port, $pid, 30, "$root/logs/mint-error.log"));
    my $warm = register_user($port);
    my @cold = map { login_user($port) } 0 .. $N;
    my $warm_shard = shard_of($warm);
    for (my $tries = 0; @spare < $N; $tries++) {
        $tries < 4 * $N or die_ 'too few sessions outside the warm shard';
        my $t = login_user($port);
        push @spare, $t if shard_of($t) != $warm_shard;
    }
    $other = register_user($port, 'bench.other@example.com', $other_pw[0]);
    my %seen;
    $seen{$_}++ and die_ 'two logins gave the same token'
        for @cold, $warm, @spare;
    check_status($port, '/jwt/file.bin', 401);
    check_status($port, '/basic/file.bin', 401);
    check_status($port, '/jwtdir/file.bin', 401);
    check_status($port, '/jwt/file.bin', 200, "Authorization: Bearer $warm");
    check_status($port, '/jwtdir/file.bin', 200, "Authorization: Bearer $warm");
    check_status($port, '/basic/file.bin', 200, basic_header());
    stop_process($pid, 30);
    $pid = undef;
    say_ sprintf 'account and %d tokens ready (%.0fs)', scalar(@cold),
                 time - $t0;

    # 2. the callgrind runs
    my $cg = write_conf($root, 'cg', port => $port, mpm => 'prefork',
                        cost => 4, extra => $EXTRA, as_user => 1);
    # what each measured request of a Bearer scenario must do, checked in
    # the dump (calls a request): verify the signature, check the session
    # (shared cache), ask the database
    my %warm_path = (aapi_jwt_verify => 0, aapi_session_check => 0,
                     aapi_store_session_live => 0);
    my %scen = (
        a     => { label => '(a) unprotected',
                   path  => '/plain/file.bin', hdr => sub { () } },
        # the same unprotected file with the Bearer header of (b), which
        # nothing checks: what httpd spends reading that header alone
        ah    => { label => '(a+h) unprotected, header',
                   path  => '/plain/file.bin',
                   hdr   => sub { ("Authorization: Bearer $warm") } },
        # the same again in a <Location> section of its own, as (b) is:
        # what httpd spends merging the section's configuration
        ahl   => { label => '(a+h+l) header, <Location>',
                   path  => '/open/file.bin',
                   hdr   => sub { ("Authorization: Bearer $warm") } },
        b     => { label => '(b) Bearer, warm',
                   path  => '/jwt/file.bin', expect => \%warm_path,
                   hdr   => sub { ("Authorization: Bearer $warm") } },
        # the same two in a <Directory> section instead (httpd's advice for
        # files on disk): one merge a request instead of two
        ahd   => { label => '(a+h+d) header, <Directory>',
                   path  => '/opendir/file.bin',
                   hdr   => sub { ("Authorization: Bearer $warm") } },
        bd    => { label => '(b-dir) Bearer, <Directory>',
                   path  => '/jwtdir/file.bin', expect => \%warm_path,
                   hdr   => sub { ("Authorization: Bearer $warm") } },
        bcold => { label => '(b-cold) Bearer, new token',
                   path  => '/jwt/file.bin',
                   expect => { aapi_jwt_verify => 1, aapi_session_check => 1,
                               aapi_store_session_live => 1 },
                   hdr   => sub { ("Authorization: Bearer $cold[$_[0]]") } },
        # the first request with a token this server has just issued: a
        # user signs in, then opens a page. The N+1 logins are set-up,
        # made before the warm-up, uncounted; the sessions stay live in
        # the shared cache (AuthAPISessionCacheTTL 1h)
        bfresh => { label => '(b-fresh) Bearer, just issued',
                    path  => '/jwt/file.bin',
                    prelude => \&login_on_socket,
                    expect => { aapi_jwt_verify => 1, aapi_session_check => 1,
                                aapi_store_session_live => 0 },
                    hdr   => sub { ("Authorization: Bearer $fresh[$_[0]]") } },
        # the token of (b), each time after another user's password
        # change has moved the global revocation counter: the process
        # re-checks the session (shared cache), not the signature; a logout
        # of a session of the warm token's shard costs the same. The
        # changes are set-up: callgrind is off while they run
        bmoved => { label => '(b-moved) Bearer, after a change elsewhere',
                    path  => '/jwt/file.bin',
                    before => \&change_password_on_socket,
                    expect => { aapi_jwt_verify => 0, aapi_session_check => 1,
                                aapi_store_session_live => 0 },
                    hdr   => sub { ("Authorization: Bearer $warm") } },
        # the token of (b), each time after a logout of a session of
        # another shard: the warm path
        bshard => { label => '(b-shard) Bearer, after a logout',
                    path  => '/jwt/file.bin',
                    before => \&logout_spare_on_socket,
                    expect => \%warm_path,
                    hdr   => sub { ("Authorization: Bearer $warm") } },
        c     => { label => '(c) Basic, warm',
                   path  => '/basic/file.bin',
                   hdr   => sub { (basic_header()) } },
    );
    my @order = qw(a ah ahl b ahd bd bcold bfresh bmoved bshard c);
    for my $k (@order) {
        my $s = $scen{$k};
        $s->{run} = callgrind_run($cg, $port, $k, $s);
        $s->{per} = $s->{run}{ir} / $N;
        # the module's own share: inclusive Ir of its hook / provider
        $s->{graph} = call_graph($s->{run}{file});
        for my $fn (qw(aapi_check_authn basic_check)) {
            my $d = $s->{graph}{$fn}{incl} || 0;
            $s->{own}{$fn} = $d / $N if $d;
        }
        check_paths($s) if $s->{expect};
        say_ sprintf '%-28s %10.0f Ir/request (%.0fs so far)', $s->{label},
                     $s->{per}, time - $t0;
    }

    my $plain = $scen{a}{per};
    my $out = sprintf "%s  valgrind --tool=callgrind, apache2 -X (prefork), "
        . "N=%d requests on one keep-alive connection after one warm-up, "
        . "instrumentation on for those N only, Ir / N\n\n",
        scalar(localtime), $N;
    $out .= sprintf "%-33s %12s %12s %14s\n", 'scenario', 'Ir/request',
                    'extra vs (a)', 'in the module';
    for my $k (@order) {
        my $s = $scen{$k};
        # (c) runs the module's check_authn too, which declines AuthType
        # Basic at once; its share is the provider's
        my $own = $k eq 'c' ? $s->{own}{basic_check}
                            : $s->{own}{aapi_check_authn};
        $out .= sprintf "%-33s %12.0f %12s %14s\n", $s->{label}, $s->{per},
            $k eq 'a' ? '-' : sprintf('%+.0f', $s->{per} - $plain),
            defined $own ? sprintf('%.0f', $own) : '-';
    }
    my $xb = $scen{b}{per} - $plain;
    my $xd = $scen{bd}{per} - $plain;
    my $xh = $scen{ah}{per} - $plain;
    $out .= sprintf "\nof (b)'s %+.0f: %+.0f are httpd reading the %d-byte "
        . "Authorization header (a+h vs a), %+.0f httpd merging a <Location> "
        . "section (a+h+l vs a+h), %+.0f the protection itself (b vs a+h+l: "
        . "%.0f in the module, the rest httpd's authn/authz hooks)\n",
        $xb, $xh, length("Authorization: Bearer $warm"),
        $scen{ahl}{per} - $scen{ah}{per}, $scen{b}{per} - $scen{ahl}{per},
        $scen{b}{own}{aapi_check_authn} || 0;
    $out .= sprintf "of (b-dir)'s %+.0f: %+.0f the header, %+.0f httpd merging "
        . "a <Directory> section (a+h+d vs a+h), %+.0f the protection itself "
        . "(b-dir vs a+h+d: %.0f in the module)\n",
        $xd, $xh, $scen{ahd}{per} - $scen{ah}{per},
        $scen{bd}{per} - $scen{ahd}{per}, $scen{bd}{own}{aapi_check_authn} || 0;
    my $xc = $scen{bcold}{per} - $plain;
    my $fresh_age = $scen{bfresh}{done} - $fresh_from;
    my $xf = $scen{bfresh}{per} - $plain;
    $out .= sprintf "\n'in the module': inclusive Ir of aapi_check_authn "
        . "(Bearer) or of the Basic provider basic_check, per request (the "
        . "module's check_authn declining (c)'s AuthType Basic: %.0f)\n",
        $scen{c}{own}{aapi_check_authn} || 0;
    $out .= "checked in the dumps, calls a measured request (signature / "
          . "session check / database): " . join(', ', map {
              my $c = $scen{$_}{calls};
              sprintf '%s %s', $scen{$_}{label} =~ /^(\S+)/,
                  join(' / ', map { defined $c->{$_} ? sprintf('%.0f', $c->{$_})
                                                      : '-' }
                       qw(aapi_jwt_verify aapi_session_check
                          aapi_store_session_live))
          } grep { $scen{$_}{expect} } @order) . "\n";
    $out .= sprintf "(b-fresh)'s sessions were issued by the measured server "
        . "%.0fs at most before their request (AuthAPISessionCacheTTL 1h "
        . "keeps them live in its shared cache)\n", $fresh_age;
    $out .= "(b-moved): before each request another account's password "
          . "changed (the global revocation counter moved; a logout of a "
          . "session of the token's own shard costs the same); (b-shard): "
          . "before each, a session of another of the 64 shards was logged "
          . "out (that shard's counter moved)\n";
    $out .= sprintf "targets: warm <= 6000 extra: in a <Directory> %s "
        . "(%+.0f), in a <Location> %s (%+.0f);  cold <= 40000 extra: just "
        . "issued %s (%+.0f), session new to this server %s (%+.0f)\n",
        $xd <= 6000 ? 'met' : 'MISSED', $xd,
        $xb <= 6000 ? 'met' : 'MISSED', $xb,
        $xf <= 40000 ? 'met' : 'MISSED', $xf,
        $xc <= 40000 ? 'met' : 'MISSED', $xc;

    # where the protected requests spend it
    for my $k (qw(b bcold bfresh bmoved c)) {
        my $fn = $k eq 'c' ? 'basic_check' : 'aapi_check_authn';
        my $tree = callee_tree($scen{$k}{graph}, $fn, $N,
                               $k =~ /cold|fresh|moved/ ? 3 : 4, $k =~ /cold|fresh|moved/ ? 1000 : 100);
        $out .= "\n$scen{$k}{label}: inside $fn, inclusive Ir per request "
              . "(callees)\n$tree" if $tree;
    }
    for my $k (qw(b bcold bfresh bmoved c)) {
        $out .= "\n$scen{$k}{label}: functions whose own Ir per request grew "
              . "most over (a)\n" . self_diff($scen{$k}, $scen{a}, $N, 25);
    }
    $out .= sprintf "\n(total %.0fs)\n", time - $t0;
    print "\n$out";
    my $file = results_write('instructions (make bench-instructions)', $out);
    say_ "written to $file";
}

# Logs session TOKEN out on SOCK (the server under callgrind).
sub logout_on_socket {
    my ($sock, $token) = @_;
    my ($st) = http_req($sock, 'POST', '/api/v1/auth/logout',
        ["Authorization: Bearer $token", 'Content-Type: application/json'],
        '{}', 120);
    $st == 200 or die_ "logout under callgrind answered $st";
}

# Logs the next session of @spare out on SOCK.
sub logout_spare_on_socket {
    my ($sock) = @_;
    logout_on_socket($sock, shift @spare // die_ 'no spare session left');
}

# Changes the other account's password on SOCK, from one of @other_pw to
# the other (its other sessions end, none; its token stays good).
sub change_password_on_socket {
    my ($sock) = @_;
    my ($cur, $new) = @other_pw[$other_turn % 2, ($other_turn + 1) % 2];
    $other_turn++;
    my ($st) = http_req($sock, 'POST', '/api/v1/auth/change-password',
        ["Authorization: Bearer $other", 'Content-Type: application/json'],
        qq({"current_password":"$cur","new_password":"$new"}), 120);
    $st == 200 or die_ "password change under callgrind answered $st";
}

# Returns the revocation shard of the session of TOKEN, as the module
# computes it (tokcache.c): the first eight bytes of the session id as a
# little-endian number, times 0x9e3779b97f4a7c15 modulo 2^64, the top six
# bits.
sub shard_of {
    my ($token) = @_;
    my $payload = (split /\./, $token)[1] // '';
    $payload =~ tr{-_}{+/};
    $payload .= '=' x ((4 - length($payload) % 4) % 4);
    my $claims = JSON::PP->new->decode(MIME::Base64::decode_base64($payload));
    my $w = Math::BigInt->new(0);
    my @b = unpack 'C*', substr(($claims->{sid} // '') . ("\0" x 8), 0, 8);
    $w = $w * 256 + $b[$_] for reverse 0 .. 7;
    my $m = ($w * Math::BigInt->from_hex('9e3779b97f4a7c15'))
            % Math::BigInt->new(2)->bpow(64);
    return ($m >> 58)->numify;
}

# Logs in N+1 times on SOCK (the server under callgrind), keeping the tokens
# in @fresh.
sub login_on_socket {
    my ($sock) = @_;
    @fresh = ();
    $fresh_from = time;
    for my $i (0 .. $N) {
        my ($st, $h, $body) = http_req($sock, 'POST', '/api/v1/auth/login',
            ['Content-Type: application/json'],
            qq({"email":"$AapiBench::EMAIL","password":"$AapiBench::PASSWORD"}),
            120);
        my ($tok) = $body =~ /"access_token":"([^"]+)"/;
        $st == 200 && $tok or die_ "login under callgrind answered $st";
        push @fresh, $tok;
    }
}

# Starts httpd -X under callgrind with its instrumentation off, runs S's
# set-up (prelude) and its warm-up request, then the N measured requests on
# the same connection (each must answer 200 with the file) with callgrind's
# instrumentation on, dumps what it counted, stops httpd; returns { file =>
# the dump, ir => its total Ir }. (b-moved) changes another user's
# password, (b-shard) logs a session out, before each measured request,
# with the instrumentation off.
sub callgrind_run {
    my ($conf, $port, $tag, $s) = @_;
    my $file = "$root/out/callgrind.$tag";
    my $log = "$root/logs/cg-$tag.log";
    # every run starts with an empty SQLite write-ahead log, so that the
    # database is read the same way from one run to the next
    # (its answer, "0|0|0", is not printed)
    system('sh', '-c', 'exec sqlite3 "$1" "PRAGMA wal_checkpoint(TRUNCATE);" '
           . '>/dev/null', 'checkpoint', "$root/var/auth.db") == 0
        or die_ 'sqlite3 could not checkpoint the database';
    $pid = start_process("httpd -X under callgrind ($tag)", $log,
        split(' ', as_user_prefix(1)),
        'valgrind', '--tool=callgrind', "--callgrind-out-file=$file",
        '--instr-atstart=no', '--vgdb=yes', "--vgdb-prefix=$root/out/vgdb",
        '--dump-instr=no', '--compress-strings=no', '--compress-pos=no',
        $AapiBench::APACHE, '-X', '-f', $conf);
    my $sock = wait_listening($port, $pid, 180, "$root/logs/cg-error.log");
    $s->{prelude}->($sock) if $s->{prelude};
    my $get = sub {
        my ($i) = @_;
        my ($st, $h, $body) = http_req($sock, 'GET', $s->{path},
                                       [$s->{hdr}->($i)], undef, 120);
        $st == 200 && length($body) == 1024
            or die_ "$s->{label}, request $i: $st, " . length($body)
                    . ' bytes (expected 200 and the 1 KiB file)';
    };
    $get->(0);                              # the warm-up
    for my $i (1 .. $N) {
        # (b-moved), (b-shard): the set-up (a password change, a logout)
        # is not counted, only the request after it. The two fall into one
        # second of the clock: httpd formats its Date header once a
        # second; switching the instrumentation on between them (0.1 s)
        # would otherwise hand that to about one measured request in
        # eight, where consecutive requests meet it once in hundreds
        if ($s->{before}) {
            my $frac = time - int(time);
            sleep(1.02 - $frac) if $frac > 0.6;
            $s->{before}->($sock);
        }
        # every request is sent once httpd waits for it: had it not finished
        # with the one before, it would find the next one already there
        # and take another path (no flush of the connection's output)
        wait_idle($pid, 120);
        # the instrumentation is switched only while httpd waits, so that
        # it counts whole requests: on for the N (around each of (b-moved)'s
        # and (b-shard)'s N), off for all else
        vgdb($pid, 'instrumentation', 'on') if $i == 1 || $s->{before};
        $get->($i);
        if ($i == $N || $s->{before}) {
            wait_idle($pid, 120);
            vgdb($pid, 'instrumentation', 'off');
        }
    }
    $s->{done} = time;
    vgdb($pid, 'dump', 'measured');
    close $sock;
    my $status = stop_process($pid, 120);
    $pid = undef;
    my $dump = "$file.1";
    -s $dump or die_ "no callgrind dump for $tag (status $status); see $log";
    my $run = read_callgrind($dump);
    $run->{trigger} eq 'dump measured' && $run->{ir} > 0
        or die_ "$dump is not a dump of the measured requests";
    return { file => $dump, %$run };
}

# Sends the monitor command ARGS to callgrind in PID through vgdb (as
# callgrind_control does; vgdb wakes a process blocked in a system call
# through ptrace), as the user httpd runs as; dies when it fails.
sub vgdb {
    my ($pid, @args) = @_;
    my @argv = (split(' ', as_user_prefix(1)), 'timeout', '60', 'vgdb',
                "--vgdb-prefix=$root/out/vgdb", "--pid=$pid",
                '--max-invoke-ms=1', @args);
    open my $fh, '-|', 'sh', '-c', 'exec "$@" 2>&1', 'vgdb', @argv
        or die_ "vgdb: $!";
    my $out = do { local $/; <$fh> };
    close $fh;
    $? == 0 or die_ "vgdb @args failed (status $?): $out";
    return $out;
}

# /proc/PID's state, CPU time and system call: a string when the process
# is blocked in a system call, else undef; dies when it has exited.
sub blocked_state {
    my ($pid) = @_;
    my $stat = '';
    if (open my $fh, '<', "/proc/$pid/stat") {
        $stat = <$fh> // '';
        close $fh;
    }
    my ($rest) = $stat =~ /\)\s+(.*)/s;
    my @f = split ' ', $rest // 'X';
    $f[0] =~ /^[ZX]$/ and die_ "httpd (pid $pid) has exited";
    return undef unless @f > 12 && $f[0] eq 'S';
    my $call = '';
    if (open my $sc, '<', "/proc/$pid/syscall") {
        $call = <$sc> // '';
        close $sc;
        return undef if $call =~ /^running/;
    }
    return "$f[11] $f[12] $call";           # utime stime syscall
}

# Waits (at most SECONDS) until PID waits for the next request: asleep in
# the same system call with the same CPU time three times 2 ms apart (the
# work between requests runs without blocking). A response is read by the
# client before httpd has finished with its request (the flush, the pool,
# the log hooks); this waits for that end.
sub wait_idle {
    my ($pid, $seconds) = @_;
    my $deadline = time + $seconds;
    my ($prev, $same) = ('', 0);
    while (1) {
        my $now = blocked_state($pid);
        $same = defined $now && $now eq $prev ? $same + 1 : 0;
        return if $same >= 2;
        $prev = defined $now ? $now : '';
        time < $deadline
            or die_ "httpd (pid $pid) did not wait for the next request "
                    . "within ${seconds}s";
        sleep 0.002;
    }
}

# Dies unless the measured requests of scenario S made the calls its
# "expect" says (function => calls a request), e.g. (b-fresh) found its
# session in the shared cache every time, never in the database; keeps the
# figures in S->{calls}.
sub check_paths {
    my ($s) = @_;
    for my $fn (sort keys %{ $s->{expect} }) {
        my $calls = 0;
        for my $caller (values %{ $s->{graph} }) {
            my $c = $caller->{callees}{$fn};
            $calls += $c->[1] if $c;
        }
        $s->{calls}{$fn} = $calls / $N;
        $calls == $s->{expect}{$fn} * $N
            or die_ sprintf "%s: %s ran %d times in %d measured requests, "
                . "expected %d a request: the scenario is not what it says",
                $s->{label}, $fn, $calls, $N, $s->{expect}{$fn};
    }
}

# Reads the total Ir of a callgrind dump (its "totals:" line, the sum of
# its costs: with the instrumentation switched off and on in the middle,
# the "summary:" line is not that sum) and what made the dump.
sub read_callgrind {
    my ($file) = @_;
    my ($ir, $trigger) = (undef, '');
    open my $fh, '<', $file or die_ "$file: $!";
    while (<$fh>) {
        $ir = $1 if /^totals:\s*(\d+)/;
        $trigger = $1 if /^desc: Trigger: (.*?)\s*$/;
    }
    close $fh;
    defined $ir or die_ "no totals line in $file";
    return { ir => $ir, trigger => $trigger };
}

# callgrind_annotate's output lines (its warnings dropped).
sub annotate {
    my ($file, @opt) = @_;
    open my $fh, '-|', 'sh', '-c',
        'exec timeout 120 callgrind_annotate "$@" 2>/dev/null', 'annotate',
        @opt, '--threshold=100', $file or die_ "callgrind_annotate: $!";
    my @lines = <$fh>;
    close $fh;
    return @lines;
}

# Function names whose code is in the module (found with their object).
my %in_module;

sub fn_name {
    my ($s) = @_;
    my $mod = $s =~ /\[[^\]]*mod_auth_api\.so\]\s*$/;
    my ($obj) = $s =~ /\[(?:[^\]]*\/)?([^\]\/]*)\]\s*$/;
    $s =~ s/\s+\[[^\]]*\]\s*$//;    # [object]
    $s =~ s/\s+\(\d[\d,]*x\)\s*$//;   # (calls)
    $s =~ s/^.*://;                 # file:
    # a copy GCC made under link-time optimisation (publish.lto_priv.0,
    # f.constprop.0, f.part.0, f.isra.0, f.cold) is counted as the function
    $s =~ s/(?:\.(?:lto_priv|constprop|part|isra|cold)(?:\.\d+)?)+(?='|$)//;
    $s .= " in $obj" if $s =~ /^0x/ && $obj;    # an address: say where
    $in_module{$s} = 1 if $mod || $s =~ /^aapi_/;
    return $s;
}

# The call graph of FILE: { fn => { incl => Ir, callees => { fn => [Ir,
# calls] } } }, inclusive costs; a function callgrind lists twice (with and
# without its source file) is merged by taking the larger figures.
sub call_graph {
    my ($file) = @_;
    my (%g, $cur);
    for (annotate($file, '--inclusive=yes', '--tree=calling')) {
        if (/^\s*([\d,]+)\s+\([^)]*\)\s+\*\s+(.*)$/) {
            (my $v = $1) =~ tr/,//d;
            $cur = fn_name($2);
            $g{$cur}{incl} = $v if $v > ($g{$cur}{incl} || 0);
        }
        elsif ($cur && /^\s*([\d,]+)\s+\([^)]*\)\s+>\s+(.*)$/) {
            (my $v = $1) =~ tr/,//d;
            my $rest = $2;
            my ($calls) = $rest =~ /\((\d[\d,]*)x\)/;
            $calls =~ tr/,//d if defined $calls;
            my $c = fn_name($rest);
            my $old = $g{$cur}{callees}{$c};
            $g{$cur}{callees}{$c} = [$v, $calls || 0]
                if !$old || $v > $old->[0];
        }
        elsif (/^\s*$/) {
            $cur = undef;
        }
    }
    return \%g;
}

# Exclusive Ir per function of FILE (a function listed twice is summed).
sub self_costs {
    my ($file) = @_;
    my %c;
    for (annotate($file, '--auto=no')) {
        next unless /^\s*([\d,]+)\s+\([^)]*\)\s+(\S.*)$/;
        my $rest = $2;
        next if $rest =~ /PROGRAM TOTALS/;
        (my $v = $1) =~ tr/,//d;
        # one function at several recursion levels (name'2) is one
        (my $fn = fn_name($rest)) =~ s/'\d+$//;
        $c{$fn} += $v;
    }
    return \%c;
}

# The functions whose own (exclusive) Ir per request grew most from (a) to
# scenario S: (S - a) / N, top COUNT.
sub self_diff {
    my ($s, $plain, $n, $count) = @_;
    my %d;
    my @f = map { self_costs($_) } $s->{run}{file}, $plain->{run}{file};
    my %names = map { %$_ } @f;
    for my $fn (keys %names) {
        my @v = map { $_->{$fn} || 0 } @f;
        $d{$fn} = ($v[0] - $v[1]) / $n;
    }
    my @top = (sort { $d{$b} <=> $d{$a} } keys %d)[0 .. $count - 1];
    return join '', map {
        sprintf "  %9.0f  %s%s\n", $d{$_}, $_, $in_module{$_} ? '' : '  (not module code)'
    } grep { defined && $d{$_} >= 50 } @top;
}

# The tree of callees under ROOT in call graph G, per request (/ N) for
# each edge, down to DEPTH levels, edges under MIN Ir per request left out.
sub callee_tree {
    my ($g, $root_fn, $n, $depth, $min) = @_;
    my $out = '';
    my %on_path;
    my $walk;
    $walk = sub {
        my ($fn, $level) = @_;
        return if $level > $depth || $on_path{$fn};
        local $on_path{$fn} = 1;
        my $fc = $g->{$fn}{callees} || {};
        my @rows;
        for my $c (keys %$fc) {
            my $ir = $fc->{$c}[0] / $n;
            my $calls = $fc->{$c}[1] / $n;
            push @rows, [$ir, $c, $calls] if $ir >= $min;
        }
        for my $r (sort { $b->[0] <=> $a->[0] } @rows) {
            $out .= sprintf "  %9.0f  %s%s%s\n", $r->[0], '  ' x ($level - 1),
                            $r->[1], $r->[2] && $r->[2] != 1
                                     ? sprintf(' (%.2g calls)', $r->[2]) : '';
            # a library function's callees are summed over all its callers
            # by callgrind: only the module's own functions are opened up
            $walk->($r->[1], $level + 1) if $in_module{$r->[1]};
        }
    };
    $walk->($root_fn, 1);
    return $out;
}
