/*
 * json.c - level 0: the only file that talks to jansson. Strict parsing with
 * limits, typed getters, the response envelopes; every value is released by
 * a cleanup on the pool that owns it.
 */
#include "aapi.h"
#include "json.h"

#include <jansson.h>
#include <string.h>

/* Pool cleanup: drops one reference of a jansson value. */
static apr_status_t json_decref_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

/* Returns V after tying one of its references to pool P; NULL stays NULL. */
static json_t *owned(apr_pool_t *p, json_t *v)
{
    if (v) {
        apr_pool_cleanup_register(p, v, json_decref_cleanup,
                                  apr_pool_cleanup_null);
    }
    return v;
}

aapi_status_t aapi_json_parse_object(apr_pool_t *p, const char *buf,
                                     size_t len, aapi_json_t **out)
{
    json_error_t err;
    json_t *v;

    /* jansson refuses invalid UTF-8 and \u0000 unless asked to allow it */
    v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (!v) {
        return AAPI_INVALID_JSON;
    }
    owned(p, v);
    if (!json_is_object(v)) {
        return AAPI_INVALID_JSON;
    }
    *out = v;
    return AAPI_OK;
}

aapi_json_t *aapi_json_object(apr_pool_t *p)
{
    return owned(p, json_object());
}

aapi_json_t *aapi_json_array(apr_pool_t *p)
{
    return owned(p, json_array());
}

int aapi_json_set_str(aapi_json_t *obj, const char *key, const char *val)
{
    json_t *v = val ? json_string(val) : json_null();
    return v ? json_object_set_new(obj, key, v) : -1;
}

int aapi_json_set_int(aapi_json_t *obj, const char *key, apr_int64_t val)
{
    return json_object_set_new(obj, key, json_integer((json_int_t)val));
}

int aapi_json_set_bool(aapi_json_t *obj, const char *key, int val)
{
    return json_object_set_new(obj, key, json_boolean(val));
}

int aapi_json_set(aapi_json_t *obj, const char *key, aapi_json_t *val)
{
    return json_object_set(obj, key, val ? val : json_null());
}

int aapi_json_append_str(aapi_json_t *arr, const char *val)
{
    json_t *v = json_string(val);
    return v ? json_array_append_new(arr, v) : -1;
}

int aapi_json_append(aapi_json_t *arr, aapi_json_t *val)
{
    return json_array_append(arr, val);
}

aapi_json_t *aapi_json_get(aapi_json_t *obj, const char *key)
{
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

int aapi_json_has(aapi_json_t *obj, const char *key)
{
    return aapi_json_get(obj, key) != NULL;
}

int aapi_json_get_str(aapi_json_t *obj, const char *key, const char *alias,
                      const char **out)
{
    json_t *v = aapi_json_get(obj, key);

    if ((!v || json_is_null(v)) && alias) {
        v = aapi_json_get(obj, alias);
    }
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

int aapi_json_get_int(aapi_json_t *obj, const char *key, apr_int64_t *out)
{
    json_t *v = aapi_json_get(obj, key);

    if (!v) {
        return 0;
    }
    if (!json_is_integer(v)) {
        return -1;
    }
    *out = (apr_int64_t)json_integer_value(v);
    return 1;
}

int aapi_json_get_bool(aapi_json_t *obj, const char *key, int *out)
{
    json_t *v = aapi_json_get(obj, key);

    if (!v) {
        return 0;
    }
    if (!json_is_boolean(v)) {
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

int aapi_json_is_object(aapi_json_t *v)
{
    return json_is_object(v);
}

int aapi_json_is_null(aapi_json_t *v)
{
    return json_is_null(v);
}

const char *aapi_json_string_value(aapi_json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

size_t aapi_json_array_size(aapi_json_t *v)
{
    return json_is_array(v) ? json_array_size(v) : 0;
}

aapi_json_t *aapi_json_array_get(aapi_json_t *v, size_t i)
{
    return json_is_array(v) ? json_array_get(v, i) : NULL;
}

char *aapi_json_dump(apr_pool_t *p, aapi_json_t *v)
{
    const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    size_t n = json_dumpb(v, NULL, 0, flags);
    char *out;

    if (n == 0) {
        return NULL;
    }
    out = apr_palloc(p, n + 1);
    if (json_dumpb(v, out, n, flags) != n) {
        return NULL;
    }
    out[n] = '\0';
    return out;
}

aapi_json_t *aapi_json_merge_patch(apr_pool_t *p, aapi_json_t *target,
                                   aapi_json_t *patch)
{
    json_t *result = owned(p, json_is_object(target) ? json_deep_copy(target)
                                                    : json_object());
    const char *key;
    json_t *val;

    if (!result) {
        return NULL;
    }
    json_object_foreach(patch, key, val) {
        if (json_is_null(val)) {
            json_object_del(result, key);
        }
        else if (json_is_object(val)) {
            json_t *merged = aapi_json_merge_patch(p, json_object_get(result, key),
                                                   val);
            if (!merged) {
                return NULL;
            }
            json_object_set(result, key, merged);
        }
        else {
            json_object_set(result, key, val);
        }
    }
    return result;
}

aapi_json_t *aapi_json_envelope_ok(apr_pool_t *p, const char *message,
                                   aapi_json_t *data)
{
    json_t *env = aapi_json_object(p);

    json_object_set_new(env, "success", json_true());
    aapi_json_set_str(env, "message", message);
    if (data) {
        json_object_set(env, "data", data);
    }
    return env;
}

aapi_json_t *aapi_json_envelope_err(apr_pool_t *p, const char *message,
                                    const char *code,
                                    const apr_array_header_t *errs)
{
    json_t *env = aapi_json_object(p);

    json_object_set_new(env, "success", json_false());
    aapi_json_set_str(env, "message", message);
    aapi_json_set_str(env, "error", code);
    if (errs && errs->nelts > 0) {
        json_t *map = json_object();
        int i;

        for (i = 0; i < errs->nelts; i++) {
            const aapi_field_error_t *e =
                &APR_ARRAY_IDX(errs, i, aapi_field_error_t);
            json_t *list = json_object_get(map, e->field);
            if (!list) {
                list = json_array();
                json_object_set_new(map, e->field, list);
            }
            json_array_append_new(list, json_string(e->msg));
        }
        json_object_set_new(env, "errors", map);
    }
    return env;
}
