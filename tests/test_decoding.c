/* Decoding strategies: greedy output identical to plain greedy; sampled distributions
   identical to plain sampling (chi-square against the exact joint distribution); caches
   after rejections equal a fresh run's. */

typedef enum { TH_PLAIN, TH_SPEC, TH_JACOBI, TH_SJD, TH_LOOKUP, TH_LOOKAHEAD } th_strategy;

/* Generate n tokens after a prefilled prompt with one strategy. */
static int th_generate(th_strategy how, artr_ctx *c, artr_ctx *draft, artr_sampler *s, int k, int32_t *out, int n)
{
    int got = 0;
    while (got < n) {
        int32_t buf[64];
        int n_out = 0, i;
        artr_status st;
        switch (how) {
        case TH_SPEC: st = artr_step_speculative(c, draft, s, k, buf, 64, &n_out, NULL); break;
        case TH_JACOBI: st = artr_step_jacobi(c, s, k, buf, 64, &n_out, NULL); break;
        case TH_SJD: st = artr_step_spec_jacobi(c, s, k, NULL, 0, buf, 64, &n_out, NULL); break;
        case TH_LOOKUP: st = artr_step_lookup(c, s, k, 3, buf, 64, &n_out, NULL); break;
        case TH_LOOKAHEAD: st = artr_step_lookahead(c, s, k, 3, 4, buf, 64, &n_out, NULL); break;
        default: st = artr_step(c, s, buf, 64, &n_out, NULL); break;
        }
        if (st != ARTR_OK || n_out < 1) return 0;
        for (i = 0; i < n_out && got < n; i++) out[got++] = buf[i];
    }
    return 1;
}

static int th_branch; /* > 1: th_prefilled's contexts verify token trees (artr_draft_params.branch) */

static artr_ctx *th_prefilled(const artr_model *m, int n_ctx, const int32_t *prompt, int n, int n_layers)
{
    artr_ctx_params cp;
    artr_draft_params dp;
    artr_ctx *c = NULL;
    memset(&cp, 0, sizeof cp);
    cp.n_ctx = n_ctx;
    cp.n_batch = n_ctx < 64 ? n_ctx : 64;
    cp.n_draft = 16;
    cp.n_layers = n_layers;
    if (artr_ctx_create(&c, m, &cp, NULL) != ARTR_OK) return NULL;
    memset(&dp, 0, sizeof dp);
    dp.branch = th_branch;
    if (artr_ctx_set_draft(c, &dp, NULL) != ARTR_OK || artr_forward(c, prompt, n, NULL) != ARTR_OK) {
        artr_ctx_free(c);
        return NULL;
    }
    return c;
}

/* A draft context holding the prompt, as the draft reads it: ids past its vocabulary
   become 0 (as artr_step_speculative feeds it). */
static artr_ctx *th_prefilled_draft(const artr_model *dm, int n_ctx, const int32_t *prompt, int n)
{
    int32_t ids[64];
    int i, nd = artr_model_config(dm)->n_vocab;
    for (i = 0; i < n && i < 64; i++) ids[i] = prompt[i] < nd ? prompt[i] : 0;
    return th_prefilled(dm, n_ctx, ids, i, 0);
}

/* A draft unlike its target though of the same vocabulary: the fixture with every F32
   matrix's weights scaled by 1 + u, u uniform in [-amount, amount] (seeded). The model
   points into *buf, which the caller frees after the model. */
static artr_model *th_perturbed(const char *file, double amount, unsigned char **buf)
{
    size_t size = 0, offs[512], lens[512];
    int n = 0, i;
    uint64_t rng = 12345;
    artr_model *m = NULL;
    *buf = th_fixture(file, &size);
    if (!*buf || artr_model_load_memory(&m, *buf, size, NULL, NULL) != ARTR_OK) return NULL;
    for (i = 0; i < artr_model_tensor_count(m) && n < 512; i++) {
        artr_tensor t;
        const unsigned char *d;
        artr_model_tensor_at(m, i, &t, NULL);
        d = (const unsigned char *)t.data;
        if (t.type != ARTR_TYPE_F32 || t.n_dims != 2 || d < *buf || d + t.n_bytes > *buf + size) continue;
        offs[n] = (size_t)(d - *buf);
        lens[n++] = t.n_bytes / 4;
    }
    artr_model_free(m);
    m = NULL;
    for (i = 0; i < n; i++) {
        float *w = (float *)(void *)(*buf + offs[i]);
        size_t j;
        for (j = 0; j < lens[i]; j++) w[j] *= (float)(1.0 + amount * (2.0 * (double)(th_rng(&rng) >> 11) / 9007199254740992.0 - 1.0));
    }
    if (artr_model_load_memory(&m, *buf, size, NULL, NULL) != ARTR_OK) return NULL;
    return m;
}

/* Greedy: every strategy, several k / windows, equals plain greedy token for token. A
   draft_file of NULL: the target's fixture perturbed (th_perturbed) drafts. Wherever the
   draft is another model, its guesses are both accepted and rejected. */
static void th_greedy_exact(const char *target_file, const char *draft_file, int n_gen, int n_ctx)
{
    unsigned char *draft_buf = NULL;
    artr_model *m = NULL, *dm = NULL;
    int32_t prompt[8] = {1, 7, 13, 2, 40, 5, 9, 30}, want[256], got[256];
    static const int ks[] = {1, 3, 8};
    artr_sampler s;
    artr_stats st;
    size_t i;
    /* a name with a '/' is a path from the repository root (a shipped model) */
    if (artr_model_load_file(&m, strchr(target_file, '/') ? target_file : th_path(target_file), NULL, NULL) != ARTR_OK ||
        (draft_file ? artr_model_load_file(&dm, strchr(draft_file, '/') ? draft_file : th_path(draft_file), NULL, NULL) != ARTR_OK
                    : (dm = th_perturbed(target_file, 0.2, &draft_buf)) == NULL)) {
        CHECK(0);
        artr_model_free(m);
        free(draft_buf);
        return;
    }
    for (i = 0; i < 8; i++) prompt[i] %= artr_model_config(m)->n_vocab;
    memset(&s, 0, sizeof s);
    {
        artr_ctx *c = th_prefilled(m, n_ctx, prompt, 8, 0);
        CHECK(c && th_generate(TH_PLAIN, c, NULL, &s, 0, want, n_gen));
        artr_ctx_free(c);
    }
    for (i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        int strat, k = ks[i];
        for (strat = 0; strat < 6; strat++) { /* 5: speculative with token trees of branch 3 */
            artr_ctx *c, *d = NULL;
            int ok;
            th_branch = strat == 5 ? 3 : 0;
            c = th_prefilled(m, n_ctx, prompt, 8, 0);
            if (strat == 0 || strat == 5) d = th_prefilled_draft(dm, n_ctx, prompt, 8); /* a separate draft model */
            if (strat == 1) d = th_prefilled(m, n_ctx, prompt, 8, 1);       /* self-speculative: layer 1 */
            memset(got, 0xff, sizeof got);
            ok = c && th_generate(strat < 2 || strat == 5 ? TH_SPEC : strat == 2 ? TH_JACOBI : strat == 3 ? TH_SJD : TH_LOOKAHEAD,
                                  c, d, &s, k, got, n_gen);
            th_branch = 0;
            CHECK(ok);
            if (ok && memcmp(want, got, (size_t)n_gen * sizeof(int32_t))) {
                int at = 0;
                while (want[at] == got[at]) at++;
                printf("  %s: strategy %d, k %d differs from plain greedy at token %d\n", target_file, strat, k, at);
                CHECK(0);
            }
            if (c && strat == 0 && (!draft_file || strcmp(draft_file, target_file))) {
                artr_ctx_stats(c, &st);
                CHECK(st.accepted < st.drafted); /* both paths ran (a draft of another vocabulary size may */
                if (artr_model_config(dm)->n_vocab == artr_model_config(m)->n_vocab) /* never be right) */
                    CHECK(st.accepted > 0);
            }
            if (c && k == 8) {
                artr_ctx_stats(c, &st);
                printf("  %-16s %-17s k %d: %3d tokens in %3lld target calls (%.2f tokens/call), accepted %lld/%lld guesses\n",
                       target_file, strat == 0 ? "speculative" : strat == 1 ? "self-speculative" : strat == 2 ? "Jacobi"
                                    : strat == 3 ? "spec. Jacobi" : strat == 4 ? "lookahead" : "spec. tree 3",
                       k, n_gen, (long long)st.calls, (double)st.tokens / (double)(st.calls ? st.calls : 1),
                       (long long)st.accepted, (long long)st.drafted);
            }
            artr_ctx_free(c);
            artr_ctx_free(d);
        }
    }
    artr_model_free(m);
    artr_model_free(dm);
    free(draft_buf);
}

static void test_decoding_greedy_exact(void)
{
    th_greedy_exact("hf_llama.gguf", "hf_llama_q4_0.gguf", 200, 256);
    th_greedy_exact("hf_qwen2.gguf", NULL, 200, 256);
    th_greedy_exact("hf_gpt2.gguf", NULL, 110, 128); /* its position table has 128 rows */
    th_greedy_exact("tiny8.gguf", "tiny8_draft.gguf", 50, 64);
    th_greedy_exact("tiny8.gguf", "tiny8_draft_v12.gguf", 50, 64); /* draft vocabularies of other sizes */
    th_greedy_exact("tiny8.gguf", "tiny8_draft_v6.gguf", 50, 64);
    th_greedy_exact("hf_llama3.gguf", NULL, 200, 256);
    th_greedy_exact("hf_qwen3.gguf", NULL, 200, 256);
    th_greedy_exact("hf_gemma3.gguf", NULL, 200, 256);
    th_greedy_exact("hf_phi3.gguf", NULL, 120, 256); /* crosses LongRoPE's switch at 32 */
}

/* The same on the shipped text model and its draft (models/), 200 tokens. */
static void test_decoding_shipped_greedy(void)
{
    th_greedy_exact("models/shakespeare.gguf", "models/shakespeare-draft.gguf", 200, 256);
}

/* Exact joint distribution of the first 3 tokens after the prompt under plain sampling
   (8 x 8 x 8 cells), enumerated with forward calls. */
static void th_exact_joint(const artr_model *m, const artr_sampler *s, const int32_t *prompt, int n_prompt, double *joint)
{
    artr_ctx *c = th_prefilled(m, 64, prompt, n_prompt, 0);
    float p1[8], p2[8], p3[8];
    int a, b, d;
    artr_probs(c, s, -1, p1, NULL);
    for (a = 0; a < 8; a++) {
        int32_t ta = a;
        artr_ctx_truncate(c, n_prompt, NULL);
        artr_forward(c, &ta, 1, NULL);
        artr_probs(c, s, -1, p2, NULL);
        for (b = 0; b < 8; b++) {
            int32_t tb = b;
            artr_ctx_truncate(c, n_prompt + 1, NULL);
            artr_forward(c, &tb, 1, NULL);
            artr_probs(c, s, -1, p3, NULL);
            for (d = 0; d < 8; d++) joint[a * 64 + b * 8 + d] = (double)p1[a] * p2[b] * p3[d];
        }
    }
    artr_ctx_free(c);
}

/* The same for tokens 3 .. 5 after the prompt, tokens 1 and 2 summed out. */
static void th_exact_joint_skip2(const artr_model *m, const artr_sampler *s, const int32_t *prompt, int n_prompt,
                                 double *joint)
{
    static double sub[512];
    artr_ctx *c = th_prefilled(m, 64, prompt, n_prompt, 0);
    int32_t longer[16];
    float p1[8], p2[8];
    int a, b, i;
    memset(joint, 0, 512 * sizeof(double));
    artr_probs(c, s, -1, p1, NULL);
    memcpy(longer, prompt, (size_t)n_prompt * sizeof(int32_t));
    for (a = 0; a < 8; a++) {
        int32_t ta = a;
        artr_ctx_truncate(c, n_prompt, NULL);
        artr_forward(c, &ta, 1, NULL);
        artr_probs(c, s, -1, p2, NULL);
        for (b = 0; b < 8; b++) {
            longer[n_prompt] = a;
            longer[n_prompt + 1] = b;
            th_exact_joint(m, s, longer, n_prompt + 2, sub);
            for (i = 0; i < 512; i++) joint[i] += (double)p1[a] * p2[b] * sub[i];
        }
    }
    artr_ctx_free(c);
}

static double th_counts_p(const long *counts, int runs, const double *joint);
#define TH_POWER_RUNS 20000 /* runs of each rule in test_decoding_distribution_power */

/* p-value of n seeded runs of a strategy with draft policy pol (NULL: none) against the
   exact joint distribution of tokens skip + 1 .. skip + 3 after the prompt; the stats of
   all runs go to *st when st is not NULL (a copy keeps the stats of its destination). */
static double th_joint_p_pol(th_strategy how, const artr_model *m, const artr_model *dm, artr_sampler *s, int k, int runs,
                             const double *joint, const int32_t *prompt, int n_prompt, const artr_draft_params *pol,
                             int skip, artr_stats *st)
{
    static long counts[512];
    artr_ctx *base = th_prefilled(m, 64, prompt, n_prompt, 0), *c = th_prefilled(m, 64, prompt, n_prompt, 0);
    artr_ctx *dbase = dm ? th_prefilled_draft(dm, 64, prompt, n_prompt) : NULL;
    artr_ctx *d = dm ? th_prefilled_draft(dm, 64, prompt, n_prompt) : NULL;
    int r, failed = 0;
    memset(counts, 0, sizeof counts);
    if (pol) CHECK(artr_ctx_set_draft(base, pol, NULL) == ARTR_OK);
    for (r = 0; r < runs; r++) {
        int32_t out[8];
        artr_ctx_copy(c, base, NULL);
        if (d) artr_ctx_copy(d, dbase, NULL);
        if (!th_generate(how, c, d, s, k, out, skip + 3)) {
            failed++;
            continue;
        }
        counts[out[skip] * 64 + out[skip + 1] * 8 + out[skip + 2]]++;
    }
    CHECK(failed == 0);
    if (st) artr_ctx_stats(c, st);
    artr_ctx_free(base);
    artr_ctx_free(c);
    artr_ctx_free(dbase);
    artr_ctx_free(d);
    return th_counts_p(counts, runs, joint);
}

static double th_joint_p(th_strategy how, const artr_model *m, const artr_model *dm, artr_sampler *s, int k, int runs,
                         const double *joint, const int32_t *prompt, int n_prompt)
{
    return th_joint_p_pol(how, m, dm, s, k, runs, joint, prompt, n_prompt, NULL, 0, NULL);
}

/* Chi-square p-value of counts of n runs against the exact joint distribution (cells
   expecting under 5 pooled). */
static double th_counts_p(const long *counts, int runs, const double *joint)
{
    double chi = 0, e_pool = 0, o_pool = 0;
    int i, df = 0;
    for (i = 0; i < 512; i++) {
        double e = joint[i] * runs;
        if (e < 5) {
            e_pool += e;
            o_pool += (double)counts[i];
            continue;
        }
        chi += (counts[i] - e) * (counts[i] - e) / e;
        df++;
    }
    if (e_pool > 0) {
        chi += (o_pool - e_pool) * (o_pool - e_pool) / e_pool;
        df++;
    }
    return th_chi2_p(chi, df - 1);
}

/* Sampling: speculative (with a poor draft, drafts with vocabularies of 12 and 6, and
   self-speculative) and SJD draw the first 3 tokens from exactly plain sampling's joint
   distribution. */
static void test_decoding_distribution(void)
{
    artr_model *m = NULL, *dm = NULL, *d12 = NULL, *d6 = NULL;
    int32_t prompt[3] = {1, 4, 6};
    static double joint[512];
    artr_sampler s;
    double p;
    int setting;
    if (artr_model_load_file(&m, th_path("tiny8.gguf"), NULL, NULL) != ARTR_OK ||
        artr_model_load_file(&dm, th_path("tiny8_draft.gguf"), NULL, NULL) != ARTR_OK ||
        artr_model_load_file(&d12, th_path("tiny8_draft_v12.gguf"), NULL, NULL) != ARTR_OK ||
        artr_model_load_file(&d6, th_path("tiny8_draft_v6.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        artr_model_free(m);
        artr_model_free(dm);
        artr_model_free(d12);
        return;
    }
    for (setting = 0; setting < 2; setting++) {
        memset(&s, 0, sizeof s);
        s.temperature = setting ? 0.8f : 1.0f;
        s.top_k = setting ? 5 : 0;
        s.rng = 777 + (uint64_t)setting;
        th_exact_joint(m, &s, prompt, 3, joint);
        p = th_joint_p(TH_PLAIN, m, NULL, &s, 0, 100000, joint, prompt, 3);
        printf("  setting %d: plain sampling             p = %.3f\n", setting, p);
        CHECK(p > 1e-3);
        p = th_joint_p(TH_SPEC, m, dm, &s, 3, 100000, joint, prompt, 3);
        printf("  setting %d: speculative, k 3           p = %.3f\n", setting, p);
        CHECK(p > 1e-3);
        p = th_joint_p(TH_SPEC, m, d12, &s, 3, 100000, joint, prompt, 3);
        printf("  setting %d: speculative, vocab 12 draft p = %.3f\n", setting, p);
        CHECK(p > 1e-3);
        p = th_joint_p(TH_SPEC, m, d6, &s, 3, 100000, joint, prompt, 3);
        printf("  setting %d: speculative, vocab 6 draft  p = %.3f\n", setting, p);
        CHECK(p > 1e-3);
        th_branch = 3; /* token trees: siblings tried against the residual */
        p = th_joint_p(TH_SPEC, m, dm, &s, 3, 100000, joint, prompt, 3);
        printf("  setting %d: speculative tree, branch 3  p = %.3f\n", setting, p);
        CHECK(p > 1e-3);
        p = th_joint_p(TH_SPEC, m, d12, &s, 3, 100000, joint, prompt, 3);
        printf("  setting %d: tree 3, vocab 12 draft      p = %.3f\n", setting, p);
        CHECK(p > 1e-3);
        th_branch = 0;
        p = th_joint_p(TH_SJD, m, NULL, &s, 4, 100000, joint, prompt, 3);
        printf("  setting %d: speculative Jacobi, W 4    p = %.3f\n", setting, p);
        CHECK(p > 1e-3);
    }
    artr_model_free(m);
    artr_model_free(dm);
    artr_model_free(d12);
    artr_model_free(d6);
}

/* A draw from an 8-cell distribution (need not sum to 1). */
static int32_t th_draw8(const float *p, uint64_t *rng)
{
    double sum = 0, u;
    int i;
    for (i = 0; i < 8; i++) sum += p[i];
    u = (double)artr_rng_uniform(rng) * sum;
    for (i = 0; i < 7; i++) {
        if (u < p[i]) return i;
        u -= p[i];
    }
    return 7;
}

/* The speculative step rebuilt on the public API (artr_probs, artr_forward) with the
   acceptance rule min(1, factor * p / q): the first 3 tokens of n runs, draft k = 3 - the
   tokens so far, each round restarted from copies of the prefilled contexts. */
static double th_spec_rule_p(const artr_model *m, const artr_model *dm, const artr_sampler *s, double factor, int runs,
                             const double *joint, const int32_t *prompt, int n_prompt)
{
    static long counts[512];
    artr_ctx *base = th_prefilled(m, 64, prompt, n_prompt, 0), *c = th_prefilled(m, 64, prompt, n_prompt, 0);
    artr_ctx *dbase = th_prefilled(dm, 64, prompt, n_prompt, 0), *d = th_prefilled(dm, 64, prompt, n_prompt, 0);
    uint64_t rng = 4242;
    int r, failed = 0;
    memset(counts, 0, sizeof counts);
    for (r = 0; r < runs; r++) {
        int32_t out[3], x[3];
        float q[3][8], p[8];
        int got = 0, ok = 1;
        while (ok && got < 3) {
            int k = 3 - got, j;
            ok = artr_ctx_copy(c, base, NULL) == ARTR_OK && artr_ctx_copy(d, dbase, NULL) == ARTR_OK &&
                 (got == 0 || (artr_forward(c, out, got, NULL) == ARTR_OK && artr_forward(d, out, got, NULL) == ARTR_OK));
            for (j = 0; ok && j < k; j++) { /* the draft proposes k tokens */
                ok = artr_probs(d, s, -1, q[j], NULL) == ARTR_OK;
                x[j] = th_draw8(q[j], &rng);
                if (ok && j + 1 < k) ok = artr_forward(d, &x[j], 1, NULL) == ARTR_OK;
            }
            for (j = 0; ok && j < k; j++) { /* the target verifies them in order */
                double a;
                ok = artr_probs(c, s, -1, p, NULL) == ARTR_OK;
                a = factor * p[x[j]] / q[j][x[j]];
                if ((double)artr_rng_uniform(&rng) < a) {
                    out[got++] = x[j];
                    if (got < 3) ok = ok && artr_forward(c, &x[j], 1, NULL) == ARTR_OK;
                } else { /* rejected: resample from norm(max(0, p - q)) */
                    int i;
                    for (i = 0; i < 8; i++) p[i] = p[i] > q[j][i] ? p[i] - q[j][i] : 0;
                    out[got++] = th_draw8(p, &rng);
                    break;
                }
            }
        }
        if (!ok) {
            failed++;
            continue;
        }
        counts[out[0] * 64 + out[1] * 8 + out[2]]++;
    }
    CHECK(failed == 0);
    artr_ctx_free(base);
    artr_ctx_free(c);
    artr_ctx_free(dbase);
    artr_ctx_free(d);
    return th_counts_p(counts, runs, joint);
}

/* Power of the distribution test: the speculative step rebuilt with the right rule
   passes it; with the rule broken to min(1, 2p/q) it gives p < 0.001. */
static void test_decoding_distribution_power(void)
{
    artr_model *m = NULL, *dm = NULL;
    int32_t prompt[3] = {1, 4, 6};
    static double joint[512];
    artr_sampler s;
    double p;
    if (artr_model_load_file(&m, th_path("tiny8.gguf"), NULL, NULL) != ARTR_OK ||
        artr_model_load_file(&dm, th_path("tiny8_draft.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        artr_model_free(m);
        return;
    }
    memset(&s, 0, sizeof s);
    s.temperature = 1.0f;
    th_exact_joint(m, &s, prompt, 3, joint);
    p = th_spec_rule_p(m, dm, &s, 1.0, TH_POWER_RUNS, joint, prompt, 3);
    printf("  rebuilt speculative, min(1, p/q)     p = %.3f\n", p);
    CHECK(p > 1e-3);
    p = th_spec_rule_p(m, dm, &s, 2.0, TH_POWER_RUNS, joint, prompt, 3);
    printf("  rebuilt speculative, min(1, 2p/q)    p = %.3g\n", p);
    CHECK(p < 1e-3);
    artr_model_free(m);
    artr_model_free(dm);
}

/* Steps allocate nothing: every strategy (lookup, lookahead, token trees and the adaptive
   policy too), sampled,
   after the contexts exist (the allocation hook counts). */
static void test_decoding_steps_allocate_nothing(void)
{
    artr_model *m = NULL, *dm = NULL;
    int32_t prompt[3] = {1, 4, 6}, out[40];
    artr_sampler s;
    int how;
    if (artr_model_load_file(&m, th_path("tiny8.gguf"), NULL, NULL) != ARTR_OK ||
        artr_model_load_file(&dm, th_path("tiny8_draft.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        artr_model_free(m);
        return;
    }
    memset(&s, 0, sizeof s);
    s.temperature = 1.0f;
    s.rng = 5;
    for (how = TH_PLAIN; how <= TH_LOOKAHEAD + 5; how++) { /* the last five: the adaptive policy */
        static const th_strategy with_policy[5] = {TH_SPEC, TH_LOOKUP, TH_JACOBI, TH_SJD, TH_LOOKAHEAD};
        th_strategy run = how > TH_LOOKAHEAD ? with_policy[how - TH_LOOKAHEAD - 1] : (th_strategy)how;
        artr_ctx *c = th_prefilled(m, 64, prompt, 3, 0), *d = th_prefilled(dm, 64, prompt, 3, 0);
        artr_draft_params dp;
        long a0;
        memset(&dp, 0, sizeof dp);
        dp.adaptive = how > TH_LOOKAHEAD;
        dp.p_min = 0.3f;
        dp.branch = how == TH_LOOKAHEAD + 1 ? 3 : 0; /* token trees (adaptive speculative) */
        CHECK(c && artr_ctx_set_draft(c, &dp, NULL) == ARTR_OK);
        a0 = th_allocs;
        s.temperature = run == TH_JACOBI ? 0.0f : 1.0f; /* Jacobi iterations are greedy */
        CHECK(c && d && th_generate(run, c, d, &s, 4, out, 40));
        CHECK(th_allocs == a0);
        artr_ctx_free(c);
        artr_ctx_free(d);
    }
    artr_model_free(m);
    artr_model_free(dm);
}

/* After steps with rejections, both caches equal those of a fresh run on the accepted
   tokens (bit for bit: batch equals steps). */
static void test_decoding_rejection_caches(void)
{
    artr_model *m = NULL, *dm = NULL;
    int32_t prompt[4] = {2, 5, 1, 7}, all[80];
    artr_sampler s;
    artr_ctx *c, *d, *fresh;
    int n = 0, l, same = 1, pos;
    artr_stats st;
    if (artr_model_load_file(&m, th_path("tiny8.gguf"), NULL, NULL) != ARTR_OK ||
        artr_model_load_file(&dm, th_path("tiny8_draft.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        artr_model_free(m);
        return;
    }
    memset(&s, 0, sizeof s);
    s.temperature = 1;
    s.rng = 99;
    c = th_prefilled(m, 64, prompt, 4, 0);
    d = th_prefilled(dm, 64, prompt, 4, 0);
    memcpy(all, prompt, sizeof prompt);
    n = 4;
    while (n < 40) {
        int32_t out[16];
        int n_out = 0, i;
        CHECK(artr_step_speculative(c, d, &s, 4, out, 16, &n_out, NULL) == ARTR_OK);
        for (i = 0; i < n_out; i++) all[n++] = out[i];
    }
    artr_ctx_stats(c, &st);
    CHECK(st.accepted < st.drafted); /* rejections happened */
    pos = artr_ctx_pos(c) - 1;       /* the last token is pending: fed positions */
    CHECK(pos == n - 1);
    fresh = th_prefilled(m, 64, all, pos, 0);
    for (l = 0; l < 2; l++) {
        size_t off = (size_t)l * 64 * (size_t)c->kv_dim * c->kv_es, bytes = (size_t)pos * (size_t)c->kv_dim * c->kv_es;
        if (memcmp(c->k_cache + off, fresh->k_cache + off, bytes) || memcmp(c->v_cache + off, fresh->v_cache + off, bytes))
            same = 0;
    }
    CHECK(same);
    artr_ctx_free(fresh);
    fresh = th_prefilled(dm, 64, all, d->n_past, 0);
    CHECK(memcmp(d->k_cache, fresh->k_cache, (size_t)d->n_past * (size_t)d->kv_dim * sizeof(float)) == 0);
    artr_ctx_free(fresh);
    artr_ctx_free(c);
    artr_ctx_free(d);
    artr_model_free(m);
    artr_model_free(dm);
}

/* Guidance: two contexts stepped together; greedy speculative (a chain and a token tree),
   Jacobi and lookahead with CFG equal plain greedy with CFG. Bounded caches run long. Errors. */
static void test_decoding_guidance_bounded_errors(void)
{
    artr_model *m = NULL;
    int32_t cond[4] = {3, 9, 27, 81}, uncond[1] = {0}, want[60], got[60], out[4];
    artr_sampler s;
    artr_error err;
    int strat, n_out;
    if (artr_model_load_file(&m, th_path("hf_llama.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        return;
    }
    for (strat = 0; strat < 5; strat++) { /* plain, self-speculative, Jacobi, lookahead, a token tree */
        artr_ctx *c, *u = th_prefilled(m, 128, uncond, 1, 0), *d;
        th_branch = strat == 4 ? 3 : 0;
        c = th_prefilled(m, 128, cond, 4, 0);
        th_branch = 0;
        d = strat == 1 || strat == 4 ? th_prefilled(m, 128, cond, 4, 1) : NULL;
        memset(&s, 0, sizeof s);
        s.guidance = u;
        s.guidance_scale = 1.5f;
        CHECK(th_generate(strat == 0 ? TH_PLAIN : strat == 1 || strat == 4 ? TH_SPEC : strat == 2 ? TH_JACOBI : TH_LOOKAHEAD, c, d,
                          &s, 4, strat ? got : want, 60));
        if (strat) CHECK(memcmp(want, got, sizeof want) == 0);
        /* the guidance context got every token but the pending one (its prompt is 3 shorter) */
        CHECK(artr_ctx_pos(u) == artr_ctx_pos(c) - 4 && artr_ctx_pos(u) >= 1 + 59);
        artr_ctx_free(c);
        artr_ctx_free(u);
        artr_ctx_free(d);
    }
    { /* bounded cache: 500 tokens through n_ctx 64 with every strategy */
        artr_ctx_params cp;
        artr_ctx *c = NULL, *d = NULL;
        int32_t many[500];
        memset(&cp, 0, sizeof cp);
        cp.n_ctx = 64;
        cp.n_batch = 16;
        cp.n_sink = 4;
        CHECK(artr_ctx_create(&c, m, &cp, NULL) == ARTR_OK);
        cp.n_layers = 1;
        CHECK(artr_ctx_create(&d, m, &cp, NULL) == ARTR_OK);
        memset(&s, 0, sizeof s);
        s.temperature = 0.9f;
        CHECK(artr_forward(c, cond, 4, NULL) == ARTR_OK && artr_forward(d, cond, 4, NULL) == ARTR_OK);
        CHECK(th_generate(TH_SPEC, c, d, &s, 6, many, 200));
        CHECK(th_generate(TH_SJD, c, NULL, &s, 6, many, 150));
        memset(&s, 0, sizeof s);
        CHECK(th_generate(TH_JACOBI, c, NULL, &s, 6, many, 150));
        CHECK(artr_ctx_pos(c) >= 500 && c->n_kv <= 64);
        artr_ctx_free(c);
        artr_ctx_free(d);
    }
    {
        artr_ctx *c = th_ctx(m, 64, 16, 0);
        memset(&s, 0, sizeof s);
        CHECK_STATUS(artr_step(c, &s, out, 4, &n_out, &err), ARTR_E_ARG, &err);
        CHECK_MSG(err, "prefill");
        artr_forward(c, cond, 4, NULL);
        CHECK_STATUS(artr_step(c, &s, out, 0, &n_out, &err), ARTR_E_SPACE, &err);
        CHECK(n_out == 1);
        s.temperature = 1;
        CHECK_STATUS(artr_step_jacobi(c, &s, 4, out, 4, &n_out, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_step_speculative(c, c, &s, 4, out, 4, &n_out, &err), ARTR_E_ARG, &err);
        /* a pending token is fed by the next plain forward */
        CHECK(artr_step(c, &s, out, 4, &n_out, NULL) == ARTR_OK && n_out == 1);
        CHECK(artr_ctx_pos(c) == 5);
        CHECK(artr_forward(c, cond, 2, NULL) == ARTR_OK && artr_ctx_pos(c) == 7 && c->hist[4] == out[0]);
        artr_ctx_free(c);
    }
    artr_model_free(m);
}

/* A context holding prompt (fed in chunks of the batch). */
static artr_ctx *th_prefilled_long(const artr_model *m, int n_ctx, const int32_t *prompt, int n)
{
    artr_ctx *c = th_prefilled(m, n_ctx, prompt, n < 64 ? n : 64, 0);
    int i;
    for (i = 64; c && i < n; i += 64)
        if (artr_forward(c, prompt + i, n - i < 64 ? n - i : 64, NULL) != ARTR_OK) {
            artr_ctx_free(c);
            return NULL;
        }
    return c;
}

/* Lookup with the policy `pol` (NULL: fixed k) equals plain greedy on a fixture (want:
   plain greedy's n_gen tokens, computed when *have is 0); the stats go to *st. */
static int th_lookup_same(const artr_model *m, const int32_t *prompt, int n_prompt, int n_gen, int n_ctx,
                          const artr_draft_params *pol, int k, artr_stats *st, int32_t *want, int *have)
{
    int32_t got[256];
    artr_sampler s;
    artr_ctx *c;
    int ok = 1;
    memset(&s, 0, sizeof s);
    memset(st, 0, sizeof *st);
    if (!*have) {
        c = th_prefilled_long(m, n_ctx, prompt, n_prompt);
        ok = c && th_generate(TH_PLAIN, c, NULL, &s, 0, want, n_gen);
        artr_ctx_free(c);
        *have = ok;
    }
    c = th_prefilled_long(m, n_ctx, prompt, n_prompt);
    memset(got, 0xff, sizeof got);
    ok = ok && c && artr_ctx_set_draft(c, pol, NULL) == ARTR_OK && th_generate(TH_LOOKUP, c, NULL, &s, k, got, n_gen);
    if (c) artr_ctx_stats(c, st);
    artr_ctx_free(c);
    return ok && !memcmp(want, got, (size_t)n_gen * sizeof(int32_t));
}

/* Prompt lookup: greedy output equals plain greedy on several models, fixed k and the
   adaptive policy (measured and with fixed costs); a prompt that repeats itself gets
   guesses accepted, a random one rejected. */
static void test_decoding_lookup_greedy(void)
{
    static const char *const files[] = {"hf_llama.gguf", "hf_qwen2.gguf", "hf_gpt2.gguf", "tiny8.gguf",
                                        "hf_llama_q4_0.gguf", "hf_gemma3.gguf", "models/shakespeare.gguf"};
    static const int ks[] = {1, 3, 8};
    size_t f, i;
    for (f = 0; f < sizeof files / sizeof files[0]; f++) {
        artr_model *m = NULL;
        int32_t prompt[8] = {1, 7, 13, 2, 40, 5, 9, 30};
        int n_vocab, pol, have = 0;
        int32_t want[256];
        artr_stats st;
        if (artr_model_load_file(&m, strchr(files[f], '/') ? files[f] : th_path(files[f]), NULL, NULL) != ARTR_OK) {
            CHECK(0);
            continue;
        }
        n_vocab = artr_model_config(m)->n_vocab;
        for (i = 0; i < 8; i++) prompt[i] %= n_vocab;
        for (i = 0; i < sizeof ks / sizeof ks[0]; i++)
            for (pol = 0; pol < 3; pol++) {
                artr_draft_params dp;
                int ok;
                memset(&dp, 0, sizeof dp);
                dp.adaptive = pol > 0;
                dp.verify_cost = pol == 2 ? 0.1f : 0;
                dp.draft_min = pol == 2 ? 2 : 0;
                ok = th_lookup_same(m, prompt, 8, 100, 128, &dp, ks[i], &st, want, &have);
                if (!ok) printf("  %s: lookup k %d policy %d differs from plain greedy\n", files[f], ks[i], pol);
                CHECK(ok);
                CHECK(st.tokens == 100 || st.tokens > 100);
                if (pol == 0 && ks[i] == 8)
                    printf("  %-24s lookup k 8: %lld target calls, accepted %lld/%lld guesses\n", files[f],
                           (long long)st.calls, (long long)st.accepted, (long long)st.drafted);
            }
        artr_model_free(m);
    }
    { /* input-grounded: a passage the model is asked to go on with, repeated */
        static const char text[] = "ROMEO:\nBut soft, what light through yonder window breaks?\n"
                                   "It is the east, and Juliet is the sun.\n\n"
                                   "ROMEO:\nBut soft, what light through yonder window breaks?\n"
                                   "It is the east, and Juliet is the sun.\n\n"
                                   "ROMEO:\nBut soft, what light";
        artr_model *m = NULL;
        int32_t ids[256], want[256];
        int n = 0, have = 0;
        artr_stats st;
        artr_draft_params dp;
        memset(&dp, 0, sizeof dp);
        if (artr_model_load_file(&m, "models/shakespeare.gguf", NULL, NULL) != ARTR_OK ||
            artr_tokenize(m, text, strlen(text), 0, ids, 256, &n, NULL) != ARTR_OK) {
            CHECK(0);
            artr_model_free(m);
            return;
        }
        CHECK(th_lookup_same(m, ids, n, 60, 512, &dp, 8, &st, want, &have));
        printf("  shakespeare, repeated passage, lookup k 8: %lld calls for %lld tokens, accepted %lld/%lld\n",
               (long long)st.calls, (long long)st.tokens, (long long)st.accepted, (long long)st.drafted);
        CHECK(st.accepted > 0);
        CHECK(st.calls < st.tokens);
        dp.adaptive = 1;
        dp.verify_cost = 0.15f;
        CHECK(th_lookup_same(m, ids, n, 60, 512, &dp, 8, &st, want, &have));
        CHECK(st.accepted > 0);
        artr_model_free(m);
    }
    { /* random prompt on a model with a large vocabulary: guesses rejected */
        artr_model *m = NULL;
        int32_t prompt[8] = {1, 7, 13, 2, 40, 5, 9, 30}, want[256];
        int have = 0;
        artr_stats st;
        if (artr_model_load_file(&m, th_path("hf_llama.gguf"), NULL, NULL) != ARTR_OK) {
            CHECK(0);
            return;
        }
        CHECK(th_lookup_same(m, prompt, 8, 40, 128, NULL, 4, &st, want, &have));
        CHECK(st.drafted > st.accepted);
        artr_model_free(m);
    }
}

/* The first 3 sampled tokens of a model-free strategy (how, k) on tiny8 after prompt
   against plain sampling's exact joint distribution, in `settings` sampler settings:
   temperature 1; 0.8 with top-k 5; repetition penalty 1.5. */
static void th_model_free_joint(th_strategy how, int k, const int32_t *prompt, int n_prompt, int settings,
                                const char *name)
{
    artr_model *m = NULL;
    static double joint[512];
    artr_sampler s;
    double p;
    int setting;
    if (artr_model_load_file(&m, th_path("tiny8.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        return;
    }
    for (setting = 0; setting < settings; setting++) {
        memset(&s, 0, sizeof s);
        s.temperature = setting == 1 ? 0.8f : 1.0f;
        s.top_k = setting == 1 ? 5 : 0;
        if (setting == 2) s.repeat_penalty = 1.5f;
        s.rng = (how == TH_LOOKUP ? 99 : 313) + (uint64_t)setting;
        th_exact_joint(m, &s, prompt, n_prompt, joint);
        p = th_joint_p(how, m, NULL, &s, k, 100000, joint, prompt, n_prompt);
        printf("  setting %d: %-24s p = %.3f\n", setting, name, p);
        CHECK(p > 1e-3);
    }
    artr_model_free(m);
}

/* Sampling with lookup: the first 3 tokens follow plain sampling's joint distribution
   (point-mass proposals: kept with p(g), else drawn from p without g). */
static void test_decoding_distribution_lookup(void)
{
    static const int32_t prompt[5] = {1, 4, 6, 1, 4};
    th_model_free_joint(TH_LOOKUP, 3, prompt, 5, 2, "prompt lookup, k 3");
}

/* Jacobi and SJD with the draft policy: greedy output equals plain greedy with every
   setting (measured; fixed costs that pay; that never pay, so it steps aside and
   re-probes; in between, so windows and plain steps alternate with guesses carried
   across; draft_max and draft_min with the policy off), and the stats say what it did. */
static void test_decoding_policy_window(void)
{
    static const char *const files[] = {"hf_llama.gguf", "models/shakespeare.gguf"};
    size_t f;
    for (f = 0; f < sizeof files / sizeof files[0]; f++) {
        artr_model *m = NULL;
        int32_t prompt[8] = {1, 7, 13, 2, 40, 5, 9, 30}, want[200], got[200];
        artr_sampler s;
        artr_draft_params dp;
        artr_stats st;
        int pol, how, i;
        if (artr_model_load_file(&m, strchr(files[f], '/') ? files[f] : th_path(files[f]), NULL, NULL) != ARTR_OK) {
            CHECK(0);
            continue;
        }
        for (i = 0; i < 8; i++) prompt[i] %= artr_model_config(m)->n_vocab;
        memset(&s, 0, sizeof s);
        {
            artr_ctx *c = th_prefilled(m, 256, prompt, 8, 0);
            CHECK(c && th_generate(TH_PLAIN, c, NULL, &s, 0, want, 200));
            artr_ctx_free(c);
        }
        for (how = TH_JACOBI; how <= TH_SJD; how++)
            for (pol = 0; pol < 6; pol++) {
                artr_ctx *c = th_prefilled(m, 256, prompt, 8, 0);
                int ok;
                memset(&dp, 0, sizeof dp);
                dp.adaptive = pol < 4;
                if (pol == 1) dp.verify_cost = 0.02f;        /* verification cheap: windows */
                if (pol == 2) dp.verify_cost = 2.0f;         /* never pays: steps aside, probes */
                if (pol == 3) { dp.verify_cost = 0.3f; dp.draft_min = 3; dp.probe_every = 1; } /* both */
                if (pol == 4) dp.draft_max = 3;
                if (pol == 5) dp.draft_min = 9;              /* above the window: plain steps */
                memset(got, 0xff, sizeof got);
                ok = c && artr_ctx_set_draft(c, &dp, NULL) == ARTR_OK && th_generate((th_strategy)how, c, NULL, &s, 8, got, 200);
                CHECK(ok);
                if (ok && memcmp(want, got, sizeof want)) {
                    printf("  %s: %s, policy %d differs from plain greedy\n", files[f], how == TH_JACOBI ? "Jacobi" : "SJD", pol);
                    CHECK(0);
                }
                if (!c) continue;
                artr_ctx_stats(c, &st);
                printf("  %-24s %-6s policy %d: %3lld steps, %3lld calls, accepted %3lld/%4lld, aside %3lld, probes %2lld, short %3lld\n",
                       files[f], how == TH_JACOBI ? "Jacobi" : "SJD", pol, (long long)st.steps, (long long)st.calls,
                       (long long)st.accepted, (long long)st.drafted, (long long)st.aside, (long long)st.probes,
                       (long long)st.short_drafts);
                if (pol == 1) CHECK(st.drafted > 0);
                if (pol == 2) CHECK(st.aside > 0 && st.probes > 0 && st.aside > 4 * st.probes);
                if (pol == 3) CHECK(st.aside > 0 && st.drafted > 0);
                if (pol == 4) CHECK(st.drafted > 0 && st.drafted <= 3 * st.steps);
                if (pol == 5) CHECK(st.drafted == 0 && st.short_drafts > 0);
                artr_ctx_free(c);
            }
        artr_model_free(m);
    }
}

/* Sampling with SJD and the draft policy keeps plain sampling's distribution: measured
   costs (the first 3 tokens), fixed costs where windows and plain steps alternate with
   carried guesses (and their distributions) moved across the plain steps (tokens 3 .. 5),
   and costs that never pay, so it steps aside. */
static void test_decoding_distribution_window_policy(void)
{
    artr_model *m = NULL;
    int32_t prompt[3] = {1, 4, 6};
    static double joint[512], joint2[512];
    artr_sampler s;
    artr_draft_params dp;
    artr_stats st;
    double p;
    int setting;
    if (artr_model_load_file(&m, th_path("tiny8.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        return;
    }
    for (setting = 0; setting < 2; setting++) {
        memset(&s, 0, sizeof s);
        s.temperature = setting ? 0.8f : 1.0f;
        s.top_k = setting ? 5 : 0;
        s.rng = 313 + (uint64_t)setting;
        th_exact_joint(m, &s, prompt, 3, joint);
        th_exact_joint_skip2(m, &s, prompt, 3, joint2);
        memset(&dp, 0, sizeof dp);
        dp.adaptive = 1;
        p = th_joint_p_pol(TH_SJD, m, NULL, &s, 4, 100000, joint, prompt, 3, &dp, 0, &st);
        printf("  setting %d: SJD W 4, adaptive, measured              p = %.3f (aside %lld, probes %lld)\n", setting, p,
               (long long)st.aside, (long long)st.probes);
        CHECK(p > 1e-3);
        dp.verify_cost = 0.3f;
        dp.draft_min = 3;
        dp.probe_every = 1;
        p = th_joint_p_pol(TH_SJD, m, NULL, &s, 4, 100000, joint2, prompt, 3, &dp, 2, &st);
        printf("  setting %d: SJD W 4, windows and plain steps, tokens 3-5 p = %.3f (aside %lld, probes %lld, accepted %lld/%lld)\n",
               setting, p, (long long)st.aside, (long long)st.probes, (long long)st.accepted, (long long)st.drafted);
        CHECK(p > 1e-3);
        CHECK(st.aside > 0 && st.probes > 0 && st.drafted > 0);
        memset(&dp, 0, sizeof dp);
        dp.adaptive = 1;
        dp.verify_cost = 2.0f;
        p = th_joint_p_pol(TH_SJD, m, NULL, &s, 4, 20000, joint2, prompt, 3, &dp, 2, &st);
        printf("  setting %d: SJD W 4, never pays, tokens 3-5           p = %.3f (aside %lld of %lld steps)\n", setting, p,
               (long long)st.aside, (long long)st.steps);
        CHECK(p > 1e-3);
        CHECK(st.aside > 0);
    }
    artr_model_free(m);
}

/* The draft policy never changes greedy output: speculative decoding with the adaptive
   policy (measured, fixed costs that step aside, p_min, draft_min, draft_max) equals plain
   greedy; bad parameters are refused. */
static void test_decoding_policy_greedy(void)
{
    artr_model *m = NULL, *dm = NULL;
    int32_t prompt[8] = {1, 7, 13, 2, 40, 5, 9, 30}, want[200], got[200];
    artr_sampler s;
    artr_draft_params dp;
    artr_stats st;
    int pol;
    if (artr_model_load_file(&m, th_path("hf_llama.gguf"), NULL, NULL) != ARTR_OK ||
        artr_model_load_file(&dm, th_path("hf_llama_q4_0.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        artr_model_free(m);
        return;
    }
    memset(&s, 0, sizeof s);
    {
        artr_ctx *c = th_prefilled(m, 256, prompt, 8, 0);
        CHECK(c && th_generate(TH_PLAIN, c, NULL, &s, 0, want, 200));
        artr_ctx_free(c);
    }
    for (pol = 0; pol < 7; pol++) {
        artr_ctx *c = th_prefilled(m, 256, prompt, 8, 0), *d = th_prefilled(pol == 5 ? m : dm, 256, prompt, 8, pol == 5 ? 1 : 0);
        int ok;
        memset(&dp, 0, sizeof dp);
        dp.adaptive = pol != 3;
        if (pol == 1) dp.verify_cost = 0.05f;            /* verification pays: drafts */
        if (pol == 2) { dp.verify_cost = 2.0f; dp.draft_cost = 0.5f; } /* never pays: steps aside, probes */
        if (pol == 6) { dp.verify_cost = 2.0f; dp.draft_cost = 0.01f; } /* a cheap draft: shadowed, not probed */
        if (pol == 3) { dp.p_min = 0.9f; dp.draft_min = 2; dp.draft_max = 5; }
        if (pol == 4) { dp.p_min = 0.5f; dp.probe_every = 3; }
        memset(got, 0xff, sizeof got);
        ok = c && d && artr_ctx_set_draft(c, &dp, NULL) == ARTR_OK && th_generate(TH_SPEC, c, d, &s, 8, got, 200);
        CHECK(ok);
        if (ok && memcmp(want, got, sizeof want)) {
            printf("  policy %d: speculative differs from plain greedy\n", pol);
            CHECK(0);
        }
        if (c) {
            artr_ctx_stats(c, &st);
            printf("  policy %d: %lld steps, %lld calls, accepted %lld/%lld, aside %lld, probes %lld, short %lld, cut %lld\n", pol,
                   (long long)st.steps, (long long)st.calls, (long long)st.accepted, (long long)st.drafted,
                   (long long)st.aside, (long long)st.probes, (long long)st.short_drafts, (long long)st.cut);
            if (pol == 1) CHECK(st.drafted > 0);
            if (pol == 2) CHECK(st.aside > 0 && st.probes > 0);
            if (pol == 6) CHECK(st.aside > 190 && st.probes == 0 && d && d->stats.calls > 100); /* the draft ran aside */
            if (pol == 3) CHECK(st.cut > 0 || st.short_drafts > 0);
        }
        artr_ctx_free(c);
        artr_ctx_free(d);
    }
    {
        artr_ctx *c = th_prefilled(m, 64, prompt, 8, 0);
        artr_status e;
        memset(&dp, 0, sizeof dp);
        dp.p_min = 1.5f;
        CHECK(artr_ctx_set_draft(c, &dp, NULL) == ARTR_E_ARG);
        dp.p_min = 0;
        dp.draft_min = 5;
        dp.draft_max = 3;
        CHECK(artr_ctx_set_draft(c, &dp, NULL) == ARTR_E_ARG);
        dp.draft_min = -1;
        CHECK(artr_ctx_set_draft(c, &dp, NULL) == ARTR_E_ARG);
        CHECK(artr_ctx_set_draft(NULL, NULL, NULL) == ARTR_E_ARG);
        CHECK(artr_ctx_set_draft(c, NULL, NULL) == ARTR_OK);
        {
            int32_t out[4];
            int n_out;
            e = artr_step_lookup(c, &s, 0, 3, out, 4, &n_out, NULL);
            CHECK(e == ARTR_E_ARG);
            e = artr_step_lookup(c, &s, 4, -1, out, 4, &n_out, NULL);
            CHECK(e == ARTR_E_ARG);
        }
        artr_ctx_free(c);
    }
    artr_model_free(m);
    artr_model_free(dm);
}

/* Tree calls: every node's logits are bit for bit those of a plain call on its path, and
   keeping a path leaves the cache of a plain run on it (sliding windows, learned
   positions, qk-norm, a quantized model, an F16 cache, LongRoPE before its switch). */
static void test_decoding_tree_rows(void)
{
    static const char *const files[] = {"hf_llama.gguf", "hf_gpt2.gguf", "hf_gemma3.gguf", "hf_qwen3.gguf",
                                        "hf_llama_q4_0.gguf", "hf_phi3.gguf"};
    size_t f;
    for (f = 0; f < sizeof files / sizeof files[0]; f++) {
        artr_model *m = NULL;
        artr_ctx *c = NULL, *r = NULL;
        artr_ctx_params cp;
        artr_sampler s;
        int32_t prompt[20], ids[24], path[24], toks[64];
        uint64_t rng = 31 + f;
        int n_vocab, n = 24, i, j, len, P = f == 5 ? 6 : 20, rows_same = 1, cache_same = 1, kv;
        if (artr_model_load_file(&m, th_path(files[f]), NULL, NULL) != ARTR_OK) {
            CHECK(0);
            continue;
        }
        n_vocab = artr_model_config(m)->n_vocab;
        memset(&cp, 0, sizeof cp);
        cp.n_ctx = 96;
        cp.n_batch = 32;
        cp.kv_type = f == 3 ? ARTR_TYPE_F16 : ARTR_TYPE_F32;
        CHECK(artr_ctx_create(&c, m, &cp, NULL) == ARTR_OK && artr_ctx_create(&r, m, &cp, NULL) == ARTR_OK);
        for (i = 0; i < P; i++) prompt[i] = (int32_t)(th_rng(&rng) % (uint64_t)n_vocab);
        CHECK(artr_forward(c, prompt, P, NULL) == ARTR_OK && artr_forward(r, prompt, P, NULL) == ARTR_OK);
        /* a random tree: node 0 the next token, each node under an earlier one */
        for (i = 0; i < n; i++) {
            ids[i] = (int32_t)(th_rng(&rng) % (uint64_t)n_vocab);
            c->tree[i] = i ? (int32_t)(th_rng(&rng) % (uint64_t)i) : -1;
            c->tree[c->n_batch + i] = i ? c->tree[c->n_batch + c->tree[i]] + 1 : 0;
        }
        memset(&s, 0, sizeof s);
        CHECK(artr__feed_tree(c, &s, ids, n, NULL) == ARTR_OK && c->tree_n == 0);
        for (i = 0; i < n && c; i++) { /* node i against a plain call on its path */
            int d = c->tree[c->n_batch + i], a = i;
            for (j = d; j >= 0; j--, a = c->tree[a]) toks[j] = ids[a];
            CHECK(artr_ctx_truncate(r, P, NULL) == ARTR_OK && artr_forward(r, toks, d + 1, NULL) == ARTR_OK);
            if (memcmp(artr_logits(c, i), artr_logits(r, -1), (size_t)n_vocab * sizeof(float))) rows_same = 0;
        }
        /* keep the deepest node's path: the cache then equals r's (which ran that path last) */
        for (i = 1, j = 0; i < n; i++)
            if (c->tree[c->n_batch + i] > c->tree[c->n_batch + j]) j = i;
        len = c->tree[c->n_batch + j] + 1;
        for (i = len - 1; i >= 0; i--, j = c->tree[j]) path[i] = j;
        for (i = 0; i < len; i++) toks[i] = ids[path[i]];
        CHECK(artr_ctx_truncate(r, P, NULL) == ARTR_OK && artr_forward(r, toks, len, NULL) == ARTR_OK);
        artr__tree_keep(c, &s, ids, path, len, n);
        CHECK(artr_ctx_pos(c) == P + len && c->n_kv == r->n_kv);
        for (kv = 0; kv < c->n_layers; kv++)
            for (i = 0; i < P + len; i++) {
                size_t row = (size_t)c->kv_dim * c->kv_es;
                /* a sliding-window ring holds the window before the next position */
                if (c->swa_rows && artr__layer_swa(m, kv) && i < P + len - m->hp.swa_window) continue;
                if (memcmp(artr__kv_row(c, c->k_cache, kv, i), artr__kv_row(r, r->k_cache, kv, i), row) ||
                    memcmp(artr__kv_row(c, c->v_cache, kv, i), artr__kv_row(r, r->v_cache, kv, i), row))
                    cache_same = 0;
            }
        for (i = 0; i < P + len; i++)
            if (c->hist[i] != r->hist[i]) cache_same = 0;
        CHECK(artr_forward(c, prompt, 3, NULL) == ARTR_OK && artr_forward(r, prompt, 3, NULL) == ARTR_OK);
        if (memcmp(artr_logits(c, -1), artr_logits(r, -1), (size_t)n_vocab * sizeof(float))) cache_same = 0;
        if (!rows_same || !cache_same) printf("  %s: tree rows same %d, kept cache same %d\n", files[f], rows_same, cache_same);
        CHECK(rows_same && cache_same);
        artr_ctx_free(c);
        artr_ctx_free(r);
        artr_model_free(m);
    }
}

/* Lookahead (greedy) equals plain greedy: window, n-gram and verify sizes, repetition
   penalties (the tree's penalty windows), guidance, the adaptive policy (fixed costs:
   paying, and stepping aside), small max_out; a repeated passage gets n-grams accepted.
   Bounded caches run long; bad arguments are refused. */
static void test_decoding_lookahead_greedy(void)
{
    static const int cfg[][3] = {{4, 3, 4}, {1, 2, 1}, {6, 5, 8}, {3, 8, 2}, {0, 0, 0}};
    artr_model *m = NULL;
    int32_t prompt[8] = {1, 7, 13, 2, 40, 5, 9, 30}, want[160], got[160], out[8];
    artr_sampler s;
    artr_stats st;
    size_t i;
    int var;
    if (artr_model_load_file(&m, th_path("hf_llama.gguf"), NULL, NULL) != ARTR_OK) {
        CHECK(0);
        return;
    }
    for (var = 0; var < 3; var++) { /* plain sampler, penalties, guidance */
        artr_ctx *u = NULL;
        memset(&s, 0, sizeof s);
        if (var == 1) {
            s.repeat_penalty = 1.3f;
            s.presence_penalty = 0.2f;
            s.repeat_last_n = 16;
        }
        if (var == 2) {
            u = th_prefilled(m, 256, prompt, 1, 0);
            s.guidance = u;
            s.guidance_scale = 1.5f;
        }
        {
            artr_ctx *c = th_prefilled(m, 256, prompt, 8, 0);
            CHECK(c && th_generate(TH_PLAIN, c, NULL, &s, 0, want, 160));
            artr_ctx_free(c);
        }
        for (i = 0; i < sizeof cfg / sizeof cfg[0] + 2; i++) {
            artr_ctx *c = th_prefilled(m, 256, prompt, 8, 0);
            artr_draft_params dp;
            int got_n = 0, ok = c != NULL, pol = i >= sizeof cfg / sizeof cfg[0] ? (int)(i - sizeof cfg / sizeof cfg[0]) + 1 : 0;
            const int *k = cfg[pol ? 0 : i];
            if (u) {
                artr_ctx_truncate(u, 0, NULL);
                ok = ok && artr_forward(u, prompt, 1, NULL) == ARTR_OK;
            }
            memset(&dp, 0, sizeof dp);
            dp.adaptive = pol > 0;
            dp.verify_cost = pol == 1 ? 0.02f : 3.0f;
            dp.probe_every = pol == 2 ? 2 : 0; /* stepped aside: a probe every 32 plain steps */
            if (pol) ok = ok && artr_ctx_set_draft(c, &dp, NULL) == ARTR_OK;
            while (ok && got_n < 160) { /* max_out varies: 2 .. 8 */
                int n_out = 0, j;
                ok = artr_step_lookahead(c, &s, k[0], k[1], k[2], out, 2 + got_n % 7, &n_out, NULL) == ARTR_OK;
                for (j = 0; ok && j < n_out && got_n < 160; j++) got[got_n++] = out[j];
            }
            CHECK(ok);
            if (ok && memcmp(want, got, sizeof want)) {
                int at = 0;
                while (want[at] == got[at]) at++;
                printf("  lookahead %d,%d,%d policy %d sampler %d differs from plain greedy at token %d\n", k[0], k[1], k[2],
                       pol, var, at);
                CHECK(0);
            }
            if (c) {
                artr_ctx_stats(c, &st);
                if (pol == 2) CHECK(st.aside > 0 && st.probes > 0);
                if (pol < 2) CHECK(st.drafted > 0);
                if (i == 0 && var == 0)
                    printf("  hf_llama lookahead 4,3,4: %lld tokens in %lld calls, accepted %lld of %lld nodes\n",
                           (long long)st.tokens, (long long)st.calls, (long long)st.accepted, (long long)st.drafted);
            }
            artr_ctx_free(c);
        }
        artr_ctx_free(u);
    }
    { /* input-grounded: the pool holds the prompt's n-grams */
        static const char text[] = "ROMEO:\nBut soft, what light through yonder window breaks?\n"
                                   "It is the east, and Juliet is the sun.\n\n"
                                   "ROMEO:\nBut soft, what light through yonder window breaks?\n"
                                   "It is the east, and Juliet is the sun.\n\n"
                                   "ROMEO:\nBut soft, what light";
        artr_model *sm = NULL;
        int32_t ids[256], w2[80], g2[80] = {0};
        int n = 0;
        artr_ctx *c;
        if (artr_model_load_file(&sm, "models/shakespeare.gguf", NULL, NULL) != ARTR_OK ||
            artr_tokenize(sm, text, strlen(text), 0, ids, 256, &n, NULL) != ARTR_OK) {
            CHECK(0);
        } else {
            memset(&s, 0, sizeof s);
            c = th_prefilled_long(sm, 512, ids, n);
            CHECK(c && th_generate(TH_PLAIN, c, NULL, &s, 0, w2, 80));
            artr_ctx_free(c);
            c = th_prefilled_long(sm, 512, ids, n);
            CHECK(c && th_generate(TH_LOOKAHEAD, c, NULL, &s, 4, g2, 80));
            CHECK(memcmp(w2, g2, sizeof w2) == 0);
            artr_ctx_stats(c, &st);
            printf("  shakespeare, repeated passage, lookahead 4,3,4: %lld calls for %lld tokens, accepted %lld\n",
                   (long long)st.calls, (long long)st.tokens, (long long)st.accepted);
            CHECK(st.accepted > 0 && st.calls < st.tokens);
            artr_ctx_free(c);
        }
        artr_model_free(sm);
    }
    { /* bounded cache and a sliding-window model: long runs */
        static const char *const files[] = {"hf_llama.gguf", "hf_gemma3.gguf"};
        size_t f;
        for (f = 0; f < 2; f++) {
            artr_model *bm = NULL;
            artr_ctx_params cp;
            artr_ctx *c = NULL;
            int32_t many[400];
            memset(&cp, 0, sizeof cp);
            cp.n_ctx = 64;
            cp.n_batch = 16;
            cp.n_sink = f == 0 ? 4 : 0;
            CHECK(artr_model_load_file(&bm, th_path(files[f]), NULL, NULL) == ARTR_OK &&
                  artr_ctx_create(&c, bm, &cp, NULL) == ARTR_OK);
            memset(&s, 0, sizeof s);
            s.temperature = 0.9f;
            CHECK(c && artr_forward(c, prompt, 4, NULL) == ARTR_OK);
            CHECK(c && th_generate(TH_LOOKAHEAD, c, NULL, &s, 5, many, f == 0 ? 400 : 50));
            if (c && f == 0) CHECK(artr_ctx_pos(c) >= 400 && c->n_kv <= 64);
            artr_ctx_free(c);
            artr_model_free(bm);
        }
    }
    {
        artr_ctx *c = th_prefilled(m, 64, prompt, 8, 0);
        artr_error err;
        int n_out;
        memset(&s, 0, sizeof s);
        CHECK_STATUS(artr_step_lookahead(c, &s, -1, 3, 4, out, 4, &n_out, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_step_lookahead(c, &s, 4, 9, 4, out, 4, &n_out, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_step_lookahead(c, &s, 4, 1, 4, out, 4, &n_out, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_step_lookahead(c, &s, 4, 3, -2, out, 4, &n_out, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_step_lookahead(NULL, &s, 4, 3, 4, out, 4, &n_out, &err), ARTR_E_ARG, &err);
        CHECK(artr_step_lookahead(c, &s, 4, 3, 4, out, 1, &n_out, NULL) == ARTR_OK && n_out == 1);
        artr_ctx_free(c);
    }
    artr_model_free(m);
}

/* Sampling with lookahead: the first 3 tokens follow plain sampling's joint distribution
   (several point-mass guesses per node, tried in turn against the residual), also with
   a repetition penalty (the tree's penalty windows). */
static void test_decoding_distribution_lookahead(void)
{
    static const int32_t prompt[7] = {1, 4, 6, 1, 4, 2, 1};
    th_model_free_joint(TH_LOOKAHEAD, 3, prompt, 7, 3, "lookahead, W 3 N 3 G 4");
}
