/* artr-stream-eval: per-token loss of one long stream with a full cache, a bounded cache
   with attention sinks (StreamingLLM, Xiao et al. 2023) and a plain sliding window, all
   in one run. The stream is fed one token at a time, as generation would feed it.

   artr-stream-eval -m MODEL -f TEXT [-c CACHE] [--sink N] [-n TOKENS] */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -log p(next) from a logits row. */
static double nll(const float *lg, int n_vocab, int32_t next)
{
    double mx = lg[0], sum = 0;
    int v;
    for (v = 1; v < n_vocab; v++)
        if (lg[v] > mx) mx = lg[v];
    for (v = 0; v < n_vocab; v++) sum += exp((double)lg[v] - mx);
    return log(sum) + mx - lg[next];
}

/* Mean loss over predictions of tokens [from, n) and over all of them. */
static int stream(const artr_model *m, const int32_t *ids, int n, int n_ctx, int n_sink, int bounded, int from,
                  double *late, double *all)
{
    artr_ctx_params cp;
    artr_ctx *c = NULL;
    artr_error err;
    double s_late = 0, s_all = 0;
    int i, n_vocab = artr_model_config(m)->n_vocab;
    memset(&cp, 0, sizeof cp);
    cp.n_ctx = n_ctx;
    cp.n_batch = 1;
    cp.n_sink = n_sink;
    cp.bounded = bounded;
    if (artr_ctx_create(&c, m, &cp, &err) != ARTR_OK) {
        fprintf(stderr, "artr-stream-eval: %s\n", err.msg);
        return 0;
    }
    for (i = 0; i + 1 < n; i++) {
        double l;
        if (artr_forward(c, ids + i, 1, &err) != ARTR_OK) {
            fprintf(stderr, "artr-stream-eval: token %d: %s\n", i, err.msg);
            artr_ctx_free(c);
            return 0;
        }
        l = nll(artr_logits(c, -1), n_vocab, ids[i + 1]);
        s_all += l;
        if (i + 1 >= from) s_late += l;
    }
    *late = s_late / (double)(n - from);
    *all = s_all / (double)(n - 1);
    artr_ctx_free(c);
    return 1;
}

int main(int argc, char **argv)
{
    const char *model = NULL, *file = NULL;
    int cache = 128, sink = 4, n_max = 2048, i, n = 0;
    artr_model *m = NULL;
    artr_error err;
    FILE *f;
    char *text;
    long len;
    int32_t *ids;
    double late[3], all[3];
    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-m")) model = argv[i + 1];
        else if (!strcmp(argv[i], "-f")) file = argv[i + 1];
        else if (!strcmp(argv[i], "-c")) cache = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--sink")) sink = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-n")) n_max = atoi(argv[i + 1]);
        else break;
    }
    if (i != argc || !model || !file || cache < 16 || sink < 1 || sink >= cache / 2 || n_max <= cache) {
        fprintf(stderr, "usage: artr-stream-eval -m MODEL -f TEXT [-c CACHE >= 16] [--sink N < CACHE/2] [-n TOKENS > CACHE]\n");
        return 2;
    }
    if (artr_model_load_file(&m, model, NULL, &err) != ARTR_OK) {
        fprintf(stderr, "artr-stream-eval: %s\n", err.msg);
        return 1;
    }
    f = fopen(file, "rb");
    if (!f) {
        perror(file);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (len > 64L * n_max) len = 64L * n_max; /* plenty of text for n_max tokens */
    text = (char *)malloc((size_t)len + 1);
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "artr-stream-eval: cannot read %s\n", file);
        return 1;
    }
    fclose(f);
    ids = (int32_t *)malloc((size_t)(2 * len + 3) * sizeof(int32_t));
    if (!ids || (artr_tokenize(m, text, (size_t)len, ARTR_TOKENIZE_BOS, ids, (int)(2 * len + 3), &n, &err) != ARTR_OK)) {
        fprintf(stderr, "artr-stream-eval: cannot tokenize: %s\n", err.msg);
        return 1;
    }
    if (n > n_max) n = n_max;
    if (n <= cache) {
        fprintf(stderr, "artr-stream-eval: only %d tokens; need more than the cache (%d)\n", n, cache);
        return 1;
    }
    printf("%d tokens of %s; a cache of %d positions; model trained on %d\n", n, file, cache,
           artr_model_config(m)->n_ctx_train);
    if (!stream(m, ids, n, n, 0, 0, cache, &late[0], &all[0]) ||
        !stream(m, ids, n, cache, sink, 1, cache, &late[1], &all[1]) ||
        !stream(m, ids, n, cache, 0, 1, cache, &late[2], &all[2]))
        return 1;
    printf("%-34s %12s %12s\n", "cache", "loss after", "loss, all");
    printf("%-34s %12s %12s\n", "", "the cache", "tokens");
    printf("full (%5d positions)              %12.4f %12.4f\n", n, late[0], all[0]);
    printf("attention sinks (%d) + window       %12.4f %12.4f\n", sink, late[1], all[1]);
    printf("sliding window, no sinks           %12.4f %12.4f\n", late[2], all[2]);
    free(ids);
    free(text);
    artr_model_free(m);
    return 0;
}
