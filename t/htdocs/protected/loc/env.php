#!/usr/bin/php-cgi -dcgi.force_redirect=0
<?php
// Behind AuthType auth-api (t/protect_env.t): prints a marker and every
// string in $_SERVER, one NAME=value per line, sorted.
header('Content-Type: text/plain; charset=utf-8');
echo "PHP-OK\n";
ksort($_SERVER);
foreach ($_SERVER as $k => $v) {
    if (is_string($v)) {
        echo $k, '=', str_replace("\n", ' ', $v), "\n";
    }
}
