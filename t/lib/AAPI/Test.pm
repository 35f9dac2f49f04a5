package AAPI::Test;
# Helpers of the mod_auth_api test suite.
#
# Requests go to 127.0.0.1 on the port of the current Apache::Test server
# or virtual host (Apache::TestRequest::module('NAME') switches, 'default'
# goes back). Endpoint paths are relative to $AAPI::Test::MOUNT
# ('/api/v1/auth'); `local $AAPI::Test::MOUNT = ''` for absolute paths.
#
# Every request helper returns an AAPI::Test::Res (see decode()):
#   $r->{status}, $r->{json} (decoded body or undef), $r->{body} (raw bytes),
#   $r->header('Name'), $r->{res} (the HTTP::Response).
use strict;
use warnings;

use Exporter 'import';
use Apache::Test ();
use Apache::TestRequest ();
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512 sha256_hex);
use File::Spec::Functions qw(catfile);
use HTTP::Request ();
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();
use LWP::UserAgent ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX ();
use Time::HiRes ();

our @EXPORT = qw(
    post_json get_json patch_json put_json delete_json request_json
    bearer_get raw_http raw_post parse_raw_response
    register_user login_as user_count uniq_email uniq_username strong_password
    decode json_enc json_dec
    db_exec db_query db_path db_is_mysql db_file_bytes sql_quote
    forge_jwt b64u_enc b64u_dec jwt_decode secret hs512_secret
    parallel median same_time
    is_envelope_ok is_error
);

our $MOUNT = '/api/v1/auth';
our $TIMEOUT = 30;                   # seconds per request

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

# ==== requests ====

# Returns "127.0.0.1:PORT" of the current server or virtual host.
sub hostport {
    my $hp = Apache::TestRequest::hostport();
    my ($port) = $hp =~ /:(\d+)$/ or die "no port in $hp";
    return "127.0.0.1:$port";
}

# Returns the absolute URL of endpoint PATH under the mount.
sub url {
    my $path = shift;
    return 'http://' . hostport() . $MOUNT . $path;
}

my $UA;
sub ua {
    $UA ||= LWP::UserAgent->new(timeout => $TIMEOUT, keep_alive => 0,
                                max_redirect => 0, agent => 'aapi-test/1');
    return $UA;
}

# Returns the body encoding of DATA: a reference is JSON-encoded
# (canonical), a plain string is sent as it is (raw bytes).
sub json_body {
    my $data = shift;
    return undef unless defined $data;
    return ref $data ? $JSON->encode($data) : $data;
}

# Sends METHOD PATH with optional DATA (ref = JSON, string = raw) and
# HEADERS; Content-Type defaults to application/json when there is a body
# (pass 'Content-Type' => undef to send none). Returns an AAPI::Test::Res.
sub request_json {
    my ($method, $path, $data, %h) = @_;
    my $body = json_body($data);
    my $req = HTTP::Request->new($method => url($path));
    my $ct_given = exists $h{'Content-Type'};
    my $ct = delete $h{'Content-Type'};
    if (defined $body) {
        $req->content($body);
        $req->header('Content-Length' => length $body);
        $ct = 'application/json' unless $ct_given;
    }
    $req->header('Content-Type' => $ct) if defined $ct;
    for my $k (keys %h) {
        $req->header($k => $h{$k}) if defined $h{$k};
    }
    return decode(ua()->request($req));
}

sub post_json   { my $p = shift; request_json('POST',   $p, @_) }
sub patch_json  { my $p = shift; request_json('PATCH',  $p, @_) }
sub put_json    { my $p = shift; request_json('PUT',    $p, @_) }
sub delete_json { my $p = shift; request_json('DELETE', $p, @_) }
sub get_json    { my ($p, %h) = @_; request_json('GET', $p, undef, %h) }

# GET PATH with "Authorization: Bearer TOKEN".
sub bearer_get {
    my ($path, $token, %h) = @_;
    return get_json($path, Authorization => "Bearer $token", %h);
}

# Sends the raw bytes REQUEST (request line, headers, body; "\r\n" line
# ends, the helper adds nothing) to the current server and returns the
# parsed response as an AAPI::Test::Res. Chunked responses are decoded.
sub raw_http {
    my $request = shift;
    my ($host, $port) = split /:/, hostport();
    my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
                                     Proto => 'tcp', Timeout => $TIMEOUT)
        or die "connect $host:$port: $!";
    local $SIG{PIPE} = 'IGNORE';
    $sock->autoflush(1);
    # the server may answer (413) before the body is sent: write in
    # pieces and stop at the first error
    my $off = 0;
    while ($off < length $request) {
        my $n = syswrite($sock, $request, 8192, $off);
        last unless defined $n && $n > 0;
        $off += $n;
    }
    my $raw = '';
    my $sel = IO::Select->new($sock);
    my $deadline = time + $TIMEOUT;
    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;      # EOF, or an error such as a reset
        $raw .= $buf;
    }
    close $sock;
    die "no response to raw request" unless length $raw;
    return parse_raw_response($raw);
}

# Returns the HTTP response RAW (head and body as read from the socket,
# a chunked body joined) as the decoded response.
sub parse_raw_response {
    my $raw = shift;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my $res = HTTP::Response->parse($head . "\r\n\r\n");
    $body = '' unless defined $body;
    if (lc($res->header('Transfer-Encoding') || '') eq 'chunked') {
        my $out = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $len = hex $1;
            last if $len == 0;
            $out .= substr($body, 0, $len, '');
            $body =~ s/^\r\n//;
        }
        $body = $out;
    }
    $res->content($body);
    return decode($res);
}

# POSTs BODY (raw bytes) to endpoint PATH over a raw connection, with
# Content-Type application/json (option content_type, undef for none) and
# either Content-Length (option content_length overrides the real length)
# or, with chunked => 1, Transfer-Encoding: chunked in 1000-byte chunks.
sub raw_post {
    my ($path, $body, %o) = @_;
    my $ct = exists $o{content_type} ? $o{content_type} : 'application/json';
    my $req = "POST $MOUNT$path HTTP/1.1\r\nHost: " . hostport() . "\r\n"
        . "Connection: close\r\nUser-Agent: aapi-test/1\r\n"
        . (defined $ct ? "Content-Type: $ct\r\n" : '');
    if ($o{chunked}) {
        $req .= "Transfer-Encoding: chunked\r\n\r\n";
        for (my $i = 0; $i < length $body; $i += 1000) {
            my $c = substr($body, $i, 1000);
            $req .= sprintf("%x\r\n%s\r\n", length $c, $c);
        }
        $req .= "0\r\n\r\n";
    }
    else {
        my $cl = defined $o{content_length} ? $o{content_length} : length $body;
        $req .= "Content-Length: $cl\r\n\r\n$body";
    }
    return raw_http($req);
}

# Returns an AAPI::Test::Res for the HTTP::Response RES: {status, json
# (undef when the body is not JSON), body, res}.
sub decode {
    my $res = shift;
    my $body = $res->content;
    my $json = eval { $JSON->decode($body) };
    return bless { status => $res->code, json => $json, body => $body,
                   res => $res }, 'AAPI::Test::Res';
}

sub json_enc { $JSON->encode(shift) }
sub json_dec { $JSON->decode(shift) }

# ==== accounts ====

my $SEQ = 0;

# Returns a fresh random token of HEX hex digits.
sub rand_hex {
    my $n = shift || 12;
    return join '', map { sprintf '%x', int rand 16 } 1 .. $n;
}

# Returns an e-mail address used by no other test run.
sub uniq_email {
    my $tag = shift || 'u';
    return sprintf '%s%d%d.%s@example.test', $tag, $$, ++$SEQ, rand_hex(10);
}

# Returns a username (at most 20 characters) used by no other test run.
sub uniq_username {
    return 'u' . rand_hex(12) . ++$SEQ % 10;
}

# A password that passes the default policy and the vhost (a) policy and
# is not a common one.
sub strong_password { 'Corr3ct-Horse!Battery' }

# Registers a user on the current server with FIELDS over a unique email
# and strong_password(); returns {res, status, email, password, user,
# access_token, refresh_token}.
sub register_user {
    my %f = (email => uniq_email(), password => strong_password(), @_);
    my $r = post_json('/register', \%f);
    my $d = ($r->{json} && ref $r->{json}{data} eq 'HASH') ? $r->{json}{data} : {};
    return { res => $r, status => $r->{status}, email => $f{email},
             password => $f{password}, user => $d->{user},
             access_token => $d->{access_token},
             refresh_token => $d->{refresh_token}, fields => \%f };
}

# POST /login with EMAIL (sent as "email") and PW; returns the Res.
sub login_as {
    my ($email, $pw, %extra) = @_;
    return post_json('/login', { email => $email, password => $pw, %extra });
}

# Returns how many accounts have the address EMAIL (without regard to
# case and surrounding white space), read from the database.
sub user_count {
    my $e = lc shift;
    $e =~ s/^\s+|\s+$//g;
    return db_query('SELECT COUNT(*) FROM users WHERE email_norm = '
                    . sql_quote($e)) + 0;
}

# ==== database ====

sub db_is_mysql { ($ENV{AAPI_DB} || '') eq 'mysql' }

# Returns the path of the SQLite database of the test server.
sub db_path {
    return catfile(Apache::Test::vars('serverroot'), 'var', 'auth.db');
}

# Returns the uid and gid the server's children run as (when we are root).
sub server_ids {
    return () unless $> == 0;
    my $vars = Apache::Test::vars();
    my $uid = $ENV{AAPI_TEST_UID};
    $uid = getpwnam($vars->{user} || 'nobody') unless defined $uid;
    my $gid = $ENV{AAPI_TEST_GID};
    $gid = getgrnam($vars->{group} || 'nogroup') unless defined $gid;
    $gid = (getpwuid($uid))[3] unless defined $gid;
    return ($uid, $gid);
}

# Runs COMMAND (a list) with STDIN from INPUT; returns (exit status,
# stdout). As root, SQLite is run as the server's user, so that files it
# creates beside the database stay usable by the server.
sub run_cmd {
    my ($input, $as_server, @cmd) = @_;
    my @ids = $as_server ? server_ids() : ();
    my ($rin, $win);
    pipe($rin, $win) or die "pipe: $!";
    my $pid = open(my $out, '-|');
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $win;
        open STDIN, '<&', $rin or POSIX::_exit(126);
        if (@ids) {
            $) = "$ids[1] $ids[1]";
            $( = $ids[1];
            $< = $> = $ids[0];
            POSIX::_exit(126) if $> != $ids[0];
        }
        exec @cmd or POSIX::_exit(127);
    }
    close $rin;
    {
        local $SIG{PIPE} = 'IGNORE';
        print $win $input;
        close $win;
    }
    local $/;
    my $stdout = <$out>;
    close $out;
    return ($? >> 8, defined $stdout ? $stdout : '');
}

# Returns the command line of the database client.
sub db_cmd {
    if (db_is_mysql()) {
        return ('mariadb', '--socket=' . ($ENV{AAPI_MYSQL_SOCK} || ''),
                '-u', ($ENV{AAPI_MYSQL_USER} || 'root'),
                (defined $ENV{AAPI_MYSQL_PASS}
                     ? ('-p' . $ENV{AAPI_MYSQL_PASS}) : ()),
                '--batch', '--skip-column-names', '--raw',
                ($ENV{AAPI_MYSQL_DB} || 'auth_api_test'));
    }
    return ('sqlite3', '-batch', '-noheader', '-separator', "\t",
            '-cmd', '.timeout 10000', db_path());
}

# Runs SQL statements on the test database; dies when the client fails.
sub db_exec {
    my $sql = shift;
    $sql .= ';' unless $sql =~ /;\s*$/;
    my ($rc, $out) = run_cmd($sql . "\n", !db_is_mysql(), db_cmd());
    die "db_exec failed ($rc): $sql\n$out" if $rc;
    return $out;
}

# Runs the query SQL; returns its rows as array refs of strings (NULL reads
# as undef with MariaDB, as '' with SQLite). In scalar context returns the
# first column of the first row.
sub db_query {
    my $sql = shift;
    my $out = db_exec($sql);
    my @rows = map { [ map { $_ eq 'NULL' && db_is_mysql() ? undef : $_ }
                           split /\t/, $_, -1 ] }
               split /\n/, $out;
    return wantarray ? @rows : (@rows ? $rows[0][0] : undef);
}

# Returns S as an SQL string literal.
sub sql_quote {
    my $s = shift;
    $s =~ s/'/''/g;
    return "'$s'";
}

# Returns every byte the database holds: the SQLite file with its journal
# and WAL, or a mariadb-dump of the test database.
sub db_file_bytes {
    if (db_is_mysql()) {
        my ($rc, $out) = run_cmd('', 0, 'mariadb-dump',
            '--socket=' . ($ENV{AAPI_MYSQL_SOCK} || ''),
            '-u', ($ENV{AAPI_MYSQL_USER} || 'root'),
            (defined $ENV{AAPI_MYSQL_PASS} ? ('-p' . $ENV{AAPI_MYSQL_PASS}) : ()),
            '--skip-extended-insert',
            ($ENV{AAPI_MYSQL_DB} || 'auth_api_test'));
        die "mariadb-dump failed ($rc)" if $rc;
        return $out;
    }
    my $bytes = '';
    for my $f (db_path(), db_path() . '-wal', db_path() . '-journal') {
        next unless -e $f;
        open my $fh, '<:raw', $f or die "$f: $!";
        local $/;
        $bytes .= <$fh>;
    }
    return $bytes;
}

# ==== JWT ====

sub b64u_enc {
    my $s = encode_base64(shift, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

sub b64u_dec {
    my $s = shift;
    $s =~ tr{-_}{+/};
    $s .= '=' x ((4 - length($s) % 4) % 4);
    return decode_base64($s);
}

# Returns the bytes of a test secret file, one trailing line end removed
# (as the module reads it).
sub read_secret {
    my $name = shift;
    my $f = catfile(Apache::Test::vars('serverroot'), 'conf', $name);
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    my $s = <$fh>;
    $s =~ s/\r?\n\z//;
    return $s;
}

sub secret       { read_secret('jwt.secret') }
sub hs512_secret { read_secret('jwt-hs512.secret') }

# Returns a JWS built from HEADER and CLAIMS (hash refs are encoded as
# canonical JSON, strings are used as they are) signed with SECRET under
# ALG (HS256, HS384, HS512; 'none' or undef gives an empty signature).
# ALG defaults to the header's alg.
sub forge_jwt {
    my ($header, $claims, $secret, $alg) = @_;
    $alg = $header->{alg} if !defined $alg && ref $header;
    my $h = b64u_enc(ref $header ? $JSON->encode($header) : $header);
    my $p = b64u_enc(ref $claims ? $JSON->encode($claims) : $claims);
    my $input = "$h.$p";
    my %f = (HS256 => \&hmac_sha256, HS384 => \&hmac_sha384,
             HS512 => \&hmac_sha512);
    my $sig = (defined $alg && $f{$alg})
        ? b64u_enc($f{$alg}->($input, $secret)) : '';
    return "$input.$sig";
}

# Returns (header, claims) of the compact JWS TOKEN, decoded.
sub jwt_decode {
    my $tok = shift;
    my ($h, $p) = split /\./, $tok;
    return ($JSON->decode(b64u_dec($h)), $JSON->decode(b64u_dec($p)));
}

# ==== concurrency and timing ====

# Runs CODE->(i) in N forked children at once (they start together) and
# returns the list of their results (scalars or JSON-able refs), in child
# order; a child that fails or exceeds TIMEOUT seconds gives
# {error => ...}.
sub parallel {
    my ($n, $code, $timeout) = @_;
    $timeout ||= 60;
    my ($go_r, $go_w);
    pipe($go_r, $go_w) or die "pipe: $!";
    my (@pids, @fh);
    for my $i (0 .. $n - 1) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            close $r;
            close $go_w;
            my $dummy;
            sysread($go_r, $dummy, 1);     # wait until the parent says go
            my $res = eval { +{ ok => $code->($i) } } || { error => "$@" };
            my $out = eval { $JSON->encode($res) }
                || $JSON->encode({ error => "unencodable result" });
            syswrite($w, $out);
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @pids, $pid;
        push @fh, $r;
    }
    close $go_r;
    close $go_w;                            # go
    my @buf = ('') x $n;
    my %open = map { fileno($fh[$_]) => $_ } 0 .. $n - 1;
    my $sel = IO::Select->new(@fh);
    my $deadline = time + $timeout;
    while ($sel->count && time < $deadline) {
        for my $h ($sel->can_read($deadline - time)) {
            my $i = $open{fileno $h};
            my $k = sysread($h, my $chunk, 65536);
            if ($k) { $buf[$i] .= $chunk }
            else    { $sel->remove($h); close $h }
        }
    }
    for my $i (0 .. $n - 1) {
        kill 'KILL', $pids[$i] if $sel->exists($fh[$i]);
        waitpid($pids[$i], 0);
    }
    return map {
        my $res = eval { $JSON->decode($_) } || { error => 'timeout or crash' };
        exists $res->{ok} ? $res->{ok} : $res;
    } @buf;
}

# Checks that a refusal spends the same hashing time whether the account
# exists or not: times UNKNOWN->() and WRONG->() (each returns a status or
# a Res) ROUNDS times (default 7) in turn, after two warm-up calls of WRONG;
# every answer must be STATUS, the medians within a factor 3 and the
# unknown one at least 5 ms (the hash was computed). NAME prefixes the
# test names. Returns the two medians in seconds.
sub same_time {
    my (%a) = @_;
    my ($unknown, $wrong, $status, $name) = @a{qw(unknown wrong status name)};
    my $rounds = $a{rounds} || 7;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $time = sub {
        my $t0 = Time::HiRes::time();
        my $r = shift->();
        return (Time::HiRes::time() - $t0, ref $r ? $r->{status} : $r);
    };
    $time->($wrong) for 1 .. 2;            # warm up connections and caches
    my (@u, @w, %st);
    for (1 .. $rounds) {
        my ($dt, $s) = $time->($unknown);
        push @u, $dt; $st{$s}++;
        ($dt, $s) = $time->($wrong);
        push @w, $dt; $st{$s}++;
    }
    Test::More::is_deeply(\%st, { $status => 2 * $rounds },
                          "$name: all " . 2 * $rounds . " answers are $status");
    my ($mu, $mw) = (median(@u), median(@w));
    Test::More::diag(sprintf '%s: median unknown %.1f ms, wrong password %.1f ms',
                     $name, $mu * 1000, $mw * 1000);
    my $ratio = $mu > $mw ? $mu / ($mw || 1e-6) : $mw / ($mu || 1e-6);
    Test::More::cmp_ok($ratio, '<=', 3, "$name: medians within a factor 3");
    Test::More::cmp_ok($mu, '>=', 0.005,
                       "$name: the unknown account spends hashing time (>= 5 ms)");
    return ($mu, $mw);
}

# Returns the median of a list of numbers.
sub median {
    my @s = sort { $a <=> $b } @_;
    return undef unless @s;
    return @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
}

# ==== assertions ====

use Test::More ();

# Checks the common headers of a handler response and the success
# envelope with STATUS; returns true when all hold.
sub is_envelope_ok {
    my ($r, $status, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = Test::More::is($r->{status}, $status, "$name: status $status")
        or Test::More::diag("body: " . substr($r->{body}, 0, 500));
    $ok &= common_headers($r, $name);
    my $j = $r->{json};
    $ok &= Test::More::ok(ref $j eq 'HASH' && JSON::PP::is_bool($j->{success})
                          && $j->{success} && defined $j->{message}
                          && !ref $j->{message} && exists $j->{data}
                          && !exists $j->{error} && !exists $j->{errors},
                          "$name: success envelope")
        or Test::More::diag("body: " . substr($r->{body}, 0, 500));
    return $ok;
}

# Checks a handler error: STATUS, error CODE, the envelope ({success:false,
# message, error}, errors only with VALIDATION_FAILED) and the common
# headers; returns true when all hold.
sub is_error {
    my ($r, $status, $code, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $j = $r->{json};
    my $ok = Test::More::is($r->{status}, $status, "$name: status $status")
        or Test::More::diag("body: " . substr($r->{body}, 0, 500));
    $ok &= Test::More::is(ref $j eq 'HASH' ? $j->{error} : undef, $code,
                          "$name: error $code");
    $ok &= common_headers($r, $name);
    my $env = ref $j eq 'HASH' && JSON::PP::is_bool($j->{success})
        && !$j->{success} && defined $j->{message} && !ref $j->{message}
        && length $j->{message} && !exists $j->{data}
        && ($code eq 'VALIDATION_FAILED'
                ? ref $j->{errors} eq 'HASH' : !exists $j->{errors});
    $ok &= Test::More::ok($env, "$name: error envelope")
        or Test::More::diag("body: " . substr($r->{body}, 0, 500));
    return $ok;
}

# Checks Content-Type and Cache-Control of a handler response.
sub common_headers {
    my ($r, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ct = $r->header('Content-Type');
    my $ok = Test::More::ok(defined $ct
                            && $ct =~ m{^application/json;\s*charset=utf-8$}i,
                            "$name: Content-Type application/json; charset=utf-8")
        or Test::More::diag('Content-Type: ' . (defined $ct ? $ct : '(none)'));
    my $cc = $r->header('Cache-Control');
    $ok &= Test::More::ok(defined $cc && $cc =~ /(?:^|,)\s*no-store\s*(?:,|$)/i,
                          "$name: Cache-Control no-store")
        or Test::More::diag('Cache-Control: ' . (defined $cc ? $cc : '(none)'));
    return $ok;
}

package AAPI::Test::Res;

# Returns the value of response header NAME (several joined by ", ").
sub header {
    my ($self, $name) = @_;
    my @v = $self->{res}->header($name);
    return @v ? join(', ', @v) : undef;
}

sub code { $_[0]{status} }

# Returns the decoded data member of the envelope (or {}).
sub data {
    my $j = $_[0]{json};
    return ref $j eq 'HASH' && ref $j->{data} eq 'HASH' ? $j->{data} : {};
}

1;
