/* Fuzz target for artr's chat templates, and a replay driver.

   libFuzzer:  make fuzz   (clang -fsanitize=fuzzer,address,undefined -DARTR_FUZZ_LIBFUZZER)
   replay:     build/fuzz_chat_replay FILE...   (-DARTR_FUZZ_REPLAY; runs in make test)
   Run from the repository root: the vocabularies are read once from tests/fixtures.

   Input: byte 0 picks the model (none, or a vocabulary whose EOS/BOS text the formats
   write) and add_assistant, byte 1 the message count (up to 8) and a cut for a
   too-small buffer; the rest, split at NUL bytes, is a template name or, after a
   leading '{', a tokenizer.chat_template source (put in a GGUF and detected), then
   role, content pairs (a role of one byte below 8 is one of the known roles). Each
   input is formatted in every format: counted with cap 0, written into exactly
   len + 1 bytes (the size reported must be exact, nothing written past cap), then into
   len and a random smaller cap (ARTR_E_SPACE, the same len, the same first bytes);
   content_at spans lie inside out and are taken from the content. */
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

#define ARTR_FUZZ_CHAT_MAX 8

static const char *const artr_fuzz_chat_files[] = {"tests/fixtures/tok_spm.gguf", "tests/fixtures/tok_bpe.gguf",
                                                   "tests/fixtures/tok_gemma.gguf"};
static artr_model *artr_fuzz_chat_models[3];

static int artr_fuzz_chat_init(void)
{
    int i;
    for (i = 0; i < 3; i++) {
        artr_model_params p;
        artr_error err;
        memset(&p, 0, sizeof p);
        p.container = 1;
        if (artr_fuzz_chat_models[i]) continue;
        if (artr_model_load_file(&artr_fuzz_chat_models[i], artr_fuzz_chat_files[i], &p, &err) != ARTR_OK) {
            fprintf(stderr, "fuzz_chat: %s: %s (run from the repository root)\n", artr_fuzz_chat_files[i], err.msg);
            return 1;
        }
    }
    return 0;
}

static int artr_fuzz_chat_has(const char *s, size_t n, const char *w, size_t m)
{
    size_t k;
    if (m == 0) return 1;
    for (k = 0; k + m <= n; k++)
        if (!memcmp(s + k, w, m)) return 1;
    return 0;
}

/* One format: returns 1 if a promise is broken. */
static int artr_fuzz_chat_format(const artr_model *m, int tmpl, const artr_chat_msg *msgs, int n, int add, unsigned cut)
{
    size_t len = 7, len2 = 7, at[2 * ARTR_FUZZ_CHAT_MAX], c;
    char *full, *part;
    int i, bad = 0;
    artr_status st = artr_chat_format(m, tmpl, msgs, n, add, NULL, 0, &len, NULL, NULL), st2;
    if (st == ARTR_E_ARG) { /* a role the format refuses: the same answer with room */
        char tmp[16];
        return artr_chat_format(m, tmpl, msgs, n, add, tmp, sizeof tmp, &len2, NULL, NULL) != ARTR_E_ARG;
    }
    if (st != ARTR_E_SPACE) return 1;
    full = (char *)malloc(len + 2);
    part = (char *)malloc(len + 2);
    if (!full || !part) abort();
    memset(full, 0x5a, len + 2);
    st = artr_chat_format(m, tmpl, msgs, n, add, full, len + 1, &len2, at, NULL);
    if (st != ARTR_OK || len2 != len || full[len] != 0 || full[len + 1] != 0x5a) bad = 1;
    for (i = 0; !bad && i < n; i++) {
        size_t a = at[2 * i], b = at[2 * i + 1];
        if (a > b || b > len || !artr_fuzz_chat_has(msgs[i].content, strlen(msgs[i].content), full + a, b - a)) bad = 1;
    }
    for (i = 0; !bad && i < 2; i++) { /* exactly len bytes, and a smaller cap */
        c = i == 0 ? len : (len ? cut % len : 0);
        memset(part, 0x5a, len + 2);
        st2 = artr_chat_format(m, tmpl, msgs, n, add, part, c, &len2, NULL, NULL);
        if (st2 != ARTR_E_SPACE || len2 != len || memcmp(part, full, c) || part[c] != 0x5a) bad = 1;
    }
    free(full);
    free(part);
    return bad;
}

/* A GGUF holding only tokenizer.chat_template = src. */
static unsigned char *artr_fuzz_chat_gguf(const char *src, size_t n, size_t *size)
{
    static const char key[] = "tokenizer.chat_template";
    size_t kn = sizeof key - 1, total = 4 + 4 + 8 + 8 + 8 + kn + 4 + 8 + n, o = 0;
    unsigned char *g = (unsigned char *)malloc(total);
    uint32_t u32;
    uint64_t u64;
    if (!g) abort();
#define ARTR_FUZZ_PUT(p, k) (memcpy(g + o, (p), (k)), o += (k))
    ARTR_FUZZ_PUT("GGUF", 4);
    u32 = 3; ARTR_FUZZ_PUT(&u32, 4);
    u64 = 0; ARTR_FUZZ_PUT(&u64, 8);
    u64 = 1; ARTR_FUZZ_PUT(&u64, 8);
    u64 = kn; ARTR_FUZZ_PUT(&u64, 8);
    ARTR_FUZZ_PUT(key, kn);
    u32 = ARTR_META_STRING; ARTR_FUZZ_PUT(&u32, 4);
    u64 = n; ARTR_FUZZ_PUT(&u64, 8);
    ARTR_FUZZ_PUT(src, n);
#undef ARTR_FUZZ_PUT
    *size = o;
    return g;
}

static int artr_fuzz_chat_one(const unsigned char *data, size_t size)
{
    static const char *const roles[8] = {"system", "user", "assistant", "tool", "", "ipython", "System", "user "};
    artr_chat_msg msgs[ARTR_FUZZ_CHAT_MAX];
    char *buf, *field[1 + 2 * ARTR_FUZZ_CHAT_MAX];
    size_t flen[1 + 2 * ARTR_FUZZ_CHAT_MAX], k, start;
    const artr_model *m;
    int n_field = 0, n, i, tmpl, add, bad = 0;
    unsigned cut;
    if (size < 2) return 0;
    m = data[0] % 4 ? artr_fuzz_chat_models[data[0] % 4 - 1] : NULL;
    add = (data[0] >> 2) & 1;
    n = data[1] % (ARTR_FUZZ_CHAT_MAX + 1);
    cut = data[1] * 2654435761u;
    buf = (char *)malloc(size - 2 + 1); /* the fields, NUL-terminated in place */
    if (!buf) abort();
    memcpy(buf, data + 2, size - 2);
    buf[size - 2] = 0;
    for (start = 0, k = 0; k <= size - 2 && n_field < 1 + 2 * ARTR_FUZZ_CHAT_MAX; k++)
        if (buf[k] == 0) {
            field[n_field] = buf + start;
            flen[n_field++] = k - start;
            start = k + 1;
        }
    while (n_field < 1 + 2 * n) field[n_field] = buf + size - 2, flen[n_field++] = 0;
    for (i = 0; i < n; i++) {
        msgs[i].role = flen[1 + 2 * i] == 1 && (unsigned char)field[1 + 2 * i][0] < 8 ? roles[(unsigned char)field[1 + 2 * i][0]]
                                                                                     : field[1 + 2 * i];
        msgs[i].content = field[2 + 2 * i];
    }
    /* the name, or the template source */
    if (flen[0] > 0 && field[0][0] == '{') {
        size_t gs;
        unsigned char *g = artr_fuzz_chat_gguf(field[0], flen[0], &gs);
        artr_model_params p;
        artr_model *tm = NULL;
        memset(&p, 0, sizeof p);
        p.container = 1;
        if (artr_model_load_memory(&tm, g, gs, &p, NULL) != ARTR_OK) bad = 1;
        {
            artr_status st = artr_chat_template(tm, NULL, &tmpl, NULL);
            if (st == ARTR_OK ? tmpl <= ARTR_CHAT_NONE || tmpl > ARTR_CHAT_DEEPSEEK3 : st != ARTR_E_UNSUPPORTED || tmpl != ARTR_CHAT_NONE) bad = 1;
            if (st == ARTR_OK) bad |= artr_fuzz_chat_format(tm, tmpl, msgs, n, add, cut);
        }
        artr_model_free(tm);
        free(g);
    } else {
        artr_status st = artr_chat_template(m, field[0], &tmpl, NULL);
        if (st == ARTR_OK ? tmpl <= ARTR_CHAT_NONE || tmpl > ARTR_CHAT_DEEPSEEK3 : st != ARTR_E_UNSUPPORTED) bad = 1;
    }
    for (tmpl = ARTR_CHAT_NONE + 1; tmpl <= ARTR_CHAT_DEEPSEEK3; tmpl++) bad |= artr_fuzz_chat_format(m, tmpl, msgs, n, add, cut);
    free(buf);
    return bad;
}

#ifdef ARTR_FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (artr_fuzz_chat_init()) abort();
        ready = 1;
    }
    if (artr_fuzz_chat_one(data, size)) abort();
    return 0;
}
#endif

#ifdef ARTR_FUZZ_REPLAY
int main(int argc, char **argv)
{
    int i, bad = 0;
    if (artr_fuzz_chat_init()) return 2;
    for (i = 1; i < argc; i++) {
        size_t n;
        unsigned char *buf = fuzz_read_file("fuzz_chat_replay", argv[i], &n);
        if (!buf) return 2;
        if (artr_fuzz_chat_one(buf, (size_t)n)) {
            printf("fuzz_chat_replay: %s breaks a chat-format promise\n", argv[i]);
            bad++;
        }
        free(buf);
    }
    for (i = 0; i < 3; i++) artr_model_free(artr_fuzz_chat_models[i]);
    printf("fuzz_chat_replay: %d inputs, %d broke a promise\n", argc - 1, bad);
    return bad != 0;
}
#endif
