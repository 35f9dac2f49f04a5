# AuthFormProvider auth-api (API.md section 5): mod_auth_form checks the
# email or the username and the password of a login form against the same
# accounts as the API; the program behind it gets the identity; the
# session cookie mod_auth_form then keeps is refused once the password has
# changed. Configuration: /protected/form in t/conf/protect.conf.in.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use AAPI::Test;
use AAPI::Protect;

plan tests => 4, need_module('mod_auth_api.c', 'mod_dbd.c');

Apache::TestRequest::module('default');

my $P = '/protected/form/env.cgi';
my $U = new_account();

# Returns the form body for LOGIN and PW, url-encoded.
sub form {
    my ($login, $pw) = @_;
    my $enc = sub { (my $v = shift) =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge; $v };
    return 'httpd_username=' . $enc->($login) . '&httpd_password=' . $enc->($pw);
}

# POSTs the login form for LOGIN and PW to the protected CGI.
sub form_post {
    my ($login, $pw) = @_;
    return raw_req('POST', $P, ['Content-Type: application/x-www-form-urlencoded'],
                   form($login, $pw));
}

# Returns the Cookie header value of the session cookie RES set, or undef.
sub session_cookie {
    my $c = set_cookies(shift)->{aapi_form_session} or return undef;
    return "aapi_form_session=$c->{value}";
}

subtest 'without a login: refused' => sub {
    my $r = pget($P);
    is($r->{status}, 401, 'GET without a session: 401');
    ok(no_content($r), 'none of the content');
};

subtest 'a form login with the email or the username' => sub {
    for my $login ($U->{email}, $U->{username}) {
        my $r = form_post($login, $U->{password});
        login_identity_ok($r, $U, $login, 'form');
        my $cookie = session_cookie($r);
        ok($cookie, "$login: a session cookie is set");
        $r = raw_req('GET', $P, ["Cookie: $cookie"]);
        is($r->{status}, 200, "$login: GET with the session cookie: 200");
        is(cgi_env($r)->{AUTH_API_USER_ID}, $U->{id}, "$login: the identity again");
    }
};

subtest 'a wrong password or an unknown account: refused' => sub {
    for my $case ([$U->{email}, 'Wr0ng!Password-x', 'wrong password'],
                  ['nobody-' . AAPI::Test::rand_hex(8) . '@example.test', $U->{password}, 'unknown email'],
                  ['nobody_' . AAPI::Test::rand_hex(6), $U->{password}, 'unknown username'],
                  [" $U->{email}", $U->{password}, 'the email with a space before it']) {
        my ($login, $pw, $name) = @$case;
        my $r = form_post($login, $pw);
        is($r->{status}, 401, "$name: 401");
        ok(no_content($r), "$name: none of the content");
        ok(!session_cookie($r), "$name: no session cookie");
    }
};

subtest 'a password change refuses the kept session at once' => sub {
    my $u = new_account();
    my $r = form_post($u->{email}, $u->{password});
    is($r->{status}, 200, 'form login: 200');
    my $cookie = session_cookie($r);
    ok($cookie, 'a session cookie');
    is(raw_req('GET', $P, ["Cookie: $cookie"])->{status}, 200, 'the session cookie works');
    my $new = 'N3w!' . AAPI::Test::strong_password();
    $r = post_json('/change-password', { current_password => $u->{password},
                                         new_password => $new },
                   Authorization => "Bearer $u->{access_token}");
    is($r->{status}, 200, 'POST /change-password') or diag($r->{body});
    $r = raw_req('GET', $P, ["Cookie: $cookie"]);
    is($r->{status}, 401, 'the session cookie with the old password: 401');
    ok(no_content($r), 'none of the content');
    is(form_post($u->{email}, $new)->{status}, 200, 'the new password: 200');
};
