/* bench_tokenize: time artr_tokenize on 1 MB and 4 MB of text to show that it scales
   linearly, for each tokenizer family.

   usage: bench_tokenize [TEXT [MODEL.gguf ...]]    (make bench-tokenize; run from the repo root)
     TEXT   default ../shared/data/tinyshakespeare.txt, repeated to 4 MB
     MODEL  default tests/fixtures/tok_spm.gguf, tok_bpe.gguf and the tok_pre_*.gguf of each
            pre-tokenizer family (Llama 3, Qwen2, Qwen3.5, SmolLM, default), plus llama2.c's 32000-token
            ../shared/models/llama2-tokenizer.bin when it is there
   Prints, per tokenizer and size, the best of 3 runs: seconds, MB/s, ids, and the ratio
   of the 4 MB time to the 1 MB time (4.0 is linear). */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (char *)malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return p;
}

/* Best of 3 runs of tokenizing len bytes; the id count in *n. */
static double time_it(const artr_model *m, const char *text, size_t len, int32_t *ids, int *n)
{
    double best = 1e30;
    int r;
    for (r = 0; r < 3; r++) {
        artr_error err;
        double t0 = now(), t;
        if (artr_tokenize(m, text, len, 0, ids, (int)len + 3, n, &err) != ARTR_OK) {
            fprintf(stderr, "bench_tokenize: %s\n", err.msg);
            exit(1);
        }
        t = now() - t0;
        if (t < best) best = t;
    }
    return best;
}

static void bench(const char *name, const artr_model *m, const char *text, int32_t *ids)
{
    static const size_t sizes[2] = {1u << 20, 4u << 20};
    double t[2];
    int k, n;
    for (k = 0; k < 2; k++) {
        t[k] = time_it(m, text, sizes[k], ids, &n);
        printf("%-26s %d MB  %7.3f s  %7.1f MB/s  %8d ids\n", name, (int)(sizes[k] >> 20), t[k],
               (double)sizes[k] / (1 << 20) / (t[k] > 0 ? t[k] : 1e-9), n);
    }
    printf("%-26s 4 MB / 1 MB time: %.2f (4.00 is linear)\n", name, t[1] / (t[0] > 0 ? t[0] : 1e-9));
}

int main(int argc, char **argv)
{
    const char *text_path = argc > 1 ? argv[1] : "../shared/data/tinyshakespeare.txt";
    const size_t want = 4u << 20;
    size_t size, at;
    char *src = read_all(text_path, &size), *text;
    int32_t *ids;
    int i;
    if (!src || size == 0) {
        fprintf(stderr, "bench_tokenize: cannot read %s (pass a text file)\n", text_path);
        return 1;
    }
    text = (char *)malloc(want);
    ids = (int32_t *)malloc(sizeof(int32_t) * (want + 3));
    for (at = 0; at < want; at += size) memcpy(text + at, src, want - at < size ? want - at : size);
    printf("text: %s (%zu bytes) repeated to %zu bytes\n", text_path, size, want);
    if (argc > 2) {
        for (i = 2; i < argc; i++) {
            artr_model *m = NULL;
            artr_model_params p;
            artr_error err;
            memset(&p, 0, sizeof p);
            p.container = 1;
            if (artr_model_load_file(&m, argv[i], &p, &err) != ARTR_OK) {
                fprintf(stderr, "bench_tokenize: %s: %s\n", argv[i], err.msg);
                return 1;
            }
            bench(argv[i], m, text, ids);
            artr_model_free(m);
        }
    } else {
        static const char *const files[7] = {"tests/fixtures/tok_spm.gguf", "tests/fixtures/tok_bpe.gguf",
                                             "tests/fixtures/tok_pre_llama3.gguf", "tests/fixtures/tok_pre_qwen2.gguf",
                                             "tests/fixtures/tok_pre_qwen35.gguf", "tests/fixtures/tok_pre_smollm.gguf",
                                             "tests/fixtures/tok_pre_default.gguf"};
        static const char *const names[7] = {"SPM (1500, sentencepiece)", "BPE (1500, gpt2 regex)",
                                             "BPE (1240, llama-bpe)", "BPE (1200, qwen2)", "BPE (1200, qwen35)",
                                             "BPE (1200, smollm)", "BPE (1200, default)"};
        static const int32_t hdr[7] = {16, 40, 1, 4, 2, 32000, 8};
        size_t ck = 28 + 4 * (size_t)(32000 * 16 + (2 * 16 + 16 * 16 * 2 + 16 * 8 * 2 + 3 * 16 * 40) + 16 + 8 * 4);
        unsigned char *ckpt;
        FILE *f;
        for (i = 0; i < 7; i++) {
            artr_model *m = NULL;
            artr_model_params p;
            artr_error err;
            memset(&p, 0, sizeof p);
            p.container = 1;
            if (artr_model_load_file(&m, files[i], &p, &err) != ARTR_OK) {
                fprintf(stderr, "bench_tokenize: %s: %s\n", files[i], err.msg);
                return 1;
            }
            bench(names[i], m, text, ids);
            artr_model_free(m);
        }
        /* llama2.c: a one-layer checkpoint made here, with the real Llama 2 tokenizer.bin */
        if ((f = fopen("../shared/models/llama2-tokenizer.bin", "rb")) != NULL) {
            artr_model *m = NULL;
            artr_model_params p;
            artr_error err;
            fclose(f);
            ckpt = (unsigned char *)calloc(1, ck);
            memcpy(ckpt, hdr, sizeof hdr);
            memset(&p, 0, sizeof p);
            p.vocab_path = "../shared/models/llama2-tokenizer.bin";
            if (artr_model_load_memory(&m, ckpt, ck, &p, &err) != ARTR_OK) {
                fprintf(stderr, "bench_tokenize: llama2 tokenizer: %s\n", err.msg);
                return 1;
            }
            bench("llama2.c (32000, Llama 2)", m, text, ids);
            artr_model_free(m);
            free(ckpt);
        } else {
            printf("llama2.c: skipped, ../shared/models/llama2-tokenizer.bin not found\n");
        }
    }
    free(ids);
    free(text);
    free(src);
    return 0;
}
