# The directives of protected areas (API.md sections 5 and 6): good values
# pass "httpd -t"; a Require auth-api-role without roles, an unknown
# AuthAPIRemoteUser and an AuthAPILoginURL that leaves the site stop it with
# a line naming the directive, the file and the line. Runs the server
# binary on throw-away configuration files, like t/config.t.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use AAPI::Test;
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use POSIX ();

plan tests => 18, need_module('mod_auth_api.c', 'mod_dbd.c');

my $cfg = Apache::Test::config();
my $vars = $cfg->{vars};
my $HTTPD = $vars->{httpd};
my $SO = catfile($vars->{top_dir}, '.libs', 'mod_auth_api.so');
my $MODDIR = '/usr/lib/apache2/modules';
my $TMP = tempdir('aapi-config-protect-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $SECRET = 'config-test-secret-0123456789-0123456789';

# the MPM the suite's server loads
my $MPM = '';
if (open my $fh, '<', catfile($vars->{t_conf}, 'httpd.conf')) {
    while (<$fh>) {
        if (/^\s*(LoadModule\s+mpm_\w+_module\s+.*)$/) { $MPM = $1; last }
    }
}
$MPM ||= "LoadModule mpm_prefork_module $MODDIR/mod_mpm_prefork.so";

my $N = 0;

# Writes a configuration with BODY after the module loading lines and runs
# "httpd -t" on it; returns (exit status, output, config file, the line
# number where BODY starts).
sub httpd_t {
    my $body = shift;
    my $dir = "$TMP/c" . ++$N;
    mkdir $dir or die "$dir: $!";
    my $conf = "$dir/httpd.conf";
    my $head = <<"EOF";
ServerRoot "$dir"
$MPM
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
LoadModule auth_basic_module $MODDIR/mod_auth_basic.so
LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so
LoadModule dbd_module $MODDIR/mod_dbd.so
LoadModule auth_api_module $SO
ServerName localhost
Listen 127.0.0.1:1
ErrorLog "$dir/error_log"
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
DBDriver sqlite3
DBDParams $TMP/unused.db
AuthAPIJWTSecret $SECRET
AuthAPIIssuer https://config.example
AuthAPIAudience config-api
<Location /auth>
    SetHandler auth-api
</Location>
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
        exec $HTTPD, '-t', '-d', $dir, '-f', $conf or POSIX::_exit(127);
    }
    local $/;
    my $text = <$out> // '';
    close $out;
    my $st = $?;
    return (($st & 127) ? 128 + ($st & 127) : $st >> 8, $text, $conf, $first);
}

# Checks that BODY passes httpd -t.
sub good_config {
    my ($name, $body) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($rc, $out) = httpd_t($body);
    subtest $name => sub {
        is($rc, 0, 'exit status 0') or diag($out);
        like($out, qr/Syntax OK/, 'Syntax OK');
    };
}

# Checks that BODY stops httpd -t with an error naming WHAT and the file
# and line of the offending directive, which is line BAD_LINE of BODY
# (1-based).
sub bad_config {
    my ($name, $body, $what, $bad_line) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($rc, $out, $conf, $first) = httpd_t($body);
    my $line = $first + ($bad_line // 1) - 1;
    subtest $name => sub {
        isnt($rc, 0, 'httpd -t fails');
        unlike($out, qr/Syntax OK/, 'no "Syntax OK"');
        like($out, qr/\Q$what\E/, "the output names $what");
        like($out, qr/line $line of \Q$conf\E|\Q$conf\E:$line\b/, "and the file and line $line");
        unlike($out, qr/\Q$SECRET\E/, 'the secret is not printed');
        diag($out) unless $rc;
    };
}

good_config('every directive of a protected area, good values', <<'EOF');
<Location /members>
    AuthType auth-api
    AuthAPIRemoteUser username
    AuthAPIForwardHeaders On
    AuthAPILoginURL /login.html
    Require valid-user
</Location>
<Location /admin>
    AuthType auth-api
    AuthAPIRemoteUser sub
    AuthAPILoginURL /login.html?from=admin
    <RequireAll>
        Require auth-api-role admin editor
        Require auth-api-verified-email
    </RequireAll>
</Location>
<Directory /tmp>
    AuthType auth-api
    AuthAPIRemoteUser email
    AuthAPIForwardHeaders Off
    Require user someone@example.com
</Directory>
<Location /basic>
    AuthType Basic
    AuthName test
    AuthBasicProvider auth-api
    Require valid-user
</Location>
EOF

good_config('role names with digits, dots, dashes and underscores', <<'EOF');
<Location /r>
    AuthType auth-api
    Require auth-api-role admin super-user ops_2 team.lead
</Location>
EOF

bad_config('Require auth-api-role without a role', <<'EOF', 'auth-api-role', 3);
<Location /r>
    AuthType auth-api
    Require auth-api-role
</Location>
EOF

bad_config('Require auth-api-role without a role, inside <RequireAll>', <<'EOF', 'auth-api-role', 4);
<Location /r>
    AuthType auth-api
    <RequireAll>
        Require auth-api-role
        Require valid-user
    </RequireAll>
</Location>
EOF

bad_config('Require auth-api-role with a quoted empty role', <<'EOF', 'auth-api-role', 3);
<Location /r>
    AuthType auth-api
    Require auth-api-role ""
</Location>
EOF

bad_config('Require auth-api-verified-email with an argument', <<'EOF', 'auth-api-verified-email', 3);
<Location /r>
    AuthType auth-api
    Require auth-api-verified-email yes
</Location>
EOF

bad_config('AuthAPIRemoteUser bogus in a <Location>', <<'EOF', 'AuthAPIRemoteUser', 3);
<Location /r>
    AuthType auth-api
    AuthAPIRemoteUser bogus
    Require valid-user
</Location>
EOF

bad_config('AuthAPIRemoteUser bogus in the server configuration', "AuthAPIRemoteUser bogus\n",
           'AuthAPIRemoteUser', 1);

bad_config('AuthAPIRemoteUser bogus in a <Directory>', <<'EOF', 'AuthAPIRemoteUser', 2);
<Directory /tmp>
    AuthAPIRemoteUser REMOTE_USER
</Directory>
EOF

for my $url ('https://evil.example/', '//evil.example', '//evil.example/login.html',
             'http://evil.example', '/\\evil.example', 'login.html', 'javascript:alert(1)',
             # browsers drop tabs from URLs: "/<TAB>/evil.example" is "//evil.example"
             "/\t/evil.example") {
    bad_config("AuthAPILoginURL $url", <<"EOF", 'AuthAPILoginURL', 3);
<Location /r>
    AuthType auth-api
    AuthAPILoginURL "$url"
    Require valid-user
</Location>
EOF
}

bad_config('AuthAPIForwardHeaders yes', <<'EOF', 'AuthAPIForwardHeaders', 2);
<Location /r>
    AuthAPIForwardHeaders yes
</Location>
EOF
