/*
 * test_validate.c - level 2 field rules of src/validate.c against API.md
 * section 4 "Registration": e-mail, username, names, password policy, the
 * common-password list, and the sentence made from the first error.
 */
#include "aapi.h"
#include "validate.h"
#include "tap.h"

#include <string.h>

static apr_pool_t *p;

static apr_array_header_t *new_errs(void)
{
    return apr_array_make(p, 4, sizeof(aapi_field_error_t));
}

/* Returns the message of error I, or NULL. */
static const char *msg(const apr_array_header_t *errs, int i)
{
    return i < errs->nelts ? APR_ARRAY_IDX(errs, i, aapi_field_error_t).msg
                           : NULL;
}

static const char *field(const apr_array_header_t *errs, int i)
{
    return i < errs->nelts ? APR_ARRAY_IDX(errs, i, aapi_field_error_t).field
                           : NULL;
}

/* Returns a string of N copies of the string UNIT. */
static char *rep(const char *unit, int n)
{
    size_t u = strlen(unit);
    char *out = apr_palloc(p, u * (size_t)n + 1);
    int i;

    for (i = 0; i < n; i++) {
        memcpy(out + u * (size_t)i, unit, u);
    }
    out[u * (size_t)n] = '\0';
    return out;
}

/* ==== e-mail ==== */

static void email_ok(const char *in, const char *want, const char *want_norm)
{
    apr_array_header_t *errs = new_errs();
    const char *norm = NULL;
    const char *got = aapi_validate_email(p, in, &norm, errs);
    int good = got && strcmp(got, want) == 0 && norm
               && strcmp(norm, want_norm) == 0 && errs->nelts == 0;

    if (!ok(good, apr_psprintf(p, "email accepted: '%s'", in))) {
        diag("got '%s' norm '%s' errors %d (%s)", got ? got : "NULL",
             norm ? norm : "NULL", errs->nelts, msg(errs, 0) ? msg(errs, 0) : "");
    }
}

static void email_bad(const char *in, const char *want_msg, const char *why)
{
    apr_array_header_t *errs = new_errs();
    const char *norm = "untouched";
    const char *got = aapi_validate_email(p, in, &norm, errs);
    int good = got == NULL && errs->nelts == 1 && strcmp(field(errs, 0), "email") == 0
               && strcmp(msg(errs, 0), want_msg) == 0;

    if (!ok(good, apr_psprintf(p, "email refused (%s): '%.40s%s'", why, in,
                               strlen(in) > 40 ? "..." : ""))) {
        diag("got '%s', %d errors, first '%s'", got ? got : "NULL", errs->nelts,
             msg(errs, 0) ? msg(errs, 0) : "");
    }
}

#define INVALID "must be a valid email address"

static void test_email(void)
{
    char *local64 = rep("a", 64), *l61 = rep("b", 61), *l62 = rep("b", 62);
    char *at254 = apr_pstrcat(p, local64, "@", l61, ".", l61, ".", l61, ".com",
                              NULL);
    char *at255 = apr_pstrcat(p, local64, "@", l62, ".", l61, ".", l61, ".com",
                              NULL);

    email_ok("ann@example.com", "ann@example.com", "ann@example.com");
    email_ok("  Ann.Lee@Example.COM \t\n", "Ann.Lee@Example.COM",
             "ann.lee@example.com");
    email_ok("a+tag@mail.example.co.uk", "a+tag@mail.example.co.uk",
             "a+tag@mail.example.co.uk");
    email_ok("o'brien_x-y@example.ie", "o'brien_x-y@example.ie",
             "o'brien_x-y@example.ie");
    email_ok("a@b.co", "a@b.co", "a@b.co");
    email_ok("user@xn--bcher-kva.example", "user@xn--bcher-kva.example",
             "user@xn--bcher-kva.example");
    email_ok("first.middle.last@sub-domain.example.org",
             "first.middle.last@sub-domain.example.org",
             "first.middle.last@sub-domain.example.org");

    ok(strlen(at254) == 254 && strlen(at255) == 255, "built 254/255-byte addresses");
    email_ok(at254, at254, at254);
    email_ok(apr_pstrcat(p, "  ", at254, "  ", NULL), at254, at254);
    email_bad(at255, "must be at most 254 characters", "255 characters");

    email_bad("", "is required", "empty");
    email_bad("   \t", "is required", "white space only");
    email_bad("annexample.com", INVALID, "no @");
    email_bad("ann@lee@example.com", INVALID, "two @");
    email_bad("@example.com", INVALID, "empty local part");
    email_bad("ann@", INVALID, "empty domain");
    email_bad(".ann@example.com", INVALID, "leading dot");
    email_bad("ann.@example.com", INVALID, "trailing dot in the local part");
    email_bad("an..n@example.com", INVALID, "double dot in the local part");
    email_bad("ann@example..com", INVALID, "double dot in the domain");
    email_bad("ann@.example.com", INVALID, "domain starting with a dot");
    email_bad("ann@example.com.", INVALID, "domain ending with a dot");
    email_bad("ann@-example.com", INVALID, "label starting with a hyphen");
    email_bad("ann@example-.com", INVALID, "label ending with a hyphen");
    email_bad("ann@exa_mple.com", INVALID, "underscore in the domain");
    email_bad("ann@example", INVALID, "single-label domain");
    email_bad("ann@example.c", INVALID, "one-letter TLD");
    email_bad("ann@example.c0m", INVALID, "TLD with a digit");
    email_bad("ann@10.0.0.1", INVALID, "numeric TLD (IP address)");
    email_bad("ann@[127.0.0.1]", INVALID, "address literal");
    email_bad("ann lee@example.com", INVALID, "space in the local part");
    email_bad("\"ann\"@example.com", INVALID, "quoted local part");
    email_bad("ann(x)@example.com", INVALID, "comment characters");
    email_bad("ann,lee@example.com", INVALID, "comma");
    email_bad("ann@exam ple.com", INVALID, "space in the domain");
    email_bad("\xc3\xa4nn@example.com", INVALID, "non-ASCII local part");
    email_bad("ann@b\xc3\xbc" "cher.example", INVALID, "non-ASCII domain");
    email_bad(apr_pstrcat(p, rep("a", 65), "@example.com", NULL), INVALID,
              "local part over 64 characters");
    email_bad(apr_pstrcat(p, "ann@", rep("d", 64), ".com", NULL), INVALID,
              "domain label over 63 characters");
    email_ok(apr_pstrcat(p, "ann@", rep("d", 63), ".com", NULL),
             apr_pstrcat(p, "ann@", rep("d", 63), ".com", NULL),
             apr_pstrcat(p, "ann@", rep("d", 63), ".com", NULL));
}

/* ==== username and names ==== */

static void username_is(const char *in, int want, const char *why)
{
    apr_array_header_t *errs = new_errs();
    int got = aapi_validate_username(in, errs);
    int good = got == want && errs->nelts == (want ? 0 : 1)
               && (want || strcmp(field(errs, 0), "username") == 0);

    ok(good, apr_psprintf(p, "username %s (%s): '%s'",
                          want ? "accepted" : "refused", why, in));
}

static void name_is(const char *f, const char *in, int want, const char *want_msg,
                    const char *why)
{
    apr_array_header_t *errs = new_errs();
    int got = aapi_validate_name(f, in, errs);
    int good = got == want && errs->nelts == (want ? 0 : 1)
               && (want || (strcmp(field(errs, 0), f) == 0
                            && strcmp(msg(errs, 0), want_msg) == 0));

    if (!ok(good, apr_psprintf(p, "%s %s: %s", f, want ? "accepted" : "refused",
                               why))) {
        diag("got %d with %d errors (%s)", got, errs->nelts,
             msg(errs, 0) ? msg(errs, 0) : "");
    }
}

#define TOO_LONG "must be at most 100 characters"
#define CONTROL  "must not contain control characters"

static void test_names(void)
{
    username_is("ann", 1, "3 characters");
    username_is("Ann_Lee_1", 1, "letters, digits, underscore");
    username_is("___", 1, "underscores only");
    username_is(rep("z", 20), 1, "20 characters");
    username_is("an", 0, "2 characters");
    username_is("", 0, "empty");
    username_is(rep("z", 21), 0, "21 characters");
    username_is("ann-lee", 0, "hyphen");
    username_is("ann.lee", 0, "dot");
    username_is("ann lee", 0, "space");
    username_is("ann@x", 0, "at sign");
    username_is("\xc3\xa4nn", 0, "non-ASCII letter");
    username_is("ann\n", 0, "newline");

    name_is("first_name", "Ann", 1, NULL, "plain");
    name_is("first_name", "", 1, NULL, "empty (required-ness is elsewhere)");
    name_is("last_name", "O'Brien-Smith Jr.", 1, NULL, "punctuation and spaces");
    name_is("full_name", rep("a", 100), 1, NULL, "100 ASCII characters");
    name_is("full_name", rep("a", 101), 0, TOO_LONG, "101 ASCII characters");
    name_is("full_name", rep("\xc3\xa9", 100), 1, NULL,
            "100 two-byte characters (200 bytes)");
    name_is("full_name", rep("\xc3\xa9", 101), 0, TOO_LONG,
            "101 two-byte characters");
    name_is("full_name", rep("\xf0\x9f\x98\x80", 100), 1, NULL,
            "100 four-byte characters (400 bytes)");
    name_is("full_name", rep("\xe6\x9d\x8e", 101), 0, TOO_LONG,
            "101 three-byte characters");
    name_is("first_name", "Ann\nLee", 0, CONTROL, "newline");
    name_is("first_name", "Ann\tLee", 0, CONTROL, "tab");
    name_is("first_name", "\x1b[31mAnn", 0, CONTROL, "escape");
    name_is("first_name", "Ann\x7f", 0, CONTROL, "DEL");
    name_is("last_name", "\xe5\xbc\xa0\xe4\xbc\x9f", 1, NULL, "CJK characters");
    name_is("last_name", "Ann\xc2\x85Lee", 0, CONTROL, "C1 control U+0085 (NEL)");
    name_is("last_name", "Ann\xc2\x9bLee", 0, CONTROL, "C1 control U+009B (CSI)");
}

/* ==== password ==== */

static const aapi_policy_t strict = { 1, 8, 1, 1, 1, 1 };
static const aapi_policy_t relaxed = { 1, 8, 0, 0, 0, 0 };

/* Validates PW; returns the error list. */
static apr_array_header_t *check_pw(const char *pw, const aapi_policy_t *pol,
                                    const char *email, const char *username,
                                    int *result)
{
    apr_array_header_t *errs = new_errs();
    *result = aapi_validate_password(p, "password", pw, pol, 72, email,
                                     username, errs);
    return errs;
}

static void pw_ok(const char *pw, const aapi_policy_t *pol, const char *why)
{
    int r;
    apr_array_header_t *errs = check_pw(pw, pol, "ann@example.com", "ann_1", &r);
    if (!ok(r == 1 && errs->nelts == 0,
            apr_psprintf(p, "password accepted (%s)", why))) {
        diag("first error: %s", msg(errs, 0) ? msg(errs, 0) : "none");
    }
}

/* Tests that PW is refused with exactly the messages in WANT (NULL-ended). */
static void pw_bad(const char *pw, const aapi_policy_t *pol, const char *why,
                   const char *const *want)
{
    int r, i, n = 0, good;
    apr_array_header_t *errs = check_pw(pw, pol, "Ann.Lee1@Example.com",
                                        "Ann_Lee_1", &r);
    const char *wanted = "";

    while (want[n] && n < 8) {
        wanted = apr_pstrcat(p, wanted, n ? "; " : "", want[n], NULL);
        n++;
    }
    good = r == 0 && errs->nelts == n;
    for (i = 0; good && i < n; i++) {
        good = strcmp(field(errs, i), "password") == 0
               && strcmp(msg(errs, i), want[i]) == 0;
    }
    if (!ok(good, apr_psprintf(p, "password refused (%s): %s", why, wanted))) {
        for (i = 0; i < errs->nelts && i < 8; i++) {
            diag("got error: %s", msg(errs, i));
        }
    }
}

#define W(...) (const char *const[]){ __VA_ARGS__, NULL }

static void test_password(void)
{
    int n, r;
    apr_array_header_t *errs;

    ok(aapi_is_common_password("password") == 0,
       "before init, nothing counts as common");
    n = aapi_common_passwords_init(p);
    ok(n > 3000, apr_psprintf(p, "the shipped list loads (%d entries)", n));

    pw_ok("Str0ng!Pass", &strict, "all four classes, 11 characters");
    pw_ok("Ab1!efgh", &strict, "exactly 8 characters");
    pw_ok("Ab1 efgh", &strict, "a space is a special character");
    pw_ok("Ab1!\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &strict,
          "8 characters of which 4 two-byte (12 bytes)");
    pw_ok(apr_pstrcat(p, "Ab1!", rep("x", 68), NULL), &strict,
          "72 bytes, the bcrypt limit");

    pw_bad("Ab1!efg", &strict, "7 characters",
           W("must be at least 8 characters long"));
    pw_bad("Ab1!\xc3\xa9\xc3\xa9\xc3\xa9", &strict,
           "7 characters in 10 bytes: length counts characters",
           W("must be at least 8 characters long"));
    pw_bad("str0ng!pass", &strict, "no uppercase",
           W("must contain an uppercase letter"));
    pw_bad("STR0NG!PASS", &strict, "no lowercase",
           W("must contain a lowercase letter"));
    pw_bad("Strong!Pass", &strict, "no digit", W("must contain a digit"));
    pw_bad("Str0ngPass", &strict, "no special character",
           W("must contain a special character"));
    pw_bad("abc", &strict, "every rule at once",
           W("must be at least 8 characters long",
             "must contain an uppercase letter", "must contain a digit",
             "must contain a special character"));
    pw_bad(apr_pstrcat(p, "Ab1!", rep("x", 69), NULL), &strict,
           "73 bytes, over the bcrypt limit",
           W("must be at most 72 bytes long"));
    pw_bad(apr_pstrcat(p, "Ab1!", rep("\xc3\xa9", 35), NULL), &strict,
           "39 characters but 74 bytes", W("must be at most 72 bytes long"));
    {
        apr_array_header_t *e2 = new_errs();
        ok(aapi_validate_password(p, "password", rep("Ab1!", 20), &strict, 1024,
                                  NULL, NULL, e2) == 1,
           "80 bytes pass when the scheme reads 1024 (argon2id)");
    }

    pw_bad("password", &relaxed, "common", W("is too common"));
    pw_bad("PassWord", &relaxed, "common in mixed case", W("is too common"));
    pw_bad("PASSWORD1", &relaxed, "common in upper case", W("is too common"));
    pw_bad("qwertyuiop", &relaxed, "common keyboard walk", W("is too common"));
    pw_ok("correct horse battery", &relaxed, "not on the list");
    pw_bad("Password1!", &strict, "a listed word with a digit and a sign added",
           W("is too common"));
    pw_bad("P@ssw0rd1", &strict, "a listed word in look-alike characters",
           W("is too common"));
    pw_bad("Dragon2024!!", &strict, "a listed word with a year and signs",
           W("is too common"));
    pw_ok("Tr0ub4dor&3x", &strict, "a word that is not listed, dressed up");
    ok(!aapi_is_common_password("abc1!"),
       "is_common: a stripped core shorter than 4 letters is not judged");
    ok(aapi_is_common_password("PaSsW0Rd"), "is_common ignores case");
    ok(!aapi_is_common_password("Xq7!vB2#mK"), "is_common: a random string is not");
    ok(!aapi_is_common_password(rep("a", 200)),
       "is_common: a long string is not (and does not overflow)");

    pw_bad("ann.lee1@example.COM", &strict, "equal to the email, other case",
           W("must not be the same as the email or username"));
    pw_bad("ANN_lee_1", &strict, "equal to the username, other case",
           W("must not be the same as the email or username"));
    errs = check_pw("ANN_lee_1", &strict, NULL, NULL, &r);
    ok(r == 1 && errs->nelts == 0, "no email or username given: nothing to equal");

    errs = new_errs();
    aapi_validate_password(p, "new_password", "short", &strict, 72, NULL, NULL,
                           errs);
    ok(errs->nelts > 0 && strcmp(field(errs, 0), "new_password") == 0,
       "errors are filed under the field name given");
    {
        apr_array_header_t *e2 = new_errs();
        aapi_add_error(e2, "email", "is required");
        aapi_validate_password(p, "password", "Str0ng!Pass", &strict, 72, NULL,
                               NULL, e2);
        ok(e2->nelts == 1, "earlier errors of other fields do not fail the password");
    }
}

/* ==== sentences ==== */

static void test_sentence(void)
{
    apr_array_header_t *errs = new_errs();

    is_str(aapi_errors_sentence(p, errs), "Validation failed",
           "no errors: a generic sentence");
    is_str(aapi_errors_sentence(p, NULL), "Validation failed",
           "NULL errors: a generic sentence");
    aapi_add_error(errs, "first_name", "must be at most 100 characters");
    aapi_add_error(errs, "password", "must contain a digit");
    is_str(aapi_errors_sentence(p, errs), "First name must be at most 100 characters",
           "field name capitalised, underscores become spaces");
    errs = new_errs();
    aapi_add_error(errs, "password", "must contain a digit");
    is_str(aapi_errors_sentence(p, errs), "Password must contain a digit",
           "the API document's example sentence");
    errs = new_errs();
    aapi_add_error(errs, "new_password", "is too common");
    is_str(aapi_errors_sentence(p, errs), "New password is too common",
           "two-word field");
}

int main(void)
{
    p = tap_init();
    test_email();
    test_names();
    test_password();
    test_sentence();
    return done();
}
