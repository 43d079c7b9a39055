/* artr-quantize: GGUF in, GGUF out with quantized weights, as llama-quantize makes them.

   usage: artr-quantize [options] IN.gguf OUT.gguf TYPE
     TYPE: a llama.cpp file type (any case): Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_M Q4_K_M
           Q5_K_M Q6_K IQ4_NL IQ4_XS (Q3_K, Q4_K, Q5_K name the _M mixes, as there)
     --pure               every quantizable tensor gets TYPE's main type (see below)
     --allow-requantize   quantize tensors that are already quantized (loses accuracy)
     -q, --quiet          no progress on stderr
     -h, --help           this text
   Exit status: 0 on success, 1 on a failure (the partial output is removed), 2 on bad usage.

   Which tensor gets which type follows llama.cpp's quantizer (src/llama-quant.cpp,
   llama_tensor_get_type) for dense models: ".weight" tensors of two or more dimensions are
   quantized, except norms, position and token-type embeddings, MoE routers and a few
   special tensors; everything else (norms, biases, 1-D tensors) is copied byte for byte.
   The output projection (or the token embedding when it doubles as the output) gets Q6_K
   (Q8_0 under Q8_0); the _M mixes give attn_v and ffn_down more bits in the first and last
   eighth of the layers and every third one between (use_more_bits), Q2_K and Q3_K_M raise
   attn_v, attn_output and ffn_down, the IQ4 types raise the first eighth of ffn_down. A row
   length the chosen type's block does not divide falls back as llama.cpp does: Q2_K/Q3_K to
   Q4_0, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, IQ4_XS to IQ4_NL, then F16. Tensors are
   visited in llama-quantize's order (by layer, then name), which its layer counters follow.
   --pure skips these rules (the fallbacks still apply, where llama-quantize would fail).

   All metadata (tokenizer included) is copied byte for byte from the input, except
   general.file_type (set to TYPE's llama.cpp number) and general.quantization_version (2).

   Memory: the input is mapped (read on non-POSIX systems), and each tensor is converted in
   chunks of rows, so the peak is the mapping plus two chunk buffers, never a second copy
   of the model. Q4_0..Q8_0 blocks are bit for bit what gguf-py's gguf.quants.quantize
   writes; the k-quants and IQ4 run llama-quantize's searches (artr_quantize_f32). */
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

typedef struct aq_options {
    int type;             /* the mix's main type (aq_mixes) */
    int ftype;            /* its llama.cpp file type, written as general.file_type */
    int pure;             /* every quantizable tensor gets type (short rows fall back) */
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

/* The file types (mixes) artr-quantize writes: llama.cpp's LLAMA_FTYPE_MOSTLY_* number and
   the type most tensors get. Q3_K, Q4_K and Q5_K name the _M mixes, as in llama-quantize. */
typedef struct aq_mix {
    const char *name;
    int ftype, type;
} aq_mix;

enum {
    AQ_FTYPE_Q4_0 = 2, AQ_FTYPE_Q4_1 = 3, AQ_FTYPE_Q8_0 = 7, AQ_FTYPE_Q5_0 = 8, AQ_FTYPE_Q5_1 = 9,
    AQ_FTYPE_Q2_K = 10, AQ_FTYPE_Q3_K_M = 12, AQ_FTYPE_Q4_K_M = 15, AQ_FTYPE_Q5_K_M = 17,
    AQ_FTYPE_Q6_K = 18, AQ_FTYPE_IQ4_NL = 25, AQ_FTYPE_IQ4_XS = 30
};

static const aq_mix aq_mixes[] = {
    {"Q4_0", AQ_FTYPE_Q4_0, ARTR_TYPE_Q4_0},       {"Q4_1", AQ_FTYPE_Q4_1, ARTR_TYPE_Q4_1},
    {"Q5_0", AQ_FTYPE_Q5_0, ARTR_TYPE_Q5_0},       {"Q5_1", AQ_FTYPE_Q5_1, ARTR_TYPE_Q5_1},
    {"Q8_0", AQ_FTYPE_Q8_0, ARTR_TYPE_Q8_0},       {"Q2_K", AQ_FTYPE_Q2_K, ARTR_TYPE_Q2_K},
    {"Q3_K_M", AQ_FTYPE_Q3_K_M, ARTR_TYPE_Q3_K},   {"Q3_K", AQ_FTYPE_Q3_K_M, ARTR_TYPE_Q3_K},
    {"Q4_K_M", AQ_FTYPE_Q4_K_M, ARTR_TYPE_Q4_K},   {"Q4_K", AQ_FTYPE_Q4_K_M, ARTR_TYPE_Q4_K},
    {"Q5_K_M", AQ_FTYPE_Q5_K_M, ARTR_TYPE_Q5_K},   {"Q5_K", AQ_FTYPE_Q5_K_M, ARTR_TYPE_Q5_K},
    {"Q6_K", AQ_FTYPE_Q6_K, ARTR_TYPE_Q6_K},       {"IQ4_NL", AQ_FTYPE_IQ4_NL, ARTR_TYPE_IQ4_NL},
    {"IQ4_XS", AQ_FTYPE_IQ4_XS, ARTR_TYPE_IQ4_XS}};

/* The mix named s (any case), or NULL. */
static const aq_mix *aq_find_mix(const char *s)
{
    size_t i, k;
    for (i = 0; i < sizeof aq_mixes / sizeof aq_mixes[0]; i++) {
        const char *n = aq_mixes[i].name;
        for (k = 0; n[k] && s[k] && (s[k] == n[k] || s[k] - 'a' + 'A' == n[k]); k++) {}
        if (!n[k] && !s[k]) return &aq_mixes[i];
    }
    return NULL;
}

/* o's mix: the one of its ftype and type, or with ftype 0 the first of its type. */
static const aq_mix *aq_mix_of(const aq_options *o)
{
    size_t i;
    for (i = 0; i < sizeof aq_mixes / sizeof aq_mixes[0]; i++)
        if (aq_mixes[i].type == o->type && (o->ftype == 0 || aq_mixes[i].ftype == o->ftype)) return &aq_mixes[i];
    return NULL;
}

/* Elements per block and bytes per block of the types artr-quantize writes. */
static int64_t aq_block(int type)
{
    switch (type) {
    case ARTR_TYPE_F32: case ARTR_TYPE_F16: case ARTR_TYPE_BF16: return 1;
    case ARTR_TYPE_Q2_K: case ARTR_TYPE_Q3_K: case ARTR_TYPE_Q4_K: case ARTR_TYPE_Q5_K:
    case ARTR_TYPE_Q6_K: case ARTR_TYPE_IQ4_XS: return 256;
    default: return 32;
    }
}
static uint64_t aq_block_bytes(int type)
{
    switch (type) {
    case ARTR_TYPE_F32: return 4;
    case ARTR_TYPE_F16: case ARTR_TYPE_BF16: return 2;
    case ARTR_TYPE_Q4_0: case ARTR_TYPE_IQ4_NL: return 18;
    case ARTR_TYPE_Q4_1: return 20;
    case ARTR_TYPE_Q5_0: return 22;
    case ARTR_TYPE_Q5_1: return 24;
    case ARTR_TYPE_Q8_0: return 34;
    case ARTR_TYPE_Q2_K: return 84;
    case ARTR_TYPE_Q3_K: return 110;
    case ARTR_TYPE_Q4_K: return 144;
    case ARTR_TYPE_Q5_K: return 176;
    case ARTR_TYPE_Q6_K: return 210;
    default: return 136; /* IQ4_XS */
    }
}
static uint64_t aq_bytes(int type, int64_t n)
{
    return (uint64_t)(n / aq_block(type)) * aq_block_bytes(type);
}

/* Whether llama.cpp quantizes tensor t at all (llama-quant.cpp's tensor_allows_quantization):
   a ".weight" of two or more dimensions (trailing 1s not counted), not a norm, router,
   position or token-type embedding, nor one of the small special tensors it lists. */
static int aq_allows(const artr_tensor *t)
{
    static const char *const never[] = {
        "_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj",
        "ssm_conv1d", "shortconv.conv.weight", "time_mix_first.weight", "time_mix_w0.weight",
        "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
        "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
        "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
        "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
        ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd",
        ".patch_merger"};
    int d = 4, i;
    while (d > 1 && t->ne[d - 1] <= 1) d--;
    if (d < 2 || !aq_ends(t, "weight")) return 0;
    if (aq_is(t, "position_embd.weight") || aq_is(t, "token_types.weight")) return 0;
    for (i = 0; i < (int)(sizeof never / sizeof never[0]); i++)
        if (aq_contains(t, never[i])) return 0;
    return 1;
}

/* llama-quant.cpp's tensor categories. */
enum { AQ_OTHER, AQ_OUTPUT, AQ_TOKEN_EMBD, AQ_ATTN_V, AQ_ATTN_OUTPUT, AQ_FFN_DOWN };
static int aq_category(const artr_tensor *t)
{
    if (aq_is(t, "output.weight")) return AQ_OUTPUT;
    if (aq_is(t, "token_embd.weight") || aq_is(t, "per_layer_token_embd.weight")) return AQ_TOKEN_EMBD;
    if (aq_contains(t, "attn_qkv.weight") || aq_contains(t, "attn_kv_b.weight") ||
        aq_contains(t, "attn_v.weight"))
        return AQ_ATTN_V; /* attn_v-like: all three take attn_v's rules */
    if (aq_contains(t, "attn_k.weight") || aq_contains(t, "attn_q.weight")) return AQ_OTHER;
    if (aq_contains(t, "attn_output.weight")) return AQ_ATTN_OUTPUT;
    if (aq_contains(t, "ffn_up") || aq_contains(t, "ffn_gate")) return AQ_OTHER;
    if (aq_contains(t, "ffn_down")) return AQ_FFN_DOWN;
    return AQ_OTHER;
}

/* What llama-quantize's rules need of the model, and its counters. */
typedef struct aq_rules {
    int ftype, type;            /* the mix */
    int n_layer, n_gqa, is_70b; /* hyperparameters: block_count, n_head / n_head_kv */
    int tied, n_attn_v;         /* no output.weight; attn_v-like tensors (aq_choose) */
    int i_attn_v, i_ffn_down;   /* counters, in visiting order */
} aq_rules;

static int aq_more_bits(int i, int n)
{
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* llama_tensor_get_type_impl for the mixes above (dense models: artr runs no MoE). */
static int aq_mix_type(aq_rules *r, const artr_tensor *t)
{
    int cat = aq_category(t), ft = r->ftype, type = r->type;
    if (cat == AQ_OUTPUT || (cat == AQ_TOKEN_EMBD && r->tied)) {
        if (t->ne[0] % aq_block(type) != 0) return ARTR_TYPE_Q8_0;
        return type == ARTR_TYPE_Q8_0 ? type : ARTR_TYPE_Q6_K;
    }
    if (cat == AQ_ATTN_V) {
        if (ft == AQ_FTYPE_Q2_K) type = r->n_gqa >= 4 ? ARTR_TYPE_Q4_K : ARTR_TYPE_Q3_K;
        else if (ft == AQ_FTYPE_Q3_K_M) type = r->i_attn_v < 2 ? ARTR_TYPE_Q5_K : ARTR_TYPE_Q4_K;
        else if ((ft == AQ_FTYPE_IQ4_NL || ft == AQ_FTYPE_IQ4_XS) && r->n_gqa >= 4) type = ARTR_TYPE_Q5_K;
        else if ((ft == AQ_FTYPE_Q4_K_M || ft == AQ_FTYPE_Q5_K_M) && aq_more_bits(r->i_attn_v, r->n_attn_v))
            type = ARTR_TYPE_Q6_K;
        if (r->is_70b && (type == ARTR_TYPE_Q3_K || type == ARTR_TYPE_Q4_K)) type = ARTR_TYPE_Q5_K;
        r->i_attn_v++;
    } else if (cat == AQ_FFN_DOWN) {
        int i = r->i_ffn_down, n = r->n_layer;
        if (ft == AQ_FTYPE_Q2_K) type = ARTR_TYPE_Q3_K;
        else if (ft == AQ_FTYPE_Q3_K_M) type = i < n / 16 ? ARTR_TYPE_Q5_K : ARTR_TYPE_Q4_K;
        else if (ft == AQ_FTYPE_Q4_K_M) type = aq_more_bits(i, n) ? ARTR_TYPE_Q6_K : type;
        else if (i < n / 8 && (ft == AQ_FTYPE_IQ4_NL || ft == AQ_FTYPE_IQ4_XS)) type = ARTR_TYPE_Q5_K;
        else if (ft == AQ_FTYPE_Q5_K_M && aq_more_bits(i, n)) type = ARTR_TYPE_Q6_K;
        r->i_ffn_down++;
    } else if (cat == AQ_ATTN_OUTPUT) {
        if (ft == AQ_FTYPE_Q2_K) type = ARTR_TYPE_Q3_K;
        else if (ft == AQ_FTYPE_Q3_K_M) type = ARTR_TYPE_Q4_K;
    }
    return type;
}

/* llama.cpp's tensor_type_fallback: a type whose block does not divide the row length
   becomes one with 32-element blocks, else F16. */
static int aq_fallback(const artr_tensor *t, int type)
{
    if (t->ne[0] % aq_block(type) == 0) return type;
    switch (type) {
    case ARTR_TYPE_IQ4_XS: type = ARTR_TYPE_IQ4_NL; break;
    case ARTR_TYPE_Q2_K: case ARTR_TYPE_Q3_K: type = ARTR_TYPE_Q4_0; break;
    case ARTR_TYPE_Q4_K: type = ARTR_TYPE_Q5_0; break;
    case ARTR_TYPE_Q5_K: type = ARTR_TYPE_Q5_1; break;
    case ARTR_TYPE_Q6_K: type = ARTR_TYPE_Q8_0; break;
    default: break;
    }
    return t->ne[0] % aq_block(type) == 0 ? type : ARTR_TYPE_F16;
}

/* A tensor's place in llama-quantize's visiting order: by layer ("blk.N.", else -1),
   then by name (llama.cpp's weight_name_comparer); its counters follow that order. */
typedef struct aq_key {
    long layer;
    const char *name;
    size_t len;
    int index;
} aq_key;

static long aq_layer(const artr_tensor *t)
{
    long v = 0;
    size_t i = 4;
    if (t->name_len < 6 || memcmp(t->name, "blk.", 4) != 0 || t->name[4] < '0' || t->name[4] > '9') return -1;
    while (i < t->name_len && t->name[i] >= '0' && t->name[i] <= '9' && v < 100000000L)
        v = v * 10 + (t->name[i++] - '0');
    return i < t->name_len && t->name[i] == '.' ? v : -1;
}

static int aq_cmp(const void *pa, const void *pb)
{
    const aq_key *a = (const aq_key *)pa, *b = (const aq_key *)pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c;
    if (a->layer != b->layer) return a->layer < b->layer ? -1 : 1;
    c = memcmp(a->name, b->name, n);
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* An integer hyperparameter "{arch}.key", or def. */
static int64_t aq_hparam(const artr_model *m, const char *key, int64_t def)
{
    const char *arch;
    size_t alen;
    char full[160];
    int64_t v = def;
    if (artr_model_meta_str(m, "general.architecture", &arch, &alen, NULL) != ARTR_OK || alen > 100) return def;
    snprintf(full, sizeof full, "%.*s.%s", (int)alen, arch, key);
    if (artr_model_meta_int(m, full, &v, NULL) != ARTR_OK &&
        artr_model_meta_array_int(m, full, 0, &v, NULL) != ARTR_OK)
        v = def;
    return v;
}

/* The rules' view of the model's hyperparameters: layer count, GQA ratio, 70B. */
static void aq_rules_init(aq_rules *r, const artr_model *m, const aq_options *o)
{
    int64_t n_head, n_head_kv;
    const char *arch = "";
    size_t alen = 0;
    memset(r, 0, sizeof *r);
    r->ftype = o->ftype;
    r->type = o->type;
    r->n_layer = (int)aq_hparam(m, "block_count", 0);
    n_head = aq_hparam(m, "attention.head_count", 0);
    n_head_kv = aq_hparam(m, "attention.head_count_kv", n_head);
    r->n_gqa = n_head_kv > 0 ? (int)(n_head / n_head_kv) : 0;
    artr_model_meta_str(m, "general.architecture", &arch, &alen, NULL);
    r->is_70b = r->n_layer == 80 && ((alen == 5 && !memcmp(arch, "llama", 5) && n_head != n_head_kv) ||
                                     (alen == 5 && !memcmp(arch, "qwen2", 5)));
}

/* The type of each of the n tensors ts (want[i]; ts[i].type itself where it stays), by
   the rules r (hyperparameters set, counters zero), or by o's type under --pure. The
   tied-output flag and the attn_v count come from the names. 0, or 1 out of memory. */
static int aq_choose(aq_rules *r, const aq_options *o, const artr_tensor *ts, int n, int *want)
{
    aq_key *order = (aq_key *)malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    int i;
    if (!order) return 1;
    r->tied = 1;
    for (i = 0; i < n; i++) {
        if (aq_is(&ts[i], "output.weight")) r->tied = 0;
        if (aq_category(&ts[i]) == AQ_ATTN_V) r->n_attn_v++;
        order[i].layer = aq_layer(&ts[i]);
        order[i].name = ts[i].name;
        order[i].len = ts[i].name_len;
        order[i].index = i;
    }
    qsort(order, (size_t)n, sizeof *order, aq_cmp);
    for (i = 0; i < n; i++) {
        const artr_tensor *t = &ts[order[i].index];
        want[order[i].index] = !aq_allows(t) ? t->type : aq_fallback(t, o->pure ? o->type : aq_mix_type(r, t));
    }
    free(order);
    return 0;
}

/* Decide every tensor's type, size and offset; fails on types it cannot convert. */
static int aq_plan_all(const artr_model *m, aq_plan *plan, uint64_t align, const aq_options *o,
                       char *msg, size_t cap)
{
    int i, n = artr_model_tensor_count(m), rc = 0;
    artr_tensor *ts = (artr_tensor *)malloc((size_t)(n > 0 ? n : 1) * sizeof *ts);
    int *want = (int *)malloc((size_t)(n > 0 ? n : 1) * sizeof *want);
    uint64_t offset = 0;
    aq_rules r;
    char why[400];
    aq_rules_init(&r, m, o);
    for (i = 0; ts && i < n; i++) artr_model_tensor_at(m, i, &ts[i], NULL);
    if (!ts || !want || aq_choose(&r, o, ts, n, want)) rc = aq_fail(msg, cap, "out of memory", NULL);
    for (i = 0; !rc && i < n; i++) {
        const artr_tensor *t = &ts[i];
        plan[i].type = t->type;
        plan[i].n_bytes = t->n_bytes;
        if (want[i] != t->type) {
            snprintf(why, sizeof why, "tensor '%.*s' is %s", (int)t->name_len, t->name, aq_type_name(t->type));
            if (t->type != ARTR_TYPE_F32 && t->type != ARTR_TYPE_F16 && t->type != ARTR_TYPE_BF16) {
                float probe[256];
                int64_t blk = t->ne[0] % 256 == 0 ? 256 : 32;
                if (t->ne[0] % 32 != 0 || artr_tensor_to_f32(t, 0, blk, probe, NULL) != ARTR_OK)
                    rc = aq_fail(msg, cap, why, "artr cannot read that type to requantize it");
                else if (!o->allow_requantize)
                    rc = aq_fail(msg, cap, why, "already quantized; pass --allow-requantize to requantize it (loses accuracy)");
                if (rc) break;
            }
            plan[i].type = want[i];
            plan[i].n_bytes = aq_bytes(want[i], t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        }
        plan[i].offset = offset;
        offset += (plan[i].n_bytes + align - 1) / align * align;
    }
    free(ts);
    free(want);
    return rc;
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
        aq_write(out, qbuf, (size_t)aq_bytes(p->type, nr * row));
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
    qcap = (size_t)max_row * 4; /* F32 is the widest */
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
    aq_write_meta(&out, m, (uint32_t)o->ftype);
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
static int aq_quantize_file(const char *in_path, const char *out_path, const aq_options *o_in,
                            char *msg, size_t cap)
{
    artr_model *m = NULL;
    artr_model_params p;
    artr_error err;
    aq_plan *plan = NULL;
    int64_t align = 32;
    int rc, n;
    FILE *f;
    const aq_mix *mix = aq_mix_of(o_in);
    aq_options o_full, *o = &o_full;
    if (!mix) return aq_fail(msg, cap, "unknown output type (see aq_mixes)", NULL);
    o_full = *o_in;
    o_full.ftype = mix->ftype;
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
    fputs("usage: artr-quantize [options] IN.gguf OUT.gguf TYPE\n"
          "  TYPE: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K IQ4_NL IQ4_XS\n"
          "        (llama-quantize's mixes and per-tensor rules; Q3_K Q4_K Q5_K mean _M)\n"
          "  --pure               every quantizable tensor gets TYPE (short rows fall back)\n"
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
    {
        const aq_mix *mix = aq_find_mix(args[2]);
        if (!mix) {
            fprintf(stderr, "artr-quantize: unknown TYPE '%s'\n", args[2]);
            aq_usage(stderr);
            return 2;
        }
        o.type = mix->type;
        o.ftype = mix->ftype;
    }
    if (aq_quantize_file(args[0], args[1], &o, msg, sizeof msg) != 0) {
        fprintf(stderr, "artr-quantize: %s\n", msg);
        return 1;
    }
    if (!o.quiet) fprintf(stderr, "wrote %s\n", args[1]);
    return 0;
}
#endif
