/* Fuzz target for artr's loaders, and a replay driver.

   libFuzzer:  make fuzz   (clang -fsanitize=fuzzer,address,undefined -DARTR_FUZZ_LIBFUZZER)
   replay:     build/fuzz_replay FILE...   (plain main(), -DARTR_FUZZ_REPLAY; runs in make test)
   The test suite includes this file too and calls artr_fuzz_one directly.

   Each input is loaded four ways (model / container, with and without no_copy). Beyond
   "no crash, no over-read" (the sanitizers' job) it checks the loader's own promises:
   a status is one of the documented codes and err says the same; a failed load leaves
   *out NULL and a non-empty message; a load that succeeds also succeeds placed in a
   buffer of exactly artr_model_bytes; every tensor's bytes and every metadata value of
   a loaded model can be read; its tokenizer gives ids in range and decodes them. */
#ifndef ARTR_IMPLEMENTATION
#define ARTR_IMPLEMENTATION
#endif
#include "../artr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef ARTR_FUZZ_REPLAY
#include "fuzz_replay.h"
#endif

static int artr_fuzz_valid_status(artr_status s)
{
    return s <= ARTR_OK && s >= ARTR_E_SPACE;
}

/* Read everything a caller can reach through the public API. */
static unsigned artr_fuzz_touch(const artr_model *m)
{
    unsigned sum = 0;
    int i, type, et;
    uint64_t n, j;
    float buf[32];
    for (i = 0; i < artr_model_tensor_count(m); i++) {
        artr_tensor t;
        size_t k;
        artr_model_tensor_at(m, i, &t, NULL);
        for (k = 0; k < t.n_bytes; k++) sum += ((const unsigned char *)t.data)[k];
        for (k = 0; k < t.name_len; k++) sum += (unsigned char)t.name[k];
        if (artr_tensor_to_f32(&t, 0, t.type == ARTR_TYPE_Q8_0 || t.type == ARTR_TYPE_Q4_0 ? 32 : 1, buf, NULL) == ARTR_OK)
            sum += buf[0] == buf[0];
    }
    for (i = 0; i < artr_model_meta_count(m); i++) {
        size_t len, k;
        const char *key = artr_model_meta_key(m, i, &len);
        char name[ARTR_MAX_NAME + 1];
        int64_t iv;
        double fv;
        const char *s;
        if (!key || len > ARTR_MAX_NAME) return sum + 1000000;
        memcpy(name, key, len);
        name[len] = 0;
        if (memchr(name, 0, len)) continue; /* a key with a NUL cannot be asked for by name */
        if (artr_model_meta_type(m, name, &type, &et, &n, NULL) != ARTR_OK) continue;
        sum += (unsigned)artr_model_meta_int(m, name, &iv, NULL);
        sum += (unsigned)artr_model_meta_float(m, name, &fv, NULL);
        if (artr_model_meta_str(m, name, &s, &len, NULL) == ARTR_OK)
            for (k = 0; k < len; k++) sum += (unsigned char)s[k];
        if (type == ARTR_META_ARRAY && n > 0) {
            uint64_t idx[2];
            idx[0] = 0;
            idx[1] = n - 1;
            for (j = 0; j < 2; j++) {
                sum += (unsigned)artr_model_meta_array_int(m, name, idx[j], &iv, NULL);
                sum += (unsigned)artr_model_meta_array_float(m, name, idx[j], &fv, NULL);
                if (artr_model_meta_array_str(m, name, idx[j], &s, &len, NULL) == ARTR_OK)
                    for (k = 0; k < len; k++) sum += (unsigned char)s[k];
            }
        }
    }
    return sum;
}

/* The tokenizer over a possibly corrupt vocabulary: ids in range, every id decodes.
   Returns 1 if a promise is broken. */
static int artr_fuzz_tokenize(const artr_model *m)
{
    static const char text[] = "Hi <s> the\xe6\x97\xa5 caf\xc3\xa9 <|endoftext|>\xff\x80 12  \n";
    const artr_vocab_info *vi = artr_model_vocab(m);
    int32_t ids[128];
    int n = 0, k;
    artr_detok d;
    char out[256];
    size_t len;
    artr_status st = artr_tokenize(m, text, sizeof text - 1, ARTR_TOKENIZE_BOS | ARTR_TOKENIZE_SPECIAL, ids, 128, &n, NULL);
    if (st != ARTR_OK) return !(st == ARTR_E_UNSUPPORTED || st == ARTR_E_ARG || st == ARTR_E_SPACE);
    memset(&d, 0, sizeof d);
    for (k = 0; k < n; k++) {
        if (ids[k] < 0 || ids[k] >= vi->n_vocab) return 1;
        st = artr_detok_push(m, &d, ids[k], out, sizeof out, &len, NULL);
        if (st != ARTR_OK && st != ARTR_E_SPACE) return 1;
    }
    return artr_detok_flush(m, &d, out, sizeof out, &len, NULL) != ARTR_OK;
}

/* Load data four ways; returns the number of broken promises (0 = fine). */
static int artr_fuzz_one(const unsigned char *data, size_t size, const void *vocab, size_t vocab_size)
{
    int mode, broken = 0;
    for (mode = 0; mode < 4; mode++) {
        artr_model_params p;
        artr_model *m = (artr_model *)&p; /* must be reset to NULL on failure */
        artr_error err;
        artr_status st_bytes, st;
        size_t bytes = 0;
        memset(&p, 0, sizeof p);
        p.container = mode & 1;
        p.no_copy = (mode >> 1) & 1;
        p.vocab = vocab;
        p.vocab_size = vocab_size;
        memset(&err, 0x55, sizeof err);
        st_bytes = artr_model_bytes(data, size, &p, &bytes, &err);
        if (!artr_fuzz_valid_status(st_bytes) || err.status != st_bytes || !memchr(err.msg, 0, sizeof err.msg))
            broken++;
        memset(&err, 0x55, sizeof err);
        st = artr_model_load_memory(&m, data, size, &p, &err);
        if (!artr_fuzz_valid_status(st) || err.status != st || !memchr(err.msg, 0, sizeof err.msg)) broken++;
        if (st != ARTR_OK) {
            if (m != NULL || err.msg[0] == 0) broken++;
            continue;
        }
        if (!m || st_bytes != ARTR_OK) {
            broken++;
            continue;
        }
        {
            volatile unsigned sink = artr_fuzz_touch(m);
            (void)sink;
        }
        broken += artr_fuzz_tokenize(m);
        artr_model_free(m);
        {
            unsigned char *mem = (unsigned char *)malloc(bytes);
            m = NULL;
            p.mem = mem;
            p.mem_size = bytes;
            if (!mem || artr_model_load_memory(&m, data, size, &p, &err) != ARTR_OK) broken++;
            artr_model_free(m);
            free(mem);
        }
    }
    return broken;
}

#ifdef ARTR_FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A leading 'V' makes the rest a llama2.c tokenizer.bin for a fixed tiny checkpoint,
       so the fuzzer reaches the vocabulary parser too. */
    if (size > 0 && data[0] == 'V') {
        /* dim 4, hidden 4, 1 layer, 2 heads, 2 kv heads, vocab 8, seq_len 2 */
        static unsigned char ckpt[28 + 4 * (8 * 4 + (2 * 4 + 2 * 4 * 4 + 2 * 4 * 4 + 3 * 4 * 4) + 4 + 2 * 2)];
        int32_t hdr[7] = {4, 4, 1, 2, 2, 8, 2};
        memcpy(ckpt, hdr, sizeof hdr);
        if (artr_fuzz_one(ckpt, sizeof ckpt, data + 1, size - 1)) abort();
        return 0;
    }
    if (artr_fuzz_one(data, size, NULL, 0)) abort();
    return 0;
}
#endif

#ifdef ARTR_FUZZ_REPLAY
int main(int argc, char **argv)
{
    int i, bad = 0;
    for (i = 1; i < argc; i++) {
        size_t n;
        unsigned char *buf = fuzz_read_file("fuzz_replay", argv[i], &n);
        if (!buf) return 2;
        if (artr_fuzz_one(buf, n, NULL, 0)) {
            printf("fuzz_replay: %s breaks a loader promise\n", argv[i]);
            bad++;
        }
        free(buf);
    }
    printf("fuzz_replay: %d inputs, %d broke a promise\n", argc - 1, bad);
    return bad != 0;
}
#endif
