# What a process has verified for one virtual host counts for that host
# only: a token checked on the main server is refused in the protected
# areas of a virtual host with another key (aapi_hs512), however often the
# main server has seen it, and Basic credentials checked against the main
# server's database are not taken by a virtual host whose database cannot
# be reached (aapi_nodb). A virtual host with a database of its own
# (aapi_otherdb) that trusts the same signing key (it inherits the main
# server's) takes none of the main server's sessions for its own from the
# cache the processes share, and its refusal of them ends none of them
# there; one whose database cannot be reached answers 503, as its API
# does. The protected locations of t/conf/protect.conf.in are in the main
# server's configuration, so every virtual host has them.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;
use AAPI::Session qw(burst all_are);

plan tests => 5, need_module('mod_auth_api.c', 'mod_dbd.c');

# parallel requests, so that every process of the server sees them
my $N = 24;

Apache::TestRequest::module('default');
my $U = new_account();

subtest 'a token verified on the main server is refused by another key' => sub {
    my $p = '/protected/loc/hello.txt';
    my $token = $U->{access_token};

    Apache::TestRequest::module('aapi_hs512');
    my $r = bearer_at($p, $token);
    is($r->{status}, 401, 'first sight on the HS512 host: 401');
    ok(no_content($r), 'first sight on the HS512 host: none of the content');

    Apache::TestRequest::module('default');
    for my $round (1, 2) {
        all_are(200, "main server, round $round: every request 200",
                burst($N, sub { bearer_at($p, $token) }));
    }

    Apache::TestRequest::module('aapi_hs512');
    for my $round (1, 2) {
        all_are(401, "HS512 host after the main server verified it, round "
                . "$round: every request 401",
                burst($N, sub { bearer_at($p, $token) }));
    }
    $r = bearer_at($p, $token);
    ok(no_content($r), 'HS512 host: none of the content');
    Apache::TestRequest::module('default');
};

subtest 'Basic credentials checked on the main server are not taken by '
      . 'a host with another database' => sub {
    my $p = '/protected/basic/env.cgi';
    my $auth = 'Authorization: ' . basic_auth($U->{email}, $U->{password});
    my $get = sub { raw_req('GET', $p, [ $auth ]) };

    Apache::TestRequest::module('aapi_nodb');
    my $r = $get->();
    isnt($r->{status}, 200, "first sight on the host without a database: "
         . "not 200 ($r->{status})");

    Apache::TestRequest::module('default');
    for my $round (1, 2) {
        all_are(200, "main server, round $round: every request 200",
                burst($N, $get));
    }

    Apache::TestRequest::module('aapi_nodb');
    my @st = map { burst($N, $get) } 1, 2;
    ok(@st && !grep({ $_ eq '200' } @st),
       'host without a database after the main server checked them: no 200 ('
       . AAPI::Session::statuses_of(@st) . ')');
    $r = $get->();
    ok(no_content($r), 'host without a database: the CGI did not run');
    unlike($r->{body}, qr/AUTH_API_USER_ID/, 'host without a database: no identity');
    Apache::TestRequest::module('default');
};

subtest 'a token of the main server is refused by a host with another '
      . 'database, though it trusts the same key' => sub {
    my $p = '/protected/loc/hello.txt';
    my $V = new_account();    # on the main server: its session is in the
                              # shared cache as live from the login on
    my $auth = [ Authorization => "Bearer $V->{access_token}" ];

    Apache::TestRequest::module('aapi_otherdb');
    my $me = preq('GET', '/api/v1/auth/me', $auth);
    is($me->{status}, 401, "that host's API: 401");
    my $r = bearer_at($p, $V->{access_token});
    is($r->{status}, 401, 'its protected area, first sight: 401');
    ok(no_content($r), 'its protected area: none of the content');
    for my $round (1, 2) {
        all_are(401, "its protected area, round $round: every request 401",
                burst($N, sub { bearer_at($p, $V->{access_token}) }));
    }

    Apache::TestRequest::module('default');
    all_are(200, 'main server meanwhile: every request 200',
            burst($N, sub { bearer_at($p, $V->{access_token}) }));
    $me = preq('GET', '/api/v1/auth/me', $auth);
    is($me->{status}, 200, "main server's API: 200");

    # the same for Basic credentials the main server has checked
    my $basic = 'Authorization: ' . basic_auth($V->{email}, $V->{password});
    my $get = sub { raw_req('GET', '/protected/basic/env.cgi', [ $basic ]) };
    all_are(200, 'Basic on the main server: every request 200',
            burst($N, $get));
    Apache::TestRequest::module('aapi_otherdb');
    all_are(401, 'Basic on the host with another database: every request 401',
            burst($N, $get));
    Apache::TestRequest::module('default');
};

subtest "that host's refusal ends none of the main server's sessions" => sub {
    my $p = '/protected/loc/hello.txt';

    # a session whose live state the shared cache keeps for one second
    Apache::TestRequest::module('aapi_protect_shortcheck');
    my $V = new_account();
    all_are(200, 'its own host: every request 200',
            burst($N, sub { bearer_at($p, $V->{access_token}) }));
    sleep 2;    # the shared cache no longer knows the session

    # the other host asks its own database, which has no such session
    Apache::TestRequest::module('aapi_otherdb');
    all_are(401, 'the host with another database: every request 401',
            burst($N, sub { bearer_at($p, $V->{access_token}) }));

    Apache::TestRequest::module('aapi_protect_shortcheck');
    all_are(200, 'its own host afterwards: every request 200',
            burst($N, sub { bearer_at($p, $V->{access_token}) }));
    Apache::TestRequest::module('default');
    my $me = preq('GET', '/api/v1/auth/me',
                  [ Authorization => "Bearer $V->{access_token}" ]);
    is($me->{status}, 200, "the main server's API: 200");
};

subtest 'a host whose database cannot be reached answers 503 to a token '
      . 'the main server verified' => sub {
    my $p = '/protected/loc/hello.txt';
    my $V = new_account();
    my $auth = [ Authorization => "Bearer $V->{access_token}" ];

    Apache::TestRequest::module('default');
    all_are(200, 'main server: every request 200',
            burst($N, sub { bearer_at($p, $V->{access_token}) }));

    Apache::TestRequest::module('aapi_nodb');
    my $me = preq('GET', '/api/v1/auth/me', $auth);
    is($me->{status}, 503, "that host's API: 503");
    all_are(503, 'its protected area: every request 503',
            burst($N, sub { bearer_at($p, $V->{access_token}) }));
    my $r = bearer_at($p, $V->{access_token});
    ok(no_content($r), 'its protected area: none of the content');
    Apache::TestRequest::module('default');
};
