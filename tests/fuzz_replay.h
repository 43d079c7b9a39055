/* The replay builds of the fuzz targets (-DARTR_FUZZ_REPLAY) read each input file whole. */
#ifndef ARTR_FUZZ_REPLAY_H
#define ARTR_FUZZ_REPLAY_H
#include <stdio.h>
#include <stdlib.h>

/* path's bytes in a malloc'd buffer (*n of them), or NULL after a line on stderr naming
   prog and path. */
static unsigned char *fuzz_read_file(const char *prog, const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long len;
    if (!f) {
        fprintf(stderr, "%s: cannot open %s\n", prog, path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (unsigned char *)malloc(len > 0 ? (size_t)len : 1);
    if (!buf || len < 0 || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "%s: cannot read %s\n", prog, path);
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return buf;
}
#endif
