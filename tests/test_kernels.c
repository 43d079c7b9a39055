/* Number formats and dequantization, against gguf-py (fixtures/dequant.gguf). */

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
    artr__format(buf, sizeof buf, "%s %d %u %x %I %U %z %%", "a", -5, 7u, 255u, (int64_t)-9000000000LL,
                 (uint64_t)18446744073709551615ull, (size_t)42);
    CHECK(!strcmp(buf, "a -5 7 ff -9000000000 18446744073709551615 42 %"));
    artr__format(buf, sizeof buf, "[%S]", "ab\001c", (size_t)4);
    CHECK(!strcmp(buf, "[ab?c]"));
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

static void test_tensor_to_f32_args(void)
{
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    artr_tensor t;
    float buf[64];
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
    CHECK_STATUS(artr_tensor_to_f32(&t, 0, 32, buf, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK_MSG(err, "Q5_0");
    artr_model_free(m);
}
