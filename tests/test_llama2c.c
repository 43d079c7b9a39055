/* llama2.c legacy checkpoints and tokenizer.bin, against the same weights in GGUF. */

/* Every tensor of a has a same-named tensor in b with equal type, shape and bytes. */
static int th_same_tensors(const artr_model *a, const artr_model *b)
{
    int i, ok = artr_model_tensor_count(a) == artr_model_tensor_count(b);
    for (i = 0; ok && i < artr_model_tensor_count(a); i++) {
        artr_tensor ta, tb;
        char name[128];
        artr_model_tensor_at(a, i, &ta, NULL);
        snprintf(name, sizeof name, "%.*s", (int)ta.name_len, ta.name);
        if (artr_model_tensor(b, name, &tb, NULL) != ARTR_OK) {
            printf("  tensor %s missing\n", name);
            return 0;
        }
        if (ta.type != tb.type || memcmp(ta.ne, tb.ne, sizeof ta.ne) || ta.n_dims != tb.n_dims ||
            ta.n_bytes != tb.n_bytes || memcmp(ta.data, tb.data, ta.n_bytes)) {
            printf("  tensor %s differs\n", name);
            ok = 0;
        }
    }
    return ok;
}

static void th_llama2c_vs_gguf(const char *bin, const char *gguf, int tied)
{
    artr_model *a = NULL, *b = NULL;
    artr_error err;
    CHECK_STATUS(artr_model_load_file(&a, th_path(bin), NULL, &err), ARTR_OK, &err);
    CHECK_STATUS(artr_model_load_file(&b, th_path(gguf), NULL, &err), ARTR_OK, &err);
    if (a && b) {
        const artr_config *ca = artr_model_config(a), *cb = artr_model_config(b);
        th_check_config(a, ARTR_ARCH_LLAMA, 32, 16, 2, 4, 2, 40, 64);
        CHECK(ca->rope_theta == cb->rope_theta && ca->norm_eps == cb->norm_eps);
        CHECK(th_same_tensors(a, b));
        CHECK(th_same_tensors(b, a));
        CHECK((a->output == a->tok_embd) == tied);
        CHECK(artr_model_meta_count(a) == 0);
        CHECK((const unsigned char *)a->tok_embd->data == (const unsigned char *)a->file + 28); /* in place */
    }
    artr_model_free(a);
    artr_model_free(b);
}

static void test_llama2c_matches_gguf(void)
{
    th_llama2c_vs_gguf("stories_tiny.bin", "stories_tiny.gguf", 1);
}

static void test_llama2c_classifier(void)
{
    th_llama2c_vs_gguf("stories_tiny_cls.bin", "stories_tiny_cls.gguf", 0);
}

static void test_llama2c_tokenizer(void)
{
    static const char *const expect[] = {"<unk>", "\n<s>\n", "\n</s>\n", "\n", " ", " t"};
    artr_model_params p;
    artr_model *m = NULL, *m2 = NULL;
    artr_error err;
    size_t vsize, i;
    unsigned char *vocab = th_fixture("tok32.bin", &vsize);
    memset(&p, 0, sizeof p);
    p.vocab_path = th_path("tok32.bin");
    CHECK_STATUS(artr_model_load_file(&m, th_path("stories_tiny.bin"), &p, &err), ARTR_OK, &err);
    if (m) {
        CHECK(m->vocab.kind == ARTR__VOCAB_LLAMA2C && m->vocab.n == 32 && m->vocab.max_token_len == 6);
        for (i = 0; i < sizeof expect / sizeof expect[0]; i++)
            CHECK(m->vocab.tokens[i].len == strlen(expect[i]) &&
                  !memcmp(m->vocab.tokens[i].text, expect[i], strlen(expect[i])));
        CHECK(m->vocab.tokens[7].score == -7.0f);
        CHECK(m->vocab.bos == 1 && m->vocab.eos == 2);
    }
    /* the same from memory */
    memset(&p, 0, sizeof p);
    p.vocab = vocab;
    p.vocab_size = vsize;
    CHECK_STATUS(artr_model_load_file(&m2, th_path("stories_tiny.bin"), &p, &err), ARTR_OK, &err);
    if (m && m2) {
        for (i = 0; i < 32; i++)
            CHECK(m->vocab.tokens[i].len == m2->vocab.tokens[i].len &&
                  !memcmp(m->vocab.tokens[i].text, m2->vocab.tokens[i].text, m->vocab.tokens[i].len));
    }
    artr_model_free(m2);
    m2 = NULL;
    /* a vocabulary of the wrong size */
    memset(&p, 0, sizeof p);
    p.vocab_path = th_path("tok32_short.bin");
    CHECK_STATUS(artr_model_load_file(&m2, th_path("stories_tiny.bin"), &p, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "truncated at token 31 of the model's 32");
    p.vocab_path = th_path("no-such-tokenizer.bin");
    CHECK_STATUS(artr_model_load_file(&m2, th_path("stories_tiny.bin"), &p, &err), ARTR_E_IO, &err);
    CHECK_MSG(err, "no-such-tokenizer.bin");
    /* too long: the same vocabulary twice */
    if (vocab) {
        unsigned char *twice = (unsigned char *)malloc(2 * vsize);
        memcpy(twice, vocab, vsize);
        memcpy(twice + vsize, vocab + 4, vsize - 4);
        memset(&p, 0, sizeof p);
        p.vocab = twice;
        p.vocab_size = 2 * vsize - 4;
        CHECK_STATUS(artr_model_load_file(&m2, th_path("stories_tiny.bin"), &p, &err), ARTR_E_FORMAT, &err);
        CHECK_MSG(err, "bytes left after the model's 32 tokens");
        free(twice);
    }
    /* a tokenizer.bin replaces a GGUF's own vocabulary of the same size */
    memset(&p, 0, sizeof p);
    p.vocab = vocab;
    p.vocab_size = vsize;
    CHECK_STATUS(artr_model_load_file(&m2, th_path("llama.gguf"), &p, &err), ARTR_OK, &err);
    if (m2) CHECK(m2->vocab.kind == ARTR__VOCAB_LLAMA2C && m2->vocab.tokens[4].len == 1);
    artr_model_free(m2);
    artr_model_free(m);
    free(vocab);
}

static void test_llama2c_bad_files(void)
{
    size_t size;
    unsigned char *buf = th_fixture("stories_tiny.bin", &size);
    artr_model *m = NULL;
    artr_error err;
    int32_t v;
    if (!buf) return;
    /* one float short */
    CHECK_STATUS(artr_model_load_memory(&m, buf, size - 4, NULL, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "implies 24924 bytes, but it has 24920");
    /* header says 3 layers */
    memcpy(&v, buf + 8, 4);
    CHECK(v == 2);
    v = 3;
    memcpy(buf + 8, &v, 4);
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "layers 3");
    /* heads that do not divide dim; negative and huge values */
    v = 2;
    memcpy(buf + 8, &v, 4);
    v = 5;
    memcpy(buf + 12, &v, 4);
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "inconsistent");
    v = 4;
    memcpy(buf + 12, &v, 4);
    v = INT32_MAX;
    memcpy(buf + 4, &v, 4);
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
    v = INT32_MIN;
    memcpy(buf + 20, &v, 4);
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
    /* the version-1/2 export magic */
    memcpy(buf, "ak42", 4);
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK_MSG(err, "ak42");
    CHECK(m == NULL);
    free(buf);
}

/* The real 32000-token Llama 2 vocabulary from ../shared, when it is there. */
static void test_shared_tokenizer_bin(void)
{
    const char *path = "../shared/models/llama2-tokenizer.bin";
    FILE *f = fopen(path, "rb");
    size_t size, vsize, i, total = 0;
    unsigned char *ckpt, *vocab;
    int32_t hdr[7] = {16, 40, 1, 4, 2, 32000, 8};
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    float zero = 0;
    if (!f) {
        th_skip_shared(path);
        return;
    }
    fclose(f);
    /* a one-layer checkpoint with a 32000-token vocabulary, made here */
    size = 28 + 4 * (size_t)(32000 * 16 + 1 * (2 * 16 + 16 * 16 * 2 + 16 * 8 * 2 + 3 * 16 * 40) + 16 + 8 * 4);
    ckpt = (unsigned char *)calloc(1, size);
    memcpy(ckpt, hdr, sizeof hdr);
    (void)zero;
    vocab = th_read(path, &vsize);
    memset(&p, 0, sizeof p);
    p.vocab = vocab;
    p.vocab_size = vsize;
    CHECK_STATUS(artr_model_load_memory(&m, ckpt, size, &p, &err), ARTR_OK, &err);
    if (m) {
        CHECK(m->vocab.n == 32000 && m->vocab.max_token_len == 27);
        CHECK(m->vocab.tokens[1].len == 5 && !memcmp(m->vocab.tokens[1].text, "\n<s>\n", 5));
        CHECK(m->vocab.tokens[3].len == 6 && !memcmp(m->vocab.tokens[3].text, "<0x00>", 6));
        for (i = 0; i < 32000; i++) total += m->vocab.tokens[i].len;
        CHECK(total + 32000 * 8 + 4 == vsize);
    }
    artr_model_free(m);
    free(vocab);
    free(ckpt);
}
