package AAPI::Session;
# Helpers of the session lifecycle tests (t/refresh.t, t/logout.t,
# t/sessions.t, t/password.t, t/cookies.t, t/cors.t, t/revocation.t),
# on top of AAPI::Test. Requests go to the current Apache::Test server or
# virtual host, as with AAPI::Test.
use strict;
use warnings;

use Exporter 'import';
use AAPI::Test;
use JSON::PP ();
use Test::More ();

our @EXPORT = qw(
    new_account new_login refresh_with me_status sid_of
    own_origin set_cookies cookie_jar cookie_header
    burst statuses_of all_are
    token_response_ok is_success
);

# Registers a fresh account on the current server; returns the
# register_user() hash (email, password, user, access_token,
# refresh_token, ...) and dies when registration fails.
sub new_account {
    my $u = register_user(@_);
    die "registration failed ($u->{status}): $u->{res}{body}\n"
        unless $u->{status} == 201;
    return $u;
}

# Logs ACCOUNT (a new_account hash) in once more; returns the data member
# of the response ({user, access_token, refresh_token, ...}), with the
# response itself as {res}.
sub new_login {
    my $acct = shift;
    my $r = login_as($acct->{email}, $acct->{password});
    die "login failed ($r->{status}): $r->{body}\n" unless $r->{status} == 200;
    return { %{ $r->data }, res => $r };
}

# POST /refresh with body {refresh_token => TOKEN} (FIELD overrides the
# field name) and extra HEADERS; returns the Res.
sub refresh_with {
    my ($token, %o) = @_;
    my $field = delete $o{field} || 'refresh_token';
    return post_json('/refresh', { $field => $token }, %o);
}

# Returns the status of GET /me with the bearer TOKEN.
sub me_status {
    my $token = shift;
    return bearer_get('/me', $token)->{status};
}

# Returns the sid claim of the access token TOKEN (or '').
sub sid_of {
    my $token = shift;
    my (undef, $claims) = eval { jwt_decode($token) };
    return ref $claims eq 'HASH' && defined $claims->{sid} ? $claims->{sid} : '';
}

# Returns the origin of the current server: http://127.0.0.1:PORT.
sub own_origin { 'http://' . AAPI::Test::hostport() }

# Returns the Set-Cookie headers of the Res R, parsed, in order: a list of
# {name, value, attr => {lower-case attribute name => value or 1}, raw}.
sub set_cookies {
    my $r = shift;
    my @out;
    for my $raw ($r->{res}->headers->header('Set-Cookie')) {
        my ($pair, @attrs) = split /\s*;\s*/, $raw;
        my ($name, $value) = split /=/, $pair, 2;
        my %attr;
        for my $a (@attrs) {
            my ($k, $v) = split /=/, $a, 2;
            $attr{lc $k} = defined $v ? $v : 1;
        }
        push @out, { name => $name, value => defined $value ? $value : '',
                     attr => \%attr, raw => $raw };
    }
    return @out;
}

# Returns {name => parsed cookie} of the Set-Cookie headers of R (the last
# one of a name wins).
sub cookie_jar {
    my $r = shift;
    return { map { $_->{name} => $_ } set_cookies($r) };
}

# Returns a Cookie header value for NAME => VALUE pairs.
sub cookie_header {
    my %c = @_;
    return join '; ', map { "$_=$c{$_}" } sort keys %c;
}

# Runs N parallel requests CODE->(i) (each returns a status or a Res) and
# returns their statuses (a child that failed gives its error text).
sub burst {
    my ($n, $code) = @_;
    return map { ref $_ eq 'HASH' && exists $_->{error} ? "error: $_->{error}" : $_ }
        parallel($n, sub {
            my $r = $code->(@_);
            return ref $r ? $r->{status} : $r;
        }, 60);
}

# Returns "STATUS xCOUNT, ..." for a list of statuses, for messages.
sub statuses_of {
    my %n;
    $n{$_}++ for @_;
    return join ', ', map { "$_ x$n{$_}" } sort keys %n;
}

# Checks that every element of LIST equals WANT; one test named NAME.
sub all_are {
    my ($want, $name, @list) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my @bad = grep { !defined $_ || $_ ne $want } @list;
    return Test::More::ok(@list && !@bad, "$name (" . scalar(@list) . ')')
        || Test::More::diag('got: ' . statuses_of(map { defined $_ ? $_ : 'undef' } @list));
}

# Checks a success answer like is_envelope_ok(), except that it leaves the
# data member to the caller: STATUS, the common headers, success true, a
# message, no error members.
sub is_success {
    my ($r, $status, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $j = $r->{json};
    my $ok = Test::More::is($r->{status}, $status, "$name: status $status")
        or Test::More::diag('body: ' . substr($r->{body}, 0, 500));
    $ok &= AAPI::Test::common_headers($r, $name);
    $ok &= Test::More::ok(ref $j eq 'HASH' && JSON::PP::is_bool($j->{success})
                          && $j->{success} && defined $j->{message}
                          && !ref $j->{message} && !exists $j->{error}
                          && !exists $j->{errors}, "$name: success, message")
        or Test::More::diag('body: ' . substr($r->{body}, 0, 500));
    return $ok;
}

# Checks a token response (login, register, refresh) of Res R: STATUS,
# MESSAGE, the envelope, data.user with id UID, and the tokens; returns
# the data member. Options: access_ttl, refresh_ttl (expected expires_in
# and refresh_expires_in), no_tokens (the tokens must be absent).
sub token_response_ok {
    my ($r, $status, $message, $uid, $name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_envelope_ok($r, $status, $name);
    my $d = $r->data;
    Test::More::is($r->{json} && $r->{json}{message}, $message, "$name: message");
    Test::More::is(ref $d->{user} eq 'HASH' ? $d->{user}{id} : undef, $uid,
                   "$name: data.user is the account");
    my @secret = grep { /pass|hash|secret|totp/i } keys %{ ref $d->{user} eq 'HASH' ? $d->{user} : {} };
    Test::More::is("@secret", '', "$name: no secret in the user object");
    Test::More::is($d->{expires_in}, $o{access_ttl} // 900, "$name: expires_in");
    Test::More::is($d->{refresh_expires_in}, $o{refresh_ttl} // 2592000,
                   "$name: refresh_expires_in");
    if ($o{no_tokens}) {
        Test::More::ok(!exists $d->{access_token}, "$name: no access_token in the body");
        Test::More::ok(!exists $d->{refresh_token}, "$name: no refresh_token in the body");
    }
    else {
        Test::More::like($d->{access_token} // '', qr/^[\w-]+\.[\w-]+\.[\w-]+$/,
                         "$name: access_token");
        Test::More::is($d->{token_type}, 'Bearer', "$name: token_type");
        Test::More::like($d->{refresh_token} // '', qr/^[A-Za-z0-9_-]{43,}$/,
                         "$name: refresh_token (>= 256 bits, URL-safe)");
    }
    return $d;
}

1;
