/* config.h - level 1: per-server and per-directory configuration. */
#ifndef AAPI_CONFIG_H
#define AAPI_CONFIG_H

#include "aapi.h"
#include "keys.h"

#define AAPI_UNSET     (-1)

/* Password hashing schemes. */
typedef enum { AAPI_HASH_BCRYPT = 1, AAPI_HASH_ARGON2ID = 2 } aapi_hash_alg_t;

typedef struct {
    int alg;                  /* AAPI_HASH_*, or AAPI_UNSET                 */
    int bcrypt_cost;          /* 4..31                                       */
    int argon_m_kib, argon_t, argon_p;
} aapi_hash_cfg_t;

typedef struct {
    int set;                  /* the directive was given here               */
    int min_len;
    int upper, lower, digit, special;
} aapi_policy_t;

/* Fields that AuthAPIRequiredFields may list. */
#define AAPI_REQ_USERNAME   0x1
#define AAPI_REQ_FIRST_NAME 0x2
#define AAPI_REQ_LAST_NAME  0x4
#define AAPI_REQ_FULL_NAME  0x8

typedef struct aapi_srv_cfg {
    server_rec *server;
    /* tokens */
    const char *secret;       /* HMAC key bytes (may contain NUL)           */
    apr_size_t secret_len;
    const char *secret_where; /* "file:line" of the secret directive        */
    int jwt_alg;              /* AAPI_ALG_*, or AAPI_UNSET                   */
    const char *issuer;
    const char *audience;
    apr_int64_t access_ttl, refresh_ttl, leeway;    /* seconds or UNSET */
    /* accounts */
    aapi_hash_cfg_t hash;
    aapi_policy_t policy;
    int required;             /* AAPI_REQ_* bits, or AAPI_UNSET              */
    apr_off_t max_body;       /* bytes, or AAPI_UNSET                        */
    int auto_migrate;         /* 0/1, or AAPI_UNSET                          */
    /* sessions */
    apr_int64_t reuse_grace;  /* AuthAPIRefreshReuseGrace, or UNSET         */
    apr_int64_t session_cache_ttl;
    apr_int64_t prune_interval;   /* AuthAPIPruneInterval, 0 off, or UNSET */
    const char *socache;      /* AuthAPISOCache provider[:args]             */
    const char *socache_where;
    /* cookies and browsers */
    int token_cookies, tokens_in_body, cookie_secure;   /* 0/1 or UNSET */
    const char *cookie_samesite;
    apr_array_header_t *cors_origins;   /* of const char *, or NULL        */
    int silent_refresh;       /* 0/1 or UNSET                               */
    /* computed in post_config from the merged values */
    aapi_key_t *key;          /* the signing and verification key           */
    aapi_key_t *rotation_key; /* derives each refresh token's successor     */
    struct aapi_cache *cache; /* session state shared by the processes      */
    struct aapi_realm *realm; /* its tokens' and sessions' realm (tokens.h) */
    const char *dummy_hash;   /* verified for unknown users                 */
} aapi_srv_cfg_t;

/* What REMOTE_USER holds. */
typedef enum {
    AAPI_REMOTE_USER_EMAIL = 1,
    AAPI_REMOTE_USER_USERNAME,
    AAPI_REMOTE_USER_SUB
} aapi_remote_user_t;

/* Per-directory settings of a protected area. */
typedef struct {
    int remote_user;          /* aapi_remote_user_t, or UNSET               */
    int forward_headers;      /* 0/1, or UNSET                              */
    const char *login_url;    /* relative URL, or NULL                      */
} aapi_dir_cfg_t;

/* Returns a new directory config with every field unset. */
void *aapi_config_create_dir(apr_pool_t *p, char *dir);

/* Returns the merge of directory configs (the inner one wins). */
void *aapi_config_merge_dir(apr_pool_t *p, void *base, void *add);

/* Returns the new server config with every field unset. */
void *aapi_config_create_srv(apr_pool_t *p, server_rec *s);

/* Returns the merge of a virtual host's config ADD over the main BASE. */
void *aapi_config_merge_srv(apr_pool_t *p, void *base, void *add);

/* The directive table. */
extern const command_rec aapi_config_cmds[];

/* Returns the effective value of each setting, defaults applied. */
apr_int64_t aapi_cfg_access_ttl(const aapi_srv_cfg_t *c);
apr_int64_t aapi_cfg_refresh_ttl(const aapi_srv_cfg_t *c);
apr_int64_t aapi_cfg_leeway(const aapi_srv_cfg_t *c);
apr_off_t aapi_cfg_max_body(const aapi_srv_cfg_t *c);
int aapi_cfg_required(const aapi_srv_cfg_t *c);
int aapi_cfg_auto_migrate(const aapi_srv_cfg_t *c);
const aapi_policy_t *aapi_cfg_policy(const aapi_srv_cfg_t *c);
const aapi_hash_cfg_t *aapi_cfg_hash(const aapi_srv_cfg_t *c);

apr_int64_t aapi_cfg_reuse_grace(const aapi_srv_cfg_t *c);
apr_int64_t aapi_cfg_session_cache_ttl(const aapi_srv_cfg_t *c);
/* Seconds between two prunings of ended sessions, and how long a session
 * stays in the database after it ended (0: never pruned). */
apr_int64_t aapi_cfg_prune_interval(const aapi_srv_cfg_t *c);
const char *aapi_cfg_socache(const aapi_srv_cfg_t *c);
int aapi_cfg_token_cookies(const aapi_srv_cfg_t *c);
int aapi_cfg_tokens_in_body(const aapi_srv_cfg_t *c);
int aapi_cfg_cookie_secure(const aapi_srv_cfg_t *c);
const char *aapi_cfg_cookie_samesite(const aapi_srv_cfg_t *c);

int aapi_cfg_silent_refresh(const aapi_srv_cfg_t *c);

/* Returns 1 when ORIGIN is listed in AuthAPICORSOrigins. */
int aapi_cfg_origin_allowed(const aapi_srv_cfg_t *c, const char *origin);

/* Returns the config of server S. */
aapi_srv_cfg_t *aapi_srv_cfg(server_rec *s);


/* Where a server uses the module, found in the parsed configuration. */
typedef struct {
    int used;                 /* SetHandler/AuthType auth-api in its scope,
                               * or AuthAPI directives in its own block    */
    const char *where;        /* "FILE:LINE" of the first such directive   */
} aapi_usage_t;

/* Fills U for server S from the parsed configuration tree. */
void aapi_config_usage(apr_pool_t *p, server_rec *s, aapi_usage_t *u);

#endif
