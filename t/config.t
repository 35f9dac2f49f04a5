# Configurations that cannot work stop "httpd -t" with a line naming the
# directive (API.md section 6). Runs the server binary on throw-away
# configuration files; needs no running server.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use AAPI::Test;
use AAPI::ConfigCheck;
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use POSIX ();

plan tests => 18, need_module('mod_auth_api.c', 'mod_dbd.c');

my $CHECK = AAPI::ConfigCheck->new(tag => 'config', modules => ['dbd']);
my $TMP = $CHECK->tmp;
my $GOOD_SECRET = $AAPI::ConfigCheck::SECRET;

# Runs "httpd -t" on BODY; returns (exit status, output, config file).
sub httpd_t {
    my ($body, %o) = @_;
    return $CHECK->run($body, $o{no_dbd} ? (modules => []) : ());
}

my $DB = "DBDriver sqlite3\nDBDParams $TMP/unused.db\n";
my $BASE = $CHECK->base_config;

# Checks that BODY (added to a good configuration, or REPLACE instead of it)
# stops httpd -t with an error naming DIRECTIVE (with FILE or LINE, the file
# or the file and line); with NO_DBD, mod_dbd is not loaded.
sub bad_config {
    my ($name, $body, $directive, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $CHECK->refuses($name, exists $o{replace} ? $o{replace} : "$BASE\n$body\n",
                    $directive, %o, $o{no_dbd} ? (modules => []) : ());
}

$CHECK->accepts('a good configuration: Syntax OK', $BASE);

{
    my $f = "$TMP/good.secret";
    open my $fh, '>', $f or die;
    print $fh "$GOOD_SECRET\n";
    close $fh;
    my $ok = 1;
    my @out;
    for my $line ("AuthAPIJWTSecretFile $f",
                  map({ "AuthAPIAccessTTL $_" } qw(90 90s 15m 12h 30d)),
                  'AuthAPIRefreshTTL 30d', 'AuthAPILeeway 30s', 'AuthAPIJWTAlgorithm HS512',
                  'AuthAPIPasswordHash bcrypt 12', 'AuthAPIPasswordPolicy min=10 digit',
                  'AuthAPIRequiredFields username first_name', 'AuthAPIMaxBody 16k',
                  "<VirtualHost 127.0.0.1:1>\n AuthAPIAccessTTL 2m\n AuthAPIJWTAlgorithm HS384\n</VirtualHost>") {
        my ($rc, $out) = httpd_t("$BASE\n$line\n");
        push @out, "$line: $out" if $rc || $out !~ /Syntax OK/;
    }
    subtest 'good values of each directive: Syntax OK' => sub {
        is(scalar @out, 0, 'every variant passes') or diag(join "\n", @out);
    };
}

bad_config('HMAC secret under 32 bytes', 'AuthAPIJWTSecret short', 'AuthAPIJWTSecret', line => 1);
bad_config('HMAC secret of 31 bytes', 'AuthAPIJWTSecret ' . ('s' x 31), 'AuthAPIJWTSecret', line => 1);
bad_config('unreadable AuthAPIJWTSecretFile', "AuthAPIJWTSecretFile $TMP/no/such/secret",
           'AuthAPIJWTSecretFile', line => 1);
{
    my $f = "$TMP/short.secret";
    open my $fh, '>', $f or die;
    print $fh "too-short\n";
    close $fh;
    bad_config('a secret file with a short secret', "AuthAPIJWTSecretFile $f", 'AuthAPIJWTSecretFile', line => 1);
}
bad_config('a directory as secret file', "AuthAPIJWTSecretFile $TMP", 'AuthAPIJWTSecretFile', line => 1);
bad_config('unknown AuthAPIJWTAlgorithm', 'AuthAPIJWTAlgorithm XX256', 'AuthAPIJWTAlgorithm', line => 1);
bad_config('malformed duration', 'AuthAPIAccessTTL 15x', 'AuthAPIAccessTTL', line => 1);
bad_config('malformed refresh duration', 'AuthAPIRefreshTTL abc', 'AuthAPIRefreshTTL', line => 1);
bad_config('bcrypt cost 99', 'AuthAPIPasswordHash bcrypt 99', 'AuthAPIPasswordHash', line => 1);
bad_config('policy min=abc', 'AuthAPIPasswordPolicy min=abc', 'AuthAPIPasswordPolicy', line => 1);
bad_config('RequiredFields password', 'AuthAPIRequiredFields password', 'AuthAPIRequiredFields', line => 1);
bad_config('MaxBody -1', 'AuthAPIMaxBody -1', 'AuthAPIMaxBody', line => 1);
bad_config('a bad value inside a VirtualHost',
           "<VirtualHost 127.0.0.1:1>\n AuthAPIAccessTTL 15x\n</VirtualHost>", 'AuthAPIAccessTTL', line => 1);
bad_config('SetHandler auth-api without any DBDriver', '',
           'DBDriver', file => 1,
           replace => "AuthAPIJWTSecret $GOOD_SECRET\n<Location /auth>\n SetHandler auth-api\n</Location>\n");
bad_config('SetHandler auth-api without a JWT secret', '',
           'AuthAPIJWTSecret', file => 1,
           replace => "$DB\n<Location /auth>\n SetHandler auth-api\n</Location>\n");
bad_config('SetHandler auth-api without mod_dbd', '', 'dbd', no_dbd => 1,
           replace => "AuthAPIJWTSecret $GOOD_SECRET\n<Location /auth>\n SetHandler auth-api\n</Location>\n");
