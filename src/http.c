/*
 * http.c - level 5: the HTTP side of the JSON API: a capped body read, the
 * strict JSON parse, the response envelope, the mapping of store and token
 * statuses to HTTP status codes and error codes.
 */
#include "aapi.h"
#include "http.h"
#include "tokens.h"
#include "util.h"
#include "validate.h"

#include "apr_lib.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#include <string.h>
#include <strings.h>

#define RETRY_AFTER_UNAVAILABLE "5"

/* ==== responses ==== */

int aapi_http_send_json(request_rec *r, int status, aapi_json_t *obj)
{
    char *body = aapi_json_dump(r->pool, obj);
    apr_size_t len;

    if (!body) {
        body = "{\"success\":false,\"message\":\"Internal server error\","
               "\"error\":\"INTERNAL_ERROR\"}";
        status = HTTP_INTERNAL_SERVER_ERROR;
    }
    len = strlen(body);
    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}

int aapi_http_send_ok(request_rec *r, int status, const char *message,
                      aapi_json_t *data)
{
    return aapi_http_send_json(r, status,
                               aapi_json_envelope_ok(r->pool, message, data));
}

int aapi_http_send_error(request_rec *r, int status, const char *code,
                         const char *message, const apr_array_header_t *errs)
{
    aapi_http_send_json(r, status,
                        aapi_json_envelope_err(r->pool, message, code, errs));
    return DONE;
}

int aapi_http_send_status(request_rec *r, aapi_status_t st,
                          const apr_array_header_t *errs)
{
    switch (st) {
    case AAPI_OK:
        return OK;
    case AAPI_UNAVAILABLE:
        apr_table_setn(r->err_headers_out, "Retry-After",
                       RETRY_AFTER_UNAVAILABLE);
        return aapi_http_send_error(r, HTTP_SERVICE_UNAVAILABLE,
                                    "SERVICE_UNAVAILABLE",
                                    "Service temporarily unavailable", NULL);
    case AAPI_NOT_FOUND:
        return aapi_http_send_error(r, HTTP_NOT_FOUND, "NOT_FOUND",
                                    "Not found", NULL);
    case AAPI_INVALID_JSON:
        return aapi_http_send_error(r, HTTP_BAD_REQUEST, "INVALID_JSON",
                                    "Request body must be one JSON object",
                                    NULL);
    case AAPI_INVALID_TOKEN:
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       "Bearer error=\"invalid_token\"");
        return aapi_http_send_error(r, HTTP_UNAUTHORIZED, "INVALID_TOKEN",
                                    "Invalid or expired token", NULL);
    case AAPI_INVALID_CREDENTIALS:
        return aapi_http_send_error(r, HTTP_UNAUTHORIZED,
                                    "INVALID_CREDENTIALS",
                                    "Invalid credentials", NULL);
    case AAPI_EMAIL_TAKEN:
        return aapi_http_send_error(r, HTTP_CONFLICT, "EMAIL_TAKEN",
                                    "Email is already registered", NULL);
    case AAPI_USERNAME_TAKEN:
        return aapi_http_send_error(r, HTTP_CONFLICT, "USERNAME_TAKEN",
                                    "Username is already taken", NULL);
    case AAPI_CONFLICT:
        return aapi_http_send_error(r, HTTP_CONFLICT, "CONFLICT",
                                    "Conflicting change, try again", NULL);
    case AAPI_VALIDATION:
        return aapi_http_send_error(r, HTTP_UNPROCESSABLE_ENTITY,
                                    "VALIDATION_FAILED",
                                    aapi_errors_sentence(r->pool, errs),
                                    errs);
    case AAPI_INTERNAL:
    default:
        return aapi_http_send_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                    "INTERNAL_ERROR", "Internal server error",
                                    NULL);
    }
}

int aapi_http_send_not_allowed(request_rec *r, const char *allow)
{
    apr_table_setn(r->err_headers_out, "Allow", allow);
    return aapi_http_send_error(r, HTTP_METHOD_NOT_ALLOWED,
                                "METHOD_NOT_ALLOWED", "Method not allowed",
                                NULL);
}

/* ==== request bodies ==== */

/* Returns 1 when the Content-Type value CT is JSON in UTF-8. */
static int is_json_type(const char *ct)
{
    const char *semi, *cs;
    size_t len;

    while (*ct == ' ') ct++;
    semi = strchr(ct, ';');
    len = semi ? (size_t)(semi - ct) : strlen(ct);
    while (len > 0 && ct[len - 1] == ' ') len--;
    if (!(len == 16 && strncasecmp(ct, "application/json", 16) == 0)) {
        return 0;
    }
    /* a charset, when given, must be UTF-8 */
    cs = semi ? ap_strcasestr(semi, "charset=") : NULL;
    if (cs) {
        cs += 8;
        if (*cs == '"') cs++;
        if (strncasecmp(cs, "utf-8", 5) != 0 && strncasecmp(cs, "utf8", 4) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Sends 413 and makes sure the rest of the body is not read. */
static int too_large(request_rec *r)
{
    r->connection->keepalive = AP_CONN_CLOSE;
    return aapi_http_send_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                                "PAYLOAD_TOO_LARGE",
                                "Request body is too large", NULL);
}

int aapi_http_discard_body(request_rec *r)
{
    int rc = ap_discard_request_body(r);

    if (rc == OK || rc == AP_FILTER_ERROR) {
        return rc;            /* AP_FILTER_ERROR: httpd's answer is sent */
    }
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return too_large(r);
    }
    r->connection->keepalive = AP_CONN_CLOSE;
    return aapi_http_send_error(r, HTTP_BAD_REQUEST, "INVALID_JSON",
                                "Request body could not be read", NULL);
}

int aapi_http_read_json(request_rec *r, const aapi_srv_cfg_t *c,
                        int body_required, aapi_json_t **out)
{
    apr_off_t max = aapi_cfg_max_body(c);
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    const char *te = apr_table_get(r->headers_in, "Transfer-Encoding");
    int has_body = te != NULL || (cl && strcmp(cl, "0") != 0);
    char *buf;
    apr_size_t got = 0;
    long n;

    if (has_body && (!ct || !is_json_type(ct))) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return aapi_http_send_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                    "UNSUPPORTED_MEDIA_TYPE",
                                    "Content-Type must be application/json",
                                    NULL);
    }
    if (cl) {
        apr_off_t declared;
        char *end = NULL;
        /* a malformed length is left to ap_setup_client_block to refuse */
        if (apr_strtoff(&declared, cl, &end, 10) == APR_SUCCESS && end
            && *end == '\0' && declared > max) {
            return too_large(r);
        }
    }
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return aapi_http_send_error(r, HTTP_BAD_REQUEST, "INVALID_JSON",
                                    "Request body could not be read", NULL);
    }
    buf = apr_palloc(r->pool, (apr_size_t)max + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + got,
                                        (apr_size_t)max + 1 - got)) > 0) {
            got += (apr_size_t)n;
            if (got > (apr_size_t)max) {
                return too_large(r);
            }
        }
        if (n < 0) {
            r->connection->keepalive = AP_CONN_CLOSE;
            return aapi_http_send_error(r, HTTP_BAD_REQUEST, "INVALID_JSON",
                                        "Request body could not be read",
                                        NULL);
        }
    }
    if (got == 0) {
        if (body_required) {
            return aapi_http_send_status(r, AAPI_INVALID_JSON, NULL);
        }
        *out = aapi_json_object(r->pool);
        return OK;
    }
    if (aapi_json_parse_object(r->pool, buf, got, out) != AAPI_OK) {
        return aapi_http_send_status(r, AAPI_INVALID_JSON, NULL);
    }
    return OK;
}

/* ==== access tokens ==== */

int aapi_http_safe_method(request_rec *r)
{
    return r->method_number == M_GET || r->method_number == M_OPTIONS
           || r->header_only;
}

const char *aapi_http_bearer(request_rec *r, size_t *len, int *bad)
{
    return aapi_http_bearer_of(apr_table_get(r->headers_in, "Authorization"),
                               len, bad);
}

const char *aapi_http_bearer_of(const char *h, size_t *len, int *bad)
{
    /* "Bearer " without regard to case (RFC 9110 11.1), read as one word
     * (this runs for every protected request): its six letters ORed with
     * 0x20 (only that letter in either case gives its lower case), the
     * space exactly, the eighth byte (the token's first) left out */
    static const char lower[8] = { 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0, 0 };
    static const char keep[8] = { -1, -1, -1, -1, -1, -1, -1, 0 };
    static const char scheme[8] = "bearer ";
    size_t n, at = 7;

    *bad = 0;
    if (!h) {
        return NULL;
    }
    n = strlen(h);
    if (n < 8) {                /* not even "Bearer " and one byte */
        *bad = 1;
        return NULL;
    }
    if (((aapi_word_at(h) | aapi_word_at(lower)) & aapi_word_at(keep))
        != aapi_word_at(scheme)) {
        *bad = 1;
        return NULL;
    }
    while (h[at] == ' ') at++;
    /* the rest must be exactly one token: a second credential, a second
     * header joined with a comma, or anything after the token makes it fail
     * the strict token check (an exact match with a token verified before,
     * or the JWS syntax of jwt.c) */
    n -= at;
    if (n == 0 || n > AAPI_MAX_TOKEN_LEN) {
        *bad = 1;
        return NULL;
    }
    *len = n;
    return h + at;
}

int aapi_http_require_access(request_rec *r, const aapi_srv_cfg_t *c,
                             aapi_claims_t *claims)
{
    int bad = 0, from_cookie = 0;
    const char *why = NULL;
    size_t len;
    const char *tok = aapi_http_bearer(r, &len, &bad);

    if (!tok && !bad && aapi_cfg_token_cookies(c)
        && (tok = aapi_http_cookie(r, AAPI_COOKIE_ACCESS))) {
        from_cookie = 1;
        if (!*tok || strlen(tok) > AAPI_MAX_TOKEN_LEN) {
            bad = 1;
        }
    }
    if (from_cookie && !aapi_http_safe_method(r)
        && !aapi_http_same_origin_ok(r, c)) {
        return aapi_http_send_csrf(r);
    }
    if (!tok && !bad) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer");
        return aapi_http_send_error(r, HTTP_UNAUTHORIZED, "INVALID_TOKEN",
                                    "Authentication required", NULL);
    }
    if (bad) {
        why = "malformed Authorization header";
    }
    else if (aapi_tokens_verify_access(r->pool, c, tok, claims, &why)
             == AAPI_OK) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0201)
                  "access token refused: %s", why);
    return aapi_http_send_status(r, AAPI_INVALID_TOKEN, NULL);
}

/* ==== cookies, CSRF, CORS ==== */

/* The module's cookies of a request from which aapi_http_hide_own_cookies
 * took them, kept in the pool of the request the client sent. */
typedef struct {
    const char *access, *refresh;
} own_cookies_t;

#define OWN_COOKIES_KEY "auth_api:own-cookies"

request_rec *aapi_http_client_request(request_rec *r)
{
    while (r->main || r->prev) {
        r = r->main ? r->main : r->prev;
    }
    return r;
}

/* One NAME=VALUE pair of a Cookie header, white space around it and
 * around the name left out; VALUE is NULL for a pair without '='. */
typedef struct {
    const char *start, *end;
    size_t nlen;
    const char *value;
    size_t vlen;
} cookie_pair_t;

/* Reads the next pair of the Cookie header text at *CUR into *P and moves
 * *CUR past it; returns 0 at the end of the text. */
static int next_cookie_pair(const char **cur, cookie_pair_t *p)
{
    const char *c = *cur, *eq;

    while (*c == ' ' || *c == '\t' || *c == ';') {
        c++;
    }
    if (!*c) {
        *cur = c;
        return 0;
    }
    p->start = c;
    while (*c && *c != ';') {
        c++;
    }
    *cur = c;
    p->end = c;
    while (p->end > p->start && (p->end[-1] == ' ' || p->end[-1] == '\t')) {
        p->end--;
    }
    eq = memchr(p->start, '=', (size_t)(p->end - p->start));
    p->nlen = (size_t)((eq ? eq : p->end) - p->start);
    while (p->nlen && (p->start[p->nlen - 1] == ' '
                       || p->start[p->nlen - 1] == '\t')) {
        p->nlen--;
    }
    p->value = eq ? eq + 1 : NULL;
    p->vlen = eq ? (size_t)(p->end - eq - 1) : 0;
    return 1;
}

/* Returns 1 when pair P is named NAME (NLEN bytes) and has a value. */
static int cookie_named(const cookie_pair_t *p, const char *name,
                        size_t nlen)
{
    return p->value && p->nlen == nlen && !memcmp(p->start, name, nlen);
}

/* What one of the module's cookie names was sent with: nothing, one value
 * (sent once, or several times alike), or different values, which leave
 * the credential ambiguous: then none counts. */
typedef struct {
    const char *value;
    int state;                     /* 0 none, 1 one value, 2 ambiguous */
} cookie_seen_t;

/* Notes value V (VLEN bytes) of a pair, copied from P, in *SEEN. */
static void note_cookie(apr_pool_t *p, cookie_seen_t *seen, const char *v,
                        size_t vlen)
{
    if (seen->state == 0) {
        seen->value = apr_pstrmemdup(p, v, vlen);
        seen->state = 1;
    }
    else if (seen->state == 1 && (strlen(seen->value) != vlen
                                  || memcmp(seen->value, v, vlen) != 0)) {
        seen->value = NULL;
        seen->state = 2;
    }
}

/* Looks for one cookie name in every Cookie header (apr_table_do). */
typedef struct {
    apr_pool_t *p;
    const char *name;
    size_t nlen;
    cookie_seen_t seen;
} cookie_find_t;

static int find_cookie(void *data, const char *key, const char *value)
{
    cookie_find_t *f = data;
    cookie_pair_t pair;

    while (next_cookie_pair(&value, &pair)) {
        if (cookie_named(&pair, f->name, f->nlen)) {
            note_cookie(f->p, &f->seen, pair.value, pair.vlen);
        }
    }
    return 1;
}

const char *aapi_http_cookie(request_rec *r, const char *name)
{
    cookie_find_t f;
    void *kept = NULL;

    apr_pool_userdata_get(&kept, OWN_COOKIES_KEY,
                          aapi_http_client_request(r)->pool);
    if (kept) {
        const own_cookies_t *own = kept;
        return !strcmp(name, AAPI_COOKIE_ACCESS) ? own->access
               : !strcmp(name, AAPI_COOKIE_REFRESH) ? own->refresh : NULL;
    }
    /* read here rather than with ap_cookie_read, so that the module's
     * cookies are read the same way everywhere (see sift_cookie_header)
     * and a cookie sent twice is not an error-level line per request */
    memset(&f, 0, sizeof(f));
    f.p = r->pool;
    f.name = name;
    f.nlen = strlen(name);
    apr_table_do(find_cookie, &f, r->headers_in, "Cookie", NULL);
    if (f.seen.state == 2) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0203)
                      "cookie %s sent more than once with different values: "
                      "none is used", name);
    }
    return f.seen.value;
}

/* Gathers what hide_own_cookies keeps: every pair of every Cookie header
 * but the module's, whose values it notes as aapi_http_cookie reads them
 * (none for a name sent with different values). */
typedef struct {
    apr_pool_t *p;
    char *kept;                    /* the other pairs, "; " between them */
    apr_size_t len;                /* bytes in KEPT */
    cookie_seen_t access, refresh;
    int changed;                   /* a pair of the module's was found */
} cookie_sift_t;

static int sift_cookie_header(void *data, const char *key, const char *value)
{
    cookie_sift_t *s = data;
    cookie_pair_t pair;

    while (next_cookie_pair(&value, &pair)) {
        if (cookie_named(&pair, AAPI_COOKIE_ACCESS,
                         sizeof(AAPI_COOKIE_ACCESS) - 1)) {
            note_cookie(s->p, &s->access, pair.value, pair.vlen);
            s->changed = 1;
        }
        else if (cookie_named(&pair, AAPI_COOKIE_REFRESH,
                              sizeof(AAPI_COOKIE_REFRESH) - 1)) {
            note_cookie(s->p, &s->refresh, pair.value, pair.vlen);
            s->changed = 1;
        }
        else {
            if (s->len) {
                memcpy(s->kept + s->len, "; ", 2);
                s->len += 2;
            }
            memcpy(s->kept + s->len, pair.start,
                   (size_t)(pair.end - pair.start));
            s->len += (apr_size_t)(pair.end - pair.start);
        }
    }
    return 1;
}

/* Adds to *DATA (an apr_size_t) room for what sift_cookie_header keeps of
 * VALUE: each pair kept takes at most its bytes and a "; ", that is at
 * most twice the bytes it had with its ';'. */
static int cookie_room(void *data, const char *key, const char *value)
{
    *(apr_size_t *)data += 2 * strlen(value) + 2;
    return 1;
}

void aapi_http_hide_own_cookies(request_rec *r)
{
    cookie_sift_t s;
    own_cookies_t *own;
    apr_size_t room = 1;

    if (r->main || r->prev || !apr_table_get(r->headers_in, "Cookie")) {
        return;
    }
    memset(&s, 0, sizeof(s));
    s.p = r->pool;
    /* one buffer for the pairs kept: joining them one by one would copy
     * the header once per pair */
    apr_table_do(cookie_room, &room, r->headers_in, "Cookie", NULL);
    s.kept = apr_palloc(r->pool, room);
    apr_table_do(sift_cookie_header, &s, r->headers_in, "Cookie", NULL);
    if (!s.changed) {
        return;
    }
    own = apr_palloc(r->pool, sizeof(*own));
    own->access = s.access.value;
    own->refresh = s.refresh.value;
    apr_pool_userdata_setn(own, OWN_COOKIES_KEY, NULL, r->pool);
    apr_table_unset(r->headers_in, "Cookie");
    if (s.len) {
        s.kept[s.len] = '\0';
        apr_table_setn(r->headers_in, "Cookie", s.kept);
    }
}

/* Returns "scheme://host[:port]" of URL, from P, or NULL. */
static const char *origin_of(apr_pool_t *p, const char *url)
{
    const char *host = ap_strstr_c(url, "://");
    const char *end;

    if (!host) {
        return NULL;
    }
    end = host + 3 + strcspn(host + 3, "/?#");
    return apr_pstrmemdup(p, url, (apr_size_t)(end - url));
}

int aapi_http_same_origin_ok(request_rec *r, const aapi_srv_cfg_t *c)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *own = ap_construct_url(r->pool, "", r);
    const char *default_port;

    if (!origin || !*origin) {
        const char *ref = apr_table_get(r->headers_in, "Referer");
        origin = ref ? origin_of(r->pool, ref) : NULL;
    }
    if (!origin || !strcasecmp(origin, "null")) {
        return 0;
    }
    if (!strcasecmp(origin, own) || aapi_cfg_origin_allowed(c, origin)) {
        return 1;
    }
    /* the same origin spelt with its default port */
    default_port = !strncasecmp(own, "https://", 8) ? ":443" : ":80";
    return !strcasecmp(apr_pstrcat(r->pool, origin, default_port, NULL), own)
           || !strcasecmp(origin, apr_pstrcat(r->pool, own, default_port,
                                              NULL));
}

int aapi_http_send_csrf(request_rec *r)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AAPI_LOGNO(0202)
                  "cookie-authenticated %s refused: origin not allowed",
                  r->method);
    return aapi_http_send_error(r, HTTP_FORBIDDEN, "CSRF_REJECTED",
                                "Request origin not allowed", NULL);
}

/* Adds one Set-Cookie header. */
static void set_cookie(request_rec *r, const aapi_srv_cfg_t *c,
                       const char *name, const char *value, const char *path,
                       apr_int64_t max_age)
{
    const char *samesite = aapi_cfg_cookie_samesite(c);
    int secure = aapi_cfg_cookie_secure(c) || !strcmp(samesite, "None");

    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_psprintf(r->pool, "%s=%s; Path=%s; Max-Age=%"
                                APR_INT64_T_FMT "; HttpOnly%s; SameSite=%s",
                                name, value, path, max_age,
                                secure ? "; Secure" : "", samesite));
}

void aapi_http_set_token_cookies(request_rec *r, const aapi_srv_cfg_t *c,
                                 const char *access, apr_int64_t access_ttl,
                                 const char *refresh, apr_int64_t refresh_ttl,
                                 const char *mount)
{
    if (access) {
        set_cookie(r, c, AAPI_COOKIE_ACCESS, access, "/", access_ttl);
    }
    if (refresh) {
        set_cookie(r, c, AAPI_COOKIE_REFRESH, refresh, mount, refresh_ttl);
    }
}

void aapi_http_clear_token_cookies(request_rec *r, const aapi_srv_cfg_t *c,
                                   const char *mount)
{
    set_cookie(r, c, AAPI_COOKIE_ACCESS, "", "/", 0);
    set_cookie(r, c, AAPI_COOKIE_REFRESH, "", mount, 0);
}

int aapi_http_cors(request_rec *r, const aapi_srv_cfg_t *c,
                   const char *allow_methods)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    int preflight = r->method_number == M_OPTIONS
                    && apr_table_get(r->headers_in,
                                     "Access-Control-Request-Method");

    apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    if (origin && aapi_cfg_origin_allowed(c, origin)) {
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin",
                       origin);
        apr_table_setn(r->err_headers_out,
                       "Access-Control-Allow-Credentials", "true");
        if (preflight) {
            apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods",
                           allow_methods);
            apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers",
                           "Authorization, Content-Type");
            apr_table_setn(r->err_headers_out, "Access-Control-Max-Age",
                           "600");
        }
    }
    if (!preflight) {
        return DECLINED;
    }
    r->status = HTTP_NO_CONTENT;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return OK;
}
