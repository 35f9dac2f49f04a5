# PHP run by mod_php (API.md section 5) behind AuthType auth-api: the script
# gets REMOTE_USER, AUTH_TYPE and AUTH_API_* in $_SERVER, never a client's
# X-Auth-Api-* header, and does not run without a live token. Debian's
# mod_php needs the prefork MPM, so this test starts a prefork httpd of its
# own on a loopback port (the suite's server keeps its MPM) and stops it at
# the end. It uses the suite's database: its own SQLite file, or the
# MariaDB of t/run-mariadb.sh.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use AAPI::Httpd qw(free_port start_httpd $MODDIR);
use AAPI::Test qw(jwt_decode uniq_email uniq_username strong_password);
use AAPI::Protect qw(cgi_env rfc3339);
use File::Copy qw(copy);
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();

plan tests => 5, need_module('mod_auth_api.c');

my $vars  = Apache::Test::config()->{vars};
my $HTTPD = $vars->{httpd};
my $SO    = catfile($vars->{top_dir}, '.libs', 'mod_auth_api.so');
my ($PHP) = sort { $b cmp $a } glob("$MODDIR/libphp*.so");
my $TMP   = tempdir('aapi-modphp-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $http  = HTTP::Tiny->new(timeout => 30);
my $json  = JSON::PP->new;

ok($PHP, 'mod_php is installed (Debian package libapache2-mod-php)')
    or BAIL_OUT('no mod_php');

chmod 0777, $TMP;
mkdir "$TMP/$_" or die "$TMP/$_: $!" for qw(db members);
chmod 0777, "$TMP/db";
copy(catfile($vars->{t_dir}, 'htdocs', 'protected', 'fpm', 'env.php'),
     "$TMP/members/env.php") or die "copy env.php: $!";
my $secret = join '', map { ('a' .. 'z')[rand 26] } 1 .. 48;
my $port = free_port();
start_httpd($HTTPD, $TMP, $port,
    "LoadModule mpm_prefork_module $MODDIR/mod_mpm_prefork.so",
    'StartServers 2', 'MinSpareServers 1', 'MaxSpareServers 3',
    'MaxRequestWorkers 5',
    "LoadModule authz_core_module $MODDIR/mod_authz_core.so",
    "LoadModule authz_user_module $MODDIR/mod_authz_user.so",
    "LoadModule authn_core_module $MODDIR/mod_authn_core.so",
    "LoadModule dbd_module $MODDIR/mod_dbd.so",
    "LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so",
    "LoadModule php_module $PHP",
    "LoadModule auth_api_module $SO",
    # the suite's database: SQLite of its own, or the suite's MariaDB
    AAPI::Test::db_is_mysql()
        ? ('DBDriver mysql', qq(DBDParams "$ENV{AAPI_MYSQL_PARAMS}"))
        : ('DBDriver sqlite3', qq(DBDParams "$TMP/db/auth.db")),
    "AuthAPIJWTSecret $secret", 'AuthAPIPasswordHash bcrypt 4',
    qq(DocumentRoot "$TMP"),
    qq(<Directory "$TMP">), '    Require all granted', '</Directory>',
    '<Location /api/v1/auth>', '    SetHandler auth-api', '</Location>',
    qq(<Directory "$TMP/members">), '    AuthType auth-api',
    '    Require valid-user',
    '    <FilesMatch "\.php$">', '        SetHandler application/x-httpd-php',
    '    </FilesMatch>', '</Directory>');
my $BASE = "http://127.0.0.1:$port";
my $PAGE = "$BASE/members/env.php";

# GET of PAGE with HEADERS; returns HTTP::Tiny's response.
sub get { $http->get($PAGE, { headers => { @_ } }) }

# POST of DATA as JSON to the API's PATH; returns (status, decoded body).
sub api {
    my ($path, $data, $tok) = @_;
    my $r = $http->post("$BASE/api/v1/auth$path", { headers => {
        'Content-Type' => 'application/json',
        $tok ? (Authorization => "Bearer $tok") : () },
        content => $json->encode($data) });
    return ($r->{status}, eval { $json->decode($r->{content}) } || {});
}

subtest 'without a token, the script never runs' => sub {
    for my $h ([], [Authorization => 'Bearer not.a.token']) {
        my $r = get(@$h);
        is($r->{status}, 401, "GET env.php (@$h): 401");
        like($r->{headers}{'www-authenticate'} // '', qr/^Bearer/, 'WWW-Authenticate: Bearer');
        unlike($r->{content} // '', qr/PHP-OK/, 'the script did not run');
    }
};

my ($email, $username) = (uniq_email(), uniq_username());
my ($st, $reg) = api('/register', { email => $email, username => $username,
                                    password => strong_password() });
is($st, 201, 'registered on the mod_php server') or diag($json->encode($reg));
my $tok = $reg->{data}{access_token} // '';

subtest 'with a token, mod_php gets the identity in $_SERVER' => sub {
    my (undef, $c) = jwt_decode($tok);
    my $r = get(Authorization => "Bearer $tok", 'X-Auth-Api-Role' => 'admin',
                'x-auth-api-user-id' => 'spoofed');
    is($r->{status}, 200, 'GET env.php: 200') or diag(substr($r->{content} // '', 0, 400));
    my $env = cgi_env({ body => $r->{content} });
    is($env->{_marker}, 'PHP-OK', 'mod_php ran the script');
    is($env->{REMOTE_USER}, $email, 'REMOTE_USER is the email');
    is($env->{AUTH_TYPE}, 'auth-api', 'AUTH_TYPE');
    is($env->{AUTH_API_USER_ID}, $reg->{data}{user}{id}, 'AUTH_API_USER_ID');
    is($env->{AUTH_API_EMAIL}, $email, 'AUTH_API_EMAIL');
    is($env->{AUTH_API_USERNAME}, $username, 'AUTH_API_USERNAME');
    is($env->{AUTH_API_ROLE}, 'user', 'AUTH_API_ROLE (not the spoofed admin)');
    is($env->{AUTH_API_EMAIL_VERIFIED}, 'false', 'AUTH_API_EMAIL_VERIFIED');
    is($env->{AUTH_API_SESSION_ID}, $c->{sid}, 'AUTH_API_SESSION_ID');
    is($env->{AUTH_API_EXPIRES}, rfc3339($c->{exp} // 0), 'AUTH_API_EXPIRES');
    my @spoof = grep { /^HTTP_X_AUTH_API/ } sort keys %$env;
    is("@spoof", '', 'no HTTP_X_AUTH_API_* reaches the script');
};

subtest 'after logout the token opens nothing' => sub {
    my ($ls) = api('/logout', {}, $tok);
    is($ls, 200, 'POST /logout');
    my $r = get(Authorization => "Bearer $tok");
    is($r->{status}, 401, 'GET env.php with the token: 401');
    unlike($r->{content} // '', qr/PHP-OK/, 'the script did not run');
};
