# What a process has verified for one virtual host counts for that host
# only: a token checked on the main server is refused in the protected
# areas of a virtual host with another key (aapi_hs512), however often the
# main server has seen it, and Basic credentials checked against the main
# server's database are not taken by a virtual host whose database cannot
# be reached (aapi_nodb). The protected locations of t/conf/protect.conf.in
# are in the main server's configuration, so every virtual host has them.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;
use AAPI::Session qw(burst all_are);

plan tests => 2, need_module('mod_auth_api.c', 'mod_dbd.c');

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
