#!/usr/bin/perl
# bench/throughput.pl - "make bench": requests per second of a 1 KiB static
# file served (a) unprotected, (b) under AuthType auth-api with a Bearer
# token, (c) under AuthType Basic with AuthBasicProvider auth-api; wrk on
# loopback, the three interleaved round by round, medians and ratios.
#
#   BENCH_ROUNDS    rounds (15)         BENCH_DURATION  seconds per run (2)
#   BENCH_THREADS   wrk threads (2)     BENCH_CONNS     wrk connections (32)
#   BENCH_COST      bcrypt cost (10)    BENCH_TIMEOUT   whole run, seconds
#   BENCH_KEEP=1    keep the temporary ServerRoot
#   BENCH_EXTRA     more directives for the server configuration (experiments)
use strict;
use warnings;
use FindBin;
use POSIX ();
use lib "$FindBin::Bin/lib";
use AapiBench qw(say_ die_ with_deadline make_root remove_root free_port
                 write_conf start_process stop_process wait_listening http_open
                 http_req register_user basic_header results_write median
                 check_status);

my $ROUNDS   = $ENV{BENCH_ROUNDS}   || 15;
my $DURATION = $ENV{BENCH_DURATION} || 2;
my $THREADS  = $ENV{BENCH_THREADS}  || 2;
my $CONNS    = $ENV{BENCH_CONNS}    || 32;
my $COST     = $ENV{BENCH_COST}     || 10;
my $TIMEOUT  = $ENV{BENCH_TIMEOUT}
               || 120 + $ROUNDS * 3 * ($DURATION + 10);
for ($ROUNDS, $DURATION, $THREADS, $CONNS, $COST, $TIMEOUT) {
    /^\d+$/ && $_ > 0 or die_ "BENCH_* settings must be positive integers";
}
$ROUNDS <= 50 && $DURATION <= 120 or die_ 'at most 50 rounds of 120 s';

-x '/usr/bin/wrk' or die_ 'wrk is missing (make bench installs it as root)';

my ($root, $pid);
my $cleaned;
sub cleanup {
    return if $cleaned++;
    stop_process($pid, 20) if $pid;
    if ($root) {
        if ($ENV{BENCH_KEEP}) { say_ "kept $root" } else { remove_root($root) }
    }
}
END { my $rc = $?; cleanup(); $? = $rc }
$SIG{INT} = $SIG{TERM} = $SIG{HUP} = sub { die "bench: interrupted\n" };

my $status = eval { with_deadline($TIMEOUT, 'make bench', \&main); 1 };
if (!$status) {
    print STDERR $@;
    if ($root && -f "$root/logs/bench-error.log") {
        print STDERR "---- httpd error log (tail) ----\n",
                     `tail -n 30 '$root/logs/bench-error.log'`;
    }
    cleanup();
    exit 1;
}
exit 0;

sub main {
    $root = make_root();
    my $port = free_port();
    my $conf = write_conf($root, 'bench', port => $port, mpm => 'event',
                          cost => $COST, extra => $ENV{BENCH_EXTRA});
    say_ "ServerRoot $root, 127.0.0.1:$port, event MPM, bcrypt $COST";
    $pid = start_process('httpd', "$root/logs/bench-stdout.log",
                         $AapiBench::APACHE, '-f', $conf, '-DFOREGROUND');
    close(wait_listening($port, $pid, 30, "$root/logs/bench-error.log"));

    my $token = register_user($port);
    my %scen = (
        a => { name => '(a) plain',  path => '/plain/file.bin', hdr => [] },
        b => { name => '(b) bearer', path => '/jwt/file.bin',
               hdr => ["Authorization: Bearer $token"] },
        c => { name => '(c) basic',  path => '/basic/file.bin',
               hdr => [basic_header()] },
    );
    # the configuration really protects (b) and (c), and each answers the
    # file with its credentials
    check_status($port, '/jwt/file.bin', 401);
    check_status($port, '/basic/file.bin', 401);
    check_status($port, '/jwt/file.bin', 401,
                 'Authorization: Bearer ' . substr($token, 0, -2) . 'xx');
    for my $k (qw(a b c)) {
        my $s = http_open($port);
        my ($st, $h, $body) = http_req($s, 'GET', $scen{$k}{path},
                                       [@{ $scen{$k}{hdr} }, 'Connection: close']);
        close $s;
        $st == 200 && length($body) == 1024
            or die_ "$scen{$k}{name}: GET $scen{$k}{path} answered $st with "
                    . length($body) . ' bytes';
    }

    # a short warm-up of each (first sight of the token, the Basic hash)
    for my $k (qw(a b c)) {
        wrk_run($port, $scen{$k}, 1);
    }
    $_->{sockerr} = 0, $_->{cpu_us} = [] for values %scen;
    my %rps;
    for my $round (1 .. $ROUNDS) {
        # a b c, then c b a: a drift in the machine's load favours none
        for my $k ($round % 2 ? qw(a b c) : qw(c b a)) {
            my $r = wrk_run($port, $scen{$k}, $DURATION);
            push @{ $rps{$k} }, $r;
            say_ sprintf "round %d %-11s %10.0f req/s", $round,
                         $scen{$k}{name}, $r;
        }
    }
    stop_process($pid, 20);
    $pid = undef;

    my %med = map { $_ => median(@{ $rps{$_} }) } qw(a b c);
    # the ratio of each round (runs next to each other in time), then the
    # median of those: steadier than the ratio of the medians on a machine
    # whose load changes from minute to minute
    my %pair = map {
        my $k = $_;
        $k => median(map { $rps{$k}[$_] / $rps{a}[$_] } 0 .. $ROUNDS - 1)
    } qw(b c);
    my $rb = $pair{b};
    my $rc = $pair{c};
    # the spread of the rounds' ratios: the middle half of them (first to
    # third quartile); when it spans a target, this run cannot tell
    my %iqr = map {
        my $k = $_;
        my @r = sort { $a <=> $b }
                map { $rps{$k}[$_] / $rps{a}[$_] } 0 .. $ROUNDS - 1;
        $k => [ quantile(0.25, @r), quantile(0.75, @r) ]
    } qw(b c);
    my @cpu = grep { /^processor/ } do {
        open my $f, '<', '/proc/cpuinfo'; <$f> };
    my $out = sprintf "%s  %d CPU(s), wrk -t%d -c%d -d%ds, %d rounds "
        . "(interleaved), event MPM 2x25 threads, bcrypt %d, "
        . "1 KiB static file, loopback\n\n",
        scalar(localtime), scalar(@cpu), $THREADS, $CONNS, $DURATION, $ROUNDS,
        $COST;
    my %cpu = map { $_ => median(@{ $scen{$_}{cpu_us} }) } qw(a b c);
    $out .= sprintf "%-21s %12s %7s %9s %11s %7s   %s\n", 'scenario',
                    'median req/s', 'vs (a)', 'paired', 'httpd CPU', 'vs (a)',
                    'req/s of every round';
    for my $k (qw(a b c)) {
        my $label = { a => '(a) unprotected',
                      b => '(b) auth-api Bearer',
                      c => '(c) Basic auth-api' }->{$k};
        $out .= sprintf "%-21s %12.0f %7.3f %9s %8.1f us %7.3f   %s\n",
                        $label, $med{$k}, $med{$k} / $med{a},
                        $k eq 'a' ? '1.000' : sprintf('%.3f', $pair{$k}),
                        $cpu{$k}, $cpu{$k} / $cpu{a},
                        join(' ', map { sprintf '%.0f', $_ } @{ $rps{$k} });
    }
    $out .= "\npaired: the median over the rounds of each round's ratio "
          . "to (a) of the same round; the targets are judged on it\n";
    $out .= "httpd CPU: user+system CPU time of all httpd processes per "
          . "request (median of the rounds),\nless sensitive than req/s to "
          . "other load on the machine (load average at the end: "
          . (do { open my $l, '<', '/proc/loadavg'; my $x = <$l>;
                  (split ' ', $x)[0] }) . ")\n";
    $out .= sprintf "paired ratios, middle half of the rounds: (b) %.3f-%.3f, "
        . "(c) %.3f-%.3f\n", @{ $iqr{b} }, @{ $iqr{c} };
    my $verdict = sub {
        my ($k, $want, $got) = @_;
        my ($q1, $q3) = @{ $iqr{$k} };
        return ($got >= $want ? 'met' : 'MISSED')
             . ($q1 < $want && $want < $q3
                ? ' (but the middle half of the rounds spans it: within '
                  . 'this run\'s noise)' : '');
    };
    $out .= sprintf "\ntargets: (b) >= 0.95 of (a): %s (%.3f);  "
        . "(c) >= 0.80 of (a): %s (%.3f)\n",
        $verdict->('b', 0.95, $rb), $rb, $verdict->('c', 0.80, $rc), $rc;
    $out .= "no response of any run was outside 2xx/3xx (wrk); connections "
          . "closed by the server (wrk read/write errors): "
          . join(', ', map { "$_ $scen{$_}{sockerr}" } qw(a b c)) . "\n";
    print "\n$out";
    my $file = results_write('throughput (make bench)', $out);
    say_ "written to $file";
}

# Returns the Q-quantile (0..1) of the sorted numbers, interpolated.
sub quantile {
    my ($q, @v) = @_;
    my $i = $q * (@v - 1);
    my $lo = int $i;
    return $lo + 1 < @v ? $v[$lo] + ($i - $lo) * ($v[$lo + 1] - $v[$lo])
                        : $v[$lo];
}

# One wrk run; returns requests/s. Dies on any non-2xx/3xx response, any
# socket error, or output it cannot read.
sub wrk_run {
    my ($port, $s, $seconds) = @_;
    my @cmd = ('timeout', $seconds + 30, 'wrk', "-t$THREADS", "-c$CONNS",
               "-d${seconds}s", '--timeout', '10s');
    push @cmd, '-H', $_ for @{ $s->{hdr} };
    push @cmd, "http://127.0.0.1:$port$s->{path}";
    my $cpu0 = httpd_cpu();
    open my $fh, '-|', @cmd or die_ "wrk: $!";
    my $out = do { local $/; <$fh> };
    close $fh;
    my $cpu = httpd_cpu() - $cpu0;
    $? == 0 or die_ "wrk failed (status $?) for $s->{name}:\n$out";
    if ($out =~ /Non-2xx or 3xx responses:\s*(\d+)/) {
        die_ "$s->{name}: $1 responses were not 2xx/3xx - the numbers would "
             . "be meaningless:\n$out";
    }
    my ($n) = $out =~ /(\d+) requests in [\d.]+\w+, [\d.]+\w+ read/
        or die_ "cannot read wrk's output:\n$out";
    # connections the server closed (event MPM under a burst) are counted by
    # wrk as read errors; they are reported, and too many of them fail
    my $sockerr = 0;
    if ($out =~ /Socket errors:\s*connect (\d+), read (\d+), write (\d+), timeout (\d+)/) {
        $sockerr = $1 + $2 + $3 + $4;
        die_ "$s->{name}: connect errors or time-outs:\n$out" if $1 || $4;
        die_ "$s->{name}: $sockerr socket errors in $n requests:\n$out"
            if $sockerr > $n / 100;
        say_ "$s->{name}: wrk saw $sockerr closed connections (read/write)";
    }
    $s->{sockerr} += $sockerr;
    my ($rps) = $out =~ /Requests\/sec:\s*([\d.]+)/
        or die_ "no Requests/sec in wrk's output:\n$out";
    $n > 0 && $rps > 0 or die_ "$s->{name}: no request completed:\n$out";
    # every answer is the 1 KiB file plus headers: a run of short answers
    # (redirects, errors wrk does not count) shows in the average size
    my ($val, $unit) = $out =~ /requests in [\d.]+\w+, ([\d.]+)(\w+) read/;
    my $bytes = $val * ({ B => 1, KB => 1024, MB => 1024**2,
                          GB => 1024**3 }->{$unit} || 0);
    my $avg = $bytes / $n;
    $avg >= 1024 && $avg < 4096
        or die_ sprintf "%s: %.0f bytes per response, not the 1 KiB file "
                        . "plus headers:\n%s", $s->{name}, $avg, $out;
    push @{ $s->{cpu_us} }, $cpu * 1e6 / $n;
    return $rps;
}

# CPU seconds (user + system) used so far by httpd: the parent and its
# children, from /proc.
sub httpd_cpu {
    my $tick = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
    my $ticks = 0;
    opendir my $d, '/proc' or return 0;
    for my $p (grep { /^\d+$/ } readdir $d) {
        open my $f, '<', "/proc/$p/stat" or next;
        my $line = <$f>;
        close $f;
        next unless $line && $line =~ /^\d+ \((.*)\) (.*)$/s;
        my @f = split ' ', $2;    # from field 3 (state) on
        next unless $p == $pid || $f[1] == $pid;    # ppid
        $ticks += $f[11] + $f[12];                  # utime, stime
    }
    closedir $d;
    return $ticks / $tick;
}
