# Directives of sessions, cookies and CORS (API.md section 6): good values
# pass "httpd -t"; values that cannot work stop it with a line naming the
# directive (and, where the directive parser sees it, the file and line).
# Runs the server binary on throw-away configuration files, as t/config.t.
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

plan tests => 16, need_module('mod_auth_api.c', 'mod_dbd.c');

my $CHECK = AAPI::ConfigCheck->new(tag => 'config-sessions',
                                   modules => ['dbd']);
# Runs "httpd -t" on BODY; returns (exit status, output, config file).
sub httpd_t { return $CHECK->run(@_) }

my $BASE = $CHECK->base_config;

# Checks that BODY (added to a good configuration) stops httpd -t with an
# error naming DIRECTIVE and, with LINE, the file and line; with VALUE, the
# output also names the bad value.
sub bad_config {
    my ($name, $body, $directive, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $CHECK->refuses($name, "$BASE\n$body\n", $directive, %o);
}

{
    my @out;
    for my $line ('AuthAPITokenCookies On', 'AuthAPITokenCookies Off',
                  'AuthAPITokensInBody Off', 'AuthAPICookieSecure Off',
                  map({ "AuthAPICookieSameSite $_" } qw(Strict Lax None strict)),
                  'AuthAPICORSOrigins https://app.example.com',
                  'AuthAPICORSOrigins https://app.example.com http://localhost:8080 https://[::1]:8443',
                  "AuthAPICORSOrigins https://a.example.com\nAuthAPICORSOrigins https://b.example.com",
                  map({ "AuthAPIRefreshReuseGrace $_" } qw(0 10 10s 1m)),
                  'AuthAPIRefreshTTL 2s', 'AuthAPISessionCacheTTL 5s',
                  'AuthAPISOCache shmcb', 'AuthAPISOCache shmcb:aapi-test(64000)',
                  map({ "AuthAPIPruneInterval $_" } qw(0 30 10m 1h 7d)),
                  "<VirtualHost 127.0.0.1:1>\n AuthAPITokenCookies On\n AuthAPICookieSameSite Strict\n"
                  . " AuthAPICORSOrigins https://app.example.com\n AuthAPIRefreshReuseGrace 1s\n</VirtualHost>") {
        my ($rc, $out) = httpd_t("$BASE\n$line\n");
        push @out, "$line: $out" if $rc || $out !~ /Syntax OK/;
    }
    subtest 'good values of the session directives: Syntax OK' => sub {
        is(scalar @out, 0, 'every variant passes') or diag(join "\n", @out);
    };
}

bad_config('AuthAPICORSOrigins *', 'AuthAPICORSOrigins *', 'AuthAPICORSOrigins', line => 1);
bad_config('AuthAPICORSOrigins null', 'AuthAPICORSOrigins null', 'AuthAPICORSOrigins', line => 1);
bad_config('AuthAPICORSOrigins with * among good ones',
           'AuthAPICORSOrigins https://app.example.com *', 'AuthAPICORSOrigins', line => 1);
bad_config('AuthAPICORSOrigins with a path', 'AuthAPICORSOrigins https://app.example.com/login',
           'AuthAPICORSOrigins', line => 1, value => 'https://app.example.com/login');
bad_config('AuthAPICORSOrigins without a scheme', 'AuthAPICORSOrigins app.example.com',
           'AuthAPICORSOrigins', line => 1, value => 'app.example.com');
bad_config('AuthAPICookieSameSite Bogus', 'AuthAPICookieSameSite Bogus', 'AuthAPICookieSameSite',
           line => 1, value => 'Bogus');
bad_config('AuthAPIRefreshReuseGrace 10x', 'AuthAPIRefreshReuseGrace 10x', 'AuthAPIRefreshReuseGrace',
           line => 1, value => '10x');
bad_config('AuthAPIRefreshReuseGrace -1', 'AuthAPIRefreshReuseGrace -1', 'AuthAPIRefreshReuseGrace',
           line => 1);
bad_config('AuthAPIPruneInterval 1w', 'AuthAPIPruneInterval 1w', 'AuthAPIPruneInterval',
           line => 1, value => '1w');
bad_config('AuthAPIPruneInterval -1h', 'AuthAPIPruneInterval -1h', 'AuthAPIPruneInterval',
           line => 1);
bad_config('AuthAPISOCache nosuchprovider', 'AuthAPISOCache nosuchprovider', 'AuthAPISOCache',
           line => 1, value => 'nosuchprovider');
bad_config('AuthAPITokenCookies maybe', 'AuthAPITokenCookies maybe', 'AuthAPITokenCookies', line => 1);
bad_config('AuthAPICookieSameSite Bogus inside a VirtualHost',
           "<VirtualHost 127.0.0.1:1>\n AuthAPICookieSameSite Bogus\n</VirtualHost>",
           'AuthAPICookieSameSite', line => 1);
bad_config('AuthAPISOCache nosuchprovider inside a VirtualHost',
           "<VirtualHost 127.0.0.1:1>\n AuthAPISOCache nosuchprovider\n</VirtualHost>",
           'AuthAPISOCache', line => 1, value => 'nosuchprovider');
bad_config('AuthAPICORSOrigins null inside a VirtualHost',
           "<VirtualHost 127.0.0.1:1>\n AuthAPICORSOrigins https://ok.example.com null\n</VirtualHost>",
           'AuthAPICORSOrigins', line => 1);
