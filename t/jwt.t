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
use AAPI::Forged qw(forged_tokens forged_named);

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

# the forged tokens a protected location refuses too (t/protect_tokens.t)
my @FORGED = forged_tokens(token => $TOK, claims => $C, secret => $SECRET, iss => $ISS);
my %FORGED = map { $_->[1] => $_->[2] } @FORGED;

# Checks that every forged token of GROUP is refused.
sub refused_group {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    refused($_->[1], $_->[0]) for forged_named(\@FORGED, shift);
}

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
    my $plain = register_user();
    my (undef, $c3) = jwt_decode($plain->{access_token} // 'e30.e30.');
    ok(!exists $c3->{username} && exists $c3->{email},
       'an account without a user name: no username claim (not null)')
        or diag(join ',', sort keys %$c3);
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
    refused_group('alg');
};

subtest 'altered signature or payload' => sub {
    refused_group('altered');
};

subtest 'time claims with the 30 s leeway' => sub {
    my $t = time;
    refused_group('time');
    accepted(forge_jwt($HS256, claims(iat => $t - 1000, nbf => $t - 1000, exp => $t - 10), $SECRET),
             'expired 10 s ago (within leeway)');
    accepted(forge_jwt($HS256, claims(nbf => $t + 10), $SECRET), 'nbf in 10 s (within leeway)');
    accepted(forge_jwt($HS256, claims(iat => $t + 10, nbf => $t), $SECRET), 'iat in 10 s (within leeway)');
};

subtest 'iss and aud' => sub {
    refused_group('issaud');
    accepted(forge_jwt($HS256, claims(aud => ['other-api', $AUD]), $SECRET), 'aud array containing the audience');
};

subtest 'duplicate names, crit, and keys named by the token' => sub {
    refused_group('headers');
};

subtest 'size and encoding of the token' => sub {
    cmp_ok(length($FORGED{'validly signed token over 8 KiB'} // ''), '>', 8192,
           'the big token is over 8 KiB');
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
    like((split /\./, $FORGED{'non-base64url characters (+ /), valid signature'} // '')[1] // '',
         qr{[+/]}, 'a payload whose standard base64 has + or /');
    like((split /\./, $FORGED{'padding = in the payload, valid signature'} // '')[1] // '',
         qr/=$/, 'a payload with padding');
    refused_group('encoding');
};

subtest 'validly signed tokens for accounts or sessions that do not exist' => sub {
    refused_group('session');
    my $o = register_user();
    my (undef, $oc) = jwt_decode($o->{access_token} // 'e30.e30.');
    refused(forge_jwt($HS256, claims(sid => $oc->{sid}), $SECRET), 'real sub, the sid of another account');
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
