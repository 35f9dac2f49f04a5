# Silent refresh across a second boundary (API.md section 5), on the
# virtual host aapi_protect_cookie (AuthAPITokenCookies On,
# AuthAPISilentRefresh On, AuthAPILeeway 0): a request whose head arrives
# in two parts 1.2 s apart (the request line, then the headers with the
# refresh cookie) is let through with fresh cookies. The access token that
# silent refresh has just issued was issued after the request began, in a
# later second; it is valid, and the request must not be refused for it.
# Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;
use Digest::SHA qw(sha256_hex);
use IO::Select ();
use IO::Socket::INET ();
use Time::HiRes ();

plan tests => 3, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('aapi_protect_cookie');

my $U = new_account();
my $PATH = '/protected/loc/env.cgi';

# Sends "GET PATH HTTP/1.1", waits DELAY seconds, then sends the Host
# header, the header LINES and the blank line, on one connection to
# 127.0.0.1; reads the response (at most 15 s) and returns it as an
# AAPI::Test::Res, or undef when none came.
sub split_request {
    my ($path, $delay, @lines) = @_;
    my ($host, $port) = split /:/, AAPI::Test::hostport();
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                     Proto => 'tcp', Timeout => 10)
        or die "connect 127.0.0.1:$port: $!";
    local $SIG{PIPE} = 'IGNORE';
    $sock->autoflush(1);
    syswrite($sock, "GET $path HTTP/1.1\r\n") or die "write: $!";
    Time::HiRes::sleep($delay) if $delay;
    my $rest = "Host: 127.0.0.1:$port\r\nConnection: close\r\nUser-Agent: aapi-test/1\r\n";
    $rest .= "$_\r\n" for @lines;
    $rest .= "\r\n";
    syswrite($sock, $rest) or die "write: $!";
    my $raw = '';
    my $sel = IO::Select->new($sock);
    my $deadline = time + 15;
    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $raw .= $buf;
    }
    close $sock;
    return undef unless length $raw;
    return parse_raw_response($raw);
}

# Checks that R is the CGI's 200 for account U with fresh cookies, and
# that session S now holds the fresh refresh token.
sub refreshed_ok {
    my ($r, $s, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok($r, "$name: a response") or return;
    is($r->{status}, 200, "$name: 200, not 401")
        or diag(($r->header('WWW-Authenticate') // '') . "\n" . substr($r->{body}, 0, 300));
    my $env = cgi_env($r);
    is($env->{_marker}, 'CGI-OK', "$name: the CGI ran");
    is($env->{REMOTE_USER}, $U->{email}, "$name: REMOTE_USER");
    is($env->{AUTH_API_SESSION_ID}, $s->{sid}, "$name: the same session");
    my $c = set_cookies($r);
    my $na = ($c->{auth_api_access} || {})->{value};
    my $nf = ($c->{auth_api_refresh} || {})->{value};
    ok($na, "$name: a fresh access cookie");
    ok($nf && $nf ne $s->{refresh}, "$name: a fresh refresh cookie");
    is(session_refresh_hash($s->{sid}), sha256_hex($nf // ''),
       "$name: the session holds the fresh refresh token");
    my $n = raw_req('GET', $PATH, [ token_cookie_line(access => $na // 'x') ]);
    is($n->{status}, 200, "$name: the fresh access cookie opens the next request");
}

subtest 'control: the same request sent at once' => sub {
    my $s = cookie_session($U);
    refreshed_ok(split_request($PATH, 0, token_cookie_line(refresh => $s->{refresh})), $s,
                 'refresh cookie, at once');
};

subtest 'the refresh cookie alone, the head in two parts 1.2 s apart' => sub {
    my $s = cookie_session($U);
    my $t0 = Time::HiRes::time();
    my $r = split_request($PATH, 1.2, token_cookie_line(refresh => $s->{refresh}));
    cmp_ok(Time::HiRes::time() - $t0, '>=', 1.2, 'the request took at least 1.2 s');
    refreshed_ok($r, $s, 'refresh cookie, 1.2 s');
};

subtest 'an expired access cookie and the refresh cookie, the head in two parts 1.2 s apart' => sub {
    my $s = cookie_session($U);
    wait_token_expired($s->{access});
    my $r = split_request($PATH, 1.2, token_cookie_line(access => $s->{access},
                                                        refresh => $s->{refresh}));
    refreshed_ok($r, $s, 'expired access + refresh cookie, 1.2 s');
};
