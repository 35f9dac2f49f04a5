# POST /register (API.md sections 2-4): the user object, the token pair,
# normalisation and uniqueness, aliases, ignored fields, every validation
# rule, AuthAPIRequiredFields / AuthAPIPasswordPolicy on a virtual host,
# and parallel registrations of one address.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use Encode ();
use File::Spec::Functions qw(catfile);

plan tests => 18, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $PW = strong_password();
my $TS = qr/^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z$/;

# Returns the epoch seconds of an RFC 3339 UTC timestamp.
sub ts_epoch {
    my ($y, $mo, $d, $h, $mi, $s) = $_[0] =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)/;
    require Time::Local;
    return Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y);
}

# Checks a 422 with errors.FIELD and a message built from an error; no
# account for EMAIL.
sub invalid {
    my ($name, $body, $field, $like) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = post_json('/register', $body);
    is_error($r, 422, 'VALIDATION_FAILED', $name);
    my $errs = ref $r->{json} eq 'HASH' ? $r->{json}{errors} : undef;
    my $list = ref $errs eq 'HASH' ? $errs->{$field} : undef;
    ok(ref $list eq 'ARRAY' && @$list && !grep({ !defined $_ || ref $_ || !length $_ } @$list),
       "$name: errors.$field is a list of messages")
        or diag("body: $r->{body}");
    if ($like && ref $list eq 'ARRAY') {
        ok((grep { /$like/ } @$list), "$name: errors.$field matches $like")
            or diag("errors.$field: @$list");
    }
    # the message is a sentence made from one of the errors
    my $msg = ref $r->{json} eq 'HASH' ? $r->{json}{message} : '';
    my @all = map { @{ ref $_ eq 'ARRAY' ? $_ : [] } } values %{ ref $errs eq 'HASH' ? $errs : {} };
    ok(defined $msg && $msg =~ /^[A-Z]/ && (grep { index(lc $msg, lc $_) >= 0 } @all),
       "$name: message is a sentence naming an error")
        or diag("message: " . (defined $msg ? $msg : '(none)'));
    if (ref $body eq 'HASH' && defined $body->{email} && !ref $body->{email}) {
        is(user_count($body->{email}), 0, "$name: no account created");
    }
    return $r;
}

subtest '201 with the user object and the token pair' => sub {
    my $e = uniq_email('ann');
    my $un = uniq_username();
    my $before = time;
    my $r = post_json('/register', { email => $e, password => $PW,
                                     username => $un, first_name => 'Ann',
                                     last_name => 'Lee', full_name => 'Ann B. Lee' });
    is_envelope_ok($r, 201, 'register');
    is($r->{json}{message}, 'Registration successful', 'message');
    my $d = $r->data;
    my $u = $d->{user};
    is(ref $u, 'HASH', 'data.user is an object') or return;
    ok(defined $u->{id} && !ref $u->{id} && length $u->{id} >= 16, 'id: a string of 16+ characters')
        or diag("id: " . ($u->{id} // '(none)'));
    is($u->{email}, $e, 'email');
    is($u->{username}, $un, 'username');
    is($u->{first_name}, 'Ann', 'first_name');
    is($u->{last_name}, 'Lee', 'last_name');
    is($u->{full_name}, 'Ann B. Lee', 'full_name');
    is($u->{role}, 'user', 'role user');
    ok(JSON::PP::is_bool($u->{email_verified}) && !$u->{email_verified},
       'email_verified is false (a JSON boolean)');
    like($u->{created_at} // '', $TS, 'created_at is RFC 3339 UTC');
    like($u->{updated_at} // '', $TS, 'updated_at is RFC 3339 UTC');
    if (($u->{created_at} // '') =~ $TS) {
        my $t = ts_epoch($u->{created_at});
        ok($t >= $before - 5 && $t <= time + 5, 'created_at is now')
            or diag("created_at $u->{created_at}, now " . time);
    }
    is_deeply($u->{profile}, {}, 'profile is {}');
    my @secret = grep { /pass|hash|secret|totp|salt/i } keys %$u;
    is("@secret", '', 'no password, hash or secret member in the user');
    unlike($r->{body}, qr/\Q$PW\E/, 'the password is nowhere in the response');
    unlike($r->{body}, qr/\$2[aby]\$/, 'no bcrypt hash in the response');

    like($d->{access_token} // '', qr/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
         'access_token is a compact JWS');
    is($d->{token_type}, 'Bearer', 'token_type Bearer');
    is($d->{expires_in}, 900, 'expires_in 900');
    ok(defined $d->{refresh_token} && !ref $d->{refresh_token}
       && length($d->{refresh_token}) >= 43, 'refresh_token: 256+ bits as text')
        or diag("refresh_token: " . ($d->{refresh_token} // '(none)'));
    is($d->{refresh_expires_in}, 2592000, 'refresh_expires_in 2592000');
    isnt($d->{refresh_token} // '', $d->{access_token} // '', 'two different tokens');
    is(bearer_get('/me', $d->{access_token} || 'x')->{status}, 200,
       'the access token works at once');
};

subtest 'only email and password are needed' => sub {
    my $e = uniq_email();
    my $r = post_json('/register', { email => $e, password => $PW });
    is_envelope_ok($r, 201, 'minimal register');
    is(user_count($e), 1, 'one account');
    my $u = $r->data->{user} || {};
    ok(!defined $u->{username} || $u->{username} eq '', 'no username');
    is($u->{role}, 'user', 'role user');
};

subtest 'ids are opaque: not sequential, not ordered, random-looking' => sub {
    my @ids = map { register_user()->{user}{id} // '' } 1 .. 3;
    ok(length $_ >= 16, "id $_ has 16+ characters") for @ids;
    isnt($ids[0], $ids[1], 'two ids differ');
    for my $i (0, 1) {
        my ($a, $b) = @ids[$i, $i + 1];
        ok(!($a =~ /^\d+$/ && $b =~ /^\d+$/), 'ids are not plain numbers');
        my $p = 0;
        $p++ while $p < length $a && substr($a, $p, 1) eq substr($b, $p, 1);
        cmp_ok($p, '<', 6, "consecutive ids $a / $b share no time-ordered prefix");
    }
    my %chars = map { $_ => 1 } split //, join '', @ids;
    cmp_ok(scalar keys %chars, '>=', 10, 'ids use many different characters');
};

subtest 'email is trimmed and unique without regard to case' => sub {
    my $tag = 'ann' . int(rand 1e9);
    my $e = "$tag\@x.test";
    my $r = post_json('/register', { email => "  $e \t", password => $PW });
    is_envelope_ok($r, 201, 'register with surrounding white space');
    is(lc($r->data->{user}{email} // ''), $e, 'the stored address is trimmed');
    is(login_as($e, $PW)->{status}, 200, 'login with the trimmed address');

    for my $variant (" \U$tag\E\@X.TEST ", "\u$tag\@x.test", "$tag\@X.test") {
        my $c = post_json('/register', { email => $variant, password => $PW });
        is_error($c, 409, 'EMAIL_TAKEN', "register '$variant' again");
    }
    is(user_count($e), 1, 'still one account');
};

subtest 'username is unique without regard to case' => sub {
    my $un = 'Bob_' . substr(uniq_username(), 0, 12);
    my $r = post_json('/register', { email => uniq_email(), password => $PW,
                                     username => $un });
    is_envelope_ok($r, 201, 'register with a username');
    for my $variant (lc $un, uc $un, $un) {
        my $e = uniq_email();
        my $c = post_json('/register', { email => $e, password => $PW,
                                         username => $variant });
        is_error($c, 409, 'USERNAME_TAKEN', "username '$variant' again");
        is(user_count($e), 0, 'no account created');
    }
};

subtest 'aliases firstName, lastName, fullName' => sub {
    my $r = post_json('/register', { email => uniq_email(), password => $PW,
                                     firstName => 'Zoe', lastName => 'Quinn',
                                     fullName => 'Zoe Q.' });
    is_envelope_ok($r, 201, 'register with aliases');
    my $u = $r->data->{user} || {};
    is($u->{first_name}, 'Zoe', 'firstName -> first_name');
    is($u->{last_name}, 'Quinn', 'lastName -> last_name');
    is($u->{full_name}, 'Zoe Q.', 'fullName -> full_name');
    ok(!exists $u->{firstName} && !exists $u->{lastName}, 'output is snake_case only');

    my $bad = post_json('/register', { email => uniq_email(), password => $PW,
                                       firstName => 'x' x 101 });
    is_error($bad, 422, 'VALIDATION_FAILED', 'too long firstName');
    ok(ref $bad->{json}{errors}{first_name} eq 'ARRAY',
       'reported under first_name') or diag($bad->{body});
};

subtest 'role, email_verified, id and timestamps in the body are ignored' => sub {
    my $e = uniq_email();
    my $r = post_json('/register', { email => $e, password => $PW, role => 'admin',
                                     email_verified => JSON::PP::true(),
                                     id => 'my-own-id-0000000000', created_at => '2000-01-01T00:00:00Z',
                                     disabled => 1, password_hash => 'x' });
    is_envelope_ok($r, 201, 'register with privileged fields');
    my $u = $r->data->{user} || {};
    is($u->{role}, 'user', 'role stays user');
    ok(JSON::PP::is_bool($u->{email_verified}) && !$u->{email_verified}, 'email_verified stays false');
    isnt($u->{id}, 'my-own-id-0000000000', 'id is chosen by the server');
    unlike($u->{created_at} // '', qr/^2000/, 'created_at is the server time');
    my ($row) = db_query('SELECT role, email_verified, disabled FROM users WHERE email_norm = '
                         . sql_quote(lc $e));
    is_deeply($row, ['user', 0, 0], 'database: role user, not verified, not disabled');
    is(login_as($e, $PW)->{status}, 200, 'the account can log in (not disabled)');
};

subtest 'unknown fields are ignored' => sub {
    my $r = post_json('/register', { email => uniq_email(), password => $PW,
                                     favourite_colour => 'green', nested => { a => [1, 2] },
                                     n => 42, b => JSON::PP::false(), z => undef });
    is_envelope_ok($r, 201, 'register with unknown fields');
    ok(!exists(($r->data->{user} || {})->{favourite_colour}), 'not echoed');
};

subtest '422 for invalid email addresses' => sub {
    invalid('missing email', { password => $PW }, 'email');
    invalid('empty email', { email => '', password => $PW }, 'email');
    invalid('blank email', { email => '   ', password => $PW }, 'email');
    for my $bad ('no-at.example.test', 'a@b@c.test', 'ann lee@x.test', 'ann@x test.com',
                 'ann@localhost', '.ann@x.test', 'ann@', '@x.test', 'ann@.x.test',
                 'ann..lee@x.test', 'ann@x..test', 'ann@-x.test', "ann\@x.test\nBcc: b\@y.test") {
        (my $shown = $bad) =~ s/\n/\\n/g;
        invalid("email '$shown'", { email => $bad, password => $PW }, 'email');
    }
    # 255 characters: 64 + 1 + 190
    my $dom = join('.', 'a' x 61, 'b' x 61, 'c' x 61) . '.test';
    my $e255 = ('l' x 64) . '@' . $dom;
    is(length $e255, 255, 'the long address has 255 characters');
    invalid('255-character email', { email => $e255, password => $PW }, 'email', qr/254/);
    my $e254 = ('l' x 63) . '@' . $dom;
    my $ok = post_json('/register', { email => $e254, password => $PW });
    is($ok->{status}, 201, 'a 254-character address is accepted') or diag($ok->{body});
};

subtest '422 for invalid usernames and names' => sub {
    invalid('username too short', { email => uniq_email(), password => $PW, username => 'ab' }, 'username');
    invalid('username too long', { email => uniq_email(), password => $PW, username => 'a' x 21 }, 'username');
    for my $bad ('bad-name', 'bad name', 'bad.name', "b\x{e4}dname", 'ab@cd') {
        invalid("username '" . Encode::encode_utf8($bad) . "'",
                { email => uniq_email(), password => $PW, username => $bad }, 'username');
    }
    my $ok = post_json('/register', { email => uniq_email(), password => $PW,
                                      username => substr('a' x 8 . uniq_username(), 0, 20) });
    is($ok->{status}, 201, 'a 20-character username is accepted') or diag($ok->{body});
    for my $f (qw(first_name last_name full_name)) {
        invalid("$f over 100 characters", { email => uniq_email(), password => $PW, $f => 'n' x 101 }, $f);
        invalid("$f over 100 (multibyte) characters",
                { email => uniq_email(), password => $PW, $f => "\x{e9}" x 101 }, $f);
        my $r = post_json('/register', { email => uniq_email(), password => $PW,
                                         $f => "\x{e9}" x 100 });
        is($r->{status}, 201, "$f of 100 two-byte characters is accepted") or diag($r->{body});
        is(($r->data->{user} || {})->{$f}, "\x{e9}" x 100, "$f comes back unchanged");
    }
};

subtest '422 for values of the wrong type' => sub {
    invalid('email as a number', { email => 12345, password => $PW }, 'email');
    invalid('email as an array', { email => [uniq_email()], password => $PW }, 'email');
    invalid('password as a number', { email => uniq_email(), password => 12345678901 }, 'password');
    invalid('password as an object', { email => uniq_email(), password => { p => $PW } }, 'password');
    invalid('username as a number', { email => uniq_email(), password => $PW, username => 12345 }, 'username');
    invalid('first_name as an object', { email => uniq_email(), password => $PW, first_name => {} }, 'first_name');
    invalid('last_name as an array', { email => uniq_email(), password => $PW, last_name => ['x'] }, 'last_name');
    invalid('full_name as a boolean', { email => uniq_email(), password => $PW,
                                        full_name => JSON::PP::true() }, 'full_name');
};

subtest '422 for passwords that break the default policy' => sub {
    invalid('missing password', { email => uniq_email() }, 'password');
    invalid('empty password', { email => uniq_email(), password => '' }, 'password');
    invalid('password too short', { email => uniq_email(), password => 'Ab1!xyz' }, 'password', qr/8/);
    invalid('no uppercase letter', { email => uniq_email(), password => 'lower-case-1x' }, 'password', qr/upper/i);
    invalid('no lowercase letter', { email => uniq_email(), password => 'UPPER-CASE-1X' }, 'password', qr/lower/i);
    invalid('no digit', { email => uniq_email(), password => 'No-Digits-Here' }, 'password', qr/digit|number/i);
    invalid('no special character', { email => uniq_email(), password => 'NoSpecial1234' }, 'password', qr/special|symbol/i);
    my $r = invalid('the example of API.md', { email => uniq_email(), password => 'lower-case-1x' }, 'password');
    is($r->{json}{message}, 'Password must contain an uppercase letter', 'the message of API.md')
        if ref $r->{json} eq 'HASH';
};

subtest 'passwords over 72 bytes are refused, never truncated' => sub {
    my $p72 = 'Aa1!' . ('x' x 68);
    my $p73 = $p72 . 'y';
    is(length $p73, 73, '73 bytes');
    invalid('73-byte password', { email => uniq_email(), password => $p73 }, 'password', qr/72/);
    my $r = post_json('/register', { email => uniq_email(), password => $p73 });
    like($r->{json}{message} // '', qr/72 bytes/, 'the message mentions 72 bytes');
    # 39 characters, 74 bytes
    my $multi = 'Aa1!' . ("\x{e9}" x 35);
    invalid('74-byte password of 39 characters', { email => uniq_email(), password => $multi }, 'password', qr/72/);

    my $e = uniq_email();
    my $ok = post_json('/register', { email => $e, password => $p72 });
    is($ok->{status}, 201, 'a 72-byte password is accepted') or diag($ok->{body});
    is(login_as($e, $p72)->{status}, 200, 'and logs in');
    is(login_as($e, $p73)->{status}, 401, 'the same with a 73rd byte does not log in');
    is(login_as($e, $p72 . ('z' x 100))->{status}, 401, 'nor with 100 more bytes');
};

subtest 'password equal to the email or the username' => sub {
    my $e = 'Pw1.' . substr(uniq_email(), 0, 40);
    $e =~ s/@.*//;
    $e .= '@Example.test';
    invalid('password equal to the email', { email => $e, password => $e }, 'password');
    my $un = 'Ab_1' . substr(uniq_username(), 0, 12);
    invalid('password equal to the username', { email => uniq_email(), username => $un,
                                                password => $un }, 'password');
};

# Returns common-list entries that satisfy min=10 digit.
sub common_for_strict {
    my $f = catfile(Apache::Test::vars('top_dir'), 'conf', 'common-passwords.txt');
    open my $fh, '<', $f or return ();
    my @w;
    while (my $l = <$fh>) {
        chomp $l;
        next if $l =~ /^#/ || length $l < 10 || $l !~ /\d/ || $l !~ /[a-z]/i;
        push @w, $l;
    }
    return @w;
}

subtest 'vhost with AuthAPIRequiredFields username first_name' => sub {
    Apache::TestRequest::module('aapi_strict');
    my $r = invalid('without username and first_name', { email => uniq_email(), password => 'abcdefgh12' },
                    'username');
    ok(ref $r->{json}{errors}{first_name} eq 'ARRAY', 'errors.first_name too') or diag($r->{body});
    invalid('without first_name', { email => uniq_email(), password => 'abcdefgh12',
                                    username => uniq_username() }, 'first_name');
    invalid('with an empty first_name', { email => uniq_email(), password => 'abcdefgh12',
                                          username => uniq_username(), first_name => '' }, 'first_name');
    invalid('without username', { email => uniq_email(), password => 'abcdefgh12',
                                  first_name => 'Ann' }, 'username');
    my $ok = post_json('/register', { email => uniq_email(), password => 'abcdefgh12',
                                      username => uniq_username(), firstName => 'Ann' });
    is_envelope_ok($ok, 201, 'with both (firstName alias)');
    Apache::TestRequest::module('default');
    my $main = post_json('/register', { email => uniq_email(), password => $PW });
    is($main->{status}, 201, 'the main server does not require them');
};

subtest 'vhost with AuthAPIPasswordPolicy min=10 digit' => sub {
    Apache::TestRequest::module('aapi_strict');
    my %f = (username => uniq_username(), first_name => 'Ann');
    invalid('9 characters', { email => uniq_email(), password => 'abcdefg12', %f }, 'password', qr/10/);
    invalid('no digit', { email => uniq_email(), password => 'abcdefghijk', %f }, 'password', qr/digit|number/i);
    my @common = common_for_strict();
    ok(@common >= 1, 'the shipped list has entries of 10+ characters with a digit')
        or diag('none found');
    for my $c (@common[0 .. ($#common < 2 ? $#common : 2)]) {
        invalid("common password '$c'", { email => uniq_email(), password => $c,
                                           username => uniq_username(), first_name => 'Ann' },
                'password');
        invalid("common password '\u$c' (case)", { email => uniq_email(), password => "\u$c",
                                                   username => uniq_username(), first_name => 'Ann' },
                'password');
    }
    my $ok = post_json('/register', { email => uniq_email(), password => 'lowercase1x',
                                      username => uniq_username(), first_name => 'Ann' });
    is_envelope_ok($ok, 201, 'lower case letters and a digit are enough here');
    Apache::TestRequest::module('default');
    invalid('the same password on the main server', { email => uniq_email(), password => 'lowercase1x' },
            'password');
};

subtest '16 parallel registrations of one address: one 201, fifteen 409' => sub {
    my $e = uniq_email('race');
    my @res = parallel(16, sub {
        my $r = post_json('/register', { email => $e, password => $PW });
        return { status => $r->{status}, error => ($r->{json} || {})->{error} };
    }, 90);
    my %by;
    $by{ ($_->{status} // 'none') . ' ' . ($_->{error} // '') }++ for @res;
    my $created = grep { ($_->{status} // 0) == 201 } @res;
    my $taken = grep { ($_->{status} // 0) == 409 && ($_->{error} // '') eq 'EMAIL_TAKEN' } @res;
    is($created, 1, 'exactly one 201') or diag(explain \%by);
    is($taken, 15, 'fifteen 409 EMAIL_TAKEN') or diag(explain \%by);
    is(user_count($e), 1, 'one account in the database');
};

subtest '8 parallel registrations of one username: one 201, seven 409' => sub {
    my $un = uniq_username();
    my @res = parallel(8, sub {
        my $r = post_json('/register', { email => uniq_email('p' . $_[0]), password => $PW,
                                         username => $un });
        return { status => $r->{status}, error => ($r->{json} || {})->{error} };
    }, 90);
    my %by;
    $by{ ($_->{status} // 'none') . ' ' . ($_->{error} // '') }++ for @res;
    is(scalar(grep { ($_->{status} // 0) == 201 } @res), 1, 'exactly one 201') or diag(explain \%by);
    is(scalar(grep { ($_->{status} // 0) == 409 && ($_->{error} // '') eq 'USERNAME_TAKEN' } @res),
       7, 'seven 409 USERNAME_TAKEN') or diag(explain \%by);
};
