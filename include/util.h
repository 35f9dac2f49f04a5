/* util.h - level 0: encodings, randomness, comparisons, time, units. */
#ifndef AAPI_UTIL_H
#define AAPI_UTIL_H

#include "apr_pools.h"
#include "apr_tables.h"
#include "apr_time.h"
#include <stddef.h>
#include <string.h>

/* Returns the base64url (no padding) encoding of IN, allocated from P. */
char *aapi_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len);

/* Writes the base64url encoding of IN to OUT (room for
 * aapi_b64url_enclen(len) + 1 bytes); returns the length written. */
size_t aapi_b64url_encode_to(char *out, const unsigned char *in, size_t len);

/* Returns 1 when each of the N bytes at S is a base64url digit or EXTRA. */
int aapi_b64url_charset_ok(const char *s, size_t n, char extra);

/* Returns the encoded length of LEN bytes in base64url without padding. */
size_t aapi_b64url_enclen(size_t len);

/* Decodes strict base64url (no padding, no white space, canonical trailing
 * bits) into OUT (room for inlen*3/4+1, all of which it may write); returns
 * 0 and sets *outlen, or -1. */
int aapi_b64url_decode(unsigned char *out, size_t *outlen,
                       const char *in, size_t inlen);

/* Fills BUF with N bytes from OpenSSL's CSPRNG; returns 0, or -1 on failure. */
int aapi_random_bytes(unsigned char *buf, size_t n);

/* Returns NBYTES random bytes as lower-case hex from P, or NULL. */
char *aapi_random_hex(apr_pool_t *p, size_t nbytes);

/* Returns NBYTES random bytes as base64url from P, or NULL. */
char *aapi_random_b64url(apr_pool_t *p, size_t nbytes);

/* Returns 1 when the N bytes at A and B are equal, in constant time. */
int aapi_ct_equal(const void *a, const void *b, size_t n);

/* Returns 1 when the N bytes at A and B are equal, in constant time, eight
 * bytes a step: for long values (whole tokens) where CRYPTO_memcmp's byte
 * loop shows on the hot path. */
int aapi_ct_equal_long(const void *a, const void *b, size_t n);

/* Returns the lower-case hex SHA-256 of DATA, allocated from P. */
char *aapi_sha256_hex(apr_pool_t *p, const void *data, size_t len);

/* Returns the current time in whole seconds since the epoch. */
apr_int64_t aapi_now(void);

/* Returns the decimal text of V from P, as "%" APR_INT64_T_FMT would
 * (without apr_psprintf's cost: it runs on database calls of the hot path). */
char *aapi_i64_text(apr_pool_t *p, apr_int64_t v);

/* Returns T (seconds since the epoch) as RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ". */
char *aapi_rfc3339(apr_pool_t *p, apr_int64_t t);

/* Writes T as RFC 3339 UTC into BUF (at least 21 bytes); returns BUF. */
char *aapi_rfc3339_to(char *buf, size_t n, apr_int64_t t);

/* Parses a duration ("90", "90s", "15m", "12h", "30d") into *SECS;
 * returns NULL, or a message saying what is wrong. */
const char *aapi_parse_duration(const char *s, apr_int64_t *secs);

/* Parses a size ("16384", "16k", "1m") into *BYTES;
 * returns NULL, or a message saying what is wrong. */
const char *aapi_parse_size(const char *s, apr_off_t *bytes);

/* Returns a copy of S from P with ASCII letters lowered. */
char *aapi_ascii_lower(apr_pool_t *p, const char *s);

/* Returns 1 when the N bytes at S are valid UTF-8 without NUL, else 0. */
int aapi_utf8_valid(const char *s, size_t n);

/* Returns a copy of S from P, at most MAXBYTES long, cut at a character
 * boundary, with every byte that is not valid UTF-8 (or is a control
 * character) replaced by '?'. */
char *aapi_utf8_clean(apr_pool_t *p, const char *s, size_t maxbytes);

/* Returns the eight bytes at S (which has at least eight) as one word, in
 * memory order: words made from two strings compare as the strings do.
 * With a mask ORed in that has 0x20 for each letter, a word of a name
 * compares with the word of its lower-case form without regard to case
 * (c | 0x20 is a lower-case letter only for that letter in either case;
 * a byte the mask has 0 for is compared as it is). */
static APR_INLINE apr_uint64_t aapi_word_at(const char *s)
{
    apr_uint64_t w;

    memcpy(&w, s, sizeof(w));
    return w;
}

/* Returns the number of code points in the valid UTF-8 string S. */
size_t aapi_utf8_len(const char *s);

/* A fixed list of names to add to a table at once (the AUTH_API_*
 * variables of every authenticated request): a table of NAMES (N of them,
 * strings that live as long as P) made once from P, copied for a request
 * with one apr_table_copy instead of one apr_table_addn a name. NULL when
 * N < 1, or when the APR in use does not copy a table entry for entry in
 * order (checked once, here: aapi_table_tpl_copy relies on it). */
typedef struct aapi_table_tpl aapi_table_tpl_t;

aapi_table_tpl_t *aapi_table_tpl_make(apr_pool_t *p, const char *const *names,
                                      int n);

/* When T is empty, sets *COPY to a table from P with the names of TPL (in
 * its order, each with the value "") for the caller to use instead of T,
 * and returns its entries, for the caller to give the N names their values
 * (strings that live as long as P) by index; else returns NULL (the
 * caller then sets each name in T). A value is not part of a table's index
 * (names and their checksums are), so the table stays consistent, as
 * t/unit/test_util.c checks against the APR in use. */
apr_table_entry_t *aapi_table_tpl_copy(apr_pool_t *p, const apr_table_t *t,
                                       const aapi_table_tpl_t *tpl,
                                       apr_table_t **copy);

#endif
