/* Tokenizer: ids against outside references (tests/gen_tokenizer_fixtures.py: the
   sentencepiece package, Hugging Face tokenizers, llama2.c's run.c), round trips,
   streaming detokenization, bad input, no allocation. */
#include <time.h>

/* The texts of tok_cases.bin ("ARTC", count, then length + bytes each). */
typedef struct th_cases {
    unsigned char *buf;
    size_t size;
    int n;
    const char **text;
    size_t *len;
} th_cases;

static int th_cases_load_named(th_cases *c, const char *name)
{
    size_t pos = 8;
    int i;
    uint32_t n;
    memset(c, 0, sizeof *c);
    c->buf = th_fixture(name, &c->size);
    if (!c->buf || c->size < 8 || memcmp(c->buf, "ARTC", 4)) return 0;
    memcpy(&n, c->buf + 4, 4);
    c->n = (int)n;
    c->text = (const char **)malloc(n * sizeof *c->text);
    c->len = (size_t *)malloc(n * sizeof *c->len);
    for (i = 0; i < c->n; i++) {
        uint32_t len;
        memcpy(&len, c->buf + pos, 4);
        c->text[i] = (const char *)c->buf + pos + 4;
        c->len[i] = len;
        pos += 4 + len;
    }
    return pos == c->size;
}

static int th_cases_load(th_cases *c)
{
    return th_cases_load_named(c, "tok_cases.bin");
}

static void th_cases_free(th_cases *c)
{
    free(c->buf);
    free((void *)c->text);
    free(c->len);
}

/* Expected ids ("ARTI", count, then n + n uint16 each; n = 0xffffffff: none) as offsets
   into the file: ids of case i start at at[i], count n[i] (-1: no expectation). */
typedef struct th_ids {
    unsigned char *buf;
    size_t size;
    size_t *at;
    long *n;
} th_ids;

static int th_ids_load(th_ids *x, const char *name, int n_cases)
{
    size_t pos = 8;
    uint32_t n;
    int i;
    memset(x, 0, sizeof *x);
    x->buf = th_fixture(name, &x->size);
    if (!x->buf || memcmp(x->buf, "ARTI", 4)) return 0;
    memcpy(&n, x->buf + 4, 4);
    if ((int)n != n_cases) return 0;
    x->at = (size_t *)malloc(n * sizeof *x->at);
    x->n = (long *)malloc(n * sizeof *x->n);
    for (i = 0; i < n_cases; i++) {
        uint32_t k;
        memcpy(&k, x->buf + pos, 4);
        pos += 4;
        x->at[i] = pos;
        x->n[i] = k == 0xffffffffu ? -1 : (long)k;
        if (k != 0xffffffffu) pos += 2 * (size_t)k;
    }
    return pos == x->size;
}

static int32_t th_ids_get(const th_ids *x, int i, long j)
{
    uint16_t v;
    memcpy(&v, x->buf + x->at[i] + 2 * (size_t)j, 2);
    return v;
}

static void th_ids_free(th_ids *x)
{
    free(x->buf);
    free(x->at);
    free(x->n);
}

static void th_print_text(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n && i < 80; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f) putchar(c);
        else printf("\\x%02x", c);
    }
    if (n > 80) printf("...");
}

/* Tokenize every case with flags and compare with the reference ids. Returns the
   number of cases with an expectation; *matched gets how many are equal. */
static int th_compare(const artr_model *m, const th_cases *c, const th_ids *x, int flags,
                      const char *ref, int *matched)
{
    int i, total = 0, shown = 0;
    int32_t *out = (int32_t *)malloc(sizeof(int32_t) * 8192);
    *matched = 0;
    for (i = 0; i < c->n; i++) {
        int n = -1;
        long j;
        artr_error err;
        int ok;
        if (x->n[i] < 0) continue;
        total++;
        ok = artr_tokenize(m, c->text[i], c->len[i], flags, out, 8192, &n, &err) == ARTR_OK &&
             n == x->n[i];
        for (j = 0; ok && j < n; j++) ok = out[j] == th_ids_get(x, i, j);
        if (ok) {
            (*matched)++;
        } else if (shown++ < 5) {
            printf("  case %d \"", i);
            th_print_text(c->text[i], c->len[i]);
            printf("\": artr %d ids [", n);
            for (j = 0; j < n && j < 24; j++) printf(" %d", out[j]);
            printf(" ], %s %ld ids [", ref, x->n[i]);
            for (j = 0; j < x->n[i] && j < 24; j++) printf(" %d", th_ids_get(x, i, j));
            printf(" ]\n");
        }
    }
    free(out);
    return total;
}

/* Stream ids through a detokenizer in pushes of the given cap; returns the text (malloc). */
static char *th_detok_all(const artr_model *m, const int32_t *ids, int n, int flags, size_t *len)
{
    size_t cap = 64 + (size_t)n * (size_t)artr_model_vocab(m)->max_piece_bytes, at = 0, k;
    char *s = (char *)malloc(cap);
    artr_detok d;
    artr_error err;
    int i;
    memset(&d, 0, sizeof d);
    d.flags = flags;
    for (i = 0; i < n; i++) {
        if (artr_detok_push(m, &d, ids[i], s + at, cap - at, &k, &err) != ARTR_OK) {
            printf("  detok_push: %s\n", err.msg);
            break;
        }
        at += k;
    }
    if (artr_detok_flush(m, &d, s + at, cap - at, &k, &err) == ARTR_OK) at += k;
    *len = at;
    return s;
}

/* detok(tokenize(s)) == s for every case; returns the number that round-trip. */
static int th_roundtrip(const artr_model *m, const th_cases *c, int tflags, int dflags)
{
    int i, good = 0, shown = 0;
    int32_t *ids = (int32_t *)malloc(sizeof(int32_t) * 8192);
    for (i = 0; i < c->n; i++) {
        int n = 0;
        size_t len;
        char *s;
        artr_error err;
        if (artr_tokenize(m, c->text[i], c->len[i], tflags, ids, 8192, &n, &err) != ARTR_OK) continue;
        s = th_detok_all(m, ids, n, dflags, &len);
        if (len == c->len[i] && !memcmp(s, c->text[i], len)) {
            good++;
        } else if (shown++ < 5) {
            printf("  round trip of case %d \"", i);
            th_print_text(c->text[i], c->len[i]);
            printf("\" gave \"");
            th_print_text(s, len);
            printf("\"\n");
        }
        free(s);
    }
    free(ids);
    return good;
}

static artr_model *th_load_tok(const char *name)
{
    return th_load(name, 1); /* a vocabulary-only GGUF: open it as a container */
}

static void test_tok_spm_vs_sentencepiece(void)
{
    th_cases c;
    th_ids x;
    artr_model *m = th_load_tok("tok_spm.gguf");
    int total, matched;
    CHECK(th_cases_load(&c));
    CHECK(th_ids_load(&x, "tok_spm.ids", c.n));
    if (m && x.at) {
        const artr_vocab_info *vi = artr_model_vocab(m);
        CHECK(vi->kind == ARTR_VOCAB_SPM && vi->n_vocab == 1500);
        CHECK(vi->bos == 1 && vi->eos == 2 && vi->unk == 0 && vi->pad == -1);
        CHECK(vi->add_bos == 1 && vi->add_eos == 0 && vi->add_space_prefix == 1);
        total = th_compare(m, &c, &x, 0, "sp.encode", &matched);
        printf("  %d of %d texts: ids equal sentencepiece's sp.encode\n", matched, total);
        CHECK(total == c.n && total >= 2000 && matched == total);
    }
    th_ids_free(&x);
    th_cases_free(&c);
    artr_model_free(m);
}

/* ---- Gemma-like SentencePiece (tests/gen_tokenizer_fixtures.py gemma) ---- */

/* The texts of two case files as one list (the second's after the first's). */
static int th_cases_join(th_cases *c, const th_cases *a, const th_cases *b)
{
    int i;
    memset(c, 0, sizeof *c);
    c->n = a->n + b->n;
    c->text = (const char **)malloc((size_t)c->n * sizeof *c->text);
    c->len = (size_t *)malloc((size_t)c->n * sizeof *c->len);
    if (!c->text || !c->len) return 0;
    for (i = 0; i < c->n; i++) {
        c->text[i] = i < a->n ? a->text[i] : b->text[i - a->n];
        c->len[i] = i < a->n ? a->len[i] : b->len[i - a->n];
    }
    return 1;
}

static int th_has_bytes(const char *s, size_t n, const char *p, size_t len)
{
    size_t i;
    for (i = 0; p && i + len <= n; i++)
        if (!memcmp(s + i, p, len)) return 1;
    return 0;
}

/* 1 if the text holds the piece of id (a user-defined symbol). */
static int th_text_has(const artr_model *m, const char *s, size_t n, int32_t id)
{
    size_t len;
    const char *p = artr_token_piece(m, id, &len);
    return th_has_bytes(s, n, p, len);
}

/* Gemma 3's tokenizer options (no space prefix, byte fallback, user-defined symbols,
   whitespace-only pieces, pad 0 eos 1 bos 2 unk 3): ids equal sp.encode for the texts
   of tok_cases.bin and tok_gemma_cases.bin; with ARTR_TOKENIZE_SPECIAL the control
   symbols are cut out too; every text round-trips. */
static void test_tok_gemma_vs_sentencepiece(void)
{
    th_cases a, b, c;
    th_ids x, y;
    artr_model *m = th_load_tok("tok_gemma.gguf");
    int total, matched, i, n_user = 0, n_bytes = 0, n_runs = 0, n_lit;
    int32_t *out = (int32_t *)malloc(sizeof(int32_t) * 8192);
    CHECK(th_cases_load_named(&a, "tok_cases.bin"));
    CHECK(th_cases_load_named(&b, "tok_gemma_cases.bin"));
    CHECK(th_cases_join(&c, &a, &b));
    CHECK(th_ids_load(&x, "tok_gemma.ids", c.n));
    CHECK(th_ids_load(&y, "tok_gemma_special.ids", c.n));
    if (m && x.at && y.at && out) {
        const artr_vocab_info *vi = artr_model_vocab(m);
        int32_t user0 = 6, user_end = 15; /* <start_of_turn> .. <br>: USER_DEFINED */
        size_t len;
        const char *p = artr_token_piece(m, user0, &len);
        CHECK(vi->kind == ARTR_VOCAB_SPM && vi->n_vocab == 2000);
        CHECK(vi->pad == 0 && vi->eos == 1 && vi->bos == 2 && vi->unk == 3);
        CHECK(vi->add_bos == 1 && vi->add_eos == 0 && vi->add_space_prefix == 0);
        CHECK(p && len == 15 && !memcmp(p, "<start_of_turn>", 15));
        total = th_compare(m, &c, &x, 0, "sp.encode", &matched);
        printf("  %d of %d texts: ids equal sentencepiece's sp.encode (Gemma options)\n", matched, total);
        CHECK(total == c.n && total >= 3000 && matched == total);
        /* what the texts exercised: user-defined symbols, byte fallback, space runs */
        for (i = 0; i < c.n; i++) {
            int n = 0, k, has_user = 0, has_byte = 0, has_run = 0;
            int32_t u;
            if (artr_tokenize(m, c.text[i], c.len[i], 0, out, 8192, &n, NULL) != ARTR_OK) continue;
            for (k = 0; k < n; k++) {
                size_t pl;
                const char *pc = artr_token_piece(m, out[k], &pl);
                if (out[k] >= user0 && out[k] < user_end) has_user = 1;
                if (out[k] >= 15 && out[k] < 15 + 256) has_byte = 1;
                if (pc && pl >= 6 && !memcmp(pc, "\xe2\x96\x81\xe2\x96\x81", 6)) has_run = 1;
            }
            for (u = user0; u < user_end && !has_user; u++) CHECK(!th_text_has(m, c.text[i], c.len[i], u));
            n_user += has_user;
            n_bytes += has_byte;
            n_runs += has_run;
        }
        printf("  texts with user-defined symbols %d, byte fallback %d, multi-space pieces %d\n",
               n_user, n_bytes, n_runs);
        CHECK(n_user >= 100 && n_bytes >= 100 && n_runs >= 100);
        total = th_compare(m, &c, &y, ARTR_TOKENIZE_SPECIAL, "split + sp.encode", &matched);
        printf("  %d of %d texts with control-symbol text: ids equal with ARTR_TOKENIZE_SPECIAL\n",
               matched, total);
        CHECK(total >= 100 && matched == total);
        for (i = 0, n_lit = 0; i < c.n; i++) /* a "▁" in the text comes back as a space */
            n_lit += th_has_bytes(c.text[i], c.len[i], "\xe2\x96\x81", 3);
        i = th_roundtrip(m, &c, 0, 0);
        printf("  round trips: %d of %d texts (%d hold a literal U+2581)\n", i, c.n, n_lit);
        CHECK(i == c.n - n_lit && n_lit <= 3);
    }
    free(out);
    th_ids_free(&x);
    th_ids_free(&y);
    free((void *)c.text);
    free(c.len);
    th_cases_free(&a);
    th_cases_free(&b);
    artr_model_free(m);
}

/* ---- pre-tokenizer families (tests/gen_tokenizer_fixtures.py pre) ---- */

static uint32_t th_fnv32(const int32_t *ids, int n)
{
    uint32_t h = 0x811c9dc5u;
    int i, b;
    for (i = 0; i < n; i++)
        for (b = 0; b < 4; b++) h = (h ^ (((uint32_t)ids[i] >> (8 * b)) & 0xff)) * 0x01000193u;
    return h;
}

static artr_model *th_load_pre(const char *name, const char *force)
{
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    memset(&p, 0, sizeof p);
    p.container = 1;
    p.tokenizer_pre = force;
    CHECK_STATUS(artr_model_load_file(&m, th_path(name), &p, &err), ARTR_OK, &err);
    return m;
}

/* A text's ids (ARTR_TOKENIZE_SPECIAL: tokenizers matches added tokens) or, with words,
   the byte offsets where the pre-tokenizer's words end; their count or -1. */
static int th_pre_encode(const artr_model *m, const char *s, size_t len, int words, int32_t *out, int cap)
{
    size_t i = 0;
    int n = -1;
    artr_error err;
    if (!words)
        return artr_tokenize(m, s, len, ARTR_TOKENIZE_SPECIAL, out, cap, &n, &err) == ARTR_OK ? n : -1;
    for (n = 0; i < len && n < cap; n++) {
        i = artr__pre_word(m->vocab.tok->pre, (const uint8_t *)s, len, i);
        out[n] = (int32_t)i;
    }
    return i == len ? n : -1;
}

/* th_encode every text of the case lists and compare count and FNV-1a 32 with ref
   ("ARTH", count, then uint16 n and uint32 hash per text). Returns the number of
   texts; *matched the equal ones. */
static int th_compare_hashes(const artr_model *m, const th_cases *lists, int n_lists, const char *ref,
                             int words, int *matched)
{
    size_t size = 0;
    unsigned char *buf = th_fixture(ref, &size);
    int32_t *out = (int32_t *)malloc(sizeof(int32_t) * 8192);
    int l, i, at = 0, total = 0, shown = 0;
    uint32_t count = 0;
    *matched = 0;
    for (l = 0; l < n_lists; l++) total += lists[l].n;
    if (buf && size >= 8) memcpy(&count, buf + 4, 4);
    CHECK(buf && size == 8 + 6 * (size_t)total && !memcmp(buf, "ARTH", 4) && count == (uint32_t)total);
    if (!buf || size != 8 + 6 * (size_t)total) total = 0;
    for (l = 0; l < n_lists && total; l++) {
        for (i = 0; i < lists[l].n; i++, at++) {
            uint16_t want_n;
            uint32_t want_h;
            int n, j;
            memcpy(&want_n, buf + 8 + 6 * (size_t)at, 2);
            memcpy(&want_h, buf + 10 + 6 * (size_t)at, 4);
            n = th_pre_encode(m, lists[l].text[i], lists[l].len[i], words, out, 8192);
            if (n == want_n && th_fnv32(out, n) == want_h) {
                (*matched)++;
            } else if (shown++ < 3) {
                printf("  %s, text %d \"", ref, at);
                th_print_text(lists[l].text[i], lists[l].len[i]);
                printf("\": artr %d %s [", n, words ? "words ending at" : "ids");
                for (j = 0; j < n && j < 24; j++) printf(" %d", out[j]);
                printf(" ], tokenizers %d\n", want_n);
            }
        }
    }
    free(out);
    free(buf);
    return total;
}

/* Each family's vocabulary, trained by tokenizers with that family's pre-tokenizer
   pipeline, gives tokenizers' ids on every text (and "dbrx", forced on the Llama 3
   vocabulary, those of ignore_merges off), and the pre-tokenizer alone its words. */
static void th_pre_families(void)
{
    static const struct {
        const char *gguf, *ref, *words, *force, *pre;
    } fam[] = {
        {"tok_pre_llama3.gguf", "tok_pre_llama3.ref", "tok_pre_llama3.words", NULL, "llama-bpe"},
        {"tok_pre_llama3.gguf", "tok_pre_dbrx.ref", NULL, "dbrx", "dbrx"},
        {"tok_pre_llama3.gguf", NULL, "tok_pre_gpt2.words", "gpt2", "gpt2"},
        {"tok_pre_qwen2.gguf", "tok_pre_qwen2.ref", "tok_pre_qwen2.words", NULL, "qwen2"},
        {"tok_pre_qwen35.gguf", "tok_pre_qwen35.ref", "tok_pre_qwen35.words", NULL, "qwen35"},
        {"tok_pre_smollm.gguf", "tok_pre_smollm.ref", "tok_pre_smollm.words", NULL, "smollm"},
        {"tok_pre_default.gguf", "tok_pre_default.ref", "tok_pre_default.words", NULL, "default"},
    };
    th_cases lists[2];
    size_t f;
    CHECK(th_cases_load_named(&lists[0], "tok_cases.bin"));
    CHECK(th_cases_load_named(&lists[1], "tok_pre_cases.bin"));
    for (f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        artr_model *m = th_load_pre(fam[f].gguf, fam[f].force);
        int total, matched;
        if (!m) continue;
        CHECK(artr_model_vocab(m)->kind == ARTR_VOCAB_BPE && artr_model_vocab(m)->pre &&
              !strcmp(artr_model_vocab(m)->pre, fam[f].pre));
        if (fam[f].ref) {
            total = th_compare_hashes(m, lists, 2, fam[f].ref, 0, &matched);
            printf("  %-9s %d of %d texts: ids equal tokenizers'\n", fam[f].pre, matched, total);
            CHECK(total >= 4000 && matched == total);
        }
        if (fam[f].words) {
            total = th_compare_hashes(m, lists, 2, fam[f].words, 1, &matched);
            printf("  %-9s %d of %d texts: words equal tokenizers' pre_tokenize_str\n", fam[f].pre, matched, total);
            CHECK(total >= 4000 && matched == total);
        }
        artr_model_free(m);
    }
    th_cases_free(&lists[0]);
    th_cases_free(&lists[1]);
}

/* Byte-level BPE against Hugging Face tokenizers: the GPT-2 vocabulary, then every
   pre-tokenizer family. */
static void test_tok_bpe_vs_tokenizers(void)
{
    th_cases c;
    th_ids x;
    artr_model *m = th_load_tok("tok_bpe.gguf");
    int total, matched;
    CHECK(th_cases_load(&c));
    CHECK(th_ids_load(&x, "tok_bpe.ids", c.n));
    if (m && x.at) {
        const artr_vocab_info *vi = artr_model_vocab(m);
        CHECK(vi->kind == ARTR_VOCAB_BPE && vi->n_vocab == 1500);
        CHECK(vi->bos == 0 && vi->eos == 0 && vi->add_bos == 0 && vi->add_space_prefix == 0);
        /* tokenizers always matches added special tokens: ARTR_TOKENIZE_SPECIAL */
        total = th_compare(m, &c, &x, ARTR_TOKENIZE_SPECIAL, "tokenizers", &matched);
        printf("  %d of %d texts: ids equal Hugging Face tokenizers' encode\n", matched, total);
        CHECK(total == c.n && total >= 2000 && matched == total);
    }
    th_ids_free(&x);
    th_cases_free(&c);
    artr_model_free(m);
    th_pre_families();
}

/* A one-layer llama2.c checkpoint for the 32000-token vocabulary, loaded with the real
   Llama 2 tokenizer.bin from ../shared; NULL (and a printed reason) when absent. */
static artr_model *th_llama2_vocab(unsigned char **ckpt)
{
    const char *path = "../shared/models/llama2-tokenizer.bin";
    int32_t hdr[7] = {16, 40, 1, 4, 2, 32000, 8};
    size_t size = 28 + 4 * (size_t)(32000 * 16 + (2 * 16 + 16 * 16 * 2 + 16 * 8 * 2 + 3 * 16 * 40) + 16 + 8 * 4);
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    FILE *f = fopen(path, "rb");
    *ckpt = NULL;
    if (!f) {
        th_skip_shared(path);
        return NULL;
    }
    fclose(f);
    *ckpt = (unsigned char *)calloc(1, size);
    memcpy(*ckpt, hdr, sizeof hdr);
    memset(&p, 0, sizeof p);
    p.vocab_path = path;
    CHECK_STATUS(artr_model_load_memory(&m, *ckpt, size, &p, &err), ARTR_OK, &err);
    return m;
}

/* llama2.c's tokenizer test cases (its test.c: the empty string, then prompts from Meta's
   example_text_completion.py), and run.c's encode on every case text. */
static void test_tok_llama2c(void)
{
    static const char *const prompts[5] = {
        "",
        "I believe the meaning of life is",
        "Simply put, the theory of relativity states that ",
        "A brief message congratulating the team on the launch:\n\n        Hi everyone,\n\n        I just ",
        "Translate English to French:\n\n        sea otter => loutre de mer\n        peppermint => menthe poivr\xc3\251e\n        plush girafe => girafe peluche\n        cheese =>"};
    static const int32_t e0[] = {1}, e1[] = {1, 306, 4658, 278, 6593, 310, 2834, 338};
    static const int32_t e2[] = {1, 3439, 17632, 1925, 29892, 278, 6368, 310, 14215, 537, 5922, 393, 29871};
    static const int32_t e3[] = {1, 319, 11473, 2643, 378, 629, 271, 18099, 278, 3815, 373, 278, 6826, 29901,
                                 13, 13, 4706, 6324, 14332, 29892, 13, 13, 4706, 306, 925, 29871};
    static const int32_t e4[] = {1, 4103, 9632, 4223, 304, 5176, 29901, 13, 13, 4706, 7205, 4932, 357, 1149,
                                 301, 449, 276, 316, 2778, 13, 4706, 1236, 407, 837, 524, 1149, 6042, 354,
                                 772, 440, 29878, 1318, 13, 4706, 715, 1878, 330, 3055, 1725, 1149, 330, 3055,
                                 1725, 4639, 28754, 13, 4706, 923, 968, 1149};
    const int32_t *expect[5];
    int n_expect[5], k, i;
    unsigned char *ckpt;
    artr_model *m = th_llama2_vocab(&ckpt);
    th_cases c;
    th_ids x;
    expect[0] = e0; n_expect[0] = 1;
    expect[1] = e1; n_expect[1] = (int)(sizeof e1 / sizeof e1[0]);
    expect[2] = e2; n_expect[2] = (int)(sizeof e2 / sizeof e2[0]);
    expect[3] = e3; n_expect[3] = (int)(sizeof e3 / sizeof e3[0]);
    expect[4] = e4; n_expect[4] = (int)(sizeof e4 / sizeof e4[0]);
    if (!m) {
        free(ckpt);
        return;
    }
    CHECK(artr_model_vocab(m)->kind == ARTR_VOCAB_LLAMA2C);
    for (k = 0; k < 5; k++) {
        int32_t out[64];
        int n = 0, same;
        size_t len;
        char *s;
        artr_error err;
        CHECK_STATUS(artr_tokenize(m, prompts[k], strlen(prompts[k]), ARTR_TOKENIZE_BOS, out, 64, &n, &err),
                     ARTR_OK, &err);
        same = n == n_expect[k];
        for (i = 0; same && i < n; i++) same = out[i] == expect[k][i];
        CHECK(same);
        s = th_detok_all(m, out, n, 0, &len); /* llama2.c drops the space after BOS */
        CHECK(len == strlen(prompts[k]) && !memcmp(s, prompts[k], len));
        free(s);
    }
    { /* invalid UTF-8 and NUL bytes: byte tokens, an exact round trip */
        static const char bad[] = "a\0b \xff\xe6\x97 \xc0\xaf\x80\x80\x80\x80\x80 z";
        int32_t out[64];
        int n = 0;
        size_t len;
        char *s;
        artr_error err;
        CHECK_STATUS(artr_tokenize(m, bad, sizeof bad - 1, ARTR_TOKENIZE_BOS, out, 64, &n, &err), ARTR_OK, &err);
        s = th_detok_all(m, out, n, 0, &len);
        CHECK(len == sizeof bad - 1 && !memcmp(s, bad, len));
        free(s);
    }
    CHECK(th_cases_load(&c));
    if (th_ids_load(&x, "tok_llama2c.ids", c.n)) {
        int matched, total = th_compare(m, &c, &x, ARTR_TOKENIZE_BOS, "run.c", &matched);
        int good = th_roundtrip(m, &c, ARTR_TOKENIZE_BOS, 0);
        printf("  llama2.c test.c: 5 of 5 prompts; %d of %d texts: ids equal run.c encode; %d of %d round-trip\n",
               matched, total, good, c.n);
        CHECK(total > 2000 && matched == total);
        CHECK(good == c.n);
    }
    th_ids_free(&x);
    th_cases_free(&c);
    artr_model_free(m);
    free(ckpt);
}

/* detokenize(tokenize(s)) == s: every case, streamed one id at a time. Exceptions are
   documented in the README: special tokens are parsed here only for BPE, whose round
   trip then needs ARTR_DETOK_SPECIAL. */
static void test_tok_roundtrip(void)
{
    th_cases c;
    artr_model *spm = th_load_tok("tok_spm.gguf"), *bpe = th_load_tok("tok_bpe.gguf");
    CHECK(th_cases_load(&c));
    if (spm && bpe) {
        int a = th_roundtrip(spm, &c, 0, 0), b = th_roundtrip(bpe, &c, ARTR_TOKENIZE_SPECIAL, ARTR_DETOK_SPECIAL);
        int d = th_roundtrip(spm, &c, ARTR_TOKENIZE_BOS | ARTR_TOKENIZE_EOS, 0);
        printf("  round trips: SPM %d, SPM with BOS/EOS %d, BPE %d of %d texts\n", a, d, b, c.n);
        CHECK(a == c.n && b == c.n && d == c.n);
    }
    th_cases_free(&c);
    artr_model_free(spm);
    artr_model_free(bpe);
}

/* FNV-1a 64 of ids as little-endian uint32, as gen_tokenizer_fixtures.py's fnv64. */
static uint64_t th_fnv64(const int32_t *ids, int n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    int i, b;
    for (i = 0; i < n; i++)
        for (b = 0; b < 4; b++) h = (h ^ (((uint32_t)ids[i] >> (8 * b)) & 0xff)) * 0x100000001b3ull;
    return h;
}

/* The whole of tinyshakespeare as one text (when ../shared has it): the same ids as
   sentencepiece and tokenizers (their count and digest in tok_corpus.ref), and an
   exact round trip. */
static void test_tok_corpus(void)
{
    const char *path = "../shared/data/tinyshakespeare.txt";
    size_t size, len;
    unsigned char *text;
    artr_model *spm, *bpe;
    FILE *f = fopen(path, "rb"), *ref;
    int32_t *ids;
    if (!f) {
        th_skip_shared(path);
        return;
    }
    fclose(f);
    text = th_read(path, &size);
    spm = th_load_tok("tok_spm.gguf");
    bpe = th_load_tok("tok_bpe.gguf");
    ids = (int32_t *)malloc(sizeof(int32_t) * (size + 3));
    ref = fopen(th_path("tok_corpus.ref"), "r");
    CHECK(ref != NULL);
    if (text && spm && bpe && ref) {
        artr_model *ms[2];
        int k;
        ms[0] = spm;
        ms[1] = bpe;
        for (k = 0; k < 2; k++) {
            int n = 0, want_n = -1;
            unsigned long long want_h = 0;
            char *s, name[8];
            artr_error err;
            CHECK(fscanf(ref, "%7s %d %llx", name, &want_n, &want_h) == 3);
            CHECK_STATUS(artr_tokenize(ms[k], (const char *)text, size, 0, ids, (int)size + 3, &n, &err), ARTR_OK, &err);
            CHECK(n == want_n && th_fnv64(ids, n) == (uint64_t)want_h);
            s = th_detok_all(ms[k], ids, n, 0, &len);
            CHECK(len == size && !memcmp(s, text, size));
            printf("  %s: %zu bytes -> %d ids (%s: %d, digest %s) -> the same %zu bytes\n", name, size, n,
                   k ? "tokenizers" : "sp.encode", want_n, th_fnv64(ids, n) == (uint64_t)want_h ? "equal" : "DIFFERENT", len);
            free(s);
        }
    }
    if (ref) fclose(ref);
    free(ids);
    free(text);
    artr_model_free(spm);
    artr_model_free(bpe);
}

/* A character split over byte tokens comes out whole, when its last byte arrives. */
static void test_tok_detok_streaming(void)
{
    artr_model *m = th_load_tok("tok_spm.gguf");
    const char *text = "\xe6\x97\xa5 ok"; /* U+65E5, not in the vocabulary: 3 byte tokens */
    int32_t ids[16];
    int n = 0;
    size_t k;
    char buf[64];
    artr_detok d;
    artr_error err;
    if (!m) return;
    CHECK_STATUS(artr_tokenize(m, text, strlen(text), ARTR_TOKENIZE_BOS, ids, 16, &n, &err), ARTR_OK, &err);
    /* <s> "▁" <0xE6> <0x97> <0xA5> "▁" "ok"... */
    CHECK(n >= 6 && ids[0] == 1 && ids[2] == 3 + 0xe6 && ids[3] == 3 + 0x97 && ids[4] == 3 + 0xa5);
    memset(&d, 0, sizeof d);
    CHECK_STATUS(artr_detok_push(m, &d, ids[0], buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK(k == 0); /* control tokens write nothing */
    CHECK_STATUS(artr_detok_push(m, &d, ids[1], buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK(k == 0); /* the space prefix, dropped */
    CHECK_STATUS(artr_detok_push(m, &d, ids[2], buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK(k == 0 && d.n_pending == 1);
    CHECK_STATUS(artr_detok_push(m, &d, ids[3], buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK(k == 0 && d.n_pending == 2);
    /* too small for the finished character: SPACE with the need, nothing changes */
    CHECK_STATUS(artr_detok_push(m, &d, ids[4], buf, 2, &k, &err), ARTR_E_SPACE, &err);
    CHECK(k == 3 && d.n_pending == 2);
    CHECK_STATUS(artr_detok_push(m, &d, ids[4], buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK(k == 3 && !memcmp(buf, "\xe6\x97\xa5", 3) && d.n_pending == 0);
    /* an unfinished character at the end comes out as it is from flush */
    CHECK_STATUS(artr_detok_push(m, &d, 3 + 0xe6, buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK(k == 0);
    CHECK_STATUS(artr_detok_flush(m, &d, buf, 0, &k, &err), ARTR_E_SPACE, &err);
    CHECK(k == 1);
    CHECK_STATUS(artr_detok_flush(m, &d, buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK(k == 1 && (unsigned char)buf[0] == 0xe6 && d.n_pending == 0);
    /* a lead byte followed by ASCII is not held: it can never complete */
    CHECK_STATUS(artr_detok_push(m, &d, 3 + 0xe6, buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK_STATUS(artr_detok_push(m, &d, 3 + 'A', buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK(k == 2 && !memcmp(buf, "\xe6" "A", 2));
    /* control tokens with ARTR_DETOK_SPECIAL; the piece after one loses its prefix */
    memset(&d, 0, sizeof d);
    d.flags = ARTR_DETOK_SPECIAL;
    CHECK_STATUS(artr_detok_push(m, &d, 2, buf, sizeof buf, &k, &err), ARTR_OK, &err);
    CHECK(k == 4 && !memcmp(buf, "</s>", 4));
    CHECK_STATUS(artr_detok_push(m, &d, -1, buf, sizeof buf, &k, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_detok_push(m, &d, 1500, buf, sizeof buf, &k, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_detok_push(NULL, &d, 1, buf, sizeof buf, &k, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_detok_push(m, NULL, 1, buf, sizeof buf, &k, &err), ARTR_E_ARG, &err);
    artr_model_free(m);
}

/* tokenizer.ggml.pre: an unknown name loads and refuses to tokenize, naming it; a forced
   name overrides it; an unknown forced name fails the load. */
static void th_pre_names(void)
{
    size_t size = 0, i;
    unsigned char *buf = th_fixture("tok_pre_qwen2.gguf", &size);
    artr_model_params p;
    artr_model *m = NULL, *ref = th_load_pre("tok_pre_qwen2.gguf", NULL);
    artr_error err;
    int32_t out[64], want[64];
    int n = 0, n2 = 0;
    const char *text = "Qwen 123 ok";
    for (i = 0; buf && i + 5 < size; i++) /* the value "qwen2" of tokenizer.ggml.pre */
        if (!memcmp(buf + i, "qwen2", 5) && buf[i - 8] == 5) break;
    if (!buf || !ref || i + 5 >= size) {
        CHECK(0);
        goto done;
    }
    buf[i + 4] = '9';
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, &p, &err), ARTR_OK, &err);
    if (m) {
        CHECK(artr_model_vocab(m)->pre == NULL);
        CHECK_STATUS(artr_tokenize(m, text, strlen(text), 0, out, 64, &n, &err), ARTR_E_UNSUPPORTED, &err);
        CHECK(strstr(err.msg, "'qwen9'") != NULL && strstr(err.msg, "tokenizer_pre") != NULL);
        artr_model_free(m);
        m = NULL;
    }
    p.tokenizer_pre = "qwen2";
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, &p, &err), ARTR_OK, &err);
    if (m) {
        CHECK(artr_model_vocab(m)->pre && !strcmp(artr_model_vocab(m)->pre, "qwen2"));
        CHECK_STATUS(artr_tokenize(m, text, strlen(text), 0, out, 64, &n, &err), ARTR_OK, &err);
        CHECK_STATUS(artr_tokenize(ref, text, strlen(text), 0, want, 64, &n2, &err), ARTR_OK, &err);
        CHECK(n == n2 && !memcmp(out, want, sizeof(int32_t) * (size_t)n));
        CHECK_STATUS(artr_tokenize(m, "123", 3, 0, out, 64, &n, &err), ARTR_OK, &err);
        CHECK(n == 3); /* \p{N}: one digit a word */
        artr_model_free(m);
        m = NULL;
    }
    p.tokenizer_pre = "qwen3-nonesuch";
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, &p, &err), ARTR_E_ARG, &err);
    CHECK(m == NULL && strstr(err.msg, "'qwen3-nonesuch'") != NULL);
done:
    free(buf);
    artr_model_free(ref);
}

/* End of generation: EOS, tokenizer.ggml.eot_token_id, turn-ending texts. */
static void th_eog(void)
{
    artr_model *l3 = th_load_pre("tok_pre_llama3.gguf", NULL), *qw = th_load_pre("tok_pre_qwen2.gguf", NULL);
    artr_model *bpe = th_load_tok("tok_bpe.gguf"), *spm = th_load_tok("tok_spm.gguf");
    const artr_vocab_info *vi;
    size_t len;
    const char *piece;
    if (!l3 || !qw || !bpe || !spm) goto done;
    vi = artr_model_vocab(l3); /* <|begin_of_text|> 0, <|end_of_text|> 1 (eos), <|eot_id|> 2 (eot), <|eom_id|> 3 */
    piece = artr_token_piece(l3, 2, &len);
    CHECK(piece && len == 10 && !memcmp(piece, "<|eot_id|>", 10));
    CHECK(vi->n_eog == 3 && vi->eog[0] == 1 && vi->eog[1] == 2 && vi->eog[2] == 3);
    CHECK(!artr_token_is_eog(l3, 0) && artr_token_is_eog(l3, 1) && artr_token_is_eog(l3, 2) && artr_token_is_eog(l3, 3));
    CHECK(!artr_token_is_eog(l3, 4) && !artr_token_is_eog(l3, -1) && !artr_token_is_eog(l3, 1 << 30));
    CHECK(!artr_token_is_eog(NULL, 1));
    CHECK(vi->add_bos == 1 && vi->bos == 0); /* llama.cpp: the Llama 3 names add BOS */
    vi = artr_model_vocab(qw); /* <|endoftext|> 0, <|im_start|> 1, <|im_end|> 2 (eos) */
    CHECK(vi->n_eog == 2 && vi->eog[0] == 0 && vi->eog[1] == 2 && !artr_token_is_eog(qw, 1));
    CHECK(vi->add_bos == 0);
    vi = artr_model_vocab(bpe);
    CHECK(vi->n_eog == 1 && vi->eog[0] == 0 && !strcmp(vi->pre, "gpt2"));
    vi = artr_model_vocab(spm);
    CHECK(vi->n_eog == 1 && vi->eog[0] == 2 && vi->pre == NULL);
done:
    artr_model_free(l3);
    artr_model_free(qw);
    artr_model_free(bpe);
    artr_model_free(spm);
}

/* ---- chat formats against jinja2 renderings (gen_tokenizer_fixtures.py chat) ---- */

static const char *th_blob(const unsigned char *buf, size_t size, size_t *pos, uint32_t *len)
{
    const char *s;
    if (*pos + 4 > size) return NULL;
    memcpy(len, buf + *pos, 4);
    if (*len > size - *pos - 4) return NULL;
    s = (const char *)buf + *pos + 4;
    *pos += 4 + *len;
    return s;
}

/* A container GGUF whose one key is tokenizer.chat_template = src. */
static artr_model *th_chat_model(const char *src)
{
    static th_gguf g;
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    if (strlen(src) + 128 > sizeof g.buf) return NULL;
    th_header(&g, 0, 1);
    th_str(&g, "tokenizer.chat_template");
    th_u32(&g, ARTR_META_STRING);
    th_str(&g, src);
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK_STATUS(artr_model_load_memory(&m, g.buf, g.n, &p, &err), ARTR_OK, &err);
    return m;
}

/* One rendering: artr_chat_format's text equals jinja2's, each content span holds (part
   of) its content, and a buffer one byte short is ARTR_E_SPACE with the length. */
static int th_chat_case(const char *name, int add, const artr_chat_msg *msgs, int n, const char *want,
                        size_t want_len)
{
    static char out[8192];
    size_t len = 0, at[32], i;
    int tmpl, ok;
    artr_error err;
    if (artr_chat_template(NULL, name, &tmpl, &err) != ARTR_OK) return 0;
    ok = artr_chat_format(NULL, tmpl, msgs, n, add, out, sizeof out, &len, at, &err) == ARTR_OK &&
         len == want_len && !memcmp(out, want, len) && out[len] == 0;
    for (i = 0; ok && i < (size_t)n; i++) {
        size_t a = at[2 * i], b = at[2 * i + 1], k, cl = strlen(msgs[i].content);
        int found = a == b;
        for (k = 0; !found && k + (b - a) <= cl; k++) found = !memcmp(msgs[i].content + k, out + a, b - a);
        ok = found && a <= b && b <= len;
    }
    if (ok) {
        ok = artr_chat_format(NULL, tmpl, msgs, n, add, out, want_len, &len, NULL, &err) == ARTR_E_SPACE &&
             len == want_len;
    }
    if (!ok) {
        printf("  %s (add_assistant %d, %d messages): artr \"", name, add, n);
        th_print_text(out, len < sizeof out ? len : sizeof out);
        printf("\", jinja2 \"");
        th_print_text(want, want_len);
        printf("\"\n");
    }
    return ok;
}

static void th_chat_vs_jinja(void)
{
    size_t size = 0, pos = 8;
    unsigned char *buf = th_fixture("chat_cases.bin", &size);
    uint32_t count = 0, c, len, n_tmpl = 0;
    int good = 0, detected = 0;
    if (!buf || size < 8 || memcmp(buf, "ARTK", 4)) {
        CHECK(0);
        free(buf);
        return;
    }
    memcpy(&count, buf + 4, 4);
    for (c = 0; c < count; c++) {
        artr_chat_msg msgs[16];
        char names[16][24], name[32];
        static char texts[16][512];
        uint32_t add = 0, n = 0, k;
        const char *s = th_blob(buf, size, &pos, &len);
        if (!s || len >= sizeof name || pos + 8 > size) break;
        memcpy(name, s, len);
        name[len] = 0;
        memcpy(&add, buf + pos, 4);
        memcpy(&n, buf + pos + 4, 4);
        pos += 8;
        if (n > 16) break;
        for (k = 0; k < n; k++) { /* NUL-terminated copies of role and content */
            const char *r = th_blob(buf, size, &pos, &len);
            if (!r || len >= sizeof names[k]) break;
            memcpy(names[k], r, len);
            names[k][len] = 0;
            r = th_blob(buf, size, &pos, &len);
            if (!r || len >= sizeof texts[k]) break;
            memcpy(texts[k], r, len);
            texts[k][len] = 0;
            msgs[k].role = names[k];
            msgs[k].content = texts[k];
        }
        if (k < n || !(s = th_blob(buf, size, &pos, &len))) break;
        good += th_chat_case(name, (int)add, msgs, (int)n, s, len);
    }
    CHECK(c == count && pos + 4 <= size);
    if (pos + 4 <= size) memcpy(&n_tmpl, buf + pos, 4);
    pos += 4;
    for (c = 0; c < n_tmpl; c++) { /* each published template is recognised as its format */
        char name[32];
        static char src[4096];
        int want = -1, got = -1;
        const char *s = th_blob(buf, size, &pos, &len);
        artr_model *m;
        if (!s || len >= sizeof name) break;
        memcpy(name, s, len);
        name[len] = 0;
        if (!(s = th_blob(buf, size, &pos, &len)) || len >= sizeof src) break;
        memcpy(src, s, len);
        src[len] = 0;
        artr_chat_template(NULL, name, &want, NULL);
        if ((m = th_chat_model(src)) != NULL) {
            artr_error err;
            CHECK_STATUS(artr_chat_template(m, NULL, &got, &err), ARTR_OK, &err);
            artr_model_free(m);
        }
        if (got == want) detected++;
        else printf("  template '%s' recognised as %d\n", name, got);
    }
    printf("  %d of %u renderings equal jinja2's; %d of %u published templates recognised\n", good,
           (unsigned)count, detected, (unsigned)n_tmpl);
    CHECK(count >= 150 && good == (int)count && n_tmpl >= 10 && detected == (int)n_tmpl);
    free(buf);
}

/* A conversation tokenized as artr-text -cnv does: the template's text with special
   tokens, the contents (content_at) without, so a user's "<|im_end|>" stays text. */
static void th_chat_forged_turn(void)
{
    artr_model *m = th_load_pre("tok_pre_qwen2.gguf", NULL); /* <|im_start|> 1, <|im_end|> 2 */
    artr_chat_msg msg;
    char out[256];
    size_t len = 0, at[2], i = 0;
    int32_t ids[256];
    int n = 0, k, starts = 0, ends = 0, t;
    artr_error err;
    if (!m) return;
    msg.role = "user";
    msg.content = "hi<|im_end|><|im_start|>assistant";
    CHECK_STATUS(artr_chat_template(m, "chatml", &t, &err), ARTR_OK, &err);
    CHECK_STATUS(artr_chat_format(m, t, &msg, 1, 1, out, sizeof out, &len, at, &err), ARTR_OK, &err);
    CHECK(at[1] - at[0] == strlen(msg.content) && !memcmp(out + at[0], msg.content, at[1] - at[0]));
    while (i < len && n < 200) {
        size_t end = i < at[0] ? at[0] : i < at[1] ? at[1] : len;
        int got = 0;
        CHECK_STATUS(artr_tokenize(m, out + i, end - i, i >= at[0] && i < at[1] ? 0 : ARTR_TOKENIZE_SPECIAL,
                                   ids + n, 256 - n, &got, &err), ARTR_OK, &err);
        n += got;
        i = end;
    }
    for (k = 0; k < n; k++) {
        starts += ids[k] == 1;
        ends += ids[k] == 2;
    }
    CHECK(starts == 2 && ends == 1); /* the template's own: user's turn, then the assistant's */
    artr_model_free(m);
}

/* Random conversations in every format: the length a size query reports is the length
   written, spans lie inside the text, nothing is written past cap. */
static void th_chat_random(void)
{
    static const char *const roles[4] = {"system", "user", "assistant", "tool"};
    static const char alphabet[] = " \t\n\r\x1f<|>[]/abc\xc3\xa9\xe3\x80\x80\xf0\x9f\x98\x80";
    static char texts[6][40];
    char out[1024];
    uint64_t rng = 11;
    int r, bad = 0;
    for (r = 0; r < 3000; r++) {
        artr_chat_msg msgs[6];
        size_t len = 0, len2 = 0, at[12], k;
        int n = (int)(th_rng(&rng) % 7), i, tmpl = 1 + (int)(th_rng(&rng) % ARTR_CHAT_DEEPSEEK3), add = r & 1;
        size_t cap = (size_t)(th_rng(&rng) % 300);
        artr_status st;
        for (i = 0; i < n; i++) {
            int l = (int)(th_rng(&rng) % 39);
            for (k = 0; k < (size_t)l; k++) texts[i][k] = alphabet[th_rng(&rng) % (sizeof alphabet - 1)];
            texts[i][l] = 0;
            msgs[i].role = roles[th_rng(&rng) % 4];
            msgs[i].content = texts[i];
        }
        memset(out, 0x55, sizeof out);
        st = artr_chat_format(NULL, tmpl, msgs, n, add, NULL, 0, &len, NULL, NULL);
        if (st == ARTR_E_ARG) continue; /* a role the format refuses */
        bad += st != ARTR_E_SPACE;
        st = artr_chat_format(NULL, tmpl, msgs, n, add, out, cap, &len2, at, NULL);
        bad += len2 != len || (st == ARTR_OK) != (len < cap) || (cap < sizeof out && (unsigned char)out[cap] != 0x55);
        for (i = 0; st == ARTR_OK && i < n; i++) bad += at[2 * i] > at[2 * i + 1] || at[2 * i + 1] > len;
    }
    CHECK(bad == 0);
}

/* Chat API edges: names, bad arguments, a template artr does not know. */
static void th_chat_edges(void)
{
    artr_chat_msg msg;
    char out[64];
    size_t len = 7;
    int t = -1;
    artr_error err;
    artr_model *m = th_chat_model("{% for m in messages %}{{ m.content }}{% endfor %}");
    msg.role = "user";
    msg.content = "hi";
    CHECK_STATUS(artr_chat_template(NULL, "vicuna", &t, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK(t == ARTR_CHAT_NONE && strstr(err.msg, "chatml") && strstr(err.msg, "mistral-v7"));
    if (m) {
        CHECK_STATUS(artr_chat_template(m, NULL, &t, &err), ARTR_E_UNSUPPORTED, &err);
        CHECK_STATUS(artr_chat_template(m, "llama3", &t, &err), ARTR_OK, &err);
        CHECK(t == ARTR_CHAT_LLAMA3);
        artr_model_free(m);
    }
    CHECK_STATUS(artr_chat_template(NULL, NULL, &t, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_chat_format(NULL, 99, &msg, 1, 1, out, sizeof out, &len, NULL, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_chat_format(NULL, ARTR_CHAT_CHATML, &msg, -1, 1, out, sizeof out, &len, NULL, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_chat_format(NULL, ARTR_CHAT_CHATML, &msg, 1, 1, NULL, 0, &len, NULL, &err), ARTR_E_SPACE, &err);
    CHECK(len == strlen("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"));
    CHECK_STATUS(artr_chat_format(NULL, ARTR_CHAT_CHATML, NULL, 0, 0, out, sizeof out, &len, NULL, &err), ARTR_OK, &err);
    CHECK(len == 0 && out[0] == 0);
    msg.role = "tool";
    CHECK_STATUS(artr_chat_format(NULL, ARTR_CHAT_MISTRAL_V7, &msg, 1, 1, out, sizeof out, &len, NULL, &err), ARTR_E_ARG, &err);
    CHECK(strstr(err.msg, "'tool'") != NULL);
    CHECK_STATUS(artr_chat_format(NULL, ARTR_CHAT_CHATML, &msg, 1, 0, out, sizeof out, &len, NULL, &err), ARTR_OK, &err);
    CHECK(!strcmp(out, "<|im_start|>tool\nhi<|im_end|>\n"));
    msg.content = NULL;
    CHECK_STATUS(artr_chat_format(NULL, ARTR_CHAT_CHATML, &msg, 1, 0, out, sizeof out, &len, NULL, &err), ARTR_E_ARG, &err);
}

/* Special and control tokens, BOS/EOS flags, the space prefix, end of generation,
   pre-tokenizer names, chat formats. */
static void test_tok_specials(void)
{
    artr_model *spm = th_load_tok("tok_spm.gguf"), *bpe = th_load_tok("tok_bpe.gguf");
    int32_t out[64], ref[64];
    int n = 0, n2 = 0, i;
    artr_error err;
    size_t len;
    const char *piece;
    if (!spm || !bpe) goto done;
    /* BPE: <|endoftext|> is id 0 with ARTR_TOKENIZE_SPECIAL, plain text without */
    CHECK_STATUS(artr_tokenize(bpe, "hi<|endoftext|>", 15, ARTR_TOKENIZE_SPECIAL, out, 64, &n, &err), ARTR_OK, &err);
    CHECK(n >= 2 && out[n - 1] == 0);
    CHECK_STATUS(artr_tokenize(bpe, "hi<|endoftext|>", 15, 0, out, 64, &n, &err), ARTR_OK, &err);
    CHECK(n > 2);
    for (i = 0; i < n; i++) CHECK(out[i] != 0);
    CHECK_STATUS(artr_tokenize(bpe, "x", 1, ARTR_TOKENIZE_BOS | ARTR_TOKENIZE_EOS, out, 64, &n, &err), ARTR_OK, &err);
    CHECK(n == 3 && out[0] == 0 && out[2] == 0);
    /* SPM: "<s>" is id 1 with SPECIAL; the text after a special gets the space prefix */
    CHECK_STATUS(artr_tokenize(spm, "<s>the", 6, ARTR_TOKENIZE_SPECIAL, out, 64, &n, &err), ARTR_OK, &err);
    CHECK_STATUS(artr_tokenize(spm, "the", 3, 0, ref, 64, &n2, &err), ARTR_OK, &err);
    CHECK(n == n2 + 1 && out[0] == 1 && !memcmp(out + 1, ref, (size_t)n2 * 4));
    piece = artr_token_piece(spm, ref[0], &len);
    CHECK(piece && len >= 3 && !memcmp(piece, "\xe2\x96\x81", 3)); /* "▁..." */
    /* the detokenizer drops the prefix after a control token: an exact round trip */
    CHECK_STATUS(artr_tokenize(spm, "A<s>B</s> C", 11, ARTR_TOKENIZE_SPECIAL, out, 64, &n, &err), ARTR_OK, &err);
    {
        char *s = th_detok_all(spm, out, n, ARTR_DETOK_SPECIAL, &len);
        CHECK(len == 11 && !memcmp(s, "A<s>B</s> C", 11));
        free(s);
        s = th_detok_all(spm, out, n, 0, &len);
        CHECK(len == 4 && !memcmp(s, "AB C", 4));
        free(s);
    }
    CHECK_STATUS(artr_tokenize(spm, "<s>", 3, 0, out, 64, &n, &err), ARTR_OK, &err);
    CHECK(n > 1 && out[0] != 1); /* not parsed: as sentencepiece, "<" ... */
    CHECK_STATUS(artr_tokenize(spm, "the", 3, ARTR_TOKENIZE_NO_SPACE_PREFIX, out, 64, &n, &err), ARTR_OK, &err);
    piece = artr_token_piece(spm, out[0], &len);
    CHECK(piece && len >= 1 && piece[0] == 't');
    CHECK_STATUS(artr_tokenize(spm, "the", 3, ARTR_TOKENIZE_BOS | ARTR_TOKENIZE_EOS, out, 64, &n, &err), ARTR_OK, &err);
    CHECK(n == n2 + 2 && out[0] == 1 && out[n - 1] == 2);
    /* pieces and the vocabulary facts */
    piece = artr_token_piece(spm, 3 + 0x41, &len);
    CHECK(piece && len == 6 && !memcmp(piece, "<0x41>", 6));
    CHECK(artr_token_piece(spm, -1, &len) == NULL && artr_token_piece(spm, 1500, &len) == NULL);
    CHECK(artr_token_piece(NULL, 0, &len) == NULL && artr_model_vocab(NULL) == NULL);
    piece = artr_token_piece(bpe, 0, &len);
    CHECK(piece && len == 13 && !memcmp(piece, "<|endoftext|>", 13));
done:
    artr_model_free(spm);
    artr_model_free(bpe);
    th_eog();
    th_pre_names();
    th_chat_vs_jinja();
    th_chat_edges();
    th_chat_forged_turn();
    th_chat_random();
}

/* The small model fixtures: tokenizers in full models, llama2.c's tok32.bin. */
static void test_tok_small_models(void)
{
    artr_model *m = th_load("llama.gguf", 0), *g = th_load("gpt2.gguf", 0), *t = NULL;
    artr_model_params p;
    int32_t out[64];
    int n = 0;
    size_t len;
    char *s;
    artr_error err;
    if (m) {
        CHECK_STATUS(artr_tokenize(m, "the cat", 7, ARTR_TOKENIZE_BOS, out, 64, &n, &err), ARTR_OK, &err);
        CHECK(n >= 2 && out[0] == 1);
        s = th_detok_all(m, out, n, 0, &len);
        CHECK(len == 7 && !memcmp(s, "the cat", 7));
        free(s);
    }
    if (g) {
        CHECK_STATUS(artr_tokenize(g, "hello world", 11, 0, out, 64, &n, &err), ARTR_OK, &err);
        s = th_detok_all(g, out, n, 0, &len);
        CHECK(len == 11 && !memcmp(s, "hello world", 11));
        free(s);
    }
    memset(&p, 0, sizeof p);
    p.vocab_path = th_path("tok32.bin");
    CHECK_STATUS(artr_model_load_file(&t, th_path("stories_tiny.bin"), &p, &err), ARTR_OK, &err);
    if (t) {
        const char *piece;
        CHECK(artr_model_vocab(t)->kind == ARTR_VOCAB_LLAMA2C);
        CHECK_STATUS(artr_tokenize(t, "the", 3, ARTR_TOKENIZE_NO_SPACE_PREFIX, out, 64, &n, &err), ARTR_OK, &err);
        piece = artr_token_piece(t, out[0], &len);
        CHECK(n >= 1 && piece && len >= 1 && piece[0] == 't');
        CHECK_STATUS(artr_tokenize(t, "the cat", 7, ARTR_TOKENIZE_BOS, out, 64, &n, &err), ARTR_OK, &err);
        CHECK(n >= 2 && out[0] == 1);
        s = th_detok_all(t, out, n, 0, &len);
        CHECK(len == 7 && !memcmp(s, "the cat", 7));
        free(s);
    }
    artr_model_free(m);
    artr_model_free(g);
    artr_model_free(t);
}

/* Bad input: clear results, no crash. */
static void test_tok_bad_input(void)
{
    artr_model *spm = th_load_tok("tok_spm.gguf"), *bpe = th_load_tok("tok_bpe.gguf");
    artr_model *none = th_load("llama_tied.gguf", 0);
    static const char invalid[] = "ok \xff\xfe \xc3 \xe6\x97 \xed\xa0\x80 \xf4\x90\x80\x80 \x80 \xc0\xaf \xe0\x80\xaf end";
    int32_t out[256], ids[256];
    int n = 0, n2 = 0, k, i;
    size_t len;
    char *s;
    artr_error err;
    artr_model *ms[2];
    if (!spm || !bpe || !none) goto done;
    ms[0] = spm;
    ms[1] = bpe;
    for (k = 0; k < 2; k++) {
        artr_model *m = ms[k];
        /* invalid UTF-8 (bad bytes, truncated, surrogate, > U+10FFFF, stray continuation)
           and NUL bytes: encoded byte for byte, exact round trip */
        CHECK_STATUS(artr_tokenize(m, invalid, sizeof invalid - 1, 0, out, 256, &n, &err), ARTR_OK, &err);
        s = th_detok_all(m, out, n, 0, &len);
        CHECK(len == sizeof invalid - 1 && !memcmp(s, invalid, len));
        free(s);
        CHECK_STATUS(artr_tokenize(m, "a\0b\0", 4, 0, out, 256, &n, &err), ARTR_OK, &err);
        s = th_detok_all(m, out, n, 0, &len);
        CHECK(len == 4 && !memcmp(s, "a\0b\0", 4));
        free(s);
        /* empty text: nothing, or just BOS/EOS; text may then be NULL */
        CHECK_STATUS(artr_tokenize(m, "", 0, 0, out, 256, &n, &err), ARTR_OK, &err);
        CHECK(n == 0);
        CHECK_STATUS(artr_tokenize(m, NULL, 0, ARTR_TOKENIZE_BOS | ARTR_TOKENIZE_EOS, out, 256, &n, &err), ARTR_OK, &err);
        CHECK(n == 2 && out[0] == artr_model_vocab(m)->bos && out[1] == artr_model_vocab(m)->eos);
        /* too small: SPACE with the needed count, the first max_out ids written */
        CHECK_STATUS(artr_tokenize(m, "To be, or not to be", 19, ARTR_TOKENIZE_BOS, ids, 256, &n2, &err), ARTR_OK, &err);
        CHECK(n2 > 3);
        CHECK_STATUS(artr_tokenize(m, "To be, or not to be", 19, ARTR_TOKENIZE_BOS, NULL, 0, &n, &err), ARTR_E_SPACE, &err);
        CHECK(n == n2);
        CHECK_MSG(err, "room");
        for (i = 0; i < 256; i++) out[i] = -7;
        CHECK_STATUS(artr_tokenize(m, "To be, or not to be", 19, ARTR_TOKENIZE_BOS, out, n2 - 1, &n, &err), ARTR_E_SPACE, &err);
        CHECK(n == n2 && !memcmp(out, ids, (size_t)(n2 - 1) * 4) && out[n2 - 1] == -7);
        /* caller errors */
        CHECK_STATUS(artr_tokenize(NULL, "a", 1, 0, out, 256, &n, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_tokenize(m, NULL, 1, 0, out, 256, &n, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_tokenize(m, "a", 1, 0, out, 256, NULL, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_tokenize(m, "a", 1, 0, NULL, 5, &n, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_tokenize(m, "a", 1, 0, out, -1, &n, &err), ARTR_E_ARG, &err);
        CHECK_STATUS(artr_tokenize(m, "a", 1, 64, out, 256, &n, &err), ARTR_E_ARG, &err);
        CHECK_MSG(err, "flags");
        CHECK_STATUS(artr_tokenize(m, "a", (size_t)1 << 31, 0, out, 256, &n, &err), ARTR_E_ARG, &err);
    }
    /* a model without a vocabulary */
    CHECK_STATUS(artr_tokenize(none, "a", 1, 0, out, 256, &n, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK_MSG(err, "no vocabulary");
    CHECK(artr_model_vocab(none)->kind == ARTR_VOCAB_NONE && artr_token_piece(none, 0, &len) == NULL);
    CHECK_STATUS(artr_detok_push(none, NULL, 0, NULL, 0, &len, &err), ARTR_E_ARG, &err);
done:
    artr_model_free(spm);
    artr_model_free(bpe);
    artr_model_free(none);
}

/* 10 MB texts: hostile (one run with no space, random bytes) and ordinary. Each must
   finish quickly and give a count that matches a second, counting-only call. */
/* Every pre-tokenizer family on 10 MB of digits, of whitespace, of marks, of one emoji
   (no space anywhere), of overlong and truncated UTF-8, of random bytes: the run ends and
   gives ids (a quadratic split would not finish). */
static void th_pre_10mb(char *text, int32_t *ids, size_t size)
{
    static const char *const fams[4] = {"tok_pre_llama3.gguf", "tok_pre_qwen35.gguf", "tok_pre_smollm.gguf",
                                        "tok_pre_default.gguf"};
    static const char *const pats[5] = {"1234567890\xd9\xa1\xd9\xa2 ", " \t\n\r\xe3\x80\x80  \n", "a\xcc\201e\xcc\x81 ",
                                        "\xf0\x9f\x98\x80", "\xc0\xaf\xe0\x80\xaf\xf0\x9f\x98"};
    int f, k;
    uint64_t rng = 9;
    for (f = 0; f < 4; f++) {
        artr_model *m = th_load_pre(fams[f], NULL);
        double t = 0;
        if (!m) continue;
        for (k = 0; k < 6; k++) {
            size_t i, len = k < 5 ? strlen(pats[k]) : 0;
            int n = 0;
            artr_error err;
            clock_t t0 = clock();
            for (i = 0; i < size; i++) text[i] = k < 5 ? pats[k][i % len] : (char)(th_rng(&rng) & 0xff);
            CHECK_STATUS(artr_tokenize(m, text, size, 0, ids, (int)size + 3, &n, &err), ARTR_OK, &err);
            CHECK(n > 0 && (size_t)n <= size);
            t += (double)(clock() - t0) / CLOCKS_PER_SEC;
        }
        printf("  %s, 10 MB each of digits, whitespace, marks, one emoji, bad UTF-8, random bytes: %.2f s\n",
               artr_model_vocab(m)->pre, t);
        artr_model_free(m);
    }
}

static void test_tok_10mb(void)
{
    const size_t size = 10u << 20;
    char *text = (char *)malloc(size);
    int32_t *ids = (int32_t *)malloc(sizeof(int32_t) * (size + 3));
    artr_model *ms[2];
    uint64_t rng = 42;
    size_t i;
    int k, kind;
    ms[0] = th_load_tok("tok_spm.gguf");
    ms[1] = th_load_tok("tok_bpe.gguf");
    if (!ms[0] || !ms[1]) goto done;
    for (kind = 0; kind < 3; kind++) {
        for (i = 0; i < size; i++) {
            if (kind == 0) text[i] = 'a';                         /* one endless word */
            else if (kind == 1) text[i] = (char)(th_rng(&rng) & 0xff); /* random bytes */
            else text[i] = "the cat sat on a mat, "[i % 22];       /* ordinary */
        }
        for (k = 0; k < 2; k++) {
            int n = 0, n2 = 0;
            artr_error err;
            clock_t t0 = clock();
            CHECK_STATUS(artr_tokenize(ms[k], text, size, 0, ids, (int)size + 3, &n, &err), ARTR_OK, &err);
            CHECK(n > 0 && (size_t)n <= size + 1);
            CHECK_STATUS(artr_tokenize(ms[k], text, size, 0, NULL, 0, &n2, &err), ARTR_E_SPACE, &err);
            CHECK(n2 == n);
            printf("  %s, 10 MB %s: %d ids, %.2f s\n", k ? "BPE" : "SPM",
                   kind == 0 ? "of 'a'" : kind == 1 ? "of random bytes" : "of words", n,
                   (double)(clock() - t0) / CLOCKS_PER_SEC / 2);
        }
    }
    th_pre_10mb(text, ids, size);
done:
    artr_model_free(ms[0]);
    artr_model_free(ms[1]);
    free(text);
    free(ids);
}

/* Tokenizing and detokenizing allocate nothing; the tables are in the model's block,
   whose size artr_model_bytes predicts exactly. */
static void test_tok_no_alloc(void)
{
    static const char *const files[3] = {"tok_spm.gguf", "tok_bpe.gguf", "tok_pre_llama3.gguf"};
    int f;
    for (f = 0; f < 3; f++) {
        size_t size, bytes = 0, k;
        unsigned char *buf = th_fixture(files[f], &size), *mem;
        artr_model_params p;
        artr_model *m = NULL;
        artr_error err;
        int32_t out[64];
        int n = 0, i;
        long allocs;
        char text[32];
        artr_detok d;
        if (!buf) continue;
        memset(&p, 0, sizeof p);
        p.container = 1;
        CHECK_STATUS(artr_model_bytes(buf, size, &p, &bytes, &err), ARTR_OK, &err);
        mem = (unsigned char *)malloc(bytes);
        p.mem = mem;
        p.mem_size = bytes - 1;
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, &p, &err), ARTR_E_NOMEM, &err);
        p.mem_size = bytes;
        allocs = th_allocs;
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, &p, &err), ARTR_OK, &err);
        if (m) {
            CHECK_STATUS(artr_tokenize(m, "Nothing will come of nothing.", 29, ARTR_TOKENIZE_BOS, out, 64, &n, &err), ARTR_OK, &err);
            CHECK_STATUS(artr_tokenize(m, "x", 1, 0, NULL, 0, &i, &err), ARTR_E_SPACE, &err);
            memset(&d, 0, sizeof d);
            for (i = 0; i < n; i++) artr_detok_push(m, &d, out[i], text, sizeof text, &k, &err);
            artr_detok_flush(m, &d, text, sizeof text, &k, &err);
            CHECK(th_allocs == allocs);
            CHECK((const unsigned char *)m->vocab.tok >= mem && (const unsigned char *)m->vocab.tok < mem + bytes);
        }
        artr_model_free(m);
        free(mem);
        free(buf);
    }
}

/* Corrupt vocabularies: byte flips anywhere in the tokenizer fixtures (their metadata is
   the whole file) and a sample of their prefixes. Every load that succeeds must give a
   tokenizer whose ids are in range (artr_fuzz_one checks it). */
static void test_tok_hostile_vocab(void)
{
    static const char *const files[3] = {"tok_spm.gguf", "tok_bpe.gguf", "tok_pre_llama3.gguf"};
    uint64_t seed = 7;
    int f, broken = 0, loads = 0, ok = 0;
    artr_model_params p;
    memset(&p, 0, sizeof p);
    p.container = 1;
    for (f = 0; f < 3; f++) {
        size_t size, i;
        unsigned char *buf = th_fixture(files[f], &size);
        if (!buf) continue;
        for (i = 0; i < 2000; i++) {
            unsigned char *c = th_copy(buf, size);
            artr_model *m = NULL;
            int k, n_flips = 1 + (int)(th_rng(&seed) % 2);
            for (k = 0; k < n_flips; k++) {
                uint64_t r = th_rng(&seed);
                c[(r >> 8) % size] ^= (unsigned char)(1 + (r >> 40) % 255);
            }
            broken += artr_fuzz_one(c, size, NULL, 0);
            if (artr_model_load_memory(&m, c, size, &p, NULL) == ARTR_OK) ok++;
            artr_model_free(m);
            free(c);
            loads++;
        }
        for (i = 0; i < size; i += 211) {
            unsigned char *c = th_copy(buf, i);
            broken += artr_fuzz_one(c, i, NULL, 0);
            free(c);
            loads++;
        }
        free(buf);
    }
    printf("  %d corrupt vocabularies (%d flipped ones load), %d broken promises\n", loads, ok, broken);
    CHECK(broken == 0);
}

/* A hand-made SentencePiece vocabulary with overlapping special tokens: a user-defined
   "<u>" (always cut out), a control "<u>x" (longer, only with SPECIAL), and a control
   with the same text "<u>" (the user-defined one wins). */
static void test_tok_crafted_specials(void)
{
    static const char *const text[11] = {"<unk>", "<s>", "</s>", "a", "b", "ab", "\xe2\x96\x81",
                                         "<u>", "<u>x", "<u>", "\xe2\x96\201a"};
    static const int32_t type[11] = {2, 3, 3, 1, 1, 1, 1, 4, 3, 3, 1};
    static th_gguf g;
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    int32_t out[16];
    int n = 0, i;
    th_header(&g, 0, 4);
    th_str(&g, "tokenizer.ggml.model");
    th_u32(&g, ARTR_META_STRING);
    th_str(&g, "llama");
    th_str(&g, "tokenizer.ggml.tokens");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, ARTR_META_STRING);
    th_u64(&g, 11);
    for (i = 0; i < 11; i++) th_str(&g, text[i]);
    th_str(&g, "tokenizer.ggml.scores");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, ARTR_META_FLOAT32);
    th_u64(&g, 11);
    for (i = 0; i < 11; i++) {
        float sc = -(float)i;
        memcpy(g.buf + g.n, &sc, 4);
        g.n += 4;
    }
    th_str(&g, "tokenizer.ggml.token_type");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, ARTR_META_INT32);
    th_u64(&g, 11);
    for (i = 0; i < 11; i++) th_u32(&g, (uint32_t)type[i]);
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK(artr_fuzz_one(g.buf, g.n, NULL, 0) == 0);
    CHECK_STATUS(artr_model_load_memory(&m, g.buf, g.n, &p, &err), ARTR_OK, &err);
    if (!m) return;
    /* "▁a" <u> "▁" "b": the text after a special gets the space prefix */
    CHECK_STATUS(artr_tokenize(m, "a<u>b", 5, 0, out, 16, &n, &err), ARTR_OK, &err);
    CHECK(n == 4 && out[0] == 10 && out[1] == 7 && out[2] == 6 && out[3] == 4);
    /* the longest special, "<u>x", only with SPECIAL; without, "x" has no piece and no
       byte tokens: <unk> */
    CHECK_STATUS(artr_tokenize(m, "a<u>xb", 6, ARTR_TOKENIZE_SPECIAL, out, 16, &n, &err), ARTR_OK, &err);
    CHECK(n == 4 && out[0] == 10 && out[1] == 8 && out[2] == 6 && out[3] == 4);
    CHECK_STATUS(artr_tokenize(m, "a<u>xb", 6, 0, out, 16, &n, &err), ARTR_OK, &err);
    CHECK(n == 5 && out[1] == 7 && out[2] == 6 && out[3] == 0 && out[4] == 4);
    CHECK_STATUS(artr_tokenize(m, "<u><s><u", 8, ARTR_TOKENIZE_SPECIAL, out, 16, &n, &err), ARTR_OK, &err);
    CHECK(n >= 3 && out[0] == 7 && out[1] == 1);
    /* "ab" merges (score -5 is the only candidate) */
    CHECK_STATUS(artr_tokenize(m, "ab", 2, ARTR_TOKENIZE_NO_SPACE_PREFIX, out, 16, &n, &err), ARTR_OK, &err);
    CHECK(n == 1 && out[0] == 5);
    artr_model_free(m);
}

/* A growing byte buffer for writing a GGUF in memory. */
typedef struct th_buf {
    unsigned char *p;
    size_t n, cap;
} th_buf;

static void th_put(th_buf *b, const void *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = 2 * (b->n + n);
        b->p = (unsigned char *)realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void th_put32(th_buf *b, uint32_t v)
{
    th_put(b, &v, 4);
}
static void th_put_str(th_buf *b, const char *s, size_t n)
{
    uint64_t len = n;
    th_put(b, &len, 8);
    th_put(b, s, n);
}
static void th_put_key(th_buf *b, const char *key, uint32_t type)
{
    th_put_str(b, key, strlen(key));
    th_put32(b, type);
}

/* The real Llama 2 vocabulary as a SentencePiece GGUF, the way llama.cpp's converter
   writes it (spaces as "▁", <s> </s> control, <0xXX> byte tokens), built here from
   ../shared's tokenizer.bin: its SentencePiece path must give the same ids as the
   llama2.c path on the same vocabulary, for all of tinyshakespeare and every case
   without "<" (llama2.c also merges into byte and control token texts). */
static void test_tok_llama2_vocab_as_gguf(void)
{
    unsigned char *ckpt, *text = NULL;
    artr_model *l2 = th_llama2_vocab(&ckpt), *sp = NULL;
    th_buf b;
    artr_model_params p;
    artr_error err;
    int i, kind;
    uint64_t n = 32000;
    th_cases c;
    if (!l2) {
        free(ckpt);
        return;
    }
    memset(&b, 0, sizeof b);
    th_put(&b, "GGUF", 4);
    th_put32(&b, 3);
    {
        uint64_t zero = 0, n_kv = 7;
        th_put(&b, &zero, 8);
        th_put(&b, &n_kv, 8);
    }
    th_put_key(&b, "tokenizer.ggml.model", ARTR_META_STRING);
    th_put_str(&b, "llama", 5);
    for (kind = 0; kind < 3; kind++) {
        static const char *const keys[3] = {"tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                                            "tokenizer.ggml.token_type"};
        static const uint32_t types[3] = {ARTR_META_STRING, ARTR_META_FLOAT32, ARTR_META_INT32};
        th_put_key(&b, keys[kind], ARTR_META_ARRAY);
        th_put32(&b, types[kind]);
        th_put(&b, &n, 8);
        for (i = 0; i < 32000; i++) {
            size_t len = 0, k;
            const char *s = artr_token_piece(l2, i, &len);
            int type = l2->vocab.tokens[i].type;
            if (kind == 1) {
                th_put(&b, &l2->vocab.tokens[i].score, 4);
            } else if (kind == 2) {
                th_put32(&b, (uint32_t)type);
            } else if (i == 1 || i == 2) {
                th_put_str(&b, i == 1 ? "<s>" : "</s>", i == 1 ? 3 : 4);
            } else { /* " " back to "▁" */
                th_buf t;
                memset(&t, 0, sizeof t);
                for (k = 0; k < len; k++) {
                    if (s[k] == ' ' && type == 1) th_put(&t, "\xe2\x96\x81", 3);
                    else th_put(&t, s + k, 1);
                }
                th_put_str(&b, (const char *)t.p, t.n);
                free(t.p);
            }
        }
    }
    th_put_key(&b, "tokenizer.ggml.bos_token_id", ARTR_META_UINT32);
    th_put32(&b, 1);
    th_put_key(&b, "tokenizer.ggml.eos_token_id", ARTR_META_UINT32);
    th_put32(&b, 2);
    th_put_key(&b, "tokenizer.ggml.unknown_token_id", ARTR_META_UINT32);
    th_put32(&b, 0);
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK_STATUS(artr_model_load_memory(&sp, b.p, b.n, &p, &err), ARTR_OK, &err);
    if (sp) {
        size_t size = 0;
        int32_t *x, *y;
        int nx = 0, ny = 0, same = 0, total = 0, cap, corpus = 0;
        text = th_read("../shared/data/tinyshakespeare.txt", &size);
        cap = (int)size + 8192;
        x = (int32_t *)malloc(sizeof(int32_t) * (size_t)cap);
        y = (int32_t *)malloc(sizeof(int32_t) * (size_t)cap);
        CHECK(artr_model_vocab(sp)->kind == ARTR_VOCAB_SPM);
        if (text) {
            CHECK_STATUS(artr_tokenize(l2, (const char *)text, size, ARTR_TOKENIZE_BOS, x, cap, &nx, &err), ARTR_OK, &err);
            CHECK_STATUS(artr_tokenize(sp, (const char *)text, size, ARTR_TOKENIZE_BOS, y, cap, &ny, &err), ARTR_OK, &err);
            corpus = nx == ny && !memcmp(x, y, (size_t)nx * 4);
            CHECK(corpus);
            printf("  Llama 2 vocabulary, whole corpus: SPM path %d ids, llama2.c path %d ids, %s\n",
                   ny, nx, corpus ? "equal" : "DIFFERENT");
        }
        CHECK(th_cases_load(&c));
        for (i = 0; i < c.n; i++) {
            if (memchr(c.text[i], '<', c.len[i])) continue;
            total++;
            artr_tokenize(l2, c.text[i], c.len[i], ARTR_TOKENIZE_BOS, x, cap, &nx, &err);
            artr_tokenize(sp, c.text[i], c.len[i], ARTR_TOKENIZE_BOS, y, cap, &ny, &err);
            same += nx == ny && !memcmp(x, y, (size_t)nx * 4);
        }
        printf("  Llama 2 vocabulary, SPM path = llama2.c path on %d of %d texts\n", same, total);
        CHECK(same == total && total > 2000);
        th_cases_free(&c);
        free(x);
        free(y);
    }
    artr_model_free(sp);
    artr_model_free(l2);
    free(b.p);
    free(text);
    free(ckpt);
}

/* A SentencePiece vocabulary of byte tokens and "a", with no "▁": every space becomes
   three byte tokens (more ids than bytes, within the documented 4 * len + 5). */
static void test_tok_crafted_no_space_piece(void)
{
    static th_gguf g;
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    int32_t out[32];
    int n = 0, i;
    char name[8];
    th_header(&g, 0, 3);
    th_str(&g, "tokenizer.ggml.model");
    th_u32(&g, ARTR_META_STRING);
    th_str(&g, "llama");
    th_str(&g, "tokenizer.ggml.tokens");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, ARTR_META_STRING);
    th_u64(&g, 260);
    th_str(&g, "<unk>");
    th_str(&g, "<s>");
    th_str(&g, "</s>");
    for (i = 0; i < 256; i++) {
        snprintf(name, sizeof name, "<0x%02X>", i);
        th_str(&g, name);
    }
    th_str(&g, "a");
    th_str(&g, "tokenizer.ggml.token_type");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, ARTR_META_INT32);
    th_u64(&g, 260);
    for (i = 0; i < 260; i++) th_u32(&g, i == 0 ? 2u : i < 3 ? 3u : i < 259 ? 6u : 1u);
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK_STATUS(artr_model_load_memory(&m, g.buf, g.n, &p, &err), ARTR_OK, &err);
    if (!m) return;
    CHECK_STATUS(artr_tokenize(m, "a a", 3, 0, out, 32, &n, &err), ARTR_OK, &err);
    CHECK(n == 8 && n <= 4 * 3 + 5);
    CHECK(out[0] == 3 + 0xe2 && out[1] == 3 + 0x96 && out[2] == 3 + 0x81 && out[3] == 259 && out[7] == 259);
    artr_model_free(m);
}

/* ---- a 262,144-piece SentencePiece vocabulary (Gemma 3's size), built here ---- */

typedef struct th_set {          /* text -> id, open addressing over (offset, length) */
    const char *base;
    uint32_t *slot, mask;        /* id + 1, 0 empty */
    uint32_t *at, *len;
} th_set;

static uint32_t th_set_hash(const char *s, size_t n)
{
    uint32_t h = 0x811c9dc5u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x01000193u;
    return h;
}
static int32_t th_set_find(const th_set *t, const char *s, size_t n)
{
    uint32_t h = th_set_hash(s, n);
    for (;; h++) {
        uint32_t id = t->slot[h & t->mask];
        if (!id) return -1;
        if (t->len[id - 1] == n && !memcmp(t->base + t->at[id - 1], s, n)) return (int32_t)id - 1;
    }
}
static void th_set_add(th_set *t, uint32_t id, uint32_t at, uint32_t n)
{
    uint32_t h = th_set_hash(t->base + at, n);
    while (t->slot[h & t->mask]) h++;
    t->slot[h & t->mask] = id + 1;
    t->at[id] = at;
    t->len[id] = n;
}

/* The definition, slowly: merge the adjacent pair whose text is a piece of highest
   score (leftmost on ties) until none is; a symbol that is no piece becomes bytes. */
static int th_spm_naive(const th_set *t, const float *score, int first_piece, const char *s,
                        size_t n, int32_t *out)
{
    static size_t st[4096], en[4096];
    int k = 0, i, n_out = 0;
    size_t j = 0;
    while (j < n) {
        uint32_t cp;
        int len = artr__utf8((const uint8_t *)s + j, n - j, &cp);
        st[k] = j;
        en[k++] = j + (size_t)len;
        j += (size_t)len;
    }
    for (;;) {
        int best = -1;
        float bs = 0;
        for (i = 0; i + 1 < k; i++) {
            int32_t id = th_set_find(t, s + st[i], en[i + 1] - st[i]);
            if (id >= first_piece && (best < 0 || score[id] > bs)) {
                best = i;
                bs = score[id];
            }
        }
        if (best < 0) break;
        en[best] = en[best + 1];
        for (i = best + 1; i + 1 < k; i++) {
            st[i] = st[i + 1];
            en[i] = en[i + 1];
        }
        k--;
    }
    for (i = 0; i < k; i++) {
        int32_t id = th_set_find(t, s + st[i], en[i] - st[i]);
        if (id >= first_piece) {
            out[n_out++] = id;
        } else {
            for (j = st[i]; j < en[i]; j++) out[n_out++] = 4 + (uint8_t)s[j];
        }
    }
    return n_out;
}

/* 262,144 pieces: <pad> <eos> <bos> <unk>, the 256 byte pieces, then substrings of 1 to
   8 characters of the test texts (spaces as "▁") in order of first appearance, scores
   falling. Ids equal the slow definition (byte fallback, no space prefix) on every text
   up to 300 bytes; prints the model's table bytes, load time and tokenize speed. */
static void test_tok_spm_262k(void)
{
    enum { N = 262144, FIRST = 4 + 256 };
    th_cases a, b;
    th_buf corpus, g;
    th_set set;
    float *score = (float *)malloc(sizeof(float) * N);
    int32_t *x = (int32_t *)malloc(sizeof(int32_t) * 65536), *y = (int32_t *)malloc(sizeof(int32_t) * 65536);
    uint32_t n_tok = 0, i, k;
    int list, kind, same = 0, total = 0;
    artr_model *m = NULL;
    artr_model_params p;
    artr_error err;
    memset(&corpus, 0, sizeof corpus);
    memset(&g, 0, sizeof g);
    memset(&set, 0, sizeof set);
    CHECK(th_cases_load_named(&a, "tok_cases.bin"));
    CHECK(th_cases_load_named(&b, "tok_gemma_cases.bin"));
    for (list = 0; list < 2; list++) { /* the escaped texts, one after another */
        const th_cases *c = list ? &b : &a;
        for (i = 0; i < (uint32_t)c->n; i++)
            for (k = 0; k < c->len[i]; k++) {
                if (c->text[i][k] == ' ') th_put(&corpus, "\xe2\x96\x81", 3);
                else th_put(&corpus, c->text[i] + k, 1);
            }
    }
    th_put(&corpus, "<pad><eos><bos><unk><0x00>", 26);
    set.base = (const char *)corpus.p;
    set.mask = (1u << 20) - 1;
    set.slot = (uint32_t *)calloc(set.mask + 1, 4);
    set.at = (uint32_t *)malloc(4 * N);
    set.len = (uint32_t *)malloc(4 * N);
    {
        static const char *const sp[4] = {"<pad>", "<eos>", "<bos>", "<unk>"};
        size_t base = corpus.n - 26;
        for (i = 0; i < 4; i++) th_set_add(&set, n_tok++, (uint32_t)(base + 5 * i), 5);
        for (i = 0; i < 256; i++) { set.at[n_tok] = 0; set.len[n_tok++] = 0; } /* bytes: not in the set */
        (void)sp;
    }
    for (i = 0; i < corpus.n - 26 && n_tok < N; i++) {
        size_t at = i, end = i;
        int c;
        if ((corpus.p[i] & 0xc0) == 0x80) continue;
        for (c = 0; c < 8 && end < corpus.n - 26 && n_tok < N; c++) {
            uint32_t cp;
            end += (size_t)artr__utf8(corpus.p + end, corpus.n - 26 - end, &cp);
            if (th_set_find(&set, (const char *)corpus.p + at, end - at) < 0)
                th_set_add(&set, n_tok++, (uint32_t)at, (uint32_t)(end - at));
        }
    }
    CHECK(n_tok == N);
    for (i = 0; i < N; i++) score[i] = i < FIRST ? 0.0f : -(float)(i - FIRST);
    /* the GGUF */
    th_put(&g, "GGUF", 4);
    th_put32(&g, 3);
    {
        uint64_t zero = 0, n_kv = 9, n = N;
        th_put(&g, &zero, 8);
        th_put(&g, &n_kv, 8);
        th_put_key(&g, "tokenizer.ggml.model", ARTR_META_STRING);
        th_put_str(&g, "llama", 5);
        for (kind = 0; kind < 3; kind++) {
            static const char *const keys[3] = {"tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                                                "tokenizer.ggml.token_type"};
            static const uint32_t types[3] = {ARTR_META_STRING, ARTR_META_FLOAT32, ARTR_META_INT32};
            th_put_key(&g, keys[kind], ARTR_META_ARRAY);
            th_put32(&g, types[kind]);
            th_put(&g, &n, 8);
            for (i = 0; i < N; i++) {
                if (kind == 1) {
                    th_put(&g, &score[i], 4);
                } else if (kind == 2) {
                    th_put32(&g, i == 3 ? 2 : i < 4 ? 3 : i < FIRST ? 6 : 1);
                } else if (i >= 4 && i < FIRST) {
                    char name[7];
                    snprintf(name, sizeof name, "<0x%02X>", (unsigned)(i - 4));
                    th_put_str(&g, name, 6);
                } else {
                    th_put_str(&g, set.base + set.at[i], set.len[i]);
                }
            }
        }
        th_put_key(&g, "tokenizer.ggml.pad_token_id", ARTR_META_UINT32);
        th_put32(&g, 0);
        th_put_key(&g, "tokenizer.ggml.eos_token_id", ARTR_META_UINT32);
        th_put32(&g, 1);
        th_put_key(&g, "tokenizer.ggml.bos_token_id", ARTR_META_UINT32);
        th_put32(&g, 2);
        th_put_key(&g, "tokenizer.ggml.unknown_token_id", ARTR_META_UINT32);
        th_put32(&g, 3);
        th_put_key(&g, "tokenizer.ggml.add_space_prefix", ARTR_META_BOOL);
        th_put(&g, "", 1);
    }
    memset(&p, 0, sizeof p);
    p.container = 1;
    {
        size_t bytes = 0;
        clock_t t0 = clock();
        double load_s, tok_s;
        size_t in_bytes = 0;
        int n_ids = 0, rep;
        CHECK_STATUS(artr_model_bytes(g.p, g.n, &p, &bytes, &err), ARTR_OK, &err);
        CHECK_STATUS(artr_model_load_memory(&m, g.p, g.n, &p, &err), ARTR_OK, &err);
        load_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
        if (!m) goto done;
        CHECK(artr_model_vocab(m)->n_vocab == N && artr_model_vocab(m)->add_space_prefix == 0);
        t0 = clock();
        for (rep = 0; rep < 3; rep++) {
            int n = 0;
            CHECK_STATUS(artr_tokenize(m, (const char *)a.buf + 8, a.size - 8, 0, NULL, 0, &n, &err), ARTR_E_SPACE, &err);
            in_bytes += a.size - 8;
            n_ids += n;
        }
        tok_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
        printf("  262,144 pieces: GGUF %.1f MB, model block %.1f MB (tokenizer tables %.1f MB), load %.2f s, "
               "tokenize %.1f MB/s (%d ids)\n", g.n / 1048576.0, bytes / 1048576.0,
               (double)artr__tok_bytes(N, 0, (uint64_t)g.n) / 1048576.0, load_s,
               in_bytes / 1048576.0 / (tok_s > 0 ? tok_s : 1e-9), n_ids / 3);
    }
    for (list = 0; list < 2; list++) {
        const th_cases *c = list ? &b : &a;
        for (i = 0; i < (uint32_t)c->n; i++) {
            int nx = 0, ny;
            if (c->len[i] > 300) continue;
            total++;
            artr_tokenize(m, c->text[i], c->len[i], 0, x, 65536, &nx, &err);
            {   /* escape spaces for the slow path */
                th_buf e;
                memset(&e, 0, sizeof e);
                for (k = 0; k < c->len[i]; k++) {
                    if (c->text[i][k] == ' ') th_put(&e, "\xe2\x96\x81", 3);
                    else th_put(&e, c->text[i] + k, 1);
                }
                ny = th_spm_naive(&set, score, FIRST, (const char *)e.p, e.n, y);
                free(e.p);
            }
            if (nx == ny && !memcmp(x, y, 4 * (size_t)nx)) same++;
            else if (total - same <= 3) printf("  case %u of list %d differs: %d vs %d ids\n", i, list, nx, ny);
        }
    }
    printf("  262,144 pieces: ids equal the slow definition on %d of %d texts\n", same, total);
    CHECK(same == total && total > 2500);
done:
    artr_model_free(m);
    free(g.p);
    free(corpus.p);
    free(set.slot);
    free(set.at);
    free(set.len);
    free(score);
    free(x);
    free(y);
    th_cases_free(&a);
    th_cases_free(&b);
}
