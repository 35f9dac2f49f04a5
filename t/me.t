# GET/PATCH/POST /me and /profile, /verify-token, and how the access
# token is read (API.md sections 3-4).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use Time::HiRes ();
use MIME::Base64 ();

plan tests => 12, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $PW = strong_password();
my $U = register_user(username => uniq_username(), first_name => 'Meg',
                      last_name => 'Ray', full_name => 'Meg Ray');
my $TOK = $U->{access_token} // 'none';
my $ID = ($U->{user} || {})->{id} // '';
my %AUTH = (Authorization => "Bearer $TOK");

sub me_patch { my ($body, %h) = @_; patch_json('/me', $body, %AUTH, %h) }
sub me_get   { get_json('/me', %AUTH) }

subtest 'GET /me and GET /profile give the user' => sub {
    is($U->{status}, 201, 'registered') or diag($U->{res}{body});
    for my $path ('/me', '/profile') {
        my $r = get_json($path, %AUTH);
        is_envelope_ok($r, 200, "GET $path");
        my $u = $r->data->{user} || {};
        is($u->{id}, $ID, "$path: the id");
        is($u->{email}, $U->{email}, "$path: the email");
        is($u->{first_name}, 'Meg', "$path: first_name");
        is($u->{role}, 'user', "$path: role");
        is_deeply($u->{profile}, {}, "$path: profile");
        my @secret = grep { /pass|hash|secret|totp/i } keys %$u;
        is("@secret", '', "$path: no secret members");
    }
};

subtest 'PATCH and POST /me update the names' => sub {
    my $old = me_get()->data->{user} || {};
    Time::HiRes::sleep(1.1);      # timestamps have whole seconds
    my $r = me_patch({ first_name => 'Margaret' });
    is_envelope_ok($r, 200, 'PATCH /me first_name');
    my $u = $r->data->{user} || {};
    is($u->{first_name}, 'Margaret', 'first_name changed');
    is($u->{last_name}, 'Ray', 'last_name kept');
    is($u->{full_name}, 'Meg Ray', 'full_name kept');
    is($u->{username}, $old->{username}, 'username kept');
    is($u->{created_at}, $old->{created_at}, 'created_at kept');
    ok(($u->{updated_at} // '') gt ($old->{updated_at} // ''), 'updated_at moved on')
        or diag("before $old->{updated_at}, after " . ($u->{updated_at} // '(none)'));

    $r = post_json('/me', { last_name => 'Rae', full_name => 'Margaret Rae' }, %AUTH);
    is_envelope_ok($r, 200, 'POST /me last_name, full_name');
    is(($r->data->{user} || {})->{last_name}, 'Rae', 'last_name changed');
    is(($r->data->{user} || {})->{full_name}, 'Margaret Rae', 'full_name changed');

    $r = patch_json('/profile', { firstName => 'Maggie', lastName => 'R.', fullName => 'Maggie R.' }, %AUTH);
    is_envelope_ok($r, 200, 'PATCH /profile with aliases');
    is(($r->data->{user} || {})->{first_name}, 'Maggie', 'firstName alias');
    is(($r->data->{user} || {})->{last_name}, 'R.', 'lastName alias');
    is(($r->data->{user} || {})->{full_name}, 'Maggie R.', 'fullName alias');

    my $again = me_get()->data->{user} || {};
    is($again->{first_name}, 'Maggie', 'GET /me shows the change');
    is_deeply([@{$again}{qw(first_name last_name full_name)}], ['Maggie', 'R.', 'Maggie R.'],
              'all three stored');

    $r = me_patch({});
    is($r->{status}, 200, 'an empty PATCH changes nothing and succeeds') or diag($r->{body});
    is((($r->data->{user} || {})->{first_name}), 'Maggie', 'first_name unchanged');
    # the same change three times in a row (at least two in one second):
    # nothing changes in the row, and that is no error
    for my $i (1 .. 3) {
        $r = me_patch({ first_name => 'Maggie' });
        is($r->{status}, 200, "identical PATCH $i: 200") or diag($r->{body});
    }
};

subtest 'PATCH /me username' => sub {
    my $new = 'New_' . substr(uniq_username(), 0, 14);
    my $r = me_patch({ username => $new });
    is_envelope_ok($r, 200, 'new username');
    is(($r->data->{user} || {})->{username}, $new, 'username changed');
    is(post_json('/login', { username => $new, password => $PW })->{status}, 200,
       'login with the new username');

    $r = me_patch({ username => uc $new });
    is($r->{status}, 200, 'a change of case of its own username is no conflict') or diag($r->{body});

    my $other = register_user(username => 'Oth_' . substr(uniq_username(), 0, 14));
    is($other->{status}, 201, 'another account');
    for my $variant ($other->{fields}{username}, lc $other->{fields}{username}) {
        $r = me_patch({ username => $variant });
        is_error($r, 409, 'USERNAME_TAKEN', "taking '$variant'");
    }
    for my $bad ('ab', 'x' x 21, 'bad name', 'bad-name') {
        $r = me_patch({ username => $bad });
        is_error($r, 422, 'VALIDATION_FAILED', "username '$bad'");
        ok(ref $r->{json}{errors}{username} eq 'ARRAY', "'$bad': errors.username") or diag($r->{body});
    }
    $r = me_patch({ username => 42 });
    is_error($r, 422, 'VALIDATION_FAILED', 'username as a number');
};

subtest 'PATCH /me names: validation' => sub {
    for my $f (qw(first_name last_name full_name)) {
        my $r = me_patch({ $f => 'n' x 101 });
        is_error($r, 422, 'VALIDATION_FAILED', "$f of 101 characters");
        ok(ref $r->{json}{errors}{$f} eq 'ARRAY', "errors.$f") or diag($r->{body});
        $r = me_patch({ $f => ['x'] });
        is_error($r, 422, 'VALIDATION_FAILED', "$f as an array");
    }
    is((me_get()->data->{user} || {})->{first_name}, 'Maggie', 'nothing changed');
};

subtest 'PATCH /me profile: an object, merged at the top level' => sub {
    my $r = me_patch({ profile => { theme => 'dark', lang => 'en', n => 3 } });
    is_envelope_ok($r, 200, 'set profile');
    is_deeply(($r->data->{user} || {})->{profile}, { theme => 'dark', lang => 'en', n => 3 },
              'profile set');
    $r = me_patch({ profile => { lang => 'fr', tz => 'UTC' } });
    is_deeply(($r->data->{user} || {})->{profile}, { theme => 'dark', lang => 'fr', n => 3, tz => 'UTC' },
              'members merged, others kept');
    $r = me_patch({ profile => { theme => undef } });
    is_deeply(($r->data->{user} || {})->{profile}, { lang => 'fr', n => 3, tz => 'UTC' },
              'null removes a member');
    is_deeply((me_get()->data->{user} || {})->{profile}, { lang => 'fr', n => 3, tz => 'UTC' },
              'stored');
    $r = me_patch({ profile => { note => "caf\x{e9} \x{2603}" } });
    is(((($r->data->{user} || {})->{profile}) || {})->{note}, "caf\x{e9} \x{2603}",
       'non-ASCII text kept');

    for my $bad (['an array', [1, 2]], ['a string', 'dark'], ['a number', 5],
                 ['true', JSON::PP::true()]) {
        $r = me_patch({ profile => $bad->[1] });
        is_error($r, 422, 'VALIDATION_FAILED', "profile as $bad->[0]");
        ok(ref $r->{json}{errors}{profile} eq 'ARRAY', "$bad->[0]: errors.profile") or diag($r->{body});
    }
    $r = me_patch({ profile => { big => 'x' x 5000 } });
    is_error($r, 422, 'VALIDATION_FAILED', 'profile over 4 KiB');
    ok(ref $r->{json}{errors}{profile} eq 'ARRAY', 'errors.profile') or diag($r->{body});
    $r = me_patch({ profile => { big => 'x' x 3000 } });
    is($r->{status}, 200, 'a 3 KB profile is fine') or diag(substr $r->{body}, 0, 300);
    is_deeply([sort keys %{ (me_get()->data->{user} || {})->{profile} || {} }],
              [qw(big lang n note tz)], 'stored profile after the refusals');
};

subtest 'PATCH /me ignores id, role, email_verified, email, password fields' => sub {
    my $before = me_get()->data->{user} || {};
    my $r = me_patch({ id => 'x' x 32, role => 'admin', email_verified => JSON::PP::true(),
                       email => uniq_email(), password => 'N3w-Passw0rd!', password_hash => '$2b$04$x',
                       created_at => '2000-01-01T00:00:00Z', disabled => 1, last_name => 'Ok' });
    is($r->{status}, 200, 'accepted (the known field is applied)') or diag($r->{body});
    my $u = me_get()->data->{user} || {};
    is($u->{id}, $ID, 'id unchanged');
    is($u->{role}, 'user', 'role stays user');
    ok(JSON::PP::is_bool($u->{email_verified}) && !$u->{email_verified}, 'email_verified stays false');
    is($u->{email}, $before->{email}, 'email unchanged');
    is($u->{created_at}, $before->{created_at}, 'created_at unchanged');
    is($u->{last_name}, 'Ok', 'last_name applied');
    is(login_as($U->{email}, $PW)->{status}, 200, 'the old password still works');
    is(login_as($U->{email}, 'N3w-Passw0rd!')->{status}, 401, 'the body password was ignored');
    my ($row) = db_query('SELECT role, email_verified, disabled FROM users WHERE id = ' . sql_quote($ID));
    is_deeply($row, ['user', 0, 0], 'database: role user, not verified, not disabled');
};

subtest 'GET and POST /verify-token' => sub {
    my $r = get_json('/verify-token', %AUTH);
    is_envelope_ok($r, 200, 'GET /verify-token');
    is(($r->data->{user} || {})->{id}, $ID, 'data.user');
    $r = post_json('/verify-token', undef, %AUTH);
    is_envelope_ok($r, 200, 'POST /verify-token without a body');
    is(($r->data->{user} || {})->{id}, $ID, 'data.user');
    $r = post_json('/verify-token', {}, %AUTH);
    is_envelope_ok($r, 200, 'POST /verify-token with {}');
    $r = get_json('/verify-token');
    is_error($r, 401, 'INVALID_TOKEN', 'GET /verify-token without a token');
    $r = get_json('/verify-token', Authorization => 'Bearer x.y.z');
    is_error($r, 401, 'INVALID_TOKEN', 'GET /verify-token with garbage');
};

subtest 'no token: 401 INVALID_TOKEN with WWW-Authenticate: Bearer' => sub {
    for my $m (['GET', '/me'], ['GET', '/profile'], ['PATCH', '/me'], ['POST', '/me']) {
        my $r = request_json($m->[0], $m->[1], $m->[0] eq 'GET' ? undef : { first_name => 'X' });
        is_error($r, 401, 'INVALID_TOKEN', "$m->[0] $m->[1] without a token");
        my $wa = $r->header('WWW-Authenticate') // '';
        like($wa, qr/^Bearer\b/, "$m->[0] $m->[1]: WWW-Authenticate starts with Bearer");
        unlike($wa, qr/error=/, "$m->[0] $m->[1]: no error attribute without credentials (RFC 6750 3.1)");
    }
    my $r = get_json('/me', Authorization => 'Bearer not-a-jwt');
    is_error($r, 401, 'INVALID_TOKEN', 'a bad token');
    like($r->header('WWW-Authenticate') // '', qr/^Bearer\b.*error="invalid_token"/,
         'a bad token: Bearer error="invalid_token"');
    is((me_get()->data->{user} || {})->{last_name}, 'Ok', 'unauthenticated updates changed nothing');
};

subtest 'the token is never read from the query string' => sub {
    my $r = get_json("/me?access_token=$TOK");
    is_error($r, 401, 'INVALID_TOKEN', 'GET /me?access_token=');
    $r = get_json("/verify-token?access_token=$TOK");
    is_error($r, 401, 'INVALID_TOKEN', 'GET /verify-token?access_token=');
    $r = get_json("/me?token=$TOK");
    is_error($r, 401, 'INVALID_TOKEN', 'GET /me?token=');
    $r = get_json("/me?x=1", %AUTH);
    is($r->{status}, 200, 'a query string does not disturb the header token');
};

subtest 'the Authorization scheme is case-insensitive' => sub {
    for my $scheme (qw(bearer BEARER BeArEr)) {
        my $r = get_json('/me', Authorization => "$scheme $TOK");
        is($r->{status}, 200, "'$scheme <token>' accepted") or diag($r->{body});
    }
};

subtest 'malformed Authorization headers: 401' => sub {
    my $other = login_as($U->{email}, $PW)->data->{access_token} // 'x';
    my @cases = (
        [ 'Bearer a, Bearer b',         "Bearer $TOK, Bearer $other" ],
        [ 'the same token twice',       "Bearer $TOK, Bearer $TOK" ],
        [ 'Bearer tok tok',             "Bearer $TOK $TOK" ],
        [ 'Bearer tok junk',            "Bearer $TOK junk" ],
        [ 'Bearer with no token',       'Bearer' ],
        [ 'Bearer and spaces',          'Bearer    ' ],
        [ 'Basic scheme',               'Basic ' . MIME::Base64::encode_base64("$U->{email}:$PW", '') ],
        [ 'token without scheme',       $TOK ],
        [ 'Token scheme',               "Token $TOK" ],
        [ 'Bearer,token',               "Bearer,$TOK" ],
    );
    for my $c (@cases) {
        my $r = get_json('/me', Authorization => $c->[1]);
        is_error($r, 401, 'INVALID_TOKEN', $c->[0]);
    }
    # two Authorization header lines
    my $hp = AAPI::Test::hostport();
    my $r = raw_http("GET $AAPI::Test::MOUNT/me HTTP/1.1\r\nHost: $hp\r\nConnection: close\r\n"
                     . "Authorization: Bearer $TOK\r\nAuthorization: Bearer $other\r\n\r\n");
    is_error($r, 401, 'INVALID_TOKEN', 'two Authorization header lines');
};

subtest 'HEAD /me carries no body but the same status' => sub {
    my $r = request_json('HEAD', '/me', undef, %AUTH);
    is($r->{status}, 200, 'HEAD /me with a token: 200');
    is($r->{body}, '', 'no body');
    $r = request_json('HEAD', '/me');
    is($r->{status}, 401, 'HEAD /me without a token: 401');
};
