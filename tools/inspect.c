/* artr-inspect: print a model file's metadata and tensor table, then validate it with
   artr's loader. A user's first stop when a file does not load.

   usage: artr-inspect [options] FILE
     -z, --vocab FILE   llama2.c tokenizer.bin to load with a llama2.c checkpoint
     -t, --tensors      list every tensor (default: the first 16)
     -a, --arrays N     show up to N elements of each metadata array (default 8)
     -h, --help         this text
   Exit status: 0 if the file loads as a model, 1 if it does not, 2 on bad usage. */
#define ARTR_IMPLEMENTATION
#include "../artr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: artr-inspect [options] FILE\n"
          "  -z, --vocab FILE   llama2.c tokenizer.bin to load with a llama2.c checkpoint\n"
          "  -t, --tensors      list every tensor (default: the first 16)\n"
          "  -a, --arrays N     show up to N elements of each metadata array (default 8)\n"
          "  -h, --help         this text\n",
          f);
}

/* Print file bytes, escaping what a terminal should not see. */
static void print_bytes(const char *s, size_t n, size_t max)
{
    size_t i;
    for (i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\\') fputs("\\\\", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    if (n > max) printf("... (%zu bytes)", n);
}

static const char *meta_type_name(int t)
{
    static const char *const names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32",
                                        "float32", "bool", "string", "array", "uint64",
                                        "int64", "float64"};
    return t >= 0 && t < 13 ? names[t] : "?";
}

static void print_meta(const artr_model *m, const char *key, int max_elems)
{
    int type, et;
    uint64_t n, i;
    int64_t iv;
    double fv;
    const char *s;
    size_t len;
    if (artr_model_meta_type(m, key, &type, &et, &n, NULL) != ARTR_OK) return;
    if (type == ARTR_META_ARRAY) {
        printf("[%s x %llu]", meta_type_name(et), (unsigned long long)n);
        if (et == ARTR_META_ARRAY) return; /* nested: shown as its shape only */
        fputs(" [", stdout);
        for (i = 0; i < n && i < (uint64_t)max_elems; i++) {
            if (i) fputs(", ", stdout);
            if (artr_model_meta_array_int(m, key, i, &iv, NULL) == ARTR_OK) printf("%lld", (long long)iv);
            else if (artr_model_meta_array_float(m, key, i, &fv, NULL) == ARTR_OK) printf("%g", fv);
            else if (artr_model_meta_array_str(m, key, i, &s, &len, NULL) == ARTR_OK) {
                putchar('"');
                print_bytes(s, len, 40);
                putchar('"');
            } else fputs("?", stdout);
        }
        if (n > (uint64_t)max_elems) fputs(", ...", stdout);
        putchar(']');
    } else if (type == ARTR_META_STRING) {
        artr_model_meta_str(m, key, &s, &len, NULL);
        putchar('"');
        print_bytes(s, len, 200);
        putchar('"');
    } else if (type == ARTR_META_FLOAT32 || type == ARTR_META_FLOAT64) {
        artr_model_meta_float(m, key, &fv, NULL);
        printf("%.9g", fv);
    } else if (type == ARTR_META_BOOL) {
        artr_model_meta_int(m, key, &iv, NULL);
        fputs(iv ? "true" : "false", stdout);
    } else if (artr_model_meta_int(m, key, &iv, NULL) == ARTR_OK) {
        printf("%lld", (long long)iv);
    } else {
        fputs("(uint64 above INT64_MAX)", stdout);
    }
}

/* Types the forward pass runs (artr_tensor_to_f32 also reads I8/I16/I32). */
static int runs_type(int type)
{
    return type == ARTR_TYPE_F32 || type == ARTR_TYPE_F16 || type == ARTR_TYPE_BF16 ||
           type == ARTR_TYPE_Q8_0 || type == ARTR_TYPE_Q4_0;
}

static void print_tensors(const artr_model *m, int all)
{
    int i, n = artr_model_tensor_count(m), type;
    size_t total = 0;
    double params = 0;
    artr_tensor t;
    for (i = 0; i < n; i++) {
        artr_model_tensor_at(m, i, &t, NULL);
        total += t.n_bytes;
        params += (double)t.ne[0] * (double)t.ne[1] * (double)t.ne[2] * (double)t.ne[3];
    }
    printf("tensors: %d, %.2f MiB, %.0f elements\n", n, (double)total / (1024.0 * 1024.0), params);
    for (type = 0; type < 64; type++) { /* one line per type present */
        int count = 0;
        size_t bytes = 0;
        for (i = 0; i < n; i++) {
            artr_model_tensor_at(m, i, &t, NULL);
            if (t.type != type) continue;
            count++;
            bytes += t.n_bytes;
        }
        if (count)
            printf("  %-6s %5d tensors %12.2f MiB%s\n", artr_type_name(type), count,
                   (double)bytes / (1024.0 * 1024.0), runs_type(type) ? "" : "  (artr does not run this type)");
    }
    for (i = 0; i < n && (all || i < 16); i++) {
        int d;
        const char *tn;
        artr_model_tensor_at(m, i, &t, NULL);
        tn = artr_type_name(t.type);
        printf("  %-32.*s %-6s [", (int)t.name_len, t.name, tn ? tn : "?");
        for (d = 0; d < t.n_dims; d++) printf(d ? ", %lld" : "%lld", (long long)t.ne[d]);
        printf("] %zu bytes\n", t.n_bytes);
    }
    if (!all && n > 16) printf("  ... %d more (-t lists all)\n", n - 16);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *vocab = NULL;
    int all = 0, max_elems = 8, i, ok;
    artr_model *m = NULL;
    artr_model_params p;
    artr_error err;
    FILE *f;
    unsigned char head[8] = {0};
    long file_size = -1;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--tensors")) {
            all = 1;
        } else if ((!strcmp(argv[i], "-z") || !strcmp(argv[i], "--vocab")) && i + 1 < argc) {
            vocab = argv[++i];
        } else if ((!strcmp(argv[i], "-a") || !strcmp(argv[i], "--arrays")) && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 1000000) {
                fprintf(stderr, "artr-inspect: --arrays wants a count 0..1000000, got '%s'\n", argv[i]);
                return 2;
            }
            max_elems = (int)v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "artr-inspect: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "artr-inspect: one FILE only ('%s' and '%s')\n", path, argv[i]);
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    ok = fread(head, 1, 8, f) == 8 && !memcmp(head, "GGUF", 4);
    if (fseek(f, 0, SEEK_END) == 0) file_size = ftell(f);
    fclose(f);
    if (ok)
        printf("file: %s (GGUF version %u, %ld bytes)\n", path,
               (unsigned)(head[4] | head[5] << 8 | head[6] << 16 | (unsigned)head[7] << 24), file_size);
    else
        printf("file: %s (%ld bytes, no GGUF magic: trying llama2.c checkpoint)\n", path, file_size);

    memset(&p, 0, sizeof p);
    if (ok) { /* list what is there even if artr cannot run it */
        p.container = 1;
        if (artr_model_load_file(&m, path, &p, &err) != ARTR_OK) {
            printf("invalid GGUF: %s: %s\n", artr_status_name(err.status), err.msg);
            return 1;
        }
        {
            int64_t align = 32;
            artr_model_meta_int(m, "general.alignment", &align, NULL);
            printf("metadata: %d keys, data alignment %lld\n", artr_model_meta_count(m), (long long)align);
        }
        for (i = 0; i < artr_model_meta_count(m); i++) {
            size_t len;
            const char *k = artr_model_meta_key(m, i, &len);
            char key[300];
            if (len >= sizeof key) continue;
            memcpy(key, k, len);
            key[len] = 0;
            printf("  %-40s ", key);
            print_meta(m, key, max_elems);
            putchar('\n');
        }
        print_tensors(m, all);
        artr_model_free(m);
        m = NULL;
    }
    memset(&p, 0, sizeof p);
    p.vocab_path = vocab;
    if (artr_model_load_file(&m, path, &p, &err) != ARTR_OK) {
        printf("artr cannot run this model: %s: %s\n", artr_status_name(err.status), err.msg);
        return 1;
    }
    {
        const artr_config *c = artr_model_config(m);
        static const char *const arch[] = {"none", "llama", "qwen2", "gpt2", "qwen3", "gemma3", "phi3"};
        size_t bytes = 0;
        artr_model_bytes_file(path, &p, &bytes, NULL);
        if (!ok) print_tensors(m, all);
        printf("model: arch %s, vocab %d, embd %d, layers %d, heads %d, kv heads %d, head size %d, ffn %d, "
               "context %d, rope theta %g, norm eps %g\n",
               c->arch >= 0 && c->arch < (int)(sizeof arch / sizeof arch[0]) ? arch[c->arch] : "?",
               c->n_vocab, c->n_embd, c->n_layer, c->n_head, c->n_head_kv, c->head_dim,
               c->n_ff, c->n_ctx_train, c->rope_theta, c->norm_eps);
        {
            static const char *const family[] = {
                "", "Llama (RMSNorm, rope, grouped-query attention, SwiGLU; Llama 3 rope_freqs)",
                "Qwen2 (Llama with Q/K/V biases, NEOX rope)", "GPT-2 (LayerNorm, learned positions, GELU MLP)",
                "Qwen3 (Llama with per-head Q/K RMSNorm, NEOX rope)",
                "Gemma 3 (scaled embeddings, QK norm, sandwich norms, GeGLU, sliding-window layers, softcap)",
                "Phi-3 (fused QKV and gate|up, LongRoPE)"};
            if (c->arch > 0 && c->arch < (int)(sizeof family / sizeof family[0]))
                printf("family: %s\n", family[c->arch]);
        }
        printf("model tables: %zu bytes (artr_model_bytes)\n", bytes);
        printf("OK: artr loads this model\n");
    }
    artr_model_free(m);
    return 0;
}
