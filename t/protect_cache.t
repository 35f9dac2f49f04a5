# Shared caches never store what a cookie authenticated (API.md section
# 5), on the virtual host aapi_protect_cookie (AuthAPITokenCookies On,
# AuthAPISilentRefresh On, AuthAPIAccessTTL 2s): a response to a request
# that the access cookie authenticated carries Cache-Control: private and
# Vary: Cookie, its 304 too; a response on which silent refresh set cookies
# carries Cache-Control: no-store; a Bearer response gets no "private" from
# the module. End to end, with mod_cache (CacheQuickHandler On, which
# answers from the cache before authentication) in front of a
# cookie-protected file: a client without credentials never gets the
# page, nor anybody's cookies. Configuration: t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;
use File::Spec::Functions qw(catfile);

plan tests => 8, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('aapi_protect_cookie');

my $U = new_account();
my $V = new_account();
my $FILE = '/protected/loc/hello.txt';
my $CGI = '/protected/loc/env.cgi';

# The cached files (one per check, so that each check starts from an
# empty cache entry: mod_cache does not store a URL with a query string
# without an explicit expiry) get an old mtime, so that mod_cache has a
# heuristic freshness (a tenth of their age) to store them with.
my $CDIR = catfile(Apache::Test::vars('documentroot'), 'protected', 'cache');
for my $f (qw(open cookie refresh expired again)) {
    my $p = catfile($CDIR, "$f.txt");
    utime(946684800, 946684800, $p) or die "utime $p: $!\n";
}

# Returns "Name: value" of header NAME of RES for a diagnostic.
sub show {
    my ($r, @names) = @_;
    return join "\n", map {
        my $v = $r->header($_) // '(none)';
        $v = substr($v, 0, 100) . '...' if length $v > 100;
        "$_: $v";
    } @names;
}

# Checks that RES is private and varies on Cookie.
sub private_ok {
    my ($r, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok(header_has($r, 'Cache-Control', 'private'), "$name: Cache-Control has private")
        or diag(show($r, 'Cache-Control'));
    ok(header_has($r, 'Vary', 'Cookie'), "$name: Vary has Cookie")
        or diag(show($r, 'Vary'));
}

subtest 'a 200 the access cookie authenticated is private and varies on Cookie' => sub {
    for my $path ($FILE, $CGI) {
        my $s = cookie_session($U);
        my $r = raw_req('GET', $path, [ token_cookie_line(access => $s->{access}) ]);
        is($r->{status}, 200, "$path, access cookie: 200") or diag(substr($r->{body}, 0, 300));
        is($r->header('Set-Cookie'), undef, "$path, a live access cookie: no Set-Cookie");
        private_ok($r, "$path, access cookie");
        # the refresh cookie beside a live access cookie changes nothing
        $r = raw_req('GET', $path, [ token_cookie_line(access => $s->{access},
                                                        refresh => $s->{refresh}) ]);
        is($r->{status}, 200, "$path, both cookies: 200");
        private_ok($r, "$path, both cookies");
    }
};

subtest 'a 304 the access cookie authenticated is private and varies on Cookie' => sub {
    my $s = cookie_session($U);
    my $line = token_cookie_line(access => $s->{access});
    my $r = raw_req('GET', $FILE, [ $line ]);
    is($r->{status}, 200, 'the file: 200');
    my $etag = $r->header('ETag');
    my $lm = $r->header('Last-Modified');
    ok(defined $etag, 'the file has an ETag');
    ok(defined $lm, 'the file has a Last-Modified');
    $r = raw_req('GET', $FILE, [ $line, "If-None-Match: " . ($etag // '"x"') ]);
    is($r->{status}, 304, 'If-None-Match: 304');
    private_ok($r, 'If-None-Match 304');
    $r = raw_req('GET', $FILE, [ $line, "If-Modified-Since: " . ($lm // 'x') ]);
    is($r->{status}, 304, 'If-Modified-Since: 304');
    private_ok($r, 'If-Modified-Since 304');
};

subtest 'a response on which silent refresh set cookies is no-store' => sub {
    for my $path ($FILE, $CGI) {
        my $s = cookie_session($U);
        wait_token_expired($s->{access});
        my %cases = (
            'expired access + refresh cookie' => [ access => $s->{access}, refresh => $s->{refresh} ],
            'refresh cookie alone'            => [ refresh => undef ],
        );
        for my $case (sort keys %cases) {
            # each case starts from a refresh token of its own
            my %c = @{ $cases{$case} };
            $c{refresh} //= cookie_session($U)->{refresh};
            my $r = raw_req('GET', $path, [ token_cookie_line(%c) ]);
            is($r->{status}, 200, "$path, $case: 200") or diag(substr($r->{body}, 0, 300));
            ok(set_cookies($r)->{auth_api_access}, "$path, $case: fresh cookies were set");
            ok(header_has($r, 'Cache-Control', 'no-store'), "$path, $case: Cache-Control has no-store")
                or diag(show($r, 'Cache-Control', 'Vary'));
        }
    }
};

subtest 'a Bearer response gets no private from the module' => sub {
    for my $path ($FILE, $CGI) {
        my $s = cookie_session($U);
        my $r = raw_req('GET', $path, [ "Authorization: Bearer $s->{access}" ]);
        is($r->{status}, 200, "$path, Bearer: 200") or diag(substr($r->{body}, 0, 300));
        ok(!header_has($r, 'Cache-Control', 'private'), "$path, Bearer: Cache-Control has no private")
            or diag(show($r, 'Cache-Control'));
        is($r->header('Set-Cookie'), undef, "$path, Bearer: no Set-Cookie");
    }
    # the same on the main server, where cookies are off
    Apache::TestRequest::module('default');
    my $r = raw_req('GET', $FILE, [ "Authorization: Bearer $U->{access_token}" ]);
    Apache::TestRequest::module('aapi_protect_cookie');
    is($r->{status}, 200, 'main server, Bearer: 200');
    ok(!header_has($r, 'Cache-Control', 'private'), 'main server, Bearer: Cache-Control has no private')
        or diag(show($r, 'Cache-Control'));
};

# ---- end to end through mod_cache ---------------------------------------

subtest 'control: mod_cache stores the unprotected copy of the file' => sub {
    my $url = '/protected/cacheopen/open.txt';
    my $r = raw_req('GET', $url, []);
    is($r->{status}, 200, 'first GET: 200');
    like($r->{body}, qr/protected-static-marker: cache/, 'first GET: the file');
    my $hit;
    # the entry is written as the response goes out; a few tries, bounded
    for (1 .. 5) {
        $r = raw_req('GET', $url, []);
        last if $hit = (($r->header('X-Cache') // '') =~ /^HIT/);
        select undef, undef, undef, 0.2;
    }
    ok($hit, 'a later GET is answered from the cache (X-Cache: HIT)')
        or diag(show($r, 'X-Cache', 'X-Cache-Detail', 'Cache-Control', 'Last-Modified'));
};

# Sends N (default 3) GETs of URL without credentials (0.2 s apart) and
# checks each is refused with nothing of the page and no cookie.
sub anonymous_refused {
    my ($url, $name, $n) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    for my $i (1 .. ($n || 3)) {
        my $r = raw_req('GET', $url, []);
        is($r->{status}, 401, "$name, anonymous GET $i: 401")
            or diag(show($r, 'X-Cache', 'X-Cache-Detail', 'Cache-Control', 'Vary'));
        ok(no_content($r), "$name, anonymous GET $i: none of the page");
        ok(!defined $r->header('Set-Cookie'), "$name, anonymous GET $i: no Set-Cookie")
            or diag(show($r, 'Set-Cookie'));
        select undef, undef, undef, 0.2;
    }
}

subtest 'mod_cache: a page a cookie opened is not served to a client without credentials' => sub {
    my $url = '/protected/cached/cookie.txt';
    my $s = cookie_session($U);
    my $r = raw_req('GET', $url, [ token_cookie_line(access => $s->{access}) ]);
    is($r->{status}, 200, 'the cookie user: 200') or diag(substr($r->{body}, 0, 300));
    like($r->{body}, qr/protected-static-marker: cache/, "the cookie user: the file");
    note(show($r, 'X-Cache', 'X-Cache-Detail', 'Cache-Control', 'Vary'));
    anonymous_refused($url, 'after a cookie user');
    $r = raw_req('GET', $url, [ 'Cookie: theme=dark' ]);
    is($r->{status}, 401, 'a client with another cookie only: 401');
    ok(no_content($r), 'a client with another cookie only: none of the page');
};

subtest 'mod_cache: a silent-refresh response is served to nobody else' => sub {
    for my $case ('refresh cookie alone', 'expired access + refresh cookie') {
        my $url = '/protected/cached/' . ($case =~ /expired/ ? 'expired' : 'refresh') . '.txt';
        my ($s, $line) = refresh_due($U, $case =~ /expired/);
        my $r = raw_req('GET', $url, [ $line ]);
        is($r->{status}, 200, "$case: 200") or diag(substr($r->{body}, 0, 300));
        my $set = set_cookies($r);
        ok($set->{auth_api_access} && $set->{auth_api_refresh}, "$case: fresh cookies set");
        note(show($r, 'X-Cache', 'X-Cache-Detail', 'Cache-Control', 'Vary'));
        anonymous_refused($url, $case);
        # another signed-in user gets the page, but never the first user's cookies
        my $t = cookie_session($V);
        my $o = raw_req('GET', $url, [ token_cookie_line(access => $t->{access}) ]);
        is($o->{status}, 200, "$case, another user's live cookie: 200");
        ok(!defined $o->header('Set-Cookie'), "$case, another user: no Set-Cookie")
            or diag(show($o, 'Set-Cookie', 'X-Cache'));
    }
};

subtest 'mod_cache: the refresh cookie of a cached silent refresh is not handed out again' => sub {
    # the user comes back with the cookies the refresh gave; the cache must
    # not replay the earlier Set-Cookie (the spent refresh token) to them
    my $url = '/protected/cached/again.txt';
    my $s = cookie_session($U);
    my $r = raw_req('GET', $url, [ token_cookie_line(refresh => $s->{refresh}) ]);
    is($r->{status}, 200, 'silent refresh: 200');
    my $set = set_cookies($r);
    my $na = ($set->{auth_api_access} || {})->{value};
    my $nf = ($set->{auth_api_refresh} || {})->{value};
    ok($na && $nf, 'fresh cookies');
    $r = raw_req('GET', $url, [ token_cookie_line(access => $na, refresh => $nf) ]);
    is($r->{status}, 200, 'the fresh cookies: 200');
    ok(!defined $r->header('Set-Cookie'), 'the fresh cookies: no Set-Cookie replayed')
        or diag(show($r, 'Set-Cookie', 'X-Cache'));
    is(session_refresh_hash($s->{sid}), sha256_of($nf // ''), 'the session still holds the fresh refresh token');
};

# Returns the SHA-256 hex of S.
sub sha256_of { require Digest::SHA; Digest::SHA::sha256_hex(shift) }
