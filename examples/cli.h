/* Helpers the example CLIs share: option matching and parsing, one-line errors, reading a
   whole file, a monotonic clock. Define CLI_PROG (the program name for messages) before
   including, and CLI_NO_CLOCK / CLI_NO_READ_FILE to leave out what a program does not
   use; needs <errno.h>, <stdint.h>, <stdio.h>, <stdlib.h>, <string.h>, <time.h> (POSIX
   clock_gettime; on Windows QueryPerformanceCounter, included here). Everything is
   static: each example is one translation unit. */
#ifndef ARTR_EXAMPLES_CLI_H
#define ARTR_EXAMPLES_CLI_H

#ifndef CLI_NO_CLOCK
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
static double now_s(void)
{
    LARGE_INTEGER t, f;
    QueryPerformanceCounter(&t);
    QueryPerformanceFrequency(&f);
    return (double)t.QuadPart / (double)f.QuadPart;
}
#else
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#endif
#endif

/* "PROG: what: arg" on stderr; returns 2 (the usage-error exit status). */
static int fail(const char *what, const char *arg)
{
    fprintf(stderr, CLI_PROG ": %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
    return 2;
}

/* A whole decimal integer in [lo, hi] (no trailing junk), or 0. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

/* A whole number in [lo, hi] (NaN never is), or 0. */
static int parse_float(const char *s, double lo, double hi, float *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return 0;
    *out = (float)v;
    return 1;
}

/* A whole unsigned decimal (a seed), no sign, no trailing junk; or 0. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return !errno && end != s && !*end && s[0] != '-';
}

/* Is a one of the n names (a program's options that take a value)? */
static int in_list(const char *a, const char *const *names, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!strcmp(a, names[i])) return 1;
    return 0;
}

/* Does option a match its short or long name (either may be NULL)? */
static int is(const char *a, const char *s1, const char *s2)
{
    return (s1 && !strcmp(a, s1)) || (s2 && !strcmp(a, s2));
}

#ifndef CLI_NO_READ_FILE
/* The whole file, NUL-terminated (len excludes the NUL), or NULL after a message. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) {
        fprintf(stderr, CLI_PROG ": cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        size_t got;
        if (n + 65536 + 1 > cap) {
            char *p;
            cap = cap ? 2 * cap : 1 << 20;
            p = (char *)realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                fprintf(stderr, CLI_PROG ": out of memory reading '%s'\n", path);
                return NULL;
            }
            buf = p;
        }
        got = fread(buf + n, 1, 65536, f);
        n += got;
        if (got < 65536) break;
    }
    if (ferror(f)) {
        fprintf(stderr, CLI_PROG ": cannot read '%s'\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}
#endif

#endif
