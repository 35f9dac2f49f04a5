<?php
// Behind AuthType auth-api, run by php-fpm through mod_proxy_fcgi
// (t/protect_fpm.t): prints a marker and every string in $_SERVER.
header('Content-Type: text/plain; charset=utf-8');
echo "PHP-OK\n";
ksort($_SERVER);
foreach ($_SERVER as $k => $v) {
    if (is_string($v)) {
        echo $k, '=', str_replace("\n", ' ', $v), "\n";
    }
}
