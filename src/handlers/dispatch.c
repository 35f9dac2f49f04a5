/*
 * handlers/dispatch.c - level 6: the route table of the JSON API and the
 * content handler that serves it under whatever <Location> mounts it.
 */
#include "aapi.h"
#include "handlers.h"
#include "http.h"

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
    { "/me",           aapi_ep_me_get,       aapi_ep_me_update,
                       aapi_ep_me_update,    NULL },
    { "/profile",      aapi_ep_me_get,       aapi_ep_me_update,
                       aapi_ep_me_update,    NULL },
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

/* Returns the endpoint path of R below its mount, or NULL. */
static const char *endpoint_of(request_rec *r)
{
    const aapi_dir_cfg_t *d = ap_get_module_config(r->per_dir_config,
                                                   &auth_api_module);
    const char *mount = d && d->mount ? d->mount : NULL;
    size_t n;
    char *ep;

    if (!mount) {
        /* no <Location> path: the last path segment names the endpoint */
        const char *slash = strrchr(r->uri, '/');
        return slash;
    }
    n = strlen(mount);
    while (n > 0 && mount[n - 1] == '/') n--;
    if (strncmp(r->uri, mount, n) != 0) {
        return NULL;
    }
    ep = apr_pstrdup(r->pool, r->uri + n);
    n = strlen(ep);
    if (n > 1 && ep[n - 1] == '/') {
        ep[n - 1] = '\0';
    }
    return ep;
}

int aapi_handler(request_rec *r)
{
    aapi_srv_cfg_t *c;
    const aapi_route_t *rt;
    const char *ep;
    aapi_endpoint_fn *fn = NULL;

    if (!r->handler || strcmp(r->handler, "auth-api") != 0) {
        return DECLINED;
    }
    c = aapi_srv_cfg(r->server);
    ep = endpoint_of(r);
    for (rt = routes; ep && rt->path; rt++) {
        if (strcmp(rt->path, ep) == 0) {
            break;
        }
    }
    if (!ep || !rt->path) {
        return aapi_http_send_status(r, AAPI_NOT_FOUND, NULL);
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
