# PHP run by php-fpm through mod_proxy_fcgi behind AuthType auth-api
# (API.md section 5): the FastCGI program gets REMOTE_USER, AUTH_TYPE and
# AUTH_API_*, never a client's X-Auth-Api-* header, and nothing runs without
# a token. The test starts its own php-fpm on a unix socket in t/var and
# stops it at the end.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;
use File::Spec::Functions qw(catfile);
use POSIX ();
use Time::HiRes qw(sleep);

my ($FPM) = grep { -x } glob('/usr/sbin/php-fpm*');

plan tests => 4, need_module('mod_auth_api.c');

my $var  = catfile(Apache::Test::vars('serverroot'), 'var');
my $logs = Apache::Test::vars('t_logs');
my $sock = catfile($var, 'php-fpm.sock');
my $conf = catfile($var, 'php-fpm.conf');
my $pid;

ok($FPM, 'php-fpm is installed (Debian package php-fpm)') or BAIL_OUT('no php-fpm');

# as root the workers run as the user the test server's children use
my $pool_user = $> == 0 ? "user = nobody\ngroup = nogroup\n" : '';
unlink $sock;
open my $fh, '>', $conf or die "$conf: $!";
print $fh <<"CONF";
[global]
error_log = $logs/php-fpm.log
daemonize = no

[aapi]
${pool_user}listen = $sock
listen.mode = 0666
pm = static
pm.max_children = 2
clear_env = yes
CONF
close $fh;

$pid = fork() // die "fork: $!";
if ($pid == 0) {
    open STDOUT, '>>', "$logs/php-fpm.log";
    open STDERR, '>&', \*STDOUT;
    exec $FPM, '--nodaemonize', '--fpm-config', $conf, ($> == 0 ? ('-R') : ())
        or POSIX::_exit(127);
}
END { local $?; if ($pid) { kill 'TERM', $pid; waitpid $pid, 0 } }

# wait for the socket, at most 20 s
for (1 .. 200) { last if -S $sock; sleep 0.1 }
ok(-S $sock, 'php-fpm listens on its socket') or BAIL_OUT('php-fpm did not start');

Apache::TestRequest::module('default');
my $U = new_account();
my $PATH = '/protected/fpm/env.php';

subtest 'without a token, php-fpm is never reached' => sub {
    for my $h ([], ['Authorization: Bearer not.a.token']) {
        my $r = raw_req('GET', $PATH, $h);
        is($r->{status}, 401, "GET $PATH (@$h): 401");
        unlike($r->{body} // '', qr/PHP-OK/, 'the script did not run');
    }
};

subtest 'with a token, the FastCGI program gets the identity' => sub {
    my (undef, $c) = jwt_decode($U->{access_token});
    my $r = raw_req('GET', $PATH, [ "Authorization: Bearer $U->{access_token}",
                                    'X-Auth-Api-Role: admin',
                                    'x-auth-api-user-id: spoofed' ]);
    is($r->{status}, 200, "GET $PATH: 200") or diag(substr($r->{body} // '', 0, 400));
    my $env = cgi_env($r);
    is($env->{_marker}, 'PHP-OK', 'php-fpm ran the script');
    is($env->{REMOTE_USER}, $U->{email}, 'REMOTE_USER is the email');
    is($env->{AUTH_TYPE}, 'auth-api', 'AUTH_TYPE');
    is($env->{AUTH_API_USER_ID}, $U->{id}, 'AUTH_API_USER_ID');
    is($env->{AUTH_API_EMAIL}, $U->{email}, 'AUTH_API_EMAIL');
    is($env->{AUTH_API_USERNAME}, $U->{username}, 'AUTH_API_USERNAME');
    is($env->{AUTH_API_ROLE}, 'user', 'AUTH_API_ROLE (not the spoofed admin)');
    is($env->{AUTH_API_EMAIL_VERIFIED}, 'false', 'AUTH_API_EMAIL_VERIFIED');
    is($env->{AUTH_API_SESSION_ID}, $c->{sid}, 'AUTH_API_SESSION_ID');
    is($env->{AUTH_API_EXPIRES}, rfc3339($c->{exp}), 'AUTH_API_EXPIRES');
    my @spoof = grep { /^HTTP_X_AUTH_API/ } sort keys %$env;
    is("@spoof", '', 'no HTTP_X_AUTH_API_* reaches php-fpm');
};
