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
use Test::More ();

our $MODDIR = '/usr/lib/apache2/modules';

# The HMAC secret of every checked configuration; no output may show it.
our $SECRET = 'config-test-secret-0123456789-0123456789';

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

# A configuration that works: a database, the secret, issuer, audience and
# the API mounted at /auth.
sub base_config {
    my $self = shift;
    return <<"EOF";
DBDriver sqlite3
DBDParams $self->{tmp}/unused.db
AuthAPIJWTSecret $SECRET
AuthAPIIssuer https://config.example
AuthAPIAudience config-api
<Location /auth>
    SetHandler auth-api
</Location>
EOF
}

# One subtest NAME: "httpd -t" on BODY fails, without "Syntax OK", with
# output naming DIRECTIVE and never the secret. Options: value (the output
# names it too), file (names the file), line (names the file and a line),
# at (names the file and line AT of BODY, counting from 1), modules (as for
# run).
sub refuses {
    my ($self, $name, $body, $directive, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($rc, $out, $conf, $first) =
        $self->run($body, $o{modules} ? (modules => $o{modules}) : ());
    Test::More::subtest($name => sub {
        Test::More::isnt($rc, 0, 'httpd -t fails');
        Test::More::unlike($out, qr/Syntax OK/, 'no "Syntax OK"');
        Test::More::like($out, qr/\Q$directive\E/, "the output names $directive");
        Test::More::like($out, qr/\Q$o{value}\E/, "and the value '$o{value}'")
            if defined $o{value};
        Test::More::like($out, qr/\Q$conf\E/, 'and the file') if $o{file};
        if (defined $o{at}) {
            my $line = $first + $o{at} - 1;
            Test::More::like($out, qr/line $line of \Q$conf\E|\Q$conf\E:$line\b/,
                             "and the file and line $line");
        }
        elsif ($o{line}) {
            Test::More::like($out, qr/line \d+ of \Q$conf\E|\Q$conf\E:\d+/,
                             'and the file and line');
        }
        Test::More::unlike($out, qr/\Q$SECRET\E/, 'the secret is not printed');
        Test::More::diag($out) unless $rc;
    });
}

# One subtest NAME: "httpd -t" on BODY says "Syntax OK" and exits 0.
sub accepts {
    my ($self, $name, $body) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($rc, $out) = $self->run($body);
    Test::More::subtest($name => sub {
        Test::More::is($rc, 0, 'exit status 0') or Test::More::diag($out);
        Test::More::like($out, qr/Syntax OK/, 'Syntax OK');
    });
}

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
