/* artr-bench: speed of a model in artr, measured in one run so ratios are fair on a
   shared machine. A benchmark, never a test.

   artr-bench -m MODEL [-t threads] [-c n_ctx]
       prefill (pp128, pp512) and decode (tg128) tokens/s, the cost of verifying 8 tokens
       relative to decoding 1, a memory-bandwidth probe and the decode bound it implies
   artr-bench -m MODEL --decode [--draft DRAFT] [--self-spec L] [-p TEXT | -f FILE] [-n N] [--temp T]
       plain decoding vs every strategy that applies, each fixed (k, window) and with
       the adaptive policy: tokens/s, tokens per target call, acceptance, the share of
       steps the policy stepped aside, and the wall-clock ratio to plain */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int kv_type = ARTR_TYPE_F32; /* --kv f16: every context's cache type */

/* The parameters of every context the bench makes (and sizes). */
static artr_ctx_params ctx_params(int n_ctx, int n_batch, int n_threads, int n_layers)
{
    artr_ctx_params cp;
    memset(&cp, 0, sizeof cp);
    cp.n_ctx = n_ctx;
    cp.n_batch = n_batch;
    cp.n_threads = n_threads;
    cp.n_layers = n_layers;
    cp.kv_type = kv_type;
    return cp;
}

static artr_ctx *make_ctx(const artr_model *m, int n_ctx, int n_batch, int n_threads, int n_layers)
{
    artr_ctx_params cp = ctx_params(n_ctx, n_batch, n_threads, n_layers);
    artr_ctx *c = NULL;
    artr_error err;
    if (artr_ctx_create(&c, m, &cp, &err) != ARTR_OK) {
        fprintf(stderr, "artr-bench: %s\n", err.msg);
        exit(1);
    }
    return c;
}

/* Seconds per call of forwarding n tokens at position pos (best of reps). */
static double time_forward(artr_ctx *c, const int32_t *ids, int n, int pos, int reps)
{
    double best = 1e30;
    int r;
    for (r = 0; r < reps; r++) {
        double t0;
        artr_ctx_truncate(c, pos, NULL);
        t0 = now_s();
        if (artr_forward(c, ids, n, NULL) != ARTR_OK) return -1;
        t0 = now_s() - t0;
        if (t0 < best) best = t0;
    }
    return best;
}

/* Sum of n 8-byte words at p (any alignment), as fast as the core can load: 32-byte
   loads into four accumulators where the build has AVX2. */
static uint64_t sum_words(const unsigned char *p, size_t n)
{
    uint64_t s = 0, w;
    size_t i = 0;
#if defined(__AVX2__)
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    uint64_t lanes[4];
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(const void *)(p + 8 * i)));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(const void *)(p + 8 * i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_loadu_si256((const __m256i *)(const void *)(p + 8 * i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_loadu_si256((const __m256i *)(const void *)(p + 8 * i + 96)));
    }
    _mm256_storeu_si256((__m256i *)(void *)lanes, _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
    s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
#endif
    for (; i < n; i++) {
        memcpy(&w, p + 8 * i, 8);
        s += w;
    }
    return s;
}

/* Read bandwidth of the memory the weights live in: n_threads threads sum every weight
   tensor (each thread a share of its rows), best of 5. Decode streams each weight once
   per token, so bytes / this rate is the bound on decode speed. */
static double bandwidth_gbs(const artr_model *m, int n_threads)
{
    double best = 1e30, t0;
    volatile uint64_t sink = 0;
    size_t bytes = 0;
    int r, nt = artr_model_tensor_count(m);
    if (n_threads < 1) n_threads = 1;
    for (r = 0; r < 5; r++) {
        uint64_t total = 0;
        int i;
        bytes = 0;
        t0 = now_s();
        for (i = 0; i < nt; i++) {
            artr_tensor t;
            size_t words;
            int th;
            artr_model_tensor_at(m, i, &t, NULL);
            words = t.n_bytes / 8;
            bytes += words * 8;
#ifdef _OPENMP
#pragma omp parallel for num_threads(n_threads) reduction(+ : total) if (words > 4096)
#endif
            for (th = 0; th < n_threads; th++) {
                size_t a = words * (size_t)th / (size_t)n_threads, b = words * (size_t)(th + 1) / (size_t)n_threads;
                total += sum_words((const unsigned char *)t.data + 8 * a, b - a);
            }
        }
        t0 = now_s() - t0;
        sink += total;
        if (t0 < best) best = t0;
    }
    (void)sink;
    return (double)bytes / best / 1e9;
}

static size_t weight_bytes(const artr_model *m)
{
    size_t total = 0;
    int i;
    for (i = 0; i < artr_model_tensor_count(m); i++) {
        artr_tensor t;
        artr_model_tensor_at(m, i, &t, NULL);
        total += t.n_bytes;
    }
    return total;
}

static void bench_kernels(const artr_model *m, int n_ctx, int n_threads)
{
    const artr_config *cfg = artr_model_config(m);
    int n_batch = n_ctx < 512 ? n_ctx : 512, i, pp;
    int32_t *ids = (int32_t *)malloc((size_t)n_ctx * sizeof(int32_t));
    artr_ctx *c = make_ctx(m, n_ctx, n_batch, n_threads, 0);
    size_t ctx_bytes = 0, model_bytes = 0, wbytes = weight_bytes(m);
    double t1, t8, tg, bw;
    int threads_used = 1;
    artr_ctx_params cp = ctx_params(n_ctx, n_batch, n_threads, 0); /* what c was made with */
    artr_ctx_bytes(m, &cp, &ctx_bytes, NULL);
    for (i = 0; i < n_ctx; i++) ids[i] = (int32_t)((i * 7919 + 13) % cfg->n_vocab);
    printf("model: %d layers, embd %d, ffn %d, vocab %d; weights %.1f MB; context %d (%s cache): %.1f MB\n",
           cfg->n_layer, cfg->n_embd, cfg->n_ff, cfg->n_vocab, wbytes / 1e6, n_ctx,
           kv_type == ARTR_TYPE_F16 ? "F16" : "F32", ctx_bytes / 1e6);
    printf("kernels: %s\n", artr_ctx_kernels(c));
    (void)model_bytes;
    for (pp = 128; pp <= 512; pp *= 4) {
        double t;
        if (pp > n_batch) break;
        t = time_forward(c, ids, pp, 0, 3);
        printf("pp%-4d %9.1f tokens/s\n", pp, pp / t);
    }
    { /* tg128: 128 single-token calls after a 16-token prompt */
        double t0;
        artr_ctx_truncate(c, 0, NULL);
        artr_forward(c, ids, 16, NULL);
        t0 = now_s();
        for (i = 0; i < 128 && 16 + i < n_ctx; i++) artr_forward(c, ids + 16 + i, 1, NULL);
        tg = (now_s() - t0) / i;
        printf("tg128  %9.1f tokens/s\n", 1 / tg);
    }
    t1 = time_forward(c, ids, 1, 64, 20);
    t8 = time_forward(c, ids, 8, 64, 20);
    printf("verify 8 tokens: %.2f x the time of decoding 1 (at position 64)\n", t8 / t1);
#ifdef _OPENMP
    threads_used = n_threads ? n_threads : omp_get_max_threads();
#endif
    bw = bandwidth_gbs(m, threads_used);
    printf("memory read bandwidth (%d threads): %.1f GB/s -> decode bound %.1f tokens/s; tg128 reaches %.0f%% of it\n", threads_used, bw,
           bw * 1e9 / (double)wbytes, 100.0 * (1 / tg) / (bw * 1e9 / (double)wbytes));
#ifdef _OPENMP
    printf("threads: %d (OpenMP)\n", threads_used);
#else
    printf("threads: 1 (built without OpenMP)\n");
#endif
    artr_ctx_free(c);
    free(ids);
}

typedef struct run {
    const char *name;
    double seconds;
    artr_stats st;
    int32_t *tokens;
    int n;
} run;

enum { HOW_PLAIN, HOW_SPEC, HOW_JACOBI, HOW_SJD, HOW_LOOKUP, HOW_LOOKAHEAD };

/* Generate n tokens with one strategy. */
static void generate(run *r, int how, artr_ctx *c, artr_ctx *d, artr_sampler s, int k, int ngram, int verify, int n)
{
    double t0 = now_s();
    int got = 0;
    r->tokens = (int32_t *)malloc((size_t)(n + 80) * sizeof(int32_t));
    while (got < n) {
        int n_out = 0;
        artr_status st;
        artr_error err;
        int room = n - got < 64 ? n - got : 64;
        if (how == HOW_SPEC) st = artr_step_speculative(c, d, &s, k, r->tokens + got, room, &n_out, &err);
        else if (how == HOW_JACOBI) st = artr_step_jacobi(c, &s, k, r->tokens + got, room, &n_out, &err);
        else if (how == HOW_SJD) st = artr_step_spec_jacobi(c, &s, k, NULL, 0, r->tokens + got, room, &n_out, &err);
        else if (how == HOW_LOOKUP) st = artr_step_lookup(c, &s, k, ngram, r->tokens + got, room, &n_out, &err);
        else if (how == HOW_LOOKAHEAD) st = artr_step_lookahead(c, &s, k, ngram, verify, r->tokens + got, room, &n_out, &err);
        else st = artr_step(c, &s, r->tokens + got, room, &n_out, &err);
        if (st != ARTR_OK) {
            fprintf(stderr, "artr-bench: %s: %s\n", r->name, err.msg);
            break;
        }
        got += n_out;
    }
    r->seconds = now_s() - t0;
    r->n = got;
    artr_ctx_stats(c, &r->st);
}

/* Feed a prompt in chunks of the batch (64). */
static void prefill(artr_ctx *c, const int32_t *ids, int n)
{
    int i;
    for (i = 0; i < n; i += 64)
        if (artr_forward(c, ids + i, n - i < 64 ? n - i : 64, NULL) != ARTR_OK) {
            fprintf(stderr, "artr-bench: cannot prefill the prompt\n");
            exit(1);
        }
}

typedef struct decode_opts {
    int n, k, window, lookup_k, ngram, draft_min, n_threads, only, reps;
    int la_window, la_ngram, la_verify; /* lookahead */
    int branch;                         /* token trees for the draft rows */
    float temp, p_min;
} decode_opts;

/* Plain decoding against every strategy that applies, each with a fixed draft length or
   window and with the adaptive policy; op->reps rounds, the strategies interleaved
   in each, and each keeps its fastest round (a shared machine's noise only slows). */
static void bench_decode(const artr_model *m, const artr_model *dm, int self_spec, const char *prompt_text,
                         const decode_opts *op)
{
    enum { MAX_RUNS = 14 };
    const artr_config *cfg = artr_model_config(m);
    static const char *const names[MAX_RUNS] = {
        "plain", "speculative (draft)", "  + adaptive", "self-speculative", "  + adaptive", "Jacobi", "  + adaptive",
        "speculative Jacobi", "  + adaptive", "lookup", "  + adaptive", "lookahead", "  + adaptive", NULL};
    int32_t *prompt;
    int n_prompt = 0, n_ctx = cfg->n_ctx_train < 2048 ? cfg->n_ctx_train : 2048, i, n_runs = 0, n = op->n, r;
    size_t len = strlen(prompt_text);
    run runs[MAX_RUNS];
    double plain_s;
    artr_sampler s;
    memset(&s, 0, sizeof s);
    s.temperature = op->temp;
    s.rng = 1234;
    prompt = (int32_t *)malloc((4 * len + 8) * sizeof(int32_t));
    if (prompt && artr_tokenize(m, prompt_text, len, ARTR_TOKENIZE_BOS, prompt, (int)(4 * len + 8), &n_prompt, NULL) != ARTR_OK) {
        printf("(the model has no vocabulary for the prompt: 8 fixed token ids instead)\n");
        for (n_prompt = 0; n_prompt < 8; n_prompt++) prompt[n_prompt] = (int32_t)((1 + 7 * n_prompt) % cfg->n_vocab);
    }
    if (!prompt || n_prompt < 1 || n_prompt + 128 > n_ctx) {
        fprintf(stderr, "artr-bench: cannot tokenize the prompt with this model, or it leaves no room in %d positions\n", n_ctx);
        exit(1);
    }
    if (n_prompt + n + 64 > n_ctx) n = n_ctx - n_prompt - 64;
    memset(runs, 0, sizeof runs);
    for (r = 0; r < op->reps; r++)
    for (i = 0, n_runs = 0; i < 13; i++) {
        artr_ctx *c, *d = NULL;
        artr_draft_params dp;
        run one;
        int how = i == 0 ? HOW_PLAIN : i <= 4 ? HOW_SPEC : i <= 6 ? HOW_JACOBI : i <= 8 ? HOW_SJD : i <= 10 ? HOW_LOOKUP
                                                                                                   : HOW_LOOKAHEAD;
        int adaptive = i == 2 || i == 4 || i == 6 || i == 8 || i == 10 || i == 12;
        if ((i == 1 || i == 2) && !dm) continue;
        if ((i == 3 || i == 4) && !self_spec) continue;
        if (how == HOW_JACOBI && op->temp > 0) continue; /* Jacobi is greedy */
        if (op->only && i != 0 && !(op->only & (1 << how))) continue;
        memset(&one, 0, sizeof one);
        one.name = names[i];
        c = make_ctx(m, n_ctx, 64, op->n_threads, 0);
        prefill(c, prompt, n_prompt);
        memset(&dp, 0, sizeof dp);
        dp.adaptive = adaptive;
        dp.draft_min = op->draft_min;
        dp.p_min = op->p_min;
        dp.branch = how == HOW_SPEC ? op->branch : 0;
        artr_ctx_set_draft(c, &dp, NULL);
        if (how == HOW_SPEC) {
            d = make_ctx(i <= 2 ? dm : m, n_ctx, 64, op->n_threads, i <= 2 ? 0 : self_spec);
            prefill(d, prompt, n_prompt);
        }
        if (how == HOW_LOOKAHEAD) generate(&one, how, c, d, s, op->la_window, op->la_ngram, op->la_verify, n);
        else generate(&one, how, c, d, s, how == HOW_SPEC ? op->k : how == HOW_LOOKUP ? op->lookup_k : op->window, op->ngram, 0, n);
        artr_ctx_free(c);
        artr_ctx_free(d);
        if (r == 0 || one.seconds < runs[n_runs].seconds) {
            free(runs[n_runs].tokens);
            runs[n_runs] = one;
        } else {
            free(one.tokens);
        }
        n_runs++;
    }
    plain_s = runs[0].seconds;
    printf("%d tokens after a %d-token prompt, temperature %g, best of %d rounds, k %d, window %d, lookup k %d n-gram %d, "
           "lookahead %d,%d,%d%s%s%s\n",
           n, n_prompt, op->temp, op->reps, op->k, op->window, op->lookup_k, op->ngram, op->la_window, op->la_ngram,
           op->la_verify, op->branch > 1 ? ", draft token trees" : "", op->draft_min ? ", draft-min set" : "",
           op->p_min > 0 ? ", p-min set" : "");
    printf("%-20s %9s %11s %11s %13s %8s %9s %9s\n", "strategy", "tokens/s", "tokens/call", "accepted", "acceptance",
           "aside", "vs plain", "same text");
    for (i = 0; i < n_runs; i++) {
        run *r = &runs[i];
        int same = r->n == runs[0].n && !memcmp(r->tokens, runs[0].tokens, (size_t)r->n * sizeof(int32_t));
        char acc[32];
        snprintf(acc, sizeof acc, "%lld/%lld", (long long)r->st.accepted, (long long)r->st.drafted);
        printf("%-20s %9.1f %11.3f %11s %12.1f%% %7.0f%% %8.2fx %9s\n", r->name, r->n / r->seconds,
               (double)r->n / (double)(r->st.calls ? r->st.calls : 1), acc,
               100.0 * (double)r->st.accepted / (double)(r->st.drafted ? r->st.drafted : 1),
               100.0 * (double)r->st.aside / (double)(r->st.steps ? r->st.steps : 1), plain_s / r->seconds,
               op->temp > 0 ? "-" : same ? "yes" : "NO");
    }
    for (i = 0; i < n_runs; i++)
        if (runs[i].st.aside || runs[i].st.probes || runs[i].st.short_drafts || runs[i].st.cut)
            printf("%-20s policy: %lld of %lld steps stepped aside, %lld re-probes, %lld plain for a short or no draft, %lld cut by p-min\n",
                   runs[i].name[0] == ' ' ? runs[i - 1].name : runs[i].name, (long long)runs[i].st.aside,
                   (long long)runs[i].st.steps, (long long)runs[i].st.probes, (long long)runs[i].st.short_drafts,
                   (long long)runs[i].st.cut);
    for (i = 0; i < n_runs; i++) free(runs[i].tokens);
    free(prompt);
}

/* A whole file as a NUL-terminated string, or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    long len;
    char *buf;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(buf = (char *)malloc((size_t)len + 1))) {
        fclose(f);
        return NULL;
    }
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    fclose(f);
    return buf;
}

/* A whole number in [lo, hi], or exit with one line. */
static int int_arg(const char *flag, const char *v, long lo, long hi)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "artr-bench: bad value '%s' for %s (expected %ld..%ld)\n", v, flag, lo, hi);
        exit(2);
    }
    return (int)x;
}

static float float_arg(const char *flag, const char *v, double lo, double hi)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "artr-bench: bad value '%s' for %s (expected %g..%g)\n", v, flag, lo, hi);
        exit(2);
    }
    return (float)x;
}

int main(int argc, char **argv)
{
    const char *model = NULL, *draft = NULL, *prompt = "ROMEO:", *prompt_file = NULL;
    char *file_text = NULL;
    int n_ctx = 0, decode = 0, self_spec = 0, i;
    decode_opts op;
    artr_model *m = NULL, *dm = NULL;
    artr_error err;
    memset(&op, 0, sizeof op);
    op.n = 256;
    op.k = 4;
    op.window = 8;
    op.lookup_k = 8;
    op.ngram = 3;
    op.reps = 3;
    op.la_window = 4;
    op.la_ngram = 3;
    op.la_verify = 4;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--decode")) {
            decode = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            puts("usage: artr-bench -m MODEL [-t N] [-c N] [--kv f32|f16]\n"
                 "       artr-bench -m MODEL --decode [--draft FILE] [--self-spec L] [-p TEXT | -f FILE] [-n N] [-r ROUNDS]\n"
                 "                  [--temp T] [-k K] [-w W] [--lookup-k K] [--lookup-ngram N] [--draft-min K] [--draft-p-min P]\n"
                 "                  [--lookahead-window W] [--lookahead-ngram N] [--lookahead-verify G] [--draft-tree B]\n"
                 "                  [--only spec,jacobi,sjd,lookup,lookahead]");
            return 0;
        }
        if (!v) {
            fprintf(stderr, "artr-bench: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "-m")) model = v;
        else if (!strcmp(a, "--draft")) draft = v;
        else if (!strcmp(a, "-p")) prompt = v;
        else if (!strcmp(a, "-f")) prompt_file = v;
        else if (!strcmp(a, "-t")) op.n_threads = int_arg(a, v, 1, 512);
        else if (!strcmp(a, "-c")) n_ctx = int_arg(a, v, 8, 1 << 20);
        else if (!strcmp(a, "-n")) op.n = int_arg(a, v, 1, 1 << 20);
        else if (!strcmp(a, "-r")) op.reps = int_arg(a, v, 1, 100);
        else if (!strcmp(a, "-k")) op.k = int_arg(a, v, 1, 16);
        else if (!strcmp(a, "-w")) op.window = int_arg(a, v, 1, 16);
        else if (!strcmp(a, "--lookup-k")) op.lookup_k = int_arg(a, v, 1, 16);
        else if (!strcmp(a, "--lookup-ngram")) op.ngram = int_arg(a, v, 1, 16);
        else if (!strcmp(a, "--lookahead-window")) op.la_window = int_arg(a, v, 1, 32);
        else if (!strcmp(a, "--draft-tree")) op.branch = int_arg(a, v, 1, 8);
        else if (!strcmp(a, "--lookahead-ngram")) op.la_ngram = int_arg(a, v, 2, 8);
        else if (!strcmp(a, "--lookahead-verify")) op.la_verify = int_arg(a, v, 1, 32);
        else if (!strcmp(a, "--draft-min")) op.draft_min = int_arg(a, v, 0, 16);
        else if (!strcmp(a, "--draft-p-min")) op.p_min = float_arg(a, v, 0, 1);
        else if (!strcmp(a, "--self-spec")) self_spec = int_arg(a, v, 1, 4096);
        else if (!strcmp(a, "--temp")) op.temp = float_arg(a, v, 0, 100);
        else if (!strcmp(a, "--only")) {
            op.only = (strstr(v, "spec") ? 1 << HOW_SPEC : 0) | (strstr(v, "jacobi") ? 1 << HOW_JACOBI : 0) |
                      (strstr(v, "sjd") ? 1 << HOW_SJD : 0) | (strstr(v, "lookup") ? 1 << HOW_LOOKUP : 0) |
                      (strstr(v, "lookahead") ? 1 << HOW_LOOKAHEAD : 0);
            if (!op.only) {
                fprintf(stderr, "artr-bench: --only %s: expected a list of spec, jacobi, sjd, lookup, lookahead\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--kv") && (!strcmp(v, "f32") || !strcmp(v, "f16")))
            kv_type = !strcmp(v, "f16") ? ARTR_TYPE_F16 : ARTR_TYPE_F32;
        else if (!strcmp(a, "--kv")) {
            fprintf(stderr, "artr-bench: --kv %s: expected f32 or f16\n", v);
            return 2;
        } else {
            fprintf(stderr, "artr-bench: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (!model) {
        fprintf(stderr, "artr-bench: need -m MODEL\n");
        return 2;
    }
    if (prompt_file && !(prompt = file_text = slurp(prompt_file))) {
        fprintf(stderr, "artr-bench: cannot read %s\n", prompt_file);
        return 1;
    }
    if (artr_model_load_file(&m, model, NULL, &err) != ARTR_OK ||
        (draft && artr_model_load_file(&dm, draft, NULL, &err) != ARTR_OK)) {
        fprintf(stderr, "artr-bench: %s\n", err.msg);
        artr_model_free(m);
        free(file_text);
        return 1;
    }
    if (decode) bench_decode(m, dm, self_spec, prompt, &op);
    else bench_kernels(m, n_ctx ? n_ctx : (artr_model_config(m)->n_ctx_train < 1024 ? artr_model_config(m)->n_ctx_train : 1024), op.n_threads);
    artr_model_free(dm);
    artr_model_free(m);
    free(file_text);
    return 0;
}
