/*
 * test_password.c - level 2 password hashing of src/password.c: bcrypt
 * (cost 4 here, for speed) and argon2id (m=64 KiB, t=1, p=1), the 72-byte
 * bcrypt limit of API.md section 4, and refusal of malformed hashes.
 */
#include "aapi.h"
#include "password.h"
#include "tap.h"

#include <string.h>

static apr_pool_t *p;

static const aapi_hash_cfg_t bcrypt4 = { AAPI_HASH_BCRYPT, 4, 0, 0, 0 };
static const aapi_hash_cfg_t argon = { AAPI_HASH_ARGON2ID, 0, 64, 1, 1 };

/* Returns a string of N copies of C. */
static char *rep(char c, size_t n)
{
    char *out = apr_palloc(p, n + 1);
    memset(out, c, n);
    out[n] = '\0';
    return out;
}

/* Returns a copy of S with byte I set to C. */
static char *with(const char *s, size_t i, char c)
{
    char *out = apr_pstrdup(p, s);
    out[i] = c;
    return out;
}

static void test_bcrypt(void)
{
    const char *pw = "Correct-Horse-1";
    char *h = aapi_password_hash(p, &bcrypt4, pw);
    char *h2 = aapi_password_hash(p, &bcrypt4, pw);

    if (!ok(h != NULL, "bcrypt: hash succeeds")) {
        return;
    }
    is_int(strlen(h), 60, "bcrypt: the hash is 60 characters");
    ok(strncmp(h, "$2", 2) == 0 && h[3] == '$' && strncmp(h + 3, "$04$", 4) == 0,
       apr_psprintf(p, "bcrypt: modular crypt format with cost 04 (%.7s)", h));
    ok(h2 && strcmp(h, h2) != 0, "bcrypt: two hashes of one password differ (salt)");

    ok(aapi_password_verify(p, pw, h), "bcrypt: the right password verifies");
    ok(h2 && aapi_password_verify(p, pw, h2), "bcrypt: against either hash");
    ok(!aapi_password_verify(p, "Correct-Horse-2", h),
       "bcrypt: a wrong password is refused");
    ok(!aapi_password_verify(p, "correct-horse-1", h),
       "bcrypt: the password is case-sensitive");
    ok(!aapi_password_verify(p, "Correct-Horse-1 ", h),
       "bcrypt: a trailing space matters");
    ok(!aapi_password_verify(p, "", h), "bcrypt: the empty password is refused");

    /* the prefix letter: $2a$, $2b$ and $2y$ are the same computation */
    ok(aapi_password_verify(p, pw, with(h, 2, 'b')),
       "bcrypt: the $2b$ spelling of the same hash verifies");
    ok(aapi_password_verify(p, pw, with(h, 2, 'a')),
       "bcrypt: the $2a$ spelling of the same hash verifies");
    ok(aapi_password_verify(p, pw, with(h, 2, 'y')),
       "bcrypt: the $2y$ spelling of the same hash verifies");
    ok(!aapi_password_verify(p, pw, with(h, 2, 'x')),
       "bcrypt: $2x$ (the buggy variant) is refused");
    ok(!aapi_password_verify(p, "Correct-Horse-2", with(h, 2, 'b')),
       "bcrypt: $2b$ with a wrong password is refused");

    /* garbage and damaged hashes */
    ok(!aapi_password_verify(p, pw, NULL), "bcrypt: a NULL hash is refused");
    ok(!aapi_password_verify(p, pw, ""), "bcrypt: the empty hash is refused");
    ok(!aapi_password_verify(p, pw, "garbage"), "bcrypt: garbage is refused");
    ok(!aapi_password_verify(p, pw, pw), "bcrypt: the password itself is refused");
    ok(!aapi_password_verify(p, pw, apr_pstrndup(p, h, 59)),
       "bcrypt: a hash one character short is refused");
    ok(!aapi_password_verify(p, pw, apr_pstrcat(p, h, "x", NULL)),
       "bcrypt: a hash one character long is refused");
    ok(!aapi_password_verify(p, pw, with(h, 59, h[59] == 'a' ? 'b' : 'a')),
       "bcrypt: a changed checksum character is refused");
    ok(!aapi_password_verify(p, pw, with(h, 10, h[10] == 'a' ? 'b' : 'a')),
       "bcrypt: a changed salt character is refused");
    ok(!aapi_password_verify(p, pw, with(h, 12, '!')),
       "bcrypt: a salt character outside the alphabet is refused");
    ok(!aapi_password_verify(p, pw, with(h, 5, '5')),
       "bcrypt: a different cost (05) is refused");
    ok(!aapi_password_verify(p, pw, with(with(h, 4, '9'), 5, '9')),
       "bcrypt: an impossible cost (99) is refused");
    ok(!aapi_password_verify(p, pw, with(h, 4, 'x')),
       "bcrypt: a non-digit cost is refused");
    ok(!aapi_password_verify(p, pw, with(h, 6, '.')),
       "bcrypt: a missing '$' after the cost is refused");
    ok(!aapi_password_verify(p, pw, rep('$', 60)), "bcrypt: 60 dollars are refused");
}

static void test_bcrypt_72(void)
{
    char *pw72 = rep('a', 72), *pw73 = apr_pstrcat(p, pw72, "b", NULL);
    char *h = aapi_password_hash(p, &bcrypt4, pw72);

    is_int(aapi_password_max_bytes(&bcrypt4), 72,
           "bcrypt: max_bytes is 72 (AAPI_BCRYPT_MAX_BYTES)");
    ok(h != NULL, "bcrypt: a 72-byte password hashes");
    ok(h && aapi_password_verify(p, pw72, h), "bcrypt: a 72-byte password verifies");
    ok(h && !aapi_password_verify(p, pw73, h),
       "bcrypt: a 73-byte password whose first 72 bytes match is refused");
    ok(h && !aapi_password_verify(p, apr_pstrcat(p, pw72, rep('z', 100), NULL), h),
       "bcrypt: a 172-byte password whose first 72 bytes match is refused");
    ok(h && !aapi_password_verify(p, pw73, with(h, 2, 'b')),
       "bcrypt: ... also under the $2b$ spelling");
    ok(aapi_password_hash(p, &bcrypt4, pw73) == NULL,
       "bcrypt: hashing a 73-byte password is refused, not truncated");
}

static void test_argon2(void)
{
    const char *pw = "Correct-Horse-1";
    char *h = aapi_password_hash(p, &argon, pw);
    char *h2 = aapi_password_hash(p, &argon, pw);
    char *pw1024 = rep('k', 1024), *pw1025 = rep('k', 1025);
    char *hl;

    if (!ok(h != NULL, "argon2id: hash succeeds")) {
        return;
    }
    ok(strncmp(h, "$argon2id$v=19$m=64,t=1,p=1$", 28) == 0,
       apr_psprintf(p, "argon2id: PHC string with the parameters (%.28s)", h));
    ok(h2 && strcmp(h, h2) != 0, "argon2id: two hashes of one password differ");
    ok(aapi_password_verify(p, pw, h), "argon2id: the right password verifies");
    ok(!aapi_password_verify(p, "Correct-Horse-2", h),
       "argon2id: a wrong password is refused");
    ok(!aapi_password_verify(p, "", h), "argon2id: the empty password is refused");
    ok(!aapi_password_verify(p, pw, apr_pstrndup(p, h, strlen(h) - 1)),
       "argon2id: a truncated hash is refused");
    ok(!aapi_password_verify(p, pw, with(h, strlen(h) - 2,
                                         h[strlen(h) - 2] == 'A' ? 'B' : 'A')),
       "argon2id: a changed digest character is refused");
    ok(!aapi_password_verify(p, pw, "$argon2id$garbage"),
       "argon2id: a garbage argon2id string is refused");
    ok(!aapi_password_verify(p, pw, apr_pstrcat(p, "$argon2i$", h + 10, NULL)),
       "argon2id: the same string labelled argon2i is refused");

    is_int(aapi_password_max_bytes(&argon), 1024,
           "argon2id: max_bytes is 1024 (AAPI_MAX_PASSWORD_LEN)");
    hl = aapi_password_hash(p, &argon, pw1024);
    ok(hl && aapi_password_verify(p, pw1024, hl),
       "argon2id: a 1024-byte password hashes and verifies");
    ok(hl && !aapi_password_verify(p, pw1025, hl),
       "argon2id: a 1025-byte password is refused by verify");
    ok(aapi_password_hash(p, &argon, pw1025) == NULL,
       "argon2id: hashing a 1025-byte password is refused");
    {
        char *pw80 = rep('q', 80);
        char *h80 = aapi_password_hash(p, &argon, pw80);
        ok(h80 && aapi_password_verify(p, pw80, h80)
           && !aapi_password_verify(p, rep('q', 79), h80)
           && !aapi_password_verify(p, apr_pstrcat(p, rep('q', 72), "rrrrrrrr",
                                                   NULL), h80),
           "argon2id: every byte past 72 counts");
    }
}

/* A stored hash weaker than the settings is hashed again at the next
 * sign-in; an equal or stronger one, or one not understood, is kept. */
static void test_needs_rehash(void)
{
    static const aapi_hash_cfg_t bcrypt10 = { AAPI_HASH_BCRYPT, 10, 0, 0, 0 };
    static const aapi_hash_cfg_t argon_big = { AAPI_HASH_ARGON2ID, 0, 65536,
                                               3, 1 };
    const char *b4 = aapi_password_hash(p, &bcrypt4, "Secret-pw1");
    const char *a64 = aapi_password_hash(p, &argon, "Secret-pw1");
    const char *b12 = "$2y$12$abcdefghijklmnopqrstuu"
                      "0123456789abcdefghijklmnopqrstu";

    ok(b4 && a64, "rehash: hashes made");
    if (!b4 || !a64) {
        return;
    }
    ok(!aapi_password_needs_rehash(b4, &bcrypt4),
       "rehash: bcrypt at the configured cost: kept");
    ok(aapi_password_needs_rehash(b4, &bcrypt10),
       "rehash: bcrypt 4 where the settings say 10: hashed again");
    ok(!aapi_password_needs_rehash(b12, &bcrypt10),
       "rehash: bcrypt 12 where the settings say 10: kept (never weaker)");
    ok(aapi_password_needs_rehash(b4, &argon),
       "rehash: bcrypt where the settings say argon2id: hashed again");
    ok(!aapi_password_needs_rehash(a64, &argon),
       "rehash: argon2id at the configured memory and passes: kept");
    ok(aapi_password_needs_rehash(a64, &argon_big),
       "rehash: argon2id with less memory and fewer passes: hashed again");
    ok(aapi_password_needs_rehash("$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ"
                                  "$aGFzaGhhc2hoYXNoaGFzaA", &argon_big),
       "rehash: argon2id with fewer passes only: hashed again");
    ok(!aapi_password_needs_rehash(a64, &bcrypt10),
       "rehash: argon2id where the settings say bcrypt: kept");
    ok(!aapi_password_needs_rehash(NULL, &bcrypt10)
       && !aapi_password_needs_rehash("", &bcrypt10)
       && !aapi_password_needs_rehash("plain", &argon)
       && !aapi_password_needs_rehash("$argon2id$v=19$m=x,t=1$", &argon_big)
       && !aapi_password_needs_rehash("$2y$1", &bcrypt10),
       "rehash: nothing, or a hash not understood: kept");
}

int main(void)
{
    p = tap_init();
    test_bcrypt();
    test_bcrypt_72();
    test_argon2();
    test_needs_rehash();
    return done();
}
