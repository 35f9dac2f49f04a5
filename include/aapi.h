/*
 * aapi.h - common declarations of mod_auth_api: the module record, the
 * log tag, and the status codes that the lower levels return.
 */
#ifndef AAPI_H
#define AAPI_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_tables.h"

#pragma GCC visibility push(default)
extern module AP_MODULE_DECLARE_DATA auth_api_module;
#pragma GCC visibility pop

/* mod_auth_api.c gets this from AP_DECLARE_MODULE */
#if defined(APLOG_USE_MODULE) && !defined(AAPI_MODULE_FILE)
APLOG_USE_MODULE(auth_api);
#endif

/* A function kept whole and under its own name by the link-time
 * optimisation of the build (Makefile.apxs): the costly steps of a
 * protected request (the signature, the session check, the database),
 * whose calls bench/instructions.pl counts to tell which path a request
 * took. They cost thousands of instructions; a call costs a few. */
#define AAPI_COUNTED __attribute__((noinline, noclone))

/* Every log line of the module carries this tag and a unique number. */
#define AAPI_LOGNO(n) "AAPI" #n ": "

/* Results of the levels below http.c; http.c maps them to HTTP. */
typedef enum {
    AAPI_OK = 0,
    AAPI_INTERNAL,          /* a bug or resource failure; details logged  */
    AAPI_UNAVAILABLE,       /* the database cannot be reached             */
    AAPI_NOT_FOUND,         /* no such row                                */
    AAPI_INVALID_JSON,
    AAPI_INVALID_TOKEN,
    AAPI_INVALID_CREDENTIALS,
    AAPI_EMAIL_TAKEN,
    AAPI_USERNAME_TAKEN,
    AAPI_CONFLICT,          /* a unique key other than email/username     */
    AAPI_VALIDATION
} aapi_status_t;

/* Bounds that hold everywhere. */
#define AAPI_MAX_TOKEN_LEN     8192   /* a JWS longer than this is refused */
#define AAPI_MAX_EMAIL_LEN     254
#define AAPI_MAX_NAME_LEN      100
#define AAPI_MAX_PASSWORD_LEN  1024   /* argon2 input cap                  */
#define AAPI_BCRYPT_MAX_BYTES  72
#define AAPI_MAX_PROFILE_LEN   4096   /* serialized profile object         */
#define AAPI_MAX_UA_LEN        512

#endif /* AAPI_H */
