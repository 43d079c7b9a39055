/* artr on a microcontroller: greedy text generation on a Cortex-M4 with no allocator and
   no file system. The model is a const array in flash (made by artr-bin2c, aligned as its
   GGUF asks, used in place: params.no_copy refuses any copy to RAM). The model's tables
   and one context live in one static buffer, `arena`, whose size is fixed at compile time
   (FW_ARENA_BYTES) and checked against artr_model_bytes + artr_ctx_bytes at run time.

   usage: firmware [N [PROMPT WORDS...]]   generate N tokens (default 32) after the prompt
                                           (default "ROMEO:"); the words are joined by spaces

   The same file builds for the board (FW_TARGET: startup.c, semihosting printf, run under
   QEMU) and for the host; `make test-firmware` runs both and compares stdout byte for
   byte. stdout: the prompt's ids, the generated ids, the text. stderr (not compared):
   arena use, time, a hash of every logit's bits, the smallest top-1/top-2 logit margin
   and, on the board, the stack high-water mark.

   Build (see the Makefile's test-firmware): FW_MODEL_C names the artr-bin2c output, which
   defines `fw_model` and `fw_model_len`. */
#define ARTR_NO_STDIO
#define ARTR_NO_MALLOC
#define ARTR_IMPLEMENTATION
#ifdef FW_SAME_MATH
#include "same_math.h" /* expf, sinf, cosf from + - * / on both builds: bit-identical logits */
#endif
#include "../../artr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FW_MODEL_C
#define FW_MODEL_C "fw_model.c"
#endif
#include FW_MODEL_C

#ifndef FW_ARENA_BYTES
#define FW_ARENA_BYTES (384 * 1024) /* see README, "Firmware": fits a 1.4M-parameter model */
#endif
#define FW_N_CTX 64   /* positions: prompt + generated tokens must fit */
#define FW_N_BATCH 8  /* tokens per forward call: the prompt goes in chunks of this */
#define FW_MAX_PROMPT 48
#define FW_MAX_PROMPT_BYTES 256
#define FW_PIECE_MAX 64 /* detokenizer buffer: at least the vocabulary's max_piece_bytes */

#ifdef FW_TARGET
size_t stack_high_water(void); /* startup.c */
size_t heap_used(void);
#endif

/* Model tables first, the context after them. Any alignment will do: the *_bytes counts
   include the slack to align inside the buffer. */
static unsigned char arena[FW_ARENA_BYTES];

static void put_text(const artr_model *m, artr_detok *d, int32_t id)
{
    char buf[FW_PIECE_MAX];
    size_t n = 0;
    artr_status st = artr_detok_push(m, d, id, buf, sizeof buf, &n, NULL);
    if (st == ARTR_OK) fwrite(buf, 1, n, stdout);
}

/* FNV-1a over the bits of n floats: equal hashes mean bit-identical logits. */
static uint32_t hash_floats(uint32_t h, const float *x, int n)
{
    int i, b;
    for (i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        for (b = 0; b < 4; b++) {
            h ^= (u >> (8 * b)) & 0xffu;
            h *= 16777619u;
        }
    }
    return h;
}

/* Difference between the largest and second-largest logit: how far greedy is from a tie. */
static float top2_margin(const float *x, int n)
{
    float a = -INFINITY, b = -INFINITY;
    int i;
    for (i = 0; i < n; i++) {
        if (x[i] > a) {
            b = a;
            a = x[i];
        } else if (x[i] > b) {
            b = x[i];
        }
    }
    return a - b;
}

int main(int argc, char **argv)
{
    artr_model_params mp;
    artr_ctx_params cp;
    artr_model *m = NULL;
    artr_ctx *c = NULL;
    artr_error err;
    artr_sampler s;
    artr_detok d;
    const artr_vocab_info *vi;
    size_t model_bytes = 0, ctx_bytes = 0, len = 0;
    char prompt[FW_MAX_PROMPT_BYTES] = "ROMEO:";
    int32_t ids[FW_MAX_PROMPT], gen[FW_N_CTX], tok = 0;
    int n_gen = 32, n_prompt = 0, i, k, rc = 1;
    uint32_t hash = 2166136261u;
    float margin = INFINITY;
    clock_t t0 = clock();

    if (argc > 1) n_gen = atoi(argv[1]);
    if (argc > 2) {
        prompt[0] = '\0';
        for (i = 2; i < argc; i++) {
            size_t w = strlen(argv[i]);
            if (len + w + 2 > sizeof prompt) {
                fprintf(stderr, "firmware: prompt longer than %d bytes\n", FW_MAX_PROMPT_BYTES - 1);
                return 2;
            }
            if (i > 2) prompt[len++] = ' ';
            memcpy(prompt + len, argv[i], w + 1);
            len += w;
        }
    }
    len = strlen(prompt);
    if (n_gen < 1) {
        fprintf(stderr, "firmware: N must be at least 1\n");
        return 2;
    }

    /* The model: its tables go at the start of the arena, its weights stay in flash. */
    memset(&mp, 0, sizeof mp);
    mp.no_copy = 1;
    if (artr_model_bytes(fw_model, fw_model_len, &mp, &model_bytes, &err) != ARTR_OK) {
        fprintf(stderr, "firmware: model: %s\n", err.msg);
        return 1;
    }
    if (model_bytes > sizeof arena) {
        fprintf(stderr, "firmware: arena too small: the model's tables need %lu bytes, arena is %lu "
                "(rebuild with FW_ARENA_BYTES, make's FW_ARENA, of at least that)\n", (unsigned long)model_bytes,
                (unsigned long)sizeof arena);
        return 1;
    }
    mp.mem = arena;
    mp.mem_size = model_bytes;
    if (artr_model_load_memory(&m, fw_model, fw_model_len, &mp, &err) != ARTR_OK) {
        fprintf(stderr, "firmware: model: %s\n", err.msg);
        return 1;
    }

    /* One context in the rest of the arena. */
    memset(&cp, 0, sizeof cp);
    cp.n_ctx = FW_N_CTX;
    cp.n_batch = FW_N_BATCH;
    cp.n_draft = 1; /* plain greedy steps only: no room kept for draft windows */
    if (artr_ctx_bytes(m, &cp, &ctx_bytes, &err) != ARTR_OK) {
        fprintf(stderr, "firmware: context: %s\n", err.msg);
        goto done;
    }
    if (ctx_bytes > sizeof arena - model_bytes) {
        fprintf(stderr, "firmware: arena too small: model tables %lu + context %lu bytes = %lu, arena is %lu "
                "(rebuild with FW_ARENA_BYTES, make's FW_ARENA, of at least the sum)\n", (unsigned long)model_bytes,
                (unsigned long)ctx_bytes, (unsigned long)(model_bytes + ctx_bytes), (unsigned long)sizeof arena);
        goto done;
    }
    cp.mem = arena + model_bytes;
    cp.mem_size = ctx_bytes;
    if (artr_ctx_create(&c, m, &cp, &err) != ARTR_OK) {
        fprintf(stderr, "firmware: context: %s\n", err.msg);
        goto done;
    }

    vi = artr_model_vocab(m);
    if (vi->max_piece_bytes > FW_PIECE_MAX) {
        fprintf(stderr, "firmware: a token's text can be %d bytes, FW_PIECE_MAX is %d\n", vi->max_piece_bytes,
                FW_PIECE_MAX);
        goto done;
    }
    if (artr_tokenize(m, prompt, len, vi->add_bos ? ARTR_TOKENIZE_BOS : 0, ids, FW_MAX_PROMPT, &n_prompt,
                      &err) != ARTR_OK) {
        fprintf(stderr, "firmware: prompt: %s\n", err.msg);
        goto done;
    }
    if (n_prompt + n_gen > FW_N_CTX) {
        fprintf(stderr, "firmware: %d prompt ids + %d tokens do not fit n_ctx %d\n", n_prompt, n_gen, FW_N_CTX);
        goto done;
    }
    printf("prompt (%d ids):", n_prompt);
    for (i = 0; i < n_prompt; i++) printf(" %ld", (long)ids[i]);
    printf("\n");

    /* Prefill in chunks of n_batch (batch equals steps: the same logits as one call). */
    for (i = 0; i < n_prompt; i += k) {
        k = n_prompt - i < FW_N_BATCH ? n_prompt - i : FW_N_BATCH;
        if (artr_forward(c, ids + i, k, &err) != ARTR_OK) {
            fprintf(stderr, "firmware: forward: %s\n", err.msg);
            goto done;
        }
    }

    /* Greedy: the zeroed sampler is argmax, ties to the lowest id. */
    memset(&s, 0, sizeof s);
    memset(&d, 0, sizeof d);
    printf("generated:");
    for (i = 0; i < n_gen; i++) {
        const float *lg = artr_logits(c, -1);
        float mg = top2_margin(lg, artr_model_config(m)->n_vocab);
        hash = hash_floats(hash, lg, artr_model_config(m)->n_vocab);
        if (mg < margin) margin = mg;
        if (artr_sample(c, &s, -1, &tok, &err) != ARTR_OK) {
            fprintf(stderr, "\nfirmware: sample: %s\n", err.msg);
            goto done;
        }
        gen[i] = tok;
        printf(" %ld", (long)tok);
        if (i + 1 < n_gen && artr_forward(c, &tok, 1, &err) != ARTR_OK) {
            fprintf(stderr, "\nfirmware: forward: %s\n", err.msg);
            goto done;
        }
    }
    printf("\n");

    /* The text: prompt and continuation through the streaming detokenizer. */
    printf("text: ");
    for (i = 0; i < n_prompt; i++) put_text(m, &d, ids[i]);
    for (i = 0; i < n_gen; i++) put_text(m, &d, gen[i]);
    {
        char tail[8];
        size_t n = 0;
        if (artr_detok_flush(m, &d, tail, sizeof tail, &n, NULL) == ARTR_OK) fwrite(tail, 1, n, stdout);
    }
    printf("\n");
    fflush(stdout);

    fprintf(stderr, "arena: %lu bytes: model tables %lu + context %lu (n_ctx %d, n_batch %d), %lu free\n",
            (unsigned long)sizeof arena, (unsigned long)model_bytes, (unsigned long)ctx_bytes, FW_N_CTX,
            FW_N_BATCH, (unsigned long)(sizeof arena - model_bytes - ctx_bytes));
    fprintf(stderr, "model: %lu bytes in place at %p (flash), weights copied: none (no_copy)\n",
            (unsigned long)fw_model_len, (const void *)fw_model);
    /* Integers only: newlib-nano's printf has no %f (it would cost flash to link it). */
    fprintf(stderr, "logits: hash %08lx over %d rows, smallest top-1/top-2 margin %ld.%06ld\n",
            (unsigned long)hash, n_gen, (long)margin, (long)((margin - (float)(long)margin) * 1e6f));
    fprintf(stderr, "time: %ld ms for %d prompt ids + %d tokens (clock(); under QEMU the host's CPU time)\n",
            (long)((clock() - t0) * 1000 / CLOCKS_PER_SEC), n_prompt, n_gen);
#ifdef FW_TARGET
    fprintf(stderr, "stack: high-water mark %lu bytes; heap: %lu bytes (newlib's stdio buffers)\n",
            (unsigned long)stack_high_water(), (unsigned long)heap_used());
#endif
    rc = 0;
done:
    artr_ctx_free(c);
    artr_model_free(m);
    return rc;
}
