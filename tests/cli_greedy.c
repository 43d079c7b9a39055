/* The greedy text the library API gives for a prompt, printed exactly as artr-text
   prints it (prompt echoed, then the continuation, then a newline): tests/test_cli.sh
   compares the two byte for byte. Plain artr_forward + argmax, no decoding steps.

   usage: cli_greedy MODEL PROMPT N */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(const artr_model *m, artr_detok *d, int32_t id)
{
    char buf[512];
    size_t n = 0;
    if (artr_detok_push(m, d, id, buf, sizeof buf, &n, NULL) == ARTR_OK) fwrite(buf, 1, n, stdout);
}

int main(int argc, char **argv)
{
    artr_model *m = NULL;
    artr_ctx *c = NULL;
    artr_error err;
    artr_detok d;
    int32_t ids[4096], tok;
    int n = 0, i, n_gen, n_vocab;
    size_t k;
    char tail[8];
    if (argc != 4) return 2;
    n_gen = atoi(argv[3]);
    if (artr_model_load_file(&m, argv[1], NULL, &err) != ARTR_OK || artr_ctx_create(&c, m, NULL, &err) != ARTR_OK ||
        artr_tokenize(m, argv[2], strlen(argv[2]), ARTR_TOKENIZE_BOS, ids, 4096, &n, &err) != ARTR_OK) {
        fprintf(stderr, "cli_greedy: %s\n", err.msg);
        return 1;
    }
    n_vocab = artr_model_config(m)->n_vocab;
    memset(&d, 0, sizeof d);
    for (i = 0; i < n; i++) put(m, &d, ids[i]);
    if (artr_forward(c, ids, n, &err) != ARTR_OK) return 1;
    for (i = 0; i < n_gen; i++) {
        const float *lg = artr_logits(c, -1);
        int v, best = 0;
        for (v = 1; v < n_vocab; v++)
            if (lg[v] > lg[best]) best = v;
        tok = best;
        if (tok == artr_model_vocab(m)->eos) break;
        put(m, &d, tok);
        if (i + 1 < n_gen && artr_forward(c, &tok, 1, &err) != ARTR_OK) return 1;
    }
    k = 0;
    artr_detok_flush(m, &d, tail, sizeof tail, &k, NULL);
    fwrite(tail, 1, k, stdout);
    putchar('\n');
    artr_ctx_free(c);
    artr_model_free(m);
    return 0;
}
