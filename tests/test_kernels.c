/* Number formats and dequantization, against gguf-py (fixtures/dequant.gguf). */

/* The kernel table a context gets by default on this CPU (the SIMD one where the build
   and the CPU have it, chosen at run time in an x86 build without -mavx2). */
#define TEST_KT (artr__kset_for(ARTR_KERNELS_AUTO)->rows)

static void test_status_names(void)
{
    CHECK(!strcmp(artr_status_name(ARTR_OK), "OK"));
    CHECK(!strcmp(artr_status_name(ARTR_E_FORMAT), "E_FORMAT"));
    CHECK(!strcmp(artr_status_name(ARTR_E_SPACE), "E_SPACE"));
    CHECK(!strcmp(artr_status_name((artr_status)-99), "E_UNKNOWN"));
}

static void test_error_format(void)
{
    char buf[128];
    artr_error err;
    artr__format(buf, sizeof buf, "%s %d %u %x %lld %llu %zu %%", "a", -5, 7u, 255u, -9000000000LL,
                 18446744073709551615ull, (size_t)42);
    CHECK(!strcmp(buf, "a -5 7 ff -9000000000 18446744073709551615 42 %"));
    artr__format(buf, sizeof buf, "[%.*s]", 4, "ab\001c");
    CHECK(!strcmp(buf, "[ab?c]"));
    artr__format(buf, sizeof buf, "[%.*s][%.*s]", artr__plen(70), "0123456789012345678901234567890123456789"
                 "012345678901234567890123456789", -1, "x");
    CHECK(!strcmp(buf, "[0123456789012345678901234567890123456789012345678901234567890123...][]"));
    artr__format(buf, sizeof buf, "%g %g %g %g %g", 1.5, 1e-5, 10000.0, 0.0, -2.25e7);
    CHECK(!strcmp(buf, "1.5 1e-5 1e4 0 -2.25e7"));
    /* truncation keeps the NUL inside the buffer */
    artr__format(buf, 8, "%s", "0123456789");
    CHECK(!strcmp(buf, "0123456"));
    CHECK(artr__fail_msg(&err, ARTR_E_FORMAT, "x %d", 3) == ARTR_E_FORMAT);
    CHECK(err.status == ARTR_E_FORMAT && !strcmp(err.msg, "x 3"));
    CHECK(artr__fail_bare(&err, ARTR_E_IO) == ARTR_E_IO && !strcmp(err.msg, "E_IO"));
    CHECK(artr__fail_msg(NULL, ARTR_E_ARG, "no err") == ARTR_E_ARG);
}

static int th_isnan_f(float f)
{
    return f != f;
}

/* Every one of the 65536 halves: f16 -> f32 -> f16 is the identity (NaNs stay NaN). */
static void test_f16_all_halves(void)
{
    uint32_t h;
    int bad = 0;
    for (h = 0; h < 65536; h++) {
        float f = artr__f16_to_f32((uint16_t)h);
        uint16_t back = artr__f32_to_f16(f);
        int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (is_nan ? !(th_isnan_f(f) && (back & 0x7c00) == 0x7c00 && (back & 0x3ff)) : back != h) bad++;
    }
    CHECK(bad == 0);
    CHECK(artr__f16_to_f32(0x3c00) == 1.0f);
    CHECK(artr__f16_to_f32(0xc000) == -2.0f);
    CHECK(artr__f16_to_f32(0x7bff) == 65504.0f);
    CHECK(artr__f16_to_f32(0x0001) == 5.9604644775390625e-8f); /* smallest subnormal */
    CHECK(artr__f16_to_f32(0x7c00) == INFINITY);
}

static void test_f32_to_f16_rounding(void)
{
    /* ties to even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 */
    CHECK(artr__f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00);
    CHECK(artr__f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);
    CHECK(artr__f32_to_f16(65504.0f) == 0x7bff);
    CHECK(artr__f32_to_f16(65520.0f) == 0x7c00); /* rounds up to inf */
    CHECK(artr__f32_to_f16(65519.0f) == 0x7bff);
    CHECK(artr__f32_to_f16(1e-8f) == 0x0000);
    CHECK(artr__f32_to_f16(3e-8f) == 0x0001);       /* just above half the smallest subnormal */
    CHECK(artr__f32_to_f16(2.98023223876953125e-8f) == 0x0000); /* exactly half: tie to even 0 */
    CHECK(artr__f32_to_f16(-0.0f) == 0x8000);
    CHECK(artr__f32_to_f16(6.103515625e-05f) == 0x0400); /* smallest normal */
}

static void test_bf16(void)
{
    uint32_t u = 0x3f808000u; /* 1.00390625: exactly halfway, even -> down */
    float f;
    memcpy(&f, &u, 4);
    CHECK(artr__f32_to_bf16(f) == 0x3f80);
    u = 0x3f818000u; /* halfway, odd -> up */
    memcpy(&f, &u, 4);
    CHECK(artr__f32_to_bf16(f) == 0x3f82);
    u = 0x7f800001u; /* signalling NaN is quieted */
    memcpy(&f, &u, 4);
    CHECK(artr__f32_to_bf16(f) == 0x7fc0);
    CHECK(artr__bf16_to_f32(0x3f80) == 1.0f);
    CHECK(artr__bf16_to_f32(0xc040) == -3.0f);
}

/* The same float bits, or both NaN. */
static int th_same_float(float a, float b)
{
    return (th_isnan_f(a) && th_isnan_f(b)) || memcmp(&a, &b, 4) == 0;
}

static void test_dequant_vs_gguf_py(void)
{
    static const char *const names[] = {"f16", "bf16", "q8_0", "q4_0"};
    static const int types[] = {ARTR_TYPE_F16, ARTR_TYPE_BF16, ARTR_TYPE_Q8_0, ARTR_TYPE_Q4_0};
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    int i;
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK_STATUS(artr_model_load_file(&m, th_path("dequant.gguf"), &p, &err), ARTR_OK, &err);
    if (!m) return;
    for (i = 0; i < 4; i++) {
        artr_tensor q, ref;
        char refname[32];
        float got[512], want[512], part[64];
        int j, bad = 0;
        snprintf(refname, sizeof refname, "%s.ref", names[i]);
        CHECK_STATUS(artr_model_tensor(m, names[i], &q, &err), ARTR_OK, &err);
        CHECK_STATUS(artr_model_tensor(m, refname, &ref, &err), ARTR_OK, &err);
        CHECK(q.type == types[i] && ref.type == ARTR_TYPE_F32);
        CHECK(q.ne[0] == 64 && q.ne[1] == 8 && q.n_dims == 2);
        CHECK_STATUS(artr_tensor_to_f32(&q, 0, 512, got, &err), ARTR_OK, &err);
        CHECK_STATUS(artr_tensor_to_f32(&ref, 0, 512, want, &err), ARTR_OK, &err);
        for (j = 0; j < 512; j++) bad += !th_same_float(got[j], want[j]);
        if (bad) printf("  %s: %d of 512 values differ from gguf-py\n", names[i], bad);
        CHECK(bad == 0);
        /* a sub-range (second row) equals the same slice of the whole */
        CHECK_STATUS(artr_tensor_to_f32(&q, 64, 64, part, &err), ARTR_OK, &err);
        for (j = 0, bad = 0; j < 64; j++) bad += !th_same_float(part[j], got[64 + j]);
        CHECK(bad == 0);
    }
    artr_model_free(m);
}

/* The other block types (fixtures/dequant_k.gguf, tests/gen_quant_fixtures.py): random
   blocks with every kind of finite scale, dequantized bit for bit as gguf-py does. */
static void test_dequant_k_vs_gguf_py(void)
{
    static const int types[] = {ARTR_TYPE_Q4_1, ARTR_TYPE_Q5_0, ARTR_TYPE_Q5_1, ARTR_TYPE_IQ4_NL,
                                ARTR_TYPE_Q2_K, ARTR_TYPE_Q3_K, ARTR_TYPE_Q4_K, ARTR_TYPE_Q5_K,
                                ARTR_TYPE_Q6_K, ARTR_TYPE_IQ4_XS};
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    float *got = (float *)malloc(2048 * sizeof(float)), *want = (float *)malloc(2048 * sizeof(float));
    int i;
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK_STATUS(artr_model_load_file(&m, th_path("dequant_k.gguf"), &p, &err), ARTR_OK, &err);
    for (i = 0; m && i < (int)(sizeof types / sizeof types[0]); i++) {
        const char *name = artr_type_name(types[i]);
        artr_tensor q, ref;
        char refname[32];
        int j, bad = 0;
        snprintf(refname, sizeof refname, "%s.ref", name);
        CHECK_STATUS(artr_model_tensor(m, name, &q, &err), ARTR_OK, &err);
        CHECK_STATUS(artr_model_tensor(m, refname, &ref, &err), ARTR_OK, &err);
        CHECK(q.type == types[i] && q.ne[0] == 512 && q.ne[1] == 4);
        CHECK_STATUS(artr_tensor_to_f32(&q, 0, 2048, got, &err), ARTR_OK, &err);
        CHECK_STATUS(artr_tensor_to_f32(&ref, 0, 2048, want, &err), ARTR_OK, &err);
        for (j = 0; j < 2048; j++) bad += !th_same_float(got[j], want[j]);
        if (bad) printf("  %s: %d of 2048 values differ from gguf-py\n", name, bad);
        CHECK(bad == 0);
    }
    artr_model_free(m);
    free(got);
    free(want);
}

/* The kernel table: a row for every weight type, each complete, with the block sizes of
   artr__types; the quantized-activation kernels read the activation format whose block
   divides the weight's. */
static void test_kernel_table(void)
{
    static const int weights[] = {ARTR_TYPE_F32, ARTR_TYPE_F16, ARTR_TYPE_BF16, ARTR_TYPE_Q8_0, ARTR_TYPE_Q4_0,
                                  ARTR_TYPE_Q4_1, ARTR_TYPE_Q5_0, ARTR_TYPE_Q5_1, ARTR_TYPE_IQ4_NL,
                                  ARTR_TYPE_Q2_K, ARTR_TYPE_Q3_K, ARTR_TYPE_Q4_K, ARTR_TYPE_Q5_K,
                                  ARTR_TYPE_Q6_K, ARTR_TYPE_IQ4_XS};
    int i;
    CHECK(ARTR__N_KERNEL_ROWS == (int)(sizeof weights / sizeof weights[0]));
    for (i = 0; i < (int)(sizeof weights / sizeof weights[0]); i++) {
        const artr__kernel_row *k = artr__kernels_in(TEST_KT, weights[i]);
        const artr__type_info *ti = artr__type((uint32_t)weights[i]);
        CHECK(k != NULL && artr__type_is_weight(weights[i]));
        if (!k) continue;
        CHECK(k->to_f32 && k->dot_ref && k->dot);
        CHECK(ti->block == 1 ? k->act == ARTR__ACT_F32 : k->act != ARTR__ACT_F32);
        CHECK(k->act == ARTR__ACT_F32 ? !k->dotq && !k->dotq_ref : k->dotq && k->dotq_ref);
        CHECK(k->act != ARTR__ACT_Q8K || ti->block == 256);
        CHECK(!k->dotq4x2 || k->dotq4);
    }
    CHECK(artr__kernels_in(TEST_KT, ARTR_TYPE_F32)->axpy && artr__kernels_in(TEST_KT, ARTR_TYPE_F16)->axpy);
    CHECK(!artr__kernels_in(TEST_KT, ARTR_TYPE_Q8_K) && !artr__kernels_in(TEST_KT, ARTR_TYPE_IQ2_XXS) && !artr__kernels_in(TEST_KT, ARTR_TYPE_I8));
}

static void test_tensor_to_f32_args(void)
{
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    artr_tensor t;
    float buf[256];
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK_STATUS(artr_model_load_file(&m, th_path("dequant.gguf"), &p, &err), ARTR_OK, &err);
    if (!m) return;
    artr_model_tensor(m, "q8_0", &t, NULL);
    CHECK_STATUS(artr_tensor_to_f32(&t, 16, 32, buf, &err), ARTR_E_ARG, &err); /* not block-aligned */
    CHECK_MSG(err, "block size 32");
    CHECK_STATUS(artr_tensor_to_f32(&t, 500, 32, buf, &err), ARTR_E_ARG, &err); /* past the end */
    CHECK_STATUS(artr_tensor_to_f32(&t, 0, 32, NULL, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_tensor_to_f32(NULL, 0, 32, buf, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_tensor_to_f32(&t, 480, 32, buf, &err), ARTR_OK, &err);
    artr_model_free(m);
    m = NULL;
    CHECK_STATUS(artr_model_load_file(&m, th_path("q5_0.gguf"), &p, &err), ARTR_OK, &err);
    if (!m) return;
    artr_model_tensor(m, "w", &t, NULL);
    CHECK_STATUS(artr_tensor_to_f32(&t, 0, 32, buf, &err), ARTR_OK, &err); /* Q5_0 converts */
    artr_model_free(m);
    { /* a type artr has no kernels for is named */
        static uint8_t blk[66];
        memset(&t, 0, sizeof t);
        t.type = ARTR_TYPE_IQ2_XXS;
        t.ne[0] = 256;
        t.ne[1] = t.ne[2] = t.ne[3] = 1;
        t.data = blk;
        t.name = "w";
        t.name_len = 1;
        CHECK_STATUS(artr_tensor_to_f32(&t, 0, 256, buf, &err), ARTR_E_UNSUPPORTED, &err);
        CHECK_MSG(err, "IQ2_XXS");
    }
}

/* ---- SIMD dot kernels against their references ------------------------------------ */
/* The fast kernels add in another order (several accumulators, a tree at the end), so
   they match the reference to rounding only. The error of a float32 sum is bounded by a
   multiple of eps * sum |w*x| (sequential sum: (n-1) eps in the worst case; random
   rounding grows as sqrt(n)). TOL_DOT_REL, times sum |w*x| in double, allows ~170 eps,
   far above what n <= 4097 of random terms reaches and far below one wrong term. The
   quantized kernels sum each block's 32 products first and scale by d, as the reference,
   so the same bound holds. */
#define TOL_DOT_REL 1e-5

typedef struct th_dot_kernel {
    const char *name;
    int type;
    artr__dot_fn ref, fast;
} th_dot_kernel;

/* The kernels this build dispatches to (the kernel table), beside their references
   (fast == ref when the build has no SIMD variant: the comparison is then exact, and
   still run). */
static int th_dot_kernels(th_dot_kernel *k)
{
    int i;
    for (i = 0; i < ARTR__N_KERNEL_ROWS; i++) {
        k[i].type = TEST_KT[i].type;
        k[i].name = artr_type_name(k[i].type);
        k[i].ref = TEST_KT[i].dot_ref;
        k[i].fast = TEST_KT[i].dot;
    }
    return ARTR__N_KERNEL_ROWS;
}

static uint64_t th_rng_state;
static float th_randf(void) /* uniform in [-1, 1) */
{
    th_rng_state = th_rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((th_rng_state >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

/* Where a block type keeps its halves (scale d, and min or dmin where it has one). */
static void th_half_offsets(int type, int *d, int *m)
{
    *d = 0;
    *m = -1;
    switch (type) {
    case ARTR_TYPE_Q4_1: case ARTR_TYPE_Q5_1: case ARTR_TYPE_Q4_K: case ARTR_TYPE_Q5_K: *m = 2; break;
    case ARTR_TYPE_Q2_K: *d = 80; *m = 82; break;
    case ARTR_TYPE_Q3_K: *d = 108; break;
    case ARTR_TYPE_Q6_K: *d = 208; break;
    }
}

/* A random finite half of magnitude about `mag`, either sign. */
static uint16_t th_random_half(float mag)
{
    return artr__f32_to_f16(mag * th_randf());
}

/* n floats written as type into dst (n a multiple of the block): quantized by
   artr_quantize_f32 where it writes the type, else random bytes with finite scales of
   about sum|src| / n, so that the values have the size of src. */
static void th_encode(int type, const float *src, int n, uint8_t *dst)
{
    const artr__type_info *ti = artr__type((uint32_t)type);
    int b, i, od, om;
    double mag = 0;
    if (artr_quantize_f32(type, src, n, dst, (size_t)n * 4, NULL) == ARTR_OK) return;
    for (i = 0; i < n; i++) mag += fabs(src[i]);
    mag /= n;
    th_half_offsets(type, &od, &om);
    for (b = 0; b < n / ti->block; b++) {
        uint8_t *blk = dst + (size_t)b * ti->bytes;
        uint16_t h;
        for (i = 0; i < ti->bytes; i++) blk[i] = (uint8_t)(th_randf() * 128.0f + 128.0f);
        h = th_random_half((float)mag / (ti->block == 256 ? 256.0f : 8.0f));
        blk[od] = (uint8_t)(h & 0xff);
        blk[od + 1] = (uint8_t)(h >> 8);
        if (om >= 0) {
            h = th_random_half((float)mag / (ti->block == 256 ? 64.0f : 1.0f));
            blk[om] = (uint8_t)(h & 0xff);
            blk[om + 1] = (uint8_t)(h >> 8);
        }
    }
}

/* Compare fast and ref on one (w, x); w's float value is wf, for the bound. Returns 0/1. */
static int th_dot_case(const th_dot_kernel *k, const uint8_t *w, const float *x, const float *wf, int n,
                       double *worst)
{
    float got = k->fast(w, x, n), want = k->ref(w, x, n);
    double mag = 0, err;
    int i;
    for (i = 0; i < n; i++) mag += fabs((double)wf[i] * (double)x[i]);
    err = fabs((double)got - (double)want);
    if (mag > 0 && err / mag > *worst) *worst = err / mag;
    if (err <= TOL_DOT_REL * mag) return 0;
    printf("  %s n=%d: fast %.9g, ref %.9g, sum|w*x| %.9g\n", k->name, n, got, want, mag);
    return 1;
}

/* Random weights and inputs, offset by `shift` elements (blocks for quantized types) from
   the buffers' start so loads are unaligned. */
static void test_dot_simd_vs_ref(void)
{
    static const int big[] = {256, 1000, 4096, 4097, 4103};
    th_dot_kernel ks[ARTR__N_KERNEL_ROWS];
    int nk = th_dot_kernels(ks), ki;
    float *xs = (float *)malloc(8192 * sizeof(float)), *wf = (float *)malloc(8192 * sizeof(float));
    uint8_t *wq = (uint8_t *)malloc(8192 * 4 + 64);
    th_rng_state = 12345;
    for (ki = 0; ki < nk; ki++) {
        const th_dot_kernel *k = &ks[ki];
        const artr__type_info *ti = artr__type((uint32_t)k->type);
        int blk = ti->block, bad = 0, c, shift, nc = blk == 256 ? 12 : 67;
        double worst = 0;
        for (c = 0; c < nc + 5; c++) {
            int n = c < nc ? blk * (c + 1) : (big[c - nc] + blk - 1) / blk * blk, i;
            if (n > 8192) n = 8192 / blk * blk;
            for (shift = 0; shift < 2; shift++) {
                size_t off = (size_t)shift * ti->bytes;
                float *x = xs + shift, sc = (float)(1 + c % 5);
                for (i = 0; i < n; i++) {
                    wf[i] = sc * th_randf();
                    x[i] = th_randf() * (i % 7 == 0 ? 100.0f : 1.0f);
                }
                th_encode(k->type, wf, n, wq + off);
                { /* wf becomes the value the kernel sees, for the bound */
                    artr_tensor t;
                    memset(&t, 0, sizeof t);
                    t.type = k->type;
                    t.ne[0] = n;
                    t.ne[1] = t.ne[2] = t.ne[3] = 1;
                    t.data = wq + off;
                    artr_tensor_to_f32(&t, 0, n, wf, NULL);
                }
                bad += th_dot_case(k, wq + off, x, wf, n, &worst);
            }
        }
        printf("  %-4s %s: worst |fast - ref| / sum|w*x| = %.2g\n", k->name, k->fast == k->ref ? "(ref)" : "", worst);
        CHECK(bad == 0);
    }
    free(xs);
    free(wf);
    free(wq);
}

/* Every half through the F16 kernel: one nonzero weight, so the sum is exact and the
   conversion (F16C, NEON's vcvt) must equal artr__f16_to_f32 bit for bit, subnormals,
   infinities and NaN included; in every lane and in the scalar tail (n = 9). */
static void test_dot_f16_all_halves(void)
{
    artr__dot_fn dot = artr__dot_for(artr__kset_for(ARTR_KERNELS_AUTO), ARTR_TYPE_F16);
    uint16_t w[9];
    float x[9];
    uint32_t h;
    int bad = 0, i;
    for (i = 0; i < 9; i++) x[i] = 1.0f;
    for (h = 0; h < 65536; h++) {
        int lane = (int)(h % 9);
        float got, want;
        memset(w, 0, sizeof w);
        w[lane] = (uint16_t)h;
        got = dot(w, x, 9);
        want = artr__dot_f16_ref(w, x, 9); /* f16_to_f32(h), but -0 + 0 = +0 */
        if (!th_same_float(got, want) && !(th_isnan_f(got) && th_isnan_f(want))) bad++;
    }
    CHECK(bad == 0);
}

/* Quantized extremes: q = -128 and 127 in Q8_0, every nibble in Q4_0, subnormal and
   negative scales; one nonzero input at a time makes each product exact. */
static void test_dot_quant_extremes(void)
{
    static const uint16_t scales[] = {0x3c00, 0xbc00, 0x0001, 0x7bff, 0x0000};
    artr__dot_fn q8 = artr__dot_for(artr__kset_for(ARTR_KERNELS_AUTO), ARTR_TYPE_Q8_0), q4 = artr__dot_for(artr__kset_for(ARTR_KERNELS_AUTO), ARTR_TYPE_Q4_0);
    uint8_t b8[34], b4[18];
    float x[32];
    int s, j, bad = 0;
    for (s = 0; s < 5; s++) {
        b8[0] = b4[0] = (uint8_t)(scales[s] & 0xff);
        b8[1] = b4[1] = (uint8_t)(scales[s] >> 8);
        for (j = 0; j < 32; j++) b8[2 + j] = (uint8_t)(j & 1 ? 127 : -128 + j);
        for (j = 0; j < 16; j++) b4[2 + j] = (uint8_t)(j | (15 - j) << 4);
        for (j = 0; j < 32; j++) {
            memset(x, 0, sizeof x);
            x[j] = 0.5f;
            bad += !th_same_float(q8(b8, x, 32), artr__dot_q8_0_ref(b8, x, 32));
            bad += !th_same_float(q4(b4, x, 32), artr__dot_q4_0_ref(b4, x, 32));
        }
    }
    CHECK(bad == 0);
}

/* Activations quantized as a table row's dotq reads them. */
static void th_quantize_act(const artr__kernel_row *k, const float *x, int n, int8_t *xq, float *xd)
{
    if (k->act == ARTR__ACT_Q8K) artr__quantize_act_k_ref(x, n, xq, xd);
    else artr__quantize_act_ref(x, n, xq, xd);
}

/* The four-row kernels (dotq4, dotq4x2 in the kernel table, where the build has them) give,
   bit for bit, what the one-row kernel gives for each of the four rows: a row's output never depends on
   which kernel computed it, so batch equals steps holds whatever the grouping. */
static void test_dotq4_equals_rows(void)
{
    int ki, bad = 0, c, have = 0;
    th_rng_state = 4242;
    for (ki = 0; ki < ARTR__N_KERNEL_ROWS; ki++) {
        const artr__kernel_row *k = &TEST_KT[ki];
        const artr__type_info *ti = artr__type((uint32_t)k->type);
        if (!k->dotq4 || !k->dotq) continue;
        have++;
        for (c = 0; c < 12; c++) {
            int n = ti->block == 256 ? 256 * (c % 6 + 1) : 32 * (c * 7 % 29 + 1), i, r;
            int nd = artr__act_scales(k->act, n);
            size_t row = (size_t)n / ti->block * ti->bytes;
            float *wf = (float *)malloc((size_t)n * sizeof(float)), *x = (float *)malloc((size_t)n * sizeof(float));
            float *xd = (float *)malloc((size_t)nd * sizeof(float)), got[4];
            int8_t *xq = (int8_t *)malloc((size_t)n);
            uint8_t *wq = (uint8_t *)malloc(4 * row);
            for (r = 0; r < 4; r++) {
                for (i = 0; i < n; i++) wf[i] = th_randf() * (r + 1);
                th_encode(k->type, wf, n, wq + (size_t)r * row);
            }
            for (i = 0; i < n; i++) x[i] = th_randf() * (i % 5 == 0 ? 20.0f : 1.0f);
            th_quantize_act(k, x, n, xq, xd);
            k->dotq4(wq, row, xq, xd, n, got);
            for (r = 0; r < 4; r++) bad += !th_same_float(got[r], k->dotq(wq + (size_t)r * row, xq, xd, n));
            if (k->dotq4x2) { /* two tokens: the same rows with x, then x reversed */
                float two[8];
                int8_t *xq2 = (int8_t *)malloc(2 * (size_t)n);
                float *xd2 = (float *)malloc(2 * (size_t)nd * sizeof(float));
                for (i = 0; i < n; i++) wf[i] = x[n - 1 - i];
                th_quantize_act(k, x, n, xq2, xd2);
                th_quantize_act(k, wf, n, xq2 + n, xd2 + nd);
                k->dotq4x2(wq, row, xq2, (size_t)n, xd2, (size_t)nd, n, two);
                for (r = 0; r < 4; r++) {
                    bad += !th_same_float(two[r], k->dotq(wq + (size_t)r * row, xq2, xd2, n));
                    bad += !th_same_float(two[4 + r], k->dotq(wq + (size_t)r * row, xq2 + n, xd2 + nd, n));
                }
                free(xq2);
                free(xd2);
            }
            free(wf);
            free(x);
            free(xd);
            free(xq);
            free(wq);
        }
    }
    if (!have) th_skip_build("this build has no four-row kernels: nothing to compare");
    CHECK(bad == 0);
}

/* The vectorised softmax, SwiGLU and GELU (AVX2 builds) against their references, and
   the vector exp against expf: within TOL_EXP_ULP units in the last place over
   [-87, 88.72], exact special values. Scalar builds have nothing to compare. */
#define TOL_EXP_ULP 1.0 /* README: "within 1 ulp of expf"; measured 1.00 */
#define TOL_VEC_REL 1e-6
#if ARTR__AVX2
ARTR__AVX2_BEGIN
static void test_vec_math_avx2(void)
{
    float in[1024], a[1024], b[1024], u[1024];
    double worst_ulp = 0, worst_sm = 0, worst_sw = 0, worst_ge = 0;
    int i, n, bad = 0;
    for (i = 0; i < 175720; i += 8) {
        float x[8], y[8];
        int k;
        for (k = 0; k < 8; k++) x[k] = -87.0f + (float)(i + k) * 0.001f;
        _mm256_storeu_ps(y, artr__exp_avx2(_mm256_loadu_ps(x)));
        for (k = 0; k < 8; k++) {
            float want = expf(x[k]);
            double ulp = (double)nextafterf(want, INFINITY) - (double)want;
            double d = fabs((double)y[k] - (double)want) / ulp;
            if (x[k] > 88.72f) break;
            if (d > worst_ulp) worst_ulp = d;
        }
    }
    {
        float x[8] = {-INFINITY, NAN, -100.0f, 89.0f, 0.0f, -0.0f, 1.0f, -1.0f}, y[8];
        _mm256_storeu_ps(y, artr__exp_avx2(_mm256_loadu_ps(x)));
        bad += y[0] != 0.0f || y[1] == y[1] || y[2] != 0.0f || y[3] != INFINITY || y[4] != 1.0f || y[5] != 1.0f;
        bad += fabsf(y[6] - expf(1.0f)) > 3e-7f || fabsf(y[7] - expf(-1.0f)) > 1e-7f;
    }
    th_rng_state = 99;
    for (n = 1; n <= 1024; n = n < 40 ? n + 1 : n * 2 + 3) {
        int m = n > 1024 ? 1024 : n;
        for (i = 0; i < m; i++) {
            in[i] = th_randf() * 12.0f;
            u[i] = th_randf();
            if (i % 13 == 5) in[i] = -INFINITY;
        }
        in[m / 2] = 3.0f; /* at least one finite logit */
        artr__softmax_avx2(in, a, m);
        artr__softmax_ref(in, b, m);
        for (i = 0; i < m; i++) {
            double d = fabs((double)a[i] - b[i]) / (b[i] > 1e-30 ? b[i] : 1e-30);
            if (b[i] == 0) d = a[i] == 0 ? 0 : 1;
            if (d > worst_sm) worst_sm = d;
        }
        for (i = 0; i < m; i++) in[i] = in[i] == -INFINITY ? -30.0f : in[i] * 2.0f;
        memcpy(a, in, (size_t)m * sizeof(float));
        memcpy(b, in, (size_t)m * sizeof(float));
        artr__swiglu_avx2(a, u, m);
        artr__swiglu_ref(b, u, m);
        for (i = 0; i < m; i++) {
            double d = fabs((double)a[i] - b[i]) / (fabs(b[i]) > 1e-30 ? fabs(b[i]) : 1e-30);
            if (d > worst_sw && fabs(b[i]) > 1e-30) worst_sw = d;
        }
        memcpy(a, in, (size_t)m * sizeof(float));
        memcpy(b, in, (size_t)m * sizeof(float));
        artr__gelu_avx2(a, m);
        artr__gelu_ref(b, m);
        for (i = 0; i < m; i++) {
            double d = fabs((double)a[i] - b[i]) / (fabs((double)in[i]) + 1.0);
            if (d > worst_ge) worst_ge = d;
        }
    }
    printf("  exp: max %.2f ulp vs expf; softmax max rel %.1e, SwiGLU %.1e, GELU %.1e (of |x|+1)\n",
           worst_ulp, worst_sm, worst_sw, worst_ge);
    CHECK(bad == 0);
    CHECK(worst_ulp <= TOL_EXP_ULP);
    CHECK(worst_sm <= TOL_VEC_REL && worst_sw <= TOL_VEC_REL && worst_ge <= TOL_VEC_REL);
}
ARTR__AVX2_END
#endif

static void test_vec_math(void)
{
#if ARTR__AVX2
    if (artr__kset_for(ARTR_KERNELS_AUTO)->simd == ARTR__SIMD_AVX2) test_vec_math_avx2();
    else th_skip_build("this CPU lacks AVX2/FMA/F16C: softmax, SwiGLU and GELU are the references");
#else
    th_skip_build("a scalar build: softmax, SwiGLU and GELU are the references");
#endif
}

/* Quantized activations (artr__quantize_act_ref + artr__dotq_*): the SIMD kernel against
   its reference (TOL_DOT_REL of sum |w * xhat|, xhat the rounded activations), and the
   reference against the float dot with an exact bound: rounding moves each x by at most
   half a step, d_x / 2 = max|x of its block| / 254, so the dot moves by at most
   sum over blocks of (sum |w|) * d_x / 2; TOL_DOT_REL covers the float sums. Also: the
   rounding of one token's row does not depend on the others (it is per row). */
static void test_dotq_bound(void)
{
    float *x = (float *)malloc(4096 * sizeof(float)), *wf = (float *)malloc(4096 * sizeof(float));
    float *xd = (float *)malloc(512 * sizeof(float));
    int8_t *xq = (int8_t *)malloc(4096);
    uint8_t *wq = (uint8_t *)malloc(4096 * 2);
    int ki, bad = 0, c, tested = 0;
    th_rng_state = 777;
    for (ki = 0; ki < ARTR__N_KERNEL_ROWS; ki++) {
        const artr__kernel_row *k = &TEST_KT[ki];
        const artr__type_info *ti = artr__type((uint32_t)k->type);
        int ab = k->act == ARTR__ACT_Q8K ? 256 : 32; /* elements per activation scale */
        double worst = 0, worst_ref = 0;
        if (k->act == ARTR__ACT_F32) continue;
        tested++;
        bad += !k->dotq || !k->dotq_ref;
        for (c = 0; c < 40; c++) {
            int n = c < 32 ? ti->block * (c % 16 + 1) : 4096, i, b;
            double bound = 0, mag = 0, magq = 0;
            float got, want, exact;
            artr_tensor t;
            for (i = 0; i < n; i++) {
                wf[i] = th_randf();
                x[i] = th_randf() * (i % 11 == 0 ? 50.0f : 1.0f);
            }
            if (c == 3) for (i = ab; i < 2 * ab && i < n; i++) x[i] = 0; /* an all-zero block: d = 0 */
            th_encode(k->type, wf, n, wq);
            memset(&t, 0, sizeof t);
            t.type = k->type;
            t.ne[0] = n;
            t.ne[1] = t.ne[2] = t.ne[3] = 1;
            t.data = wq;
            artr_tensor_to_f32(&t, 0, n, wf, NULL);
            th_quantize_act(k, x, n, xq, xd);
            for (b = 0; b < n / ab; b++) {
                double wsum = 0;
                for (i = ab * b; i < ab * b + ab; i++) {
                    wsum += fabs(wf[i]);
                    mag += fabs((double)wf[i] * x[i]);
                    magq += fabs((double)wf[i] * xq[i] * xd[b]);
                    bad += abs(xq[i]) > 127;
                }
                bound += wsum * xd[b] / 2;
            }
            if (k->act == ARTR__ACT_Q8K) /* the sums of 16 are the q's sums */
                for (b = 0; b < n / 16; b++) {
                    int s = 0;
                    for (i = 16 * b; i < 16 * b + 16; i++) s += xq[i];
                    bad += xd[n / 256 + b] != (float)s;
                }
            got = k->dotq(wq, xq, xd, n);
            want = k->dotq_ref(wq, xq, xd, n);
            exact = k->dot_ref(wq, x, n);
            if (fabs((double)got - want) > TOL_DOT_REL * magq) bad++;
            if (magq > 0 && fabs((double)got - want) / magq > worst_ref) worst_ref = fabs((double)got - want) / magq;
            if (fabs((double)want - exact) > bound * (1 + 1e-5) + TOL_DOT_REL * (mag + magq)) {
                printf("  %s n=%d: quantized-activation dot %.9g, float dot %.9g, bound %.3g\n",
                       ti->name, n, want, exact, bound);
                bad++;
            }
            if (bound > 0 && fabs((double)want - exact) / bound > worst) worst = fabs((double)want - exact) / bound;
        }
        printf("  %-6s: |quantized-activation dot - float dot| reaches %.0f%% of the bound", ti->name, 100 * worst);
        if (k->dotq == k->dotq_ref) printf(" (reference kernel)\n");
        else printf("; |dotq - dotq_ref| <= %.2g sum|w * xhat|\n", worst_ref);
    }
    CHECK(tested == 12); /* every block type */
    CHECK(bad == 0);
    free(x);
    free(wf);
    free(xd);
    free(xq);
    free(wq);
}

/* Quantized-activation kernels on extreme blocks: every byte 0xff, 0x00 or 0x80, or
   random, with the block's halves (scale, and min where the type has one) set to
   normal, subnormal, largest, infinite, NaN and signed-zero values, against random,
   saturated (every q at +-127) and all-zero activations. Nothing may crash; where the
   reference is finite the build's kernel agrees with it to TOL_DOT_REL of sum |w * xhat|,
   where not it is not finite either; the four-row kernels (rows with the next halves)
   equal the one-row kernel bit for bit, NaN as NaN. */
static void test_dotq_extremes(void)
{
    static const uint16_t halves[] = {0x3c00, 0xbc00, 0x0001, 0x03ff, 0x7bff, 0xfbff,
                                      0x7c00, 0xfc00, 0x7e00, 0x0000, 0x8000};
    static const int fills[] = {0xff, 0x00, 0x80, -1}; /* -1: random bytes */
    enum { N = 512, NH = (int)(sizeof halves / sizeof halves[0]) };
    float x[N], wf[N], xd[N / 16 + N / 256], got4[4];
    int8_t xq[N];
    int ki, bad = 0, nonfinite = 0, tested = 0;
    th_rng_state = 999;
    for (ki = 0; ki < ARTR__N_KERNEL_ROWS; ki++) {
        const artr__kernel_row *k = &TEST_KT[ki];
        const artr__type_info *ti = artr__type((uint32_t)k->type);
        size_t row = (size_t)N / ti->block * ti->bytes;
        uint8_t *wq = (uint8_t *)malloc(4 * row);
        int ab = k->act == ARTR__ACT_Q8K ? 256 : 32, od, om, f, hd, hm, xp, r, b, i;
        if (k->act == ARTR__ACT_F32) {
            free(wq);
            continue;
        }
        th_half_offsets(k->type, &od, &om);
        for (f = 0; f < 4; f++)
            for (hd = 0; hd < NH; hd++)
                for (hm = 0; hm < (om >= 0 ? NH : 1); hm++) {
                    for (i = 0; i < (int)(4 * row); i++) wq[i] = (uint8_t)(fills[f] >= 0 ? fills[f] : th_randf() * 128.0f + 128.0f);
                    for (r = 0; r < 4; r++)
                        for (b = 0; b < N / ti->block; b++) {
                            uint8_t *blk = wq + (size_t)r * row + (size_t)b * ti->bytes;
                            uint16_t d = halves[(hd + r) % NH], m = halves[(hm + r) % NH];
                            blk[od] = (uint8_t)(d & 0xff);
                            blk[od + 1] = (uint8_t)(d >> 8);
                            if (om >= 0) {
                                blk[om] = (uint8_t)(m & 0xff);
                                blk[om + 1] = (uint8_t)(m >> 8);
                            }
                        }
                    for (xp = 0; xp < 3; xp++) {
                        artr_tensor t;
                        for (i = 0; i < N; i++)
                            x[i] = xp == 0 ? th_randf() * (i % 9 == 0 ? 30.0f : 1.0f) : xp == 1 ? (i % 3 ? 1000.0f : -1000.0f) : 0.0f;
                        th_quantize_act(k, x, N, xq, xd);
                        if (k->dotq4) k->dotq4(wq, row, xq, xd, N, got4);
                        memset(&t, 0, sizeof t);
                        t.type = k->type;
                        t.ne[0] = N;
                        t.ne[1] = t.ne[2] = t.ne[3] = 1;
                        for (r = 0; r < 4; r++) {
                            const uint8_t *w = wq + (size_t)r * row;
                            float got = k->dotq(w, xq, xd, N), want = k->dotq_ref(w, xq, xd, N);
                            double magq = 0;
                            tested++;
                            if (k->dotq4) bad += !th_same_float(got4[r], got);
                            if (want - want != 0) { /* Inf or NaN */
                                nonfinite++;
                                bad += got - got == 0;
                                continue;
                            }
                            t.data = w;
                            artr_tensor_to_f32(&t, 0, N, wf, NULL);
                            for (i = 0; i < N; i++) magq += fabs((double)wf[i] * xq[i] * xd[i / ab]);
                            if (!(fabs((double)got - want) <= TOL_DOT_REL * magq)) {
                                if (bad < 10)
                                    printf("  %s fill %d halves %04x %04x x %d: dotq %.9g, ref %.9g\n", ti->name,
                                           fills[f], halves[(hd + r) % NH], halves[(hm + r) % NH], xp, got, want);
                                bad++;
                            }
                        }
                    }
                }
        free(wq);
    }
    printf("  %d cases, %d with a non-finite reference\n", tested, nonfinite);
    CHECK(bad == 0);
}

/* The quantized-activation kernels of the 32-element types on extreme blocks: bytes all
   0x00, all 0xff or mixed; scales (d, and m where the type has one) of either sign, the
   largest and smallest (subnormal) halves, zero, infinities and NaN, a different one per
   row and block; activations at +-127 with scales 1, 1e-3, a float subnormal and 0. No
   crash; where the reference is finite the kernel is too and within TOL_DOT_REL of
   sum (|d| 128 + |m|) |xq| d_x (128 bounds every weight value), where it is not neither is
   the kernel; the four-row kernels equal the one-row one bit for bit, NaN included. */
static const uint16_t th_extreme_halves[] = {0x3c00, 0xbc00, 0x0001, 0x8001, 0x7bff,
                                             0xfbff, 0x0000, 0x7c00, 0xfc00, 0x7e00};
#define TH_NH ((int)(sizeof th_extreme_halves / sizeof th_extreme_halves[0]))
#define TH_NB 3 /* blocks per row */

/* One case: four rows of TH_NB blocks at w (row bytes apart), tokens xq and xq + 32 TH_NB.
   Returns the number of failures. */
static int th_dotq_extreme_case(const artr__kernel_row *k, const uint8_t *w, size_t row, const int8_t *xq,
                                const float *xd)
{
    const artr__type_info *ti = artr__type((uint32_t)k->type);
    const int n = 32 * TH_NB;
    float one[8], four[8];
    int od, om, r, b, i, bad = 0;
    th_half_offsets(k->type, &od, &om);
    for (r = 0; r < 4; r++) {
        const uint8_t *wr = w + (size_t)r * row;
        float want = k->dotq_ref(wr, xq, xd, n);
        double mag = 0;
        one[r] = k->dotq(wr, xq, xd, n);
        one[4 + r] = k->dotq(wr, xq + n, xd + TH_NB, n);
        for (b = 0; b < TH_NB; b++) {
            const uint8_t *blk = wr + (size_t)b * ti->bytes;
            double xs = 0, dm = 128 * fabs(artr__f16_to_f32(artr__le16(blk + od)));
            if (om >= 0) dm += fabs(artr__f16_to_f32(artr__le16(blk + om)));
            for (i = 32 * b; i < 32 * b + 32; i++) xs += abs(xq[i]);
            mag += dm * xs * xd[b];
        }
        if (!isfinite(want)) bad += isfinite(one[r]) != 0;
        else bad += !isfinite(one[r]) || fabs((double)one[r] - want) > TOL_DOT_REL * mag + 1e-37;
    }
    if (k->dotq4) {
        k->dotq4(w, row, xq, xd, n, four);
        for (r = 0; r < 4; r++) bad += !th_same_float(four[r], one[r]);
    }
    if (k->dotq4x2) {
        k->dotq4x2(w, row, xq, (size_t)n, xd, TH_NB, n, four);
        for (r = 0; r < 8; r++) bad += !th_same_float(four[r], one[r]);
    }
    return bad;
}

static void test_dotq32_extremes(void)
{
    static const float dxs[] = {1.0f, 1e-3f, 1e-40f, 0.0f};
    static const uint8_t fills[] = {0x00, 0xff, 0x0f, 0x5a};
    uint8_t w[4 * 34 * TH_NB];
    int8_t xq[2 * 32 * TH_NB];
    float xd[2 * TH_NB];
    int ki, f, hd, hm, di, pat, r, b, i, bad = 0, tested = 0;
    for (ki = 0; ki < ARTR__N_KERNEL_ROWS; ki++) {
        const artr__kernel_row *k = &TEST_KT[ki];
        const artr__type_info *ti = artr__type((uint32_t)k->type);
        size_t row = (size_t)TH_NB * ti->bytes;
        int od, om;
        if (k->act != ARTR__ACT_Q8) continue;
        tested++;
        th_half_offsets(k->type, &od, &om);
        for (f = 0; f < 4; f++)
            for (hd = 0; hd < TH_NH; hd++)
                for (hm = 0; hm < (om >= 0 ? TH_NH : 1); hm++) {
                    memset(w, fills[f], sizeof w);
                    for (r = 0; r < 4; r++)
                        for (b = 0; b < TH_NB; b++) {
                            uint8_t *blk = w + (size_t)r * row + (size_t)b * ti->bytes;
                            uint16_t d = th_extreme_halves[(hd + r + b) % TH_NH];
                            uint16_t m = th_extreme_halves[(hm + 3 * r + b) % TH_NH];
                            blk[od] = (uint8_t)(d & 0xff);
                            blk[od + 1] = (uint8_t)(d >> 8);
                            if (om < 0) continue;
                            blk[om] = (uint8_t)(m & 0xff);
                            blk[om + 1] = (uint8_t)(m >> 8);
                        }
                    for (di = 0; di < 4; di++)
                        for (pat = 0; pat < 4; pat++) { /* +127, -127, alternating, one -127 */
                            for (i = 0; i < 32 * TH_NB; i++) {
                                int v = pat == 0 ? 127 : pat == 1 ? -127 : pat == 2 ? (i & 1 ? 127 : -127)
                                                                                  : (i == 32 * TH_NB - 1 ? -127 : 0);
                                xq[i] = (int8_t)v;
                                xq[32 * TH_NB + i] = (int8_t)-v;
                            }
                            for (b = 0; b < 2 * TH_NB; b++) xd[b] = dxs[(di + b) % 4];
                            bad += th_dotq_extreme_case(k, w, row, xq, xd);
                        }
                }
    }
    CHECK(tested == 6); /* Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL */
    CHECK(bad == 0);
}
/* The eight-row kernels (dotq8, where the build has them): for 1 to 9 tokens (one token
   in place, more through a packed tile, 4 at a time and the rest) every output equals
   the one-row kernel's bit for bit; the blocks are random bytes with random finite
   scales, and every third block carries one of the extreme halves (NaN, Inf,
   subnormal, +-0, +-65504), whose NaN and Inf must come out the same too. */
static void test_dotq8_equals_rows(void)
{
    enum { NB = 5, N = 32 * NB, NT = 9 };
    static uint8_t w[8 * 34 * NB], tile[8 * N + NB * 64 + 64];
    int8_t xq[NT * N];
    float x[N], xd[NT * NB], out[NT * 8];
    int32_t xs[NT * NB];
    uint64_t rng = 77;
    int ki, t, r, i, nt, rep, bad = 0, tested = 0;
    for (ki = 0; ki < ARTR__N_KERNEL_ROWS; ki++) {
        const artr__kernel_row *k = &TEST_KT[ki];
        const artr__type_info *ti = artr__type((uint32_t)k->type);
        size_t row = (size_t)NB * ti->bytes;
        int od, om;
        if (!k->dotq8) continue;
        tested++;
        th_half_offsets(k->type, &od, &om);
        for (rep = 0; rep < 4; rep++) {
            artr__qacts a;
            for (i = 0; i < (int)(8 * row); i++) w[i] = (uint8_t)th_rng(&rng);
            for (r = 0; r < 8; r++)
                for (i = 0; i < NB; i++) {
                    uint8_t *blk = w + (size_t)r * row + (size_t)i * ti->bytes;
                    uint16_t d = (uint16_t)(0x2000 + th_rng(&rng) % 0x2000 + (th_rng(&rng) & 1 ? 0x8000 : 0));
                    uint16_t m = (uint16_t)(0x2000 + th_rng(&rng) % 0x2000 + (th_rng(&rng) & 1 ? 0x8000 : 0));
                    if ((r + i + rep) % 3 == 0) d = th_extreme_halves[(r * 7 + i + rep) % TH_NH];
                    blk[od] = (uint8_t)(d & 0xff);
                    blk[od + 1] = (uint8_t)(d >> 8);
                    if (om < 0) continue;
                    blk[om] = (uint8_t)(m & 0xff);
                    blk[om + 1] = (uint8_t)(m >> 8);
                }
            for (t = 0; t < NT; t++) {
                for (i = 0; i < N; i++) x[i] = (float)((int)(th_rng(&rng) % 2001) - 1000) / (rep == 3 ? 1e3f : 7.0f);
                if (t == 2) for (i = 0; i < N; i++) x[i] = -127.0f; /* the extremes of the activations */
                artr__quantize_act_ref(x, N, xq + t * N, xd + t * NB);
                artr__act_sums(xq + t * N, N, xs + t * NB);
            }
            a.q = xq;
            a.d = xd;
            a.s = xs;
            a.ldq = N;
            a.ldd = a.lds = NB;
            for (nt = 1; nt <= NT; nt++) {
                for (i = 0; i < NT * 8; i++) out[i] = -1.0f;
                k->dotq8(w, row, N, &a, nt, out, 8, tile);
                for (t = 0; t < nt; t++)
                    for (r = 0; r < 8; r++)
                        bad += !th_same_float(out[t * 8 + r], k->dotq(w + (size_t)r * row, xq + t * N, xd + t * NB, N));
            }
        }
    }
    printf("  %d types with eight-row kernels\n", tested);
    if (!tested) {
        th_skip_build("no eight-row kernels in this build");
        return;
    }
    CHECK(bad == 0);
}

#undef TH_NB
#undef TH_NH
