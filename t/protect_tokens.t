# Which credentials open an AuthType auth-api area (API.md sections 4 and
# 5): one access token in "Authorization: Bearer"; never two credentials,
# never a token in the query string or a form body, and none of the forged,
# altered or ill-formed tokens of t/jwt.t. Configuration:
# t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;
use Digest::SHA ();
use MIME::Base64 qw(encode_base64);

plan tests => 10, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $P = '/protected/loc/hello.txt';
my $SECRET = secret();
my $U = new_account();
my $TOK = $U->{access_token};
my $TOK2 = fresh_token($U);
my (undef, $C) = jwt_decode($TOK);
my $HS256 = { alg => 'HS256', typ => 'JWT' };

# Returns the claims of the real token with OVERRIDES (undef deletes).
sub claims {
    my %o = @_;
    my %c = (%$C);
    while (my ($k, $v) = each %o) {
        if (defined $v) { $c{$k} = $v } else { delete $c{$k} }
    }
    return \%c;
}

# Checks that the request with header LINES is refused: 401, the challenge
# WANT (default: with error="invalid_token"), no content.
sub refused_h {
    my ($lines, $name, $want, $target) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = raw_req('GET', $target // $P, $lines);
    is($r->{status}, 401, "$name: 401") or diag(substr($r->{body}, 0, 300));
    is(challenge($r), $want // 'Bearer error="invalid_token"', "$name: challenge");
    ok(no_content($r), "$name: none of the content");
}

# Checks that TOKEN (as a Bearer token) is refused.
sub refused {
    my ($tok, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    refused_h([ "Authorization: Bearer $tok" ], $name);
}

# Checks that TOKEN opens the area.
sub accepted {
    my ($tok, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = raw_req('GET', $P, [ "Authorization: Bearer $tok" ]);
    is($r->{status}, 200, "$name: 200") or diag(substr($r->{body}, 0, 300));
}

subtest 'the controls: the real tokens and re-signed real claims open the area' => sub {
    accepted($TOK, 'the token of the registration');
    accepted($TOK2, 'the token of a login');
    accepted(forge_jwt($HS256, claims(), $SECRET), 're-signed real claims');
    my $t = time;
    accepted(forge_jwt($HS256, claims(iat => $t - 1000, nbf => $t - 1000, exp => $t - 10), $SECRET),
             'expired 10 s ago (within the 30 s leeway)');
};

subtest 'two credentials in one request' => sub {
    refused_h([ "Authorization: Bearer $TOK, Bearer $TOK2" ], 'Bearer a, Bearer b');
    refused_h([ "Authorization: Bearer $TOK, Bearer $TOK" ], 'the same token twice, comma-joined');
    refused_h([ "Authorization: Bearer $TOK $TOK2" ], 'Bearer a b');
    refused_h([ "Authorization: Bearer $TOK $TOK" ], 'Bearer t t');
    refused_h([ "Authorization: Bearer $TOK", "Authorization: Bearer $TOK2" ], 'two Authorization headers');
    refused_h([ "Authorization: Bearer $TOK", "Authorization: Bearer $TOK" ], 'two identical Authorization headers');
    refused_h([ "Authorization: Bearer $TOK", 'Authorization: Basic ' . encode_base64('a:b', '') ],
              'Bearer and Basic headers');
    refused_h([ "Authorization: Bearer $TOK, Basic " . encode_base64('a:b', '') ], 'Bearer a, Basic b');
    refused_h([ "Authorization: Bearer $TOK x" ], 'a token with trailing junk');
    refused_h([ "Authorization: Bearer $TOK;" ], 'a token with a semicolon');
    refused_h([ "Authorization: Bearer \"$TOK\"" ], 'a quoted token');
};

subtest 'other schemes and empty credentials' => sub {
    refused_h([ 'Authorization: Basic ' . encode_base64("$U->{email}:$U->{password}", '') ],
              'Basic with the right password on an auth-api area');
    refused_h([ "Authorization: $TOK" ], 'the token without a scheme');
    refused_h([ "Authorization: Token $TOK" ], 'another scheme');
    refused_h([ "Authorization: Bearer" ], 'Bearer with nothing');
    refused_h([ "Authorization: BearerX $TOK" ], 'BearerX');
};

subtest 'a token in the query string or a form body is ignored' => sub {
    refused_h([], '?access_token=', 'Bearer', "$P?access_token=$TOK");
    refused_h([], '?token=', 'Bearer', "$P?token=$TOK");
    refused_h([], '?access_token= on a CGI', 'Bearer', "/protected/loc/env.cgi?access_token=$TOK");
    my $r = raw_req('POST', '/protected/loc/env.cgi',
                    [ 'Content-Type: application/x-www-form-urlencoded' ], "access_token=$TOK");
    is($r->{status}, 401, 'access_token in a form body: 401');
    ok(no_content($r), 'form body: the CGI did not run');
    refused_h([ "Cookie: auth_api_access=$TOK" ], 'the access cookie where cookies are off', 'Bearer');
    refused_h([ "X-Access-Token: $TOK" ], 'X-Access-Token header', 'Bearer');
};

subtest 'alg none and other algorithms' => sub {
    my $p = b64u_enc(json_enc(claims()));
    for my $alg (qw(none None NONE)) {
        my $h = b64u_enc(json_enc({ alg => $alg, typ => 'JWT' }));
        refused("$h.$p.", "alg $alg, empty signature");
        refused("$h.$p", "alg $alg, no signature segment");
    }
    refused(forge_jwt({ typ => 'JWT' }, claims(), $SECRET, 'HS256'), 'alg missing');
    refused(forge_jwt({ alg => 'HS384', typ => 'JWT' }, claims(), $SECRET), 'HS384 on the HS256 key');
    refused(forge_jwt({ alg => 'HS512', typ => 'JWT' }, claims(), $SECRET), 'HS512 on the HS256 key');
    refused(forge_jwt({ alg => 'hs256', typ => 'JWT' }, claims(), $SECRET, 'HS256'), 'alg in lower case');
    for my $alg (qw(RS256 ES256 EdDSA)) {
        refused(forge_jwt({ alg => $alg, typ => 'JWT' }, claims(), $SECRET, 'HS256'),
                "$alg header, HMAC signature");
    }
};

subtest 'altered signature or payload, wrong key' => sub {
    my ($h, $p, $s) = split /\./, $TOK;
    my $sig = b64u_dec($s);
    for my $bit (0, 8 * length($sig) - 1) {
        my $f = $sig;
        vec($f, $bit, 1) ^= 1;
        refused("$h.$p." . b64u_enc($f), "signature bit $bit flipped");
    }
    refused("$h.$p." . b64u_enc(substr($sig, 0, -1)), 'signature one byte short');
    refused("$h." . b64u_enc(json_enc(claims(role => 'admin'))) . ".$s", 'role admin, old signature');
    refused("$h." . b64u_enc(json_enc(claims(sub => 'f' x 32))) . ".$s", 'another sub, old signature');
    refused(forge_jwt($HS256, claims(), 'another-secret-of-forty-bytes-0123456789'), 'wrong secret');
    refused(forge_jwt($HS256, claims(), hs512_secret()), "the HS512 host's secret");
};

subtest 'time claims beyond the leeway, iss and aud' => sub {
    my $t = time;
    refused(forge_jwt($HS256, claims(iat => $t - 1000, nbf => $t - 1000, exp => $t - 120), $SECRET),
            'expired 2 minutes ago');
    refused(forge_jwt($HS256, claims(nbf => $t + 120), $SECRET), 'nbf in 2 minutes');
    refused(forge_jwt($HS256, claims(iat => $t + 120, nbf => $t), $SECRET), 'iat in 2 minutes');
    refused(forge_jwt($HS256, claims(exp => undef), $SECRET), 'no exp');
    refused(forge_jwt($HS256, claims(exp => '' . ($t + 600)), $SECRET), 'exp as a string');
    refused(forge_jwt($HS256, claims(iss => 'https://evil.example'), $SECRET), 'wrong iss');
    refused(forge_jwt($HS256, claims(iss => undef), $SECRET), 'no iss');
    refused(forge_jwt($HS256, claims(aud => 'other-api'), $SECRET), 'wrong aud');
    refused(forge_jwt($HS256, claims(aud => undef), $SECRET), 'no aud');
    refused(forge_jwt($HS256, claims(aud => ['other-api']), $SECRET), 'aud array without the audience');
};

subtest 'duplicate names, crit, keys named by the token' => sub {
    my $json = json_enc(claims());
    (my $dup_sub = $json) =~ s/^\{/{"sub":"someone-else",/;
    refused(forge_jwt($HS256, $dup_sub, $SECRET, 'HS256'), 'duplicate sub');
    (my $dup_role = $json) =~ s/\}$/,"role":"admin"}/;
    refused(forge_jwt($HS256, $dup_role, $SECRET, 'HS256'), 'duplicate role (admin last)');
    (my $dup_exp = $json) =~ s/\}$/,"exp":9999999999}/;
    refused(forge_jwt($HS256, $dup_exp, $SECRET, 'HS256'), 'duplicate exp');
    refused(forge_jwt('{"alg":"none","alg":"HS256","typ":"JWT"}', claims(), $SECRET, 'HS256'),
            'duplicate alg in the header');
    refused(forge_jwt({ %$HS256, crit => ['foo'], foo => 1 }, claims(), $SECRET), 'crit ["foo"]');
    refused(forge_jwt({ %$HS256, crit => [] }, claims(), $SECRET), 'crit []');
    my $evil = 'attacker-secret-0123456789-0123456789-xyz';
    refused(forge_jwt({ %$HS256, jwk => { kty => 'oct', k => b64u_enc($evil) } }, claims(), $evil),
            'jwk header with the attacker key');
    refused(forge_jwt({ %$HS256, jku => 'https://evil.example/jwks.json' }, claims(), $evil),
            'jku header, attacker key');
    refused(forge_jwt({ %$HS256, kid => '../../../../etc/passwd' }, claims(), $evil), 'kid path, attacker key');
};

subtest 'size and encoding' => sub {
    my $big = forge_jwt($HS256, claims(pad => 'x' x 9000), $SECRET);
    cmp_ok(length $big, '>', 8192, 'the big token is over 8 KiB');
    refused($big, 'a validly signed token over 8 KiB');
    my ($th, $tp, $ts) = split /\./, $TOK;
    refused("$th.$tp", 'two segments');
    refused("$th.$tp.$ts.$ts", 'four segments');
    refused("$th.$tp.$ts.", 'a trailing dot');
    refused(".$tp.$ts", 'empty header');
    refused("$th..$ts", 'empty payload');
    refused('..', 'all empty');
    refused("$th.$tp.$ts=", 'padding after the signature');
    # standard base64 (+ /) in the payload, validly signed over those bytes
    my ($std, $n) = ('', 0);
    while ($n < 500) {
        my $b = encode_base64(json_enc(claims(x => "\xff\xfe" . $n . '?>>')), '');
        $b =~ s/=+$//;
        if ($b =~ m{[+/]}) { $std = $b; last }
        $n++;
    }
    ok(length $std, 'a payload whose standard base64 has + or /');
    refused("$th.$std." . b64u_enc(Digest::SHA::hmac_sha256("$th.$std", $SECRET)),
            'non-base64url characters (+ /), valid signature');
    my $arr = b64u_enc('[1,2]');
    refused("$th.$arr." . b64u_enc(Digest::SHA::hmac_sha256("$th.$arr", $SECRET)),
            'a payload that is a JSON array, valid signature');
    my $nj = b64u_enc('not json');
    refused("$nj.$tp." . b64u_enc(Digest::SHA::hmac_sha256("$nj.$tp", $SECRET)),
            'a header that is not JSON, valid signature');
};

subtest 'validly signed tokens of sessions or accounts that do not exist or ended' => sub {
    refused(forge_jwt($HS256, claims(sub => 'f' x 32, sid => 'e' x 32), $SECRET), 'unknown sub and sid');
    refused(forge_jwt($HS256, claims(sid => 'e' x 32), $SECRET), 'real sub, unknown sid');
    refused(forge_jwt($HS256, claims(sid => undef), $SECRET), 'no sid');
    refused(forge_jwt($HS256, claims(sub => undef), $SECRET), 'no sub');
    # an account disabled in the database (no API call, so no revocation
    # signal): refused once AuthAPISessionCacheTTL (5 s) has passed
    my $d = new_account();
    accepted($d->{access_token}, 'another account: works before');
    db_exec('UPDATE users SET disabled = 1 WHERE email_norm = ' . sql_quote(lc $d->{email}));
    sleep 6;
    refused($d->{access_token}, 'the account disabled in the database, 6 s later');
    accepted($TOK, 'the real token still works after all this');
};
