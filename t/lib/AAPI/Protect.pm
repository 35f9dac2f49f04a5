package AAPI::Protect;
# Helpers of the tests of protected content (AuthType auth-api, API.md
# section 5; configuration in t/conf/protect.conf.in, content under
# t/htdocs/protected/).
#
# Paths here are absolute (not under $AAPI::Test::MOUNT). Requests go to
# 127.0.0.1 on the port of the current Apache::Test server or virtual host,
# like those of AAPI::Test, and return an AAPI::Test::Res.
use strict;
use warnings;

use Exporter 'import';
use Apache::Test ();
use Apache::TestRequest ();
use AAPI::Test ();
use File::Spec::Functions qw(catfile);
use HTTP::Request ();
use MIME::Base64 qw(encode_base64);
use POSIX ();
use Test::More ();

our @EXPORT = qw(
    preq pget bearer_at raw_req cgi_env
    new_account fresh_token set_role set_verified fixed_account
    rfc3339 challenge set_cookies cookie_header basic_auth
    cookie_session wait_token_expired refresh_due token_cookie_line set_cookie_names
    session_refresh_hash header_has
    log_offset log_lines worker_pids bursts
    no_content login_identity_ok no_spoof
);

# The fixed account that "Require user" names in protect.conf.in.
our $FIXED_EMAIL    = 'protect-fixed@example.test';
our $FIXED_USERNAME = 'protect_fixed';

# ==== requests ====

# Sends METHOD PATH (absolute, with query) with HEADERS (a list of name =>
# value pairs; a name may repeat, a value of undef is skipped) and BODY
# (raw bytes or undef). Returns an AAPI::Test::Res.
sub preq {
    my ($method, $path, $headers, $body) = @_;
    my $req = HTTP::Request->new($method => 'http://' . AAPI::Test::hostport() . $path);
    my @h = @{ $headers || [] };
    while (my ($k, $v) = splice @h, 0, 2) {
        $req->push_header($k => $v) if defined $v;
    }
    if (defined $body) {
        $req->content($body);
        $req->header('Content-Length' => length $body);
    }
    return AAPI::Test::decode(AAPI::Test::ua()->request($req));
}

# GET PATH with the header pairs H.
sub pget {
    my ($path, @h) = @_;
    return preq('GET', $path, \@h);
}

# GET PATH with "Authorization: Bearer TOKEN" and the header pairs H.
sub bearer_at {
    my ($path, $token, @h) = @_;
    return preq('GET', $path, [ Authorization => "Bearer $token", @h ]);
}

# Sends "METHOD TARGET HTTP/1.1" with a Host header, the header LINES (list
# ref of "Name: value" strings) and BODY over a raw connection, so that the
# request target goes out exactly as given. Returns an AAPI::Test::Res.
sub raw_req {
    my ($method, $target, $lines, $body) = @_;
    my $req = "$method $target HTTP/1.1\r\nHost: " . AAPI::Test::hostport()
        . "\r\nConnection: close\r\nUser-Agent: aapi-test/1\r\n";
    $req .= "$_\r\n" for @{ $lines || [] };
    if (defined $body) {
        $req .= 'Content-Length: ' . length($body) . "\r\n";
    }
    $req .= "\r\n" . (defined $body ? $body : '');
    return AAPI::Test::raw_http($req);
}

# Returns the NAME=value lines of the body of RES (the output of env.cgi,
# env.php, env.shtml, backend/env.cgi) as a hash ref; the first line (the
# marker CGI-OK, PHP-OK, SSI-OK or BACKEND-OK) is the key _marker; the
# names that occur more than once are listed in _dups (array ref).
sub cgi_env {
    my $res = shift;
    my (%env, %n);
    my @lines = split /\r?\n/, ($res->{body} // '');
    $env{_marker} = shift(@lines) // '';
    for (@lines) {
        my ($k, $v) = /^([^=]+)=(.*)$/ or next;
        $env{$k} = $v;
        $n{$k}++;
    }
    $env{_dups} = [ sort grep { $n{$_} > 1 } keys %n ];
    return \%env;
}

# ==== accounts ====

# Registers a fresh account (with a username) on the current server and
# returns the hash of register_user plus {username, id, sid, claims}; dies
# when the registration does not give a token.
sub new_account {
    my %f = @_;
    my $u = AAPI::Test::register_user(username => AAPI::Test::uniq_username(), %f);
    die "registration failed: $u->{status} " . substr($u->{res}{body} // '', 0, 300) . "\n"
        unless $u->{status} == 201 && $u->{access_token};
    $u->{username} = $u->{fields}{username};
    $u->{id} = $u->{user}{id};
    (undef, $u->{claims}) = AAPI::Test::jwt_decode($u->{access_token});
    $u->{sid} = $u->{claims}{sid};
    return $u;
}

# Logs account U (from new_account) in again on the current server;
# returns the Res, with the tokens in its data.
sub fresh_token {
    my $u = shift;
    my $r = AAPI::Test::login_as($u->{email}, $u->{password});
    die "login failed: $r->{status} " . substr($r->{body} // '', 0, 300) . "\n"
        unless $r->{status} == 200 && $r->data->{access_token};
    return $r->data->{access_token};
}

# Sets the role of the account with address EMAIL in the database.
sub set_role {
    my ($email, $role) = @_;
    AAPI::Test::db_exec('UPDATE users SET role = ' . AAPI::Test::sql_quote($role)
                        . ' WHERE email_norm = ' . AAPI::Test::sql_quote(lc $email));
}

# Marks the address of account EMAIL verified (1) or not (0).
sub set_verified {
    my ($email, $v) = @_;
    AAPI::Test::db_exec('UPDATE users SET email_verified = ' . ($v ? 1 : 0)
                        . ' WHERE email_norm = ' . AAPI::Test::sql_quote(lc $email));
}

# Returns the account that protect.conf.in names in "Require user"
# (registered on first use, logged in afterwards), with a fresh token.
sub fixed_account {
    Apache::TestRequest::module('default');
    my $pw = AAPI::Test::strong_password();
    my $u = AAPI::Test::register_user(email => $FIXED_EMAIL, username => $FIXED_USERNAME,
                                      password => $pw);
    if ($u->{status} != 201) {
        my $r = AAPI::Test::login_as($FIXED_EMAIL, $pw);
        die "fixed account: $r->{status} $r->{body}\n" unless $r->{status} == 200;
        $u->{access_token} = $r->data->{access_token};
        $u->{user} = $r->data->{user};
    }
    $u->{username} = $FIXED_USERNAME;
    $u->{id} = $u->{user}{id};
    return $u;
}

# ==== checks ====

# Returns the RFC 3339 UTC form of the epoch seconds T.
sub rfc3339 { POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime shift) }

# Returns the WWW-Authenticate header of RES, or ''.
sub challenge { $_[0]->header('WWW-Authenticate') // '' }

# Checks that RES is the CGI's 200 for a password login (Basic or form) of
# account U typed as LOGIN, with AUTH_TYPE TYPE: REMOTE_USER as typed and
# the account's AUTH_API_* values. Returns the CGI's environment.
sub login_identity_ok {
    my ($r, $u, $login, $type) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is($r->{status}, 200, "$login: 200")
        or Test::More::diag(substr($r->{body}, 0, 300));
    my $env = cgi_env($r);
    Test::More::is($env->{_marker}, 'CGI-OK', "$login: the CGI ran");
    Test::More::is($env->{REMOTE_USER}, $login, "$login: REMOTE_USER is the name typed");
    Test::More::is($env->{AUTH_TYPE}, $type, "$login: AUTH_TYPE $type");
    my %want = (AUTH_API_USER_ID => $u->{id}, AUTH_API_EMAIL => $u->{email},
                AUTH_API_USERNAME => $u->{username}, AUTH_API_ROLE => 'user',
                AUTH_API_EMAIL_VERIFIED => 'false');
    Test::More::is($env->{$_}, $want{$_}, "$login: $_") for sort keys %want;
    return $env;
}

# Returns true when RES shows none of the protected content (no marker of
# a static file, index page, CGI, PHP or SSI page).
sub no_content {
    my $res = shift;
    return ($res->{body} // '') !~ /protected-(?:static|index)-marker|^(?:CGI|PHP|SSI|BACKEND)-OK$/m;
}

# ==== cookies ====

# Returns the Set-Cookie headers of RES as {name => {value, attr => {lc
# name => value}}}; the last one of a name wins.
sub set_cookies {
    my $res = shift;
    my %c;
    for my $sc ($res->{res}->header('Set-Cookie')) {
        my ($nv, @attrs) = split /;\s*/, $sc;
        my ($n, $v) = split /=/, $nv, 2;
        my %a = map { my ($k, $x) = split /=/, $_, 2; (lc $k => $x // '') } @attrs;
        $c{$n} = { value => $v, attr => \%a };
    }
    return \%c;
}

# Returns the value of a Cookie header for the name => value pairs.
sub cookie_header {
    my %c = @_;
    return join '; ', map { "$_=$c{$_}" } sort keys %c;
}

# Logs account U in on the current server (a virtual host with
# AuthAPITokenCookies On) and returns {access, refresh, sid, res}: the two
# tokens as the cookies set them, and the session id of the access token.
sub cookie_session {
    my $u = shift;
    my $r = AAPI::Test::login_as($u->{email}, $u->{password});
    die "login: $r->{status} $r->{body}\n" unless $r->{status} == 200;
    my $c = set_cookies($r);
    my $access = ($c->{auth_api_access} || {})->{value};
    my $refresh = ($c->{auth_api_refresh} || {})->{value};
    die "login set no token cookies\n" unless $access && $refresh;
    my (undef, $claims) = AAPI::Test::jwt_decode($access);
    return { access => $access, refresh => $refresh, sid => $claims->{sid}, res => $r };
}

# Waits (at most 10 s) until the access token TOK has expired, with 0.2 s
# to spare.
sub wait_token_expired {
    my $tok = shift;
    my (undef, $c) = AAPI::Test::jwt_decode($tok);
    my $deadline = time + 10;
    sleep 1 while time <= $c->{exp} && time < $deadline;
    select undef, undef, undef, 0.2;
}

# Signs U in with cookies; returns the session (as cookie_session) and the
# "Cookie: ..." line a browser due for a silent refresh sends: the refresh
# cookie, and, when EXPIRED, the access cookie after it has expired.
sub refresh_due {
    my ($u, $expired) = @_;
    my $s = cookie_session($u);
    my %c = (refresh => $s->{refresh});
    if ($expired) {
        wait_token_expired($s->{access});
        $c{access} = $s->{access};
    }
    return ($s, token_cookie_line(%c));
}

# Returns the "Cookie: ..." header line with the module's cookies for the
# pairs access => TOKEN and refresh => TOKEN (either may be left out).
sub token_cookie_line {
    my %c = @_;
    return 'Cookie: ' . cookie_header(map { ("auth_api_$_" => $c{$_}) }
                                      grep { defined $c{$_} } keys %c);
}

# Returns the cookie names of every Set-Cookie header of RES, in order
# (a name set twice appears twice).
sub set_cookie_names {
    my $res = shift;
    return map { /^\s*([^=;\s]+)/ ? $1 : '' } $res->{res}->header('Set-Cookie');
}

# Returns the refresh_hash stored for session SID (lower case), or undef.
sub session_refresh_hash {
    my $sid = shift;
    my $h = AAPI::Test::db_query('SELECT refresh_hash FROM sessions WHERE id = '
                                 . AAPI::Test::sql_quote($sid));
    return defined $h ? lc $h : undef;
}

# Returns true when header NAME of RES (all its fields) lists the token
# TOKEN (case-insensitive, as a comma-separated element, possibly with
# parameters, as in Cache-Control and Vary).
sub header_has {
    my ($res, $name, $token) = @_;
    my @v = $res->{res}->header($name);
    return scalar grep { /(?:^|,)\s*\Q$token\E\s*(?:[=,]|$)/i } @v;
}

# Returns the Authorization header value for Basic USER:PASSWORD.
sub basic_auth {
    my ($user, $pw) = @_;
    return 'Basic ' . encode_base64("$user:$pw", '');
}

# ==== processes ====

# Returns the path of the access log of the virtual host
# aapi_protect_revoke ("%P %>s %m %U" per line).
sub revoke_log {
    return catfile(Apache::Test::vars('t_logs'), 'protect_revoke_log');
}

# Returns the current size of the revocation log (0 when absent).
sub log_offset {
    my $f = revoke_log();
    return -e $f ? -s $f : 0;
}

# Returns the lines of the revocation log after byte OFFSET, as [pid,
# status, method, path] array refs; waits (at most 5 s) until at least
# WANT lines are there, since the log is written after the response.
sub log_lines {
    my ($offset, $want) = @_;
    my $f = revoke_log();
    my @rows;
    my $deadline = time + 5;
    while (1) {
        @rows = ();
        if (open my $fh, '<', $f) {
            seek $fh, $offset, 0;
            while (<$fh>) {
                chomp;
                my @x = split / /, $_, 4;
                push @rows, \@x if @x == 4;
            }
        }
        last if @rows >= ($want || 0) || time >= $deadline;
        select undef, undef, undef, 0.1;
    }
    return @rows;
}

# Returns the pids of the server's children that answer requests: the
# children of the parent process, less mod_cgid's daemon (under a threaded
# MPM the request processes are the ones with more than one thread).
sub worker_pids {
    my $pidfile = catfile(Apache::Test::vars('t_logs'), 'httpd.pid');
    open my $fh, '<', $pidfile or return ();
    my $parent = <$fh>;
    close $fh;
    chomp $parent;
    my $threaded = 0;
    my (@kids, %threads);
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $s, '<', $stat or next;
        my $line = <$s> // '';
        close $s;
        my ($pid, $rest) = $line =~ /^(\d+) \(.*\) (.*)$/ or next;
        my (undef, $ppid) = split / /, $rest;
        next unless $ppid == $parent;
        (my $st = $stat) =~ s/stat$/status/;
        my $n = 1;
        if (open my $t, '<', $st) {
            while (<$t>) { $n = $1 if /^Threads:\s+(\d+)/ }
            close $t;
        }
        $threads{$pid} = $n;
        $threaded = 1 if $n > 1;
        push @kids, $pid;
    }
    return sort { $a <=> $b } grep { !$threaded || $threads{$_} > 1 } @kids;
}

# Sends bursts of N (default 32) parallel requests, each CODE->() returning
# a status, to the virtual host aapi_protect_revoke, whose access log names
# the process that answered, until every process of WANT (array ref of
# pids; default: every request-serving child now) has answered a request
# for PATH, at most MAX (default 6) bursts. Processes that have exited in
# the meantime are no longer waited for. Returns (the statuses, {pid => 1}
# of the processes that answered, the pids of WANT still alive).
sub bursts {
    my %o = @_;
    my $n = $o{n} || 32;
    my @want = $o{want} ? @{ $o{want} } : worker_pids();
    my (@st, %seen);
    for my $i (1 .. ($o{max} || 6)) {
        my $off = log_offset();
        my @got = AAPI::Test::parallel($n, $o{code}, 60);
        push @st, map { ref $_ ? 'error' : $_ } @got;
        $seen{ $_->[0] } = 1 for grep { $_->[3] eq $o{path} } log_lines($off, scalar @got);
        @want = grep { kill 0, $_ } @want;
        last unless grep { !$seen{$_} } @want;
        # under prefork a process may be held by an idle keep-alive
        # connection of an earlier client until KeepAliveTimeout (5 s)
        select(undef, undef, undef, 1.5) if $i >= 2;
    }
    return (\@st, \%seen, \@want);
}

# Checks that the CGI environment ENV has no HTTP_X_AUTH_API_* variable.
sub no_spoof {
    my ($env, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my @got = grep { /^HTTP_X_AUTH_API/ } sort keys %$env;
    Test::More::is("@got", '', "$name: no HTTP_X_AUTH_API_* variable")
        or Test::More::diag(join "\n", map { "$_=$env->{$_}" } @got);
}

1;
