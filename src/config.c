/*
 * config.c - level 1: server and directory configuration: create, merge,
 * directive setters. Values are checked when the directive is read, so a
 * configuration that cannot work stops "apachectl -t" with a message that
 * names the directive (Apache adds the file and the line).
 */
#include "aapi.h"
#include "config.h"
#include "keys.h"
#include "util.h"

#include "apr_file_io.h"
#include "apr_lib.h"
#include "http_core.h"
#include <string.h>
#include <strings.h>

#define DEFAULT_ACCESS_TTL   (15 * 60)
#define DEFAULT_REFRESH_TTL  (30 * 86400)
#define DEFAULT_LEEWAY       30
#define DEFAULT_MAX_BODY     (16 * 1024)
#define DEFAULT_BCRYPT_COST  12
#define MAX_BODY_LIMIT       (1024 * 1024)
#define MIN_SECRET_BYTES     32
#define MAX_SECRET_BYTES     4096

/* ==== create and merge ==== */

void *aapi_config_create_srv(apr_pool_t *p, server_rec *s)
{
    aapi_srv_cfg_t *c = apr_pcalloc(p, sizeof(*c));

    c->server = s;
    c->jwt_alg = AAPI_UNSET;
    c->access_ttl = c->refresh_ttl = c->leeway = AAPI_UNSET;
    c->hash.alg = AAPI_UNSET;
    c->required = AAPI_UNSET;
    c->max_body = AAPI_UNSET;
    c->auto_migrate = AAPI_UNSET;
    c->reuse_grace = c->session_cache_ttl = c->prune_interval = AAPI_UNSET;
    c->token_cookies = c->tokens_in_body = c->cookie_secure = AAPI_UNSET;
    c->silent_refresh = AAPI_UNSET;
    return c;
}

#define MERGE_PTR(f)  n->f = add->f ? add->f : base->f
#define MERGE_VAL(f)  n->f = add->f == AAPI_UNSET ? base->f : add->f

void *aapi_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    aapi_srv_cfg_t *base = basev, *add = addv;
    aapi_srv_cfg_t *n = apr_pcalloc(p, sizeof(*n));

    n->server = add->server;
    if (add->secret) {
        n->secret = add->secret;
        n->secret_len = add->secret_len;
        n->secret_where = add->secret_where;
    }
    else {
        n->secret = base->secret;
        n->secret_len = base->secret_len;
        n->secret_where = base->secret_where;
    }
    MERGE_VAL(jwt_alg);
    MERGE_PTR(issuer);
    MERGE_PTR(audience);
    MERGE_VAL(access_ttl);
    MERGE_VAL(refresh_ttl);
    MERGE_VAL(leeway);
    n->hash = add->hash.alg == AAPI_UNSET ? base->hash : add->hash;
    n->policy = add->policy.set ? add->policy : base->policy;
    MERGE_VAL(required);
    MERGE_VAL(max_body);
    MERGE_VAL(auto_migrate);
    MERGE_VAL(reuse_grace);
    MERGE_VAL(session_cache_ttl);
    MERGE_VAL(prune_interval);
    MERGE_PTR(socache);
    MERGE_PTR(socache_where);
    MERGE_VAL(token_cookies);
    MERGE_VAL(tokens_in_body);
    MERGE_VAL(cookie_secure);
    MERGE_PTR(cookie_samesite);
    MERGE_PTR(cors_origins);
    MERGE_VAL(silent_refresh);
    return n;
}

void *aapi_config_create_dir(apr_pool_t *p, char *dir)
{
    aapi_dir_cfg_t *d = apr_pcalloc(p, sizeof(*d));

    d->remote_user = AAPI_UNSET;
    d->forward_headers = AAPI_UNSET;
    return d;
}

void *aapi_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    aapi_dir_cfg_t *base = basev, *add = addv;
    aapi_dir_cfg_t *n = apr_pcalloc(p, sizeof(*n));

    MERGE_VAL(remote_user);
    MERGE_VAL(forward_headers);
    MERGE_PTR(login_url);
    return n;
}

aapi_srv_cfg_t *aapi_srv_cfg(server_rec *s)
{
    return ap_get_module_config(s->module_config, &auth_api_module);
}

/* ==== effective values ==== */

apr_int64_t aapi_cfg_access_ttl(const aapi_srv_cfg_t *c)
{
    return c->access_ttl == AAPI_UNSET ? DEFAULT_ACCESS_TTL : c->access_ttl;
}

apr_int64_t aapi_cfg_refresh_ttl(const aapi_srv_cfg_t *c)
{
    return c->refresh_ttl == AAPI_UNSET ? DEFAULT_REFRESH_TTL : c->refresh_ttl;
}

apr_int64_t aapi_cfg_leeway(const aapi_srv_cfg_t *c)
{
    return c->leeway == AAPI_UNSET ? DEFAULT_LEEWAY : c->leeway;
}

apr_off_t aapi_cfg_max_body(const aapi_srv_cfg_t *c)
{
    return c->max_body == AAPI_UNSET ? DEFAULT_MAX_BODY : c->max_body;
}

int aapi_cfg_required(const aapi_srv_cfg_t *c)
{
    return c->required == AAPI_UNSET ? 0 : c->required;
}

int aapi_cfg_auto_migrate(const aapi_srv_cfg_t *c)
{
    return c->auto_migrate == AAPI_UNSET ? 1 : c->auto_migrate;
}

const aapi_policy_t *aapi_cfg_policy(const aapi_srv_cfg_t *c)
{
    static const aapi_policy_t dflt = { 1, 8, 1, 1, 1, 1 };
    return c->policy.set ? &c->policy : &dflt;
}

const aapi_hash_cfg_t *aapi_cfg_hash(const aapi_srv_cfg_t *c)
{
    static const aapi_hash_cfg_t dflt = { AAPI_HASH_BCRYPT,
                                          DEFAULT_BCRYPT_COST, 0, 0, 0 };
    return c->hash.alg == AAPI_UNSET ? &dflt : &c->hash;
}

apr_int64_t aapi_cfg_reuse_grace(const aapi_srv_cfg_t *c)
{
    return c->reuse_grace == AAPI_UNSET ? 10 : c->reuse_grace;
}

apr_int64_t aapi_cfg_session_cache_ttl(const aapi_srv_cfg_t *c)
{
    return c->session_cache_ttl == AAPI_UNSET ? 5 : c->session_cache_ttl;
}

apr_int64_t aapi_cfg_prune_interval(const aapi_srv_cfg_t *c)
{
    return c->prune_interval == AAPI_UNSET ? 3600 : c->prune_interval;
}

const char *aapi_cfg_socache(const aapi_srv_cfg_t *c)
{
    return c->socache ? c->socache : "shmcb";
}

int aapi_cfg_token_cookies(const aapi_srv_cfg_t *c)
{
    return c->token_cookies == AAPI_UNSET ? 0 : c->token_cookies;
}

int aapi_cfg_tokens_in_body(const aapi_srv_cfg_t *c)
{
    return c->tokens_in_body == AAPI_UNSET ? 1 : c->tokens_in_body;
}

int aapi_cfg_cookie_secure(const aapi_srv_cfg_t *c)
{
    return c->cookie_secure == AAPI_UNSET ? 1 : c->cookie_secure;
}

const char *aapi_cfg_cookie_samesite(const aapi_srv_cfg_t *c)
{
    return c->cookie_samesite ? c->cookie_samesite : "Lax";
}

int aapi_cfg_silent_refresh(const aapi_srv_cfg_t *c)
{
    return c->silent_refresh == AAPI_UNSET ? 0 : c->silent_refresh;
}

int aapi_cfg_origin_allowed(const aapi_srv_cfg_t *c, const char *origin)
{
    int i;

    if (!c->cors_origins || !origin) {
        return 0;
    }
    for (i = 0; i < c->cors_origins->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(c->cors_origins, i, const char *),
                        origin)) {
            return 1;
        }
    }
    return 0;
}

/* ==== directive setters ==== */

/* Returns the server config that directive CMD is being read for. */
static aapi_srv_cfg_t *cmd_cfg(cmd_parms *cmd)
{
    return aapi_srv_cfg(cmd->server);
}

/* Returns "FILE:LINE" of the directive being read. */
static const char *where(cmd_parms *cmd)
{
    return cmd->directive
        ? apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                       cmd->directive->line_num)
        : "(unknown)";
}

static const char *set_secret(cmd_parms *cmd, void *dc, const char *arg)
{
    aapi_srv_cfg_t *c = cmd_cfg(cmd);
    size_t len = strlen(arg);

    if (len < MIN_SECRET_BYTES) {
        return apr_psprintf(cmd->pool, "%s: the HMAC secret must be at least "
                            "%d bytes (it has %" APR_SIZE_T_FMT ")",
                            cmd->cmd->name, MIN_SECRET_BYTES, len);
    }
    if (len > MAX_SECRET_BYTES) {
        return apr_psprintf(cmd->pool, "%s: the HMAC secret is longer than %d "
                            "bytes", cmd->cmd->name, MAX_SECRET_BYTES);
    }
    c->secret = arg;
    c->secret_len = len;
    c->secret_where = where(cmd);
    return NULL;
}

static const char *set_secret_file(cmd_parms *cmd, void *dc, const char *arg)
{
    aapi_srv_cfg_t *c = cmd_cfg(cmd);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t len;
    char *buf;

    if (!path) {
        return apr_psprintf(cmd->pool, "%s: invalid path %s", cmd->cmd->name,
                            arg);
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    }
    if (rv != APR_SUCCESS) {
        char err[128];
        return apr_psprintf(cmd->pool, "%s: cannot read %s: %s",
                            cmd->cmd->name, path,
                            apr_strerror(rv, err, sizeof(err)));
    }
    if (fi.size > MAX_SECRET_BYTES + 2) {
        return apr_psprintf(cmd->pool, "%s: %s is longer than %d bytes",
                            cmd->cmd->name, path, MAX_SECRET_BYTES);
    }
    len = (apr_size_t)fi.size;
    buf = apr_palloc(cmd->pool, len + 1);
    rv = apr_file_read_full(f, buf, len, &len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(cmd->pool, "%s: cannot read %s", cmd->cmd->name,
                            path);
    }
    /* one trailing line end is not part of the secret */
    if (len > 0 && buf[len - 1] == '\n') len--;
    if (len > 0 && buf[len - 1] == '\r') len--;
    buf[len] = '\0';
    if (len < MIN_SECRET_BYTES) {
        return apr_psprintf(cmd->pool, "%s: the HMAC secret in %s must be at "
                            "least %d bytes (it has %" APR_SIZE_T_FMT ")",
                            cmd->cmd->name, path, MIN_SECRET_BYTES, len);
    }
    c->secret = buf;
    c->secret_len = len;
    c->secret_where = where(cmd);
    return NULL;
}

static const char *set_algorithm(cmd_parms *cmd, void *dc, const char *arg)
{
    int alg = aapi_alg_from_name(arg);

    if (!alg) {
        if (!strcmp(arg, "RS256") || !strcmp(arg, "ES256")
            || !strcmp(arg, "EdDSA")) {
            return apr_psprintf(cmd->pool, "%s: %s is not supported by this "
                                "version; use HS256, HS384 or HS512",
                                cmd->cmd->name, arg);
        }
        return apr_psprintf(cmd->pool, "%s: unknown algorithm '%s' (HS256, "
                            "HS384 or HS512)", cmd->cmd->name, arg);
    }
    cmd_cfg(cmd)->jwt_alg = alg;
    return NULL;
}

static const char *set_string(cmd_parms *cmd, void *dc, const char *arg)
{
    aapi_srv_cfg_t *c = cmd_cfg(cmd);
    const char **field = (const char **)((char *)c + (apr_size_t)cmd->info);

    if (!*arg) {
        return apr_psprintf(cmd->pool, "%s: must not be empty", cmd->cmd->name);
    }
    *field = arg;
    return NULL;
}

static const char *set_duration(cmd_parms *cmd, void *dc, const char *arg)
{
    aapi_srv_cfg_t *c = cmd_cfg(cmd);
    apr_int64_t *field = (apr_int64_t *)((char *)c + (apr_size_t)cmd->info);
    apr_int64_t secs;
    const char *err = aapi_parse_duration(arg, &secs);
    int is_leeway = cmd->info == (void *)APR_OFFSETOF(aapi_srv_cfg_t, leeway);
    int zero_ok = is_leeway
                  || cmd->info == (void *)APR_OFFSETOF(aapi_srv_cfg_t,
                                                       reuse_grace)
                  || cmd->info == (void *)APR_OFFSETOF(aapi_srv_cfg_t,
                                                       prune_interval);

    if (err) {
        return apr_psprintf(cmd->pool, "%s: '%s' %s (e.g. 90, 90s, 15m, 12h, "
                            "30d)", cmd->cmd->name, arg, err);
    }
    if (secs == 0 && !zero_ok) {
        return apr_psprintf(cmd->pool, "%s: must be longer than zero",
                            cmd->cmd->name);
    }
    if (is_leeway && secs > 600) {
        return apr_psprintf(cmd->pool, "%s: at most 10 minutes",
                            cmd->cmd->name);
    }
    *field = secs;
    return NULL;
}

/* Parses "NAME=N" with N in [LO, HI]; returns NULL or an error. */
static const char *kv_int(apr_pool_t *p, const char *dname, const char *arg,
                          const char *name, int lo, int hi, int *out)
{
    size_t n = strlen(name);
    const char *v;
    char *end;
    long val;

    if (strncmp(arg, name, n) != 0 || arg[n] != '=') {
        return apr_psprintf(p, "%s: expected %s=N, got '%s'", dname, name, arg);
    }
    v = arg + n + 1;
    val = strtol(v, &end, 10);
    if (!apr_isdigit(*v) || *end || val < lo || val > hi) {
        return apr_psprintf(p, "%s: %s must be a number from %d to %d",
                            dname, name, lo, hi);
    }
    *out = (int)val;
    return NULL;
}

static const char *set_password_hash(cmd_parms *cmd, void *dc, int argc,
                                     char *const argv[])
{
    aapi_hash_cfg_t h = { 0, 0, 0, 0, 0 };
    const char *name = cmd->cmd->name, *err;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s: bcrypt COST or argon2id m=KIB "
                            "t=N p=N", name);
    }
    if (!strcasecmp(argv[0], "bcrypt")) {
        char *end;
        long cost = argc > 1 ? strtol(argv[1], &end, 10) : DEFAULT_BCRYPT_COST;
        if (argc > 2 || (argc > 1 && (*end || !apr_isdigit(argv[1][0])))
            || cost < 4 || cost > 31) {
            return apr_psprintf(cmd->pool, "%s: bcrypt cost must be a number "
                                "from 4 to 31", name);
        }
        h.alg = AAPI_HASH_BCRYPT;
        h.bcrypt_cost = (int)cost;
    }
    else if (!strcasecmp(argv[0], "argon2id")) {
        h.alg = AAPI_HASH_ARGON2ID;
        h.argon_m_kib = 65536;
        h.argon_t = 3;
        h.argon_p = 1;
        for (int i = 1; i < argc; i++) {
            switch (argv[i][0]) {
            case 'm': err = kv_int(cmd->pool, name, argv[i], "m", 8, 4194304,
                                   &h.argon_m_kib); break;
            case 't': err = kv_int(cmd->pool, name, argv[i], "t", 1, 100,
                                   &h.argon_t); break;
            case 'p': err = kv_int(cmd->pool, name, argv[i], "p", 1, 64,
                                   &h.argon_p); break;
            default:
                err = apr_psprintf(cmd->pool, "%s: unknown argon2id parameter "
                                   "'%s' (m=KIB t=N p=N)", name, argv[i]);
            }
            if (err) {
                return err;
            }
        }
        if (h.argon_m_kib < 8 * h.argon_p) {
            return apr_psprintf(cmd->pool, "%s: m must be at least 8*p", name);
        }
    }
    else {
        return apr_psprintf(cmd->pool, "%s: unknown scheme '%s' (bcrypt or "
                            "argon2id)", name, argv[0]);
    }
    cmd_cfg(cmd)->hash = h;
    return NULL;
}

static const char *set_policy(cmd_parms *cmd, void *dc, int argc,
                              char *const argv[])
{
    aapi_policy_t pol = { 1, 8, 0, 0, 0, 0 };
    const char *err;
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool, "%s: e.g. min=8 upper lower digit "
                            "special", cmd->cmd->name);
    }
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "upper")) pol.upper = 1;
        else if (!strcmp(a, "lower")) pol.lower = 1;
        else if (!strcmp(a, "digit")) pol.digit = 1;
        else if (!strcmp(a, "special")) pol.special = 1;
        else if (!strncmp(a, "min=", 4)) {
            if ((err = kv_int(cmd->pool, cmd->cmd->name, a, "min", 1, 128,
                              &pol.min_len))) {
                return err;
            }
        }
        else {
            return apr_psprintf(cmd->pool, "%s: unknown rule '%s' (min=N, "
                                "upper, lower, digit, special)",
                                cmd->cmd->name, a);
        }
    }
    cmd_cfg(cmd)->policy = pol;
    return NULL;
}

static const char *set_required(cmd_parms *cmd, void *dc, const char *arg)
{
    aapi_srv_cfg_t *c = cmd_cfg(cmd);
    int bit;

    if (!strcmp(arg, "username")) bit = AAPI_REQ_USERNAME;
    else if (!strcmp(arg, "first_name")) bit = AAPI_REQ_FIRST_NAME;
    else if (!strcmp(arg, "last_name")) bit = AAPI_REQ_LAST_NAME;
    else if (!strcmp(arg, "full_name")) bit = AAPI_REQ_FULL_NAME;
    else if (!strcmp(arg, "none")) bit = 0;
    else {
        return apr_psprintf(cmd->pool, "%s: unknown field '%s' (username, "
                            "first_name, last_name, full_name)",
                            cmd->cmd->name, arg);
    }
    if (c->required == AAPI_UNSET) {
        c->required = 0;
    }
    c->required |= bit;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_off_t bytes;
    const char *err = aapi_parse_size(arg, &bytes);

    if (err || bytes < 64 || bytes > MAX_BODY_LIMIT) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a size from 64 bytes "
                            "to 1m (e.g. 16k)", cmd->cmd->name, arg);
    }
    cmd_cfg(cmd)->max_body = bytes;
    return NULL;
}

static const char *set_auto_migrate(cmd_parms *cmd, void *dc, int on)
{
    cmd_cfg(cmd)->auto_migrate = on ? 1 : 0;
    return NULL;
}

static const char *set_flag(cmd_parms *cmd, void *dc, int on)
{
    int *field = (int *)((char *)cmd_cfg(cmd) + (apr_size_t)cmd->info);
    *field = on ? 1 : 0;
    return NULL;
}

static const char *set_socache(cmd_parms *cmd, void *dc, const char *arg)
{
    /* the provider is looked up in check_config, once every module's
     * providers are registered */
    if (!*arg || *arg == ':') {
        return apr_psprintf(cmd->pool, "%s: provider[:args], e.g. shmcb",
                            cmd->cmd->name);
    }
    cmd_cfg(cmd)->socache = arg;
    cmd_cfg(cmd)->socache_where = where(cmd);
    return NULL;
}

static const char *set_samesite(cmd_parms *cmd, void *dc, const char *arg)
{
    static const char *const values[] = { "Strict", "Lax", "None", NULL };
    int i;

    for (i = 0; values[i]; i++) {
        if (!strcasecmp(arg, values[i])) {
            cmd_cfg(cmd)->cookie_samesite = values[i];
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool, "%s: Strict, Lax or None, not '%s'",
                        cmd->cmd->name, arg);
}

/* Returns 1 when S is an origin: scheme "://" host [":" port], no path. */
static int is_origin(const char *s)
{
    const char *h;

    if (!strncasecmp(s, "https://", 8)) h = s + 8;
    else if (!strncasecmp(s, "http://", 7)) h = s + 7;
    else return 0;
    if (!*h) {
        return 0;
    }
    for (; *h; h++) {
        if (!(apr_isalnum(*h) || *h == '.' || *h == '-' || *h == ':'
              || *h == '[' || *h == ']')) {
            return 0;
        }
    }
    return 1;
}

static const char *set_cors_origin(cmd_parms *cmd, void *dc, const char *arg)
{
    aapi_srv_cfg_t *c = cmd_cfg(cmd);

    if (!strcmp(arg, "*") || !strcasecmp(arg, "null") || !is_origin(arg)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an origin like "
                            "https://app.example.com (no '*', no 'null', no "
                            "path)", cmd->cmd->name, arg);
    }
    if (!c->cors_origins) {
        c->cors_origins = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->cors_origins, const char *) = arg;
    return NULL;
}

static const char *set_remote_user(cmd_parms *cmd, void *dc, const char *arg)
{
    aapi_dir_cfg_t *d = dc;

    if (!strcasecmp(arg, "email")) d->remote_user = AAPI_REMOTE_USER_EMAIL;
    else if (!strcasecmp(arg, "username")) {
        d->remote_user = AAPI_REMOTE_USER_USERNAME;
    }
    else if (!strcasecmp(arg, "sub")) d->remote_user = AAPI_REMOTE_USER_SUB;
    else {
        return apr_psprintf(cmd->pool, "%s: email, username or sub, not '%s'",
                            cmd->cmd->name, arg);
    }
    return NULL;
}

static const char *set_forward_headers(cmd_parms *cmd, void *dc, int on)
{
    ((aapi_dir_cfg_t *)dc)->forward_headers = on ? 1 : 0;
    return NULL;
}

static const char *set_login_url(cmd_parms *cmd, void *dc, const char *arg)
{
    /* a path on this site: never a redirect to somewhere else */
    const char *c;

    for (c = arg; *c; c++) {
        /* browsers drop tabs and new lines: "/\t/evil" would be //evil */
        if (apr_iscntrl(*c) || *c == ' ' || *c == '\\') {
            return apr_psprintf(cmd->pool, "%s: must not contain white space, "
                                "control characters or backslashes",
                                cmd->cmd->name);
        }
    }
    if (arg[0] != '/' || arg[1] == '/' || ap_strstr_c(arg, "://")) {
        return apr_psprintf(cmd->pool, "%s: must be a path on this site "
                            "starting with a single '/', e.g. /login.html",
                            cmd->cmd->name);
    }
    ((aapi_dir_cfg_t *)dc)->login_url = arg;
    return NULL;
}

#define OFF(f) (void *)APR_OFFSETOF(aapi_srv_cfg_t, f)

const command_rec aapi_config_cmds[] = {
    AP_INIT_TAKE1("AuthAPIJWTSecret", set_secret, NULL, RSRC_CONF,
                  "HMAC key for access tokens, at least 32 bytes"),
    AP_INIT_TAKE1("AuthAPIJWTSecretFile", set_secret_file, NULL, RSRC_CONF,
                  "file holding the HMAC key, at least 32 bytes"),
    AP_INIT_TAKE1("AuthAPIJWTAlgorithm", set_algorithm, NULL, RSRC_CONF,
                  "HS256 (default), HS384 or HS512"),
    AP_INIT_TAKE1("AuthAPIIssuer", set_string, OFF(issuer), RSRC_CONF,
                  "the iss claim set and required"),
    AP_INIT_TAKE1("AuthAPIAudience", set_string, OFF(audience), RSRC_CONF,
                  "the aud claim set and required"),
    AP_INIT_TAKE1("AuthAPIAccessTTL", set_duration, OFF(access_ttl), RSRC_CONF,
                  "access token lifetime (default 15m)"),
    AP_INIT_TAKE1("AuthAPIRefreshTTL", set_duration, OFF(refresh_ttl),
                  RSRC_CONF, "refresh token lifetime (default 30d)"),
    AP_INIT_TAKE1("AuthAPILeeway", set_duration, OFF(leeway), RSRC_CONF,
                  "clock skew allowed (default 30s)"),
    AP_INIT_TAKE_ARGV("AuthAPIPasswordHash", set_password_hash, NULL,
                      RSRC_CONF, "bcrypt COST | argon2id m=KIB t=N p=N"),
    AP_INIT_TAKE_ARGV("AuthAPIPasswordPolicy", set_policy, NULL, RSRC_CONF,
                      "min=N upper lower digit special"),
    AP_INIT_ITERATE("AuthAPIRequiredFields", set_required, NULL, RSRC_CONF,
                    "username first_name last_name full_name"),
    AP_INIT_TAKE1("AuthAPIMaxBody", set_max_body, NULL, RSRC_CONF,
                  "request body cap (default 16k)"),
    AP_INIT_FLAG("AuthAPIAutoMigrate", set_auto_migrate, NULL, RSRC_CONF,
                 "create or upgrade the schema at start-up (default On)"),
    AP_INIT_TAKE1("AuthAPIRefreshReuseGrace", set_duration, OFF(reuse_grace),
                  RSRC_CONF, "window in which a just-rotated refresh token "
                  "still works (default 10s)"),
    AP_INIT_TAKE1("AuthAPISessionCacheTTL", set_duration,
                  OFF(session_cache_ttl), RSRC_CONF,
                  "how long a process trusts a session it checked (5s)"),
    AP_INIT_TAKE1("AuthAPIPruneInterval", set_duration, OFF(prune_interval),
                  RSRC_CONF, "how often sessions ended at least that long "
                  "ago are deleted from the database (1h; 0: never)"),
    AP_INIT_TAKE1("AuthAPISOCache", set_socache, NULL, RSRC_CONF,
                  "mod_socache provider[:args] for shared state (shmcb)"),
    AP_INIT_FLAG("AuthAPITokenCookies", set_flag, OFF(token_cookies),
                 RSRC_CONF, "also set the tokens as cookies (Off)"),
    AP_INIT_FLAG("AuthAPITokensInBody", set_flag, OFF(tokens_in_body),
                 RSRC_CONF, "return the tokens in the JSON body (On)"),
    AP_INIT_FLAG("AuthAPICookieSecure", set_flag, OFF(cookie_secure),
                 RSRC_CONF, "mark the cookies Secure (On)"),
    AP_INIT_TAKE1("AuthAPICookieSameSite", set_samesite, NULL, RSRC_CONF,
                  "Strict, Lax (default) or None"),
    AP_INIT_ITERATE("AuthAPICORSOrigins", set_cors_origin, NULL, RSRC_CONF,
                    "origins allowed to call the API from a browser"),
    AP_INIT_FLAG("AuthAPISilentRefresh", set_flag, OFF(silent_refresh),
                 RSRC_CONF, "refresh expired access cookies inside protected "
                 "locations (Off)"),
    AP_INIT_TAKE1("AuthAPIRemoteUser", set_remote_user, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_AUTHCFG,
                  "what REMOTE_USER holds: email (default), username, sub"),
    AP_INIT_FLAG("AuthAPIForwardHeaders", set_forward_headers, NULL,
                 RSRC_CONF | ACCESS_CONF | OR_AUTHCFG,
                 "pass the identity to proxied backends as X-Auth-Api-*"),
    AP_INIT_TAKE1("AuthAPILoginURL", set_login_url, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_AUTHCFG,
                  "where browsers without a token are sent (a local path)"),
    { NULL }
};

/* ==== where the module is used ==== */

/* Returns 1 when NODE uses this module: its handler, its auth type, its
 * authn provider (AuthBasicProvider, AuthFormProvider) or one of its authz
 * providers (Require auth-api-...). */
static int refers_to_module(apr_pool_t *p, const ap_directive_t *node)
{
    const char *args = node->args, *w;

    if (!strcasecmp(node->directive, "SetHandler")
        || !strcasecmp(node->directive, "AddHandler")
        || !strcasecmp(node->directive, "AuthType")) {
        w = ap_getword_conf(p, &args);
        return !strcasecmp(w, "auth-api");
    }
    if (!strcasecmp(node->directive, "AuthBasicProvider")
        || !strcasecmp(node->directive, "AuthFormProvider")) {
        while (*(w = ap_getword_conf(p, &args))) {
            if (!strcasecmp(w, "auth-api")) {
                return 1;
            }
        }
        return 0;
    }
    if (!strcasecmp(node->directive, "Require")) {
        w = ap_getword_conf(p, &args);
        if (!strcasecmp(w, "not")) {
            w = ap_getword_conf(p, &args);
        }
        return !strncasecmp(w, "auth-api-", 9);
    }
    return 0;
}

/* Returns the <VirtualHost> node that encloses NODE, or NULL. */
static const ap_directive_t *enclosing_vhost(const ap_directive_t *node)
{
    for (node = node->parent; node; node = node->parent) {
        if (!strcasecmp(node->directive, "<VirtualHost")) {
            return node;
        }
    }
    return NULL;
}

/* Walks the tree from NODE, noting uses that apply to server S (whose
 * <VirtualHost> node is VH, NULL for the main server). */
static void scan_usage(apr_pool_t *p, const ap_directive_t *node,
                       const ap_directive_t *vh, aapi_usage_t *u)
{
    for (; node && !u->used; node = node->next) {
        const ap_directive_t *encl = enclosing_vhost(node);
        /* an AuthAPI directive of the server's own (in its <VirtualHost>,
         * or outside any for the main server): the module is set up for
         * it, so that .htaccess files may use it */
        int own = !strncasecmp(node->directive, "AuthAPI", 7) && encl == vh;

        if ((refers_to_module(p, node) && (!encl || encl == vh)) || own) {
            u->used = 1;
            u->where = apr_psprintf(p, "%s:%d", node->filename, node->line_num);
            return;
        }
        if (node->first_child) {
            scan_usage(p, node->first_child, vh, u);
        }
    }
}

void aapi_config_usage(apr_pool_t *p, server_rec *s, aapi_usage_t *u)
{
    const ap_directive_t *vh = NULL, *node;

    u->used = 0;
    u->where = NULL;
    if (s->is_virtual && s->defn_name) {
        for (node = ap_conftree; node; node = node->next) {
            if (!strcasecmp(node->directive, "<VirtualHost")
                && node->line_num == (int)s->defn_line_number
                && node->filename && !strcmp(node->filename, s->defn_name)) {
                vh = node;
                break;
            }
        }
    }
    scan_usage(p, ap_conftree, vh, u);
}
