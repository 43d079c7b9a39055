/* png_check: is FILE a valid 8-bit grayscale PNG as artr-image writes it? Checks the
   signature, every chunk's length and CRC-32, IHDR (first, 13 bytes, 8-bit gray, no
   interlace), IDAT, IEND (last), the zlib header, stored deflate blocks (LEN/NLEN), the
   Adler-32 and the row filter bytes. No zlib needed, so tests run without Python/PIL.
   usage: png_check FILE        prints "ok WIDTHxHEIGHT"; exit 1 with a reason if not */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static int bad(const char *path, const char *why)
{
    fprintf(stderr, "png_check: %s: %s\n", path, why);
    return 1;
}

/* Inflate a zlib stream of stored blocks into out (cap bytes); -1 on any error. */
static long inflate_stored(const unsigned char *z, size_t n, unsigned char *out, size_t cap)
{
    size_t pos = 2, got = 0, i;
    uint32_t a = 1, b = 0;
    int final = 0;
    if (n < 6 || (z[0] & 15) != 8 || ((unsigned)z[0] << 8 | z[1]) % 31 != 0 || (z[1] & 0x20)) return -1;
    while (!final) {
        unsigned len, nlen;
        if (pos + 5 > n || (z[pos] & 6) != 0) return -1; /* BTYPE must be 00 (stored) */
        final = z[pos] & 1;
        len = z[pos + 1] | (unsigned)z[pos + 2] << 8;
        nlen = z[pos + 3] | (unsigned)z[pos + 4] << 8;
        pos += 5;
        if ((len ^ 0xFFFFu) != nlen || pos + len > n || got + len > cap) return -1;
        memcpy(out + got, z + pos, len);
        pos += len;
        got += len;
    }
    if (pos + 4 != n) return -1;
    for (i = 0; i < got; i++) {
        a = (a + out[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return be32(z + pos) == ((b << 16) | a) ? (long)got : -1;
}

int main(int argc, char **argv)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    FILE *f;
    unsigned char *buf = NULL, *idat = NULL, *raw = NULL;
    size_t n = 0, pos = 8, n_idat = 0, cap = 0, need, y;
    uint32_t w = 0, h = 0;
    int seen_ihdr = 0, seen_iend = 0, rc = 1;
    long got;
    if (argc != 2) {
        fputs("usage: png_check FILE\n", stderr);
        return 2;
    }
    if (!(f = fopen(argv[1], "rb"))) return bad(argv[1], "cannot open");
    for (;;) {
        size_t k;
        if (n == cap) {
            unsigned char *p = (unsigned char *)realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!p) {
                fclose(f);
                goto oom;
            }
            buf = p;
        }
        k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    fclose(f);
    if (n < 8 || memcmp(buf, sig, 8)) {
        rc = bad(argv[1], "no PNG signature");
        goto done;
    }
    while (pos < n && !seen_iend) {
        uint32_t len;
        const unsigned char *type;
        if (n - pos < 12 || (len = be32(buf + pos)) > n - pos - 12) {
            rc = bad(argv[1], "chunk runs past the end of the file");
            goto done;
        }
        type = buf + pos + 4;
        if (crc32_of(type, 4 + (size_t)len) != be32(buf + pos + 8 + len)) {
            rc = bad(argv[1], "chunk CRC mismatch");
            goto done;
        }
        if (!seen_ihdr && memcmp(type, "IHDR", 4)) {
            rc = bad(argv[1], "first chunk is not IHDR");
            goto done;
        }
        if (!memcmp(type, "IHDR", 4)) {
            const unsigned char *d = type + 4;
            if (seen_ihdr || len != 13) {
                rc = bad(argv[1], "bad or repeated IHDR");
                goto done;
            }
            w = be32(d);
            h = be32(d + 4);
            if (w == 0 || h == 0 || w > 100000 || h > 100000 || d[8] != 8 || d[9] != 0 || d[10] || d[11] || d[12]) {
                rc = bad(argv[1], "IHDR: expected an 8-bit grayscale, non-interlaced image of sane size");
                goto done;
            }
            seen_ihdr = 1;
        } else if (!memcmp(type, "IDAT", 4)) {
            unsigned char *q = (unsigned char *)realloc(idat, n_idat + len + 1);
            if (!q) goto oom;
            idat = q;
            memcpy(idat + n_idat, type + 4, len);
            n_idat += len;
        } else if (!memcmp(type, "IEND", 4)) {
            seen_iend = 1;
        }
        pos += 12 + (size_t)len;
    }
    if (!seen_iend || pos != n) {
        rc = bad(argv[1], "IEND missing or not last");
        goto done;
    }
    need = (size_t)h * ((size_t)w + 1);
    if (!(raw = (unsigned char *)malloc(need + 1))) goto oom;
    got = inflate_stored(idat, n_idat, raw, need + 1);
    if (got < 0 || (size_t)got != need) {
        rc = bad(argv[1], "IDAT is not a zlib stream of stored blocks holding height x (width + 1) bytes");
        goto done;
    }
    for (y = 0; y < h; y++)
        if (raw[y * ((size_t)w + 1)] > 4) {
            rc = bad(argv[1], "bad row filter byte");
            goto done;
        }
    printf("ok %ux%u\n", (unsigned)w, (unsigned)h);
    rc = 0;
    goto done;
oom:
    rc = bad(argv[1], "out of memory");
done:
    free(buf);
    free(idat);
    free(raw);
    return rc;
}
