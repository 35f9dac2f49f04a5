#!/bin/sh
# Behind AuthType auth-api (t/protect*.t): prints a marker and the whole
# environment it was given, one NAME=value per line, sorted.
printf 'Content-Type: text/plain; charset=utf-8\n\n'
printf 'CGI-OK\n'
env | LC_ALL=C sort
