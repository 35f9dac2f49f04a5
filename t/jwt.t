# The access token (API.md section 4): its header and claims, HS512 on a
# virtual host, and every forged, altered or ill-formed token refused with
# 401 INVALID_TOKEN on GET /me.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use MIME::Base64 qw(encode_base64);
use Digest::SHA ();

plan tests => 14, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $ISS = 'https://test.example';
my $AUD = 'test-api';
my $SECRET = secret();

my $U = register_user(username => uniq_username());
my $TOK = $U->{access_token} // '';
my $ID = ($U->{user} || {})->{id} // '';
my ($H, $C) = eval { jwt_decode($TOK) };
$H ||= {};
$C ||= {};

# Checks that TOKEN is refused on GET /me with 401 INVALID_TOKEN.
sub refused {
    my ($tok, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = bearer_get('/me', $tok);
    is_error($r, 401, 'INVALID_TOKEN', $name);
    like($r->header('WWW-Authenticate') // '', qr/^Bearer\b.*error="invalid_token"/,
         "$name: WWW-Authenticate Bearer error=\"invalid_token\"");
}

# Checks that TOKEN is accepted on GET /me.
sub accepted {
    my ($tok, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = bearer_get('/me', $tok);
    is($r->{status}, 200, "$name: accepted") or diag($r->{body});
}

# Returns the claims of the real token with OVERRIDES (undef deletes).
sub claims {
    my %o = @_;
    my %c = (%$C);
    while (my ($k, $v) = each %o) {
        if (defined $v) { $c{$k} = $v } else { delete $c{$k} }
    }
    return \%c;
}

my $HS256 = { alg => 'HS256', typ => 'JWT' };

subtest 'the header and the claims of an access token' => sub {
    is($U->{status}, 201, 'registered') or diag($U->{res}{body});
    my @parts = split /\./, $TOK, -1;
    is(scalar @parts, 3, 'three segments');
    unlike($TOK, qr/=/, 'no padding');
    is($H->{alg}, 'HS256', 'alg HS256');
    is($H->{typ}, 'JWT', 'typ JWT');
    is($C->{iss}, $ISS, 'iss');
    ok((ref $C->{aud} eq 'ARRAY' ? (grep { $_ eq $AUD } @{ $C->{aud} }) : ($C->{aud} // '') eq $AUD),
       'aud is the audience');
    is($C->{sub}, $ID, 'sub is the user id');
    my $now = time;
    ok(defined $C->{iat} && $C->{iat} =~ /^\d+$/ && abs($C->{iat} - $now) <= 10, 'iat is now (integer)')
        or diag("iat " . ($C->{iat} // '(none)') . ", now $now");
    ok(defined $C->{nbf} && $C->{nbf} =~ /^\d+$/ && $C->{nbf} <= $C->{iat}, 'nbf is at most iat');
    is($C->{exp}, ($C->{iat} // 0) + 900, 'exp = iat + 900');
    ok(defined $C->{jti} && !ref $C->{jti} && length $C->{jti} >= 16, 'jti');
    ok(defined $C->{sid} && !ref $C->{sid} && length $C->{sid} >= 16, 'sid');
    is($C->{role}, 'user', 'role');
    is($C->{email}, $U->{email}, 'email');
    ok(JSON::PP::is_bool($C->{email_verified}) && !$C->{email_verified}, 'email_verified false');
    is($C->{username}, $U->{fields}{username}, 'username');
    my @secret = grep { /pass|hash|secret/i } keys %$C;
    is("@secret", '', 'no secrets among the claims');
    my $other = login_as($U->{email}, $U->{password})->data->{access_token};
    my (undef, $c2) = jwt_decode($other // 'e30.e30.');
    isnt($c2->{jti}, $C->{jti}, 'each token has its own jti');
};

subtest 'the forging helper makes tokens the server accepts' => sub {
    accepted(forge_jwt($HS256, claims(), $SECRET), 're-signed real claims');
    accepted(forge_jwt({ alg => 'HS256' }, claims(), $SECRET), 'without typ');
    my $t = time;
    accepted(forge_jwt($HS256, claims(iat => $t, nbf => $t, exp => $t + 60), $SECRET),
             'fresh times');
};

subtest 'HS512 on a virtual host, and tokens do not cross servers' => sub {
    Apache::TestRequest::module('aapi_hs512');
    my $r = post_json('/login', { email => $U->{email}, password => $U->{password} });
    is($r->{status}, 200, 'login on the HS512 host') or diag($r->{body});
    my $tok = $r->data->{access_token} // '';
    my ($h, $c) = eval { jwt_decode($tok) };
    is(($h || {})->{alg}, 'HS512', 'alg HS512');
    is(($c || {})->{exp}, (($c || {})->{iat} // 0) + 120, 'exp = iat + 120 (AuthAPIAccessTTL 2m)');
    is($r->data->{expires_in}, 120, 'expires_in 120');
    is(bearer_get('/me', $tok)->{status}, 200, 'accepted by its host');
    refused($TOK, 'the main server token on the HS512 host');
    refused(forge_jwt({ alg => 'HS256', typ => 'JWT' }, $c || {}, hs512_secret()),
            'HS256 with the HS512 host secret on the HS512 host');
    accepted(forge_jwt({ alg => 'HS512', typ => 'JWT' }, $c || {}, hs512_secret()),
             'HS512 re-signed with its secret on the HS512 host');
    Apache::TestRequest::module('default');
    refused($tok, 'the HS512 token on the main server');
    refused(forge_jwt({ alg => 'HS512', typ => 'JWT' }, claims(), $SECRET),
            'HS512 with the main secret on the main server (HS256 key)');
};

subtest 'alg none and other algorithms' => sub {
    my $p = b64u_enc(json_enc(claims()));
    for my $alg (qw(none None NONE nOnE)) {
        my $h = b64u_enc(json_enc({ alg => $alg, typ => 'JWT' }));
        refused("$h.$p.", "alg $alg, empty signature");
        refused("$h.$p", "alg $alg, no signature segment");
        refused("$h.$p." . b64u_enc('x'), "alg $alg, some signature");
    }
    refused(forge_jwt({ typ => 'JWT' }, claims(), $SECRET, 'HS256'), 'alg missing');
    refused(forge_jwt({ alg => '', typ => 'JWT' }, claims(), $SECRET, 'HS256'), 'alg empty');
    refused(forge_jwt({ alg => 'HS384', typ => 'JWT' }, claims(), $SECRET), 'HS384 on the HS256 key');
    refused(forge_jwt({ alg => 'HS512', typ => 'JWT' }, claims(), $SECRET), 'HS512 on the HS256 key');
    refused(forge_jwt({ alg => 'hs256', typ => 'JWT' }, claims(), $SECRET, 'HS256'), 'alg in lower case');
    for my $alg (qw(RS256 ES256 PS256 EdDSA)) {
        refused(forge_jwt({ alg => $alg, typ => 'JWT' }, claims(), $SECRET, 'HS256'),
                "$alg header, HMAC-SHA256 signature with the secret");
    }
    refused(forge_jwt({ alg => ['HS256'], typ => 'JWT' }, claims(), $SECRET, 'HS256'), 'alg as an array');
};

subtest 'altered signature or payload' => sub {
    my ($h, $p, $s) = split /\./, $TOK;
    my $sig = b64u_dec($s // '');
    for my $bit (0, 7, 8 * length($sig) - 1) {
        my $flipped = $sig;
        vec($flipped, $bit, 1) ^= 1;
        refused("$h.$p." . b64u_enc($flipped), "signature bit $bit flipped");
    }
    refused("$h.$p." . b64u_enc(substr($sig, 0, -1)), 'signature one byte short');
    refused("$h.$p." . b64u_enc($sig . "\0"), 'signature one byte long');
    refused("$h.$p." . b64u_enc(substr($sig, 0, 16)), 'signature truncated to 16 bytes');
    my $admin = b64u_enc(json_enc(claims(role => 'admin')));
    refused("$h.$admin.$s", 'payload changed (role admin), old signature');
    my $sub = b64u_enc(json_enc(claims(sub => 'f' x 32)));
    refused("$h.$sub.$s", 'payload changed (sub), old signature');
    refused(forge_jwt($HS256, claims(), 'another-secret-of-forty-bytes-0123456789'), 'wrong secret');
    refused(forge_jwt($HS256, claims(), substr($SECRET, 0, -1)), 'secret missing its last byte');
    refused(forge_jwt($HS256, claims(), "$SECRET\n"), 'secret with a line end');
};

subtest 'time claims with the 30 s leeway' => sub {
    my $t = time;
    refused(forge_jwt($HS256, claims(iat => $t - 1000, nbf => $t - 1000, exp => $t - 120), $SECRET),
            'expired 2 minutes ago');
    accepted(forge_jwt($HS256, claims(iat => $t - 1000, nbf => $t - 1000, exp => $t - 10), $SECRET),
             'expired 10 s ago (within leeway)');
    refused(forge_jwt($HS256, claims(nbf => $t + 120), $SECRET), 'nbf in 2 minutes');
    accepted(forge_jwt($HS256, claims(nbf => $t + 10), $SECRET), 'nbf in 10 s (within leeway)');
    refused(forge_jwt($HS256, claims(iat => $t + 120, nbf => $t), $SECRET), 'iat in 2 minutes');
    accepted(forge_jwt($HS256, claims(iat => $t + 10, nbf => $t), $SECRET), 'iat in 10 s (within leeway)');
    refused(forge_jwt($HS256, claims(exp => undef), $SECRET), 'no exp');
    refused(forge_jwt($HS256, claims(exp => "" . ($t + 600)), $SECRET), 'exp as a string');
    refused(forge_jwt($HS256, claims(exp => 0), $SECRET), 'exp 0');
    refused(forge_jwt($HS256, claims(iat => $t - 2000, nbf => $t - 2000, exp => $t - 1000), $SECRET),
            'long expired');
};

subtest 'iss and aud' => sub {
    refused(forge_jwt($HS256, claims(iss => 'https://evil.example'), $SECRET), 'wrong iss');
    refused(forge_jwt($HS256, claims(iss => undef), $SECRET), 'no iss');
    refused(forge_jwt($HS256, claims(iss => "$ISS/"), $SECRET), 'iss with a trailing slash');
    refused(forge_jwt($HS256, claims(aud => 'other-api'), $SECRET), 'wrong aud');
    refused(forge_jwt($HS256, claims(aud => undef), $SECRET), 'no aud');
    refused(forge_jwt($HS256, claims(aud => uc $AUD), $SECRET), 'aud in another case');
    accepted(forge_jwt($HS256, claims(aud => ['other-api', $AUD]), $SECRET), 'aud array containing the audience');
    refused(forge_jwt($HS256, claims(aud => ['other-api', 'third']), $SECRET), 'aud array without it');
    refused(forge_jwt($HS256, claims(aud => []), $SECRET), 'empty aud array');
};

subtest 'duplicate names, crit, and keys named by the token' => sub {
    my %c = %{ claims() };
    my $json = json_enc(\%c);
    (my $dup_sub = $json) =~ s/^\{/{"sub":"someone-else",/;
    refused(forge_jwt($HS256, $dup_sub, $SECRET, 'HS256'), 'duplicate sub in the payload');
    (my $dup_sub2 = $json) =~ s/\}$/,"sub":"someone-else"}/;
    refused(forge_jwt($HS256, $dup_sub2, $SECRET, 'HS256'), 'duplicate sub, the other order');
    (my $dup_exp = $json) =~ s/\}$/,"exp":9999999999}/;
    refused(forge_jwt($HS256, $dup_exp, $SECRET, 'HS256'), 'duplicate exp');
    refused(forge_jwt('{"alg":"HS256","alg":"HS256","typ":"JWT"}', \%c, $SECRET, 'HS256'),
            'duplicate alg in the header');
    refused(forge_jwt('{"alg":"none","alg":"HS256","typ":"JWT"}', \%c, $SECRET, 'HS256'),
            'duplicate alg none/HS256 in the header');
    refused(forge_jwt({ %$HS256, crit => ['foo'], foo => 1 }, \%c, $SECRET), 'crit ["foo"]');
    refused(forge_jwt({ %$HS256, crit => [] }, \%c, $SECRET), 'crit []');

    my $evil = 'attacker-secret-0123456789-0123456789-xyz';
    my $k = b64u_enc($evil);
    refused(forge_jwt({ %$HS256, jwk => { kty => 'oct', k => $k } }, \%c, $evil),
            'jwk header with the attacker key');
    refused(forge_jwt({ %$HS256, jku => 'https://evil.example/jwks.json' }, \%c, $evil),
            'jku header, attacker key');
    refused(forge_jwt({ %$HS256, x5u => 'https://evil.example/cert.pem' }, \%c, $evil),
            'x5u header, attacker key');
    refused(forge_jwt({ %$HS256, x5c => [encode_base64('not a cert', '')] }, \%c, $evil),
            'x5c header, attacker key');
    refused(forge_jwt({ %$HS256, kid => '../../../../etc/passwd' }, \%c, $evil),
            'kid path, attacker key');
};

subtest 'size and encoding of the token' => sub {
    my $big = forge_jwt($HS256, claims(pad => 'x' x 9000), $SECRET);
    cmp_ok(length $big, '>', 8192, 'the big token is over 8 KiB');
    refused($big, 'validly signed token over 8 KiB');
    my %exact;
    for my $want (8192, 8193) {
        SEARCH: for my $hx ('', 'a', 'ab', 'abc') {
            for my $n (5000 .. 6200) {
                my $t = forge_jwt({ %$HS256, ($hx ? (x => $hx) : ()) }, claims(pad => 'x' x $n), $SECRET);
                if (length $t == $want) { $exact{$want} = $t; last SEARCH }
            }
        }
    }
    is(length($exact{8192} // ''), 8192, 'a token of exactly 8192 bytes');
    accepted($exact{8192} // 'x', 'a validly signed token of 8192 bytes');
    is(length($exact{8193} // ''), 8193, 'a token of 8193 bytes');
    refused($exact{8193} // 'x', 'a validly signed token of 8193 bytes');
    # standard base64 (+ /) in the payload, validly signed over those bytes
    my ($h) = split /\./, forge_jwt($HS256, claims(), $SECRET);
    my ($std, $n) = ('', 0);
    while ($n < 500) {
        my $b = encode_base64(json_enc(claims(x => "\xff\xfe" . $n . '?>>')), '');
        $b =~ s/=+$//;
        if ($b =~ m{[+/]}) { $std = $b; last }
        $n++;
    }
    ok(length $std, 'a payload whose standard base64 has + or /');
    my $sig = b64u_enc(Digest::SHA::hmac_sha256("$h.$std", $SECRET));
    refused("$h.$std.$sig", 'non-base64url characters (+ /), valid signature');

    # padding
    my ($pp, $m) = ('', 0);
    while ($m < 10) {
        my $raw = json_enc(claims(y => 'p' x $m));
        if (length($raw) % 3) { $pp = encode_base64($raw, ''); $pp =~ tr{+/}{-_}; last }
        $m++;
    }
    like($pp, qr/=$/, 'a payload with padding');
    $sig = b64u_enc(Digest::SHA::hmac_sha256("$h.$pp", $SECRET));
    refused("$h.$pp.$sig", 'padding = in the payload, valid signature');
    my ($th, $tp, $ts) = split /\./, $TOK;
    refused("$th.$tp.$ts=", 'padding after the signature');

    refused("$th.$tp", 'two segments');
    refused("$th.$tp.$ts.$ts", 'four segments');
    refused("$th.$tp.$ts.", 'a trailing dot');
    refused(".$tp.$ts", 'empty header');
    refused("$th..$ts", 'empty payload');
    refused('..', 'all empty');
    refused("$th.$tp.$ts" . '*', 'a character outside base64url');
    refused(b64u_enc('not json') . ".$tp." . b64u_enc(Digest::SHA::hmac_sha256(b64u_enc('not json') . ".$tp", $SECRET)),
            'a header that is not JSON, valid signature');
    my $arr = b64u_enc('[1,2]');
    refused("$th.$arr." . b64u_enc(Digest::SHA::hmac_sha256("$th.$arr", $SECRET)),
            'a payload that is a JSON array, valid signature');
};

subtest 'validly signed tokens for accounts or sessions that do not exist' => sub {
    refused(forge_jwt($HS256, claims(sub => 'f' x 32, sid => 'e' x 32), $SECRET), 'unknown sub and sid');
    refused(forge_jwt($HS256, claims(sub => 'f' x 32), $SECRET), 'unknown sub, real sid');
    refused(forge_jwt($HS256, claims(sid => 'e' x 32), $SECRET), 'real sub, unknown sid');
    my $o = register_user();
    my (undef, $oc) = jwt_decode($o->{access_token} // 'e30.e30.');
    refused(forge_jwt($HS256, claims(sid => $oc->{sid}), $SECRET), 'real sub, the sid of another account');
    refused(forge_jwt($HS256, claims(sub => undef), $SECRET), 'no sub');
    refused(forge_jwt($HS256, claims(sid => undef), $SECRET), 'no sid');
};

subtest 'a disabled account: its tokens stop working' => sub {
    my $d = register_user();
    is(bearer_get('/me', $d->{access_token} // 'x')->{status}, 200, 'works before');
    db_exec('UPDATE users SET disabled = 1 WHERE email_norm = ' . sql_quote(lc $d->{email}));
    refused($d->{access_token} // 'x', 'after the account was disabled');
};

subtest 'an account deleted from the database: its token stops working' => sub {
    my $d = register_user();
    my $id = ($d->{user} || {})->{id} // '';
    is(bearer_get('/me', $d->{access_token} // 'x')->{status}, 200, 'works before');
    db_exec('DELETE FROM sessions WHERE user_id = ' . sql_quote($id));
    db_exec('DELETE FROM users WHERE id = ' . sql_quote($id));
    refused($d->{access_token} // 'x', 'after the row was deleted');
};

subtest 'the token is accepted on both mounts of the server' => sub {
    local $AAPI::Test::MOUNT = '/other/auth';
    is(bearer_get('/me', $TOK)->{status}, 200, '/other/auth/me');
    refused('x.y.z', '/other/auth/me with garbage');
};

subtest 'the real token still works after all this' => sub {
    accepted($TOK, 'the original token');
};
