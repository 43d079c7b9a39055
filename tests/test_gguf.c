/* GGUF loading: the fixtures written by gguf-py (tests/gen_fixtures.py). */

static artr_model *th_load(const char *name, int container)
{
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    memset(&p, 0, sizeof p);
    p.container = container;
    CHECK_STATUS(artr_model_load_file(&m, th_path(name), &p, &err), ARTR_OK, &err);
    return m;
}

static void th_check_config(const artr_model *m, int arch, int n_vocab, int n_embd, int n_layer,
                            int n_head, int n_head_kv, int n_ff, int n_ctx)
{
    const artr_config *c = artr_model_config(m);
    CHECK(c->arch == arch);
    CHECK(c->n_vocab == n_vocab);
    CHECK(c->n_embd == n_embd);
    CHECK(c->n_layer == n_layer);
    CHECK(c->n_head == n_head);
    CHECK(c->n_head_kv == n_head_kv);
    CHECK(c->n_ff == n_ff);
    CHECK(c->n_ctx_train == n_ctx);
}

/* Offset in a GGUF byte buffer of the n_dims field of the tensor info named name. */
static size_t th_find_tinfo(const unsigned char *buf, size_t size, const char *name)
{
    size_t n = strlen(name), i;
    for (i = 8; i + n + 4 <= size; i++) {
        uint64_t len;
        memcpy(&len, buf + i - 8, 8);
        if (len == n && memcmp(buf + i, name, n) == 0) return i + n;
    }
    return 0;
}

static void test_gguf_llama(void)
{
    artr_model *m = th_load("llama.gguf", 0);
    const artr_config *c;
    artr_tensor t;
    artr_error err;
    if (!m) return;
    th_check_config(m, ARTR_ARCH_LLAMA, 32, 16, 2, 4, 2, 40, 64);
    c = artr_model_config(m);
    CHECK_NEAR(c->rope_theta, 10000.0, TOL_EXACT);
    CHECK_NEAR(c->norm_eps, 1e-5f, TOL_EXACT);
    CHECK(m->output != m->tok_embd); /* untied */
    CHECK(m->layers[1].wk && m->layers[1].wk->ne[0] == 16 && m->layers[1].wk->ne[1] == 8);
    CHECK(m->layers[0].bq == NULL && m->layers[0].wqkv == NULL);
    CHECK_STATUS(artr_model_tensor(m, "blk.1.ffn_down.weight", &t, &err), ARTR_OK, &err);
    CHECK(t.ne[0] == 40 && t.ne[1] == 16 && t.type == ARTR_TYPE_F32 && t.n_bytes == 40 * 16 * 4);
    CHECK((uintptr_t)t.data % 32 == 0); /* in place, at GGUF's alignment */
    CHECK(artr_model_tensor_count(m) == 3 + 2 * 9);
    CHECK_STATUS(artr_model_tensor(m, "blk.2.ffn_down.weight", &t, &err), ARTR_E_ARG, &err);
    CHECK_MSG(err, "blk.2.ffn_down.weight");
    /* the tokenizer arrays, kept for the tokenizer */
    CHECK(m->vocab.kind == ARTR__VOCAB_SPM && m->vocab.n == 32);
    CHECK(m->vocab.bos == 1 && m->vocab.eos == 2 && m->vocab.unk == 0 && m->vocab.pad == -1);
    CHECK(m->vocab.tokens[1].len == 3 && !memcmp(m->vocab.tokens[1].text, "<s>", 3));
    CHECK(m->vocab.tokens[7].len == 6 && !memcmp(m->vocab.tokens[7].text, "\xe2\x96\x81the", 6));
    CHECK(m->vocab.tokens[31].score == -31.0f && m->vocab.tokens[0].score == 0.0f);
    CHECK(m->vocab.tokens[0].type == 2 && m->vocab.tokens[2].type == 3 && m->vocab.tokens[3].type == 6 &&
          m->vocab.tokens[10].type == 1);
    artr_model_free(m);
}

static void test_gguf_llama_tied_f16(void)
{
    artr_model *m = th_load("llama_tied.gguf", 0);
    if (!m) return;
    th_check_config(m, ARTR_ARCH_LLAMA, 32, 16, 2, 4, 2, 40, 64);
    CHECK(m->output == m->tok_embd); /* tied */
    CHECK(m->layers[0].wq->type == ARTR_TYPE_F16 && m->layers[0].attn_norm->type == ARTR_TYPE_F32);
    CHECK(m->vocab.kind == ARTR__VOCAB_NONE && m->vocab.tokens == NULL);
    artr_model_free(m);
}

static void test_gguf_qwen2(void)
{
    artr_model *m = th_load("qwen2.gguf", 0);
    const artr_config *c;
    if (!m) return;
    th_check_config(m, ARTR_ARCH_QWEN2, 32, 16, 2, 4, 2, 40, 64);
    c = artr_model_config(m);
    CHECK_NEAR(c->rope_theta, 1e6, TOL_EXACT);
    CHECK_NEAR(c->norm_eps, 1e-6f, TOL_EXACT);
    CHECK(m->layers[1].bq && m->layers[1].bk && m->layers[1].bv);
    CHECK(m->layers[1].bk->ne[0] == 8);
    CHECK(m->layers[0].wv->type == ARTR_TYPE_BF16);
    CHECK(m->output == m->tok_embd);
    artr_model_free(m);
}

static void test_gguf_gpt2(void)
{
    artr_model *m = th_load("gpt2.gguf", 0);
    const char *s;
    size_t len;
    artr_error err;
    if (!m) return;
    th_check_config(m, ARTR_ARCH_GPT2, 40, 16, 2, 4, 4, 64, 32);
    CHECK(m->pos_embd && m->pos_embd->ne[0] == 16 && m->pos_embd->ne[1] == 32);
    CHECK(m->out_norm_b && m->layers[1].wqkv && m->layers[1].bqkv && m->layers[1].bqkv->ne[0] == 48);
    CHECK(m->layers[0].b_up && m->layers[0].b_down && m->layers[0].bo && m->layers[0].attn_norm_b);
    CHECK(m->layers[0].wq == NULL && m->layers[0].w_gate == NULL);
    CHECK(m->vocab.kind == ARTR__VOCAB_BPE && m->vocab.n == 40);
    CHECK(m->vocab.bos == 39 && m->vocab.eos == 39);
    CHECK(m->vocab.merges && m->vocab.merges->n == 17);
    CHECK_STATUS(artr_model_meta_array_str(m, "tokenizer.ggml.merges", 0, &s, &len, &err), ARTR_OK, &err);
    CHECK(len > 2 && memchr(s, ' ', len) != NULL);
    artr_model_free(m);
}

static void test_gguf_quant(void)
{
    artr_model *m = th_load("quant.gguf", 0);
    float row[32];
    artr_error err;
    if (!m) return;
    th_check_config(m, ARTR_ARCH_LLAMA, 32, 32, 1, 4, 4, 64, 64);
    CHECK(m->tok_embd->type == ARTR_TYPE_Q8_0 && m->layers[0].wq->type == ARTR_TYPE_Q8_0);
    CHECK(m->layers[0].w_up->type == ARTR_TYPE_Q4_0 && m->layers[0].w_down->type == ARTR_TYPE_Q4_0);
    CHECK(m->tok_embd->n_bytes == 32 * 34);
    CHECK(m->layers[0].w_down->n_bytes == 32 * 2 * 18);
    CHECK_STATUS(artr_tensor_to_f32(m->tok_embd, 5 * 32, 32, row, &err), ARTR_OK, &err);
    CHECK(fabsf(row[0]) < 10.0f);
    artr_model_free(m);
}

static void th_check_meta(const artr_model *m)
{
    int64_t iv;
    double fv;
    const char *s;
    size_t len;
    int type, et;
    uint64_t n;
    artr_error err;
    static const struct {
        const char *key;
        int64_t v;
    } ints[] = {{"t.uint8", 200}, {"t.int8", -100}, {"t.uint16", 60000}, {"t.int16", -30000},
                {"t.uint32", 4000000000LL}, {"t.int32", -2000000000}, {"t.bool", 1},
                {"t.int64", -4611686018427387904LL}};
    size_t i;
    CHECK(artr_model_meta_count(m) == 18);
    for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        iv = 0;
        CHECK_STATUS(artr_model_meta_int(m, ints[i].key, &iv, &err), ARTR_OK, &err);
        CHECK(iv == ints[i].v);
    }
    CHECK_STATUS(artr_model_meta_int(m, "t.uint64", &iv, &err), ARTR_E_ARG, &err); /* 2^63 + 5 */
    CHECK_STATUS(artr_model_meta_type(m, "t.uint64", &type, &et, &n, &err), ARTR_OK, &err);
    CHECK(type == ARTR_META_UINT64 && et == -1 && n == 1);
    CHECK_STATUS(artr_model_meta_float(m, "t.float32", &fv, &err), ARTR_OK, &err);
    CHECK(fv == 1.5);
    CHECK_STATUS(artr_model_meta_float(m, "t.float64", &fv, &err), ARTR_OK, &err);
    CHECK(fv == 3.141592653589793);
    CHECK_STATUS(artr_model_meta_float(m, "t.int32", &fv, &err), ARTR_E_ARG, &err);
    CHECK_MSG(err, "int32");
    CHECK_STATUS(artr_model_meta_str(m, "t.string", &s, &len, &err), ARTR_OK, &err);
    CHECK(len == 13 && !memcmp(s, "h\xc3\xa9llo w\xc3\xb6rld", 13));
    CHECK_STATUS(artr_model_meta_str(m, "t.uint8", &s, &len, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_model_meta_int(m, "no.such.key", &iv, &err), ARTR_E_ARG, &err);
    CHECK_MSG(err, "no.such.key");
    /* arrays */
    CHECK_STATUS(artr_model_meta_type(m, "a.int32", &type, &et, &n, &err), ARTR_OK, &err);
    CHECK(type == ARTR_META_ARRAY && et == ARTR_META_INT32 && n == 3);
    CHECK_STATUS(artr_model_meta_array_int(m, "a.int32", 1, &iv, &err), ARTR_OK, &err);
    CHECK(iv == -2);
    CHECK_STATUS(artr_model_meta_array_int(m, "a.int32", 3, &iv, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_model_meta_array_int(m, "a.uint8", 2, &iv, &err), ARTR_OK, &err);
    CHECK(iv == 255);
    CHECK_STATUS(artr_model_meta_array_float(m, "a.float32", 1, &fv, &err), ARTR_OK, &err);
    CHECK(fv == -1.25);
    CHECK_STATUS(artr_model_meta_array_float(m, "a.int32", 0, &fv, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_model_meta_array_str(m, "a.string", 1, &s, &len, &err), ARTR_OK, &err);
    CHECK(len == 0);
    CHECK_STATUS(artr_model_meta_array_str(m, "a.string", 2, &s, &len, &err), ARTR_OK, &err);
    CHECK(len == 3 && !memcmp(s, "ccc", 3));
    CHECK_STATUS(artr_model_meta_array_int(m, "t.int32", 0, &iv, &err), ARTR_E_ARG, &err);
    /* nested: [[1, 2], [3]] is an array of 2 arrays; its elements are not scalars */
    CHECK_STATUS(artr_model_meta_type(m, "a.nested", &type, &et, &n, &err), ARTR_OK, &err);
    CHECK(type == ARTR_META_ARRAY && et == ARTR_META_ARRAY && n == 2);
    CHECK_STATUS(artr_model_meta_array_int(m, "a.nested", 0, &iv, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_model_meta_int(m, "general.alignment", &iv, &err), ARTR_OK, &err);
    CHECK(iv == 64);
    CHECK(m->alignment == 64);
    /* keys by index cover every key once */
    {
        int i2, found = 0;
        for (i2 = 0; i2 < artr_model_meta_count(m); i2++) {
            size_t kl;
            const char *k = artr_model_meta_key(m, i2, &kl);
            CHECK(k != NULL);
            if (k && kl == 8 && !memcmp(k, "a.nested", 8)) found++;
        }
        CHECK(found == 1);
        CHECK(artr_model_meta_key(m, -1, NULL) == NULL && artr_model_meta_key(m, 18, NULL) == NULL);
    }
}

static void th_check_meta_tensors(const artr_model *m)
{
    artr_tensor t;
    artr_error err;
    float v[16];
    CHECK(artr_model_tensor_count(m) == 5);
    CHECK_STATUS(artr_model_tensor(m, "t.f32_4d", &t, &err), ARTR_OK, &err);
    CHECK(t.n_dims == 4 && t.ne[0] == 5 && t.ne[1] == 1 && t.ne[2] == 3 && t.ne[3] == 2);
    CHECK((uintptr_t)t.data % 64 == 0);
    CHECK_STATUS(artr_model_tensor(m, "t.i32", &t, &err), ARTR_OK, &err);
    CHECK(t.type == ARTR_TYPE_I32 && t.ne[0] == 3 && t.ne[1] == 1);
    CHECK_STATUS(artr_tensor_to_f32(&t, 0, 3, v, &err), ARTR_OK, &err);
    CHECK_STATUS(artr_model_tensor_at(m, 4, &t, &err), ARTR_OK, &err);
    CHECK(t.name_len == 5 && !memcmp(t.name, "t.f16", 5) && t.type == ARTR_TYPE_F16);
    CHECK_STATUS(artr_model_tensor_at(m, 5, &t, &err), ARTR_E_ARG, &err);
    CHECK(!strcmp(artr_type_name(ARTR_TYPE_Q4_K), "Q4_K") && artr_type_name(4) == NULL &&
          artr_type_name(-1) == NULL && artr_type_name(1000) == NULL);
}

static void test_gguf_meta_all_types(void)
{
    artr_model *m = th_load("meta.gguf", 1);
    artr_model_params p;
    artr_model *m2 = NULL;
    artr_error err;
    if (!m) return;
    CHECK(artr_model_config(m)->arch == ARTR_ARCH_NONE);
    CHECK(m->gguf_version == 3);
    th_check_meta(m);
    th_check_meta_tensors(m);
    artr_model_free(m);
    /* without container = 1, a file with no architecture is refused with the hint */
    memset(&p, 0, sizeof p);
    CHECK_STATUS(artr_model_load_file(&m2, th_path("meta.gguf"), &p, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "general.architecture");
    CHECK(m2 == NULL);
}

static void test_gguf_meta_v2(void)
{
    artr_model *m = th_load("meta_v2.gguf", 1);
    if (!m) return;
    CHECK(m->gguf_version == 2);
    th_check_meta(m);
    th_check_meta_tensors(m);
    artr_model_free(m);
}

static void test_gguf_unsupported(void)
{
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    size_t size, at;
    unsigned char *buf;
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK_STATUS(artr_model_load_file(&m, th_path("bigendian.gguf"), &p, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK_MSG(err, "big-endian");
    /* a Q5_0 tensor loads in a container, and is named when a model would run it */
    CHECK_STATUS(artr_model_load_file(&m, th_path("q5_0.gguf"), &p, &err), ARTR_OK, &err);
    artr_model_free(m);
    m = NULL;
    /* llama.gguf with blk.0.attn_q.weight's type patched to I32 (same byte size) */
    buf = th_fixture("llama.gguf", &size);
    if (!buf) return;
    at = th_find_tinfo(buf, size, "blk.0.attn_q.weight");
    CHECK(at != 0);
    buf[at + 4 + 2 * 8] = ARTR_TYPE_I32;
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK_MSG(err, "'blk.0.attn_q.weight' has type I32");
    buf[at + 4 + 2 * 8] = ARTR_TYPE_F32;
    /* an unknown type number */
    buf[at + 4 + 2 * 8] = 4;
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK_MSG(err, "unknown type 4");
    buf[at + 4 + 2 * 8] = ARTR_TYPE_F32;
    /* another architecture: "llama" -> "llamb" */
    at = th_find_tinfo(buf, size, "general.architecture");
    CHECK(at != 0 && !memcmp(buf + at + 4 + 8, "llama", 5));
    buf[at + 4 + 8 + 4] = 'b';
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK_MSG(err, "architecture 'llamb' is not supported");
    CHECK(m == NULL);
    free(buf);
    /* version 1 and version 4 */
    buf = th_fixture("meta.gguf", &size);
    if (!buf) return;
    buf[4] = 1;
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, &p, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK_MSG(err, "version 1");
    buf[4] = 4;
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, &p, &err), ARTR_E_UNSUPPORTED, &err);
    CHECK_MSG(err, "GGUF version 4");
    free(buf);
}

static void test_gguf_misaligned(void)
{
    artr_model_params p;
    artr_model *m = NULL;
    artr_error err;
    artr_tensor t;
    size_t size, bytes_copy = 0, bytes_plain = 0;
    unsigned char *buf, *shifted;
    float v[5];
    memset(&p, 0, sizeof p);
    p.container = 1;
    /* "b" (F32) sits at file offset 126: copied once at load, aligned, same values */
    CHECK_STATUS(artr_model_load_file(&m, th_path("misaligned.gguf"), &p, &err), ARTR_OK, &err);
    if (!m) return;
    CHECK_STATUS(artr_model_tensor(m, "b", &t, &err), ARTR_OK, &err);
    CHECK((uintptr_t)t.data % 4 == 0);
    CHECK((const unsigned char *)t.data < (const unsigned char *)m->file ||
          (const unsigned char *)t.data >= (const unsigned char *)m->file + m->file_size);
    CHECK_STATUS(artr_tensor_to_f32(&t, 0, 5, v, &err), ARTR_OK, &err);
    CHECK(memcmp(v, (const unsigned char *)m->file + 126, 20) == 0);
    CHECK_STATUS(artr_model_tensor(m, "a", &t, &err), ARTR_OK, &err);
    CHECK((const unsigned char *)t.data == (const unsigned char *)m->file + 123); /* I8: in place */
    artr_model_free(m);
    m = NULL;
    p.no_copy = 1;
    CHECK_STATUS(artr_model_load_file(&m, th_path("misaligned.gguf"), &p, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "'b'");
    CHECK_MSG(err, "no_copy");
    CHECK(m == NULL);
    /* a whole model at an odd address: every float tensor is copied, values equal */
    buf = th_fixture("llama.gguf", &size);
    if (!buf) return;
    shifted = (unsigned char *)malloc(size + 1);
    memcpy(shifted + 1, buf, size);
    p.no_copy = 0;
    p.container = 0;
    CHECK_STATUS(artr_model_bytes(buf, size, &p, &bytes_plain, &err), ARTR_OK, &err);
    CHECK_STATUS(artr_model_bytes(shifted + 1, size, &p, &bytes_copy, &err), ARTR_OK, &err);
    CHECK(bytes_copy > bytes_plain + 20000); /* the float weights are counted */
    CHECK_STATUS(artr_model_load_memory(&m, shifted + 1, size, &p, &err), ARTR_OK, &err);
    if (m) {
        artr_model *m0 = NULL;
        int i, same = 1;
        CHECK_STATUS(artr_model_load_memory(&m0, buf, size, &p, &err), ARTR_OK, &err);
        for (i = 0; m0 && i < artr_model_tensor_count(m); i++) {
            artr_tensor a, b;
            artr_model_tensor_at(m, i, &a, NULL);
            artr_model_tensor_at(m0, i, &b, NULL);
            if ((uintptr_t)a.data % 4 || a.n_bytes != b.n_bytes || memcmp(a.data, b.data, a.n_bytes)) same = 0;
        }
        CHECK(same);
        artr_model_free(m0);
        artr_model_free(m);
        m = NULL;
    }
    p.no_copy = 1;
    CHECK_STATUS(artr_model_load_memory(&m, shifted + 1, size, &p, &err), ARTR_E_FORMAT, &err);
    CHECK_STATUS(artr_model_bytes(shifted + 1, size, &p, &bytes_copy, &err), ARTR_E_FORMAT, &err);
    free(shifted);
    free(buf);
}

static void test_gguf_file_vs_memory(void)
{
    static const char *const files[] = {"llama.gguf", "qwen2.gguf", "gpt2.gguf", "quant.gguf"};
    size_t f;
    for (f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t size;
        unsigned char *buf = th_fixture(files[f], &size);
        artr_model *a = NULL, *b = NULL;
        artr_error err;
        int i, same = 1;
        if (!buf) continue;
        CHECK_STATUS(artr_model_load_memory(&a, buf, size, NULL, &err), ARTR_OK, &err);
        CHECK_STATUS(artr_model_load_file(&b, th_path(files[f]), NULL, &err), ARTR_OK, &err);
        if (a && b) {
            CHECK(!memcmp(artr_model_config(a), artr_model_config(b), sizeof(artr_config)));
            CHECK(artr_model_tensor_count(a) == artr_model_tensor_count(b));
            for (i = 0; i < artr_model_tensor_count(a); i++) {
                artr_tensor ta, tb;
                artr_model_tensor_at(a, i, &ta, NULL);
                artr_model_tensor_at(b, i, &tb, NULL);
                if (ta.n_bytes != tb.n_bytes || memcmp(ta.data, tb.data, ta.n_bytes) ||
                    (const unsigned char *)ta.data < buf || (const unsigned char *)ta.data >= buf + size)
                    same = 0; /* equal, and used in place */
            }
            CHECK(same);
        }
        artr_model_free(a);
        artr_model_free(b);
        free(buf);
    }
}

/* Config inconsistent with shapes, and missing pieces: FORMAT with what, found, expected. */
static void test_gguf_bad_shapes(void)
{
    size_t size, at;
    unsigned char *buf = th_fixture("llama.gguf", &size);
    artr_model *m = NULL;
    artr_error err;
    uint64_t d;
    if (!buf) return;
    /* blk.1.attn_k.weight [16, 8] -> [8, 16]: same bytes, wrong shape */
    at = th_find_tinfo(buf, size, "blk.1.attn_k.weight");
    CHECK(at != 0);
    d = 8;
    memcpy(buf + at + 4, &d, 8);
    d = 16;
    memcpy(buf + at + 12, &d, 8);
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "tensor 'blk.1.attn_k.weight': shape [8, 16, 1, 1] (2 dims), expected [16, 8]");
    d = 16;
    memcpy(buf + at + 4, &d, 8);
    d = 8;
    memcpy(buf + at + 12, &d, 8);
    /* rename a required tensor */
    at = th_find_tinfo(buf, size, "blk.1.ffn_gate.weight");
    CHECK(at != 0);
    buf[at - 8] = 'X';
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "missing tensor 'blk.1.ffn_gate.weight'");
    buf[at - 8] = 'e';
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_OK, &err);
    artr_model_free(m);
    m = NULL;
    /* a required key with the wrong type: llama.block_count uint32 -> float32 (type 6) */
    at = th_find_tinfo(buf, size, "llama.block_count");
    CHECK(at != 0 && buf[at] == ARTR_META_UINT32);
    buf[at] = ARTR_META_FLOAT32;
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "llama.block_count");
    buf[at] = ARTR_META_UINT32;
    /* head count that does not divide the embedding */
    at = th_find_tinfo(buf, size, "llama.attention.head_count");
    CHECK(at != 0);
    buf[at + 4] = 3;
    CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "heads 3");
    buf[at + 4] = 4;
    CHECK(m == NULL);
    free(buf);
}

/* Rename a tensor of fixture `file` (first letter to 'X'): the load names it. */
static void th_missing_tensor(const char *file, const char *tensor, const char *msg)
{
    size_t size, at;
    unsigned char *buf = th_fixture(file, &size);
    artr_model *m = NULL;
    artr_error err;
    if (!buf) return;
    at = th_find_tinfo(buf, size, tensor);
    CHECK(at != 0);
    if (at) {
        buf[at - strlen(tensor)] = 'X';
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
        CHECK_MSG(err, msg);
        CHECK(m == NULL);
    }
    free(buf);
}

/* The newer families: config read from their keys, and clear errors naming the tensor or
   key when a file is incomplete or inconsistent. */
static void test_gguf_new_archs(void)
{
    static const struct { const char *file; int arch, n_layer, n_head, n_head_kv, head_dim; } ok[] = {
        {"hf_llama3.gguf", ARTR_ARCH_LLAMA, 2, 4, 2, 16}, {"hf_qwen3.gguf", ARTR_ARCH_QWEN3, 2, 4, 2, 24},
        {"hf_gemma3.gguf", ARTR_ARCH_GEMMA3, 6, 2, 1, 16}, {"hf_phi3.gguf", ARTR_ARCH_PHI3, 2, 4, 2, 16}};
    size_t i, size, at;
    unsigned char *buf;
    artr_model *m = NULL;
    artr_error err;
    artr_tensor t;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        m = th_load(ok[i].file, 0);
        if (!m) continue;
        th_check_config(m, ok[i].arch, 256, 64, ok[i].n_layer, ok[i].n_head, ok[i].n_head_kv,
                        artr_model_config(m)->n_ff, 256);
        CHECK(artr_model_config(m)->head_dim == ok[i].head_dim);
        artr_model_free(m);
    }
    th_missing_tensor("hf_qwen3.gguf", "blk.1.attn_k_norm.weight", "missing tensor 'blk.1.attn_k_norm.weight'");
    th_missing_tensor("hf_gemma3.gguf", "blk.4.post_ffw_norm.weight", "missing tensor 'blk.4.post_ffw_norm.weight'");
    th_missing_tensor("hf_gemma3.gguf", "blk.0.post_attention_norm.weight", "missing tensor 'blk.0.post_attention_norm.weight'");
    th_missing_tensor("hf_phi3.gguf", "rope_factors_short.weight", "'rope_factors_short.weight' is missing");
    th_missing_tensor("hf_phi3.gguf", "blk.1.attn_qkv.weight", "missing tensor 'blk.1.attn_qkv.weight'");
    th_missing_tensor("hf_phi3.gguf", "blk.0.ffn_up.weight", "missing tensor 'blk.0.ffn_up.weight'");
    th_missing_tensor("hf_llama3.gguf", "blk.1.ffn_gate.weight", "missing tensor 'blk.1.ffn_gate.weight'");
    /* a rope_freqs divisor that is not positive */
    buf = th_fixture("hf_llama3.gguf", &size);
    if (buf) {
        float bad = -1.0f;
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_OK, &err);
        CHECK_STATUS(artr_model_tensor(m, "rope_freqs.weight", &t, &err), ARTR_OK, &err);
        at = (size_t)((const unsigned char *)t.data - buf);
        artr_model_free(m);
        m = NULL;
        memcpy(buf + at + 8, &bad, 4);
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
        CHECK_MSG(err, "tensor 'rope_freqs.weight': element 2 is -1");
        free(buf);
    }
    /* key and value head sizes that differ */
    buf = th_fixture("hf_qwen3.gguf", &size);
    if (buf) {
        uint32_t v = 16;
        at = th_find_tinfo(buf, size, "qwen3.attention.value_length");
        CHECK(at != 0 && buf[at] == ARTR_META_UINT32);
        memcpy(buf + at + 4, &v, 4);
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_UNSUPPORTED, &err);
        CHECK_MSG(err, "qwen3.attention.value_length is 16 but the key length is 24");
        free(buf);
    }
    /* without rope.freq_base_swa the local layers' base is llama.cpp's default */
    buf = th_fixture("hf_gemma3.gguf", &size);
    if (buf) {
        at = th_find_tinfo(buf, size, "gemma3.rope.freq_base_swa");
        CHECK(at != 0);
        memcpy(buf + at - 8, "oops", 4); /* "gemma3.rope.freq_base_swa" -> "gemma3.rope.freq_oops_swa" */
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_OK, &err);
        artr_model_free(m);
        m = NULL;
        free(buf);
    }
}
