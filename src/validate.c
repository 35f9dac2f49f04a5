/*
 * validate.c - level 2: the field rules of registration and profile changes.
 * Pure functions over strings: no request, no database.
 */
#include "aapi.h"
#include "validate.h"
#include "embedded.h"
#include "util.h"

#include "apr_hash.h"
#include "apr_lib.h"
#include <string.h>
#include <strings.h>

void aapi_add_error(apr_array_header_t *errs, const char *field,
                    const char *msg)
{
    aapi_field_error_t *e = apr_array_push(errs);
    e->field = field;
    e->msg = msg;
}

/* ==== e-mail ==== */

/* Returns 1 when C may appear in the local part of an address (RFC 5322
 * dot-atom text). */
static int local_char(char c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

/* Returns 1 when DOMAIN (LEN bytes) is a host name with at least two labels
 * and an alphabetic top-level label. */
static int domain_ok(const char *d, size_t len)
{
    size_t i, label = 0, labels = 1, last_start = 0;

    if (len == 0 || len > 253) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char c = d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-') {
                return 0;
            }
            label = 0;
            labels++;
            last_start = i + 1;
            continue;
        }
        if (!(apr_isalnum(c) || c == '-')) {
            return 0;
        }
        if (label == 0 && c == '-') {
            return 0;
        }
        if (++label > 63) {
            return 0;
        }
    }
    if (label == 0 || d[len - 1] == '-' || labels < 2) {
        return 0;
    }
    if (len - last_start < 2) {
        return 0;
    }
    for (i = last_start; i < len; i++) {
        if (!apr_isalpha(d[i])) {
            return 0;
        }
    }
    return 1;
}

const char *aapi_validate_email(apr_pool_t *p, const char *in,
                                const char **norm, apr_array_header_t *errs)
{
    const char *start = in, *end, *at, *c;
    size_t len, local_len;
    char *email;

    while (*start && apr_isspace(*start)) {
        start++;
    }
    end = start + strlen(start);
    while (end > start && apr_isspace(end[-1])) {
        end--;
    }
    len = (size_t)(end - start);
    if (len == 0) {
        aapi_add_error(errs, "email", "is required");
        return NULL;
    }
    if (len > AAPI_MAX_EMAIL_LEN) {
        aapi_add_error(errs, "email", "must be at most 254 characters");
        return NULL;
    }
    email = apr_pstrmemdup(p, start, len);
    at = strchr(email, '@');
    local_len = at ? (size_t)(at - email) : 0;
    if (!at || strchr(at + 1, '@') || local_len == 0 || local_len > 64
        || email[0] == '.' || at[-1] == '.' || strstr(email, "..")
        || !domain_ok(at + 1, strlen(at + 1))) {
        aapi_add_error(errs, "email", "must be a valid email address");
        return NULL;
    }
    for (c = email; c < at; c++) {
        if (!local_char(*c)) {
            aapi_add_error(errs, "email", "must be a valid email address");
            return NULL;
        }
    }
    *norm = aapi_ascii_lower(p, email);
    return email;
}

/* ==== names ==== */

int aapi_validate_username(const char *in, apr_array_header_t *errs)
{
    size_t n = strlen(in), i;
    int ok = n >= 3 && n <= 20;

    for (i = 0; ok && i < n; i++) {
        ok = apr_isalnum(in[i]) || in[i] == '_';
    }
    if (!ok) {
        aapi_add_error(errs, "username",
                       "must be 3 to 20 letters, digits or underscores");
    }
    return ok;
}

int aapi_validate_name(const char *field, const char *in,
                       apr_array_header_t *errs)
{
    const unsigned char *c;

    if (aapi_utf8_len(in) > AAPI_MAX_NAME_LEN) {
        aapi_add_error(errs, field, "must be at most 100 characters");
        return 0;
    }
    for (c = (const unsigned char *)in; *c; c++) {
        /* C0, DEL, and C1 (U+0080-U+009F, UTF-8 C2 80 - C2 9F) */
        if (*c < 0x20 || *c == 0x7f
            || (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)) {
            aapi_add_error(errs, field, "must not contain control characters");
            return 0;
        }
    }
    return 1;
}

/* ==== passwords ==== */

static apr_hash_t *common_passwords;

int aapi_common_passwords_init(apr_pool_t *p)
{
    int i;

    common_passwords = apr_hash_make(p);
    for (i = 0; aapi_common_passwords[i]; i++) {
        apr_hash_set(common_passwords, aapi_common_passwords[i],
                     APR_HASH_KEY_STRING, "");
    }
    return i;
}

/* Returns the letter that a look-alike digit or sign stands for, or C. */
static char unleet(char c)
{
    switch (c) {
    case '@': case '4': return 'a';
    case '0': return 'o';
    case '1': case '!': return 'i';
    case '3': return 'e';
    case '$': case '5': return 's';
    case '7': return 't';
    default: return c;
    }
}

/* Returns 1 when BUF (lower case) is in the list. */
static int listed(const char *buf)
{
    return apr_hash_get(common_passwords, buf, APR_HASH_KEY_STRING) != NULL;
}

int aapi_is_common_password(const char *pw)
{
    char buf[128];
    size_t n = strlen(pw), i;

    if (!common_passwords || n >= sizeof(buf)) {
        return 0;
    }
    for (i = 0; i <= n; i++) {
        buf[i] = (char)apr_tolower(pw[i]);
    }
    if (listed(buf)) {
        return 1;
    }
    /* a listed word dressed up to pass the policy is still that word:
     * "Password1!" and "P@ssw0rd1" are "password" with digits and signs */
    while (n > 0 && !apr_isalpha(buf[n - 1])) {
        buf[--n] = '\0';
    }
    if (n >= 4 && listed(buf)) {
        return 1;
    }
    for (i = 0; i < n; i++) {
        buf[i] = unleet(buf[i]);
    }
    return n >= 4 && listed(buf);
}

int aapi_validate_password(apr_pool_t *p, const char *field, const char *pw,
                           const aapi_policy_t *policy, size_t maxbytes,
                           const char *email, const char *username,
                           apr_array_header_t *errs)
{
    int before = errs->nelts, upper = 0, lower = 0, digit = 0, special = 0;
    size_t bytes = strlen(pw);
    const char *c;

    if (bytes > maxbytes) {
        aapi_add_error(errs, field,
                       apr_psprintf(p, "must be at most %" APR_SIZE_T_FMT
                                    " bytes long", maxbytes));
        return 0;
    }
    for (c = pw; *c; c++) {
        if (apr_isupper(*c)) upper = 1;
        else if (apr_islower(*c)) lower = 1;
        else if (apr_isdigit(*c)) digit = 1;
        else special = 1;
    }
    if (aapi_utf8_len(pw) < (size_t)policy->min_len) {
        aapi_add_error(errs, field,
                       apr_psprintf(p, "must be at least %d characters long",
                                    policy->min_len));
    }
    if (policy->upper && !upper) {
        aapi_add_error(errs, field, "must contain an uppercase letter");
    }
    if (policy->lower && !lower) {
        aapi_add_error(errs, field, "must contain a lowercase letter");
    }
    if (policy->digit && !digit) {
        aapi_add_error(errs, field, "must contain a digit");
    }
    if (policy->special && !special) {
        aapi_add_error(errs, field, "must contain a special character");
    }
    if (errs->nelts == before) {
        if (aapi_is_common_password(pw)) {
            aapi_add_error(errs, field, "is too common");
        }
        else if ((email && strcasecmp(pw, email) == 0)
                 || (username && strcasecmp(pw, username) == 0)) {
            aapi_add_error(errs, field,
                           "must not be the same as the email or username");
        }
    }
    return errs->nelts == before;
}

const char *aapi_errors_sentence(apr_pool_t *p, const apr_array_header_t *errs)
{
    const aapi_field_error_t *e;
    char *field, *c;

    if (!errs || errs->nelts == 0) {
        return "Validation failed";
    }
    e = &APR_ARRAY_IDX(errs, 0, aapi_field_error_t);
    field = apr_pstrdup(p, e->field);
    for (c = field; *c; c++) {
        if (*c == '_') {
            *c = ' ';
        }
    }
    field[0] = (char)apr_toupper(field[0]);
    return apr_pstrcat(p, field, " ", e->msg, NULL);
}
