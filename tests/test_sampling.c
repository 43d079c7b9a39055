/* Samplers: artr's distributions against transformers' logits processors
   (fixtures/sampling.ref from tests/gen_sampling_fixtures.py), draws against the
   distribution (chi-square), edge cases, reproducibility, no allocation. */

#define TOL_PROBS 1e-6 /* float32 softmax vs float32 softmax: summation order only */

static void test_sampling_vs_transformers(void)
{
    size_t size, at = 20;
    unsigned char *b = th_fixture("sampling.ref", &size);
    int32_t hdr[5];
    int k, worst_case = -1;
    double worst = 0;
    if (!b) {
        CHECK(0);
        return;
    }
    memcpy(hdr, b, 20);
    CHECK(hdr[0] == 0x504d5341 && hdr[1] == 1 && hdr[3] <= 64 && hdr[4] <= 16);
    for (k = 0; k < hdr[2] && at < size; k++) {
        int V = hdr[3], max_hist = hdr[4], j, n_hist;
        artr_sampler s;
        float logits[64], want[64], p[64], work[64];
        uint32_t order[64];
        int32_t hist[16];
        memset(&s, 0, sizeof s);
        memcpy(&s.temperature, b + at, 4);
        memcpy(&s.top_k, b + at + 4, 4);
        memcpy(&s.top_p, b + at + 8, 4);
        memcpy(&s.min_p, b + at + 12, 4);
        memcpy(&s.repeat_penalty, b + at + 16, 4);
        memcpy(&n_hist, b + at + 20, 4);
        at += 24;
        memcpy(hist, b + at, 4 * (size_t)max_hist);
        at += 4 * (size_t)max_hist;
        memcpy(logits, b + at, 4 * (size_t)V);
        memcpy(want, b + at + 4 * (size_t)V, 4 * (size_t)V);
        at += 8 * (size_t)V;
        CHECK(artr__probs(logits, NULL, V, &s, hist, n_hist, p, work, order, NULL) == ARTR_OK);
        for (j = 0; j < V; j++)
            if (fabs((double)p[j] - want[j]) > worst) {
                worst = fabs((double)p[j] - want[j]);
                worst_case = k;
            }
    }
    CHECK(k == hdr[2] && at == size);
    printf("  %d settings x vocab %d: max |p - transformers| = %.2e (case %d)\n", k, hdr[3], worst, worst_case);
    CHECK(worst <= TOL_PROBS);
    free(b);
}

/* Upper tail of chi-square with k degrees of freedom (Wilson-Hilferty; fine for k >= 3
   at the p-values used here). */
static double th_chi2_p(double x, int k)
{
    double z = (pow(x / k, 1.0 / 3) - (1 - 2.0 / (9 * k))) / sqrt(2.0 / (9 * k));
    return 0.5 * erfc(z / sqrt(2.0));
}

/* Draw n tokens with artr_sample and test them against artr_probs. */
static double th_draws_match(artr_ctx *c, artr_sampler *s, int n, int vocab)
{
    static long counts[256];
    float p[256];
    double chi = 0, exp_pool = 0, obs_pool = 0;
    int i, df = 0, bad = 0;
    CHECK(artr_probs(c, s, -1, p, NULL) == ARTR_OK);
    memset(counts, 0, sizeof counts);
    for (i = 0; i < n; i++) {
        int32_t t = -1;
        if (artr_sample(c, s, -1, &t, NULL) != ARTR_OK || t < 0 || t >= vocab) bad++;
        else counts[t]++;
    }
    CHECK(bad == 0);
    for (i = 0; i < vocab; i++) {
        double e = p[i] * n;
        if (p[i] == 0) {
            CHECK(counts[i] == 0); /* a filtered token is never drawn */
            continue;
        }
        if (e < 5) { /* pool the rare ones */
            exp_pool += e;
            obs_pool += (double)counts[i];
            continue;
        }
        chi += ((double)counts[i] - e) * ((double)counts[i] - e) / e;
        df++;
    }
    if (exp_pool > 0) {
        chi += (obs_pool - exp_pool) * (obs_pool - exp_pool) / exp_pool;
        df++;
    }
    return df > 1 ? th_chi2_p(chi, df - 1) : 1.0;
}

static void test_sampling_chi_square(void)
{
    artr_model *m = NULL;
    artr_ctx *c;
    artr_sampler s;
    int32_t ids[3] = {5, 9, 2};
    double p;
    long allocs;
    if (artr_model_load_file(&m, th_path("hf_llama.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        return;
    }
    c = th_ctx(m, 16, 4, 0);
    CHECK(artr_forward(c, ids, 3, NULL) == ARTR_OK);
    allocs = th_allocs;
    memset(&s, 0, sizeof s);
    s.rng = 42;
    s.temperature = 1.0f;
    p = th_draws_match(c, &s, 200000, 96);
    printf("  temperature 1: p = %.3f\n", p);
    CHECK(p > 1e-3);
    s.temperature = 0.7f;
    s.top_k = 10;
    p = th_draws_match(c, &s, 200000, 96);
    printf("  temperature 0.7, top-k 10: p = %.3f\n", p);
    CHECK(p > 1e-3);
    s.temperature = 1.3f;
    s.top_k = 0;
    s.top_p = 0.9f;
    s.min_p = 0.02f;
    s.repeat_penalty = 1.2f;
    p = th_draws_match(c, &s, 200000, 96);
    printf("  temperature 1.3, top-p 0.9, min-p 0.02, penalty 1.2: p = %.3f\n", p);
    CHECK(p > 1e-3);
    CHECK(th_allocs == allocs); /* sampling allocates nothing */
    /* a broken sampler must fail this test: draw from a flattened distribution */
    {
        artr_sampler hot = s;
        static long counts[96];
        float pr[96];
        double chi = 0;
        int i, df = 0;
        hot.temperature = 1.5f;
        memset(counts, 0, sizeof counts);
        for (i = 0; i < 200000; i++) {
            int32_t t = 0;
            artr_sample(c, &hot, -1, &t, NULL);
            counts[t]++;
        }
        artr_probs(c, &s, -1, pr, NULL); /* ... compared with the sharper one */
        for (i = 0; i < 96; i++)
            if (pr[i] * 200000 >= 5) {
                double e = pr[i] * 200000;
                chi += (counts[i] - e) * (counts[i] - e) / e;
                df++;
            }
        CHECK(df < 2 || th_chi2_p(chi, df - 1) < 1e-6);
    }
    artr_ctx_free(c);
    artr_model_free(m);
}

static void test_sampling_edge_cases(void)
{
    float l[8], p[8], work[8];
    uint32_t order[8];
    artr_sampler s;
    artr_error err;
    int32_t hist[4] = {1, 1, 2, 7};
    artr_logit_bias bias[2];
    int32_t banned[1] = {3};
    int i;
    memset(&s, 0, sizeof s);
    /* greedy: ties go to the lowest id */
    for (i = 0; i < 8; i++) l[i] = (float)(i % 3);
    CHECK(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, NULL) == ARTR_OK);
    CHECK(p[2] == 1.0f && p[5] == 0.0f);
    /* NaN counts as -inf; +inf tokens share the mass */
    l[2] = NAN;
    l[5] = NAN;
    l[7] = -INFINITY;
    s.temperature = 1;
    CHECK(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, NULL) == ARTR_OK);
    CHECK(p[2] == 0 && p[5] == 0 && p[7] == 0 && p[1] > 0);
    l[0] = INFINITY;
    l[6] = INFINITY;
    CHECK(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, NULL) == ARTR_OK);
    CHECK(p[0] == 0.5f && p[6] == 0.5f && p[1] == 0);
    for (i = 0; i < 8; i++) l[i] = i % 2 ? NAN : -INFINITY;
    CHECK_STATUS(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, &err), ARTR_E_ARG, &err);
    CHECK_MSG(err, "no token can be drawn");
    /* top-k larger than the vocabulary, top-p 0 and 1, min-p 0: all off */
    for (i = 0; i < 8; i++) l[i] = (float)i * 0.3f;
    CHECK(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, NULL) == ARTR_OK);
    {
        float base[8];
        memcpy(base, p, sizeof base);
        s.top_k = 100;
        s.top_p = 1.0f;
        CHECK(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, NULL) == ARTR_OK);
        CHECK(memcmp(base, p, sizeof base) == 0);
        s.top_p = 0;
        CHECK(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, NULL) == ARTR_OK);
        CHECK(memcmp(base, p, sizeof base) == 0);
        /* top-k 1 is greedy; a tiny top-p keeps only the likeliest */
        s.top_k = 1;
        CHECK(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, NULL) == ARTR_OK);
        CHECK(p[7] == 1.0f);
        s.top_k = 0;
        s.top_p = 1e-6f;
        CHECK(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, NULL) == ARTR_OK);
        CHECK(p[7] == 1.0f);
        s.top_p = 0;
    }
    /* penalties over a history: 1 appears twice, 2 and 7 once */
    s.repeat_penalty = 2.0f;
    s.frequency_penalty = 0.1f;
    s.presence_penalty = 0.05f;
    CHECK(artr__probs(l, NULL, 8, &s, hist, 4, p, work, order, NULL) == ARTR_OK);
    CHECK_NEAR(work[1] * 1.0f, 0, 1e9); /* finite */
    {
        float want1 = 0.3f / 2.0f - 2 * 0.1f - 0.05f, want7 = 2.1f / 2.0f - 0.1f - 0.05f;
        CHECK_NEAR(work[1], want1 / 1.0f, 1e-6); /* temperature 1 */
        CHECK_NEAR(work[7], want7, 1e-6);
        CHECK_NEAR(work[3], 0.9f, 1e-6);
    }
    memset(&s, 0, sizeof s);
    /* logit bias and bans */
    bias[0].token = 0;
    bias[0].bias = 100;
    bias[1].token = 4;
    bias[1].bias = -INFINITY;
    s.logit_bias = bias;
    s.n_logit_bias = 2;
    s.banned = banned;
    s.n_banned = 1;
    s.temperature = 1;
    CHECK(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, NULL) == ARTR_OK);
    CHECK(p[0] > 0.99f && p[3] == 0 && p[4] == 0);
    bias[1].token = 8;
    CHECK_STATUS(artr__probs(l, NULL, 8, &s, NULL, 0, p, work, order, &err), ARTR_E_ARG, &err);
    CHECK_MSG(err, "logit_bias[1]");
    /* guidance: scale 1 is the conditional logits, scale 0 the unconditional ones */
    {
        float u[8], a[8], b2[8];
        memset(&s, 0, sizeof s);
        s.temperature = 1;
        for (i = 0; i < 8; i++) u[i] = (float)(7 - i) * 0.2f;
        s.guidance_scale = 1;
        artr__probs(l, u, 8, &s, NULL, 0, a, work, order, NULL);
        artr__probs(l, NULL, 8, &s, NULL, 0, b2, work, order, NULL);
        for (i = 0; i < 8; i++) CHECK_NEAR(a[i], b2[i], 1e-7);
        s.guidance_scale = 0;
        artr__probs(l, u, 8, &s, NULL, 0, a, work, order, NULL);
        artr__probs(u, NULL, 8, &s, NULL, 0, b2, work, order, NULL);
        for (i = 0; i < 8; i++) CHECK_NEAR(a[i], b2[i], 1e-7);
        s.guidance_scale = 3; /* extrapolates: the token the condition favours gains */
        artr__probs(l, u, 8, &s, NULL, 0, a, work, order, NULL);
        CHECK(a[7] > b2[7]);
    }
}

/* Same seed, same tokens; the context's history feeds the penalties; CFG from a
   second context. */
static void test_sampling_contexts(void)
{
    artr_model *m = NULL;
    artr_ctx *c, *u;
    artr_sampler s, s2;
    artr_error err;
    int32_t ids[4] = {10, 20, 30, 10}, a[20], b[20];
    float p1[96], p2[96];
    int i;
    if (artr_model_load_file(&m, th_path("hf_llama.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        return;
    }
    c = th_ctx(m, 64, 4, 0);
    u = th_ctx(m, 64, 4, 0);
    memset(&s, 0, sizeof s);
    s.temperature = 0.9f;
    s.top_p = 0.95f;
    s.rng = 1234;
    s2 = s;
    for (i = 0; i < 20; i++) {
        CHECK(artr_forward(c, i ? &a[i - 1] : ids, i ? 1 : 4, NULL) == ARTR_OK);
        CHECK(artr_sample(c, &s, -1, &a[i], NULL) == ARTR_OK);
    }
    artr_ctx_truncate(c, 0, NULL);
    for (i = 0; i < 20; i++) {
        CHECK(artr_forward(c, i ? &b[i - 1] : ids, i ? 1 : 4, NULL) == ARTR_OK);
        CHECK(artr_sample(c, &s2, -1, &b[i], NULL) == ARTR_OK);
    }
    CHECK(memcmp(a, b, sizeof a) == 0 && s.rng == s2.rng);
    /* penalty window: ids 10, 20, 30, 10 are the context's history */
    artr_ctx_truncate(c, 0, NULL);
    CHECK(artr_forward(c, ids, 4, NULL) == ARTR_OK);
    memset(&s, 0, sizeof s);
    s.temperature = 1;
    CHECK(artr_probs(c, &s, -1, p1, NULL) == ARTR_OK);
    s.repeat_penalty = 1.5f;
    s.repeat_last_n = 2; /* only 30 and 10 */
    CHECK(artr_probs(c, &s, -1, p2, NULL) == ARTR_OK);
    CHECK(p2[20] / p2[40] == p1[20] / p1[40] || fabs(p2[20] / p2[40] - p1[20] / p1[40]) < 1e-4);
    CHECK(p2[30] / p2[40] != p1[30] / p1[40]);
    /* CFG: the unconditional context has a different prompt */
    CHECK(artr_forward(u, ids + 2, 2, NULL) == ARTR_OK);
    s.repeat_penalty = 0;
    s.guidance = u;
    s.guidance_scale = 2.0f;
    CHECK(artr_probs(c, &s, -1, p2, NULL) == ARTR_OK);
    CHECK(memcmp(p1, p2, sizeof p1) != 0);
    CHECK_STATUS(artr_probs(c, &s, 1, p2, &err), ARTR_E_ARG, &err);
    artr_ctx_truncate(u, 0, NULL);
    CHECK_STATUS(artr_probs(c, &s, -1, p2, &err), ARTR_E_ARG, &err);
    CHECK_MSG(err, "guidance");
    CHECK_STATUS(artr_sample(c, NULL, -1, a, &err), ARTR_E_ARG, &err);
    artr_ctx_free(c);
    artr_ctx_free(u);
    artr_model_free(m);
}
