/* password.h - level 2: password hashing and verification. */
#ifndef AAPI_PASSWORD_H
#define AAPI_PASSWORD_H

#include "aapi.h"
#include "config.h"

/* Returns the hash of PW under CFG, from P; or NULL on failure. */
char *aapi_password_hash(apr_pool_t *p, const aapi_hash_cfg_t *cfg,
                         const char *pw);

/* Returns 1 when PW matches HASH, else 0; the comparison is constant time. */
int aapi_password_verify(apr_pool_t *p, const char *pw, const char *hash);

/* Returns 1 when HASH is weaker than what CFG makes (a lower bcrypt cost,
 * lower argon2id memory or passes, bcrypt where CFG says argon2id): the
 * password it verified is then hashed again under CFG. Never 1 for a
 * stronger one (servers of one database with other settings do not undo
 * each other's work), nor for a hash it cannot read. */
int aapi_password_needs_rehash(const char *hash, const aapi_hash_cfg_t *cfg);

/* Returns the longest password, in bytes, that CFG's scheme reads whole. */
size_t aapi_password_max_bytes(const aapi_hash_cfg_t *cfg);

#endif
