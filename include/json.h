/* json.h - level 0: the only interface to the JSON library. Every value
 * created or parsed here is released by a cleanup on the pool given. */
#ifndef AAPI_JSON_H
#define AAPI_JSON_H

#include "aapi.h"

typedef struct json_t aapi_json_t;

/* A list of (field, message) validation errors, in the order found. */
typedef struct {
    const char *field;
    const char *msg;
} aapi_field_error_t;

/* Parses LEN bytes as one JSON object: no duplicate names, no NUL, valid
 * UTF-8; returns AAPI_OK and *OUT, or AAPI_INVALID_JSON. */
aapi_status_t aapi_json_parse_object(apr_pool_t *p, const char *buf,
                                     size_t len, aapi_json_t **out);

/* Returns a new empty object owned by P. */
aapi_json_t *aapi_json_object(apr_pool_t *p);

/* Returns a new empty array owned by P. */
aapi_json_t *aapi_json_array(apr_pool_t *p);

/* Set KEY of OBJ; a NULL string sets JSON null. Return 0, or -1. */
int aapi_json_set_str(aapi_json_t *obj, const char *key, const char *val);
int aapi_json_set_int(aapi_json_t *obj, const char *key, apr_int64_t val);
int aapi_json_set_bool(aapi_json_t *obj, const char *key, int val);
int aapi_json_set(aapi_json_t *obj, const char *key, aapi_json_t *val);

/* Appends VAL to ARR; returns 0, or -1. */
int aapi_json_append(aapi_json_t *arr, aapi_json_t *val);

/* Returns the member KEY of OBJ, or NULL. */
aapi_json_t *aapi_json_get(aapi_json_t *obj, const char *key);

/* Returns 1 when the member exists (even as null), else 0. */
int aapi_json_has(aapi_json_t *obj, const char *key);

/* Looks up the first present of KEY and ALIAS (may be NULL): returns 0 when
 * both are absent or null, 1 with *OUT set when it is a string, -1 when it has
 * another type. */
int aapi_json_get_str(aapi_json_t *obj, const char *key, const char *alias,
                      const char **out);

/* Returns 1 when V is an object, else 0. */
int aapi_json_is_object(aapi_json_t *v);

/* Returns 1 when V is null, else 0. */
int aapi_json_is_null(aapi_json_t *v);

/* Returns V's string, or NULL when it is not a string. */
const char *aapi_json_string_value(aapi_json_t *v);

/* Returns V serialized compactly (sorted keys not implied), from P; or NULL. */
char *aapi_json_dump(apr_pool_t *p, aapi_json_t *v);

/* Applies RFC 7396 merge patch PATCH (an object) to a copy of TARGET (an
 * object); returns the result owned by P. */
aapi_json_t *aapi_json_merge_patch(apr_pool_t *p, aapi_json_t *target,
                                   aapi_json_t *patch);

/* Returns the success envelope {success, message, data} owned by P. */
aapi_json_t *aapi_json_envelope_ok(apr_pool_t *p, const char *message,
                                   aapi_json_t *data);

/* Returns the error envelope {success, message, error[, errors]} owned by P;
 * ERRS (of aapi_field_error_t, may be NULL) become field -> [messages]. */
aapi_json_t *aapi_json_envelope_err(apr_pool_t *p, const char *message,
                                    const char *code,
                                    const apr_array_header_t *errs);


/* ==== flat objects: the fast reader for token headers and claims ==== */

typedef enum {
    AAPI_FLAT_NULL = 1,
    AAPI_FLAT_BOOL,
    AAPI_FLAT_INT,            /* an integer that fits in 64 bits           */
    AAPI_FLAT_STRING,
    AAPI_FLAT_STRINGS,        /* an array of strings only                  */
    AAPI_FLAT_OTHER           /* any other valid value (object, real, ...) */
} aapi_flat_type_t;

typedef struct {
    const char *name;
    aapi_flat_type_t type;
    const char *str;          /* STRING */
    apr_int64_t num;          /* INT */
    int boolean;              /* BOOL */
    apr_array_header_t *strs; /* STRINGS, of const char * */
} aapi_flat_member_t;

/* Reads the LEN bytes at BUF as one JSON object with the same strictness
 * as aapi_json_parse_object (no duplicate names, no NUL, valid UTF-8,
 * nothing after it), without building a tree and without copying: BUF is
 * changed (each string unescaped where it stands and ended with a NUL where
 * its closing quote was) and the members' strings point into it. Returns
 * the members (of aapi_flat_member_t) from P, or NULL when it is not such
 * an object (BUF's contents are then unspecified). */
apr_array_header_t *aapi_json_flat_parse(apr_pool_t *p, char *buf,
                                         size_t len);

/* Returns member NAME of the flat object M, or NULL. */
const aapi_flat_member_t *aapi_flat_get(const apr_array_header_t *m,
                                        const char *name);

#endif
