/* artr-quantize: GGUF in, GGUF out with Q8_0 or Q4_0 weights.

   usage: artr-quantize [options] IN.gguf OUT.gguf TYPE      (TYPE: q8_0 or q4_0)
     --pure               every quantizable tensor gets TYPE (see below)
     --allow-requantize   quantize tensors that are already quantized (loses accuracy)
     -q, --quiet          no progress on stderr
     -h, --help           this text
   Exit status: 0 on success, 1 on a failure (the partial output is removed), 2 on bad usage.

   Which tensors change follows llama.cpp's quantizer (src/llama-quant.cpp) for a plain Q8_0
   or Q4_0 file type: ".weight" tensors of two or more dimensions whose rows are a multiple
   of 32 elements, except norms, position embeddings and MoE routers. Everything else
   (norms, biases, 1-D tensors) is copied byte for byte. llama.cpp gives the output
   projection (or the token embedding when it doubles as the output) Q6_K under Q4_0; artr
   does not run Q6_K, so it gets Q8_0 here (the type llama.cpp falls back to when a row is
   not a multiple of 256). --pure quantizes it to TYPE like the rest.

   All metadata (tokenizer included) is copied byte for byte from the input, except
   general.file_type (set to the new type) and general.quantization_version (2).

   Memory: the input is mapped (read on non-POSIX systems), and each tensor is converted in
   chunks of rows, so the peak is the mapping plus two chunk buffers, never a second copy
   of the model. Blocks are bit for bit what gguf-py's gguf.quants.quantize writes. */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/stat.h>
#define AQ_HAVE_STAT 1
#endif

#define AQ_CHUNK 65536 /* floats converted at a time (at least one row) */

enum { AQ_FTYPE_Q4_0 = 2, AQ_FTYPE_Q8_0 = 7 }; /* llama.cpp's LLAMA_FTYPE_MOSTLY_* */

typedef struct aq_options {
    int type;             /* ARTR_TYPE_Q8_0 or ARTR_TYPE_Q4_0 */
    int pure;             /* quantize the output projection to type too */
    int allow_requantize; /* accept quantized inputs */
    int quiet;
} aq_options;

/* One output tensor: its type, size and offset in the data section. */
typedef struct aq_plan {
    int type;
    uint64_t n_bytes, offset;
} aq_plan;

/* Output with a sticky error, so that every write need not be checked on its own. */
typedef struct aq_out {
    FILE *f;
    uint64_t pos;
    int fail;
} aq_out;

static void aq_write(aq_out *o, const void *p, size_t n)
{
    if (o->fail || n == 0) return;
    if (fwrite(p, 1, n, o->f) != n) o->fail = 1;
    o->pos += n;
}
static void aq_u32(aq_out *o, uint32_t v)
{
    unsigned char b[4];
    int i;
    for (i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
    aq_write(o, b, 4);
}
static void aq_u64(aq_out *o, uint64_t v)
{
    unsigned char b[8];
    int i;
    for (i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    aq_write(o, b, 8);
}
static void aq_str(aq_out *o, const char *s, size_t n)
{
    aq_u64(o, n);
    aq_write(o, s, n);
}
static void aq_pad(aq_out *o, uint64_t align)
{
    static const unsigned char zeros[64] = {0};
    uint64_t n = (align - o->pos % align) % align;
    while (n > 0) {
        size_t k = n > sizeof zeros ? sizeof zeros : (size_t)n;
        aq_write(o, zeros, k);
        n -= k;
    }
}

static int aq_fail(char *msg, size_t cap, const char *what, const char *detail)
{
    snprintf(msg, cap, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

static const char *aq_type_name(int type)
{
    const char *s = artr_type_name(type);
    return s ? s : "?";
}

static int aq_is(const artr_tensor *t, const char *name)
{
    return t->name_len == strlen(name) && memcmp(t->name, name, t->name_len) == 0;
}
static int aq_ends(const artr_tensor *t, const char *suffix)
{
    size_t n = strlen(suffix);
    return t->name_len >= n && memcmp(t->name + t->name_len - n, suffix, n) == 0;
}
static int aq_contains(const artr_tensor *t, const char *part)
{
    size_t n = strlen(part), i;
    for (i = 0; i + n <= t->name_len; i++)
        if (memcmp(t->name + i, part, n) == 0) return 1;
    return 0;
}

/* The type llama.cpp's rules give tensor t, or -1 to keep it as it is. */
static int aq_wanted_type(const artr_model *m, const artr_tensor *t, const aq_options *o)
{
    artr_tensor out;
    int is_output;
    if (!aq_ends(t, "weight") || t->n_dims < 2 || t->ne[0] % 32 != 0) return -1;
    if (aq_contains(t, "_norm.weight") || aq_is(t, "position_embd.weight") ||
        aq_is(t, "token_types.weight") || aq_contains(t, "ffn_gate_inp.weight"))
        return -1;
    is_output = aq_is(t, "output.weight") ||
                (aq_is(t, "token_embd.weight") && artr_model_tensor(m, "output.weight", &out, NULL) != ARTR_OK);
    if (is_output && !o->pure) return ARTR_TYPE_Q8_0;
    return o->type;
}

/* Decide every tensor's type, size and offset; fails on types it cannot convert. */
static int aq_plan_all(const artr_model *m, aq_plan *plan, uint64_t align, const aq_options *o,
                       char *msg, size_t cap)
{
    int i, n = artr_model_tensor_count(m);
    uint64_t offset = 0;
    char why[400];
    for (i = 0; i < n; i++) {
        artr_tensor t;
        int want;
        artr_model_tensor_at(m, i, &t, NULL);
        want = aq_wanted_type(m, &t, o);
        plan[i].type = t.type;
        plan[i].n_bytes = t.n_bytes;
        if (want >= 0 && want != t.type) {
            int is_float = t.type == ARTR_TYPE_F32 || t.type == ARTR_TYPE_F16 || t.type == ARTR_TYPE_BF16;
            int readable = is_float || t.type == ARTR_TYPE_Q8_0 || t.type == ARTR_TYPE_Q4_0;
            snprintf(why, sizeof why, "tensor '%.*s' is %s", (int)t.name_len, t.name, aq_type_name(t.type));
            if (!readable) return aq_fail(msg, cap, why, "artr cannot read that type to requantize it");
            if (!is_float && !o->allow_requantize)
                return aq_fail(msg, cap, why, "already quantized; pass --allow-requantize to requantize it (loses accuracy)");
            plan[i].type = want;
            plan[i].n_bytes = (uint64_t)(t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3]) / 32 *
                              (want == ARTR_TYPE_Q8_0 ? 34 : 18);
        }
        plan[i].offset = offset;
        offset += (plan[i].n_bytes + align - 1) / align * align;
    }
    return 0;
}

/* Metadata: every entry copied as stored, general.file_type and
   general.quantization_version replaced (or appended when absent). */
static void aq_write_meta(aq_out *out, const artr_model *m, uint32_t ftype)
{
    int i, n = artr_model_meta_count(m), have_ftype = 0, have_qv = 0;
    for (i = 0; i < n; i++) {
        size_t klen = 0, vlen = 0;
        const char *key = artr_model_meta_key(m, i, &klen);
        const void *val = NULL;
        int type = 0;
        artr_model_meta_raw(m, i, &type, &val, &vlen, NULL);
        aq_str(out, key, klen);
        if (klen == 17 && memcmp(key, "general.file_type", 17) == 0) {
            aq_u32(out, ARTR_META_UINT32);
            aq_u32(out, ftype);
            have_ftype = 1;
        } else if (klen == 28 && memcmp(key, "general.quantization_version", 28) == 0) {
            aq_u32(out, ARTR_META_UINT32);
            aq_u32(out, 2);
            have_qv = 1;
        } else {
            aq_u32(out, (uint32_t)type);
            aq_write(out, val, vlen);
        }
    }
    if (!have_qv) {
        aq_str(out, "general.quantization_version", 28);
        aq_u32(out, ARTR_META_UINT32);
        aq_u32(out, 2);
    }
    if (!have_ftype) {
        aq_str(out, "general.file_type", 17);
        aq_u32(out, ARTR_META_UINT32);
        aq_u32(out, ftype);
    }
}

/* One tensor's data: copied, or converted a chunk of rows at a time. */
static int aq_write_tensor(aq_out *out, const artr_tensor *t, const aq_plan *p, float *fbuf,
                           unsigned char *qbuf, size_t qcap, char *msg, size_t cap)
{
    int64_t row = t->ne[0], n_rows = t->ne[1] * t->ne[2] * t->ne[3], r, rows_per_chunk;
    artr_error err;
    if (p->type == t->type) {
        aq_write(out, t->data, t->n_bytes);
        return 0;
    }
    rows_per_chunk = row >= AQ_CHUNK ? 1 : AQ_CHUNK / row;
    for (r = 0; r < n_rows; r += rows_per_chunk) {
        int64_t nr = n_rows - r < rows_per_chunk ? n_rows - r : rows_per_chunk;
        if (artr_tensor_to_f32(t, r * row, nr * row, fbuf, &err) != ARTR_OK ||
            artr_quantize_f32(p->type, fbuf, nr * row, qbuf, qcap, &err) != ARTR_OK)
            return aq_fail(msg, cap, "conversion failed", err.msg);
        aq_write(out, qbuf, (size_t)(nr * row / 32 * (p->type == ARTR_TYPE_Q8_0 ? 34 : 18)));
    }
    return 0;
}

static int aq_write_file(const artr_model *m, FILE *f, const aq_plan *plan, uint64_t align,
                         const aq_options *o, char *msg, size_t cap)
{
    int i, n = artr_model_tensor_count(m), n_kv = artr_model_meta_count(m), extra = 2, rc = 0;
    int64_t max_row = 1;
    uint64_t in_total = 0, out_total = 0;
    aq_out out;
    float *fbuf;
    unsigned char *qbuf;
    size_t qcap;
    out.f = f;
    out.pos = 0;
    out.fail = 0;
    if (artr_model_meta_type(m, "general.file_type", NULL, NULL, NULL, NULL) == ARTR_OK) extra--;
    if (artr_model_meta_type(m, "general.quantization_version", NULL, NULL, NULL, NULL) == ARTR_OK) extra--;
    for (i = 0; i < n; i++) {
        artr_tensor t;
        artr_model_tensor_at(m, i, &t, NULL);
        if (t.ne[0] > max_row) max_row = t.ne[0];
    }
    if (max_row < AQ_CHUNK) max_row = AQ_CHUNK;
    qcap = (size_t)max_row / 32 * 34 + 34;
    fbuf = (float *)malloc((size_t)max_row * sizeof(float));
    qbuf = (unsigned char *)malloc(qcap);
    if (!fbuf || !qbuf) {
        free(fbuf);
        free(qbuf);
        return aq_fail(msg, cap, "out of memory for the conversion buffers", NULL);
    }

    aq_write(&out, "GGUF", 4);
    aq_u32(&out, 3);
    aq_u64(&out, (uint64_t)n);
    aq_u64(&out, (uint64_t)(n_kv + extra));
    aq_write_meta(&out, m, o->type == ARTR_TYPE_Q8_0 ? AQ_FTYPE_Q8_0 : AQ_FTYPE_Q4_0);
    for (i = 0; i < n; i++) {
        artr_tensor t;
        int d;
        artr_model_tensor_at(m, i, &t, NULL);
        aq_str(&out, t.name, t.name_len);
        aq_u32(&out, (uint32_t)t.n_dims);
        for (d = 0; d < t.n_dims; d++) aq_u64(&out, (uint64_t)t.ne[d]);
        aq_u32(&out, (uint32_t)plan[i].type);
        aq_u64(&out, plan[i].offset);
    }
    aq_pad(&out, align);
    for (i = 0; i < n && !rc && !out.fail; i++) {
        artr_tensor t;
        artr_model_tensor_at(m, i, &t, NULL);
        rc = aq_write_tensor(&out, &t, &plan[i], fbuf, qbuf, qcap, msg, cap);
        aq_pad(&out, align);
        in_total += t.n_bytes;
        out_total += plan[i].n_bytes;
        if (!o->quiet)
            fprintf(stderr, "[%*d/%d] %-36.*s %-5s -> %-5s %12llu -> %12llu bytes\n",
                    n >= 100 ? 4 : 3, i + 1, n, (int)t.name_len, t.name, aq_type_name(t.type),
                    aq_type_name(plan[i].type), (unsigned long long)t.n_bytes,
                    (unsigned long long)plan[i].n_bytes);
    }
    free(fbuf);
    free(qbuf);
    if (rc) return rc;
    if (out.fail) return aq_fail(msg, cap, "write failed (disk full?)", NULL);
    if (!o->quiet)
        fprintf(stderr, "tensor data: %.2f MiB -> %.2f MiB\n", (double)in_total / (1024.0 * 1024.0),
                (double)out_total / (1024.0 * 1024.0));
    return 0;
}

/* 1 if a and b name the same existing file (writing one would destroy the mapped other). */
static int aq_same_file(const char *a, const char *b)
{
#ifdef AQ_HAVE_STAT
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
#endif
    return strcmp(a, b) == 0;
}

/* Quantize the GGUF at in_path into out_path. 0 on success; otherwise msg says why and no
   output file is left behind. */
static int aq_quantize_file(const char *in_path, const char *out_path, const aq_options *o,
                            char *msg, size_t cap)
{
    artr_model *m = NULL;
    artr_model_params p;
    artr_error err;
    aq_plan *plan = NULL;
    int64_t align = 32;
    int rc, n;
    FILE *f;
    if (o->type != ARTR_TYPE_Q8_0 && o->type != ARTR_TYPE_Q4_0)
        return aq_fail(msg, cap, "the output type must be Q8_0 or Q4_0", NULL);
    if (aq_same_file(in_path, out_path))
        return aq_fail(msg, cap, "the output would overwrite the input", out_path);
    memset(&p, 0, sizeof p);
    p.container = 1; /* any GGUF, whatever its architecture */
    if (artr_model_load_file(&m, in_path, &p, &err) != ARTR_OK) {
        snprintf(msg, cap, "%s: %s", in_path, err.msg);
        return 1;
    }
    artr_model_meta_int(m, "general.alignment", &align, NULL); /* loader checked it */
    n = artr_model_tensor_count(m);
    plan = (aq_plan *)malloc((size_t)(n > 0 ? n : 1) * sizeof *plan);
    if (!plan) {
        artr_model_free(m);
        return aq_fail(msg, cap, "out of memory", NULL);
    }
    rc = aq_plan_all(m, plan, (uint64_t)align, o, msg, cap);
    if (!rc) {
        f = fopen(out_path, "wb");
        if (!f) {
            rc = aq_fail(msg, cap, "cannot create the output file", out_path);
        } else {
            rc = aq_write_file(m, f, plan, (uint64_t)align, o, msg, cap);
            if (fclose(f) != 0 && !rc) rc = aq_fail(msg, cap, "cannot finish writing", out_path);
            if (rc) remove(out_path);
        }
    }
    free(plan);
    artr_model_free(m);
    return rc;
}

#ifndef ARTR_QUANTIZE_NO_MAIN
static void aq_usage(FILE *f)
{
    fputs("usage: artr-quantize [options] IN.gguf OUT.gguf TYPE      (TYPE: q8_0 or q4_0)\n"
          "  --pure               every quantizable tensor gets TYPE; by default the output\n"
          "                       projection gets Q8_0 under q4_0 (llama.cpp gives it Q6_K)\n"
          "  --allow-requantize   quantize tensors that are already quantized (loses accuracy)\n"
          "  -q, --quiet          no progress on stderr\n"
          "  -h, --help           this text\n",
          f);
}

int main(int argc, char **argv)
{
    const char *args[3];
    int n_args = 0, i;
    aq_options o;
    char msg[1024];
    memset(&o, 0, sizeof o);
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            aq_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--pure")) {
            o.pure = 1;
        } else if (!strcmp(argv[i], "--allow-requantize")) {
            o.allow_requantize = 1;
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            o.quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "artr-quantize: unknown option '%s'\n", argv[i]);
            aq_usage(stderr);
            return 2;
        } else if (n_args < 3) {
            args[n_args++] = argv[i];
        } else {
            fprintf(stderr, "artr-quantize: too many arguments ('%s')\n", argv[i]);
            return 2;
        }
    }
    if (n_args != 3) {
        aq_usage(stderr);
        return 2;
    }
    if (!strcmp(args[2], "q8_0") || !strcmp(args[2], "Q8_0")) o.type = ARTR_TYPE_Q8_0;
    else if (!strcmp(args[2], "q4_0") || !strcmp(args[2], "Q4_0")) o.type = ARTR_TYPE_Q4_0;
    else {
        fprintf(stderr, "artr-quantize: TYPE must be q8_0 or q4_0, got '%s'\n", args[2]);
        return 2;
    }
    if (aq_quantize_file(args[0], args[1], &o, msg, sizeof msg) != 0) {
        fprintf(stderr, "artr-quantize: %s\n", msg);
        return 1;
    }
    if (!o.quiet) fprintf(stderr, "wrote %s\n", args[1]);
    return 0;
}
#endif
