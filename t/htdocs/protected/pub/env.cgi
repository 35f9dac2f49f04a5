#!/bin/sh
# Outside any protection, on the servers of t/protect*.t: prints a marker
# and the whole environment it was given, one NAME=value per line, sorted.
printf 'Content-Type: text/plain; charset=utf-8\n\n'
printf 'PUBLIC-CGI-OK\n'
env | LC_ALL=C sort
