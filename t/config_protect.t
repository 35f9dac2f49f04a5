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

plan tests => 24, need_module('mod_auth_api.c', 'mod_dbd.c');

my $CHECK = AAPI::ConfigCheck->new(
    tag     => 'config-protect',
    modules => [qw(authn_core authz_user auth_basic dbd)]);
$CHECK->{head} = $CHECK->base_config;

# Checks that BODY passes httpd -t.
sub good_config {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $CHECK->accepts(@_);
}

# Checks that BODY stops httpd -t with an error naming WHAT and the file
# and line of the offending directive, which is line BAD_LINE of BODY
# (1-based).
sub bad_config {
    my ($name, $body, $what, $bad_line) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $CHECK->refuses($name, $body, $what, at => $bad_line // 1);
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

# ---- which servers use the module (the start-up checks apply to them) ----
# A checker without the good head: the database is there, the secret is not;
# a server that uses the module in any of these ways must stop on it.
my $BARE = AAPI::ConfigCheck->new(
    tag     => 'config-protect-bare',
    modules => [qw(authn_core authn_file authz_user auth_basic session request auth_form dbd)]);
my $BARE_DB = "DBDriver sqlite3\nDBDParams " . $BARE->tmp . "/unused.db\n";

$BARE->refuses('AuthBasicProvider auth-api (after another) uses the module', <<"EOF", 'AuthAPIJWTSecret', file => 1);
$BARE_DB
<Location /b>
    AuthType Basic
    AuthName b
    AuthBasicProvider file auth-api
    Require valid-user
</Location>
EOF
$BARE->refuses('AuthFormProvider auth-api uses the module', <<"EOF", 'AuthAPIJWTSecret', file => 1);
$BARE_DB
<Location /f>
    AuthType form
    AuthName f
    AuthFormProvider auth-api
    Require valid-user
</Location>
EOF
$BARE->refuses('Require auth-api-role uses the module', <<"EOF", 'AuthAPIJWTSecret', file => 1);
$BARE_DB
<Location /r>
    AuthType Basic
    AuthName r
    AuthBasicProvider file
    Require auth-api-role admin
</Location>
EOF
$BARE->refuses('Require not auth-api-verified-email uses the module', <<"EOF", 'AuthAPIJWTSecret', file => 1);
$BARE_DB
<Location /n>
    AuthType Basic
    AuthName n
    AuthBasicProvider file
    <RequireAll>
        Require valid-user
        Require not auth-api-verified-email
    </RequireAll>
</Location>
EOF
$BARE->refuses('an AuthAPI directive outside any VirtualHost sets the module up for the main server',
               "${BARE_DB}AuthAPIAccessTTL 10m\n", 'AuthAPIJWTSecret', file => 1);
$BARE->accepts('Basic with other providers only, no AuthAPI directive: the module is not used', <<"EOF");
<Location /b>
    AuthType Basic
    AuthName b
    AuthBasicProvider file
    Require valid-user
</Location>
EOF
