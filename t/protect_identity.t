# What protected content learns of a user comes from the access token, and
# a token that says what is no longer so of its user is refused (API.md
# section 5; the README's "Claims are checked"): a username change through
# PATCH /me refuses every access token of the user's sessions at once, as
# out of date (a refresh gives tokens with the new name), so no page or
# backend goes on seeing a name that another account may take; a change of
# the other profile fields keeps them; silent refresh mends an out-of-date
# access cookie; a change made directly in the database (role) is seen
# within AuthAPISessionCacheTTL. The refusal in every process at once, of
# tokens and of the old name for Basic clients, is in
# t/protect_revocation.t. Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 7, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $ENV = '/protected/loc/env.cgi';
my $UNAME = '/protected/uname/env.cgi';

# PATCH /me with the bearer TOKEN and the fields F; dies unless 200.
sub patch_me {
    my ($token, %f) = @_;
    my $r = patch_json('/me', \%f, Authorization => "Bearer $token");
    die "PATCH /me: $r->{status} $r->{body}\n" unless $r->{status} == 200;
    return $r;
}

# Checks that GET PATH with TOKEN is refused as an invalid token: 401, the
# challenge naming invalid_token, none of the content.
sub refused {
    my ($path, $token, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = bearer_at($path, $token);
    is($r->{status}, 401, "$name: 401") or diag(substr($r->{body}, 0, 300));
    like(challenge($r), qr/error="invalid_token"/, "$name: invalid_token");
    ok(no_content($r), "$name: none of the content");
}

# Checks that GET PATH with TOKEN gives the CGI, and returns its env.
sub served {
    my ($path, $token, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = bearer_at($path, $token);
    is($r->{status}, 200, "$name: 200") or diag(substr($r->{body}, 0, 300));
    return cgi_env($r);
}

subtest 'a username change refuses the old tokens; a refresh mends them' => sub {
    my $u = new_account();
    my $other = fresh_token($u);
    my $new = uniq_username();
    is(served($ENV, $u->{access_token}, 'before')->{AUTH_API_USERNAME}, $u->{username},
       'before: AUTH_API_USERNAME is the old name');
    served($ENV, $other, "another session's token, before");
    patch_me($u->{access_token}, username => $new);
    refused($ENV, $u->{access_token}, 'the token that made the change');
    refused($ENV, $other, "another session's token");
    refused('/protected/loc/hello.txt', $other, "another session's token, a static file");
    # the API reads the account itself: the same token still answers there
    my $me = bearer_get('/me', $u->{access_token});
    is($me->{status}, 200, 'GET /me with the old token: 200');
    is(($me->data->{user} || {})->{username}, $new, 'GET /me: the new name');
    my $r = post_json('/refresh', { refresh_token => $u->{refresh_token} });
    is($r->{status}, 200, 'POST /refresh') or return diag($r->{body});
    my $env = served($ENV, $r->data->{access_token}, 'the refreshed token');
    is($env->{AUTH_API_USERNAME}, $new, 'the refreshed token: the new name');
    is($env->{AUTH_API_USER_ID}, $u->{id}, 'the refreshed token: the same user');
    is(served($ENV, fresh_token($u), 'a new login')->{AUTH_API_USERNAME}, $new,
       'a new login: the new name');
};

subtest 'a name given up and taken by another account names only that one' => sub {
    my $a = new_account();
    my $name = $a->{username};
    patch_me($a->{access_token}, username => uniq_username());
    my $b = new_account(username => $name);
    is($b->{username}, $name, 'the second account took the name');
    refused($UNAME, $a->{access_token}, 'AuthAPIRemoteUser username: the old token of the first');
    my $env = served($UNAME, $b->{access_token}, 'the token of the second');
    is($env->{REMOTE_USER}, $name, 'REMOTE_USER: the name');
    is($env->{AUTH_API_USER_ID}, $b->{id}, 'AUTH_API_USER_ID: the second account');
};

subtest 'a case change of the name is a change' => sub {
    my $u = new_account();
    patch_me($u->{access_token}, username => uc $u->{username});
    refused($UNAME, $u->{access_token}, 'the old token');
};

subtest 'other fields, and the same name again, keep the tokens' => sub {
    my $u = new_account();
    my $other = fresh_token($u);
    patch_me($u->{access_token}, first_name => 'Ann', last_name => 'Lee',
             full_name => 'Ann Lee', profile => { city => 'Oslo' });
    served($ENV, $u->{access_token}, 'names and profile changed: the token');
    served($ENV, $other, "names and profile changed: another session's token");
    patch_me($u->{access_token}, username => $u->{username});
    is(served($ENV, $other, "the same name set again: another session's token")
           ->{AUTH_API_USERNAME}, $u->{username}, 'the same name');
    # nothing was refused along the way: the token is not out of date
    served($UNAME, $u->{access_token}, 'AuthAPIRemoteUser username: the token');
};

subtest 'silent refresh mends an out-of-date access cookie' => sub {
    Apache::TestRequest::module('aapi_protect_silent');
    my $u = new_account();
    my $s = cookie_session($u);
    my (undef, $c) = jwt_decode($s->{access});
    cmp_ok($c->{exp} - time, '>', 60, 'the access cookie lives for minutes');
    my $line = token_cookie_line(access => $s->{access}, refresh => $s->{refresh});
    my $r = raw_req('GET', $ENV, [$line]);
    is($r->{status}, 200, 'before: 200');
    ok(!set_cookies($r)->{auth_api_access}, 'before: no new cookie');
    my $new = uniq_username();
    patch_me($s->{access}, username => $new);
    $r = raw_req('GET', $ENV, [$line]);
    is($r->{status}, 200, 'after: 200, the page') or diag(substr($r->{body}, 0, 300));
    is(cgi_env($r)->{AUTH_API_USERNAME}, $new, 'after: the new name');
    my $set = set_cookies($r);
    ok($set->{auth_api_access} && $set->{auth_api_refresh}, 'after: fresh cookies set');
    my (undef, $nc) = jwt_decode(($set->{auth_api_access} || {})->{value} // 'e30.e30.');
    is($nc->{username}, $new, 'the fresh access cookie names the new name');
    is($nc->{sid}, $s->{sid}, 'the same session');
    Apache::TestRequest::module('default');
};

subtest 'a change made in the database is seen within AuthAPISessionCacheTTL' => sub {
    # AuthAPISessionCacheTTL 1s
    Apache::TestRequest::module('aapi_protect_shortcheck');
    my $u = new_account();
    is(served($ENV, $u->{access_token}, 'before')->{AUTH_API_ROLE}, 'user', 'before: user');
    set_role($u->{email}, 'editor');
    # the process's trust and the shared cache's entry, a second each
    sleep 3;
    refused($ENV, $u->{access_token}, 'the token of the old role');
    is(served($ENV, fresh_token($u), 'a new login')->{AUTH_API_ROLE}, 'editor',
       'a new login: the new role');
    set_role($u->{email}, 'user');
    sleep 3;
    is(served($ENV, $u->{access_token}, 'the first token again, the role back')
           ->{AUTH_API_ROLE}, 'user', 'what the token says is so again');
    Apache::TestRequest::module('default');
};

subtest 'roles of every length the stores hold work, and logout still refuses at once' => sub {
    # the per-process token table and the shared cache hold a role up to a
    # size; a longer one is checked in the database every time instead,
    # with the same answers (MySQL's column holds 32 characters, SQLite's
    # any number)
    my @lengths = (1, 31, 32);
    push @lengths, 33, 64, 65, 300, 600 unless AAPI::Test::db_is_mysql();
    for my $n (@lengths) {
        my $u = new_account();
        my $role = substr('r' . ('abcdefghij' x 60), 0, $n);
        set_role($u->{email}, $role);
        my $tok = fresh_token($u);
        for my $i (1 .. 3) {
            is(served($ENV, $tok, "role of $n bytes, request $i")->{AUTH_API_ROLE},
               $role, "role of $n bytes, request $i: AUTH_API_ROLE");
        }
        my $out = post_json('/logout', {}, Authorization => "Bearer $tok");
        is($out->{status}, 200, "role of $n bytes: logout");
        refused($ENV, $tok, "role of $n bytes, after logout");
    }
};
