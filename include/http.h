/* http.h - level 5: reading JSON requests and writing JSON responses.
 * The only level below the handlers that knows HTTP status codes. */
#ifndef AAPI_HTTP_H
#define AAPI_HTTP_H

#include "aapi.h"
#include "config.h"
#include "json.h"
#include "jwt.h"

/* Sends OBJ as the JSON response with STATUS; returns OK. */
int aapi_http_send_json(request_rec *r, int status, aapi_json_t *obj);

/* Sends the success envelope with STATUS, MESSAGE and DATA; returns OK. */
int aapi_http_send_ok(request_rec *r, int status, const char *message,
                      aapi_json_t *data);

/* Sends an error envelope; ERRS may be NULL; returns DONE. */
int aapi_http_send_error(request_rec *r, int status, const char *code,
                         const char *message, const apr_array_header_t *errs);

/* Sends the error that ST stands for (422 uses ERRS); returns DONE. */
int aapi_http_send_status(request_rec *r, aapi_status_t st,
                          const apr_array_header_t *errs);

/* Sends 405 with an Allow header listing ALLOW; returns DONE. */
int aapi_http_send_not_allowed(request_rec *r, const char *allow);

/* Reads and drops the request body of an endpoint that takes none (httpd
 * would, after the answer); returns OK, or DONE/AP_FILTER_ERROR after an
 * error answer (400, or 413 past LimitRequestBody). */
int aapi_http_discard_body(request_rec *r);

/* Reads the request body as one JSON object into *OUT. A missing or empty
 * body gives an empty object when BODY_REQUIRED is 0. Returns OK, or DONE
 * after sending 400/413/415. */
int aapi_http_read_json(request_rec *r, const aapi_srv_cfg_t *c,
                        int body_required, aapi_json_t **out);

/* Cookie names. */
#define AAPI_COOKIE_ACCESS  "auth_api_access"
#define AAPI_COOKIE_REFRESH "auth_api_refresh"

/* Finds the access token of R (Authorization: Bearer, else the access cookie
 * when AuthAPITokenCookies is on), verifies it, and refuses a cookie-borne
 * unsafe request from a foreign origin; returns OK with *CLAIMS, or DONE
 * after sending 401/403. */
int aapi_http_require_access(request_rec *r, const aapi_srv_cfg_t *c,
                             aapi_claims_t *claims);

/* Returns 1 for the methods that change nothing (GET, HEAD, OPTIONS;
 * RFC 9110 9.2.1), else 0. */
int aapi_http_safe_method(request_rec *r);

/* Returns the request the client sent, that R is a subrequest or an
 * internal redirect of (R itself when it is neither). */
request_rec *aapi_http_client_request(request_rec *r);

/* Returns the value of cookie NAME of R, or NULL; also after
 * aapi_http_hide_own_cookies took it from the request's headers (for
 * the request's subrequests and internal redirects). */
const char *aapi_http_cookie(request_rec *r, const char *name);

/* Takes the module's cookies out of the Cookie headers of R, a request as
 * the client sent it (not a subrequest or an internal redirect), keeping
 * every other cookie; aapi_http_cookie still finds them. So CGI, PHP, SSI
 * and proxied backends never receive the tokens, nor log them. */
void aapi_http_hide_own_cookies(request_rec *r);

/* Returns 1 when R's Origin (or, lacking it, Referer) is the server's own
 * origin or one of AuthAPICORSOrigins. */
int aapi_http_same_origin_ok(request_rec *r, const aapi_srv_cfg_t *c);

/* Sends 403 CSRF_REJECTED; returns DONE. */
int aapi_http_send_csrf(request_rec *r);

/* Sets the access and refresh cookies of PAIR (refresh cookie Path=MOUNT). */
void aapi_http_set_token_cookies(request_rec *r, const aapi_srv_cfg_t *c,
                                 const char *access, apr_int64_t access_ttl,
                                 const char *refresh, apr_int64_t refresh_ttl,
                                 const char *mount);

/* Expires both token cookies (refresh cookie Path=MOUNT). */
void aapi_http_clear_token_cookies(request_rec *r, const aapi_srv_cfg_t *c,
                                   const char *mount);

/* Adds CORS headers for an allowed Origin; answers a preflight. Returns OK
 * when R was a preflight that has been answered, else DECLINED. */
int aapi_http_cors(request_rec *r, const aapi_srv_cfg_t *c,
                   const char *allow_methods);

/* Returns the bearer token of R's Authorization header, its length in
 * *LEN: NULL when there is none; *BAD set when the header is malformed or
 * carries two credentials. */
const char *aapi_http_bearer(request_rec *r, size_t *len, int *bad);

/* The same for H, the value of an Authorization header (NULL: none). */
const char *aapi_http_bearer_of(const char *h, size_t *len, int *bad);

#endif
