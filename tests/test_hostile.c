/* Hostile input: every prefix of every fixture, seeded byte flips, crafted overflows,
   duplicates, and the fuzzer's regression inputs. Each input goes through
   artr_fuzz_one (fuzz_load.c): four load modes, the loader's promises checked. */

static const char *const th_all_fixtures[] = {
    "llama.gguf", "llama_tied.gguf", "qwen2.gguf", "gpt2.gguf", "quant.gguf", "dequant.gguf",
    "meta.gguf", "meta_v2.gguf", "bigendian.gguf", "misaligned.gguf", "q5_0.gguf",
    "stories_tiny.bin", "stories_tiny_cls.bin", "stories_tiny.gguf", "stories_tiny_cls.gguf"};
#define TH_N_FIXTURES (sizeof th_all_fixtures / sizeof th_all_fixtures[0])

/* Loads a fresh heap copy of exactly n bytes, so ASan sees any over-read. */
static int th_fuzz_copy(const unsigned char *src, size_t n, const void *vocab, size_t vsize)
{
    unsigned char *c = th_copy(src, n);
    int broken = artr_fuzz_one(c, n, vocab, vsize);
    free(c);
    return broken;
}

/* Does a buffer load (as a model or as a container)? */
static int th_prefix_loads(const unsigned char *buf, size_t n, const void *vocab, size_t vsize)
{
    artr_model *m = NULL;
    artr_model_params p;
    int mode, loaded = 0;
    for (mode = 0; mode < 2; mode++) {
        memset(&p, 0, sizeof p);
        p.container = mode;
        p.vocab = vocab;
        p.vocab_size = vsize;
        if (artr_model_load_memory(&m, buf, n, &p, NULL) == ARTR_OK) {
            loaded = 1;
            artr_model_free(m);
        }
    }
    return loaded;
}

/* The shortest prefix holding everything a file needs: for GGUF the end of the last
   tensor's data (gguf-py pads the file's end; that padding is optional), for a
   llama2.c checkpoint the whole file. */
static size_t th_required_end(const unsigned char *buf, size_t size)
{
    artr__plan pl;
    artr__reader r;
    artr_model_params p;
    uint64_t i;
    size_t end;
    memset(&p, 0, sizeof p);
    p.container = 1;
    if (size < 4 || memcmp(buf, "GGUF", 4) || artr__model_scan(&pl, buf, size, &p, NULL) != ARTR_OK)
        return size;
    artr__reader_init(&r, buf, size);
    r.pos = pl.ti_pos;
    end = pl.n_tensors ? 0 : pl.data_pos;
    for (i = 0; i < pl.n_tensors; i++) {
        artr__tinfo t;
        artr__gguf_read_tinfo(&r, i, pl.alignment, &t, NULL);
        if (pl.data_pos + t.offset + t.n_bytes > end) end = (size_t)(pl.data_pos + t.offset + t.n_bytes);
    }
    return end;
}

static void test_prefixes(void)
{
    size_t f, total = 0;
    int broken = 0, wrong = 0;
    for (f = 0; f < TH_N_FIXTURES; f++) {
        size_t size, n, need;
        unsigned char *buf = th_fixture(th_all_fixtures[f], &size);
        if (!buf) {
            CHECK(0);
            continue;
        }
        need = th_required_end(buf, size);
        for (n = 0; n < size; n++) {
            unsigned char *c = th_copy(buf, n);
            broken += artr_fuzz_one(c, n, NULL, 0);
            if (th_prefix_loads(c, n, NULL, 0) != (n >= need)) {
                printf("  prefix %zu of %s (needs %zu bytes): wrong outcome\n", n, th_all_fixtures[f], need);
                wrong++;
            }
            free(c);
        }
        total += size;
        CHECK(artr_fuzz_one(buf, size, NULL, 0) == 0);
        free(buf);
    }
    { /* every prefix of a tokenizer.bin, with its checkpoint */
        size_t size, vsize, n;
        unsigned char *ckpt = th_fixture("stories_tiny.bin", &size);
        unsigned char *vocab = th_fixture("tok32.bin", &vsize);
        if (ckpt && vocab) {
            for (n = 0; n < vsize; n++) {
                unsigned char *c = th_copy(vocab, n);
                broken += artr_fuzz_one(ckpt, size, c, n);
                wrong += th_prefix_loads(ckpt, size, c, n);
                free(c);
            }
            total += vsize;
        }
        free(ckpt);
        free(vocab);
    }
    printf("  %zu prefixes, each loaded 4 ways\n", total);
    CHECK(broken == 0);
    CHECK(wrong == 0);
}

/* The newer families' fixtures (300 KB each): every prefix through the header (keys and
   tensor infos, where the parser works) and every 4093rd through the tensor data. */
static void test_prefixes_archs(void)
{
    static const char *const files[] = {"hf_llama3.gguf", "hf_qwen3.gguf", "hf_gemma3.gguf", "hf_phi3.gguf"};
    size_t f, total = 0;
    int broken = 0, wrong = 0;
    for (f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t size, n, need, head;
        artr__plan pl;
        artr_model_params p;
        unsigned char *buf = th_fixture(files[f], &size);
        if (!buf) {
            CHECK(0);
            continue;
        }
        memset(&p, 0, sizeof p);
        p.container = 1;
        CHECK(artr__model_scan(&pl, buf, size, &p, NULL) == ARTR_OK);
        head = pl.data_pos + 64;
        need = th_required_end(buf, size);
        for (n = 0; n < size; n += n < head ? 1 : 4093) {
            unsigned char *c = th_copy(buf, n);
            broken += artr_fuzz_one(c, n, NULL, 0);
            if (th_prefix_loads(c, n, NULL, 0) != (n >= need)) {
                printf("  prefix %zu of %s (needs %zu bytes): wrong outcome\n", n, files[f], need);
                wrong++;
            }
            free(c);
            total++;
        }
        CHECK(artr_fuzz_one(buf, size, NULL, 0) == 0);
        free(buf);
    }
    printf("  %zu prefixes, each loaded 4 ways\n", total);
    CHECK(broken == 0);
    CHECK(wrong == 0);
}

/* Where the header ends (kv section + tensor infos): flips there reach the parser. */
static size_t th_header_end(const unsigned char *buf, size_t size)
{
    artr__plan pl;
    artr_model_params p;
    memset(&p, 0, sizeof p);
    p.container = 1;
    if (size >= 4 && !memcmp(buf, "GGUF", 4) && artr__model_scan(&pl, buf, size, &p, NULL) == ARTR_OK)
        return pl.data_pos;
    return 28; /* llama2.c: the header is 28 bytes; its size rule covers the rest */
}

static void test_byte_flips(void)
{
    size_t f;
    int broken = 0, flips = 0;
    long outcomes[8] = {0};
    uint64_t seed = 20261123;
    for (f = 0; f < TH_N_FIXTURES; f++) {
        size_t size, hdr;
        int i;
        unsigned char *buf = th_fixture(th_all_fixtures[f], &size);
        if (!buf) continue;
        hdr = th_header_end(buf, size);
        for (i = 0; i < 10000; i++) {
            unsigned char *c = th_copy(buf, size);
            int k, n_flips = 1 + (int)(th_rng(&seed) % 3);
            artr_model *m = NULL;
            artr_status st;
            for (k = 0; k < n_flips; k++) {
                uint64_t r = th_rng(&seed);
                /* 9 in 10 flips land in the header, the rest anywhere */
                size_t at = (r % 10) ? (size_t)((r >> 8) % hdr) : (size_t)((r >> 8) % size);
                c[at] ^= (unsigned char)(1 + (r >> 40) % 255);
            }
            broken += artr_fuzz_one(c, size, NULL, 0);
            st = artr_model_load_memory(&m, c, size, NULL, NULL);
            outcomes[-st]++;
            artr_model_free(m);
            free(c);
            flips++;
        }
        free(buf);
    }
    printf("  %d flipped files: %ld ok, %ld E_FORMAT, %ld E_UNSUPPORTED, %ld E_NOMEM\n", flips,
           outcomes[0], outcomes[-ARTR_E_FORMAT], outcomes[-ARTR_E_UNSUPPORTED], outcomes[-ARTR_E_NOMEM]);
    if (flips == 0) th_skip("no fixture found: 0 flipped files");
    CHECK(broken == 0);
    CHECK(outcomes[-ARTR_E_ARG] == 0 && outcomes[-ARTR_E_IO] == 0);
}

/* ---- a tiny GGUF writer for hand-made hostile files (the valid fixtures come from gguf-py) */

typedef struct th_gguf {
    unsigned char buf[8192];
    size_t n;
} th_gguf;

static void th_u32(th_gguf *g, uint32_t v)
{
    memcpy(g->buf + g->n, &v, 4);
    g->n += 4;
}
static void th_u64(th_gguf *g, uint64_t v)
{
    memcpy(g->buf + g->n, &v, 8);
    g->n += 8;
}
static void th_str(th_gguf *g, const char *s)
{
    th_u64(g, strlen(s));
    memcpy(g->buf + g->n, s, strlen(s));
    g->n += strlen(s);
}
static void th_header(th_gguf *g, uint64_t n_tensors, uint64_t n_kv)
{
    g->n = 0;
    memcpy(g->buf, "GGUF", 4);
    g->n = 4;
    th_u32(g, 3);
    th_u64(g, n_tensors);
    th_u64(g, n_kv);
}
/* Tensor info with 1 or 2 dims. */
static void th_tinfo(th_gguf *g, const char *name, int n_dims, uint64_t d0, uint64_t d1, uint32_t type,
                     uint64_t offset)
{
    th_str(g, name);
    th_u32(g, (uint32_t)n_dims);
    th_u64(g, d0);
    if (n_dims > 1) th_u64(g, d1);
    th_u32(g, type);
    th_u64(g, offset);
}
static void th_pad(th_gguf *g, size_t data_bytes)
{
    while (g->n % 32) g->buf[g->n++] = 0;
    memset(g->buf + g->n, 0, data_bytes);
    g->n += data_bytes;
}

/* Load a hand-made container; returns its status and checks the fuzz promises. */
static artr_status th_try(th_gguf *g, artr_error *err)
{
    artr_model_params p;
    artr_model *m = NULL;
    artr_status st;
    unsigned char *c = th_copy(g->buf, g->n);
    memset(&p, 0, sizeof p);
    p.container = 1;
    CHECK(artr_fuzz_one(c, g->n, NULL, 0) == 0);
    st = artr_model_load_memory(&m, c, g->n, &p, err);
    artr_model_free(m);
    free(c);
    return st;
}

static void test_crafted_overflows(void)
{
    static th_gguf g;
    artr_error err;
    int d;
    /* the smallest valid container: no tensors, no metadata */
    th_header(&g, 0, 0);
    CHECK_STATUS(th_try(&g, &err), ARTR_OK, &err);
    /* counts far beyond the file */
    th_header(&g, (uint64_t)1 << 63, 0);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "ARTR_MAX_TENSORS");
    th_header(&g, 0, (uint64_t)1 << 40);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    th_header(&g, 1000, 1000);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "truncated");
    /* key length 2^64 - 1, and 0 */
    th_header(&g, 0, 1);
    th_u64(&g, UINT64_MAX);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    th_header(&g, 0, 1);
    th_u64(&g, 0);
    th_u32(&g, ARTR_META_UINT8);
    g.buf[g.n++] = 1;
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "key length 0");
    /* string value of length 2^64 - 1 */
    th_header(&g, 0, 1);
    th_str(&g, "k");
    th_u32(&g, ARTR_META_STRING);
    th_u64(&g, UINT64_MAX);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "metadata 'k' (string)");
    /* arrays: element count * size overflowing, strings, unknown element type */
    th_header(&g, 0, 1);
    th_str(&g, "k");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, ARTR_META_UINT32);
    th_u64(&g, (uint64_t)1 << 62);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    th_header(&g, 0, 1);
    th_str(&g, "k");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, ARTR_META_STRING);
    th_u64(&g, UINT64_MAX / 2);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    th_header(&g, 0, 1);
    th_str(&g, "k");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, 13);
    th_u64(&g, 0);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    th_header(&g, 0, 1);
    th_str(&g, "k");
    th_u32(&g, 13); /* unknown value type */
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "unknown value type 13");
    /* nested arrays: 8 levels load, 9 are refused (no recursion, bounded depth) */
    for (d = 8; d <= 9; d++) {
        int k;
        th_header(&g, 0, 1);
        th_str(&g, "nest");
        th_u32(&g, ARTR_META_ARRAY);
        for (k = 1; k < d; k++) {
            th_u32(&g, ARTR_META_ARRAY);
            th_u64(&g, 1);
        }
        th_u32(&g, ARTR_META_UINT8);
        th_u64(&g, 0);
        CHECK_STATUS(th_try(&g, &err), d <= 8 ? ARTR_OK : ARTR_E_FORMAT, &err);
    }
    /* a nested array claiming 2^60 sub-arrays */
    th_header(&g, 0, 1);
    th_str(&g, "k");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, ARTR_META_ARRAY);
    th_u64(&g, (uint64_t)1 << 60);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    /* general.alignment: not a power of two, zero, wrong type */
    th_header(&g, 0, 1);
    th_str(&g, "general.alignment");
    th_u32(&g, ARTR_META_UINT32);
    th_u32(&g, 3);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "power of two");
    th_header(&g, 0, 1);
    th_str(&g, "general.alignment");
    th_u32(&g, ARTR_META_UINT32);
    th_u32(&g, 0);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    th_header(&g, 0, 1);
    th_str(&g, "general.alignment");
    th_u32(&g, ARTR_META_UINT64);
    th_u64(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "expected uint32");
    /* tensors: a valid one, then dims overflowing, zero, too many, offsets */
    th_header(&g, 1, 0);
    th_tinfo(&g, "w", 2, 4, 2, ARTR_TYPE_F32, 0);
    th_pad(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_OK, &err);
    th_header(&g, 1, 0);
    th_tinfo(&g, "w", 2, (uint64_t)1 << 62, (uint64_t)1 << 62, ARTR_TYPE_F32, 0);
    th_pad(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "overflows");
    th_header(&g, 1, 0);
    th_tinfo(&g, "w", 2, (uint64_t)1 << 40, (uint64_t)1 << 22, ARTR_TYPE_F32, 0); /* 2^62 elements, 2^64 bytes */
    th_pad(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    th_header(&g, 1, 0);
    th_tinfo(&g, "w", 2, 4, 0, ARTR_TYPE_F32, 0);
    th_pad(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "dimension 1 is 0");
    th_header(&g, 1, 0);
    th_str(&g, "w");
    th_u32(&g, 5);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "5 dimensions");
    th_header(&g, 1, 0);
    th_tinfo(&g, "w", 1, 8, 1, ARTR_TYPE_F32, UINT64_MAX - 31);
    th_pad(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "runs past the end");
    th_header(&g, 1, 0);
    th_tinfo(&g, "w", 1, 8, 1, ARTR_TYPE_F32, 32); /* data would end at 64, file has 32 */
    th_pad(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    th_header(&g, 1, 0);
    th_tinfo(&g, "w", 1, 8, 1, ARTR_TYPE_F32, 4); /* not a multiple of the alignment */
    th_pad(&g, 64);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "alignment 32");
    th_header(&g, 1, 0);
    th_tinfo(&g, "q", 1, 16, 1, ARTR_TYPE_Q8_0, 0); /* row not a multiple of 32 */
    th_pad(&g, 64);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "block size 32");
    th_header(&g, 1, 0);
    th_tinfo(&g, "", 1, 16, 1, ARTR_TYPE_F32, 0); /* empty name */
    th_pad(&g, 64);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
}

static void test_crafted_duplicates(void)
{
    static th_gguf g;
    artr_error err;
    th_header(&g, 2, 0);
    th_tinfo(&g, "w", 1, 8, 1, ARTR_TYPE_F32, 0);
    th_tinfo(&g, "w", 1, 8, 1, ARTR_TYPE_F32, 32);
    th_pad(&g, 64);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "tensor name 'w' appears twice");
    th_header(&g, 0, 2);
    th_str(&g, "k");
    th_u32(&g, ARTR_META_UINT8);
    g.buf[g.n++] = 1;
    th_str(&g, "k");
    th_u32(&g, ARTR_META_UINT8);
    g.buf[g.n++] = 2;
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "metadata key 'k' appears twice");
    /* names that differ only in length sort and look up correctly */
    th_header(&g, 3, 0);
    th_tinfo(&g, "ab", 1, 8, 1, ARTR_TYPE_F32, 0);
    th_tinfo(&g, "a", 1, 8, 1, ARTR_TYPE_F32, 32);
    th_tinfo(&g, "abc", 1, 8, 1, ARTR_TYPE_F32, 64);
    th_pad(&g, 96);
    CHECK_STATUS(th_try(&g, &err), ARTR_OK, &err);
    {
        artr_model_params p;
        artr_model *m = NULL;
        artr_tensor t;
        memset(&p, 0, sizeof p);
        p.container = 1;
        CHECK_STATUS(artr_model_load_memory(&m, g.buf, g.n, &p, &err), ARTR_OK, &err);
        if (m) {
            CHECK(artr_model_tensor(m, "a", &t, NULL) == ARTR_OK && t.name_len == 1);
            CHECK(artr_model_tensor(m, "abc", &t, NULL) == ARTR_OK && t.name_len == 3);
            CHECK(artr_model_tensor(m, "ab", &t, NULL) == ARTR_OK && t.name_len == 2);
            CHECK(artr_model_tensor(m, "abcd", &t, NULL) == ARTR_E_ARG);
        }
        artr_model_free(m);
    }
}

/* The GGUF spec's structural rules (docs/gguf.md) and ggml gguf.cpp's, one hostile file
   per rule, each refused as ARTR_E_FORMAT with a message naming what and where, and the
   nearest valid file accepted. */
static void th_strn(th_gguf *g, const char *s, size_t n)
{
    th_u64(g, n);
    memcpy(g->buf + g->n, s, n);
    g->n += n;
}
static void th_bool_kv(th_gguf *g, const char *key, unsigned v)
{
    th_header(g, 0, 1);
    th_str(g, key);
    th_u32(g, ARTR_META_BOOL);
    g->buf[g->n++] = (unsigned char)v;
}

static void test_gguf_spec_rules(void)
{
    static th_gguf g;
    artr_error err;
    char name[80];
    /* tensor names: at most 64 bytes (GGML_MAX_NAME) */
    memset(name, 'n', sizeof name);
    name[64] = 0;
    th_header(&g, 1, 0);
    th_tinfo(&g, name, 1, 8, 1, ARTR_TYPE_F32, 0);
    th_pad(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_OK, &err);
    name[64] = 'n';
    name[65] = 0;
    th_header(&g, 1, 0);
    th_tinfo(&g, name, 1, 8, 1, ARTR_TYPE_F32, 0);
    th_pad(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "tensor info 0 at offset 24");
    CHECK_MSG(err, "is 65 bytes, expected at most 64");
    /* data regions: disjoint in any order is fine; overlapping is not */
    th_header(&g, 2, 0);
    th_tinfo(&g, "a", 1, 8, 1, ARTR_TYPE_F32, 32); /* [32, 64) */
    th_tinfo(&g, "b", 1, 8, 1, ARTR_TYPE_F32, 0);  /* [0, 32) */
    th_pad(&g, 64);
    CHECK_STATUS(th_try(&g, &err), ARTR_OK, &err);
    th_header(&g, 3, 0);
    th_tinfo(&g, "a", 1, 8, 1, ARTR_TYPE_F32, 0);   /* [0, 32) */
    th_tinfo(&g, "c", 1, 8, 1, ARTR_TYPE_F32, 64);  /* [64, 96): inside b */
    th_tinfo(&g, "b", 1, 16, 1, ARTR_TYPE_F32, 32); /* [32, 96) */
    th_pad(&g, 96);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "tensors 'b' and 'c': data [32, +64) and [64, +32) overlap");
    CHECK_MSG(err, "expected disjoint regions");
    th_header(&g, 2, 0);
    th_tinfo(&g, "x", 1, 8, 1, ARTR_TYPE_F32, 0);
    th_tinfo(&g, "y", 1, 8, 1, ARTR_TYPE_F32, 0); /* the same bytes under two names */
    th_pad(&g, 32);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "tensors 'x' and 'y'");
    th_header(&g, 2, 0);
    th_tinfo(&g, "q", 1, 64, 1, ARTR_TYPE_Q8_0, 0);  /* 2 blocks: 68 bytes, [0, 68) */
    th_tinfo(&g, "r", 1, 8, 1, ARTR_TYPE_F32, 64); /* padding assumed, but q runs to 68 */
    th_pad(&g, 128);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "[0, +68) and [64, +32) overlap");
    /* duplicate tensor names and keys, not next to each other in the file */
    th_header(&g, 3, 0);
    th_tinfo(&g, "a", 1, 8, 1, ARTR_TYPE_F32, 0);
    th_tinfo(&g, "b", 1, 8, 1, ARTR_TYPE_F32, 32);
    th_tinfo(&g, "a", 1, 8, 1, ARTR_TYPE_F32, 64);
    th_pad(&g, 96);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "tensor name 'a' appears twice");
    th_header(&g, 0, 3);
    th_str(&g, "general.name");
    th_u32(&g, ARTR_META_UINT8);
    g.buf[g.n++] = 1;
    th_str(&g, "general.other");
    th_u32(&g, ARTR_META_UINT8);
    g.buf[g.n++] = 1;
    th_str(&g, "general.name");
    th_u32(&g, ARTR_META_STRING);
    th_str(&g, "x");
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "metadata key 'general.name' appears twice");
    /* general.alignment: a power of two (64 accepted, offsets then multiples of 64) */
    th_header(&g, 1, 1);
    th_str(&g, "general.alignment");
    th_u32(&g, ARTR_META_UINT32);
    th_u32(&g, 64);
    th_tinfo(&g, "w", 1, 8, 1, ARTR_TYPE_F32, 64);
    while (g.n % 64) g.buf[g.n++] = 0;
    memset(g.buf + g.n, 0, 96);
    g.n += 96;
    CHECK_STATUS(th_try(&g, &err), ARTR_OK, &err);
    th_header(&g, 0, 1);
    th_str(&g, "general.alignment");
    th_u32(&g, ARTR_META_UINT32);
    th_u32(&g, 48);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "general.alignment is 48, expected a power of two");
    /* bools: 0 or 1, alone or in an array */
    th_bool_kv(&g, "general.flag", 1);
    CHECK_STATUS(th_try(&g, &err), ARTR_OK, &err);
    th_bool_kv(&g, "general.flag", 2);
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "metadata 'general.flag' (bool) at offset 48: bool 0 is 2, expected 0 or 1");
    th_header(&g, 0, 1);
    th_str(&g, "general.flags");
    th_u32(&g, ARTR_META_ARRAY);
    th_u32(&g, ARTR_META_BOOL);
    th_u64(&g, 3);
    g.buf[g.n++] = 0;
    g.buf[g.n++] = 1;
    g.buf[g.n++] = 0xff;
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "bool 2 is 255, expected 0 or 1");
    /* keys: ASCII, no control bytes */
    th_header(&g, 0, 1);
    th_strn(&g, "general.\001x", 10);
    th_u32(&g, ARTR_META_UINT8);
    g.buf[g.n++] = 1;
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "metadata entry 0 at offset 24: key 'general.' has byte 0x1 at position 8, expected printable ASCII");
    th_header(&g, 0, 1);
    th_strn(&g, "caf\303\251.k", 7);
    th_u32(&g, ARTR_META_UINT8);
    g.buf[g.n++] = 1;
    CHECK_STATUS(th_try(&g, &err), ARTR_E_FORMAT, &err);
    CHECK_MSG(err, "has byte 0xc3 at position 3");
}

/* Metadata that contradicts itself is malformed, not unsupported: a rope dimension count
   that is odd or larger than the head size (llama.gguf: head size 4) is FORMAT; a smaller
   even one is well formed but partial rotary embeddings, which artr does not run. */
static void test_rope_dims_contradict(void)
{
    static const struct { uint32_t dims; artr_status want; const char *msg; } cases[] = {
        {4, ARTR_OK, NULL},
        {3, ARTR_E_FORMAT, "llama.rope.dimension_count is 3, expected an even count of at most the head size 4"},
        {1, ARTR_E_FORMAT, "is 1, expected an even count"},
        {8, ARTR_E_FORMAT, "is 8, expected an even count of at most the head size 4"},
        {6, ARTR_E_FORMAT, "is 6, expected"},
        {2, ARTR_E_UNSUPPORTED, "partial rotary embeddings are not supported"},
    };
    static const char key[] = "llama.rope.dimension_count";
    size_t size = 0, at, i;
    unsigned char *orig = th_fixture("llama.gguf", &size), *buf;
    if (!orig) {
        CHECK(0);
        return;
    }
    for (at = 0; at + sizeof key + 8 <= size && memcmp(orig + at, key, sizeof key - 1); at++) {}
    at += sizeof key - 1; /* then the value's type (UINT32) and the value */
    CHECK(at + 8 <= size && orig[at] == ARTR_META_UINT32);
    for (i = 0; at + 8 <= size && i < sizeof cases / sizeof cases[0]; i++) {
        artr_model *m = NULL;
        artr_error err;
        buf = th_copy(orig, size);
        buf[at + 4] = (unsigned char)cases[i].dims;
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), cases[i].want, &err);
        if (cases[i].msg) CHECK_MSG(err, cases[i].msg);
        artr_model_free(m);
        free(buf);
    }
    free(orig);
}

/* The names in a directory, one at a time: FindFirstFileA on Windows, dirent elsewhere.
   th_dir_next gives NULL at the end; entries starting with '.' are skipped. */
#ifdef _WIN32
typedef struct th_dir {
    HANDLE h;
    WIN32_FIND_DATAA fd;
    int first;
} th_dir;
static int th_dir_open(th_dir *d, const char *path)
{
    char pattern[1024];
    snprintf(pattern, sizeof pattern, "%s\\*", path);
    d->h = FindFirstFileA(pattern, &d->fd);
    d->first = 1;
    return d->h != INVALID_HANDLE_VALUE;
}
static const char *th_dir_next(th_dir *d)
{
    for (;;) {
        if (!d->first && !FindNextFileA(d->h, &d->fd)) return NULL;
        d->first = 0;
        if (d->fd.cFileName[0] != '.') return d->fd.cFileName;
    }
}
static void th_dir_close(th_dir *d)
{
    FindClose(d->h);
}
#else
#include <dirent.h>
typedef struct th_dir {
    DIR *d;
} th_dir;
static int th_dir_open(th_dir *d, const char *path)
{
    d->d = opendir(path);
    return d->d != NULL;
}
static const char *th_dir_next(th_dir *d)
{
    struct dirent *e;
    while ((e = readdir(d->d)) != NULL)
        if (e->d_name[0] != '.') return e->d_name;
    return NULL;
}
static void th_dir_close(th_dir *d)
{
    closedir(d->d);
}
#endif

/* Inputs the fuzzer once found (tests/fuzz/regress), replayed on every run. */
static void test_fuzz_regressions(void)
{
    th_dir d;
    const char *name;
    int n = 0, broken = 0;
    if (!th_dir_open(&d, "tests/fuzz/regress")) {
        printf("  tests/fuzz/regress not found (run from the repository root)\n");
        CHECK(0);
        return;
    }
    while ((name = th_dir_next(&d)) != NULL) {
        char path[1024];
        size_t size;
        unsigned char *buf;
        snprintf(path, sizeof path, "tests/fuzz/regress/%s", name);
        buf = th_read(path, &size);
        if (!buf) continue;
        broken += th_fuzz_copy(buf, size, NULL, 0);
        free(buf);
        n++;
    }
    th_dir_close(&d);
    printf("  %d regression inputs replayed\n", n);
    CHECK(broken == 0);
}
