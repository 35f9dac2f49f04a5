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
use AAPI::ConfigCheck;
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use POSIX ();

plan tests => 18, need_module('mod_auth_api.c', 'mod_dbd.c');

my $SECRET = 'config-test-secret-0123456789-0123456789';
my $CHECK = AAPI::ConfigCheck->new(
    tag     => 'config-protect',
    modules => [qw(authn_core authz_user auth_basic dbd)]);
my $TMP = $CHECK->tmp;
$CHECK->{head} = <<"EOF";
DBDriver sqlite3
DBDParams $TMP/unused.db
AuthAPIJWTSecret $SECRET
AuthAPIIssuer https://config.example
AuthAPIAudience config-api
<Location /auth>
    SetHandler auth-api
</Location>
EOF

# Runs "httpd -t" on BODY after the common lines; returns (exit status,
# output, config file, the line number where BODY starts).
sub httpd_t { return $CHECK->run(shift) }

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
