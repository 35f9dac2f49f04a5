/* validate.h - level 2: field rules. Pure functions: no request, no DB.
 * Each check appends aapi_field_error_t entries to ERRS. */
#ifndef AAPI_VALIDATE_H
#define AAPI_VALIDATE_H

#include "aapi.h"
#include "config.h"
#include "json.h"

/* Appends (FIELD, MSG) to ERRS. */
void aapi_add_error(apr_array_header_t *errs, const char *field,
                    const char *msg);

/* Checks an e-mail address; on success returns the trimmed address and sets
 * *NORM to its lower-cased form; on failure appends an error, returns NULL. */
const char *aapi_validate_email(apr_pool_t *p, const char *in,
                                const char **norm, apr_array_header_t *errs);

/* Checks a username (3-20 of [A-Za-z0-9_]); returns 1 if valid, else 0
 * after appending an error. */
int aapi_validate_username(const char *in, apr_array_header_t *errs);

/* Checks a name field (at most 100 characters, no control characters). */
int aapi_validate_name(const char *field, const char *in,
                       apr_array_header_t *errs);

/* Checks PW against POLICY, the byte limit MAXBYTES, the common-password
 * list and the account's EMAIL and USERNAME (may be NULL); returns 1 if
 * acceptable, else 0 after appending errors under FIELD. */
int aapi_validate_password(apr_pool_t *p, const char *field, const char *pw,
                           const aapi_policy_t *policy, size_t maxbytes,
                           const char *email, const char *username,
                           apr_array_header_t *errs);

/* Loads the shipped common-password list into a set in P; call once at
 * start-up. Returns the number of entries. */
int aapi_common_passwords_init(apr_pool_t *p);

/* Returns 1 when PW is a common password (without regard to case). */
int aapi_is_common_password(const char *pw);

/* Returns the readable sentence for the first error in ERRS
 * ("Password must contain a digit"), from P. */
const char *aapi_errors_sentence(apr_pool_t *p, const apr_array_header_t *errs);

#endif
