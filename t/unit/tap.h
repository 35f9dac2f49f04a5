/*
 * tap.h - a minimal TAP producer for the C unit tests, plus the APR set-up
 * they share. Header-only: each test file includes it once.
 *
 *   int main(void) {
 *       apr_pool_t *p = tap_init();
 *       ok(1 + 1 == 2, "addition works");
 *       is_str(got, "want", "the thing is formatted");
 *       return done();
 *   }
 *
 * The plan is printed at the end unless plan(n) was called first. done()
 * tears the pool down and returns the process exit status: 0 when every test
 * passed (or failed inside a TODO block), 1 otherwise.
 */
#ifndef AAPI_TAP_H
#define AAPI_TAP_H

#include "apr_general.h"
#include "apr_pools.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_run, tap_failed, tap_planned;
static const char *tap_todo;
static apr_pool_t *tap_pool;

/* Not every test file uses every helper. */
#define TAP_FN static __attribute__((unused))

/* Prints the plan now; call at most once, before the first test. */
TAP_FN void plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
}

/* Prints a diagnostic line ("# ...") to stdout, where prove shows it. */
__attribute__((format(printf, 1, 2)))
TAP_FN void diag(const char *fmt, ...)
{
    va_list ap;

    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

/* Marks the following tests as TODO (known failures) until todo_end(). */
TAP_FN void todo_start(const char *reason)
{
    tap_todo = reason;
}

TAP_FN void todo_end(void)
{
    tap_todo = NULL;
}

/* Records one test; returns COND so callers can add diagnostics. */
TAP_FN int ok(int cond, const char *name)
{
    const unsigned char *c;

    tap_run++;
    printf("%sok %d - ", cond ? "" : "not ", tap_run);
    /* one line per test: control characters escaped, '#' too (TAP 13) */
    for (c = (const unsigned char *)name; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            printf("\\x%02x", *c);
        }
        else {
            if (*c == '#' || *c == '\\') {
                putchar('\\');
            }
            putchar(*c);
        }
    }
    if (tap_todo) {
        printf(" # TODO %s", tap_todo);
    }
    putchar('\n');
    if (!cond && !tap_todo) {
        tap_failed++;
    }
    fflush(stdout);
    return cond;
}

/* Passes when the strings are equal (both NULL counts as equal). */
TAP_FN int is_str(const char *got, const char *want, const char *name)
{
    int same = (got == NULL && want == NULL)
               || (got && want && strcmp(got, want) == 0);
    if (!ok(same, name)) {
        diag("       got: %s%s%s", got ? "'" : "", got ? got : "NULL",
             got ? "'" : "");
        diag("  expected: %s%s%s", want ? "'" : "", want ? want : "NULL",
             want ? "'" : "");
    }
    return same;
}

/* Passes when the integers are equal. */
TAP_FN int is_int(long long got, long long want, const char *name)
{
    if (!ok(got == want, name)) {
        diag("       got: %lld", got);
        diag("  expected: %lld", want);
    }
    return got == want;
}

/* Initialises APR and returns a pool that lives until done(). */
TAP_FN apr_pool_t *tap_init(void)
{
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&tap_pool, NULL) != APR_SUCCESS) {
        printf("Bail out! cannot initialise APR\n");
        exit(255);
    }
    return tap_pool;
}

/* Ends the run: prints the plan if not yet printed, releases APR, and
 * returns the exit status for main. */
TAP_FN int done(void)
{
    if (!tap_planned) {
        printf("1..%d\n", tap_run);
    }
    else if (tap_planned != tap_run) {
        diag("planned %d tests but ran %d", tap_planned, tap_run);
        tap_failed++;
    }
    if (tap_failed) {
        diag("failed %d of %d tests", tap_failed, tap_run);
    }
    fflush(stdout);
    if (tap_pool) {
        apr_pool_destroy(tap_pool);
        tap_pool = NULL;
    }
    apr_terminate();
    return tap_failed ? 1 : 0;
}

#endif /* AAPI_TAP_H */
