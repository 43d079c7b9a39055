/* Memory: placement in a caller buffer allocates nothing; loads free what they take. */

static void test_model_placement(void)
{
    static const char *const files[] = {"llama.gguf", "gpt2.gguf", "quant.gguf", "stories_tiny_cls.bin"};
    size_t f;
    for (f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t size, bytes = 0, off;
        unsigned char *buf = th_fixture(files[f], &size), *mem;
        artr_model_params p;
        artr_model *m = NULL;
        artr_error err;
        long allocs;
        if (!buf) continue;
        memset(&p, 0, sizeof p);
        CHECK_STATUS(artr_model_bytes(buf, size, &p, &bytes, &err), ARTR_OK, &err);
        CHECK(bytes > sizeof(artr_model));
        mem = (unsigned char *)malloc(bytes + 8);
        for (off = 0; off < 8; off += 3) { /* any alignment of mem works */
            p.mem = mem + off;
            p.mem_size = bytes;
            allocs = th_allocs;
            CHECK_STATUS(artr_model_load_memory(&m, buf, size, &p, &err), ARTR_OK, &err);
            CHECK(th_allocs == allocs); /* nothing allocated */
            CHECK(m != NULL && (unsigned char *)m >= mem + off && (unsigned char *)m < mem + off + bytes);
            if (m) {
                CHECK(artr_model_config(m)->n_layer > 0);
                CHECK(m->tok_embd && (const unsigned char *)m->tok_embd->data >= buf &&
                      (const unsigned char *)m->tok_embd->data < buf + size);
            }
            artr_model_free(m); /* releases nothing it did not take */
            CHECK(th_allocs == allocs);
            m = NULL;
        }
        /* one byte short: NOMEM with both numbers */
        p.mem = mem;
        p.mem_size = bytes - 1;
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, &p, &err), ARTR_E_NOMEM, &err);
        CHECK_MSG(err, "artr_model_bytes");
        CHECK(m == NULL);
        free(mem);
        free(buf);
    }
}

/* Every load, failed or not, frees exactly what it allocated. */
static void test_model_no_leaks(void)
{
    long a0 = th_allocs - th_frees;
    artr_model *m = NULL;
    artr_model_params p;
    artr_error err;
    size_t size;
    unsigned char *buf;
    memset(&p, 0, sizeof p);
    CHECK_STATUS(artr_model_load_file(&m, th_path("llama.gguf"), NULL, &err), ARTR_OK, &err);
#ifdef ARTR__MMAP
    CHECK(th_allocs - th_frees == a0 + 1); /* one block for the tables; the file is mapped */
#else
    CHECK(th_allocs - th_frees == a0 + 2); /* the tables, and the file read into memory */
#endif
    artr_model_free(m);
    CHECK(th_allocs - th_frees == a0);
    p.vocab_path = th_path("tok32.bin");
    CHECK_STATUS(artr_model_load_file(&m, th_path("stories_tiny.bin"), &p, &err), ARTR_OK, &err);
    artr_model_free(m);
    CHECK(th_allocs - th_frees == a0);
    p.vocab_path = th_path("tok32_short.bin");
    CHECK_STATUS(artr_model_load_file(&m, th_path("stories_tiny.bin"), &p, &err), ARTR_E_FORMAT, &err);
    CHECK(th_allocs - th_frees == a0);
    /* a failure after the block was allocated (duplicate-free but bad shape) */
    buf = th_fixture("llama.gguf", &size);
    if (buf) {
        size_t at = th_find_tinfo(buf, size, "blk.0.ffn_up.weight");
        buf[at - 3] = 'X';
        CHECK_STATUS(artr_model_load_memory(&m, buf, size, NULL, &err), ARTR_E_FORMAT, &err);
        CHECK(th_allocs - th_frees == a0);
        free(buf);
    }
    artr_model_free(NULL);
    CHECK(artr_model_config(NULL) == NULL && artr_model_tensor_count(NULL) == -1 &&
          artr_model_meta_count(NULL) == -1);
}

static void test_load_file_errors(void)
{
    artr_model *m = (artr_model *)&m; /* must come back NULL */
    artr_error err;
    size_t bytes;
    FILE *f;
    CHECK_STATUS(artr_model_load_file(&m, "tests/fixtures/does-not-exist.gguf", NULL, &err), ARTR_E_IO, &err);
    CHECK_MSG(err, "does-not-exist.gguf");
    CHECK(m == NULL);
    CHECK_STATUS(artr_model_load_file(&m, th_fixture_dir(), NULL, &err), ARTR_E_IO, &err);
    CHECK_STATUS(artr_model_load_file(NULL, "x", NULL, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_model_load_file(&m, NULL, NULL, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_model_load_memory(&m, NULL, 10, NULL, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_model_bytes(NULL, 10, NULL, &bytes, &err), ARTR_E_ARG, &err);
    CHECK_STATUS(artr_model_bytes_file(th_path("llama.gguf"), NULL, &bytes, &err), ARTR_OK, &err);
    /* an empty file */
    f = fopen("build/empty.gguf", "wb");
    if (f) {
        fclose(f);
        CHECK_STATUS(artr_model_load_file(&m, "build/empty.gguf", NULL, &err), ARTR_E_FORMAT, &err);
        CHECK_MSG(err, "too small");
        remove("build/empty.gguf");
    }
    /* err may be NULL */
    CHECK(artr_model_load_file(&m, "tests/fixtures/does-not-exist.gguf", NULL, NULL) == ARTR_E_IO);
}


/* artr_model_load_file maps the file where the build can (ARTR__MMAP: mmap, MapViewOfFile)
   and reads it otherwise: the weights point into that one region, and on Windows the OS
   confirms which kind of memory it is (a view of a file or a private heap copy). */
static void test_load_file_mapped(void)
{
    artr_model *m = NULL;
    artr_error err;
    artr_tensor t;
    const char *base;
    CHECK_STATUS(artr_model_load_file(&m, th_path("llama.gguf"), NULL, &err), ARTR_OK, &err);
    if (!m) return;
    base = (const char *)m->file;
#ifdef ARTR__MMAP
    CHECK(m->file_mapped == 1);
#else
    CHECK(m->file_mapped == 0);
#endif
    CHECK(base != NULL && m->file_size > 0);
    CHECK_STATUS(artr_model_tensor(m, "blk.0.attn_q.weight", &t, &err), ARTR_OK, &err);
    CHECK((const char *)t.data >= base && (const char *)t.data + t.n_bytes <= base + m->file_size);
#ifdef _WIN32
    {
        MEMORY_BASIC_INFORMATION mi;
        CHECK(VirtualQuery(t.data, &mi, sizeof mi) == sizeof mi);
#ifdef ARTR__MMAP
        CHECK(mi.Type == MEM_MAPPED);
        printf("  weights in a view of the file (MapViewOfFile; VirtualQuery: %s)\n",
               mi.Type == MEM_MAPPED ? "MEM_MAPPED" : "not MEM_MAPPED");
#else
        CHECK(mi.Type == MEM_PRIVATE);
        printf("  weights in a heap copy (ARTR_NO_MMAP; VirtualQuery: %s)\n",
               mi.Type == MEM_PRIVATE ? "MEM_PRIVATE" : "not MEM_PRIVATE");
#endif
    }
#else
    printf("  weights %s\n", m->file_mapped ? "in a mapping of the file (mmap)" : "in a heap copy");
#endif
    artr_model_free(m);
}
