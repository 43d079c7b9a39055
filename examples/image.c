/* artr-image: class-conditional images from an image-token model. Public API only.

   artr-image -m models/fashion.gguf --class all -n 20 -o grid.png        plain sampling, CFG
   artr-image -m models/fashion.gguf --class sneaker -n 10 --sjd -o s.png  speculative Jacobi
   artr-image -m models/fashion.gguf --bench -n 500                       plain vs SJD, one run
   artr-image --help                                                      every flag

   The model is a Llama over [class, c_0 .. c_{n-1}]: the codes of an image's patches in
   raster order. Its GGUF also holds the patch codebook (tensor image.codebook, n_codes x
   patch^2 pixel values in [0, 1]) and image.* keys (grid, patch, token ids of the classes
   and of the null class); tools/train_image.py writes them. Classifier-free guidance runs a
   second context prefilled with the null class as the sampler's guidance. */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLI_PROG "artr-image"
#define CLI_NO_READ_FILE
#include "cli.h"

#define MAX_CLASSES 1000
#define MAX_WINDOW 63

enum { INIT_RANDOM = 0, INIT_NEIGHBOUR = 1 };

typedef struct options {
    const char *model, *class_arg, *png, *raw, *raw_sjd, *nll;
    int n, sjd, sjd_flag, window, init, bench, cols, n_threads, seed_given, policy_fixed;
    float cfg;
    uint64_t seed;
    artr_sampler s; /* temperature and top_k from the flags */
} options;

/* What the image.* keys and the codebook tensor say. */
typedef struct image_info {
    int grid_w, grid_h, patch, n_codes, class_base, n_classes, null_class;
    int n_pos;                  /* grid_w * grid_h codes per image */
    int width, height;          /* in pixels */
    float *codebook;            /* (n_codes, patch * patch), values in [0, 1] */
} image_info;

/* Contexts and sampler settings shared by every image. */
typedef struct generator {
    const artr_model *m;
    const image_info *im;
    artr_ctx *c;                /* the conditional sequence */
    artr_ctx *u;                /* the unconditional one (guidance); NULL without CFG */
    artr_ctx *u_start;          /* u's start: the null class prefilled, forked per image */
    int32_t *banned;            /* every id that is not a code (classes, null class) */
    int n_banned;
} generator;

/* One mode's totals over all images. */
typedef struct totals {
    double wall;
    int64_t calls, tokens, drafted, accepted, steps, aside, probes;
} totals;

static void usage(FILE *f)
{
    fputs("usage: artr-image -m MODEL [options]\n"
          "  -m, --model FILE       image-token GGUF (e.g. models/fashion.gguf; required)\n"
          "      --class C          class index, name (e.g. sneaker) or 'all' (default all:\n"
          "                         image i gets class i mod n_classes)\n"
          "  -n N                   images to generate (default 10)\n"
          "  -o FILE                write the images as one PNG grid (default image.png)\n"
          "      --cols N           images per grid row (default 10)\n"
          "      --raw FILE         also write the pixels: N x height x width bytes\n"
          "      --cfg SCALE        classifier-free guidance scale (default 1.5; 1 = off)\n"
          "      --temp T           temperature (default 1; 0 = greedy)\n"
          "      --top-k K          top-k (default 100; 0 = off)\n"
          "  -s, --seed N           seed (default: from the clock); image i uses seed + i\n"
          "      --sjd              speculative Jacobi decoding (Teng et al. 2024)\n"
          "      --sjd-window W     SJD window (default 8; implies --sjd)\n"
          "      --sjd-init MODE    new SJD guesses: neighbour (the code above, or to the left\n"
          "                         in the first row; default) or random\n"
          "      --draft-policy adaptive|fixed\n"
          "                         adaptive (default): each SJD step picks its window (<= W) from\n"
          "                         the measured cost of a call and the acceptance so far, or\n"
          "                         samples plainly when guessing would not pay; fixed: always W\n"
          "      --bench            plain sampling, then SJD, on the same classes and seeds;\n"
          "                         prints forward calls, acceptance, wall time and ratios (no PNG)\n"
          "      --raw-sjd FILE     with --bench: the SJD images' pixels (--raw gets plain's)\n"
          "      --nll FILE         mean loss of the code sequences in FILE (lines: class index\n"
          "                         or 'null', then the codes) and exit\n"
          "  -t, --threads N        threads (default 1: a forward call on a small model is too\n"
          "                         short to share)\n"
          "  -h, --help             this text\n",
          f);
}

static int known_value_option(const char *a)
{
    static const char *const names[] = {"-m", "--model", "--class", "-n", "-o", "--cols", "--raw", "--cfg",
                                        "--temp", "--top-k", "-s", "--seed", "--sjd-window", "--sjd-init",
                                        "--draft-policy", "--raw-sjd", "--nll", "-t", "--threads"};
    return in_list(a, names, sizeof names / sizeof names[0]);
}

/* 0 ok, 1 --help shown, 2 bad usage (message printed). */
static int parse_args(int argc, char **argv, options *o)
{
    int i;
    memset(o, 0, sizeof *o);
    o->class_arg = "all";
    o->png = "image.png";
    o->n = 10;
    o->cols = 10;
    o->cfg = 1.5f;
    o->window = 8;
    o->init = INIT_NEIGHBOUR;
    o->s.temperature = 1.0f;
    o->s.top_k = 100;
    o->n_threads = 1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1, takes = 1;
        if (is(a, "-h", "--help")) {
            usage(stdout);
            return 1;
        } else if (is(a, "--sjd", NULL)) {
            o->sjd = o->sjd_flag = 1;
            takes = 0;
        } else if (is(a, "--bench", NULL)) {
            o->bench = 1;
            takes = 0;
        } else if (!known_value_option(a)) {
            fprintf(stderr, "artr-image: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!v) {
            fprintf(stderr, "artr-image: missing value after %s (see --help)\n", a);
            return 2;
        } else if (is(a, "-m", "--model")) o->model = v;
        else if (is(a, "--class", NULL)) o->class_arg = v;
        else if (is(a, "-o", NULL)) o->png = v;
        else if (is(a, "--raw", NULL)) o->raw = v;
        else if (is(a, "--raw-sjd", NULL)) o->raw_sjd = v;
        else if (is(a, "--nll", NULL)) o->nll = v;
        else if (is(a, "-n", NULL)) ok = parse_int(v, 1, 100000, &o->n);
        else if (is(a, "--cols", NULL)) ok = parse_int(v, 1, 1000, &o->cols);
        else if (is(a, "--cfg", NULL)) ok = parse_float(v, 0, 100, &o->cfg);
        else if (is(a, "--temp", NULL)) ok = parse_float(v, 0, 100, &o->s.temperature);
        else if (is(a, "--top-k", NULL)) ok = parse_int(v, 0, 1 << 30, &o->s.top_k);
        else if (is(a, "-t", "--threads")) ok = parse_int(v, 1, 512, &o->n_threads);
        else if (is(a, "--sjd-window", NULL)) {
            ok = parse_int(v, 1, MAX_WINDOW, &o->window);
            o->sjd = 1;
        } else if (is(a, "--sjd-init", NULL)) {
            ok = !strcmp(v, "neighbour") || !strcmp(v, "neighbor") || !strcmp(v, "random");
            o->init = !strcmp(v, "random") ? INIT_RANDOM : INIT_NEIGHBOUR;
        } else if (is(a, "--draft-policy", NULL)) {
            ok = !strcmp(v, "adaptive") || !strcmp(v, "fixed");
            o->policy_fixed = !strcmp(v, "fixed");
        } else if (is(a, "-s", "--seed")) {
            ok = parse_u64(v, &o->seed);
            o->seed_given = 1;
        } else {
            fprintf(stderr, "artr-image: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "artr-image: bad value '%s' for %s (see --help)\n", v, a);
            return 2;
        }
        i += takes;
    }
    if (!o->model) return fail("no model given (-m FILE; see --help)", NULL);
    if (o->raw_sjd && !o->bench) return fail("--raw-sjd goes with --bench (use --raw otherwise)", NULL);
    if (o->bench && o->sjd_flag) return fail("--bench runs both plain and SJD; drop --sjd (--sjd-window sets its window)", NULL);
    return 0;
}

/* ---- the image model: keys and codebook ----------------------------------------- */

/* An integer key in [lo, hi]; 0 with a message if missing, mistyped or out of range. */
static int meta_int(const artr_model *m, const char *path, const char *key, long lo, long hi, int *out)
{
    int64_t v;
    artr_error err;
    if (artr_model_meta_int(m, key, &v, &err) != ARTR_OK) {
        fprintf(stderr, "artr-image: '%s' is not an image-token model: %s (tools/train_image.py writes one)\n", path,
                err.msg);
        return 0;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "artr-image: '%s': %s is %lld, expected %ld..%ld\n", path, key, (long long)v, lo, hi);
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* The codebook tensor, checked against the keys and converted to float. */
static int load_codebook(const artr_model *m, const char *path, image_info *im)
{
    artr_tensor t;
    artr_error err;
    int64_t n = (int64_t)im->n_codes * im->patch * im->patch, i;
    if (artr_model_tensor(m, "image.codebook", &t, &err) != ARTR_OK) {
        fprintf(stderr, "artr-image: '%s' has no codebook: %s\n", path, err.msg);
        return 0;
    }
    if (t.n_dims != 2 || t.ne[0] != im->patch * im->patch || t.ne[1] != im->n_codes) {
        fprintf(stderr, "artr-image: '%s': image.codebook has shape [%lld, %lld], expected [%d, %d] (patch^2, n_codes)\n",
                path, (long long)t.ne[0], (long long)(t.n_dims > 1 ? t.ne[1] : 1), im->patch * im->patch, im->n_codes);
        return 0;
    }
    im->codebook = (float *)malloc((size_t)n * sizeof(float));
    if (!im->codebook) {
        fprintf(stderr, "artr-image: out of memory for the codebook\n");
        return 0;
    }
    if (artr_tensor_to_f32(&t, 0, n, im->codebook, &err) != ARTR_OK) {
        fprintf(stderr, "artr-image: '%s': image.codebook: %s\n", path, err.msg);
        return 0;
    }
    for (i = 0; i < n; i++) /* NaN too: a pixel is a byte */
        if (!(im->codebook[i] >= -1e3f && im->codebook[i] <= 1e3f)) im->codebook[i] = 0;
    return 1;
}

/* Read and check every image key; 0 with a message if the model is no image-token model. */
static int load_image_info(const artr_model *m, const char *path, image_info *im)
{
    const artr_config *cfg = artr_model_config(m);
    int nv = cfg->n_vocab;
    memset(im, 0, sizeof *im);
    if (!meta_int(m, path, "image.grid_w", 1, 256, &im->grid_w) || !meta_int(m, path, "image.grid_h", 1, 256, &im->grid_h) ||
        !meta_int(m, path, "image.patch", 1, 64, &im->patch) || !meta_int(m, path, "image.n_codes", 1, nv, &im->n_codes) ||
        !meta_int(m, path, "image.n_classes", 1, MAX_CLASSES, &im->n_classes) ||
        !meta_int(m, path, "image.class_base", 0, nv - 1, &im->class_base) ||
        !meta_int(m, path, "image.null_class", 0, nv - 1, &im->null_class))
        return 0;
    if (im->class_base + im->n_classes > nv) {
        fprintf(stderr, "artr-image: '%s': classes %d..%d lie outside the vocabulary of %d\n", path, im->class_base,
                im->class_base + im->n_classes - 1, nv);
        return 0;
    }
    if (im->class_base < im->n_codes || im->null_class < im->n_codes) {
        fprintf(stderr, "artr-image: '%s': class tokens overlap the codes 0..%d\n", path, im->n_codes - 1);
        return 0;
    }
    im->n_pos = im->grid_w * im->grid_h;
    im->width = im->grid_w * im->patch;
    im->height = im->grid_h * im->patch;
    if (im->n_pos + 1 > cfg->n_ctx_train || im->n_pos + 1 > 4096) {
        fprintf(stderr, "artr-image: '%s': %d codes per image do not fit the model's context of %d\n", path, im->n_pos,
                cfg->n_ctx_train);
        return 0;
    }
    return load_codebook(m, path, im);
}

/* The name of class k (from image.class_names, else its number) into buf. */
static const char *class_name(const artr_model *m, int k, char *buf, size_t cap)
{
    const char *s;
    size_t len;
    if (artr_model_meta_array_str(m, "image.class_names", (uint64_t)k, &s, &len, NULL) == ARTR_OK && len < cap) {
        memcpy(buf, s, len);
        buf[len] = 0;
    } else {
        snprintf(buf, cap, "%d", k);
    }
    return buf;
}

static int same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        int x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a, y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

/* --class: -1 for all, else the class index; -2 with a message if unknown. */
static int parse_class(const artr_model *m, const image_info *im, const char *arg)
{
    char name[128];
    int k;
    if (!strcmp(arg, "all")) return -1;
    if (parse_int(arg, 0, im->n_classes - 1, &k)) return k;
    for (k = 0; k < im->n_classes; k++)
        if (same_name(arg, class_name(m, k, name, sizeof name))) return k;
    fprintf(stderr, "artr-image: unknown class '%s': give 0..%d, 'all' or one of:", arg, im->n_classes - 1);
    for (k = 0; k < im->n_classes && k < 20; k++) fprintf(stderr, "%s '%s'", k ? "," : "", class_name(m, k, name, sizeof name));
    fputc('\n', stderr);
    return -2;
}

/* Codes to pixels: each code's patch from the codebook, clamped to [0, 255]. */
static void decode_image(const image_info *im, const int32_t *codes, unsigned char *px)
{
    int gy, gx, y, x, p = im->patch;
    for (gy = 0; gy < im->grid_h; gy++)
        for (gx = 0; gx < im->grid_w; gx++) {
            const float *patch = im->codebook + (size_t)codes[gy * im->grid_w + gx] * (size_t)(p * p);
            for (y = 0; y < p; y++)
                for (x = 0; x < p; x++) {
                    float v = patch[y * p + x] * 255.0f + 0.5f;
                    px[(size_t)(gy * p + y) * (size_t)im->width + (size_t)(gx * p + x)] =
                        (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
        }
}

/* ---- PNG: 8-bit grayscale, zlib with stored (uncompressed) deflate blocks -------- */

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    size_t i;
    int k;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One chunk: length, type, data, CRC of type + data. */
static int png_chunk(FILE *f, const char *type, const unsigned char *data, size_t n)
{
    unsigned char head[8], tail[4];
    uint32_t crc = crc32_update(0, (const unsigned char *)type, 4);
    put_be32(head, (uint32_t)n);
    memcpy(head + 4, type, 4);
    crc = crc32_update(crc, data, n);
    put_be32(tail, crc);
    return fwrite(head, 1, 8, f) == 8 && (n == 0 || fwrite(data, 1, n, f) == n) && fwrite(tail, 1, 4, f) == 4;
}

/* The zlib stream of the filtered rows (filter byte 0, then the row): RFC 1950/1951. */
static unsigned char *zlib_stored(const unsigned char *px, int w, int h, size_t *out_n)
{
    size_t raw = (size_t)h * (size_t)(w + 1), blocks = raw / 65535 + 1, i, done = 0;
    unsigned char *z = (unsigned char *)malloc(2 + raw + 5 * blocks + 4), *q;
    uint32_t a = 1, b = 0;
    if (!z) return NULL;
    q = z;
    *q++ = 0x78; /* deflate, 32K window */
    *q++ = 0x01; /* no dictionary, fastest; (0x78 << 8 | 0x01) % 31 == 0 */
    while (done < raw || done == 0) {
        size_t len = raw - done < 65535 ? raw - done : 65535;
        *q++ = (unsigned char)(done + len == raw); /* BFINAL, BTYPE 00 */
        *q++ = (unsigned char)(len & 255);
        *q++ = (unsigned char)(len >> 8);
        *q++ = (unsigned char)(~len & 255);
        *q++ = (unsigned char)((~len >> 8) & 255);
        for (i = 0; i < len; i++, done++) {
            size_t row = done / (size_t)(w + 1), col = done % (size_t)(w + 1);
            unsigned char v = col == 0 ? 0 : px[row * (size_t)w + col - 1];
            *q++ = v;
            a = (a + v) % 65521u;
            b = (b + a) % 65521u;
        }
        if (raw == 0) break;
    }
    put_be32(q, (b << 16) | a);
    q += 4;
    *out_n = (size_t)(q - z);
    return z;
}

/* Write w x h 8-bit gray pixels as a PNG; 0 with a message on failure. */
static int write_png(const char *path, const unsigned char *px, int w, int h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13];
    size_t zn = 0;
    unsigned char *z = zlib_stored(px, w, h, &zn);
    FILE *f;
    int ok;
    if (!z) {
        fprintf(stderr, "artr-image: out of memory for the PNG\n");
        return 0;
    }
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;                            /* bit depth */
    ihdr[9] = 0;                            /* grayscale */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;     /* deflate, filter method 0, no interlace */
    f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "artr-image: cannot write '%s': %s\n", path, strerror(errno));
        free(z);
        return 0;
    }
    ok = fwrite(sig, 1, 8, f) == 8 && png_chunk(f, "IHDR", ihdr, 13) && png_chunk(f, "IDAT", z, zn) &&
         png_chunk(f, "IEND", NULL, 0);
    ok = (fclose(f) == 0) && ok;
    free(z);
    if (!ok) fprintf(stderr, "artr-image: cannot write '%s'\n", path);
    return ok;
}

/* The images (n of width x height) tiled cols per row with a 2-pixel gray gap. */
static int write_grid(const char *path, const unsigned char *imgs, int n, int cols, int width, int height)
{
    int gap = 2, rows, gw, gh, i, y;
    unsigned char *g;
    int ok;
    if (cols > n) cols = n;
    rows = (n + cols - 1) / cols;
    gw = cols * (width + gap) + gap;
    gh = rows * (height + gap) + gap;
    if ((double)gw * (double)gh > 1e9) { /* one IDAT chunk holds < 2^31 bytes */
        fprintf(stderr, "artr-image: a %d x %d grid is too large for one PNG; use fewer images or more --cols\n", gw, gh);
        return 0;
    }
    g = (unsigned char *)malloc((size_t)gw * (size_t)gh);
    if (!g) {
        fprintf(stderr, "artr-image: out of memory for a %d x %d grid\n", gw, gh);
        return 0;
    }
    memset(g, 96, (size_t)gw * (size_t)gh);
    for (i = 0; i < n; i++) {
        int x0 = gap + (i % cols) * (width + gap), y0 = gap + (i / cols) * (height + gap);
        for (y = 0; y < height; y++)
            memcpy(g + (size_t)(y0 + y) * (size_t)gw + (size_t)x0, imgs + ((size_t)i * (size_t)height + (size_t)y) * (size_t)width,
                   (size_t)width);
    }
    ok = write_png(path, g, gw, gh);
    free(g);
    return ok;
}

static int write_raw(const char *path, const unsigned char *imgs, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) {
        fprintf(stderr, "artr-image: cannot write '%s': %s\n", path, strerror(errno));
        return 0;
    }
    ok = fwrite(imgs, 1, n, f) == n;
    ok = (fclose(f) == 0) && ok;
    if (!ok) fprintf(stderr, "artr-image: cannot write '%s'\n", path);
    return ok;
}

/* ---- generation ------------------------------------------------------------------ */

static int generator_init(generator *g, const artr_model *m, const image_info *im, const options *o)
{
    artr_ctx_params cp;
    artr_error err;
    int32_t null_tok = im->null_class;
    int i, nv = artr_model_config(m)->n_vocab;
    memset(g, 0, sizeof *g);
    g->m = m;
    g->im = im;
    memset(&cp, 0, sizeof cp);
    cp.n_ctx = im->n_pos + 1;               /* the last code is sampled, never fed */
    cp.n_batch = cp.n_ctx;
    cp.n_draft = o->window < cp.n_ctx - 1 ? o->window : cp.n_ctx - 1;
    cp.n_threads = o->n_threads;
    if (artr_ctx_create(&g->c, m, &cp, &err) != ARTR_OK ||
        (o->cfg != 1.0f && (artr_ctx_create(&g->u, m, &cp, &err) != ARTR_OK ||
                            artr_ctx_create(&g->u_start, m, &cp, &err) != ARTR_OK ||
                            artr_forward(g->u_start, &null_tok, 1, &err) != ARTR_OK))) {
        fprintf(stderr, "artr-image: %s\n", err.msg);
        return 0;
    }
    { /* SJD's window: adaptive (artr_ctx_set_draft) unless --draft-policy fixed */
        artr_draft_params dp;
        memset(&dp, 0, sizeof dp);
        dp.adaptive = !o->policy_fixed;
        if (artr_ctx_set_draft(g->c, &dp, &err) != ARTR_OK) {
            fprintf(stderr, "artr-image: %s\n", err.msg);
            return 0;
        }
    }
    g->banned = (int32_t *)malloc((size_t)(nv - im->n_codes) * sizeof(int32_t) + 1);
    if (!g->banned) {
        fprintf(stderr, "artr-image: out of memory\n");
        return 0;
    }
    for (i = im->n_codes; i < nv; i++) g->banned[g->n_banned++] = i;
    return 1;
}

static void generator_free(generator *g)
{
    artr_ctx_free(g->c);
    artr_ctx_free(g->u);
    artr_ctx_free(g->u_start);
    free(g->banned);
}

/* Proposals for new SJD slots: slot i is code k = n_done + i. Its spatial neighbour is
   the code above it, or the one to its left in the first row; where that code is not
   generated yet, the neighbour's own proposal (Teng et al. 2024 initialise new tokens
   from neighbours; the argument is that nearby patches repeat, e.g. the background). */
static void neighbour_init(const image_info *im, const int32_t *codes, int n_done, int32_t *init, int w)
{
    int i;
    for (i = 0; i < w; i++) {
        int k = n_done + i, nb = k >= im->grid_w ? k - im->grid_w : k - 1;
        if (nb < 0) init[i] = -1; /* the first code: a random proposal */
        else init[i] = nb < n_done ? codes[nb] : init[nb - n_done];
    }
}

/* Prefill c with the class and u (if any) with the null class, for a fresh image. */
static int start_image(generator *g, int cls, artr_error *err)
{
    int32_t tok = g->im->class_base + cls;
    if (artr_ctx_truncate(g->c, 0, err) != ARTR_OK || artr_forward(g->c, &tok, 1, err) != ARTR_OK) return 0;
    return !g->u || artr_ctx_copy(g->u, g->u_start, err) == ARTR_OK;
}

/* All n_pos codes of one image of class cls, with plain steps or SJD. */
static int generate(generator *g, const options *o, int cls, uint64_t seed, int sjd, int32_t *codes)
{
    artr_sampler s = o->s;
    artr_error err;
    int n = 0;
    s.rng = seed;
    s.banned = g->banned;
    s.n_banned = g->n_banned;
    s.guidance = g->u;
    s.guidance_scale = o->cfg;
    if (!start_image(g, cls, &err)) {
        fprintf(stderr, "artr-image: %s\n", err.msg);
        return 0;
    }
    while (n < g->im->n_pos) {
        int32_t init[MAX_WINDOW];
        int n_out = 0, left = g->im->n_pos - n;
        artr_status st;
        if (sjd) {
            int w = o->window < left ? o->window : left;
            if (o->init == INIT_NEIGHBOUR) neighbour_init(g->im, codes, n, init, w);
            st = artr_step_spec_jacobi(g->c, &s, o->window, o->init == INIT_NEIGHBOUR ? init : NULL,
                                       o->init == INIT_NEIGHBOUR ? w : 0, codes + n, left, &n_out, &err);
        } else {
            st = artr_step(g->c, &s, codes + n, left, &n_out, &err);
        }
        if (st != ARTR_OK) {
            fprintf(stderr, "artr-image: %s\n", err.msg);
            return 0;
        }
        n += n_out;
    }
    return 1;
}

/* The class of image i: the one asked for, or i mod n_classes for 'all'. */
static int class_of(const image_info *im, int cls, int i)
{
    return cls >= 0 ? cls : i % im->n_classes;
}

/* Generate o->n images into imgs (n x height x width), adding to t. */
static int run_mode(generator *g, const options *o, int cls, int sjd, const char *label, unsigned char *imgs, totals *t)
{
    const image_info *im = g->im;
    int32_t *codes = (int32_t *)malloc((size_t)im->n_pos * sizeof(int32_t));
    artr_stats a, b;
    double t0;
    int i, tty = isatty(2); /* progress only on a terminal */
    if (!codes) {
        fprintf(stderr, "artr-image: out of memory\n");
        return 0;
    }
    memset(t, 0, sizeof *t);
    artr_ctx_stats(g->c, &a);
    t0 = now_s();
    for (i = 0; i < o->n; i++) {
        if (!generate(g, o, class_of(im, cls, i), o->seed + (uint64_t)i, sjd, codes)) {
            free(codes);
            return 0;
        }
        decode_image(im, codes, imgs + (size_t)i * (size_t)im->width * (size_t)im->height);
        if (tty) fprintf(stderr, "\r%s: image %d/%d", label, i + 1, o->n);
    }
    t->wall = now_s() - t0;
    artr_ctx_stats(g->c, &b);
    if (tty) fputc('\n', stderr);
    t->calls = b.calls - a.calls;
    t->tokens = b.tokens - a.tokens;
    t->drafted = b.drafted - a.drafted;
    t->accepted = b.accepted - a.accepted;
    t->steps = b.steps - a.steps;
    t->aside = b.aside - a.aside;
    t->probes = b.probes - a.probes;
    free(codes);
    return 1;
}

static void report(const char *label, const options *o, const totals *t)
{
    double n = (double)o->n;
    double calls = (double)(t->calls ? t->calls : 1);
    printf("%-6s %d images in %.3f s (%.2f ms/image): %.2f forward calls/image after the 1-token prefill, "
           "%.2f codes/call, %.3f ms/call",
           label, o->n, t->wall, 1e3 * t->wall / n, (double)t->calls / n, (double)t->tokens / calls,
           1e3 * t->wall / calls);
    if (t->drafted)
        printf(", %lld of %lld guesses accepted (%.1f%%)", (long long)t->accepted, (long long)t->drafted,
               100.0 * (double)t->accepted / (double)t->drafted);
    if (t->aside || t->probes)
        printf(", policy: %lld of %lld steps stepped aside, %lld re-probes", (long long)t->aside, (long long)t->steps,
               (long long)t->probes);
    putchar('\n');
}

/* ---- --nll: the model's loss on given code sequences ----------------------------- */

/* One line "CLASS c_0 .. c_{n-1}" into seq (n_pos + 1 ids); 0 with a message. */
static int parse_seq_line(const image_info *im, char *line, int lineno, const char *path, int32_t *seq)
{
    char *p = line, *end;
    int i;
    while (*p == ' ' || *p == '\t') p++;
    if (!strncmp(p, "null", 4)) {
        seq[0] = im->null_class;
        p += 4;
    } else {
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v >= im->n_classes) {
            fprintf(stderr, "artr-image: %s:%d: expected a class 0..%d or 'null' first\n", path, lineno, im->n_classes - 1);
            return 0;
        }
        seq[0] = im->class_base + (int32_t)v;
        p = end;
    }
    for (i = 0; i < im->n_pos; i++) {
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v >= im->n_codes) {
            fprintf(stderr, "artr-image: %s:%d: code %d missing or outside 0..%d\n", path, lineno, i, im->n_codes - 1);
            return 0;
        }
        seq[i + 1] = (int32_t)v;
        p = end;
    }
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (*p) {
        fprintf(stderr, "artr-image: %s:%d: more than %d codes\n", path, lineno, im->n_pos);
        return 0;
    }
    return 1;
}

/* Cross-entropy (nats) of seq[1..n_pos] given the tokens before each, over the whole
   vocabulary (as in training). */
static int seq_nll(artr_ctx *c, const image_info *im, const int32_t *seq, int nv, double *nll)
{
    artr_batch b;
    artr_error err;
    int i, v;
    memset(&b, 0, sizeof b);
    b.tokens = seq;
    b.n = im->n_pos;
    b.logits = ARTR_LOGITS_ALL;
    if (artr_ctx_truncate(c, 0, &err) != ARTR_OK || artr_forward_batch(c, &b, &err) != ARTR_OK) {
        fprintf(stderr, "artr-image: %s\n", err.msg);
        return 0;
    }
    for (i = 0; i < im->n_pos; i++) {
        const float *lg = artr_logits(c, i);
        double mx = lg[0], sum = 0;
        for (v = 1; v < nv; v++)
            if (lg[v] > mx) mx = lg[v];
        for (v = 0; v < nv; v++) sum += exp((double)lg[v] - mx);
        *nll += log(sum) + mx - lg[seq[i + 1]];
    }
    return 1;
}

static int run_nll(const artr_model *m, const image_info *im, const options *o)
{
    FILE *f = fopen(o->nll, "r");
    char line[8192];
    int32_t *seq = (int32_t *)malloc((size_t)(im->n_pos + 1) * sizeof(int32_t));
    artr_ctx *c = NULL;
    artr_ctx_params cp;
    artr_error err;
    double nll = 0;
    int lineno = 0, n_seq = 0, ok = 1;
    if (!f || !seq) {
        fprintf(stderr, "artr-image: cannot open '%s': %s\n", o->nll, f ? "out of memory" : strerror(errno));
        if (f) fclose(f);
        free(seq);
        return 1;
    }
    memset(&cp, 0, sizeof cp);
    cp.n_ctx = cp.n_batch = im->n_pos + 1;
    cp.n_threads = o->n_threads;
    if (artr_ctx_create(&c, m, &cp, &err) != ARTR_OK) {
        fprintf(stderr, "artr-image: %s\n", err.msg);
        ok = 0;
    }
    while (ok && fgets(line, sizeof line, f)) {
        char *p = line;
        lineno++;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || !*p) continue;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr, "artr-image: %s:%d: line longer than %d bytes\n", o->nll, lineno, (int)sizeof line - 1);
            ok = 0;
        } else {
            ok = parse_seq_line(im, line, lineno, o->nll, seq) && seq_nll(c, im, seq, artr_model_config(m)->n_vocab, &nll);
            n_seq += ok;
        }
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "artr-image: cannot read '%s'\n", o->nll);
        ok = 0;
    }
    if (ok && n_seq == 0) {
        fprintf(stderr, "artr-image: '%s' holds no sequences\n", o->nll);
        ok = 0;
    }
    if (ok)
        printf("nll: %d sequences of %d codes, mean loss %.6f nats/code\n", n_seq, im->n_pos,
               nll / ((double)n_seq * im->n_pos));
    fclose(f);
    free(seq);
    artr_ctx_free(c);
    return ok ? 0 : 1;
}

/* ---- main ------------------------------------------------------------------------ */

static int run_bench(generator *g, const options *o, int cls, unsigned char *plain, unsigned char *sjd)
{
    totals tp, ts;
    size_t bytes = (size_t)o->n * (size_t)g->im->width * (size_t)g->im->height;
    printf("bench: %d images, class %s, cfg %g, temp %g, top-k %d, seeds %llu.., SJD window %d (%s), %s init\n", o->n,
           o->class_arg, (double)o->cfg, (double)o->s.temperature, o->s.top_k, (unsigned long long)o->seed, o->window,
           o->policy_fixed ? "fixed" : "adaptive", o->init == INIT_NEIGHBOUR ? "neighbour" : "random");
    if (!run_mode(g, o, cls, 0, "plain", plain, &tp) || !run_mode(g, o, cls, 1, "sjd", sjd, &ts)) return 0;
    report("plain", o, &tp);
    report("sjd", o, &ts);
    printf("sjd vs plain: %.2fx fewer forward calls, %.2fx wall clock; %s images%s\n",
           (double)tp.calls / (double)(ts.calls ? ts.calls : 1), tp.wall / (ts.wall > 0 ? ts.wall : 1e-9),
           memcmp(plain, sjd, bytes) ? "different" : "identical",
           o->s.temperature > 0 ? " (sampling: same distribution, not the same draws)" : " (greedy)");
    return (!o->raw || write_raw(o->raw, plain, bytes)) && (!o->raw_sjd || write_raw(o->raw_sjd, sjd, bytes));
}

int main(int argc, char **argv)
{
    options o;
    artr_model *m = NULL;
    artr_error err;
    image_info im;
    generator g;
    unsigned char *imgs = NULL, *imgs2 = NULL;
    int r, cls, rc = 1;
    size_t bytes;

    if ((r = parse_args(argc, argv, &o)) != 0) return r == 1 ? 0 : 2;
    memset(&im, 0, sizeof im);
    memset(&g, 0, sizeof g);
    if (artr_model_load_file(&m, o.model, NULL, &err) != ARTR_OK) {
        fprintf(stderr, "artr-image: cannot load '%s': %s\n", o.model, err.msg);
        return 1;
    }
    if (!load_image_info(m, o.model, &im)) goto done;
    if (o.nll) {
        rc = run_nll(m, &im, &o);
        goto done;
    }
    if ((cls = parse_class(m, &im, o.class_arg)) == -2) {
        rc = 2;
        goto done;
    }
    if (!o.seed_given) o.seed = (uint64_t)time(NULL);
    bytes = (size_t)o.n * (size_t)im.width * (size_t)im.height;
    imgs = (unsigned char *)malloc(bytes);
    imgs2 = o.bench ? (unsigned char *)malloc(bytes) : NULL;
    if (!imgs || (o.bench && !imgs2)) {
        fprintf(stderr, "artr-image: out of memory for %d images\n", o.n);
        goto done;
    }
    if (!generator_init(&g, m, &im, &o)) goto done;
    if (o.bench) {
        if (!run_bench(&g, &o, cls, imgs, imgs2)) goto done;
    } else {
        totals t;
        if (!run_mode(&g, &o, cls, o.sjd, o.sjd ? "sjd" : "plain", imgs, &t)) goto done;
        if (!write_grid(o.png, imgs, o.n, o.cols, im.width, im.height)) goto done;
        if (o.raw && !write_raw(o.raw, imgs, bytes)) goto done;
        report(o.sjd ? "sjd" : "plain", &o, &t);
        printf("wrote %s (%d images%s)\n", o.png, o.n, o.raw ? ", pixels also in --raw" : "");
    }
    rc = 0;
done:
    generator_free(&g);
    free(imgs);
    free(imgs2);
    free(im.codebook);
    artr_model_free(m);
    return rc;
}
