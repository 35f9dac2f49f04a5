package AAPI::Httpd;
# Private httpd instances for the tests that need a server Apache::Test does
# not give (several servers on one database, mod_php under prefork): a free
# loopback port, waiting for it, writing a configuration and starting and
# stopping the server.
use strict;
use warnings;

use Exporter 'import';
use File::Spec::Functions qw(catfile);
use IO::Socket::INET;
use Time::HiRes qw(sleep);

our @EXPORT_OK = qw(free_port wait_port start_httpd stop_all $MODDIR);

our $MODDIR = '/usr/lib/apache2/modules';
my @started;

# Returns a free TCP port on 127.0.0.1.
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1) or die "$!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# Waits (at most 30 s) until PORT answers TCP; returns 1 when it does.
sub wait_port {
    my ($port) = @_;
    for (1 .. 300) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        return 1 if $s;
        sleep 0.1;
    }
    return 0;
}

# Writes DIR/httpd.conf for HTTPD (ServerRoot DIR, Listen 127.0.0.1:PORT, its
# pid file and error log in DIR, as nobody when root) followed by LINES,
# starts the server and waits for it; dies when it does not answer.
sub start_httpd {
    my ($httpd, $dir, $port, @lines) = @_;
    my $conf = catfile($dir, 'httpd.conf');
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh join "\n",
        qq(ServerRoot "$dir"), 'ServerName 127.0.0.1', "Listen 127.0.0.1:$port",
        qq(PidFile "$dir/httpd.pid"), qq(ErrorLog "$dir/error_log"),
        qq(DefaultRuntimeDir "$dir"),
        ($> == 0 ? ('User nobody', 'Group nogroup') : ()),
        @lines, '';
    close $fh;
    system($httpd, '-f', $conf, '-k', 'start') == 0
        or die "httpd ($conf) did not start";
    my $ok = wait_port($port);
    # the parent's pid, so that it can be stopped even after a temporary
    # directory holding its pid file is gone
    # (httpd listens before it writes the file: wait for it, at most 10 s)
    my $pid;
    for (1 .. 100) {
        if (open my $pf, '<', catfile($dir, 'httpd.pid')) {
            ($pid) = (<$pf> // '') =~ /(\d+)/;
            close $pf;
        }
        last if $pid;
        sleep 0.1;
    }
    push @started, $pid if $pid;
    $pid or die "httpd ($conf) wrote no pid file";
    $ok or die "httpd ($conf) does not answer on $port";
    return $conf;
}

# Stops every server start_httpd started and waits (at most 10 s each) for
# it to go, leaving $? alone: it may be the test's exit status.
sub stop_all {
    local $?;
    for my $pid (splice @started) {
        kill 'TERM', $pid or next;
        for (1 .. 100) {
            last unless kill 0, $pid;
            sleep 0.1;
        }
    }
}

END { local $?; stop_all() }

1;
