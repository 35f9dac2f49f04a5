# Request bodies that are not one JSON object, that are not JSON, or that
# are too large (API.md section 2): 400, 415 and 413, and nothing created.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;

plan tests => 11, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $PW = strong_password();

# Returns the JSON text of a valid registration of E.
sub reg { json_enc({ email => $_[0], password => $PW }) }

# Returns a registration body of E padded to exactly LEN bytes.
sub padded {
    my ($e, $len) = @_;
    my $base = qq({"email":"$e","password":"$PW","pad":""});
    die "too short" if $len < length $base;
    my $pad = 'x' x ($len - length $base);
    my $b = qq({"email":"$e","password":"$PW","pad":"$pad"});
    die "length" unless length $b == $len;
    return $b;
}

# Checks that BODY on /register gives 400 INVALID_JSON and creates none
# of EMAILS.
sub bad_register {
    my ($name, $body, @emails) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = post_json('/register', $body);
    is_error($r, 400, 'INVALID_JSON', $name);
    is(user_count($_), 0, "$name: no account for $_") for @emails;
}

subtest 'syntax errors and trailing garbage: 400 INVALID_JSON' => sub {
    my @cases = (
        [ 'trailing comma',      sub { qq({"email":"$_[0]","password":"$PW",}) } ],
        [ 'missing comma',       sub { qq({"email":"$_[0]" "password":"$PW"}) } ],
        [ 'truncated',           sub { qq({"email":"$_[0]","password":) } ],
        [ 'unterminated string', sub { qq({"email":"$_[0]","password":"$PW) } ],
        [ 'single quotes',       sub { qq({'email':'$_[0]','password':'$PW'}) } ],
        [ 'unquoted key',        sub { qq({email:"$_[0]","password":"$PW"}) } ],
        [ 'comment',             sub { qq({"email":"$_[0]", /* c */ "password":"$PW"}) } ],
        [ 'NaN value',           sub { qq({"email":"$_[0]","password":"$PW","n":NaN}) } ],
        [ 'trailing garbage',    sub { reg($_[0]) . ' xyz' } ],
        [ 'trailing brace',      sub { reg($_[0]) . '}' } ],
        [ 'two objects',         sub { reg($_[0]) . reg($_[0]) } ],
        [ 'trailing comma after object', sub { reg($_[0]) . ',' } ],
    );
    for my $c (@cases) {
        my $e = uniq_email();
        bad_register("register, $c->[0]", $c->[1]->($e), $e);
    }
};

subtest 'wrong top-level types: 400 INVALID_JSON' => sub {
    my $e = uniq_email();
    bad_register('register, array of an object', '[' . reg($e) . ']', $e);
    bad_register('register, empty array', '[]');
    bad_register('register, string', json_enc($e), $e);
    bad_register('register, number', '42');
    bad_register('register, null', 'null');
    bad_register('register, true', 'true');
};

subtest 'duplicate keys: 400 INVALID_JSON' => sub {
    my ($e1, $e2) = (uniq_email(), uniq_email());
    bad_register('register, duplicate email',
                 qq({"email":"$e1","email":"$e2","password":"$PW"}), $e1, $e2);
    my $e3 = uniq_email();
    bad_register('register, duplicate password',
                 qq({"email":"$e3","password":"$PW","password":"$PW"}), $e3);
    my $e4 = uniq_email();
    bad_register('register, duplicate key in a nested object',
                 qq({"email":"$e4","password":"$PW","x":{"a":1,"a":2}}), $e4);
    bad_register('register, the paper example', '{"email":"a","email":"b"}');
};

subtest 'NUL characters and invalid UTF-8: 400 INVALID_JSON' => sub {
    my @cases = (
        [ 'NUL in a value',       sub { qq({"email":"$_[0]","password":"$PW","first_name":"a\\u0000b"}) } ],
        [ 'NUL in the email',     sub { qq({"email":"$_[0]\\u0000x","password":"$PW"}) } ],
        [ 'NUL in a key',         sub { qq({"email":"$_[0]","password":"$PW","a\\u0000b":"x"}) } ],
        [ 'byte 0xFF',            sub { qq({"email":"$_[0]","password":"$PW","first_name":"a\xffb"}) } ],
        [ 'overlong encoding',    sub { qq({"email":"$_[0]","password":"$PW","first_name":"\xc0\xaf"}) } ],
        [ 'truncated sequence',   sub { qq({"email":"$_[0]","password":"$PW","first_name":"\xe2\x82"}) } ],
        [ 'UTF-8 encoded surrogate', sub { qq({"email":"$_[0]","password":"$PW","first_name":"\xed\xa0\x80"}) } ],
        [ 'invalid byte in a key', sub { qq({"email":"$_[0]","password":"$PW","\xfe":"x"}) } ],
    );
    for my $c (@cases) {
        my $e = uniq_email();
        bad_register("register, $c->[0]", $c->[1]->($e), $e);
    }
};

subtest 'empty bodies: 400 INVALID_JSON' => sub {
    is_error(post_json('/register', ''), 400, 'INVALID_JSON', 'register, empty body');
    is_error(post_json('/login', ''), 400, 'INVALID_JSON', 'login, empty body');
    is_error(post_json('/register', " \r\n\t"), 400, 'INVALID_JSON',
             'register, white space only');
    is_error(post_json('/login', undef), 400, 'INVALID_JSON',
             'login, no body at all');
};

subtest 'malformed login bodies never log in' => sub {
    my $u = register_user();
    is($u->{status}, 201, 'user registered') or diag($u->{res}{body});
    my ($e, $pw) = ($u->{email}, $u->{password});
    my $valid = json_enc({ email => $e, password => $pw });
    is(login_as($e, $pw)->{status}, 200, 'the valid body logs in');
    is_error(post_json('/login', "$valid xyz"), 400, 'INVALID_JSON',
             'login, trailing garbage');
    is_error(post_json('/login', "[$valid]"), 400, 'INVALID_JSON',
             'login, array');
    is_error(post_json('/login',
                       qq({"email":"$e","password":"wrong-one","password":"$pw"})),
             400, 'INVALID_JSON', 'login, duplicate password key');
    is_error(post_json('/login',
                       qq({"email":"$e","password":"$pw","x":"\xff"})),
             400, 'INVALID_JSON', 'login, invalid UTF-8');
};

subtest 'bodies that are not application/json: 415' => sub {
    my @cases = (
        [ 'text/plain',                         'text/plain' ],
        [ 'text/plain; charset=utf-8',          'text/plain; charset=utf-8' ],
        [ 'form-urlencoded',                    'application/x-www-form-urlencoded', 'form' ],
        [ 'multipart/form-data',                'multipart/form-data; boundary=xyz' ],
        [ 'no Content-Type',                    undef ],
    );
    for my $c (@cases) {
        my ($name, $ct, $form) = @$c;
        my $e = uniq_email();
        my $body = $form ? "email=$e&password=$PW" : reg($e);
        my $r = post_json('/register', $body, 'Content-Type' => $ct);
        is_error($r, 415, 'UNSUPPORTED_MEDIA_TYPE', "register, $name");
        is(user_count($e), 0, "register, $name: nothing created");
    }
    my $u = register_user();
    my $r = post_json('/login', json_enc({ email => $u->{email},
                                           password => $u->{password} }),
                      'Content-Type' => 'text/plain');
    is_error($r, 415, 'UNSUPPORTED_MEDIA_TYPE', 'login, text/plain');
};

subtest 'application/json with a UTF-8 charset is accepted' => sub {
    for my $ct ('application/json; charset=utf-8', 'application/json;charset=UTF-8',
                'application/json') {
        my $e = uniq_email();
        my $r = post_json('/register', reg($e), 'Content-Type' => $ct);
        is_envelope_ok($r, 201, "register, $ct");
        is(user_count($e), 1, "register, $ct: account created");
    }
};

subtest '413 over the default 16 KiB' => sub {
    local $AAPI::Test::TIMEOUT = 15;
    my $max = 16 * 1024;
    for my $chunked (0, 1) {
        my $how = $chunked ? 'chunked' : 'Content-Length';
        my $e = uniq_email();
        my $r = raw_post('/register', padded($e, $max + 1), chunked => $chunked);
        is_error($r, 413, 'PAYLOAD_TOO_LARGE', "register, 16 KiB + 1, $how");
        is(user_count($e), 0, "16 KiB + 1, $how: nothing created");

        my $e2 = uniq_email();
        $r = raw_post('/register', padded($e2, $max), chunked => $chunked);
        is_envelope_ok($r, 201, "register, exactly 16 KiB, $how");
        is(user_count($e2), 1, "exactly 16 KiB, $how: created");

        my $e3 = uniq_email();
        $r = raw_post('/register', padded($e3, 64 * 1024), chunked => $chunked);
        is_error($r, 413, 'PAYLOAD_TOO_LARGE', "register, 64 KiB, $how");
        is(user_count($e3), 0, "64 KiB, $how: nothing created");
    }
    my $e = uniq_email();
    my $r = raw_post('/login', padded($e, $max + 100));
    is_error($r, 413, 'PAYLOAD_TOO_LARGE', 'login, over 16 KiB');

    # a huge Content-Length is refused before the body arrives (the
    # request would otherwise wait for bytes that never come)
    my $e4 = uniq_email();
    $r = raw_post('/register', reg($e4), content_length => 50_000_000);
    is_error($r, 413, 'PAYLOAD_TOO_LARGE', 'register, Content-Length 50 MB');
    is(user_count($e4), 0, 'Content-Length 50 MB: nothing created');
};

subtest '413 over AuthAPIMaxBody 1k on a virtual host' => sub {
    local $AAPI::Test::TIMEOUT = 15;
    Apache::TestRequest::module('aapi_hs512');
    for my $chunked (0, 1) {
        my $how = $chunked ? 'chunked' : 'Content-Length';
        my $e = uniq_email();
        my $r = raw_post('/register', padded($e, 1025), chunked => $chunked);
        is_error($r, 413, 'PAYLOAD_TOO_LARGE', "vhost, 1 KiB + 1, $how");
        is(user_count($e), 0, "vhost, 1 KiB + 1, $how: nothing created");

        my $e2 = uniq_email();
        $r = raw_post('/register', padded($e2, 1024), chunked => $chunked);
        is_envelope_ok($r, 201, "vhost, exactly 1 KiB, $how");
        is(user_count($e2), 1, "vhost, exactly 1 KiB, $how: created");
    }
    Apache::TestRequest::module('default');

    # the main server still takes 2 KiB
    my $e = uniq_email();
    my $r = raw_post('/register', padded($e, 2048));
    is_envelope_ok($r, 201, 'main server, 2 KiB');
};

# An endpoint that reads no body (logout, GET /me, the sessions) still
# reads and drops one before it acts: a body that cannot be read is
# refused with 400, and nothing is done (before, the logout was done, and
# answered 200, before the body was found broken).
subtest 'a body that cannot be read, on an endpoint that reads none: 400, nothing done' => sub {
    my $u = register_user();
    is($u->{status}, 201, 'an account') or diag($u->{res}{body});
    my $token = $u->{access_token} // '';
    my $r = AAPI::Test::raw_http(
        "POST $AAPI::Test::MOUNT/logout HTTP/1.1\r\n"
        . 'Host: ' . AAPI::Test::hostport() . "\r\n"
        . "Authorization: Bearer $token\r\n"
        . "Content-Type: application/json\r\n"
        . "Transfer-Encoding: chunked\r\n"
        . "Connection: close\r\n\r\n"
        . "zz\r\n{}\r\n0\r\n\r\n");
    # (a broken chunked framing is answered by httpd's own input filter,
    # as on the endpoints that read a body)
    is($r->{status}, 400, 'POST /logout with a broken chunked body: 400');
    is(bearer_get('/me', $token)->{status}, 200,
       'the session was not ended: its token still works');
};
