#!/usr/bin/php-cgi -dcgi.force_redirect=0
<?php
// A legacy PHP page behind "AuthType auth-api": it only reads what Apache
// hands every CGI/PHP program.
header('Content-Type: text/plain; charset=utf-8');
foreach (['REMOTE_USER', 'AUTH_TYPE', 'AUTH_API_USER_ID', 'AUTH_API_EMAIL',
          'AUTH_API_USERNAME', 'AUTH_API_ROLE', 'AUTH_API_EMAIL_VERIFIED',
          'AUTH_API_SESSION_ID', 'AUTH_API_EXPIRES'] as $k) {
    printf("%s=%s\n", $k, $_SERVER[$k] ?? '');
}
