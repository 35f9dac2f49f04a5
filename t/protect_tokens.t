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
use AAPI::Forged qw(forged_tokens forged_named);
use MIME::Base64 qw(encode_base64);

plan tests => 11, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $P = '/protected/loc/hello.txt';
my $SECRET = secret();
my $U = new_account();
my $TOK = $U->{access_token};
my $TOK2 = fresh_token($U);
my (undef, $C) = jwt_decode($TOK);
my $HS256 = { alg => 'HS256', typ => 'JWT' };

# the forged tokens the API refuses (t/jwt.t)
my @FORGED = forged_tokens(token => $TOK, claims => $C, secret => $SECRET,
                           iss => 'https://test.example');
my %FORGED = map { $_->[1] => $_->[2] } @FORGED;

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

# Checks that every forged token of GROUP is refused.
sub refused_group {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    refused($_->[1], $_->[0]) for forged_named(\@FORGED, shift);
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

subtest 'the header name is read without regard to case' => sub {
    for my $name ('authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn') {
        my $r = raw_req('GET', $P, [ "$name: Bearer $TOK" ]);
        is($r->{status}, 200, "$name: 200") or diag(substr($r->{body}, 0, 300));
    }
    # names that are almost it are not it: no credential, a plain challenge
    for my $name ('Authorizatio', 'Authorizations', 'X-Authorization',
                  'Authorisation', 'Authorization_') {
        refused_h([ "$name: Bearer $TOK" ], $name, 'Bearer');
    }
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
    refused_h([ "Authorization: Bearer\t$TOK" ], 'Bearer and a tab');
    refused_h([ "Authorization: Beare $TOK" ], 'Beare');
    refused_h([ "Authorization: Bearers $TOK" ], 'Bearers');
    refused_h([ "Authorization: Bea" ], 'Bea and nothing');
    refused_h([ "Authorization: Bearee $TOK" ], 'Bearee');
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
    refused_group('alg');
};

subtest 'altered signature or payload, wrong key' => sub {
    refused_group('altered');
};

subtest 'time claims beyond the leeway, iss and aud' => sub {
    refused_group('time');
    refused_group('issaud');
};

subtest 'duplicate names, crit, keys named by the token' => sub {
    refused_group('headers');
};

subtest 'size and encoding' => sub {
    cmp_ok(length($FORGED{'validly signed token over 8 KiB'} // ''), '>', 8192,
           'the big token is over 8 KiB');
    like((split /\./, $FORGED{'non-base64url characters (+ /), valid signature'} // '')[1] // '',
         qr{[+/]}, 'a payload whose standard base64 has + or /');
    refused_group('encoding');
};

subtest 'validly signed tokens of sessions or accounts that do not exist or ended' => sub {
    refused_group('session');
    my (undef, $oc) = jwt_decode(new_account()->{access_token});
    refused(forge_jwt($HS256, claims(sid => $oc->{sid}), $SECRET), 'real sub, the sid of another account');
    # an account disabled in the database (no API call, so no revocation
    # signal): refused once AuthAPISessionCacheTTL (5 s) has passed
    my $d = new_account();
    accepted($d->{access_token}, 'another account: works before');
    db_exec('UPDATE users SET disabled = 1 WHERE email_norm = ' . sql_quote(lc $d->{email}));
    sleep 6;
    refused($d->{access_token}, 'the account disabled in the database, 6 s later');
    accepted($TOK, 'the real token still works after all this');
};
