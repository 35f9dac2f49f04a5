#!/bin/sh
# A CGI program behind "AuthType auth-api": prints what it was given.
printf 'Content-Type: text/plain; charset=utf-8\n\n'
env | grep -E '^(REMOTE_USER|AUTH_TYPE|AUTH_API_[A-Z_]+|HTTP_X_AUTH_API_[A-Z_]+)=' | sort
