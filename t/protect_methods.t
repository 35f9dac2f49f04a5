# No method and no spelling of a protected path reaches the content of an
# AuthType auth-api area without a token (API.md section 5). Each variant
# is first shown to reach the content with a valid token, so that the 401
# without one is the module's doing. Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 7, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $U = new_account();
my $AUTH = "Authorization: Bearer $U->{access_token}";
my @METHODS = qw(GET HEAD POST OPTIONS PROPFIND PUT DELETE PATCH MKCOL LOCK FOO);

# Sends METHOD TARGET (raw) with header LINES and, for methods that carry
# one, a small body.
sub send_m {
    my ($method, $target, @lines) = @_;
    my $body = $method =~ /^(?:POST|PUT|PATCH|PROPFIND|FOO)$/ ? 'a=1&b=2' : undef;
    push @lines, 'Content-Type: application/x-www-form-urlencoded' if defined $body;
    return raw_req($method, $target, \@lines, $body);
}

subtest 'with a token every method reaches the CGI (the control)' => sub {
    for my $m (grep { $_ ne 'HEAD' && $_ ne 'OPTIONS' } @METHODS) {
        my $r = send_m($m, '/protected/loc/env.cgi', $AUTH);
        is($r->{status}, 200, "$m with a token: 200") or diag(substr($r->{body}, 0, 300));
        is(cgi_env($r)->{REQUEST_METHOD}, $m, "$m with a token: the CGI ran it");
    }
};

subtest 'without a token no method reaches a CGI, a static file or a directory' => sub {
    for my $target ('/protected/loc/env.cgi', '/protected/loc/hello.txt', '/protected/loc/',
                    '/protected/dir/env.cgi', '/protected/ht/env.cgi') {
        for my $m (@METHODS) {
            my $r = send_m($m, $target);
            is($r->{status}, 401, "$m $target: 401") or diag(substr($r->{body}, 0, 300));
            ok(no_content($r), "$m $target: none of the content");
            is(challenge($r), 'Bearer', "$m $target: WWW-Authenticate: Bearer");
        }
    }
};

subtest 'a bad token: 401 for every method' => sub {
    for my $m (@METHODS) {
        my $r = send_m($m, '/protected/loc/env.cgi', 'Authorization: Bearer x.y.z');
        is($r->{status}, 401, "$m with a bad token: 401");
        ok(no_content($r), "$m with a bad token: none of the content");
    }
};

subtest 'TRACE and CONNECT never show the content' => sub {
    # TRACE is answered by the core (TraceEnable) with the request itself;
    # CONNECT is refused by the core: neither may show what is protected
    for my $m (qw(TRACE CONNECT)) {
        my $r = send_m($m, '/protected/loc/hello.txt');
        isnt($r->{status}, 200, "$m: not served") if $m eq 'CONNECT';
        ok(no_content($r), "$m: none of the content") or diag(substr($r->{body}, 0, 300));
        $r = send_m($m, '/protected/loc/env.cgi');
        ok(no_content($r), "$m on the CGI: the CGI did not run");
    }
};

# Request targets that mean a protected resource: [target, what the
# content looks like with a token, status with a token].
my $PORT = (AAPI::Test::hostport() =~ /:(\d+)$/)[0];
my @VARIANTS = (
    [ '/protected/loc/hello.txt',              qr/protected-static-marker: loc/ ],
    [ '//protected/loc/hello.txt',             qr/protected-static-marker: loc/ ],
    [ '/./protected/loc/hello.txt',            qr/protected-static-marker: loc/ ],
    [ '/protected/%2e/loc/hello.txt',          qr/protected-static-marker: loc/ ],
    [ '/protected/%2E/loc/hello.txt',          qr/protected-static-marker: loc/ ],
    [ '/%70rotected/loc/hello.txt',            qr/protected-static-marker: loc/ ],
    [ '/protected/%6coc/hello.txt',            qr/protected-static-marker: loc/ ],
    [ '/protected/loc/%68ello.txt',            qr/protected-static-marker: loc/ ],
    [ '/protected//loc/hello.txt',             qr/protected-static-marker: loc/ ],
    [ '/protected/loc//hello.txt',             qr/protected-static-marker: loc/ ],
    [ '/protected/loc/./hello.txt',            qr/protected-static-marker: loc/ ],
    [ '/protected/x/../loc/hello.txt',         qr/protected-static-marker: loc/ ],
    [ '/protected/loc/hello.txt?x=1',          qr/protected-static-marker: loc/ ],
    [ "http://127.0.0.1:$PORT/protected/loc/hello.txt", qr/protected-static-marker: loc/ ],
    [ '/protected/loc/env.cgi/extra',          qr/^PATH_INFO=\/extra$/m ],
    [ '/protected/loc/env.cgi/extra/more?q=1', qr/^PATH_INFO=\/extra\/more$/m ],
    [ '/protected/loc/',                       qr/protected-index-marker: loc/ ],
    [ '/protected/loc',                        undef, 301 ],
    [ '/protected/%64ir/hello.txt',            qr/protected-static-marker: dir/ ],
    [ '//protected/dir//env.cgi/x',            qr/^CGI-OK$/m ],
    [ '/protected/dir/',                       undef, 403 ],
    [ '/protected/ht/%2e/hello.txt',           qr/protected-static-marker: ht/ ],
    [ '//protected//ht/hello.txt',             qr/protected-static-marker: ht/ ],
    [ '/protected/ht/env.cgi/extra',           qr/^PATH_INFO=\/extra$/m ],
);

subtest 'spellings of a protected path: with a token (the control)' => sub {
    for my $v (@VARIANTS) {
        my ($t, $re, $st) = @$v;
        my $r = raw_req('GET', $t, [$AUTH]);
        is($r->{status}, $st // 200, "GET $t with a token: " . ($st // 200))
            or diag(substr($r->{body}, 0, 300));
        like($r->{body}, $re, "GET $t with a token: the content") if $re;
    }
};

subtest 'spellings of a protected path: without a token, 401' => sub {
    for my $v (@VARIANTS) {
        my ($t) = @$v;
        for my $m (qw(GET POST)) {
            my $r = send_m($m, $t);
            is($r->{status}, 401, "$m $t: 401") or diag(substr($r->{body}, 0, 300));
            ok(no_content($r), "$m $t: none of the content");
        }
    }
};

subtest 'a request body without a token: 401, and the connection is answered' => sub {
    my $body = 'x' x 200_000;
    my $r = raw_req('POST', '/protected/loc/echo.cgi',
                    ['Content-Type: application/octet-stream'], $body);
    is($r->{status}, 401, 'POST of 200 kB to a CGI without a token: 401');
    ok(no_content($r), 'none of the content');
    unlike($r->{body}, qr/x{1000}/, 'the body is not echoed');
};
