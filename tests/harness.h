/* Test harness: CHECK and CHECK_NEAR with named tolerances, a registry run by main.c.
   A failed check prints file:line and the expression and the test goes on. A test that
   cannot run (a fixture or ../shared file absent) says so with th_skip / th_skip_shared;
   a test with no checks and no skip fails (main.c). */
#ifndef ARTR_TEST_HARNESS_H
#define ARTR_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Windows: the test files' file and directory calls (FindFirstFileA, VirtualQuery). */
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

#include <stdarg.h>

static int th_checks, th_failed_checks, th_test_failed;

/* The current test's first skip reason ("" when none), and what kinds of skip it made.
   Expected: a file under ../shared absent (README: optional) and a kernel this build does
   not have (th_skip_build); any other skip (th_skip) is unexpected and fails the run
   unless ARTR_TEST_ALLOW_SKIP names the test (main.c). */
static char th_skip_reason[512];
static int th_skipped, th_skip_other, th_skip_shared_seen;

#define TH_SKIP_OTHER 0
#define TH_SKIP_SHARED 1
#define TH_SKIP_BUILD 2
static void th_vskip(int kind, const char *fmt, va_list ap)
{
    if (!th_skipped) vsnprintf(th_skip_reason, sizeof th_skip_reason, fmt, ap);
    if (kind == TH_SKIP_OTHER) th_skip_other = 1;
    if (kind == TH_SKIP_SHARED) th_skip_shared_seen = 1;
    th_skipped = 1;
}

/* The test (or part of it) did not run: printed as "skip: name: reason", counted as
   skipped, and unexpected (a failed run) unless ARTR_TEST_ALLOW_SKIP names the test. */
static void th_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    th_vskip(TH_SKIP_OTHER, fmt, ap);
    va_end(ap);
}

/* This build has nothing to compare (a scalar build: no SIMD kernel): an expected skip. */
static void th_skip_build(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    th_vskip(TH_SKIP_BUILD, fmt, ap);
    va_end(ap);
}

/* A file under ../shared (the shared data directory) is absent: an expected skip where the
   repository stands alone (README, Tests), unless ARTR_TEST_REQUIRE_SHARED=1. */
static void th_skip_shared_v(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    th_vskip(TH_SKIP_SHARED, fmt, ap);
    va_end(ap);
}
static void th_skip_shared(const char *path)
{
    th_skip_shared_v("%s not found (the shared data directory is not beside the repo)", path);
}

static const char *th_msg(const artr_error *e)
{
    return e ? e->msg : "";
}

#define CHECK(cond)                                                                  \
    do {                                                                             \
        th_checks++;                                                                 \
        if (!(cond)) {                                                               \
            th_failed_checks++;                                                      \
            th_test_failed = 1;                                                      \
            printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
        }                                                                            \
    } while (0)

/* CHECK that a call returned the expected status; prints the message otherwise. */
#define CHECK_STATUS(call, want, errp)                                               \
    do {                                                                             \
        int got_ = (int)(call);                                                      \
        th_checks++;                                                                 \
        if (got_ != (int)(want)) {                                                   \
            th_failed_checks++;                                                      \
            th_test_failed = 1;                                                      \
            printf("  FAIL %s:%d: %s returned %s, expected %s (%s)\n", __FILE__,     \
                   __LINE__, #call, artr_status_name((artr_status)got_),             \
                   artr_status_name((artr_status)(want)), th_msg(errp));           \
        }                                                                            \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                        \
    do {                                                                             \
        double a_ = (double)(a), b_ = (double)(b);                                   \
        th_checks++;                                                                 \
        if (!(fabs(a_ - b_) <= (tol))) {                                             \
            th_failed_checks++;                                                      \
            th_test_failed = 1;                                                      \
            printf("  FAIL %s:%d: %s = %.9g, %s = %.9g, tolerance %s = %g\n",         \
                   __FILE__, __LINE__, #a, a_, #b, b_, #tol, (double)(tol));         \
        }                                                                            \
    } while (0)

/* CHECK that a message contains a substring (messages must say what and where). */
#define CHECK_MSG(err, sub)                                                          \
    do {                                                                             \
        th_checks++;                                                                 \
        if (!strstr((err).msg, (sub))) {                                             \
            th_failed_checks++;                                                      \
            th_test_failed = 1;                                                      \
            printf("  FAIL %s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, \
                   (err).msg, (sub));                                                \
        }                                                                            \
    } while (0)

/* Named tolerances. Dequantization is exact float32 arithmetic (d * q), so it must
   match gguf-py bit for bit. */
#define TOL_EXACT 0.0

typedef void (*th_fn)(void);

/* Fixtures live in tests/fixtures relative to the repository root (make runs there);
   ARTR_FIXTURES overrides. */
static const char *th_fixture_dir(void)
{
    const char *d = getenv("ARTR_FIXTURES");
    return d ? d : "tests/fixtures";
}

/* The returned path stays valid for the next 7 calls (tests pass two paths at once). */
static char *th_path(const char *name)
{
    static char buf[8][1024];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", th_fixture_dir(), name);
    return b;
}

/* Read a whole file into a fresh heap buffer (exact size, so ASan sees over-reads). */
static unsigned char *th_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long n;
    if (!f) {
        printf("  cannot open %s\n", path);
        if (!strncmp(path, "../shared/", 10)) th_skip_shared(path);
        else th_skip("cannot open %s", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (unsigned char *)malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return p;
}

static unsigned char *th_fixture(const char *name, size_t *size)
{
    return th_read(th_path(name), size);
}

/* A heap copy of the first n bytes (n may be 0: a 1-byte allocation, size 0). */
static unsigned char *th_copy(const unsigned char *src, size_t n)
{
    unsigned char *p = (unsigned char *)malloc(n ? n : 1);
    if (n) memcpy(p, src, n);
    return p;
}

/* SplitMix64: the tests' seeded generator. */
static uint64_t th_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
