/* artr-simple [MODEL [PROMPT]]   (default: models/shakespeare.gguf "ROMEO:")

   The whole generation loop, public API only, plain C99: load a model, make a context,
   tokenize the prompt, prefill it in one forward pass, then sample up to N_PREDICT tokens
   one artr_step at a time and stream their text. Every status is checked; a failure
   prints err.msg, frees everything and exits 1. */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_PREDICT 200

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "models/shakespeare.gguf";
    const char *prompt = argc > 2 ? argv[2] : "ROMEO:";
    artr_model *m = NULL;
    artr_ctx *c = NULL;
    int32_t *ids = NULL, tok;
    char *buf = NULL;
    size_t cap, n;
    int n_ids = 0, n_out, i, flags, rc = 1;
    const artr_vocab_info *vi;
    artr_sampler s;
    artr_detok d;
    artr_status st;
    artr_error err;

    if (artr_model_load_file(&m, path, NULL, &err) != ARTR_OK ||
        artr_ctx_create(&c, m, NULL, &err) != ARTR_OK) /* NULL params: the model's n_ctx */
        goto done;
    vi = artr_model_vocab(m);
    /* Count the ids (max_out 0: ARTR_E_SPACE and the count), then fill them. BOS first if
       the model expects it. */
    flags = vi->add_bos ? ARTR_TOKENIZE_BOS : 0;
    st = artr_tokenize(m, prompt, strlen(prompt), flags, NULL, 0, &n_ids, &err);
    if (st != ARTR_OK && st != ARTR_E_SPACE) goto done;
    cap = (size_t)vi->max_piece_bytes + 4; /* enough for any push, and for the flush */
    ids = (int32_t *)malloc(((size_t)n_ids + 1) * sizeof *ids);
    buf = (char *)malloc(cap);
    if (!ids || !buf) {
        strcpy(err.msg, "out of memory");
        goto done;
    }
    if (artr_tokenize(m, prompt, strlen(prompt), flags, ids, n_ids, &n_ids, &err) != ARTR_OK ||
        artr_forward(c, ids, n_ids, &err) != ARTR_OK) /* the whole prompt in one pass */
        goto done;
    memset(&d, 0, sizeof d);
    for (i = 0; i < n_ids; i++) { /* echo the prompt as the model reads it */
        if (artr_detok_push(m, &d, ids[i], buf, cap, &n, &err) != ARTR_OK) goto done;
        fwrite(buf, 1, n, stdout);
    }

    memset(&s, 0, sizeof s); /* all zero would be greedy */
    s.temperature = 0.8f;
    s.top_p = 0.95f;
    s.rng = 42; /* a fixed seed: the same text on every run */
    for (i = 0; i < N_PREDICT; i++) {
        st = artr_step(c, &s, &tok, 1, &n_out, &err); /* sample one token and append it */
        if (st == ARTR_E_FULL) break;                 /* the context is full: stop */
        if (st != ARTR_OK) goto done;
        if (tok == vi->eos) break; /* end of sequence (eos is -1 if the model has none) */
        /* its text, once complete: a UTF-8 character split over tokens waits */
        if (artr_detok_push(m, &d, tok, buf, cap, &n, &err) != ARTR_OK) goto done;
        fwrite(buf, 1, n, stdout);
        fflush(stdout);
    }
    if (artr_detok_flush(m, &d, buf, cap, &n, &err) != ARTR_OK) goto done;
    fwrite(buf, 1, n, stdout);
    putchar('\n');
    rc = 0;
done:
    if (rc) fprintf(stderr, "artr-simple: %s\n", err.msg);
    free(buf);
    free(ids);
    artr_ctx_free(c);
    artr_model_free(m);
    return rc;
}
