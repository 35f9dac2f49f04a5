package AAPI::ConfigCheck;
# Runs "httpd -t" on throw-away configuration files, for the tests that show
# a configuration that cannot work stops start-up (t/config*.t). Each file
# loads the MPM the suite's server uses, the given modules and mod_auth_api,
# then the test's own lines. Needs no running server.
use strict;
use warnings;

use Apache::Test ();
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use POSIX ();

our $MODDIR = '/usr/lib/apache2/modules';

# Returns a checker; MODULES are module names to load before mod_auth_api
# (e.g. 'dbd', 'auth_basic'), HEAD lines come after the common settings.
sub new {
    my ($class, %o) = @_;
    my $vars = Apache::Test::config()->{vars};
    my $mpm = '';
    if (open my $fh, '<', catfile($vars->{t_conf}, 'httpd.conf')) {
        while (<$fh>) {
            if (/^\s*(LoadModule\s+mpm_\w+_module\s+.*)$/) { $mpm = $1; last }
        }
    }
    return bless {
        httpd   => $vars->{httpd},
        so      => catfile($vars->{top_dir}, '.libs', 'mod_auth_api.so'),
        mpm     => $mpm || "LoadModule mpm_prefork_module $MODDIR/mod_mpm_prefork.so",
        tmp     => tempdir("aapi-$o{tag}-XXXXXX", TMPDIR => 1, CLEANUP => 1),
        modules => $o{modules} || [],
        head    => $o{head} || '',
        n       => 0,
    }, $class;
}

# The temporary folder of this checker.
sub tmp { $_[0]{tmp} }

# Writes a configuration with BODY after the module loading lines (and the
# checker's HEAD; MODULES overrides the checker's list) and runs "httpd -t"
# on it; returns (exit status, output, config file, the line BODY starts on).
sub run {
    my ($self, $body, %o) = @_;
    my $dir = "$self->{tmp}/c" . ++$self->{n};
    mkdir $dir or die "$dir: $!";
    my $conf = "$dir/httpd.conf";
    my $load = join '', map { "LoadModule ${_}_module $MODDIR/mod_$_.so\n" }
                        @{ $o{modules} || $self->{modules} };
    my $head = <<"EOF";
ServerRoot "$dir"
$self->{mpm}
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so
${load}LoadModule auth_api_module $self->{so}
ServerName localhost
Listen 127.0.0.1:1
ErrorLog "$dir/error_log"
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
$self->{head}
EOF
    my $first = ($head =~ tr/\n//) + 1;
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh $head, $body, "\n";
    close $fh;
    my $pid = open(my $out, '-|');
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        alarm 60;
        exec $self->{httpd}, '-t', '-d', $dir, '-f', $conf or POSIX::_exit(127);
    }
    local $/;
    my $text = <$out> // '';
    close $out;
    my $st = $?;
    return (($st & 127) ? 128 + ($st & 127) : $st >> 8, $text, $conf, $first);
}

1;
