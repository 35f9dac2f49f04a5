/*
 * handlers/dispatch.c - level 6: the route table of the JSON API and the
 * content handler that serves it under whatever <Location> mounts it.
 */
#include "aapi.h"
#include "handlers.h"
#include "http.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#include <string.h>

typedef struct {
    const char *path;
    aapi_endpoint_fn *get, *post, *patch, *del;
} aapi_route_t;

static const aapi_route_t routes[] = {
    { "/register",     NULL,                 aapi_ep_register, NULL, NULL },
    { "/login",        NULL,                 aapi_ep_login,    NULL, NULL },
    { "/refresh",      NULL,                 aapi_ep_refresh,  NULL, NULL },
    { "/logout",       NULL,                 aapi_ep_logout,   NULL, NULL },
    { "/logout-all",   NULL,                 aapi_ep_logout_all, NULL, NULL },
    { "/me",           aapi_ep_me_get,       aapi_ep_me_update,
                       aapi_ep_me_update,    aapi_ep_me_delete },
    { "/profile",      aapi_ep_me_get,       aapi_ep_me_update,
                       aapi_ep_me_update,    aapi_ep_me_delete },
    { "/change-password", NULL,              aapi_ep_change_password,
                       NULL,                 NULL },
    { "/sessions",     aapi_ep_sessions_list, NULL,            NULL, NULL },
    { "/sessions/*",   NULL,                 NULL,             NULL,
                       aapi_ep_session_delete },
    { "/verify-token", aapi_ep_verify_token, aapi_ep_verify_token, NULL, NULL },
    { "/health",       aapi_ep_health,       NULL,             NULL, NULL },
    { "/jwks.json",    aapi_ep_jwks,         NULL,             NULL, NULL },
    { NULL, NULL, NULL, NULL, NULL }
};

/* Returns the Allow header value for ROUTE. */
static const char *allow_of(apr_pool_t *p, const aapi_route_t *rt)
{
    return apr_pstrcat(p, rt->get ? "GET, HEAD, " : "",
                       rt->post ? "POST, " : "",
                       rt->patch ? "PATCH, " : "",
                       rt->del ? "DELETE, " : "", "OPTIONS", NULL);
}

static int route_matches(const char *path, const char *ep);

/* Returns the path of the <Location> whose configuration R runs under, when
 * it is a plain prefix of R's URI; else NULL. */
static const char *location_prefix(request_rec *r, size_t *len)
{
    core_dir_config *cd = ap_get_core_module_config(r->per_dir_config);
    const char *loc = cd ? cd->d : NULL;
    size_t n;

    if (!loc || loc[0] != '/' || cd->r || cd->d_is_fnmatch) {
        return NULL;
    }
    n = strlen(loc);
    while (n > 0 && loc[n - 1] == '/') n--;
    if (strncmp(r->uri, loc, n) != 0) {
        return NULL;
    }
    *len = n;
    return loc;
}

/* Returns the endpoint path of R below its mount (and notes the mount for
 * aapi_request_mount), or NULL. The mount is the <Location> path; where the
 * handler was set some other way (<LocationMatch>, <Directory>, .htaccess)
 * it is what precedes the endpoint that ends the URI. */
static const char *endpoint_of(request_rec *r)
{
    size_t n = 0, ulen;
    char *uri = apr_pstrdup(r->pool, r->uri);
    const aapi_route_t *rt;

    ulen = strlen(uri);
    if (ulen > 1 && uri[ulen - 1] == '/') {
        uri[--ulen] = '\0';
    }
    if (!location_prefix(r, &n)) {
        /* the longest route that ends the URI names the endpoint */
        size_t best = 0;
        for (rt = routes; rt->path; rt++) {
            const char *slash;
            size_t k;
            for (slash = strchr(uri, '/'); slash; slash = strchr(slash + 1, '/')) {
                k = ulen - (size_t)(slash - uri);
                if (k > best && route_matches(rt->path, slash)) {
                    best = k;
                }
            }
        }
        if (!best) {
            return NULL;
        }
        n = ulen - best;
    }
    apr_table_setn(r->notes, "aapi-mount",
                   n ? apr_pstrmemdup(r->pool, uri, n) : "/");
    return uri + n;
}

/* Returns 1 when endpoint EP matches route path PATH; a PATH whose last
 * segment is a star matches one further segment of at most 64 characters,
 * which the endpoint reads. */
static int route_matches(const char *path, const char *ep)
{
    size_t n = strlen(path);

    if (n > 2 && !strcmp(path + n - 2, "/*")) {
        const char *arg = ep + n - 1;
        return !strncmp(path, ep, n - 1) && *arg && !strchr(arg, '/')
               && strlen(arg) <= 64;
    }
    return !strcmp(path, ep);
}

int aapi_handler(request_rec *r)
{
    aapi_srv_cfg_t *c;
    const aapi_route_t *rt;
    const char *ep;
    aapi_endpoint_fn *fn = NULL;

    if (!r->handler || strcmp(r->handler, AAPI_HANDLER) != 0) {
        return DECLINED;
    }
    c = aapi_srv_cfg(r->server);
    ep = endpoint_of(r);
    for (rt = routes; ep && rt->path; rt++) {
        if (route_matches(rt->path, ep)) {
            break;
        }
    }
    if (!ep || !rt->path) {
        aapi_http_cors(r, c, "GET, POST, PATCH, DELETE");
        return aapi_http_send_status(r, AAPI_NOT_FOUND, NULL);
    }
    if (aapi_http_cors(r, c, allow_of(r->pool, rt)) == OK) {
        apr_table_setn(r->err_headers_out, "Allow", allow_of(r->pool, rt));
        return OK;   /* a preflight, answered */
    }
    switch (r->method_number) {
    case M_GET:    fn = rt->get; break;     /* HEAD too */
    case M_POST:   fn = rt->post; break;
    case M_PATCH:  fn = rt->patch; break;
    case M_DELETE: fn = rt->del; break;
    case M_OPTIONS:
        apr_table_setn(r->headers_out, "Allow", allow_of(r->pool, rt));
        r->status = HTTP_NO_CONTENT;
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        return OK;
    default:
        break;
    }
    if (!fn) {
        return aapi_http_send_not_allowed(r, allow_of(r->pool, rt));
    }
    if (!c->key) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AAPI_LOGNO(0401)
                      "no JWT secret for this server; set AuthAPIJWTSecret");
        return aapi_http_send_status(r, AAPI_INTERNAL, NULL);
    }
    return fn(r, c);
}
