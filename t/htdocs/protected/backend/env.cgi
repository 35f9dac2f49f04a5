#!/bin/sh
# The proxied backend of t/protect_env.t (virtual host
# aapi_protect_backend): prints a marker and its environment, where the
# request headers it was sent appear as HTTP_*.
printf 'Content-Type: text/plain; charset=utf-8\n\n'
printf 'BACKEND-OK\n'
env | LC_ALL=C sort
