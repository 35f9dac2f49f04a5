package AAPI::Forged;
# The forged, altered and ill-formed access tokens (API.md section 4) that
# every place taking a token must refuse: the API (t/jwt.t) and a protected
# location (t/protect_tokens.t) read the same list, so neither can miss a
# kind the other checks.
use strict;
use warnings;

use Exporter 'import';
use Digest::SHA ();
use MIME::Base64 qw(encode_base64);
use AAPI::Test qw(b64u_enc b64u_dec json_enc forge_jwt hs512_secret);

our @EXPORT_OK = qw(forged_tokens forged_named);

my $HS256 = { alg => 'HS256', typ => 'JWT' };
my $EVIL  = 'attacker-secret-0123456789-0123456789-xyz';

# Returns the forged tokens made from TOKEN (a real access token of the
# server, HS256), its CLAIMS (hash ref) and the server's SECRET, with ISS
# the server's issuer: a list of [group, name, token], the groups 'alg',
# 'altered', 'time', 'issaud', 'headers', 'encoding', 'session' (validly
# signed for a session or account that does not exist). Dies when it
# cannot build one (a fixture that would prove nothing).
sub forged_tokens {
    my %a = @_;
    my ($tok, $c0, $secret, $iss) = @a{qw(token claims secret iss)};
    my $claims = sub {
        my %o = @_;
        my %c = %$c0;
        while (my ($k, $v) = each %o) {
            if (defined $v) { $c{$k} = $v } else { delete $c{$k} }
        }
        return \%c;
    };
    my $signed = sub { forge_jwt($HS256, $claims->(@_), $secret) };
    my $mac = sub { b64u_enc(Digest::SHA::hmac_sha256($_[0], $secret)) };
    my @out;
    my $add = sub { my $g = shift; push @out, map { [$g, @$_] } @_ };
    my $t = time;

    my $p = b64u_enc(json_enc($claims->()));
    $add->(alg => map {
        my $h = b64u_enc(json_enc({ alg => $_, typ => 'JWT' }));
        (["alg $_, empty signature", "$h.$p."],
         ["alg $_, no signature segment", "$h.$p"],
         ["alg $_, some signature", "$h.$p." . b64u_enc('x')])
    } qw(none None NONE nOnE));
    $add->(alg =>
        ['alg missing', forge_jwt({ typ => 'JWT' }, $claims->(), $secret, 'HS256')],
        ['alg empty', forge_jwt({ alg => '', typ => 'JWT' }, $claims->(), $secret, 'HS256')],
        ['HS384 on the HS256 key', forge_jwt({ alg => 'HS384', typ => 'JWT' }, $claims->(), $secret)],
        ['HS512 on the HS256 key', forge_jwt({ alg => 'HS512', typ => 'JWT' }, $claims->(), $secret)],
        ['alg in lower case', forge_jwt({ alg => 'hs256', typ => 'JWT' }, $claims->(), $secret, 'HS256')],
        (map { ["$_ header, HMAC-SHA256 signature with the secret",
                forge_jwt({ alg => $_, typ => 'JWT' }, $claims->(), $secret, 'HS256')] }
             qw(RS256 ES256 PS256 EdDSA)),
        ['alg as an array', forge_jwt({ alg => ['HS256'], typ => 'JWT' }, $claims->(), $secret, 'HS256')]);

    my ($h, $pl, $s) = split /\./, $tok;
    my $sig = b64u_dec($s // '');
    $add->(altered =>
        (map { my $f = $sig; vec($f, $_, 1) ^= 1;
               ["signature bit $_ flipped", "$h.$pl." . b64u_enc($f)] }
             0, 7, 8 * length($sig) - 1),
        ['signature one byte short', "$h.$pl." . b64u_enc(substr($sig, 0, -1))],
        ['signature one byte long', "$h.$pl." . b64u_enc($sig . "\0")],
        ['signature truncated to 16 bytes', "$h.$pl." . b64u_enc(substr($sig, 0, 16))],
        ['payload changed (role admin), old signature',
         "$h." . b64u_enc(json_enc($claims->(role => 'admin'))) . ".$s"],
        ['payload changed (sub), old signature',
         "$h." . b64u_enc(json_enc($claims->(sub => 'f' x 32))) . ".$s"],
        ['wrong secret', forge_jwt($HS256, $claims->(), 'another-secret-of-forty-bytes-0123456789')],
        ['secret missing its last byte', forge_jwt($HS256, $claims->(), substr($secret, 0, -1))],
        ['secret with a line end', forge_jwt($HS256, $claims->(), "$secret\n")],
        ["the HS512 host's secret", forge_jwt($HS256, $claims->(), hs512_secret())]);

    $add->(time =>
        ['expired 2 minutes ago', $signed->(iat => $t - 1000, nbf => $t - 1000, exp => $t - 120)],
        ['nbf in 2 minutes', $signed->(nbf => $t + 120)],
        ['iat in 2 minutes', $signed->(iat => $t + 120, nbf => $t)],
        ['no exp', $signed->(exp => undef)],
        ['exp as a string', $signed->(exp => '' . ($t + 600))],
        ['exp 0', $signed->(exp => 0)],
        ['long expired', $signed->(iat => $t - 2000, nbf => $t - 2000, exp => $t - 1000)]);

    my $aud = ref $c0->{aud} ? $c0->{aud}[0] : $c0->{aud};
    $add->(issaud =>
        ['wrong iss', $signed->(iss => 'https://evil.example')],
        ['no iss', $signed->(iss => undef)],
        ['iss with a trailing slash', $signed->(iss => "$iss/")],
        ['wrong aud', $signed->(aud => 'other-api')],
        ['no aud', $signed->(aud => undef)],
        ['aud in another case', $signed->(aud => uc $aud)],
        ['aud array without it', $signed->(aud => ['other-api', 'third'])],
        ['aud array without the audience', $signed->(aud => ['other-api'])],
        ['empty aud array', $signed->(aud => [])]);

    my $json = json_enc($claims->());
    (my $dup_sub = $json) =~ s/^\{/{"sub":"someone-else",/;
    (my $dup_sub2 = $json) =~ s/\}$/,"sub":"someone-else"}/;
    (my $dup_role = $json) =~ s/\}$/,"role":"admin"}/;
    (my $dup_exp = $json) =~ s/\}$/,"exp":9999999999}/;
    $add->(headers =>
        ['duplicate sub in the payload', forge_jwt($HS256, $dup_sub, $secret, 'HS256')],
        ['duplicate sub, the other order', forge_jwt($HS256, $dup_sub2, $secret, 'HS256')],
        ['duplicate role (admin last)', forge_jwt($HS256, $dup_role, $secret, 'HS256')],
        ['duplicate exp', forge_jwt($HS256, $dup_exp, $secret, 'HS256')],
        ['duplicate alg in the header',
         forge_jwt('{"alg":"HS256","alg":"HS256","typ":"JWT"}', $claims->(), $secret, 'HS256')],
        ['duplicate alg none/HS256 in the header',
         forge_jwt('{"alg":"none","alg":"HS256","typ":"JWT"}', $claims->(), $secret, 'HS256')],
        ['crit ["foo"]', forge_jwt({ %$HS256, crit => ['foo'], foo => 1 }, $claims->(), $secret)],
        ['crit []', forge_jwt({ %$HS256, crit => [] }, $claims->(), $secret)],
        ['jwk header with the attacker key',
         forge_jwt({ %$HS256, jwk => { kty => 'oct', k => b64u_enc($EVIL) } }, $claims->(), $EVIL)],
        ['jku header, attacker key',
         forge_jwt({ %$HS256, jku => 'https://evil.example/jwks.json' }, $claims->(), $EVIL)],
        ['x5u header, attacker key',
         forge_jwt({ %$HS256, x5u => 'https://evil.example/cert.pem' }, $claims->(), $EVIL)],
        ['x5c header, attacker key',
         forge_jwt({ %$HS256, x5c => [encode_base64('not a cert', '')] }, $claims->(), $EVIL)],
        ['kid path, attacker key',
         forge_jwt({ %$HS256, kid => '../../../../etc/passwd' }, $claims->(), $EVIL)]);

    # standard base64 (+ /) in the payload, validly signed over those bytes
    my ($sh) = split /\./, $signed->();
    my ($std) = grep { m{[+/]} }
                map { (my $b = encode_base64(json_enc($claims->(x => "\xff\xfe$_?>>")), ''))
                          =~ s/=+$//; $b } 0 .. 500;
    die "no payload whose standard base64 has + or /\n" unless $std;
    # a payload whose base64url needs padding, kept
    my ($pad) = grep { /=$/ }
                map { my $b = encode_base64(json_enc($claims->(y => 'p' x $_)), '');
                      $b =~ tr{+/}{-_}; $b } 0 .. 10;
    die "no payload with padding\n" unless $pad;
    my $big = $signed->(pad => 'x' x 9000);
    die "the big token is not over 8 KiB\n" unless length $big > 8192;
    my $nj = b64u_enc('not json');
    my $arr = b64u_enc('[1,2]');
    $add->(encoding =>
        ['validly signed token over 8 KiB', $big],
        ['non-base64url characters (+ /), valid signature', "$sh.$std." . $mac->("$sh.$std")],
        ['padding = in the payload, valid signature', "$sh.$pad." . $mac->("$sh.$pad")],
        ['padding after the signature', "$h.$pl.$s="],
        ['two segments', "$h.$pl"],
        ['four segments', "$h.$pl.$s.$s"],
        ['a trailing dot', "$h.$pl.$s."],
        ['empty header', ".$pl.$s"],
        ['empty payload', "$h..$s"],
        ['all empty', '..'],
        ['a character outside base64url', "$h.$pl.$s*"],
        ['a header that is not JSON, valid signature', "$nj.$pl." . $mac->("$nj.$pl")],
        ['a payload that is a JSON array, valid signature', "$h.$arr." . $mac->("$h.$arr")]);

    $add->(session =>
        ['unknown sub and sid', $signed->(sub => 'f' x 32, sid => 'e' x 32)],
        ['unknown sub, real sid', $signed->(sub => 'f' x 32)],
        ['real sub, unknown sid', $signed->(sid => 'e' x 32)],
        ['no sub', $signed->(sub => undef)],
        ['no sid', $signed->(sid => undef)]);
    return @out;
}

# Returns the [name, token] pairs of group GROUP from LIST (of
# forged_tokens).
sub forged_named {
    my ($list, $group) = @_;
    return map { [ $_->[1], $_->[2] ] } grep { $_->[0] eq $group } @$list;
}

1;
