/* Fuzz target for artr's tokenizer, and a replay driver.

   libFuzzer:  make fuzz   (clang -fsanitize=fuzzer,address,undefined -DARTR_FUZZ_LIBFUZZER)
   replay:     build/fuzz_tokenize_replay FILE...   (-DARTR_FUZZ_REPLAY; runs in make test)
   Run from the repository root: the vocabularies are read once from tests/fixtures.

   Input: byte 0 picks a vocabulary (SentencePiece, byte-level BPE, each pre-tokenizer
   family, Gemma), byte 1 the flags (BOS, EOS, SPECIAL, NO_SPACE_PREFIX) and byte 2 the
   size of a too-small id buffer; the rest is the text. Checked: ids in range; a buffer
   too small gives ARTR_E_SPACE, the same count and the same first ids; every id has a
   piece and streams back through artr_detok_push within max_piece_bytes (one byte less
   than needed is ARTR_E_SPACE, nothing changed); the text comes back exactly where
   artr_tokenize promises it (no space prefix dropped by the flags, no "▁" in SPM text,
   special tokens written back with ARTR_DETOK_SPECIAL). Time is bounded by -timeout. */
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

#define ARTR_FUZZ_MAX_TEXT 8192
#define ARTR_FUZZ_MAX_IDS (4 * ARTR_FUZZ_MAX_TEXT + 8)

static const char *const artr_fuzz_vocab_files[] = {
    "tests/fixtures/tok_spm.gguf", "tests/fixtures/tok_bpe.gguf", "tests/fixtures/tok_gemma.gguf",
    "tests/fixtures/tok_pre_default.gguf", "tests/fixtures/tok_pre_llama3.gguf",
    "tests/fixtures/tok_pre_qwen2.gguf", "tests/fixtures/tok_pre_qwen35.gguf",
    "tests/fixtures/tok_pre_smollm.gguf"};
#define ARTR_FUZZ_N_VOCAB ((int)(sizeof artr_fuzz_vocab_files / sizeof artr_fuzz_vocab_files[0]))
static artr_model *artr_fuzz_vocabs[ARTR_FUZZ_N_VOCAB];

static int artr_fuzz_tok_init(void)
{
    int i;
    for (i = 0; i < ARTR_FUZZ_N_VOCAB; i++) {
        artr_model_params p;
        artr_error err;
        memset(&p, 0, sizeof p);
        p.container = 1; /* vocabulary-only GGUFs */
        if (artr_fuzz_vocabs[i]) continue;
        if (artr_model_load_file(&artr_fuzz_vocabs[i], artr_fuzz_vocab_files[i], &p, &err) != ARTR_OK) {
            fprintf(stderr, "fuzz_tokenize: %s: %s (run from the repository root)\n", artr_fuzz_vocab_files[i], err.msg);
            return 1;
        }
    }
    return 0;
}

static int32_t artr_fuzz_ids[ARTR_FUZZ_MAX_IDS], artr_fuzz_small[ARTR_FUZZ_MAX_IDS];
static char artr_fuzz_back[4 * ARTR_FUZZ_MAX_IDS + 64];

static int artr_fuzz_has(const unsigned char *s, size_t n, const char *w)
{
    size_t k, m = strlen(w);
    for (k = 0; k + m <= n; k++)
        if (!memcmp(s + k, w, m)) return 1;
    return 0;
}

/* Returns 1 if a promise is broken. */
static int artr_fuzz_tok_one(const unsigned char *data, size_t size)
{
    const artr_model *m;
    const artr_vocab_info *vi;
    const unsigned char *text;
    size_t len, at = 0, k;
    int flags, tflags = 0, n = -1, n2 = -1, small, i, spm, exact;
    artr_status st;
    artr_detok d;
    if (size < 3) return 0;
    m = artr_fuzz_vocabs[data[0] % ARTR_FUZZ_N_VOCAB];
    vi = artr_model_vocab(m);
    flags = data[1];
    text = data + 3;
    len = size - 3;
    if (len > ARTR_FUZZ_MAX_TEXT) len = ARTR_FUZZ_MAX_TEXT;
    if (flags & 1) tflags |= ARTR_TOKENIZE_BOS;
    if (flags & 2) tflags |= ARTR_TOKENIZE_EOS;
    if (flags & 4) tflags |= ARTR_TOKENIZE_SPECIAL;
    if (flags & 8) tflags |= ARTR_TOKENIZE_NO_SPACE_PREFIX;
    st = artr_tokenize(m, (const char *)text, len, tflags, artr_fuzz_ids, ARTR_FUZZ_MAX_IDS, &n, NULL);
    if (st != ARTR_OK || n < 0 || n > (int)(4 * len + 5 + 3)) return 1;
    for (i = 0; i < n; i++)
        if (artr_fuzz_ids[i] < 0 || artr_fuzz_ids[i] >= vi->n_vocab) return 1;
    /* too small: ARTR_E_SPACE, the full count, the first ids, nothing past them */
    small = n > 0 ? data[2] % n : 0;
    memset(artr_fuzz_small, 0x7f, sizeof(int32_t) * (size_t)(small + 1));
    st = artr_tokenize(m, (const char *)text, len, tflags, artr_fuzz_small, small, &n2, NULL);
    if (n > 0 && (st != ARTR_E_SPACE || n2 != n)) return 1;
    if (memcmp(artr_fuzz_small, artr_fuzz_ids, sizeof(int32_t) * (size_t)small)) return 1;
    if (artr_fuzz_small[small] != 0x7f7f7f7f) return 1;
    /* back to text, one id at a time */
    memset(&d, 0, sizeof d);
    if (flags & 4) d.flags = ARTR_DETOK_SPECIAL;
    for (i = 0; i < n; i++) {
        size_t plen = 0, w = 0, w2 = 0;
        artr_detok before = d;
        if (!artr_token_piece(m, artr_fuzz_ids[i], &plen)) return 1;
        if (i == 0 && (tflags & ARTR_TOKENIZE_BOS) && (flags & 4)) d.flags = 0; /* BOS's text is not the user's */
        if (i == n - 1 && (tflags & ARTR_TOKENIZE_EOS) && (flags & 4)) d.flags = 0;
        before = d;
        st = artr_detok_push(m, &d, artr_fuzz_ids[i], artr_fuzz_back + at, (size_t)vi->max_piece_bytes, &w, NULL);
        if (st != ARTR_OK || w > (size_t)vi->max_piece_bytes) return 1;
        if (w > 0) { /* one byte short: ARTR_E_SPACE, the same count, the state unchanged */
            artr_detok again = before;
            char tmp[8];
            st = artr_detok_push(m, &again, artr_fuzz_ids[i], w - 1 < sizeof tmp ? tmp : artr_fuzz_back + at + w + 8, w - 1, &w2, NULL);
            if (st != ARTR_E_SPACE || w2 != w || memcmp(&again, &before, sizeof again)) return 1;
        }
        at += w;
        if (flags & 4) d.flags = ARTR_DETOK_SPECIAL;
    }
    if (artr_detok_flush(m, &d, artr_fuzz_back + at, 4, &k, NULL) != ARTR_OK || k > 3) return 1;
    at += k;
    /* the round trip */
    spm = vi->kind == ARTR_VOCAB_SPM;
    exact = !((tflags & ARTR_TOKENIZE_NO_SPACE_PREFIX) && vi->add_space_prefix);
    if (spm && artr_fuzz_has(text, len, "\xe2\x96\x81")) exact = 0; /* a literal "▁" reads back as a space */
    if (spm && (flags & 4)) exact = 0;                                 /* README: special tokens round-trip for BPE */
    if (exact && (at != len || memcmp(artr_fuzz_back, text, len))) return 1;
    return 0;
}

#ifdef ARTR_FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (artr_fuzz_tok_init()) abort();
        ready = 1;
    }
    if (artr_fuzz_tok_one(data, size)) abort();
    return 0;
}
#endif

#ifdef ARTR_FUZZ_REPLAY
int main(int argc, char **argv)
{
    int i, bad = 0;
    if (artr_fuzz_tok_init()) return 2;
    for (i = 1; i < argc; i++) {
        size_t n;
        unsigned char *buf = fuzz_read_file("fuzz_tokenize_replay", argv[i], &n);
        if (!buf) return 2;
        if (artr_fuzz_tok_one(buf, (size_t)n)) {
            printf("fuzz_tokenize_replay: %s breaks a tokenizer promise\n", argv[i]);
            bad++;
        }
        free(buf);
    }
    for (i = 0; i < ARTR_FUZZ_N_VOCAB; i++) artr_model_free(artr_fuzz_vocabs[i]);
    printf("fuzz_tokenize_replay: %d inputs, %d broke a promise\n", argc - 1, bad);
    return bad != 0;
}
#endif
