#!/bin/sh
# Behind AuthType auth-api (t/protect_cookies.t): answers with the request
# body exactly as it arrived, and its length in a header.
printf 'Content-Type: application/octet-stream\n'
printf 'X-Body-Length: %s\n\n' "${CONTENT_LENGTH:-0}"
if [ -n "${CONTENT_LENGTH:-}" ] && [ "$CONTENT_LENGTH" -gt 0 ]; then
    head -c "$CONTENT_LENGTH"
fi
