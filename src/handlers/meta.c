/*
 * handlers/meta.c - level 6: /health and /jwks.json.
 */
#include "aapi.h"
#include "handlers.h"
#include "http.h"

#include "http_protocol.h"

int aapi_ep_health(request_rec *r, aapi_srv_cfg_t *c)
{
    aapi_db_t *db;
    aapi_json_t *data;
    aapi_status_t st = aapi_store_open(r, &db);

    if (st == AAPI_OK) {
        st = aapi_store_ping(db);
    }
    if (st != AAPI_OK) {
        return aapi_http_send_status(r, AAPI_UNAVAILABLE, NULL);
    }
    data = aapi_json_object(r->pool);
    aapi_json_set_str(data, "status", "ok");
    aapi_json_set_str(data, "database", "ok");
    return aapi_http_send_ok(r, HTTP_OK, "OK", data);
}

/* The key set is served as RFC 7517 describes it, without the envelope, so
 * that JOSE libraries can read it; with HMAC there is no public key. */
int aapi_ep_jwks(request_rec *r, aapi_srv_cfg_t *c)
{
    aapi_json_t *set = aapi_json_object(r->pool);

    aapi_json_set(set, "keys", aapi_json_array(r->pool));
    return aapi_http_send_json(r, HTTP_OK, set);
}
