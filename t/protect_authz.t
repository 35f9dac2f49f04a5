# Authorization under AuthType auth-api (API.md section 5): Require
# auth-api-role, Require auth-api-verified-email, Require user, and their
# combinations in <RequireAll>, <RequireAny>, <RequireNone>. A role or a
# verified address counts from the next login (it is a claim of the token).
# Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 8, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

# Returns a new account whose role is ROLE and whose address is verified
# when VERIFIED, with a token issued after the change in {tok}.
sub account {
    my (%o) = @_;
    my $u = new_account();
    set_role($u->{email}, $o{role}) if $o{role};
    set_verified($u->{email}, 1) if $o{verified};
    $u->{tok} = ($o{role} || $o{verified}) ? fresh_token($u) : $u->{access_token};
    return $u;
}

# Checks GET PATH with TOKEN: status WANT, and the content only with 200.
sub status_is {
    my ($path, $token, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = defined $token ? bearer_at($path, $token) : pget($path);
    is($r->{status}, $want, "$name: $want") or diag(substr($r->{body}, 0, 300));
    if ($want == 200) {
        ok(!no_content($r), "$name: the content");
    }
    else {
        ok(no_content($r), "$name: none of the content");
    }
    return $r;
}

my $PLAIN = account();
my $ADMIN = account(role => 'admin');
my $EDITOR = account(role => 'editor');
my $VERIFIED = account(verified => 1);
my $ADMIN_V = account(role => 'admin', verified => 1);
my $BANNED = account(role => 'banned');
my $FIXED = fixed_account();

subtest 'Require auth-api-role admin editor' => sub {
    my $p = '/protected/role/env.cgi';
    my $r = status_is($p, undef, 401, 'no token');
    is(challenge($r), 'Bearer', 'no token: WWW-Authenticate: Bearer');
    status_is($p, $PLAIN->{tok}, 403, 'a plain user');
    status_is($p, $ADMIN->{tok}, 200, 'an admin');
    status_is($p, $EDITOR->{tok}, 200, 'an editor');
    status_is($p, $BANNED->{tok}, 403, 'another role');
    my $env = cgi_env(bearer_at($p, $ADMIN->{tok}));
    is($env->{AUTH_API_ROLE}, 'admin', 'AUTH_API_ROLE admin');
    # the admin's token from before the promotion says "user": refused by
    # the role (403), or, once its session is checked again, as out of
    # date (401, t/protect_identity.t)
    my $r = bearer_at($p, $ADMIN->{access_token});
    like($r->{status}, qr/^40[13]$/, "the admin's token from before the promotion: refused")
        or diag($r->{status});
    ok(no_content($r), "the admin's token from before the promotion: none of the content");
    status_is('/protected/role/hello.txt', $ADMIN->{tok}, 200, 'an admin, static file');
    status_is('/protected/role/hello.txt', $PLAIN->{tok}, 403, 'a plain user, static file');
};

subtest 'a demoted admin is refused from the next login on' => sub {
    my $u = account(role => 'admin');
    status_is('/protected/role/hello.txt', $u->{tok}, 200, 'while admin');
    set_role($u->{email}, 'user');
    status_is('/protected/role/hello.txt', fresh_token($u), 403, 'after the demotion, new login');
};

subtest 'Require auth-api-verified-email' => sub {
    my $p = '/protected/verified/env.cgi';
    status_is($p, undef, 401, 'no token');
    status_is($p, $PLAIN->{tok}, 403, 'unverified');
    status_is($p, $VERIFIED->{tok}, 200, 'verified');
    my $u = account();
    status_is($p, $u->{tok}, 403, 'a new account, unverified');
    set_verified($u->{email}, 1);
    status_is($p, fresh_token($u), 200, 'after verification and a new login');
    is(cgi_env(bearer_at($p, $VERIFIED->{tok}))->{AUTH_API_EMAIL_VERIFIED}, 'true',
       'AUTH_API_EMAIL_VERIFIED true');
};

subtest 'Require user NAME (the email, or the username with AuthAPIRemoteUser username)' => sub {
    status_is('/protected/requser/env.cgi', undef, 401, 'email: no token');
    status_is('/protected/requser/env.cgi', $FIXED->{access_token}, 200, 'email: the named user');
    status_is('/protected/requser/env.cgi', $PLAIN->{tok}, 403, 'email: another user');
    status_is('/protected/requser/env.cgi', $ADMIN_V->{tok}, 403, 'email: an admin who is not named');
    status_is('/protected/requname/env.cgi', $FIXED->{access_token}, 200, 'username: the named user');
    status_is('/protected/requname/env.cgi', $PLAIN->{tok}, 403, 'username: another user');
    is(cgi_env(bearer_at('/protected/requname/env.cgi', $FIXED->{access_token}))->{REMOTE_USER},
       $AAPI::Protect::FIXED_USERNAME, 'username: REMOTE_USER is the username');
};

subtest '<RequireAll>: valid-user, role admin and a verified address' => sub {
    my $p = '/protected/all/env.cgi';
    status_is($p, undef, 401, 'no token');
    status_is($p, $ADMIN_V->{tok}, 200, 'a verified admin');
    status_is($p, $ADMIN->{tok}, 403, 'an unverified admin');
    status_is($p, $VERIFIED->{tok}, 403, 'a verified plain user');
    status_is($p, $PLAIN->{tok}, 403, 'a plain user');
};

subtest '<RequireAny>: role admin or the named user' => sub {
    my $p = '/protected/any/env.cgi';
    status_is($p, undef, 401, 'no token');
    status_is($p, $ADMIN->{tok}, 200, 'an admin');
    status_is($p, $FIXED->{access_token}, 200, 'the named user');
    status_is($p, $PLAIN->{tok}, 403, 'a plain user');
    status_is($p, $EDITOR->{tok}, 403, 'an editor');
};

subtest '<RequireNone> inside <RequireAll>: anyone but role banned' => sub {
    my $p = '/protected/none/env.cgi';
    status_is($p, undef, 401, 'no token');
    status_is($p, $PLAIN->{tok}, 200, 'a plain user');
    status_is($p, $BANNED->{tok}, 403, 'a banned user');
};

subtest 'authorization does not leak into the other areas' => sub {
    status_is('/protected/loc/env.cgi', $PLAIN->{tok}, 200, 'a plain user in /protected/loc');
    status_is('/protected/loc/env.cgi', $BANNED->{tok}, 200, 'a banned user in /protected/loc');
    status_is('/protected/loc/env.cgi', 'x.y.z', 401, 'a bad token in /protected/loc');
    status_is('/protected/role/env.cgi', 'x.y.z', 401, 'a bad token in /protected/role (401, not 403)');
};
