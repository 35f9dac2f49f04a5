# A server that uses the module only through .htaccess files and the
# auth-api provider (README, "Protecting other content"): with its
# AuthAPIJWTSecret and database set outside any <VirtualHost>, the module is
# set up for it at start-up, so a token issued by another server of the
# same database opens the .htaccess area and a password opens the Basic
# area; neither answers 500. Starts two plain httpd instances on loopback
# ports with one SQLite file and one secret; stops them at the end.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use AAPI::Httpd qw(free_port start_httpd $MODDIR);
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();
use MIME::Base64 qw(encode_base64);

plan tests => 4, need_module('mod_auth_api.c');

my $vars  = Apache::Test::config()->{vars};
my $HTTPD = $vars->{httpd};
my $SO    = catfile($vars->{top_dir}, '.libs', 'mod_auth_api.so');
my $TMP   = tempdir('aapi-htonly-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $TMP;
my $http = HTTP::Tiny->new(timeout => 30);
my $json = JSON::PP->new;

END { local $?; AAPI::Httpd::stop_all() }

my $secret = join '', map { ('a' .. 'z')[rand 26] } 1 .. 48;
mkdir "$TMP/db" or die;
chmod 0777, "$TMP/db";

# Writes TEXT to FILE.
sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh;
}

# Starts an httpd in $TMP/NAME with the common lines and LINES; returns its
# base URL.
sub start_server {
    my ($name, @lines) = @_;
    my $dir = "$TMP/$name";
    mkdir $dir or die "$dir: $!";
    chmod 0777, $dir;
    for my $sub (qw(members basic)) {
        mkdir "$dir/$sub" or die;
        write_file("$dir/$sub/page.txt", "protected\n");
    }
    my $port = free_port();
    my $mpm = -e "$MODDIR/mod_mpm_event.so" ? 'event' : 'prefork';
    start_httpd($HTTPD, $dir, $port,
        "LoadModule mpm_${mpm}_module $MODDIR/mod_mpm_$mpm.so",
        "LoadModule authz_core_module $MODDIR/mod_authz_core.so",
        "LoadModule authz_user_module $MODDIR/mod_authz_user.so",
        "LoadModule authn_core_module $MODDIR/mod_authn_core.so",
        "LoadModule auth_basic_module $MODDIR/mod_auth_basic.so",
        "LoadModule dbd_module $MODDIR/mod_dbd.so",
        "LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so",
        "LoadModule auth_api_module $SO",
        "DBDriver sqlite3", qq(DBDParams "$TMP/db/auth.db"),
        "AuthAPIJWTSecret $secret", "AuthAPIPasswordHash bcrypt 4",
        "DocumentRoot \"$dir\"",
        "<Directory \"$dir\">", "    Require all granted", "</Directory>",
        @lines);
    return ("http://127.0.0.1:$port", $dir);
}

# A: the API, which issues the token
my ($A) = start_server('a',
    "<Location /api/v1/auth>", "    SetHandler auth-api", "</Location>");
# H: no SetHandler, no AuthType auth-api in its configuration files; the
# module is used by a .htaccess file and by AuthBasicProvider only
my ($H, $hdir) = start_server('h',
    "<Directory \"$TMP/h/members\">", "    AllowOverride AuthConfig",
    "</Directory>",
    "<Directory \"$TMP/h/basic\">", "    AuthType Basic", "    AuthName basic",
    "    AuthBasicProvider auth-api", "    Require valid-user", "</Directory>");
write_file("$hdir/members/.htaccess",
           "AuthType auth-api\nRequire valid-user\n");

my $r = $http->post("$A/api/v1/auth/register", {
    headers => { 'Content-Type' => 'application/json' },
    content => $json->encode({ email => 'htonly@example.com',
                               password => 'Str0ng!Passw0rd' }) });
my $tok = (eval { $json->decode($r->{content}) } || {})->{data}{access_token};
is($r->{status}, 201, 'registered on the server with the API');

subtest '.htaccess only: the token of another server of the database' => sub {
    my $g = $http->get("$H/members/page.txt",
                       { headers => { Authorization => "Bearer $tok" } });
    is($g->{status}, 200, 'a valid token: 200, not 500');
    is($g->{content}, "protected\n", 'the page');
    is($http->get("$H/members/page.txt")->{status}, 401, 'no token: 401');
    is($http->get("$H/members/page.txt",
                  { headers => { Authorization => 'Bearer x.y.z' } })->{status},
       401, 'a bad token: 401');
};

subtest 'AuthBasicProvider auth-api only' => sub {
    my $basic = sub { 'Basic ' . encode_base64(join(':', @_), '') };
    is($http->get("$H/basic/page.txt", { headers => {
           Authorization => $basic->('htonly@example.com', 'Str0ng!Passw0rd') } })->{status},
       200, 'the right password: 200, not 500');
    is($http->get("$H/basic/page.txt", { headers => {
           Authorization => $basic->('htonly@example.com', 'Wrong!Passw0rd') } })->{status},
       401, 'a wrong password: 401');
};

subtest 'nothing in the log says the module is not set up' => sub {
    open my $fh, '<', "$hdir/error_log" or return fail("error_log: $!");
    my @bad = grep { /not set up for this server|AAPI0901|AAPI1001/ } <$fh>;
    close $fh;
    is(scalar @bad, 0, 'no such line') or diag($bad[0]);
};
