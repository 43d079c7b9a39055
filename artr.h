/* artr.h - v0.5.0 - transformer inference in one file - public domain or MIT (see end)

   artr runs autoregressive decoder-only transformers (Llama 2/3, Qwen2/3, Gemma 3,
   Phi-3, GPT-2 families) from GGUF files or llama2.c checkpoints. C99, libc and libm
   only; compiles as C++.

   DOCUMENTATION

   Quick start. In exactly one C or C++ file:
       #define ARTR_IMPLEMENTATION
       #include "artr.h"
   Everywhere else just #include "artr.h". The whole loop, load to free (examples/simple.c
   is it as a program):

       artr_error err;
       artr_model *m = NULL;
       artr_ctx *c = NULL;                       // one sequence: KV cache + scratch
       artr_sampler s;                           // all zero is greedy
       artr_detok d;                             // streaming detokenizer, zeroed
       int32_t ids[64], tok;
       char text[256];                           // >= artr_model_vocab(m)->max_piece_bytes
       size_t k;
       int n, n_out, i, rc = 1;
       if (artr_model_load_file(&m, "model.gguf", NULL, &err) != ARTR_OK ||
           artr_ctx_create(&c, m, NULL, &err) != ARTR_OK ||
           artr_tokenize(m, "ROMEO:", 6, artr_model_vocab(m)->add_bos ? ARTR_TOKENIZE_BOS : 0,
                         ids, 64, &n, &err) != ARTR_OK ||
           artr_forward(c, ids, n, &err) != ARTR_OK)      // the prompt in one pass
           goto done;
       memset(&s, 0, sizeof s);
       memset(&d, 0, sizeof d);
       s.temperature = 0.8f;
       s.top_p = 0.95f;
       s.rng = 42;                               // the seed: the same text every run
       for (i = 0; i < 200; i++) {
           if (artr_step(c, &s, &tok, 1, &n_out, &err) != ARTR_OK) goto done; // sample, append
           if (tok == artr_model_vocab(m)->eos) break;
           if (artr_detok_push(m, &d, tok, text, sizeof text, &k, &err) != ARTR_OK) goto done;
           fwrite(text, 1, k, stdout);           // whole UTF-8 characters only
       }
       if (artr_detok_flush(m, &d, text, sizeof text, &k, &err) != ARTR_OK) goto done;
       fwrite(text, 1, k, stdout);
       rc = 0;
   done:
       if (rc) fprintf(stderr, "artr: %s\n", err.msg);  // what, where, found, expected
       artr_ctx_free(c);                         // both accept NULL
       artr_model_free(m);

   artr_logits(c, -1) gives a forward call's last row of logits for your own sampling.

   This version has the loaders, metadata and tensor access, the KV-cached forward pass,
   samplers, the faster decoding strategies and the tokenizer.

   Build options (define before the #include):
     ARTR_IMPLEMENTATION      emit the definitions (one translation unit)
     ARTR_STATIC              private static copy in this translation unit
     ARTRDEF                  decoration for every public function (default extern)
     ARTR_MALLOC(n)/ARTR_FREE(p)  allocation hook; define both or neither
     ARTR_NO_MALLOC           no default allocator: pass caller buffers (params.mem)
     ARTR_NO_STDIO            no path-based loaders; <stdio.h> is never included
     ARTR_NO_MMAP             always read files into memory (by default they are mapped
                              on POSIX and Windows; see Memory)
     ARTR_NO_SIMD             reference kernels only (see Kernels below)
     ARTR_NO_QUANT_ACT        SIMD builds: Q8_0/Q4_0 weights times float activations
                              (slower; no rounding of the activations to 8 bits)
     ARTR_ASSERT(x)           internal invariants (default assert); no file can fail one
     ARTR_NO_FAILURE_STRINGS  error messages shrink to status names (saves flash)
     ARTR_MAX_TENSORS, ARTR_MAX_KV, ARTR_MAX_NAME, ARTR_MAX_STRING, ARTR_MAX_LAYERS
                              ceilings for file fields (defaults below)
     ARTR_OMP_MIN_WORK        OpenMP builds: multiply-adds below which a matrix multiply
                              or an attention call stays on one thread (default 65536)
     ARTR_TOKENIZE_RUN        tokenizer merge window, a power of two 8..128 units (default
                              128): stack of artr_tokenize is about 22 bytes per unit

   Memory. Nothing is allocated behind your back: every allocation goes through
   ARTR_MALLOC, 64-byte aligned. A model needs one block for its own tables (tensor and
   metadata tables, vocabulary, copies of misaligned tensors); artr_model_bytes() tells
   its size up front and artr_model_params.mem places it in your buffer, so a model can
   be loaded with no allocator at all. Weights are used in place: the bytes you pass to
   artr_model_load_memory must outlive the model and are never written.
   artr_model_load_file maps the file read-only (mmap on POSIX, MapViewOfFile on Windows),
   so weights are not copied; with ARTR_NO_MMAP, or on other systems, it reads the file
   into one allocation. On Windows the implementation includes <windows.h> with
   WIN32_LEAN_AND_MEAN and NOMINMAX; a translation unit that needs all of it includes
   <windows.h> before artr.h.

   Errors. Every fallible call returns an artr_status and takes an artr_error * last
   (may be NULL). On failure err->msg says what, where, what was found and what was
   expected; nothing aborts, leaks or reads out of bounds on a corrupt or hostile file.
   Getters answer bad arguments with NULL or -1.

   Threads. A loaded model is read-only and may be shared by any number of threads, each
   with its own contexts; a context belongs to one thread at a time. There is no global
   state. Compiled with OpenMP (-fopenmp), a forward call splits matrix rows and
   attention heads over artr_ctx_params.n_threads threads; results do not depend on it.

   Forward pass. n tokens in one call give, row for row, bit-identical logits to n
   single-token calls (each weight row is read once per call and dotted with every
   token by the same kernel). A failed call changes nothing. artr_ctx_truncate forgets
   positions (rejected guesses), artr_ctx_copy forks a sequence. n_sink > 0 bounds the
   cache for endless generation (attention sinks + a window of recent positions).

   Kernels. The weight-times-activation dot products have AVX2/FMA versions (built
   when the compiler targets them: -mavx2 -mfma, -march=native; F16 also needs F16C)
   and NEON versions (AArch64; 32-bit NEON without F16 conversion uses the reference
   for F16), chosen at compile time; ARTR_NO_SIMD keeps the plain-C references. They
   add in another order than the references, so logits differ from a scalar build by
   float rounding (tested: |fast - ref| <= 1e-5 * sum |w*x| per dot product), but within
   a build batch equals steps still holds exactly. For Q8_0 and Q4_0 weights the SIMD
   builds also round each activation row to 8-bit blocks (once per matrix multiply, as
   llama.cpp) and sum in integers: faster, but logits move by the activations' rounding
   (bounded per dot product by sum |w| * max|x| / 254 per block; about 0.2 on the test
   model's logits). ARTR_NO_QUANT_ACT keeps float activations.

   Formats.
     GGUF v2 and v3 (little-endian), every metadata type including nested arrays.
       Architectures (llama.cpp's names, keys and tensors, checked against transformers):
         llama   Llama 2/3.x, SmolLM2, TinyLlama, Mistral-style: any rope.freq_base, Llama
                 3's rope_freqs.weight (divisors of the rotation frequencies), linear rope
                 scaling, tied or separate output;
         qwen2   Qwen2/2.5 (Q/K/V biases); qwen3: per-head RMSNorm on Q and K before rope,
                 head size attention.key_length (need not be embedding / heads);
         gemma3  embeddings times sqrt(n_embd), norms as stored (the converter folds
                 Gemma's 1 + w), QK norm, norms after attention and after the FFN, GeGLU,
                 sliding-window layers (attention.sliding_window, every 6th layer global,
                 attention.sliding_window_pattern) with rope.freq_base_swa (default 1e4),
                 final_logit_softcapping, query scale 1/sqrt(head size) (or the
                 gemma3.attention.query_pre_attn_scalar tools/convert.py writes when it
                 differs; llama.cpp's 27B rule without it). A sliding-window layer's
                 cache is a ring of window + n_batch - 1 positions (its memory does not
                 grow with n_ctx; artr_ctx_bytes counts it), so a truncation may drop at
                 most n_batch positions past the window (a bounded cache keeps full rows);
         phi3    fused attn_qkv and gate|up ffn_up, LongRoPE (rope_factors_long/_short,
                 rope.scaling.attn_factor) as transformers' generate() computes it: the
                 long factors for every position once the sequence is longer than
                 rope.scaling.original_context_length, the cache recomputed from the token
                 history at the switch (llama.cpp instead uses the long factors for every
                 position whenever n_ctx exceeds the original context);
         gpt2    LayerNorm with biases, learned positions, GELU MLP.
       Any other file opens as a plain container with artr_model_params.container = 1
       (metadata and tensors only).
       Weight types F32, F16, BF16, Q8_0, Q4_0; norms and biases F32. Every other ggml
       type is recognised (sizes checked, shown by name) but not run.
     llama2.c legacy (version 0) checkpoints: 7 int32 header, float32 weights, shared or
       separate classifier, plus its tokenizer.bin (artr_model_params.vocab/vocab_path).

   Tokenizer. artr_tokenize turns text into ids with the model's own vocabulary:
   SentencePiece BPE (GGUF tokenizer.ggml.model "llama"), byte-level BPE ("gpt2", with
   the GPT-2 pre-tokenizer), or llama2.c's tokenizer.bin. It allocates nothing and is
   linear in the text. artr_detok_push streams ids back to text, holding back a UTF-8
   character split over byte tokens until it is whole.

       int32_t ids[64];
       int n;
       if (artr_tokenize(m, "Hello", 5, ARTR_TOKENIZE_BOS, ids, 64, &n, &err) != ARTR_OK) ...
       artr_detok d = {0};
       char buf[256];  size_t k;   // >= artr_model_vocab(m)->max_piece_bytes
       for (int i = 0; i < n; i++)
           if (artr_detok_push(m, &d, ids[i], buf, sizeof buf, &k, &err) == ARTR_OK)
               fwrite(buf, 1, k, stdout);

   Limits. Big-endian hosts and files are refused. YaRN and other rope scalings but
   linear, llama3 (rope_freqs) and Phi-3's LongRoPE, partial rotary embeddings, unequal
   key and value head sizes, attention logit softcapping (Gemma 2), mixture-of-experts,
   vision towers and k-quants are refused with ARTR_E_UNSUPPORTED.

   REVISION HISTORY
     0.5.0 (2026-12-02) architectures qwen3, gemma3 (sliding-window layers in a ring
                        cache), phi3 and Llama 3's rope_freqs, in the one forward pass;
                        artr_config.head_dim; tools/convert.py converts
                        Qwen3, Gemma 3, Phi-3 and Llama 3 rope scaling.
     0.4.1 (2026-12-02) files mapped on Windows (MapViewOfFile; ARTR_NO_MMAP still reads,
                        with 64-bit offsets); failure messages in printf syntax, checked by
                        the compiler (format attribute, fixes for 32-bit int32_t); §5 model
                        section, reading map; loader macros made functions; options listed;
                        the quick start is the whole loop (examples/simple.c).
     0.4.0 (2026-11-23) F16 KV cache (artr_ctx_params.kv_type, vectorised attention); AVX2
                        matmul over four rows (Q8_0/Q4_0, VNNI), four tokens (F32/F16) and
                        4x2 (quantized verification, prefill), row blocks and prefetch;
                        vector exp for softmax, SwiGLU, GELU.
     0.3.0 (2026-11-23) tokenizer: artr_tokenize (SentencePiece BPE, byte-level BPE,
                        llama2.c), artr_token_piece, artr_model_vocab, streaming detokenizer;
                        samplers; decoding steps (speculative, self-speculative, Jacobi,
                        speculative Jacobi); artr_quantize_f32, artr_model_meta_raw; AVX2/FMA
                        and NEON dot kernels, 8-bit activations for Q8_0/Q4_0 weights.
     0.2.0 (2026-11-23) contexts (placement, truncate, copy, bounded cache with attention
                        sinks) and the forward pass for llama, qwen2, gpt2.
     0.1.0 (2026-11-23) loaders (GGUF, llama2.c), metadata/tensor access, F16/BF16/Q8_0/
                        Q4_0 dequantization.
*/
#ifndef ARTR_H
#define ARTR_H

#include <stddef.h>
#include <stdint.h>

#define ARTR_VERSION_MAJOR 0
#define ARTR_VERSION_MINOR 5
#define ARTR_VERSION_PATCH 0
#define ARTR_VERSION (ARTR_VERSION_MAJOR * 10000 + ARTR_VERSION_MINOR * 100 + ARTR_VERSION_PATCH)

#ifndef ARTRDEF
#if defined(ARTR_STATIC) && defined(__GNUC__)
#define ARTRDEF static __attribute__((unused))
#elif defined(ARTR_STATIC)
#define ARTRDEF static
#else
#define ARTRDEF extern
#endif
#endif

#define ARTR_ERROR_MAX 256

#ifdef __cplusplus
extern "C" {
#endif

/* ARG: caller error (NULL, n <= 0, id >= n_vocab, missing key). IO: open/read/map failed.
   FORMAT: malformed, truncated or inconsistent data. UNSUPPORTED: well formed, but an
   arch, type or version artr does not run. NOMEM: allocation failed or buffer < *_bytes.
   FULL: no room for n more positions. SPACE: output array too small. */
typedef enum artr_status {
    ARTR_OK = 0,
    ARTR_E_ARG = -1,
    ARTR_E_IO = -2,
    ARTR_E_FORMAT = -3,
    ARTR_E_UNSUPPORTED = -4,
    ARTR_E_NOMEM = -5,
    ARTR_E_FULL = -6,
    ARTR_E_SPACE = -7
} artr_status;

/* Filled by a failing call: the status again and a NUL-terminated reason. */
typedef struct artr_error {
    artr_status status;
    char msg[ARTR_ERROR_MAX];
} artr_error;

/* "OK", "E_FORMAT", ...: a static string, never NULL (unknown codes give "E_UNKNOWN"). */
ARTRDEF const char *artr_status_name(artr_status s);

/* ---- model --------------------------------------------------------------------- */

typedef struct artr_model artr_model; /* opaque, read-only after load, shared by threads */

enum { ARTR_ARCH_NONE = 0, ARTR_ARCH_LLAMA = 1, ARTR_ARCH_QWEN2 = 2, ARTR_ARCH_GPT2 = 3,
       ARTR_ARCH_QWEN3 = 4, ARTR_ARCH_GEMMA3 = 5, ARTR_ARCH_PHI3 = 6 };

/* The transformer's shape. arch is ARTR_ARCH_NONE (and the rest 0) for a container.
   head_dim is the size of one attention head (GGUF attention.key_length), which need not
   be n_embd / n_head (Qwen3, Gemma 3). */
typedef struct artr_config {
    int arch, n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx_train;
    float rope_theta, norm_eps;
    int head_dim;
} artr_config;

/* NULL or all zero: defaults. */
typedef struct artr_model_params {
    void *mem;                /* place the model's own tables here (see artr_model_bytes) */
    size_t mem_size;          /* any alignment; mem must outlive the model               */
    const void *vocab;        /* llama2.c tokenizer.bin in memory (outlives the model)    */
    size_t vocab_size;
    const char *vocab_path;   /* ... or its path (read at load; needs stdio)              */
    int no_copy;              /* 1: refuse tensors that are misaligned instead of copying */
    int container;            /* 1: GGUF as a plain container: metadata and tensors only,
                                 no architecture required or checked                     */
} artr_model_params;

/* Bytes of the block a model built from (data, size, p) needs for its tables, including
   copies of misaligned tensors and 63 bytes of slack for any alignment of p->mem. Reads
   the file's structure; a file that passes may still be refused by the full load. */
ARTRDEF artr_status artr_model_bytes(const void *data, size_t size, const artr_model_params *p,
                                     size_t *bytes, artr_error *err);
/* Load from bytes in memory, used in place (never written; must outlive the model).
   Allocates one block unless p->mem is given. *out is NULL on failure. */
ARTRDEF artr_status artr_model_load_memory(artr_model **out, const void *data, size_t size,
                                           const artr_model_params *p, artr_error *err);
#ifndef ARTR_NO_STDIO
/* Load a file: mapped read-only on POSIX and Windows (unless ARTR_NO_MMAP), else read
   into one allocation. The model owns the mapping. */
ARTRDEF artr_status artr_model_load_file(artr_model **out, const char *path,
                                         const artr_model_params *p, artr_error *err);
/* artr_model_bytes for a file (maps it, measures, unmaps). */
ARTRDEF artr_status artr_model_bytes_file(const char *path, const artr_model_params *p,
                                          size_t *bytes, artr_error *err);
#endif
/* The model's shape; valid as long as the model. NULL for NULL. */
ARTRDEF const artr_config *artr_model_config(const artr_model *m);
/* Frees what the model owns (its block unless placed, its file mapping). NULL is fine. */
ARTRDEF void artr_model_free(artr_model *m);

/* ---- metadata: a driver's extras live in the same GGUF --------------------------- */

/* GGUF metadata value types, numbered as in the file. */
enum {
    ARTR_META_UINT8 = 0, ARTR_META_INT8 = 1, ARTR_META_UINT16 = 2, ARTR_META_INT16 = 3,
    ARTR_META_UINT32 = 4, ARTR_META_INT32 = 5, ARTR_META_FLOAT32 = 6, ARTR_META_BOOL = 7,
    ARTR_META_STRING = 8, ARTR_META_ARRAY = 9, ARTR_META_UINT64 = 10, ARTR_META_INT64 = 11,
    ARTR_META_FLOAT64 = 12
};

/* Number of metadata entries (0 for llama2.c files) and the i-th key (not NUL-terminated,
   length in *len; sorted order is not promised). NULL for a bad i. */
ARTRDEF int artr_model_meta_count(const artr_model *m);
ARTRDEF const char *artr_model_meta_key(const artr_model *m, int i, size_t *len);
/* Type of a key; for arrays also the element type and the count (else elem_type = -1
   and n = 1). ARTR_E_ARG if the key is missing. Any out pointer may be NULL. */
ARTRDEF artr_status artr_model_meta_type(const artr_model *m, const char *key, int *type,
                                         int *elem_type, uint64_t *n, artr_error *err);
/* Typed getters. int: any integer type or bool (a uint64 above INT64_MAX is ARTR_E_ARG);
   float: FLOAT32 or FLOAT64; str: pointer into the file, not NUL-terminated. A missing
   key or a different type is ARTR_E_ARG. */
ARTRDEF artr_status artr_model_meta_int(const artr_model *m, const char *key, int64_t *out,
                                        artr_error *err);
ARTRDEF artr_status artr_model_meta_float(const artr_model *m, const char *key, double *out,
                                          artr_error *err);
ARTRDEF artr_status artr_model_meta_str(const artr_model *m, const char *key, const char **s,
                                        size_t *len, artr_error *err);
/* Element i of an array key with integer/bool, float or string elements. Scalar elements
   are O(1); string elements walk the array, O(i). */
ARTRDEF artr_status artr_model_meta_array_int(const artr_model *m, const char *key, uint64_t i,
                                              int64_t *out, artr_error *err);
ARTRDEF artr_status artr_model_meta_array_float(const artr_model *m, const char *key,
                                                uint64_t i, double *out, artr_error *err);
ARTRDEF artr_status artr_model_meta_array_str(const artr_model *m, const char *key, uint64_t i,
                                              const char **s, size_t *len, artr_error *err);
/* The i-th metadata entry (0 <= i < artr_model_meta_count) as stored in the file, for
   copying it into another GGUF: *type is its value type and [*bytes, +*n_bytes) everything
   after the type field (a string's uint64 length and bytes; an array's element type, count
   and elements; a scalar's bytes), little-endian, pointing into the file. */
ARTRDEF artr_status artr_model_meta_raw(const artr_model *m, int i, int *type,
                                        const void **bytes, size_t *n_bytes, artr_error *err);

/* ---- tensors ---------------------------------------------------------------------- */

/* ggml/GGUF tensor types, numbered as in the file. artr runs F32, F16, BF16, Q8_0 and
   Q4_0 weights; every listed type loads and is bounds-checked. */
enum {
    ARTR_TYPE_F32 = 0, ARTR_TYPE_F16 = 1, ARTR_TYPE_Q4_0 = 2, ARTR_TYPE_Q4_1 = 3,
    ARTR_TYPE_Q5_0 = 6, ARTR_TYPE_Q5_1 = 7, ARTR_TYPE_Q8_0 = 8, ARTR_TYPE_Q8_1 = 9,
    ARTR_TYPE_Q2_K = 10, ARTR_TYPE_Q3_K = 11, ARTR_TYPE_Q4_K = 12, ARTR_TYPE_Q5_K = 13,
    ARTR_TYPE_Q6_K = 14, ARTR_TYPE_Q8_K = 15, ARTR_TYPE_IQ2_XXS = 16, ARTR_TYPE_IQ2_XS = 17,
    ARTR_TYPE_IQ3_XXS = 18, ARTR_TYPE_IQ1_S = 19, ARTR_TYPE_IQ4_NL = 20, ARTR_TYPE_IQ3_S = 21,
    ARTR_TYPE_IQ2_S = 22, ARTR_TYPE_IQ4_XS = 23, ARTR_TYPE_I8 = 24, ARTR_TYPE_I16 = 25,
    ARTR_TYPE_I32 = 26, ARTR_TYPE_I64 = 27, ARTR_TYPE_F64 = 28, ARTR_TYPE_IQ1_M = 29,
    ARTR_TYPE_BF16 = 30, ARTR_TYPE_TQ1_0 = 34, ARTR_TYPE_TQ2_0 = 35, ARTR_TYPE_MXFP4 = 39,
    ARTR_TYPE_NVFP4 = 40, ARTR_TYPE_Q1_0 = 41
};

/* A view of one tensor. ne[0] is the fastest-varying (row length), as in GGUF; unused
   dims are 1. name is not NUL-terminated. data points into the file (or into the
   model's block when the tensor had to be copied for alignment). */
typedef struct artr_tensor {
    const char *name;
    size_t name_len;
    int type;
    int n_dims;
    int64_t ne[4];
    const void *data;
    size_t n_bytes;
} artr_tensor;

/* "F32", "Q4_K", ...; NULL for a type number ggml does not define. */
ARTRDEF const char *artr_type_name(int type);
ARTRDEF int artr_model_tensor_count(const artr_model *m);
/* Copy out tensor i (file order) or the tensor named name. ARTR_E_ARG if absent. */
ARTRDEF artr_status artr_model_tensor_at(const artr_model *m, int i, artr_tensor *t,
                                         artr_error *err);
ARTRDEF artr_status artr_model_tensor(const artr_model *m, const char *name, artr_tensor *t,
                                      artr_error *err);
/* Convert elements [first, first + n) of a tensor (flat order) to float. F32, F16, BF16,
   Q8_0, Q4_0, I8, I16, I32; for block types first and n must be multiples of the block
   (32). Allocates nothing. */
ARTRDEF artr_status artr_tensor_to_f32(const artr_tensor *t, int64_t first, int64_t n,
                                       float *dst, artr_error *err);
/* The other way: n floats (a multiple of the block, 32, for Q8_0 and Q4_0) to type F32,
   F16, BF16, Q8_0 or Q4_0, written to dst (dst_size bytes; too small is ARTR_E_SPACE).
   Bit for bit what gguf-py's gguf.quants.quantize and ggml's reference quantizers write
   for finite input (NaN and Inf give well-defined but unspecified blocks). Allocates
   nothing; no alignment needed. */
ARTRDEF artr_status artr_quantize_f32(int type, const float *src, int64_t n, void *dst,
                                      size_t dst_size, artr_error *err);

/* ---- context: one sequence, its KV cache and scratch ------------------------------ */

typedef struct artr_ctx artr_ctx;     /* opaque: one sequence; one thread at a time */

/* NULL or all zero: defaults. */
typedef struct artr_ctx_params {
    int n_ctx;        /* positions the cache holds; 0 = the model's n_ctx_train          */
    int n_batch;      /* most tokens one forward call takes; 0 = min(n_ctx, 128)         */
    int n_threads;    /* OpenMP threads; 0 = OpenMP's default (1 without OpenMP)         */
    int n_sink;       /* > 0: bounded cache for endless streams: the first n_sink
                         positions stay, older recent ones are evicted (StreamingLLM)   */
    int bounded;      /* 1: evict when full even with n_sink = 0 (a plain sliding window,
                         which StreamingLLM shows degrades; for comparisons)            */
    int n_layers;     /* > 0: run only the first n_layers layers (a self-speculative
                         draft sharing the model's weights); 0 = all                    */
    int n_draft;      /* most guesses one decoding step makes (speculative k, Jacobi
                         window); 0 = min(16, n_batch - 1)                              */
    int kv_type;      /* KV cache element type: ARTR_TYPE_F32 (0, the default) or
                         ARTR_TYPE_F16 (half the cache memory; keys and values rounded
                         to half precision as they are stored)                          */
    void *mem;        /* place the context here (any alignment; see artr_ctx_bytes)     */
    size_t mem_size;
} artr_ctx_params;

/* Bytes a context of model m with params p needs (cache, activations, logits), so it can
   live in p->mem. */
ARTRDEF artr_status artr_ctx_bytes(const artr_model *m, const artr_ctx_params *p, size_t *bytes,
                                   artr_error *err);
/* A context for m (which must outlive it): one allocation, or none with p->mem. Forward,
   truncate and copy never allocate. *out is NULL on failure. */
ARTRDEF artr_status artr_ctx_create(artr_ctx **out, const artr_model *m, const artr_ctx_params *p,
                                    artr_error *err);
/* Forget every position from n_pos on (0 <= n_pos <= artr_ctx_pos), e.g. rejected guesses.
   The logits of the last call are dropped. */
ARTRDEF artr_status artr_ctx_truncate(artr_ctx *c, int n_pos, artr_error *err);
/* Make dst a copy of src (same model and params): cache, position, last logits. For
   classifier-free guidance and parallel samples from one prefilled prompt. */
ARTRDEF artr_status artr_ctx_copy(artr_ctx *dst, const artr_ctx *src, artr_error *err);
/* Tokens processed so far: the position the next token gets (-1 for NULL). */
ARTRDEF int artr_ctx_pos(const artr_ctx *c);
/* Decoding statistics since creation (steps only, not plain forwards). */
typedef struct artr_stats {
    int64_t steps;        /* decoding step calls                                        */
    int64_t calls;        /* forward calls they made on this (target) context           */
    int64_t tokens;       /* tokens they returned                                       */
    int64_t drafted;      /* guesses verified (draft tokens, Jacobi window tokens)       */
    int64_t accepted;     /* guesses accepted                                           */
} artr_stats;
ARTRDEF void artr_ctx_stats(const artr_ctx *c, artr_stats *st);
ARTRDEF const artr_model *artr_ctx_model(const artr_ctx *c);
ARTRDEF void artr_ctx_free(artr_ctx *c);

/* ---- forward pass ------------------------------------------------------------------ */

enum { ARTR_LOGITS_LAST = 0, ARTR_LOGITS_ALL = 1, ARTR_LOGITS_NONE = 2 };

typedef struct artr_batch {
    const int32_t *tokens;  /* n token ids, or NULL and ...                               */
    const float *embd;      /* ... n x n_embd input embeddings (replacing token lookup)   */
    int n;
    int logits;             /* ARTR_LOGITS_LAST (0), _ALL or _NONE: rows kept for
                               artr_logits / artr_hidden                                   */
    int n_layers;           /* 0 = all; k = exit after k layers (self-speculative drafts):
                               only layers < k are cached for these positions, so they
                               must be truncated away before a deeper call              */
} artr_batch;

/* Run n tokens at positions artr_ctx_pos(c) .. + n - 1 in one pass (prefill, or verifying
   guesses): each weight is read once per call. Row i equals what n single-token calls
   give (batch equals steps). Fails (changing nothing) on an id outside the vocabulary
   (E_ARG), n > n_batch (E_ARG), or no room (E_FULL; never with a bounded cache). A token
   a decoding step left pending is fed first (then n may be at most n_batch - 1). */
ARTRDEF artr_status artr_forward(artr_ctx *c, const int32_t *tokens, int n, artr_error *err);
ARTRDEF artr_status artr_forward_batch(artr_ctx *c, const artr_batch *b, artr_error *err);
/* Row i (0-based, or i < 0 from the end) of the last call's kept rows: n_vocab logits or
   n_embd final hidden states (after the final norm). NULL if there is no such row. Valid
   until the next forward, truncate or copy into c. */
ARTRDEF const float *artr_logits(const artr_ctx *c, int i);
ARTRDEF const float *artr_hidden(const artr_ctx *c, int i);

/* ---- sampling ------------------------------------------------------------------------ */

typedef struct artr_logit_bias {
    int32_t token;
    float bias;                       /* added to the token's logit; -INFINITY bans it */
} artr_logit_bias;

/* {0} is greedy, and every knob at 0 is off. Applied in llama.cpp's default order:
   guidance, logit bias and bans, penalties, top-k, top-p, min-p, temperature. */
typedef struct artr_sampler {
    float temperature;     /* 0: greedy (argmax; ties go to the lowest id)                  */
    int top_k;             /* keep the k largest logits (ties with the k-th stay); 0: off  */
    float top_p;           /* nucleus: drop the least likely tokens whose total probability
                              is at most 1 - top_p (the likeliest always stays); 0, >= 1: off */
    float min_p;           /* drop tokens with p < min_p * p_max; 0: off                     */
    float repeat_penalty;  /* tokens in the history: logit / penalty if positive, * penalty
                              if negative (CTRL, Keskar et al. 2019); 0 or 1: off          */
    int repeat_last_n;     /* history length for all penalties: 0 = 64, -1 = whole context */
    uint64_t rng;          /* SplitMix64 state: set a seed; each draw advances it          */
    float frequency_penalty, presence_penalty; /* logit -= count * f + (count > 0) * p     */
    const artr_logit_bias *logit_bias;         /* n_logit_bias entries, applied first     */
    int n_logit_bias;
    const int32_t *banned;                     /* n_banned ids that are never drawn       */
    int n_banned;
    artr_ctx *guidance;        /* classifier-free guidance: the unconditional context; its */
    float guidance_scale;      /* same row u gives logits u + scale * (logits - u); the
                                  decoding steps feed it the same new tokens             */
} artr_sampler;

/* The final distribution over the vocabulary for row `row` of c's last call (negative:
   from the end) after every transform: n_vocab floats into p. Greedy gives one-hot.
   NaN logits count as -inf; if any logit is +inf, the +inf tokens share all the mass; if
   no token is left, ARTR_E_ARG. Uses c's scratch (no allocation); does not touch rng. */
ARTRDEF artr_status artr_probs(artr_ctx *c, const artr_sampler *s, int row, float *p,
                               artr_error *err);
/* Draw a token from artr_probs's distribution with s->rng (greedy needs no draw). */
ARTRDEF artr_status artr_sample(artr_ctx *c, artr_sampler *s, int row, int32_t *tok,
                                artr_error *err);
/* A uniform float in [0, 1) from a SplitMix64 state (24 random bits), advancing it. */
ARTRDEF float artr_rng_uniform(uint64_t *state);

/* ---- decoding: each call appends >= 1 tokens to c and returns them in out ----------- */
/* The caller drives the loop: prefill the prompt with artr_forward, then call a step
   function until done. A step leaves its last token pending: the next step (or any
   artr_forward) feeds it first, so verifying guesses costs one forward call. Every step
   works with the sampler's guidance context (fed the same tokens) and a bounded cache.
   max_out smaller than 1: ARTR_E_SPACE; larger windows are cut to fit max_out, n_draft,
   n_batch and the room left in the cache. */

/* One token from the last logits row (the baseline). */
ARTRDEF artr_status artr_step(artr_ctx *c, artr_sampler *s, int32_t *out, int max_out, int *n_out,
                              artr_error *err);
/* Speculative decoding (Leviathan et al. 2023, Alg. 1; Chen et al. 2023): draft proposes
   k tokens, target verifies them in ONE forward, each kept with probability min(1, p/q),
   a rejection resampled from norm(max(0, p - q)), a bonus token when all pass. Sampling
   from the target is preserved exactly; greedy output equals plain greedy. draft is a
   context on a smaller model with the same vocabulary, prefilled with the same prompt,
   or, for self-speculative decoding, a context on the SAME model created with
   artr_ctx_params.n_layers = L (its first L layers draft, sharing the weights). */
ARTRDEF artr_status artr_step_speculative(artr_ctx *target, artr_ctx *draft, artr_sampler *s, int k,
                                          int32_t *out, int max_out, int *n_out, artr_error *err);
/* Jacobi decoding (Santilli et al. 2023): refine a window of guesses in parallel; every
   guess that matches the model's own prediction from a verified prefix is kept. Greedy
   only (s->temperature 0): the output equals plain greedy. Guesses carry over between
   calls and unguessed slots are seeded from an n-gram pool of past outputs (the token
   seen after the previous one, as lookahead decoding's pool, Fu et al. 2024). */
ARTRDEF artr_status artr_step_jacobi(artr_ctx *c, artr_sampler *s, int window, int32_t *out,
                                     int max_out, int *n_out, artr_error *err);
/* Speculative Jacobi decoding (Teng et al. 2024): Jacobi iterations with the speculative
   acceptance test, so SAMPLING is accelerated and its distribution preserved. Guesses
   come from the previous iteration (with their distributions); new slots take init[i]
   as the proposal for position artr_ctx_pos(c) + i when given (e.g. an image driver's
   spatial neighbours), else a uniformly random token. */
ARTRDEF artr_status artr_step_spec_jacobi(artr_ctx *c, artr_sampler *s, int window,
                                          const int32_t *init, int n_init, int32_t *out,
                                          int max_out, int *n_out, artr_error *err);

/* ---- tokenizer ------------------------------------------------------------------ */

/* Tokenizer families. SPM: SentencePiece BPE (GGUF tokenizer.ggml.model "llama"). BPE:
   byte-level BPE with the GPT-2 pre-tokenizer ("gpt2"). LLAMA2C: llama2.c's tokenizer.bin.
   NONE: no vocabulary. OTHER: a vocabulary artr cannot tokenize with (pieces readable). */
enum { ARTR_VOCAB_NONE = 0, ARTR_VOCAB_SPM = 1, ARTR_VOCAB_BPE = 2, ARTR_VOCAB_LLAMA2C = 3,
       ARTR_VOCAB_OTHER = 4 };

typedef struct artr_vocab_info {
    int kind;                   /* ARTR_VOCAB_* */
    int n_vocab;                /* tokens in the vocabulary, 0 without one */
    int32_t bos, eos, unk, pad; /* -1 if absent; SPM files that are silent get 1, 2, 0 */
    int add_bos, add_eos;       /* 1 if the model expects ARTR_TOKENIZE_BOS / _EOS */
    int add_space_prefix;       /* 1 if a space is put before the text (SPM, llama2.c) */
    int max_piece_bytes;        /* no artr_detok_push call writes more bytes than this */
} artr_vocab_info;

/* The model's tokenizer facts; valid as long as the model. NULL for NULL. */
ARTRDEF const artr_vocab_info *artr_model_vocab(const artr_model *m);

/* Flags for artr_tokenize. */
enum {
    ARTR_TOKENIZE_BOS = 1,            /* put the BOS id first */
    ARTR_TOKENIZE_EOS = 2,            /* put the EOS id last */
    ARTR_TOKENIZE_SPECIAL = 4,        /* text of control tokens ("<s>", "<|endoftext|>")
                                         becomes their id; user-defined tokens always do */
    ARTR_TOKENIZE_NO_SPACE_PREFIX = 8 /* SPM, llama2.c: no space put before the text */
};

/* Text (len bytes of anything: NUL and invalid UTF-8 are encoded) to ids in out, their
   count in *n_out: at most len + 3, unless special tokens are cut out or an SPM vocabulary
   lacks "▁" (then 4 * len + 5). More than max_out: ARTR_E_SPACE, the needed count in
   *n_out, the first max_out ids in out (max_out = 0 counts). Allocates nothing, about
   2.8 KB of stack, time linear in len; thread-safe (the model is only read). */
ARTRDEF artr_status artr_tokenize(const artr_model *m, const char *text, size_t len, int flags,
                                  int32_t *out, int max_out, int *n_out, artr_error *err);

/* The vocabulary's text of id as the file stores it (SentencePiece "▁the", byte-level
   "Ġthe", "<0x0A>"; not NUL-terminated, *len bytes), valid as long as the model. NULL
   for a bad id or a model without vocabulary. For readable text use artr_detok_push. */
ARTRDEF const char *artr_token_piece(const artr_model *m, int32_t id, size_t *len);

/* Streaming detokenizer: zero it, set flags, push ids one at a time. Each push writes the
   bytes that became complete: a UTF-8 character split over byte tokens is held back
   until its last byte arrives. <0xXX> tokens become bytes, byte-level characters their
   bytes, "▁" a space; SPM and llama2.c drop the space prefix of the first piece and of
   the piece after a control or user-defined token (where artr_tokenize puts it);
   control tokens write nothing unless ARTR_DETOK_SPECIAL. Allocates nothing; one state
   per stream. */
enum { ARTR_DETOK_SPECIAL = 1 /* write control tokens' text ("<s>") */ };
typedef struct artr_detok {
    int flags;                 /* ARTR_DETOK_*; set before the first push */
    int in_text;               /* internal: 0 at the start and after a control token */
    int n_pending;             /* internal: bytes of an unfinished character held back */
    unsigned char pending[4];
} artr_detok;
/* Append the text of id to out (cap bytes): *n bytes written. ARTR_E_SPACE if out is too
   small (needed count in *n, nothing written, state unchanged); cap >= max_piece_bytes
   always suffices. */
ARTRDEF artr_status artr_detok_push(const artr_model *m, artr_detok *d, int32_t id, char *out,
                                    size_t cap, size_t *n, artr_error *err);
/* End of stream: write the held bytes of an unfinished character as they are (at most
   3) and reset d for a new stream (flags kept). */
ARTRDEF artr_status artr_detok_flush(const artr_model *m, artr_detok *d, char *out, size_t cap,
                                     size_t *n, artr_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ARTR_H */

/* ================================================================================== */
/*                                  IMPLEMENTATION                                    */
/* ================================================================================== */
#ifdef ARTR_IMPLEMENTATION
#ifndef ARTR__IMPLEMENTED
#define ARTR__IMPLEMENTED

/* Reading map: where each step starts. Callees come first, so an entry point sits below
   what it calls.
     load      artr_model_load_file / _memory -> artr__model_load               §5
               -> artr__model_scan (the file checked and counted)                §4
               -> artr__model_build (layout, fill, bind into one block)          §5
     forward   artr_forward -> artr_forward_batch -> artr__forward_run           §6
     sample    artr_sample -> artr_probs (the distribution), artr__pick          §7
     decode    artr_step, artr_step_speculative, artr_step_jacobi,
               artr_step_spec_jacobi                                             §8
     tokenize  artr_tokenize -> artr__encode_text; back to text: artr_detok_push §9 */

/* ---- §0 config, portability ------------------------------------------------------ */

#include <string.h>
#include <stdarg.h>
#include <math.h>

#if defined(ARTR_MALLOC) != defined(ARTR_FREE)
#error "artr: define both ARTR_MALLOC and ARTR_FREE, or neither"
#endif
#if !defined(ARTR_MALLOC) && !defined(ARTR_NO_MALLOC)
#include <stdlib.h>
#define ARTR_MALLOC(n) malloc(n)
#define ARTR_FREE(p) free(p)
#endif

#ifndef ARTR_ASSERT
#include <assert.h>
#define ARTR_ASSERT(x) assert(x)
#endif

#ifndef ARTR_NO_STDIO
#include <stdio.h>
#include <errno.h>
/* Files are mapped read-only: MapViewOfFile on Windows, mmap on POSIX (ARTR__MMAP says
   one of them is in use); elsewhere, or with ARTR_NO_MMAP, they are read with fread. */
#if !defined(ARTR_NO_MMAP) && defined(_WIN32)
#define ARTR__MMAP 1
#define ARTR__MMAP_WIN32 1
/* The lean <windows.h>, without min/max macros; what we define for it we take back. */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#define ARTR__UNDEF_LEAN 1
#endif
#ifndef NOMINMAX
#define NOMINMAX
#define ARTR__UNDEF_NOMINMAX 1
#endif
#include <windows.h>
#ifdef ARTR__UNDEF_LEAN
#undef WIN32_LEAN_AND_MEAN
#undef ARTR__UNDEF_LEAN
#endif
#ifdef ARTR__UNDEF_NOMINMAX
#undef NOMINMAX
#undef ARTR__UNDEF_NOMINMAX
#endif
#elif !defined(ARTR_NO_MMAP) && (defined(__unix__) || defined(__APPLE__))
#define ARTR__MMAP 1
#define ARTR__MMAP_POSIX 1
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>
#endif
/* The read path's file size: long is 32 bits on Windows, so ftell stops at 2 GB there. */
#if defined(_WIN32)
#define ARTR__FSEEK(fp, off, whence) _fseeki64((fp), (off), (whence))
#define ARTR__FTELL(fp) _ftelli64(fp)
#else
#define ARTR__FSEEK(fp, off, whence) fseek((fp), (long)(off), (whence))
#define ARTR__FTELL(fp) ftell(fp)
#endif
#endif

#ifndef ARTR_MAX_TENSORS
#define ARTR_MAX_TENSORS 65536 /* tensors in one file */
#endif
#ifndef ARTR_MAX_KV
#define ARTR_MAX_KV 65536 /* metadata entries in one file */
#endif
#ifndef ARTR_MAX_NAME
#define ARTR_MAX_NAME 256 /* bytes in a tensor name or metadata key */
#endif
#ifndef ARTR_MAX_STRING
#define ARTR_MAX_STRING (64u << 20) /* bytes in one metadata string */
#endif
#ifndef ARTR_MAX_LAYERS
#define ARTR_MAX_LAYERS 4096
#endif
#define ARTR__MAX_NEST 8 /* levels of arrays in one metadata value, the outermost included */

#if defined(__cplusplus)
#define ARTR__RESTRICT __restrict
#define ARTR__INLINE inline
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define ARTR__RESTRICT restrict
#define ARTR__INLINE inline
#else
#define ARTR__RESTRICT
#define ARTR__INLINE
#endif

#if defined(__GNUC__)
#define ARTR__UNUSED __attribute__((unused)) /* helpers not every build calls */
#else
#define ARTR__UNUSED
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#if !defined(ARTR_NO_SIMD) && defined(__AVX2__) && defined(__FMA__)
#define ARTR__AVX2 1
#endif
#if !defined(ARTR_NO_SIMD) && defined(__ARM_NEON)
#define ARTR__NEON 1
#endif
#if ARTR__AVX2
#include <immintrin.h>
#endif
#if ARTR__NEON
#include <arm_neon.h>
#endif

/* ---- §1 utilities: checked math, errors, allocation, reader ------------------------ */

static int artr__host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Checked size arithmetic: 1 if the result fits. */
static int artr__mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}
static int artr__add_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > UINT64_MAX - a) return 0;
    *out = a + b;
    return 1;
}
static uint64_t artr__align_up(uint64_t x, uint64_t a) /* a is a power of two; x < 2^63 */
{
    return (x + a - 1) & ~(a - 1);
}

ARTRDEF const char *artr_status_name(artr_status s)
{
    switch (s) {
    case ARTR_OK: return "OK";
    case ARTR_E_ARG: return "E_ARG";
    case ARTR_E_IO: return "E_IO";
    case ARTR_E_FORMAT: return "E_FORMAT";
    case ARTR_E_UNSUPPORTED: return "E_UNSUPPORTED";
    case ARTR_E_NOMEM: return "E_NOMEM";
    case ARTR_E_FULL: return "E_FULL";
    case ARTR_E_SPACE: return "E_SPACE";
    }
    return "E_UNKNOWN";
}

/* Error messages. A tiny formatter (no snprintf) for the printf subset the messages use,
   checked by the compiler through ARTR__PRINTF: %s C string, %.*s (int n, const char *)
   n bytes from a file (not NUL-terminated: control bytes and DEL shown as '?', cut at 64
   then "...", n < 0 shows nothing), %d int, %u unsigned, %x unsigned hex, %lld long long,
   %llu unsigned long long, %zu size_t, %g double (6 significant digits, any exponent
   written out: 1e4, 1e-5), %% percent. Anything else stops the message (our bug). */
#if defined(__MINGW32__)   /* MinGW's printf is the MS runtime's (no %zu); ours is C99's */
#define ARTR__PRINTF(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__) || defined(__clang__)
#define ARTR__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define ARTR__PRINTF(fmt, args)
#endif

/* A %.*s precision for n file bytes: the formatter shows at most 64 and "..." past that,
   so 65 stands for any longer string and the int never overflows. */
static ARTR__UNUSED int artr__plen(uint64_t n)
{
    return n > 65 ? 65 : (int)n;
}

typedef struct artr__buf {
    char *p;
    size_t n, cap; /* cap includes the NUL */
} artr__buf;

static void artr__put(artr__buf *b, char c)
{
    if (b->n + 1 < b->cap) b->p[b->n++] = c;
}
static void artr__puts(artr__buf *b, const char *s)
{
    while (*s) artr__put(b, *s++);
}
static void artr__put_u64(artr__buf *b, uint64_t v, unsigned base)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n) artr__put(b, tmp[--n]);
}
static void artr__put_i64(artr__buf *b, int64_t v)
{
    if (v < 0) {
        artr__put(b, '-');
        artr__put_u64(b, (uint64_t)0 - (uint64_t)v, 10);
    } else {
        artr__put_u64(b, (uint64_t)v, 10);
    }
}
static void artr__put_bytes(artr__buf *b, const char *s, size_t len)
{
    size_t i, show = len > 64 ? 64 : len;
    for (i = 0; i < show; i++) {
        unsigned char c = (unsigned char)s[i];
        artr__put(b, (c >= 0x20 && c < 0x7f) || c >= 0x80 ? (char)c : '?');
    }
    if (show < len) artr__puts(b, "...");
}
static void artr__put_g(artr__buf *b, double v)
{
    int e = 0, i;
    double m;
    uint64_t digits;
    if (v != v) {
        artr__puts(b, "nan");
        return;
    }
    if (v < 0) {
        artr__put(b, '-');
        v = -v;
    }
    if (v > 1e300) {
        artr__puts(b, "inf");
        return;
    }
    if (v == 0) {
        artr__put(b, '0');
        return;
    }
    m = v;
    while (m >= 10) {
        m /= 10;
        e++;
    }
    while (m < 1) {
        m *= 10;
        e--;
    }
    digits = (uint64_t)(m * 100000 + 0.5); /* 6 significant digits */
    if (digits >= 1000000) {
        digits /= 10;
        e++;
    }
    artr__put_u64(b, digits / 100000, 10);
    digits %= 100000;
    if (digits) {
        artr__put(b, '.');
        for (i = 10000; i > 0 && digits; i /= 10) {
            artr__put(b, (char)('0' + (int)(digits / (uint64_t)i)));
            digits %= (uint64_t)i;
        }
    }
    if (e) {
        artr__put(b, 'e');
        artr__put_i64(b, e);
    }
}

static void artr__vformat(artr__buf *b, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        const char *s;
        if (*fmt != '%') {
            artr__put(b, *fmt);
            continue;
        }
        fmt++;
        if (fmt[0] == '.' && fmt[1] == '*' && fmt[2] == 's') {
            int n = va_arg(ap, int);
            s = va_arg(ap, const char *);
            artr__put_bytes(b, s, n > 0 ? (size_t)n : 0);
            fmt += 2;
            continue;
        }
        if (fmt[0] == 'l' && fmt[1] == 'l' && (fmt[2] == 'd' || fmt[2] == 'u')) {
            if (fmt[2] == 'd') artr__put_i64(b, (int64_t)va_arg(ap, long long));
            else artr__put_u64(b, (uint64_t)va_arg(ap, unsigned long long), 10);
            fmt += 2;
            continue;
        }
        if (fmt[0] == 'z' && fmt[1] == 'u') {
            artr__put_u64(b, va_arg(ap, size_t), 10);
            fmt++;
            continue;
        }
        switch (*fmt) {
        case 's':
            s = va_arg(ap, const char *);
            artr__puts(b, s ? s : "(null)");
            break;
        case 'd': artr__put_i64(b, va_arg(ap, int)); break;
        case 'u': artr__put_u64(b, va_arg(ap, unsigned), 10); break;
        case 'x': artr__put_u64(b, va_arg(ap, unsigned), 16); break;
        case 'g': artr__put_g(b, va_arg(ap, double)); break;
        case '%': artr__put(b, '%'); break;
        default: return; /* a bad format is our bug; stop rather than misread va_args */
        }
    }
}

/* Record a failure in err (if any) and return its status. */
static ARTR__UNUSED ARTR__PRINTF(3, 4) artr_status artr__fail_msg(artr_error *err, artr_status st,
                                                                  const char *fmt, ...)
{
    if (err) {
        artr__buf b;
        va_list ap;
        b.p = err->msg;
        b.n = 0;
        b.cap = sizeof err->msg;
        va_start(ap, fmt);
        artr__vformat(&b, fmt, ap);
        va_end(ap);
        b.p[b.n] = 0;
        err->status = st;
    }
    return st;
}
static ARTR__UNUSED artr_status artr__fail_bare(artr_error *err, artr_status st)
{
    if (err) {
        const char *s = artr_status_name(st);
        size_t n = strlen(s);
        memcpy(err->msg, s, n + 1);
        err->status = st;
    }
    return st;
}
#ifdef ARTR_NO_FAILURE_STRINGS
/* The message and its arguments go into an unevaluated sizeof: they count as used (no
   warnings) and are still format-checked, but no format string reaches the object file.
   artr__sink is never defined. */
int artr__sink(const char *fmt, ...) ARTR__PRINTF(1, 2);
#define ARTR__FAIL(err, st, ...) \
    ((void)sizeof(artr__sink(__VA_ARGS__)), artr__fail_bare((err), (st)))
#else
#define ARTR__FAIL(err, st, ...) artr__fail_msg((err), (st), __VA_ARGS__)
#endif

static void artr__ok(artr_error *err)
{
    if (err) {
        err->status = ARTR_OK;
        err->msg[0] = 0;
    }
}

/* Format into a small caller buffer (metadata keys like "llama.block_count"). */
static ARTR__PRINTF(3, 4) void artr__format(char *dst, size_t cap, const char *fmt, ...)
{
    artr__buf b;
    va_list ap;
    b.p = dst;
    b.n = 0;
    b.cap = cap;
    va_start(ap, fmt);
    artr__vformat(&b, fmt, ap);
    va_end(ap);
    b.p[b.n] = 0;
}

/* The one allocation hook: 64-byte aligned, the raw pointer kept just below. */
static void *artr__alloc(size_t bytes)
{
#ifdef ARTR_NO_MALLOC
    (void)bytes;
    return NULL;
#else
    unsigned char *raw, *p;
    if (bytes > SIZE_MAX - 64 - sizeof(void *)) return NULL;
    raw = (unsigned char *)ARTR_MALLOC(bytes + 64 + sizeof(void *));
    if (!raw) return NULL;
    p = raw + sizeof(void *);
    p += (64 - (uintptr_t)p % 64) % 64;
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    return p;
#endif
}
static void artr__free(void *p)
{
#ifdef ARTR_NO_MALLOC
    (void)p;
#else
    if (p) {
        void *raw;
        memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
        ARTR_FREE(raw);
    }
#endif
}

/* Bounds-checked little-endian cursor over untrusted bytes. Sticky: after the first
   short read every getter returns 0 and fail stays set. */
typedef struct artr__reader {
    const uint8_t *base;
    size_t size, pos;
    int fail;
} artr__reader;

static void artr__reader_init(artr__reader *r, const void *data, size_t size)
{
    r->base = (const uint8_t *)data;
    r->size = size;
    r->pos = 0;
    r->fail = 0;
}
static size_t artr__left(const artr__reader *r)
{
    return r->fail ? 0 : r->size - r->pos;
}
static const uint8_t *artr__take(artr__reader *r, uint64_t n)
{
    const uint8_t *p;
    if (r->fail || n > r->size - r->pos) {
        r->fail = 1;
        return NULL;
    }
    p = r->base + r->pos;
    r->pos += (size_t)n;
    return p;
}
static uint32_t artr__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t artr__le64(const uint8_t *p)
{
    return (uint64_t)artr__le32(p) | (uint64_t)artr__le32(p + 4) << 32;
}
static uint16_t artr__le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static float artr__lef32(const uint8_t *p)
{
    uint32_t u = artr__le32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint32_t artr__get32(artr__reader *r)
{
    const uint8_t *p = artr__take(r, 4);
    return p ? artr__le32(p) : 0;
}
static uint64_t artr__get64(artr__reader *r)
{
    const uint8_t *p = artr__take(r, 8);
    return p ? artr__le64(p) : 0;
}

/* Non-recursive heapsort of an index array; less(ctx, a, b) orders the indices. */
typedef int (*artr__less_fn)(const void *ctx, uint32_t a, uint32_t b);

static void artr__sift(uint32_t *v, size_t root, size_t n, artr__less_fn less, const void *ctx)
{
    for (;;) {
        size_t child = 2 * root + 1;
        uint32_t t;
        if (child >= n) return;
        if (child + 1 < n && less(ctx, v[child], v[child + 1])) child++;
        if (!less(ctx, v[root], v[child])) return;
        t = v[root];
        v[root] = v[child];
        v[child] = t;
        root = child;
    }
}
static void artr__heapsort(uint32_t *v, size_t n, artr__less_fn less, const void *ctx)
{
    size_t i;
    if (n < 2) return;
    for (i = n / 2; i-- > 0;) artr__sift(v, i, n, less, ctx);
    for (i = n - 1; i > 0; i--) {
        uint32_t t = v[0];
        v[0] = v[i];
        v[i] = t;
        artr__sift(v, 0, i, less, ctx);
    }
}

/* Byte-string order: memcmp, then length. */
static int artr__cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);
    if (c) return c;
    return na < nb ? -1 : na > nb;
}

/* ---- §2 number formats ----------------------------------------------------------- */

/* IEEE half to float, exact for every input (subnormals, inf, NaN payloads). */
static float artr__f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t u;
    float f;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | man << 13;
    } else if (exp != 0) {
        u = sign | (exp + 112) << 23 | man << 13;
    } else if (man == 0) {
        u = sign;
    } else { /* subnormal: normalise */
        exp = 113;
        while (!(man & 0x400)) {
            man <<= 1;
            exp--;
        }
        u = sign | exp << 23 | (man & 0x3ff) << 13;
    }
    memcpy(&f, &u, 4);
    return f;
}

/* Float to IEEE half, round to nearest even (as numpy's astype(float16)). */
static ARTR__UNUSED uint16_t artr__f32_to_f16(float f)
{
    uint32_t u, sign, exp, man;
    memcpy(&u, &f, 4);
    sign = (u >> 16) & 0x8000;
    exp = (u >> 23) & 0xff;
    man = u & 0x7fffff;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
    if (exp > 142) return (uint16_t)(sign | 0x7c00); /* >= 2^16: overflow to inf */
    if (exp < 113) {                                  /* half subnormal or zero */
        uint32_t shift, m, h, rem, half;
        if (exp < 102) return (uint16_t)sign; /* < 2^-25: rounds to zero */
        m = man | 0x800000;
        shift = 126 - exp; /* 14..24 */
        h = m >> shift;
        rem = m & ((1u << shift) - 1);
        half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    {
        uint32_t h = (exp - 112) << 10 | man >> 13;
        uint32_t rem = man & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* may carry into inf */
        return (uint16_t)(sign | h);
    }
}

static float artr__bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Float to bfloat16, round to nearest even; NaN stays NaN (quiet), as ggml and gguf-py. */
static ARTR__UNUSED uint16_t artr__f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

/* The ggml type table: elements per block and bytes per block (ggml.h, gguf-py). */
typedef struct artr__type_info {
    const char *name;
    uint16_t block, bytes;
} artr__type_info;

static const artr__type_info artr__types[] = {
    {"F32", 1, 4},       {"F16", 1, 2},        {"Q4_0", 32, 18},    {"Q4_1", 32, 20},
    {NULL, 0, 0},        {NULL, 0, 0},         {"Q5_0", 32, 22},    {"Q5_1", 32, 24},
    {"Q8_0", 32, 34},    {"Q8_1", 32, 36},     {"Q2_K", 256, 84},   {"Q3_K", 256, 110},
    {"Q4_K", 256, 144},  {"Q5_K", 256, 176},   {"Q6_K", 256, 210},  {"Q8_K", 256, 292},
    {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
    {"IQ4_NL", 32, 18},  {"IQ3_S", 256, 110},  {"IQ2_S", 256, 82},  {"IQ4_XS", 256, 136},
    {"I8", 1, 1},        {"I16", 1, 2},        {"I32", 1, 4},       {"I64", 1, 8},
    {"F64", 1, 8},       {"IQ1_M", 256, 56},   {"BF16", 1, 2},      {NULL, 0, 0},
    {NULL, 0, 0},        {NULL, 0, 0},         {"TQ1_0", 256, 54},  {"TQ2_0", 256, 66},
    {NULL, 0, 0},        {NULL, 0, 0},         {NULL, 0, 0},        {"MXFP4", 32, 17},
    {"NVFP4", 64, 36},   {"Q1_0", 128, 18},
};
#define ARTR__N_TYPES ((int)(sizeof artr__types / sizeof artr__types[0]))

static const artr__type_info *artr__type(uint32_t type)
{
    if (type >= (uint32_t)ARTR__N_TYPES || !artr__types[type].name) return NULL;
    return &artr__types[type];
}

ARTRDEF const char *artr_type_name(int type)
{
    const artr__type_info *ti = type < 0 ? NULL : artr__type((uint32_t)type);
    return ti ? ti->name : NULL;
}

/* Alignment the kernels need for a type's data: the widest scalar they load. */
static size_t artr__type_align(int type)
{
    switch (type) {
    case ARTR_TYPE_F32: case ARTR_TYPE_I32: return 4;
    case ARTR_TYPE_I64: case ARTR_TYPE_F64: return 8;
    case ARTR_TYPE_I8: return 1;
    default: return 2; /* F16, BF16, I16 and every block type starts with a half */
    }
}

/* Types the forward pass multiplies with. */
static int artr__type_is_weight(int type)
{
    return type == ARTR_TYPE_F32 || type == ARTR_TYPE_F16 || type == ARTR_TYPE_BF16 ||
           type == ARTR_TYPE_Q8_0 || type == ARTR_TYPE_Q4_0;
}

/* ---- §3 kernels: dequantization -------------------------------------------------- */

#define ARTR__QK 32 /* elements in a Q8_0 / Q4_0 block */

/* Q8_0 block (34 bytes): half d, int8 q[32]; x = d * q. */
static void artr__dequant_q8_0_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    int64_t b;
    int j;
    for (b = 0; b < n_blocks; b++, src += 34, dst += ARTR__QK) {
        float d = artr__f16_to_f32(artr__le16(src));
        for (j = 0; j < ARTR__QK; j++) dst[j] = d * (float)(int8_t)src[2 + j];
    }
}

/* Q4_0 block (18 bytes): half d, 16 bytes of nibbles; low nibbles are elements 0..15,
   high nibbles 16..31; x = d * (q - 8). */
static void artr__dequant_q4_0_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    int64_t b;
    int j;
    for (b = 0; b < n_blocks; b++, src += 18, dst += ARTR__QK) {
        float d = artr__f16_to_f32(artr__le16(src));
        for (j = 0; j < 16; j++) {
            dst[j] = d * (float)((src[2 + j] & 0x0f) - 8);
            dst[j + 16] = d * (float)((src[2 + j] >> 4) - 8);
        }
    }
}

/* A float already rounded to an integer, clamped into [lo, hi] without undefined casts
   (NaN gives 0). Only non-finite input ever reaches the clamps. */
static int artr__q_clamp(float v, int lo, int hi)
{
    if (v >= (float)lo && v <= (float)hi) return (int)v;
    if (v > (float)hi) return hi;
    return v < (float)lo ? lo : 0;
}

/* Q8_0, as ggml's quantize_row_q8_0_ref and gguf-py's Q8_0.quantize_blocks: per block of 32,
   d = max|x| / 127 and q = round(x / d) half away from zero, all in float32, where 1/d is
   computed once and multiplied (not divided) so the rounding matches; d stored as half. */
static void artr__quantize_row_q8_0_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                        int64_t n)
{
    int64_t b;
    int j;
    for (b = 0; b < n / ARTR__QK; b++, x += ARTR__QK, dst += 34) {
        float amax = 0.0f, d, id;
        uint16_t h;
        for (j = 0; j < ARTR__QK; j++) {
            float a = fabsf(x[j]);
            if (a > amax) amax = a;
        }
        d = amax / 127.0f;
        id = d != 0.0f ? 1.0f / d : 0.0f;
        h = artr__f32_to_f16(d);
        dst[0] = (uint8_t)(h & 0xff);
        dst[1] = (uint8_t)(h >> 8);
        for (j = 0; j < ARTR__QK; j++)
            dst[2 + j] = (uint8_t)(int8_t)artr__q_clamp(roundf(x[j] * id), -128, 127);
    }
}

/* Q4_0, as ggml's quantize_row_q4_0_ref and gguf-py's Q4_0.quantize_blocks: per block, m is
   the element of largest magnitude (the first, on ties) with its sign, d = m / -8 and
   q = min(15, trunc(x / d + 8.5)), float32 throughout. The product x*id goes through a
   volatile so that no compiler can fuse it with the + 8.5 into one FMA (gcc's default
   -ffp-contract=fast in GNU and C++ modes would) and change the rounding. */
static void artr__quantize_row_q4_0_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                        int64_t n)
{
    int64_t b;
    int j;
    for (b = 0; b < n / ARTR__QK; b++, x += ARTR__QK, dst += 18) {
        float amax = fabsf(x[0]), m = x[0], d, id; /* m keeps its sign, even -0.0 */
        int q[ARTR__QK];
        uint16_t h;
        for (j = 1; j < ARTR__QK; j++) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                m = x[j];
            }
        }
        d = m / -8.0f;
        id = d != 0.0f ? 1.0f / d : 0.0f;
        h = artr__f32_to_f16(d);
        dst[0] = (uint8_t)(h & 0xff);
        dst[1] = (uint8_t)(h >> 8);
        for (j = 0; j < ARTR__QK; j++) {
            volatile float p = x[j] * id;
            q[j] = artr__q_clamp(truncf(p + 8.5f), 0, 15);
        }
        for (j = 0; j < 16; j++) dst[2 + j] = (uint8_t)(q[j] | q[j + 16] << 4);
    }
}

ARTRDEF artr_status artr_quantize_f32(int type, const float *src, int64_t n, void *dst,
                                      size_t dst_size, artr_error *err)
{
    const artr__type_info *ti = type < 0 ? NULL : artr__type((uint32_t)type);
    uint8_t *out = (uint8_t *)dst;
    uint64_t need;
    int64_t i;
    if (!src || !dst || n < 0) return ARTR__FAIL(err, ARTR_E_ARG, "artr_quantize_f32: NULL src or dst, or n < 0");
    if (!ti || !(type == ARTR_TYPE_F32 || type == ARTR_TYPE_F16 || type == ARTR_TYPE_BF16 ||
                 type == ARTR_TYPE_Q8_0 || type == ARTR_TYPE_Q4_0))
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "artr_quantize_f32: cannot write type %s (F32, F16, BF16, Q8_0 and Q4_0 can be written)",
                          ti ? ti->name : "unknown");
    if (n % ti->block)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_quantize_f32: %lld floats is not a multiple of the %s block size %d",
                          (long long)n, ti->name, (int)ti->block);
    need = (uint64_t)(n / ti->block) * ti->bytes;
    if (need > dst_size)
        return ARTR__FAIL(err, ARTR_E_SPACE, "artr_quantize_f32: %lld floats as %s need %llu bytes, dst has %zu",
                          (long long)n, ti->name, (unsigned long long)need, dst_size);
    artr__ok(err);
    switch (type) {
    case ARTR_TYPE_F32:
        memcpy(out, src, (size_t)n * 4);
        break;
    case ARTR_TYPE_F16:
    case ARTR_TYPE_BF16:
        for (i = 0; i < n; i++) {
            uint16_t h = type == ARTR_TYPE_F16 ? artr__f32_to_f16(src[i]) : artr__f32_to_bf16(src[i]);
            out[2 * i] = (uint8_t)(h & 0xff);
            out[2 * i + 1] = (uint8_t)(h >> 8);
        }
        break;
    case ARTR_TYPE_Q8_0:
        artr__quantize_row_q8_0_ref(src, out, n);
        break;
    default:
        artr__quantize_row_q4_0_ref(src, out, n);
        break;
    }
    return ARTR_OK;
}

ARTRDEF artr_status artr_tensor_to_f32(const artr_tensor *t, int64_t first, int64_t n,
                                       float *dst, artr_error *err)
{
    const artr__type_info *ti;
    int64_t n_el, i;
    const uint8_t *src;
    if (!t || !dst || first < 0 || n < 0)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_tensor_to_f32: NULL tensor or dst, or negative range");
    ti = t->type < 0 ? NULL : artr__type((uint32_t)t->type);
    if (!ti) return ARTR__FAIL(err, ARTR_E_ARG, "artr_tensor_to_f32: bad tensor type %d", t->type);
    n_el = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    if (first > n_el || n > n_el - first)
        return ARTR__FAIL(err, ARTR_E_ARG, "tensor '%.*s': range [%lld, %lld) outside its %lld elements",
                          artr__plen(t->name_len), t->name, (long long)first,
                          (long long)(first + n), (long long)n_el);
    if (first % ti->block || n % ti->block)
        return ARTR__FAIL(err, ARTR_E_ARG, "tensor '%.*s' (%s): range [%lld, +%lld) not a multiple of the block size %d",
                          artr__plen(t->name_len), t->name, ti->name, (long long)first,
                          (long long)n, (int)ti->block);
    src = (const uint8_t *)t->data + (size_t)(first / ti->block) * ti->bytes;
    artr__ok(err);
    switch (t->type) {
    case ARTR_TYPE_F32:
        memcpy(dst, src, (size_t)n * 4);
        return ARTR_OK;
    case ARTR_TYPE_F16:
        for (i = 0; i < n; i++) dst[i] = artr__f16_to_f32(artr__le16(src + 2 * i));
        return ARTR_OK;
    case ARTR_TYPE_BF16:
        for (i = 0; i < n; i++) dst[i] = artr__bf16_to_f32(artr__le16(src + 2 * i));
        return ARTR_OK;
    case ARTR_TYPE_Q8_0:
        artr__dequant_q8_0_ref(src, dst, n / ARTR__QK);
        return ARTR_OK;
    case ARTR_TYPE_Q4_0:
        artr__dequant_q4_0_ref(src, dst, n / ARTR__QK);
        return ARTR_OK;
    case ARTR_TYPE_I8:
        for (i = 0; i < n; i++) dst[i] = (float)(int8_t)src[i];
        return ARTR_OK;
    case ARTR_TYPE_I16:
        for (i = 0; i < n; i++) dst[i] = (float)(int16_t)artr__le16(src + 2 * i);
        return ARTR_OK;
    case ARTR_TYPE_I32:
        for (i = 0; i < n; i++) dst[i] = (float)(int32_t)artr__le32(src + 4 * i);
        return ARTR_OK;
    }
    return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tensor '%.*s': artr cannot convert type %s to float",
                      artr__plen(t->name_len), t->name, ti->name);
}

/* ---- §3 kernels: dot products, matrix multiply, norms, rope, activations ---------- */
/* Reference versions: plain loops, one accumulator, a fixed summation order. The
   weights' data is aligned for its type (the loader copies what is not) and the host
   is little-endian (checked at load), so halves are read as uint16_t. */

typedef float (*artr__dot_fn)(const void *w, const float *x, int n);

/* SIMD variants follow each reference. They keep its signature, load unaligned and finish
   with a scalar tail, but add in a different order (several accumulators, a tree at the
   end), so they agree with the reference to rounding, not bit for bit. Every matmul
   output still comes from one kernel call, so batch equals steps whatever the build. */
#if ARTR__AVX2
/* Sum of the 8 lanes. */
static float artr__hsum_avx2(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* One half to float: F16C when the build has it (exact, as artr__f16_to_f32). */
static float artr__f16_one_avx2(uint16_t h)
{
#ifdef __F16C__
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128((int)h)));
#else
    return artr__f16_to_f32(h);
#endif
}

/* 8 signed bytes at p to 8 floats. */
static __m256 artr__i8x8_avx2(const uint8_t *p)
{
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}
#endif

#if ARTR__NEON
/* vfmaq_f32 needs AArch64 or VFPv4; older NEON multiplies and adds in two roundings. */
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define ARTR__VFMA(acc, a, b) vfmaq_f32(acc, a, b)
#else
#define ARTR__VFMA(acc, a, b) vmlaq_f32(acc, a, b)
#endif

static float artr__hsum_neon(float32x4_t v)
{
#if defined(__aarch64__)
    return vaddvq_f32(v);
#else
    float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
}

/* acc + (16 signed bytes q) * x[0..15], in four multiply-adds. */
static float32x4_t artr__fma_i8x16_neon(float32x4_t acc, int8x16_t q, const float *x)
{
    int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
    acc = ARTR__VFMA(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), vld1q_f32(x));
    acc = ARTR__VFMA(acc, vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), vld1q_f32(x + 4));
    acc = ARTR__VFMA(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), vld1q_f32(x + 8));
    return ARTR__VFMA(acc, vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), vld1q_f32(x + 12));
}
#endif

static ARTR__UNUSED float artr__dot_f32_ref(const void *w, const float *x, int n)
{
    const float *a = (const float *)w;
    float s = 0;
    int i;
    for (i = 0; i < n; i++) s += a[i] * x[i];
    return s;
}

#if ARTR__AVX2
/* Two accumulators over 16 floats, then 8, a tree, a scalar tail. artr__dot4t_f32_avx2
   repeats exactly this per token, so both give the same bits. */
static float artr__dot_f32_avx2(const void *w, const float *x, int n)
{
    const float *a = (const float *)w;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    float s;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(x + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(x + i), s0);
    s = artr__hsum_avx2(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * x[i];
    return s;
}

/* One weight row dotted with four activation rows (x, x + ldx, ...): each weight vector
   is loaded (and converted) once for all four. out[t] equals the one-token kernel's
   result for x + t * ldx bit for bit: the same two accumulators per token over 16, then
   8, the same tree and scalar tail. LOAD8(i) gives weights i..i+7 as floats, ONE(i)
   weight i. */
#define ARTR__DOT4T(NAME, WTYPE, LOAD8, ONE)                                                        \
    static void NAME(const void *w, const float *x, size_t ldx, int n, float *out)                 \
    {                                                                                              \
        const WTYPE *a = (const WTYPE *)w;                                                         \
        const float *x0 = x, *x1 = x + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx;                        \
        __m256 p0 = _mm256_setzero_ps(), p1 = p0, q0 = p0, q1 = p0, r0 = p0, r1 = p0, u0 = p0, u1 = p0; \
        int i = 0, t;                                                                              \
        for (; i + 16 <= n; i += 16) {                                                             \
            __m256 w0 = LOAD8(i), w1 = LOAD8(i + 8);                                               \
            p0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x0 + i), p0);                                 \
            p1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x0 + i + 8), p1);                             \
            q0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x1 + i), q0);                                 \
            q1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x1 + i + 8), q1);                             \
            r0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x2 + i), r0);                                 \
            r1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x2 + i + 8), r1);                             \
            u0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x3 + i), u0);                                 \
            u1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x3 + i + 8), u1);                             \
        }                                                                                          \
        for (; i + 8 <= n; i += 8) {                                                               \
            __m256 w0 = LOAD8(i);                                                                  \
            p0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x0 + i), p0);                                 \
            q0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x1 + i), q0);                                 \
            r0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x2 + i), r0);                                 \
            u0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x3 + i), u0);                                 \
        }                                                                                          \
        out[0] = artr__hsum_avx2(_mm256_add_ps(p0, p1));                                           \
        out[1] = artr__hsum_avx2(_mm256_add_ps(q0, q1));                                           \
        out[2] = artr__hsum_avx2(_mm256_add_ps(r0, r1));                                           \
        out[3] = artr__hsum_avx2(_mm256_add_ps(u0, u1));                                           \
        for (t = 0; t < 4; t++) {                                                                  \
            const float *xt = x + (size_t)t * ldx;                                                 \
            float s = out[t];                                                                      \
            int j;                                                                                 \
            for (j = i; j < n; j++) s += ONE(j) * xt[j];                                           \
            out[t] = s;                                                                            \
        }                                                                                          \
    }
#define ARTR__F32_LOAD8(i) _mm256_loadu_ps(a + (i))
#define ARTR__F32_ONE(i) a[i]
ARTR__DOT4T(artr__dot4t_f32_avx2, float, ARTR__F32_LOAD8, ARTR__F32_ONE)
#undef ARTR__F32_LOAD8
#undef ARTR__F32_ONE
#endif

#if ARTR__NEON
static float artr__dot_f32_neon(const void *w, const float *x, int n)
{
    const float *a = (const float *)w;
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0), s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
    float s;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = ARTR__VFMA(s0, vld1q_f32(a + i), vld1q_f32(x + i));
        s1 = ARTR__VFMA(s1, vld1q_f32(a + i + 4), vld1q_f32(x + i + 4));
        s2 = ARTR__VFMA(s2, vld1q_f32(a + i + 8), vld1q_f32(x + i + 8));
        s3 = ARTR__VFMA(s3, vld1q_f32(a + i + 12), vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = ARTR__VFMA(s0, vld1q_f32(a + i), vld1q_f32(x + i));
    s = artr__hsum_neon(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++) s += a[i] * x[i];
    return s;
}
#endif

static ARTR__UNUSED float artr__dot_f16_ref(const void *w, const float *x, int n)
{
    const uint16_t *a = (const uint16_t *)w;
    float s = 0;
    int i;
    for (i = 0; i < n; i++) s += artr__f16_to_f32(a[i]) * x[i];
    return s;
}

#if ARTR__AVX2 && defined(__F16C__)
#define ARTR__F16_AVX2 1
static float artr__dot_f16_avx2(const void *w, const float *x, int n)
{
    const uint16_t *a = (const uint16_t *)w;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    float s;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256 a1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8)));
        s0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(x + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i))), _mm256_loadu_ps(x + i), s0);
    s = artr__hsum_avx2(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += artr__f16_one_avx2(a[i]) * x[i];
    return s;
}
#endif

#if ARTR__F16_AVX2
#define ARTR__F16_LOAD8(i) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + (i))))
#define ARTR__F16_ONE(i) artr__f16_one_avx2(a[i])
ARTR__DOT4T(artr__dot4t_f16_avx2, uint16_t, ARTR__F16_LOAD8, ARTR__F16_ONE)
#undef ARTR__F16_LOAD8
#undef ARTR__F16_ONE
#endif
#undef ARTR__DOT4T

/* Half to float in NEON needs the IEEE half format: always on AArch64. */
#if ARTR__NEON && (defined(__aarch64__) || defined(__ARM_FP16_FORMAT_IEEE))
#define ARTR__F16_NEON 1
static float artr__dot_f16_neon(const void *w, const float *x, int n)
{
    const uint16_t *a = (const uint16_t *)w;
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
    float s;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t a0 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(a + i)));
        float32x4_t a1 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(a + i + 4)));
        s0 = ARTR__VFMA(s0, a0, vld1q_f32(x + i));
        s1 = ARTR__VFMA(s1, a1, vld1q_f32(x + i + 4));
    }
    s = artr__hsum_neon(vaddq_f32(s0, s1));
    for (; i < n; i++) s += artr__f16_to_f32(a[i]) * x[i];
    return s;
}
#endif

static ARTR__UNUSED float artr__dot_bf16_ref(const void *w, const float *x, int n)
{
    const uint16_t *a = (const uint16_t *)w;
    float s = 0;
    int i;
    for (i = 0; i < n; i++) s += artr__bf16_to_f32(a[i]) * x[i];
    return s;
}

#if ARTR__AVX2
/* 8 bfloat16 at p to floats: widen to 32 bits, shift into the high half. */
static __m256 artr__bf16x8_avx2(const uint16_t *p)
{
    __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
}

static float artr__dot_bf16_avx2(const void *w, const float *x, int n)
{
    const uint16_t *a = (const uint16_t *)w;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    float s;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(artr__bf16x8_avx2(a + i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(artr__bf16x8_avx2(a + i + 8), _mm256_loadu_ps(x + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(artr__bf16x8_avx2(a + i), _mm256_loadu_ps(x + i), s0);
    s = artr__hsum_avx2(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += artr__bf16_to_f32(a[i]) * x[i];
    return s;
}
#endif

#if ARTR__NEON
static float artr__dot_bf16_neon(const void *w, const float *x, int n)
{
    const uint16_t *a = (const uint16_t *)w;
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
    float s;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t u = vld1q_u16(a + i);
        float32x4_t a0 = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(u), 16));
        float32x4_t a1 = vreinterpretq_f32_u32(vshll_n_u16(vget_high_u16(u), 16));
        s0 = ARTR__VFMA(s0, a0, vld1q_f32(x + i));
        s1 = ARTR__VFMA(s1, a1, vld1q_f32(x + i + 4));
    }
    s = artr__hsum_neon(vaddq_f32(s0, s1));
    for (; i < n; i++) s += artr__bf16_to_f32(a[i]) * x[i];
    return s;
}
#endif

/* Q8_0: per block, d * sum(q * x). */
static ARTR__UNUSED float artr__dot_q8_0_ref(const void *w, const float *x, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, j;
    for (i = 0; i < n; i += ARTR__QK, b += 34) {
        float bs = 0;
        for (j = 0; j < ARTR__QK; j++) bs += (float)(int8_t)b[2 + j] * x[i + j];
        s += artr__f16_to_f32(artr__le16(b)) * bs;
    }
    return s;
}

#if ARTR__AVX2
static float artr__dot_q8_0_avx2(const void *w, const float *x, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    __m256 acc = _mm256_setzero_ps();
    int i;
    for (i = 0; i < n; i += ARTR__QK, b += 34) {
        __m256 bs = _mm256_mul_ps(artr__i8x8_avx2(b + 2), _mm256_loadu_ps(x + i));
        bs = _mm256_fmadd_ps(artr__i8x8_avx2(b + 10), _mm256_loadu_ps(x + i + 8), bs);
        bs = _mm256_fmadd_ps(artr__i8x8_avx2(b + 18), _mm256_loadu_ps(x + i + 16), bs);
        bs = _mm256_fmadd_ps(artr__i8x8_avx2(b + 26), _mm256_loadu_ps(x + i + 24), bs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(artr__f16_one_avx2(artr__le16(b))), bs, acc);
    }
    return artr__hsum_avx2(acc);
}
#endif

#if ARTR__NEON
static float artr__dot_q8_0_neon(const void *w, const float *x, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float32x4_t acc = vdupq_n_f32(0);
    int i;
    for (i = 0; i < n; i += ARTR__QK, b += 34) {
        float32x4_t bs = vdupq_n_f32(0);
        bs = artr__fma_i8x16_neon(bs, vld1q_s8((const int8_t *)(b + 2)), x + i);
        bs = artr__fma_i8x16_neon(bs, vld1q_s8((const int8_t *)(b + 18)), x + i + 16);
        acc = ARTR__VFMA(acc, bs, vdupq_n_f32(artr__f16_to_f32(artr__le16(b))));
    }
    return artr__hsum_neon(acc);
}
#endif

/* Q4_0: per block, d * sum((q - 8) * x); low nibbles are elements 0..15. */
static ARTR__UNUSED float artr__dot_q4_0_ref(const void *w, const float *x, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, j;
    for (i = 0; i < n; i += ARTR__QK, b += 18) {
        float bs = 0;
        for (j = 0; j < 16; j++) {
            bs += (float)((b[2 + j] & 0x0f) - 8) * x[i + j];
            bs += (float)((b[2 + j] >> 4) - 8) * x[i + j + 16];
        }
        s += artr__f16_to_f32(artr__le16(b)) * bs;
    }
    return s;
}

#if ARTR__AVX2
static float artr__dot_q4_0_avx2(const void *w, const float *x, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    const __m128i mask = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
    __m256 acc = _mm256_setzero_ps();
    int i;
    for (i = 0; i < n; i += ARTR__QK, b += 18) {
        __m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
        __m128i lo = _mm_sub_epi8(_mm_and_si128(q, mask), eight);                    /* 0..15 */
        __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), mask), eight); /* 16..31 */
        __m256 bs = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), _mm256_loadu_ps(x + i));
        bs = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))),
                             _mm256_loadu_ps(x + i + 8), bs);
        bs = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), _mm256_loadu_ps(x + i + 16), bs);
        bs = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))),
                             _mm256_loadu_ps(x + i + 24), bs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(artr__f16_one_avx2(artr__le16(b))), bs, acc);
    }
    return artr__hsum_avx2(acc);
}
#endif

#if ARTR__NEON
static float artr__dot_q4_0_neon(const void *w, const float *x, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    const int8x16_t eight = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0);
    int i;
    for (i = 0; i < n; i += ARTR__QK, b += 18) {
        uint8x16_t q = vld1q_u8(b + 2);
        int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, mask)), eight); /* 0..15 */
        int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);   /* 16..31 */
        float32x4_t bs = vdupq_n_f32(0);
        bs = artr__fma_i8x16_neon(bs, lo, x + i);
        bs = artr__fma_i8x16_neon(bs, hi, x + i + 16);
        acc = ARTR__VFMA(acc, bs, vdupq_n_f32(artr__f16_to_f32(artr__le16(b))));
    }
    return artr__hsum_neon(acc);
}
#endif

/* Quantized weights times quantized activations (as llama.cpp's vec_dot_q8_0_q8_0 and
   q4_0_q8_0): the matmul turns each activation row into 8-bit blocks once per call
   (artr__quantize_act_ref: per block of 32, d = max|x| / 127 kept as a float, q =
   round(x / d) in -127..127), then each block's 32 products are summed exactly in
   integers and scaled by d_w * d_x. Used by the SIMD builds for Q8_0 and Q4_0 weights
   (unless ARTR_NO_QUANT_ACT). Rounding moves each activation by at most 1/254 of its
   block's largest, so a dot product by at most sum over blocks of sum|w| * d_x / 2
   (test_kernels.c: test_dotq_bound); on the test model's logits that is up to 0.23
   (test_forward.c: TOL_QACT_LOGITS). A token's quantized row depends on that token
   alone, so batch equals steps still holds. */
#if (ARTR__AVX2 || ARTR__NEON) && !defined(ARTR_NO_QUANT_ACT)
#define ARTR__QACT 1
#endif

typedef float (*artr__dotq_fn)(const void *w, const int8_t *xq, const float *xd, int n);

static ARTR__UNUSED void artr__quantize_act_ref(const float *ARTR__RESTRICT x, int n,
                                                int8_t *ARTR__RESTRICT q, float *ARTR__RESTRICT d)
{
    int i, j;
    for (i = 0; i < n; i += ARTR__QK, x += ARTR__QK, q += ARTR__QK) {
        float amax = 0, id;
        for (j = 0; j < ARTR__QK; j++)
            if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
        d[i / ARTR__QK] = amax / 127.0f;
        id = amax != 0.0f ? 127.0f / amax : 0.0f;
        for (j = 0; j < ARTR__QK; j++) q[j] = (int8_t)artr__q_clamp(roundf(x[j] * id), -127, 127);
    }
}

static ARTR__UNUSED float artr__dotq_q8_0_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, j;
    for (i = 0; i < n; i += ARTR__QK, b += 34) {
        int32_t is = 0, wi[ARTR__QK];
        /* Widened first: gcc 12.2 with AVX-VNNI compiles a plain int8 x int8 sum into a
           wrong vpdpbusd (unsigned x signed). */
        for (j = 0; j < ARTR__QK; j++) wi[j] = (int8_t)b[2 + j];
        for (j = 0; j < ARTR__QK; j++) is += wi[j] * (int32_t)xq[i + j];
        s += artr__f16_to_f32(artr__le16(b)) * xd[i / ARTR__QK] * (float)is;
    }
    return s;
}

static ARTR__UNUSED float artr__dotq_q4_0_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, j;
    for (i = 0; i < n; i += ARTR__QK, b += 18) {
        int32_t is = 0;
        for (j = 0; j < 16; j++) {
            is += ((b[2 + j] & 0x0f) - 8) * xq[i + j];
            is += ((b[2 + j] >> 4) - 8) * xq[i + j + 16];
        }
        s += artr__f16_to_f32(artr__le16(b)) * xd[i / ARTR__QK] * (float)is;
    }
    return s;
}

#if ARTR__QACT && ARTR__AVX2
/* 32 signed byte pairs: 8 lanes of exact integer sums (4 products each), as floats.
   maddubs wants unsigned x signed, so |w| times x with w's sign; |w| <= 128 and
   |x| <= 127 keep each pair's sum below 2^15. */
static __m256 artr__i8dot_avx2(__m256i w, __m256i x)
{
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    /* VNNI: the same four-product lane sums in one instruction (exact: same result) */
    return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)));
#elif defined(__AVXVNNI__)
    return _mm256_cvtepi32_ps(_mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)));
#else
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
#endif
}

static float artr__dotq_q8_0_avx2(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    __m256 acc = _mm256_setzero_ps();
    int i;
    for (i = 0; i < n; i += ARTR__QK, b += 34) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(b + 2));
        __m256 d = _mm256_set1_ps(artr__f16_one_avx2(artr__le16(b)) * xd[i / ARTR__QK]);
        acc = _mm256_fmadd_ps(d, artr__i8dot_avx2(q, _mm256_loadu_si256((const __m256i *)(xq + i))), acc);
    }
    return artr__hsum_avx2(acc);
}

/* 32 Q4_0 weights (16 bytes at q) as signed bytes: low nibbles, then high, minus 8. */
static __m256i artr__q4_unpack_avx2(const uint8_t *q)
{
    const __m128i mask = _mm_set1_epi8(0x0f);
    __m128i v = _mm_loadu_si128((const __m128i *)q);
    __m256i lh = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, mask)),
                                         _mm_and_si128(_mm_srli_epi16(v, 4), mask), 1);
    return _mm256_sub_epi8(lh, _mm256_set1_epi8(8));
}

static float artr__dotq_q4_0_avx2(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    __m256 acc = _mm256_setzero_ps();
    int i;
    for (i = 0; i < n; i += ARTR__QK, b += 18) {
        __m256 d = _mm256_set1_ps(artr__f16_one_avx2(artr__le16(b)) * xd[i / ARTR__QK]);
        acc = _mm256_fmadd_ps(d, artr__i8dot_avx2(artr__q4_unpack_avx2(b + 2),
                                                  _mm256_loadu_si256((const __m256i *)(xq + i))), acc);
    }
    return artr__hsum_avx2(acc);
}

/* Four rows at once (w, w + stride, ...): out[r] is bit for bit what the one-row kernel
   gives for row r (same blocks, same order, one accumulator per row), but four
   independent chains and four streams keep one core busy instead of waiting on memory.
   Each row prefetches the same block ARTR__PREFETCH_ROWS rows ahead (two groups on):
   together 5.6x faster decode of a 110M Q4_0 model on one core than one row at a time. */
#ifndef ARTR__PREFETCH_ROWS
#define ARTR__PREFETCH_ROWS 8
#endif
/* BLOCK: bytes per block; UNPACK(q): the 32 weights of the block at q as signed bytes. */
#define ARTR__DOTQ_4ROWS(NAME, BLOCK, UNPACK)                                                       \
    static void NAME(const void *w, size_t stride, const int8_t *xq, const float *xd, int n, float *out) \
    {                                                                                              \
        const uint8_t *b0 = (const uint8_t *)w, *b1 = b0 + stride, *b2 = b1 + stride, *b3 = b2 + stride; \
        size_t ahead = ARTR__PREFETCH_ROWS * stride; /* the same block, rows ahead */              \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                \
        int i;                                                                                     \
        for (i = 0; i < n; i += ARTR__QK, b0 += BLOCK, b1 += BLOCK, b2 += BLOCK, b3 += BLOCK) {     \
            __m256i x = _mm256_loadu_si256((const __m256i *)(xq + i));                             \
            float dx = xd[i / ARTR__QK];                                                           \
            _mm_prefetch((const char *)b0 + ahead, _MM_HINT_T0);                                   \
            _mm_prefetch((const char *)b1 + ahead, _MM_HINT_T0);                                   \
            _mm_prefetch((const char *)b2 + ahead, _MM_HINT_T0);                                   \
            _mm_prefetch((const char *)b3 + ahead, _MM_HINT_T0);                                   \
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(artr__f16_one_avx2(artr__le16(b0)) * dx),         \
                                 artr__i8dot_avx2(UNPACK(b0), x), a0);                             \
            a1 = _mm256_fmadd_ps(_mm256_set1_ps(artr__f16_one_avx2(artr__le16(b1)) * dx),         \
                                 artr__i8dot_avx2(UNPACK(b1), x), a1);                             \
            a2 = _mm256_fmadd_ps(_mm256_set1_ps(artr__f16_one_avx2(artr__le16(b2)) * dx),         \
                                 artr__i8dot_avx2(UNPACK(b2), x), a2);                             \
            a3 = _mm256_fmadd_ps(_mm256_set1_ps(artr__f16_one_avx2(artr__le16(b3)) * dx),         \
                                 artr__i8dot_avx2(UNPACK(b3), x), a3);                             \
        }                                                                                          \
        out[0] = artr__hsum_avx2(a0);                                                              \
        out[1] = artr__hsum_avx2(a1);                                                              \
        out[2] = artr__hsum_avx2(a2);                                                              \
        out[3] = artr__hsum_avx2(a3);                                                              \
    }
#define ARTR__Q8_UNPACK(q) _mm256_loadu_si256((const __m256i *)((q) + 2))
#define ARTR__Q4_UNPACK(q) artr__q4_unpack_avx2((q) + 2)
ARTR__DOTQ_4ROWS(artr__dotq4_q8_0_avx2, 34, ARTR__Q8_UNPACK)
ARTR__DOTQ_4ROWS(artr__dotq4_q4_0_avx2, 18, ARTR__Q4_UNPACK)
#endif

#if ARTR__QACT && ARTR__AVX2
/* Four rows times two tokens (activation rows xq and xq + ldq, scales xd and xd + ldd):
   each weight block is unpacked once for both tokens. out[t * 4 + r] equals the one-row,
   one-token kernel's result bit for bit (same accumulator sequence per row and token). */
#define ARTR__DOTQ_4X2(NAME, BLOCK, UNPACK)                                                          \
    static void NAME(const void *w, size_t stride, const int8_t *xq, size_t ldq, const float *xd,   \
                     size_t ldd, int n, float *out)                                                 \
    {                                                                                               \
        const uint8_t *b[4];                                                                        \
        __m256 acc[8];                                                                              \
        int i, r;                                                                                   \
        for (r = 0; r < 4; r++) b[r] = (const uint8_t *)w + (size_t)r * stride;                     \
        for (r = 0; r < 8; r++) acc[r] = _mm256_setzero_ps();                                       \
        for (i = 0; i < n; i += ARTR__QK) {                                                         \
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(xq + i));                             \
            __m256i x1 = _mm256_loadu_si256((const __m256i *)(xq + ldq + i));                       \
            float d0 = xd[i / ARTR__QK], d1 = xd[ldd + i / ARTR__QK];                               \
            for (r = 0; r < 4; r++) {                                                               \
                const uint8_t *q = b[r] + (size_t)(i / ARTR__QK) * BLOCK;                           \
                __m256i wv = UNPACK;                                                                \
                _mm_prefetch((const char *)q + ARTR__PREFETCH_ROWS * stride, _MM_HINT_T0);          \
                float dw = artr__f16_one_avx2(artr__le16(q));                                       \
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * d0), artr__i8dot_avx2(wv, x0), acc[r]); \
                acc[4 + r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * d1), artr__i8dot_avx2(wv, x1),     \
                                             acc[4 + r]);                                           \
            }                                                                                       \
        }                                                                                           \
        for (r = 0; r < 8; r++) out[r] = artr__hsum_avx2(acc[r]);                                   \
    }
ARTR__DOTQ_4X2(artr__dotq4x2_q8_0_avx2, 34, ARTR__Q8_UNPACK(q))
ARTR__DOTQ_4X2(artr__dotq4x2_q4_0_avx2, 18, ARTR__Q4_UNPACK(q))
#undef ARTR__DOTQ_4X2
#undef ARTR__DOTQ_4ROWS
#undef ARTR__Q8_UNPACK
#undef ARTR__Q4_UNPACK
#endif

#if ARTR__QACT && ARTR__NEON
/* 32 signed byte pairs (w0|w1, x0|x1): 4 lanes of exact integer sums, as floats; each
   int16 holds two products, below 2^15 in magnitude. */
static float32x4_t artr__i8dot_neon(int8x16_t w0, int8x16_t w1, const int8_t *x)
{
    int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
    int16x8_t p0 = vmlal_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), vget_high_s8(w0), vget_high_s8(x0));
    int16x8_t p1 = vmlal_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(x1)), vget_high_s8(w1), vget_high_s8(x1));
    return vcvtq_f32_s32(vpadalq_s16(vpaddlq_s16(p0), p1));
}

static float artr__dotq_q8_0_neon(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float32x4_t acc = vdupq_n_f32(0);
    int i;
    for (i = 0; i < n; i += ARTR__QK, b += 34) {
        float32x4_t p = artr__i8dot_neon(vld1q_s8((const int8_t *)(b + 2)), vld1q_s8((const int8_t *)(b + 18)), xq + i);
        acc = ARTR__VFMA(acc, p, vdupq_n_f32(artr__f16_to_f32(artr__le16(b)) * xd[i / ARTR__QK]));
    }
    return artr__hsum_neon(acc);
}

static float artr__dotq_q4_0_neon(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    const int8x16_t eight = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0);
    int i;
    for (i = 0; i < n; i += ARTR__QK, b += 18) {
        uint8x16_t q = vld1q_u8(b + 2);
        int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, mask)), eight);
        int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
        acc = ARTR__VFMA(acc, artr__i8dot_neon(lo, hi, xq + i),
                         vdupq_n_f32(artr__f16_to_f32(artr__le16(b)) * xd[i / ARTR__QK]));
    }
    return artr__hsum_neon(acc);
}
#endif

/* The quantized-activation kernel for a weight type, or NULL: float activations. */
static ARTR__UNUSED artr__dotq_fn artr__dotq_for(int type)
{
#if ARTR__QACT && ARTR__AVX2
    if (type == ARTR_TYPE_Q8_0) return artr__dotq_q8_0_avx2;
    if (type == ARTR_TYPE_Q4_0) return artr__dotq_q4_0_avx2;
#elif ARTR__QACT && ARTR__NEON
    if (type == ARTR_TYPE_Q8_0) return artr__dotq_q8_0_neon;
    if (type == ARTR_TYPE_Q4_0) return artr__dotq_q4_0_neon;
#endif
    (void)type;
    return NULL;
}

/* Four rows per call (artr__dotq4_*): where the build has one, else NULL (one row at a
   time). */
typedef void (*artr__dotq4_fn)(const void *w, size_t stride, const int8_t *xq, const float *xd, int n,
                               float *out);
typedef void (*artr__dotq4x2_fn)(const void *w, size_t stride, const int8_t *xq, size_t ldq, const float *xd,
                                 size_t ldd, int n, float *out);
static ARTR__UNUSED artr__dotq4x2_fn artr__dotq4x2_for(int type)
{
#if ARTR__QACT && ARTR__AVX2
    if (type == ARTR_TYPE_Q8_0) return artr__dotq4x2_q8_0_avx2;
    if (type == ARTR_TYPE_Q4_0) return artr__dotq4x2_q4_0_avx2;
#endif
    (void)type;
    return NULL;
}

static ARTR__UNUSED artr__dotq4_fn artr__dotq4_for(int type)
{
#if ARTR__QACT && ARTR__AVX2
    if (type == ARTR_TYPE_Q8_0) return artr__dotq4_q8_0_avx2;
    if (type == ARTR_TYPE_Q4_0) return artr__dotq4_q4_0_avx2;
#endif
    (void)type;
    return NULL;
}

/* The dot kernel for a weight type (the loader admits only these for weights), chosen
   at compile time: the build's SIMD variant where there is one, else the reference. */
static artr__dot_fn artr__dot_for(int type)
{
    switch (type) {
#if ARTR__AVX2
#if ARTR__F16_AVX2
    case ARTR_TYPE_F16: return artr__dot_f16_avx2;
#else
    case ARTR_TYPE_F16: return artr__dot_f16_ref;
#endif
    case ARTR_TYPE_BF16: return artr__dot_bf16_avx2;
    case ARTR_TYPE_Q8_0: return artr__dot_q8_0_avx2;
    case ARTR_TYPE_Q4_0: return artr__dot_q4_0_avx2;
    default: return artr__dot_f32_avx2;
#elif ARTR__NEON
#if ARTR__F16_NEON
    case ARTR_TYPE_F16: return artr__dot_f16_neon;
#else
    case ARTR_TYPE_F16: return artr__dot_f16_ref;
#endif
    case ARTR_TYPE_BF16: return artr__dot_bf16_neon;
    case ARTR_TYPE_Q8_0: return artr__dot_q8_0_neon;
    case ARTR_TYPE_Q4_0: return artr__dot_q4_0_neon;
    default: return artr__dot_f32_neon;
#else
    case ARTR_TYPE_F16: return artr__dot_f16_ref;
    case ARTR_TYPE_BF16: return artr__dot_bf16_ref;
    case ARTR_TYPE_Q8_0: return artr__dot_q8_0_ref;
    case ARTR_TYPE_Q4_0: return artr__dot_q4_0_ref;
    default: return artr__dot_f32_ref;
#endif
    }
}

/* Attention's second half: out[i] += a * v[i] for a cache row v of F32 or F16 (as the
   dot kernels, the SIMD variants agree with the reference to rounding). */
typedef void (*artr__axpy_fn)(float *out, float a, const void *v, int n);

static ARTR__UNUSED void artr__axpy_f32_ref(float *out, float a, const void *v, int n)
{
    const float *b = (const float *)v;
    int i;
    for (i = 0; i < n; i++) out[i] += a * b[i];
}

static ARTR__UNUSED void artr__axpy_f16_ref(float *out, float a, const void *v, int n)
{
    const uint16_t *b = (const uint16_t *)v;
    int i;
    for (i = 0; i < n; i++) out[i] += a * artr__f16_to_f32(b[i]);
}

#if ARTR__AVX2
static void artr__axpy_f32_avx2(float *out, float a, const void *v, int n)
{
    const float *b = (const float *)v;
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(b + i), _mm256_loadu_ps(out + i)));
    for (; i < n; i++) out[i] += a * b[i];
}
#endif

#if ARTR__F16_AVX2
static void artr__axpy_f16_avx2(float *out, float a, const void *v, int n)
{
    const uint16_t *b = (const uint16_t *)v;
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 vb = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i)));
        _mm256_storeu_ps(out + i, _mm256_fmadd_ps(va, vb, _mm256_loadu_ps(out + i)));
    }
    for (; i < n; i++) out[i] += a * artr__f16_one_avx2(b[i]);
}
#endif

#if ARTR__NEON
static void artr__axpy_f32_neon(float *out, float a, const void *v, int n)
{
    const float *b = (const float *)v;
    float32x4_t va = vdupq_n_f32(a);
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, ARTR__VFMA(vld1q_f32(out + i), va, vld1q_f32(b + i)));
    for (; i < n; i++) out[i] += a * b[i];
}
#endif

#if ARTR__F16_NEON
static void artr__axpy_f16_neon(float *out, float a, const void *v, int n)
{
    const uint16_t *b = (const uint16_t *)v;
    float32x4_t va = vdupq_n_f32(a);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t vb = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(b + i)));
        vst1q_f32(out + i, ARTR__VFMA(vld1q_f32(out + i), va, vb));
    }
    for (; i < n; i++) out[i] += a * artr__f16_to_f32(b[i]);
}
#endif

/* The axpy kernel for a cache type (F32 or F16), chosen at compile time. */
static artr__axpy_fn artr__axpy_for(int type)
{
    if (type == ARTR_TYPE_F16) {
#if ARTR__F16_AVX2
        return artr__axpy_f16_avx2;
#elif ARTR__F16_NEON
        return artr__axpy_f16_neon;
#else
        return artr__axpy_f16_ref;
#endif
    }
#if ARTR__AVX2
    return artr__axpy_f32_avx2;
#elif ARTR__NEON
    return artr__axpy_f32_neon;
#else
    return artr__axpy_f32_ref;
#endif
}

/* One weight row with four activation rows per call (artr__dot4t_*), where the build
   has one (else NULL: one token at a time). Each output equals artr__dot_for's bit for
   bit, so a token's logits do not depend on how many share the call. */
typedef void (*artr__dot4t_fn)(const void *w, const float *x, size_t ldx, int n, float *out);
static artr__dot4t_fn artr__dot4t_for(int type)
{
#if ARTR__AVX2
    if (type == ARTR_TYPE_F32) return artr__dot4t_f32_avx2;
#if ARTR__F16_AVX2
    if (type == ARTR_TYPE_F16) return artr__dot4t_f16_avx2;
#endif
#endif
    (void)type;
    return NULL;
}

/* Matmul blocking: rows (float kernels) and four-row units (quantized) per block. */
#define ARTR__MM_ROWS 16
#define ARTR__MM_UNITS 4

#ifndef ARTR_OMP_MIN_WORK
#define ARTR_OMP_MIN_WORK 65536 /* multiply-adds below which a matmul stays on one thread */
#endif

#if ARTR__QACT
/* artr__matmul for Q8_0 / Q4_0 weights: each activation row quantized once (into xq, xd:
   n rows of cols bytes and cols / 32 scales), then the integer kernel. */
static void artr__matmul_q(const artr_tensor *w, artr__dotq_fn dot, const float *x, int ldx, int n,
                           float *out, int ldo, int n_threads, int8_t *xq, float *xd)
{
    int rows = (int)w->ne[1], cols = (int)w->ne[0], groups, units, blocks, bl, t;
    size_t row_bytes = w->n_bytes / (size_t)rows, nb = (size_t)cols / ARTR__QK;
    artr__dotq4_fn dot4 = artr__dotq4_for(w->type);
    artr__dotq4x2_fn dot4x2 = artr__dotq4x2_for(w->type);
    (void)n_threads;
    for (t = 0; t < n; t++)
        artr__quantize_act_ref(x + (size_t)t * ldx, cols, xq + (size_t)t * cols, xd + (size_t)t * nb);
    /* units: groups of four rows (the four-row kernels) then leftover single rows; a
       block of ARTR__MM_UNITS units runs every token before the next block, so its weights
       stay in cache while the activations stream through */
    groups = dot4 ? rows / 4 : 0;
    units = groups + (rows - 4 * groups);
    blocks = (units + ARTR__MM_UNITS - 1) / ARTR__MM_UNITS;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && (int64_t)rows * cols * n >= ARTR_OMP_MIN_WORK)
#endif
    for (bl = 0; bl < blocks; bl++) {
        int k0 = bl * ARTR__MM_UNITS, k1 = k0 + ARTR__MM_UNITS < units ? k0 + ARTR__MM_UNITS : units, k, u = 0;
        for (; dot4x2 && u + 2 <= n; u += 2)
            for (k = k0; k < k1; k++) {
                float o[8];
                if (k < groups) {
                    dot4x2((const uint8_t *)w->data + (size_t)(4 * k) * row_bytes, row_bytes, xq + (size_t)u * cols,
                           (size_t)cols, xd + (size_t)u * nb, nb, cols, o);
                    memcpy(out + (size_t)u * ldo + 4 * k, o, 4 * sizeof(float));
                    memcpy(out + (size_t)(u + 1) * ldo + 4 * k, o + 4, 4 * sizeof(float));
                } else {
                    int rr = 4 * groups + (k - groups), v;
                    for (v = u; v < u + 2; v++)
                        out[(size_t)v * ldo + rr] = dot((const uint8_t *)w->data + (size_t)rr * row_bytes,
                                                        xq + (size_t)v * cols, xd + (size_t)v * nb, cols);
                }
            }
        for (; u < n; u++)
            for (k = k0; k < k1; k++) {
                if (k < groups) {
                    float o[4];
                    dot4((const uint8_t *)w->data + (size_t)(4 * k) * row_bytes, row_bytes, xq + (size_t)u * cols,
                         xd + (size_t)u * nb, cols, o);
                    memcpy(out + (size_t)u * ldo + 4 * k, o, sizeof o);
                } else {
                    int rr = 4 * groups + (k - groups);
                    out[(size_t)u * ldo + rr] = dot((const uint8_t *)w->data + (size_t)rr * row_bytes,
                                                    xq + (size_t)u * cols, xd + (size_t)u * nb, cols);
                }
            }
    }
}
#endif

/* out[t * ldo + r] = row r of w . x[t * ldx ...], for rows r < w->ne[1], tokens t < n.
   Each weight row is read once per call and dotted with all n inputs by the same
   kernel, so every output is bit-identical whatever n and the thread count are.
   xq, xd: scratch for n quantized activation rows (artr__matmul_q), or NULL. */
static void artr__matmul(const artr_tensor *w, const float *x, int ldx, int n, float *out,
                         int ldo, int n_threads, int8_t *xq, float *xd)
{
    int rows = (int)w->ne[1], cols = (int)w->ne[0], blocks = (rows + ARTR__MM_ROWS - 1) / ARTR__MM_ROWS, bl;
    size_t row_bytes = w->n_bytes / (size_t)rows;
    artr__dot_fn dot = artr__dot_for(w->type);
    artr__dot4t_fn dot4t = artr__dot4t_for(w->type);
    (void)n_threads;
#if ARTR__QACT
    if (xq && artr__dotq_for(w->type)) {
        artr__matmul_q(w, artr__dotq_for(w->type), x, ldx, n, out, ldo, n_threads, xq, xd);
        return;
    }
#endif
    (void)xq;
    (void)xd;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && (int64_t)rows * cols * n >= ARTR_OMP_MIN_WORK)
#endif
    for (bl = 0; bl < blocks; bl++) { /* a block of rows runs every token (its weights stay in cache) */
        int r0 = bl * ARTR__MM_ROWS, r1 = r0 + ARTR__MM_ROWS < rows ? r0 + ARTR__MM_ROWS : rows, t = 0, r;
        for (; dot4t && t + 4 <= n; t += 4)
            for (r = r0; r < r1; r++) {
                float o[4];
                dot4t((const uint8_t *)w->data + (size_t)r * row_bytes, x + (size_t)t * ldx, (size_t)ldx, cols, o);
                out[(size_t)t * ldo + r] = o[0];
                out[(size_t)(t + 1) * ldo + r] = o[1];
                out[(size_t)(t + 2) * ldo + r] = o[2];
                out[(size_t)(t + 3) * ldo + r] = o[3];
            }
        for (; t < n; t++)
            for (r = r0; r < r1; r++)
                out[(size_t)t * ldo + r] = dot((const uint8_t *)w->data + (size_t)r * row_bytes, x + (size_t)t * ldx, cols);
    }
}

/* out = x / rms(x) * w  (RMSNorm, as Llama). */
static void artr__rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
    float ss = artr__dot_for(ARTR_TYPE_F32)(x, x, n), scale; /* the build's F32 dot kernel */
    int i;
    scale = 1.0f / sqrtf(ss / (float)n + eps);
    for (i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

/* out = (x - mean) / sqrt(var + eps) * w + b  (LayerNorm, as GPT-2). */
static void artr__layernorm(float *out, const float *x, const float *w, const float *b, int n,
                            float eps)
{
    float mean = 0, var = 0, scale;
    int i;
    for (i = 0; i < n; i++) mean += x[i];
    mean /= (float)n;
    for (i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    scale = 1.0f / sqrtf(var / (float)n + eps);
    for (i = 0; i < n; i++) out[i] = (x[i] - mean) * scale * w[i] + b[i];
}

static void artr__add(float *x, const float *y, int n)
{
    int i;
    for (i = 0; i < n; i++) x[i] += y[i];
}

/* Rotary embeddings on n_head heads of size hd. cs holds cos[hd/2] then sin[hd/2] for
   this position. Llama's GGUF layout rotates adjacent pairs (2i, 2i+1) (its converter
   permutes Q/K to make it so); Qwen2's ("neox") rotates (i, i + hd/2). */
static void artr__rope(float *v, int n_head, int hd, const float *cs, int neox)
{
    int h, i, half = hd / 2;
    for (h = 0; h < n_head; h++, v += hd) {
        for (i = 0; i < half; i++) {
            int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            float x0 = v[a], x1 = v[b], c = cs[i], s = cs[half + i];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
        }
    }
}

/* p = exp(l - max) / sum (p may be l: each element is read before it is written);
   -inf gives 0. */
static ARTR__UNUSED void artr__softmax_ref(const float *l, float *p, int n)
{
    float mx = -INFINITY, sum = 0;
    int i;
    for (i = 0; i < n; i++)
        if (l[i] > mx) mx = l[i];
    for (i = 0; i < n; i++) {
        p[i] = l[i] == -INFINITY ? 0.0f : expf(l[i] - mx);
        sum += p[i];
    }
    for (i = 0; i < n; i++) p[i] /= sum;
}

/* SwiGLU: g = silu(g) * u. */
static ARTR__UNUSED void artr__swiglu_ref(float *g, const float *u, int n)
{
    int i;
    for (i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* GELU, tanh approximation (GPT-2's gelu_new). */
static ARTR__UNUSED void artr__gelu_ref(float *x, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

#if ARTR__AVX2
/* exp of 8 floats: x = n ln2 + r, |r| <= ln2 / 2 (ln2 split in two for an exact n ln2),
   exp(r) by Cephes' degree-6 polynomial, times 2^n through the exponent bits. Within
   2 ulp of expf (tested over [-87, 88.72] in test_vec_math); below -87.34 (where expf goes
   subnormal) and -inf give 0, above 88.72 (expf's overflow) +inf, NaN stays NaN. */
static __m256 artr__exp_avx2(__m256 x)
{
    __m256 zero = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33654475f), _CMP_LT_OQ);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q), xc, n, r, y;
    __m256i h;
    xc = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.72283935f)), _mm256_set1_ps(-87.33654475f));
    n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n as 2^h * 2^(n - h), h = n / 2, so n = 128 (x near 88.7) does not overflow the
       exponent early */
    h = _mm256_cvtps_epi32(_mm256_mul_ps(n, _mm256_set1_ps(0.5f)));
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23)));
    h = _mm256_sub_epi32(_mm256_cvtps_epi32(n), h);
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23)));
    y = _mm256_andnot_ps(zero, y);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, _mm256_set1_ps(88.72283935f), _CMP_GT_OQ));
    return _mm256_blendv_ps(y, x, nan);
}

static void artr__softmax_avx2(const float *l, float *p, int n)
{
    __m256 vmx = _mm256_set1_ps(-INFINITY), vsum = _mm256_setzero_ps(), vm;
    float mx, sum, lanes[8];
    int i = 0, j;
    for (; i + 8 <= n; i += 8) vmx = _mm256_max_ps(vmx, _mm256_loadu_ps(l + i));
    _mm256_storeu_ps(lanes, vmx);
    mx = lanes[0];
    for (j = 1; j < 8; j++)
        if (lanes[j] > mx) mx = lanes[j];
    for (; i < n; i++)
        if (l[i] > mx) mx = l[i];
    vm = _mm256_set1_ps(mx);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = artr__exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(l + i), vm)); /* exp(-inf) is 0 */
        _mm256_storeu_ps(p + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    sum = artr__hsum_avx2(vsum);
    for (; i < n; i++) {
        p[i] = l[i] == -INFINITY ? 0.0f : expf(l[i] - mx);
        sum += p[i];
    }
    vm = _mm256_set1_ps(sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(p + i, _mm256_div_ps(_mm256_loadu_ps(p + i), vm));
    for (; i < n; i++) p[i] /= sum;
}

static void artr__swiglu_avx2(float *g, const float *u, int n)
{
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(g + i);
        __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, artr__exp_avx2(_mm256_xor_ps(v, sign))));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    artr__swiglu_ref(g + i, u + i, n - i);
}

/* tanh(y) = 1 - 2 / (exp(2y) + 1): exact limits at +-inf, absolute error ~1e-7 near 0,
   which 1 + tanh in GELU absorbs. */
static void artr__gelu_avx2(float *x, int n)
{
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f), half = _mm256_set1_ps(0.5f);
    const __m256 k = _mm256_set1_ps(0.7978845608028654f), c = _mm256_set1_ps(0.044715f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 y = _mm256_mul_ps(k, _mm256_fmadd_ps(_mm256_mul_ps(c, v), _mm256_mul_ps(v, v), v));
        __m256 t = _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(artr__exp_avx2(_mm256_add_ps(y, y)), one)));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, t)));
    }
    artr__gelu_ref(x + i, n - i);
}
#endif

/* The build's softmax, SwiGLU and GELU (AVX2 where built, else the references). */
static void artr__softmax_into(const float *l, float *p, int n)
{
#if ARTR__AVX2
    artr__softmax_avx2(l, p, n);
#else
    artr__softmax_ref(l, p, n);
#endif
}

static void artr__swiglu(float *g, const float *u, int n)
{
#if ARTR__AVX2
    artr__swiglu_avx2(g, u, n);
#else
    artr__swiglu_ref(g, u, n);
#endif
}

static void artr__gelu(float *x, int n);

/* GeGLU: g = gelu_tanh(g) * u (Gemma's gated FFN). */
static void artr__geglu(float *g, const float *u, int n)
{
    int i;
    artr__gelu(g, n);
    for (i = 0; i < n; i++) g[i] *= u[i];
}

/* RMSNorm in place (artr__rmsnorm's arithmetic; that kernel may not alias its arguments). */
static void artr__rmsnorm_self(float *x, const float *w, int n, float eps)
{
    float ss = artr__dot_for(ARTR_TYPE_F32)(x, x, n), scale;
    int i;
    scale = 1.0f / sqrtf(ss / (float)n + eps);
    for (i = 0; i < n; i++) x[i] = x[i] * scale * w[i];
}

/* RMSNorm over each of n_head heads of size hd, in place, with one weight (hd) for all
   heads (Qwen3's and Gemma 3's q_norm / k_norm). */
static void artr__head_rmsnorm(float *v, int n_head, int hd, const float *w, float eps)
{
    int h;
    for (h = 0; h < n_head; h++) artr__rmsnorm_self(v + (size_t)h * (size_t)hd, w, hd, eps);
}

static void artr__gelu(float *x, int n)
{
#if ARTR__AVX2
    artr__gelu_avx2(x, n);
#else
    artr__gelu_ref(x, n);
#endif
}

/* ---- §4 loaders: GGUF, llama2.c -------------------------------------------------- */
/* Loading runs in three steps over untrusted bytes, so that artr_model_bytes and the
   load agree by construction:
     scan   (artr__gguf_scan / artr__l2_scan): validate the file's structure completely
            and count what the model's tables need (artr__plan); writes nothing.
     layout (artr__model_layout): every sub-buffer's offset in the model's one block.
     fill   (artr__gguf_fill / artr__l2_fill): copy the tables into the block.
   The model object and its binding, which maps tensors to the architecture and checks
   the config against every shape, are §5. */

enum { ARTR__SRC_GGUF = 1, ARTR__SRC_LLAMA2C = 2 };
enum { ARTR__VOCAB_NONE = 0, ARTR__VOCAB_SPM = 1, ARTR__VOCAB_BPE = 2, ARTR__VOCAB_LLAMA2C = 3,
       ARTR__VOCAB_OTHER = 4 };

/* One metadata entry; val points into the file. Scalars: the value. Strings: the bytes
   (n = length). Arrays: the first element (n = count, elem_type set). */
typedef struct artr__kv {
    const char *key;
    uint32_t key_len;
    uint32_t type, elem_type;
    uint64_t n;
    const uint8_t *val;
    size_t val_bytes;
} artr__kv;

typedef struct artr__token {
    const char *text; /* not NUL-terminated; points into the file or tokenizer.bin */
    uint32_t len;
    float score;
    int type;         /* GGUF token_type: 1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte */
} artr__token;

typedef struct artr__tok artr__tok; /* §9: the tokenizer's lookup tables */

typedef struct artr__vocab {
    int kind, n;
    artr__token *tokens;  /* (n) or NULL when the model has no tokenizer */
    int bos, eos, unk, pad; /* -1 if absent */
    int add_bos, add_eos, add_space_prefix; /* -1 if the file does not say */
    int max_token_len;
    const artr__kv *merges; /* GGUF tokenizer.ggml.merges (array of strings) or NULL */
    const artr__tok *tok;   /* tables built at load (§9), in the model's block */
} artr__vocab;

/* Weights of one block; NULL where the architecture has none. */
typedef struct artr__layer {
    const artr_tensor *attn_norm, *attn_norm_b;
    const artr_tensor *wq, *wk, *wv, *bq, *bk, *bv; /* llama, qwen2 (biases: qwen2) */
    const artr_tensor *wqkv, *bqkv;                 /* gpt2, phi3: fused */
    const artr_tensor *q_norm, *k_norm;             /* qwen3, gemma3: per-head RMSNorm */
    const artr_tensor *wo, *bo;
    const artr_tensor *attn_post_norm, *ffn_post_norm; /* gemma3: before each residual add */
    const artr_tensor *ffn_norm, *ffn_norm_b;
    const artr_tensor *w_gate, *w_up, *w_down, *b_up, *b_down; /* phi3: w_up is gate|up */
} artr__layer;

/* What the architecture switches in the one forward pass (§6), read at load (§5). */
typedef struct artr__hparams {
    int q_dim, kv_dim;       /* n_head * head_dim, n_head_kv * head_dim */
    int neox;                /* rope rotates (i, i + hd/2), not (2i, 2i+1) */
    int geglu;               /* gated FFN with tanh-GELU (Gemma) instead of SiLU */
    int fused_up;            /* ffn_up holds gate then up (Phi-3) */
    int swa_window;          /* > 0: sliding-window layers attend to the last swa_window
                                positions (the query's own included) */
    int swa_period;          /* every swa_period-th layer (l % p == p - 1) is global; 0: none */
    float rope_theta_swa;    /* rope base of the sliding-window layers */
    float embd_scale;        /* token embeddings times this (Gemma: sqrt(n_embd)); 0: none */
    float attn_scale;        /* scores = q.k * attn_scale */
    float logit_softcap;     /* logits = c * tanh(logits / c); 0: none */
    float rope_mscale;       /* cos and sin times this (LongRoPE's attention factor) */
    float rope_freq_scale;   /* positions times this on global layers (linear scaling) */
    const float *rope_freqs; /* (head_dim / 2) divisors of each rotation frequency, or NULL:
                                Llama 3 rope_freqs, Phi-3 rope_factors_long/short */
    const float *rope_freqs_short; /* Phi-3: the set for contexts within the original */
    int n_ctx_orig;          /* Phi-3: the original context (rope.scaling.original_context_length) */
} artr__hparams;

struct artr_model {
    artr_config cfg;
    artr__hparams hp;
    uint32_t gguf_version, alignment;
    int n_kv;
    artr__kv *kv;               /* (n_kv) file order */
    uint32_t *kv_sorted;        /* (n_kv) indices sorted by key */
    int n_tensors;
    artr_tensor *tensors;       /* (n_tensors) file order */
    uint32_t *tensors_sorted;   /* (n_tensors) indices sorted by name */
    artr__layer *layers;        /* (n_layer) */
    const artr_tensor *tok_embd, *pos_embd, *out_norm, *out_norm_b, *output;
    artr__vocab vocab;
    void *block;                /* our allocation holding this struct, or NULL if placed */
    void *file;                 /* what artr_model_load_file mapped or read, else NULL */
    size_t file_size;
    int file_mapped;
    void *vocab_file;           /* tokenizer.bin read from vocab_path, else NULL */
    size_t vocab_file_size;
    int vocab_file_mapped;
};

/* What the scan found: enough to lay out the model's block and to fill it. */
typedef struct artr__plan {
    int source;
    const uint8_t *data;
    size_t size;
    /* GGUF */
    uint32_t version, alignment;
    uint64_t n_kv, n_tensors;
    size_t kv_pos, ti_pos, data_pos; /* offsets of the kv section, tensor infos, data */
    /* llama2.c */
    int32_t hdr[7];
    int shared_cls;
    /* tokenizer.bin */
    const uint8_t *vocab;
    size_t vocab_size;
    /* counts */
    int n_layer, n_vocab_tokens;
    uint64_t copy_bytes, names_bytes;
    uint64_t n_merges, vocab_bytes; /* tokenizer tables: merge count, bytes of all token texts */
} artr__plan;

typedef struct artr__layout {
    size_t model, kv, kv_sorted, tensors, tensors_sorted, layers, tokens, names, copies, tok, total;
} artr__layout;

/* §9 sizes and builds the tokenizer's tables from the same three counts. */
static uint64_t artr__tok_bytes(int n_vocab, uint64_t n_merges, uint64_t vocab_bytes);
static artr_status artr__tok_build(artr_model *m, unsigned char *mem, int n_vocab, uint64_t n_merges,
                                   uint64_t vocab_bytes, artr_error *err);

static int artr__meta_scalar_size(uint32_t type)
{
    switch (type) {
    case ARTR_META_UINT8: case ARTR_META_INT8: case ARTR_META_BOOL: return 1;
    case ARTR_META_UINT16: case ARTR_META_INT16: return 2;
    case ARTR_META_UINT32: case ARTR_META_INT32: case ARTR_META_FLOAT32: return 4;
    case ARTR_META_UINT64: case ARTR_META_INT64: case ARTR_META_FLOAT64: return 8;
    }
    return 0;
}

static ARTR__UNUSED const char *artr__meta_type_name(uint32_t type)
{
    static const char *const names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32",
                                        "float32", "bool", "string", "array", "uint64",
                                        "int64", "float64"};
    return type < 13 ? names[type] : "unknown";
}

/* A GGUF string: uint64 length, then bytes. */
static const char *artr__gguf_string(artr__reader *r, uint64_t *len)
{
    *len = artr__get64(r);
    return (const char *)artr__take(r, *len);
}

/* Skip one metadata value of the given type, arrays of arrays included, without
   recursion. Every count is checked against the bytes left before any loop, so no
   count in a file can make this run long. Returns 0 on a malformed value. */
static int artr__gguf_skip_value(artr__reader *r, uint32_t type)
{
    uint64_t left[ARTR__MAX_NEST];
    int depth = 0;
    for (;;) {
        int sz = artr__meta_scalar_size(type);
        if (sz) {
            artr__take(r, (uint64_t)sz);
        } else if (type == ARTR_META_STRING) {
            uint64_t len;
            artr__gguf_string(r, &len);
            if (len > ARTR_MAX_STRING) return 0;
        } else if (type == ARTR_META_ARRAY) {
            uint32_t et = artr__get32(r);
            uint64_t n = artr__get64(r), i;
            int esz = artr__meta_scalar_size(et);
            if (r->fail) return 0;
            if (esz) {
                if (n > artr__left(r) / (uint64_t)esz) return 0;
                artr__take(r, n * (uint64_t)esz);
            } else if (et == ARTR_META_STRING) {
                if (n > artr__left(r) / 8) return 0;
                for (i = 0; i < n && !r->fail; i++) {
                    uint64_t len;
                    artr__gguf_string(r, &len);
                }
            } else if (et == ARTR_META_ARRAY) {
                if (n > artr__left(r) / 12 || depth >= ARTR__MAX_NEST - 1) return 0;
                left[depth++] = n;
            } else {
                return 0;
            }
        } else {
            return 0;
        }
        if (r->fail) return 0;
        while (depth > 0 && left[depth - 1] == 0) depth--;
        if (depth == 0) return 1;
        left[depth - 1]--;
        type = ARTR_META_ARRAY;
    }
}

/* Tensor info as read from the file (before the data offset is known). */
typedef struct artr__tinfo {
    const char *name;
    uint64_t name_len;
    uint32_t n_dims, type;
    int64_t ne[4];
    uint64_t offset, n_bytes;
} artr__tinfo;

static artr_status artr__gguf_read_tinfo(artr__reader *r, uint64_t idx, uint32_t alignment,
                                         artr__tinfo *t, artr_error *err)
{
    const artr__type_info *ti;
    uint64_t n_el = 1, n_rows, i;
    size_t at = r->pos;
    t->name = artr__gguf_string(r, &t->name_len);
    t->n_dims = artr__get32(r);
    if (r->fail)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor info %llu at offset %zu: truncated (file has %zu bytes)",
                          (unsigned long long)idx, at, r->size);
    if (t->name_len == 0 || t->name_len > ARTR_MAX_NAME)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor info %llu at offset %zu: name length %llu, expected 1..%d",
                          (unsigned long long)idx, at, (unsigned long long)t->name_len,
                          ARTR_MAX_NAME);
    if (t->n_dims < 1 || t->n_dims > 4)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%.*s': %u dimensions, expected 1..4",
                          artr__plen(t->name_len), t->name, (unsigned)t->n_dims);
    for (i = 0; i < 4; i++) {
        uint64_t d = i < t->n_dims ? artr__get64(r) : 1;
        if (r->fail) break;
        if (d == 0 || d > (uint64_t)INT64_MAX)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%.*s': dimension %d is %llu, expected 1..2^63-1",
                              artr__plen(t->name_len), t->name, (int)i, (unsigned long long)d);
        if (!artr__mul_ok(n_el, d, &n_el) || n_el > (uint64_t)INT64_MAX)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%.*s': element count overflows",
                              artr__plen(t->name_len), t->name);
        t->ne[i] = (int64_t)d;
    }
    t->type = artr__get32(r);
    t->offset = artr__get64(r);
    if (r->fail)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%.*s': info truncated (file has %zu bytes)",
                          artr__plen(t->name_len), t->name, r->size);
    ti = artr__type(t->type);
    if (!ti)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tensor '%.*s': unknown type %u",
                          artr__plen(t->name_len), t->name, (unsigned)t->type);
    if ((uint64_t)t->ne[0] % ti->block)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%.*s' (%s): row length %lld is not a multiple of the block size %d",
                          artr__plen(t->name_len), t->name, ti->name, (long long)t->ne[0],
                          (int)ti->block);
    n_rows = n_el / (uint64_t)t->ne[0];
    if (!artr__mul_ok((uint64_t)t->ne[0] / ti->block * ti->bytes, n_rows, &t->n_bytes) ||
        t->n_bytes > SIZE_MAX)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%.*s': byte size overflows", artr__plen(t->name_len), t->name);
    if (t->offset % alignment)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%.*s': data offset %llu is not a multiple of the alignment %u",
                          artr__plen(t->name_len), t->name, (unsigned long long)t->offset,
                          (unsigned)alignment);
    return ARTR_OK;
}

/* Find a key in the kv section by walking it (used by the scan, before tables exist).
   The section was validated, so the walk cannot fail. */
static int artr__gguf_find_raw(const artr__plan *pl, const char *key, uint32_t *type,
                               artr__reader *val)
{
    artr__reader r;
    uint64_t i, klen;
    size_t n = strlen(key);
    artr__reader_init(&r, pl->data, pl->size);
    r.pos = pl->kv_pos;
    for (i = 0; i < pl->n_kv; i++) {
        const char *k = artr__gguf_string(&r, &klen);
        uint32_t t = artr__get32(&r);
        if (r.fail) return 0;
        if (klen == n && memcmp(k, key, n) == 0) {
            *type = t;
            *val = r;
            return 1;
        }
        if (!artr__gguf_skip_value(&r, t)) return 0;
    }
    return 0;
}

/* Read a scalar integer/bool value; 0 if the type is not one or it does not fit int64. */
static int artr__kv_int(uint32_t type, const uint8_t *p, int64_t *out)
{
    switch (type) {
    case ARTR_META_UINT8: case ARTR_META_BOOL: *out = p[0]; return 1;
    case ARTR_META_INT8: *out = (int8_t)p[0]; return 1;
    case ARTR_META_UINT16: *out = artr__le16(p); return 1;
    case ARTR_META_INT16: *out = (int16_t)artr__le16(p); return 1;
    case ARTR_META_UINT32: *out = artr__le32(p); return 1;
    case ARTR_META_INT32: *out = (int32_t)artr__le32(p); return 1;
    case ARTR_META_INT64: *out = (int64_t)artr__le64(p); return 1;
    case ARTR_META_UINT64:
        if (artr__le64(p) > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)artr__le64(p);
        return 1;
    }
    return 0;
}
/* An unsigned integer metadata value during the scan; 0 if absent or not an integer. */
static int artr__gguf_raw_uint(const artr__plan *pl, const char *key, uint64_t *out)
{
    uint32_t type;
    artr__reader r;
    const uint8_t *p;
    int64_t v;
    if (!artr__gguf_find_raw(pl, key, &type, &r) || type == ARTR_META_BOOL) return 0;
    p = artr__take(&r, (uint64_t)artr__meta_scalar_size(type));
    if (!p || !artr__kv_int(type, p, &v) || v < 0) return 0;
    *out = (uint64_t)v;
    return 1;
}

/* Validate a GGUF file's structure and count what its tables need. */
static artr_status artr__gguf_scan(artr__plan *pl, const artr_model_params *p, artr_error *err)
{
    artr__reader r;
    uint64_t i, n;
    uint32_t type;
    artr__reader v;
    char key[ARTR_MAX_NAME + 32];
    artr__reader_init(&r, pl->data, pl->size);
    artr__take(&r, 4); /* magic, checked by the caller */
    pl->version = artr__get32(&r);
    pl->n_tensors = artr__get64(&r);
    pl->n_kv = artr__get64(&r);
    if (r.fail)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "GGUF header truncated: file has %zu bytes, expected at least 24",
                          pl->size);
    if (pl->version == 0x02000000u || pl->version == 0x03000000u)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "big-endian GGUF file (version field reads 0x%x); artr reads little-endian files",
                          (unsigned)pl->version);
    if (pl->version == 1)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "GGUF version 1 (32-bit counts) is obsolete; re-convert the model");
    if (pl->version != 2 && pl->version != 3)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "GGUF version %u, expected 2 or 3", (unsigned)pl->version);
    if (pl->n_tensors > ARTR_MAX_TENSORS)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "GGUF header: %llu tensors, at most %d supported (ARTR_MAX_TENSORS)",
                          (unsigned long long)pl->n_tensors, ARTR_MAX_TENSORS);
    if (pl->n_kv > ARTR_MAX_KV)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "GGUF header: %llu metadata entries, at most %d supported (ARTR_MAX_KV)",
                          (unsigned long long)pl->n_kv, ARTR_MAX_KV);
    pl->kv_pos = r.pos;
    pl->alignment = 32;
    for (i = 0; i < pl->n_kv; i++) {
        uint64_t klen;
        size_t at = r.pos;
        const char *k = artr__gguf_string(&r, &klen);
        type = artr__get32(&r);
        if (r.fail)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata entry %llu at offset %zu: truncated (file has %zu bytes)",
                              (unsigned long long)i, at, pl->size);
        if (klen == 0 || klen > ARTR_MAX_NAME)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata entry %llu at offset %zu: key length %llu, expected 1..%d",
                              (unsigned long long)i, at, (unsigned long long)klen, ARTR_MAX_NAME);
        if (type > ARTR_META_FLOAT64)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%.*s': unknown value type %u", artr__plen(klen), k, (unsigned)type);
        at = r.pos;
        if (!artr__gguf_skip_value(&r, type))
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%.*s' (%s) at offset %zu: malformed or truncated value (file has %zu bytes)",
                              artr__plen(klen), k, artr__meta_type_name(type), at, pl->size);
        if (klen == 17 && memcmp(k, "general.alignment", 17) == 0) {
            uint32_t a;
            if (type != ARTR_META_UINT32)
                return ARTR__FAIL(err, ARTR_E_FORMAT, "general.alignment has type %s, expected uint32",
                                  artr__meta_type_name(type));
            a = artr__le32(pl->data + at);
            if (a == 0 || (a & (a - 1)) || a > (1u << 20))
                return ARTR__FAIL(err, ARTR_E_FORMAT, "general.alignment is %u, expected a power of two up to 2^20", (unsigned)a);
            pl->alignment = a;
        }
    }
    pl->ti_pos = r.pos;
    for (i = 0; i < pl->n_tensors; i++) {
        artr__tinfo t;
        artr_status st = artr__gguf_read_tinfo(&r, i, pl->alignment, &t, err);
        if (st != ARTR_OK) return st;
    }
    pl->data_pos = (size_t)artr__align_up(r.pos, pl->alignment);
    /* Second walk over the infos, now that the data section's start is known. */
    r.pos = pl->ti_pos;
    for (i = 0; i < pl->n_tensors; i++) {
        artr__tinfo t;
        uint64_t end;
        const uint8_t *at;
        artr__gguf_read_tinfo(&r, i, pl->alignment, &t, NULL);
        if (pl->data_pos > pl->size || !artr__add_ok(t.offset, t.n_bytes, &end) ||
            end > pl->size - pl->data_pos)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%.*s': data [%llu, +%llu) at file offset %zu runs past the end of the file (%zu bytes)",
                              artr__plen(t.name_len), t.name, (unsigned long long)t.offset,
                              (unsigned long long)t.n_bytes, pl->data_pos, pl->size);
        at = pl->data + pl->data_pos + t.offset;
        if ((uintptr_t)at % artr__type_align((int)t.type)) {
            if (p && p->no_copy)
                return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%.*s': data at address %zu is not aligned to %zu bytes for %s, and no_copy is set",
                                  artr__plen(t.name_len), t.name, (size_t)(uintptr_t)at,
                                  artr__type_align((int)t.type), artr__type(t.type)->name);
            pl->copy_bytes += artr__align_up(t.n_bytes, 64);
        }
    }
    /* What the layout needs from the metadata: the layer count and the vocabulary. */
    if (!(p && p->container)) {
        uint64_t alen, nl = 0;
        const char *arch;
        if (artr__gguf_find_raw(pl, "general.architecture", &type, &v) && type == ARTR_META_STRING) {
            arch = artr__gguf_string(&v, &alen);
            if (alen > 0 && alen < 64) {
                artr__format(key, sizeof key, "%.*s.block_count", artr__plen(alen), arch);
                if (artr__gguf_raw_uint(pl, key, &nl) && nl <= ARTR_MAX_LAYERS) pl->n_layer = (int)nl;
            }
        }
    }
    if (artr__gguf_find_raw(pl, "tokenizer.ggml.tokens", &type, &v) && type == ARTR_META_ARRAY) {
        artr__reader all = v;
        artr__get32(&v);
        n = artr__get64(&v);
        if (n <= (uint64_t)INT32_MAX) pl->n_vocab_tokens = (int)n;
        if (artr__gguf_skip_value(&all, ARTR_META_ARRAY)) pl->vocab_bytes = all.pos - v.pos;
    }
    if (artr__gguf_find_raw(pl, "tokenizer.ggml.merges", &type, &v) && type == ARTR_META_ARRAY &&
        artr__get32(&v) == ARTR_META_STRING)
        pl->n_merges = artr__get64(&v);
    return ARTR_OK;
}

/* llama2.c legacy checkpoint: no magic, so the file size must equal what the header
   implies. Layout (karpathy/llama2.c run.c memory_map_weights): token embedding,
   rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3 (each stacked over layers), rms_final,
   freq_cis_real and _imag (seq_len x head_size/2 each, unused), then the classifier if
   vocab_size was negative. */
static const char *const artr__l2_layer_names[9] = {
    "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate",
    "ffn_down", "ffn_up"};

static artr_status artr__l2_scan(artr__plan *pl, artr_error *err)
{
    int i, dim, hidden, n_layers, n_heads, n_kv, vocab, seq, head, kv_dim;
    uint64_t floats = 0, t, expect, w;
    char name[64];
    if (pl->size < 28)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "not a GGUF file (no 'GGUF' magic) and too small (%zu bytes) for a llama2.c checkpoint header",
                          pl->size);
    if (memcmp(pl->data, "ak42", 4) == 0)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "llama2.c version 1/2 export (magic 'ak42'); export with --version 0 (legacy) or convert to GGUF");
    for (i = 0; i < 7; i++) pl->hdr[i] = (int32_t)artr__le32(pl->data + 4 * i);
    dim = pl->hdr[0];
    hidden = pl->hdr[1];
    n_layers = pl->hdr[2];
    n_heads = pl->hdr[3];
    n_kv = pl->hdr[4];
    vocab = pl->hdr[5];
    seq = pl->hdr[6];
    pl->shared_cls = vocab > 0;
    if (vocab < 0 && vocab != INT32_MIN) vocab = -vocab;
    if (dim <= 0 || hidden <= 0 || n_layers <= 0 || n_heads <= 0 || n_kv <= 0 || vocab <= 0 ||
        seq <= 0 || dim % n_heads || n_heads % n_kv || (dim / n_heads) % 2 || n_layers > ARTR_MAX_LAYERS)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "not a GGUF file (no 'GGUF' magic), and not a llama2.c checkpoint: header (dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, seq_len %d) is inconsistent",
                          (int)pl->hdr[0], (int)pl->hdr[1], (int)pl->hdr[2], (int)pl->hdr[3],
                          (int)pl->hdr[4], (int)pl->hdr[5], (int)pl->hdr[6]);
    head = dim / n_heads;
    kv_dim = n_kv * head;
    /* all factors are positive int32, so each product of two or three fits in 2^93 > ...:
       check every step anyway */
    w = 0;
    if (!artr__mul_ok((uint64_t)vocab, (uint64_t)dim, &t) || !artr__add_ok(floats, t, &floats)) goto overflow;
    /* per layer: 2 norms, wq, wo (dim*dim each), wk, wv (dim*kv_dim), w1, w2, w3 */
    if (!artr__mul_ok((uint64_t)dim, (uint64_t)dim, &t) || !artr__mul_ok(t, 2, &t) || !artr__add_ok(w, t, &w)) goto overflow;
    if (!artr__mul_ok((uint64_t)dim, (uint64_t)kv_dim, &t) || !artr__mul_ok(t, 2, &t) || !artr__add_ok(w, t, &w)) goto overflow;
    if (!artr__mul_ok((uint64_t)dim, (uint64_t)hidden, &t) || !artr__mul_ok(t, 3, &t) || !artr__add_ok(w, t, &w)) goto overflow;
    if (!artr__add_ok(w, 2 * (uint64_t)dim, &w) || !artr__mul_ok(w, (uint64_t)n_layers, &w) ||
        !artr__add_ok(floats, w, &floats)) goto overflow;
    if (!artr__add_ok(floats, (uint64_t)dim, &floats)) goto overflow;
    if (!artr__mul_ok((uint64_t)seq, (uint64_t)head, &t) || !artr__add_ok(floats, t, &floats)) goto overflow;
    if (!pl->shared_cls) {
        if (!artr__mul_ok((uint64_t)vocab, (uint64_t)dim, &t) || !artr__add_ok(floats, t, &floats)) goto overflow;
    }
    if (!artr__mul_ok(floats, 4, &expect) || !artr__add_ok(expect, 28, &expect)) goto overflow;
    if (expect != pl->size)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "not a GGUF file (no 'GGUF' magic); as a llama2.c checkpoint its header (dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, seq_len %d) implies %llu bytes, but it has %zu",
                          (int)pl->hdr[0], (int)pl->hdr[1], (int)pl->hdr[2], (int)pl->hdr[3],
                          (int)pl->hdr[4], (int)pl->hdr[5], (int)pl->hdr[6],
                          (unsigned long long)expect, pl->size);
    pl->n_layer = n_layers;
    pl->n_tensors = 2 + (uint64_t)9 * (uint64_t)n_layers + (pl->shared_cls ? 0 : 1);
    pl->names_bytes = sizeof "token_embd.weight" + sizeof "output_norm.weight" +
                      (pl->shared_cls ? 0 : sizeof "output.weight");
    for (i = 0; i < 9; i++) {
        int l;
        for (l = 0; l < n_layers; l++) {
            artr__format(name, sizeof name, "blk.%d.%s.weight", l, artr__l2_layer_names[i]);
            pl->names_bytes += strlen(name) + 1;
        }
    }
    if ((uintptr_t)(pl->data + 28) % 4) {
        /* every weight is float32 at a 4-byte multiple from offset 28: all or none copy */
        pl->copy_bytes = artr__align_up(expect - 28, 64) + 64 * pl->n_tensors;
    }
    return ARTR_OK;
overflow:
    return ARTR__FAIL(err, ARTR_E_FORMAT, "not a GGUF file (no 'GGUF' magic), and not a llama2.c checkpoint: its header's sizes overflow");
}

/* llama2.c tokenizer.bin (tokenizer.py export): int32 max_token_length, then per token
   float32 score, int32 length, bytes. The token count is the model's vocab size. */
static artr_status artr__l2_vocab_scan(const uint8_t *data, size_t size, int n_vocab, artr_error *err)
{
    artr__reader r;
    int i;
    int32_t max_len;
    artr__reader_init(&r, data, size);
    max_len = (int32_t)artr__get32(&r);
    if (r.fail || max_len <= 0 || max_len > ARTR_MAX_NAME * 16)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.bin: max_token_length %d (file %zu bytes), expected 1..%d",
                          (int)max_len, size, ARTR_MAX_NAME * 16);
    for (i = 0; i < n_vocab; i++) {
        int32_t len;
        size_t at = r.pos;
        artr__get32(&r);
        len = (int32_t)artr__get32(&r);
        if (!r.fail && (len < 0 || len > max_len))
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.bin: token %d at offset %zu has length %d, expected 0..%d",
                              i, at, (int)len, (int)max_len);
        artr__take(&r, (uint64_t)(uint32_t)len);
        if (r.fail)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.bin: truncated at token %d of the model's %d (offset %zu of %zu bytes); is it the tokenizer for this model?",
                              i, n_vocab, at, size);
    }
    if (r.pos != size)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.bin: %zu bytes left after the model's %d tokens; is it the tokenizer for this model?",
                          size - r.pos, n_vocab);
    return ARTR_OK;
}

/* Offsets of every part of the model's block; total includes slack for any alignment. */
static artr_status artr__model_layout(const artr__plan *pl, int n_vocab, artr__layout *l,
                                      artr_error *err)
{
    uint64_t at = 0, part;
    size_t *slots[10];
    uint64_t sizes[10];
    int i;
    slots[0] = &l->model;          sizes[0] = sizeof(artr_model);
    slots[1] = &l->kv;             sizes[1] = pl->n_kv * sizeof(artr__kv);
    slots[2] = &l->kv_sorted;      sizes[2] = pl->n_kv * sizeof(uint32_t);
    slots[3] = &l->tensors;        sizes[3] = pl->n_tensors * sizeof(artr_tensor);
    slots[4] = &l->tensors_sorted; sizes[4] = pl->n_tensors * sizeof(uint32_t);
    slots[5] = &l->layers;         sizes[5] = (uint64_t)pl->n_layer * sizeof(artr__layer);
    slots[6] = &l->tokens;         sizes[6] = (uint64_t)(n_vocab > 0 ? n_vocab : 0) * sizeof(artr__token);
    slots[7] = &l->names;          sizes[7] = pl->names_bytes;
    slots[8] = &l->copies;         sizes[8] = pl->copy_bytes;
    slots[9] = &l->tok;            sizes[9] = artr__tok_bytes(n_vocab, pl->n_merges, pl->vocab_bytes);
    for (i = 0; i < 10; i++) {
        *slots[i] = (size_t)at;
        if (!artr__add_ok(at, sizes[i], &part) || part > SIZE_MAX - 256) goto overflow;
        at = artr__align_up(part, 64);
    }
    l->total = (size_t)at + 63;
    return ARTR_OK;
overflow:
    return ARTR__FAIL(err, ARTR_E_NOMEM, "model tables would need more than the address space");
}

/* Recognise the format and scan it. */
static artr_status artr__model_scan(artr__plan *pl, const void *data, size_t size,
                                    const artr_model_params *p, artr_error *err)
{
    artr_status st;
    memset(pl, 0, sizeof *pl);
    pl->data = (const uint8_t *)data;
    pl->size = size;
    if (!artr__host_is_little_endian())
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "big-endian host: artr reads little-endian files only");
    if (size >= 4 && memcmp(data, "GGUF", 4) == 0) {
        pl->source = ARTR__SRC_GGUF;
        st = artr__gguf_scan(pl, p, err);
    } else {
        if (p && p->container)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "not a GGUF file (no 'GGUF' magic at offset 0)");
        pl->source = ARTR__SRC_LLAMA2C;
        st = artr__l2_scan(pl, err);
        if (st == ARTR_OK && p && p->no_copy && pl->copy_bytes)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "llama2.c weights at address %zu are not 4-byte aligned, and no_copy is set",
                              (size_t)(uintptr_t)(pl->data + 28));
    }
    if (st != ARTR_OK) return st;
    if (p && p->vocab) {
        int n_vocab = pl->source == ARTR__SRC_LLAMA2C
                          ? (pl->hdr[5] < 0 ? -pl->hdr[5] : pl->hdr[5]) : pl->n_vocab_tokens;
        if (pl->source == ARTR__SRC_GGUF && n_vocab == 0)
            return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "a tokenizer.bin was given, but this GGUF has no tokenizer.ggml.tokens to size it");
        pl->vocab = (const uint8_t *)p->vocab;
        pl->vocab_size = p->vocab_size;
        pl->n_merges = 0; /* the tokenizer.bin replaces the GGUF's vocabulary */
        pl->vocab_bytes = p->vocab_size;
        st = artr__l2_vocab_scan(pl->vocab, pl->vocab_size, n_vocab, err);
    }
    return st;
}

static int artr__plan_n_vocab(const artr__plan *pl)
{
    if (pl->source == ARTR__SRC_LLAMA2C) return pl->hdr[5] < 0 ? -pl->hdr[5] : pl->hdr[5];
    return pl->n_vocab_tokens;
}

ARTRDEF artr_status artr_model_bytes(const void *data, size_t size, const artr_model_params *p,
                                     size_t *bytes, artr_error *err)
{
    artr__plan pl;
    artr__layout l;
    artr_status st;
    if (!data || !bytes) return ARTR__FAIL(err, ARTR_E_ARG, "artr_model_bytes: NULL data or bytes");
    st = artr__model_scan(&pl, data, size, p, err);
    if (st == ARTR_OK) st = artr__model_layout(&pl, artr__plan_n_vocab(&pl), &l, err);
    if (st != ARTR_OK) return st;
    *bytes = l.total;
    artr__ok(err);
    return ARTR_OK;
}

/* ---- table lookups ---- */

static int artr__kv_less(const void *ctx, uint32_t a, uint32_t b)
{
    const artr__kv *kv = (const artr__kv *)ctx;
    return artr__cmp_bytes(kv[a].key, kv[a].key_len, kv[b].key, kv[b].key_len) < 0;
}
static int artr__tensor_less(const void *ctx, uint32_t a, uint32_t b)
{
    const artr_tensor *t = (const artr_tensor *)ctx;
    return artr__cmp_bytes(t[a].name, t[a].name_len, t[b].name, t[b].name_len) < 0;
}

static const artr__kv *artr__kv_find(const artr_model *m, const char *key)
{
    size_t lo = 0, hi = (size_t)m->n_kv, n = strlen(key);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const artr__kv *kv = &m->kv[m->kv_sorted[mid]];
        int c = artr__cmp_bytes(kv->key, kv->key_len, key, n);
        if (c == 0) return kv;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static const artr_tensor *artr__tensor_find(const artr_model *m, const char *name)
{
    size_t lo = 0, hi = (size_t)m->n_tensors, n = strlen(name);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const artr_tensor *t = &m->tensors[m->tensors_sorted[mid]];
        int c = artr__cmp_bytes(t->name, t->name_len, name, n);
        if (c == 0) return t;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static int artr__kv_float(uint32_t type, const uint8_t *p, double *out)
{
    if (type == ARTR_META_FLOAT32) {
        *out = artr__lef32(p);
        return 1;
    }
    if (type == ARTR_META_FLOAT64) {
        uint64_t u = artr__le64(p);
        memcpy(out, &u, 8);
        return 1;
    }
    return 0;
}

/* ---- fill: the tables, from a scanned GGUF ---- */

static artr_status artr__gguf_fill(artr_model *m, const artr__plan *pl, unsigned char *copies,
                                   artr_error *err)
{
    artr__reader r;
    uint64_t i;
    artr__reader_init(&r, pl->data, pl->size);
    r.pos = pl->kv_pos;
    for (i = 0; i < pl->n_kv; i++) {
        artr__kv *kv = &m->kv[i];
        uint64_t klen;
        size_t start;
        kv->key = artr__gguf_string(&r, &klen);
        kv->key_len = (uint32_t)klen;
        kv->type = artr__get32(&r);
        start = r.pos;
        artr__gguf_skip_value(&r, kv->type); /* validated by the scan */
        kv->elem_type = 0;
        kv->n = 1;
        if (kv->type == ARTR_META_STRING) { /* uint64 length, bytes */
            kv->n = artr__le64(pl->data + start);
            start += 8;
        } else if (kv->type == ARTR_META_ARRAY) { /* uint32 type, uint64 count, elements */
            kv->elem_type = artr__le32(pl->data + start);
            kv->n = artr__le64(pl->data + start + 4);
            start += 12;
        }
        kv->val = pl->data + start;
        kv->val_bytes = r.pos - start;
        m->kv_sorted[i] = (uint32_t)i;
    }
    m->n_kv = (int)pl->n_kv;
    artr__heapsort(m->kv_sorted, pl->n_kv, artr__kv_less, m->kv);
    for (i = 1; i < pl->n_kv; i++) {
        const artr__kv *a = &m->kv[m->kv_sorted[i - 1]], *b = &m->kv[m->kv_sorted[i]];
        if (artr__cmp_bytes(a->key, a->key_len, b->key, b->key_len) == 0)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata key '%.*s' appears twice", artr__plen(b->key_len), b->key);
    }
    r.pos = pl->ti_pos;
    for (i = 0; i < pl->n_tensors; i++) {
        artr__tinfo ti;
        artr_tensor *t = &m->tensors[i];
        const uint8_t *at;
        artr__gguf_read_tinfo(&r, i, pl->alignment, &ti, NULL);
        t->name = ti.name;
        t->name_len = (size_t)ti.name_len;
        t->type = (int)ti.type;
        t->n_dims = (int)ti.n_dims;
        memcpy(t->ne, ti.ne, sizeof t->ne);
        t->n_bytes = (size_t)ti.n_bytes;
        at = pl->data + pl->data_pos + ti.offset;
        if ((uintptr_t)at % artr__type_align(t->type)) {
            memcpy(copies, at, t->n_bytes);
            at = copies;
            copies += artr__align_up(t->n_bytes, 64);
        }
        t->data = at;
        m->tensors_sorted[i] = (uint32_t)i;
    }
    m->n_tensors = (int)pl->n_tensors;
    artr__heapsort(m->tensors_sorted, pl->n_tensors, artr__tensor_less, m->tensors);
    for (i = 1; i < pl->n_tensors; i++) {
        const artr_tensor *a = &m->tensors[m->tensors_sorted[i - 1]];
        const artr_tensor *b = &m->tensors[m->tensors_sorted[i]];
        if (artr__cmp_bytes(a->name, a->name_len, b->name, b->name_len) == 0)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor name '%.*s' appears twice", artr__plen(b->name_len), b->name);
    }
    m->gguf_version = pl->version;
    m->alignment = pl->alignment;
    return ARTR_OK;
}

/* ---- fill: llama2.c tensors as views with GGUF names ---- */

/* Where artr__l2_fill has got to: the next tensor slot, name bytes, weight in the file
   and copy. copies is NULL when the tensors are views of the file. */
typedef struct artr__l2_cursor {
    int k;
    char *names;
    const uint8_t *at;
    unsigned char *copies;
} artr__l2_cursor;

/* The next rows x cols float32 weight as tensor `name`; the scan checked the sizes. */
static void artr__l2_tensor(artr_model *m, artr__l2_cursor *cur, const char *name, int64_t rows,
                            int64_t cols)
{
    artr_tensor *t = &m->tensors[cur->k];
    size_t nb = (size_t)rows * (size_t)cols * 4;
    strcpy(cur->names, name);
    t->name = cur->names;
    t->name_len = strlen(cur->names);
    cur->names += t->name_len + 1;
    t->type = ARTR_TYPE_F32;
    t->n_dims = rows == 1 ? 1 : 2;
    t->ne[0] = cols;
    t->ne[1] = rows;
    t->ne[2] = t->ne[3] = 1;
    t->n_bytes = nb;
    if (cur->copies) {
        memcpy(cur->copies, cur->at, nb);
        t->data = cur->copies;
        cur->copies += artr__align_up(nb, 64);
    } else {
        t->data = cur->at;
    }
    cur->at += nb;
    m->tensors_sorted[cur->k] = (uint32_t)cur->k;
    cur->k++;
}

static void artr__l2_fill(artr_model *m, const artr__plan *pl, char *names, unsigned char *copies)
{
    int dim = pl->hdr[0], hidden = pl->hdr[1], n_layers = pl->hdr[2], n_heads = pl->hdr[3];
    int n_kv = pl->hdr[4], vocab = artr__plan_n_vocab(pl), seq = pl->hdr[6];
    int head = dim / n_heads, kv_dim = n_kv * head, i, l;
    /* rows x cols of each stacked per-layer array, in file order */
    int64_t rows[9], cols[9];
    artr__l2_cursor cur;
    cur.k = 0;
    cur.names = names;
    cur.at = pl->data + 28;
    cur.copies = pl->copy_bytes ? copies : NULL;
    rows[0] = 1;      cols[0] = dim;    /* attn_norm */
    rows[1] = dim;    cols[1] = dim;    /* wq: out x in */
    rows[2] = kv_dim; cols[2] = dim;    /* wk */
    rows[3] = kv_dim; cols[3] = dim;    /* wv */
    rows[4] = dim;    cols[4] = dim;    /* wo */
    rows[5] = 1;      cols[5] = dim;    /* ffn_norm */
    rows[6] = hidden; cols[6] = dim;    /* w1: gate */
    rows[7] = dim;    cols[7] = hidden; /* w2: down */
    rows[8] = hidden; cols[8] = dim;    /* w3: up */

    artr__l2_tensor(m, &cur, "token_embd.weight", vocab, dim);
    for (i = 0; i < 9; i++) {
        for (l = 0; l < n_layers; l++) {
            char name[64];
            artr__format(name, sizeof name, "blk.%d.%s.weight", l, artr__l2_layer_names[i]);
            artr__l2_tensor(m, &cur, name, rows[i], cols[i]);
        }
    }
    artr__l2_tensor(m, &cur, "output_norm.weight", 1, dim);
    cur.at += (size_t)seq * (size_t)head * 4; /* freq_cis_real, freq_cis_imag: unused */
    if (!pl->shared_cls) artr__l2_tensor(m, &cur, "output.weight", vocab, dim);
    m->n_tensors = cur.k;
    artr__heapsort(m->tensors_sorted, (size_t)cur.k, artr__tensor_less, m->tensors);
}

/* ---- §5 model: config, weight binding, the model object -------------------------- */
/* artr__model_build takes a scanned plan through layout, fill (§4) and bind, all into
   the model's one block; artr__model_load puts a file or buffer through scan and build.
   Binding reads the hyperparameters (artr__gguf_config, or the llama2.c header), points
   each layer at its tensors after checking type and shape (artr__bind_weights) and
   binds the vocabulary; the tokenizer's tables are built last (§9). A model is
   read-only once artr_model_load_* returns. */

/* ---- bind: config and weights for an architecture ---- */

static artr_status artr__meta_need_uint(const artr_model *m, const char *key, int required,
                                        int dflt, int lo, int *out, artr_error *err)
{
    const artr__kv *kv = artr__kv_find(m, key);
    int64_t v;
    if (!kv) {
        if (required) return ARTR__FAIL(err, ARTR_E_FORMAT, "missing metadata key '%s'", key);
        *out = dflt;
        return ARTR_OK;
    }
    if (kv->type == ARTR_META_ARRAY)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "metadata '%s' is a per-layer array; artr runs uniform layers only", key);
    if (kv->type == ARTR_META_BOOL || !artr__kv_int(kv->type, kv->val, &v))
        return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%s' has type %s, expected an integer", key,
                          artr__meta_type_name(kv->type));
    if (v < lo || v > INT32_MAX / 4)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%s' is %lld, expected %d..%d", key, (long long)v, lo, (int)(INT32_MAX / 4));
    *out = (int)v;
    return ARTR_OK;
}

static artr_status artr__meta_need_float(const artr_model *m, const char *key, int required,
                                         float dflt, float *out, artr_error *err)
{
    const artr__kv *kv = artr__kv_find(m, key);
    double v;
    if (!kv) {
        if (required) return ARTR__FAIL(err, ARTR_E_FORMAT, "missing metadata key '%s'", key);
        *out = dflt;
        return ARTR_OK;
    }
    if (!artr__kv_float(kv->type, kv->val, &v))
        return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%s' has type %s, expected float32", key,
                          artr__meta_type_name(kv->type));
    if (!(v > 0 && v < 1e30))
        return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%s' is %g, expected a positive number", key, v);
    *out = (float)v;
    return ARTR_OK;
}

/* Look up a tensor and check its type and shape [ne0, ne1] (ne1 = 0: a vector). */
static artr_status artr__bind(const artr_model *m, const char *name, int64_t ne0, int64_t ne1,
                              int required, const artr_tensor **out, artr_error *err)
{
    const artr_tensor *t = artr__tensor_find(m, name);
    int vec = ne1 == 0;
    *out = t;
    if (!t) {
        if (required) return ARTR__FAIL(err, ARTR_E_FORMAT, "missing tensor '%s'", name);
        return ARTR_OK;
    }
    if (vec && t->type != ARTR_TYPE_F32)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tensor '%s' has type %s; norms and biases must be F32",
                          name, artr_type_name(t->type));
    if (!vec && !artr__type_is_weight(t->type))
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tensor '%s' has type %s; artr runs F32, F16, BF16, Q8_0 and Q4_0 weights",
                          name, artr_type_name(t->type));
    if (t->ne[0] != ne0 || t->ne[1] != (vec ? 1 : ne1) || t->ne[2] != 1 || t->ne[3] != 1 ||
        t->n_dims != (vec ? 1 : 2)) {
        if (vec)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%s': shape [%lld, %lld, %lld, %lld] (%d dims), expected [%lld]",
                              name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                              (long long)t->ne[3], t->n_dims, (long long)ne0);
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%s': shape [%lld, %lld, %lld, %lld] (%d dims), expected [%lld, %lld]",
                          name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                          (long long)t->ne[3], t->n_dims, (long long)ne0, (long long)ne1);
    }
    return ARTR_OK;
}

/* artr__bind for layer l's tensor "blk.<l>.<suffix>". */
static artr_status artr__bind_blk(const artr_model *m, int l, const char *suffix, int64_t ne0,
                                  int64_t ne1, int required, const artr_tensor **out,
                                  artr_error *err)
{
    char name[64];
    artr__format(name, sizeof name, "blk.%d.%s", l, suffix);
    return artr__bind(m, name, ne0, ne1, required, out, err);
}

/* Read the architecture's hyperparameters from GGUF metadata into cfg. */
static artr_status artr__gguf_config(artr_model *m, const char *arch, artr_error *err)
{
    artr_config *c = &m->cfg;
    char key[96];
    int v = 0;
    artr_status st;
    const artr__kv *kv;
    artr__hparams *hp = &m->hp;
#define ARTR__KEY(SUFFIX) (artr__format(key, sizeof key, "%s." SUFFIX, arch), key)
    if ((st = artr__meta_need_uint(m, ARTR__KEY("block_count"), 1, 0, 1, &c->n_layer, err))) return st;
    if ((st = artr__meta_need_uint(m, ARTR__KEY("embedding_length"), 1, 0, 1, &c->n_embd, err))) return st;
    if ((st = artr__meta_need_uint(m, ARTR__KEY("feed_forward_length"), 1, 0, 1, &c->n_ff, err))) return st;
    if ((st = artr__meta_need_uint(m, ARTR__KEY("attention.head_count"), 1, 0, 1, &c->n_head, err))) return st;
    if ((st = artr__meta_need_uint(m, ARTR__KEY("attention.head_count_kv"), 0, c->n_head, 1, &c->n_head_kv, err))) return st;
    if ((st = artr__meta_need_uint(m, ARTR__KEY("context_length"), 1, 0, 1, &c->n_ctx_train, err))) return st;
    if (c->n_layer > ARTR_MAX_LAYERS)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "%s: %d layers, at most %d supported (ARTR_MAX_LAYERS)", key, c->n_layer, ARTR_MAX_LAYERS);
    if (c->n_head % c->n_head_kv)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "heads %d, kv heads %d: the heads must divide into kv heads",
                          c->n_head, c->n_head_kv);
    if (c->arch == ARTR_ARCH_GPT2 && c->n_embd % c->n_head)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "embedding %d, heads %d: the embedding must divide into heads",
                          c->n_embd, c->n_head);
    /* head size: attention.key_length, else embedding / heads (llama.cpp's default) */
    if ((st = artr__meta_need_uint(m, ARTR__KEY("attention.key_length"), c->n_embd % c->n_head != 0,
                                   c->n_embd / c->n_head, 1, &c->head_dim, err))) return st;
    if ((st = artr__meta_need_uint(m, ARTR__KEY("attention.value_length"), 0, c->head_dim, 1, &v, err))) return st;
    if (v != c->head_dim)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "%s is %d but the key length is %d: artr needs equal key and value head sizes", key, v, c->head_dim);
    if (c->arch == ARTR_ARCH_GPT2 && c->head_dim != c->n_embd / c->n_head)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "attention.key_length %d, not embedding/heads = %d: GPT-2 needs head size = embedding / heads", c->head_dim, c->n_embd / c->n_head);
    if ((uint64_t)c->n_head * (uint64_t)c->head_dim > (uint64_t)(INT32_MAX / 8))
        return ARTR__FAIL(err, ARTR_E_FORMAT, "%d heads of size %d is too large", c->n_head, c->head_dim);
    hp->q_dim = c->n_head * c->head_dim;
    hp->kv_dim = c->n_head_kv * c->head_dim;
    hp->attn_scale = 1.0f / sqrtf((float)c->head_dim);
    hp->rope_mscale = 1.0f;
    hp->rope_freq_scale = 1.0f;
    if (c->arch == ARTR_ARCH_GPT2) {
        if ((st = artr__meta_need_float(m, ARTR__KEY("attention.layer_norm_epsilon"), 1, 0, &c->norm_eps, err))) return st;
        c->rope_theta = 0;
    } else {
        int head_dim = c->head_dim;
        if ((st = artr__meta_need_float(m, ARTR__KEY("attention.layer_norm_rms_epsilon"), 1, 0, &c->norm_eps, err))) return st;
        if ((st = artr__meta_need_float(m, ARTR__KEY("rope.freq_base"), 0, 10000.0f, &c->rope_theta, err))) return st;
        if (head_dim % 2)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "head size %d is odd; rotary embeddings need it even", head_dim);
        if ((st = artr__meta_need_uint(m, ARTR__KEY("rope.dimension_count"), 0, head_dim, 0, &v, err))) return st;
        if (v != head_dim)
            return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "%s is %d but the head size is %d: partial rotary embeddings are not supported", key, v, head_dim);
        /* llama.cpp's rope types: NEOX (pairs i, i + hd/2) for qwen2, qwen3, gemma3, phi3 */
        hp->neox = c->arch != ARTR_ARCH_LLAMA;
        if ((kv = artr__kv_find(m, ARTR__KEY("rope.scaling.type"))) != NULL) {
            int none = kv->type == ARTR_META_STRING && kv->n == 4 && memcmp(kv->val, "none", 4) == 0;
            int linear = kv->type == ARTR_META_STRING && kv->n == 6 && memcmp(kv->val, "linear", 6) == 0;
            int longrope = kv->type == ARTR_META_STRING && kv->n == 8 && memcmp(kv->val, "longrope", 8) == 0;
            if (linear) {
                float f;
                if ((st = artr__meta_need_float(m, ARTR__KEY("rope.scaling.factor"), 0, 1.0f, &f, err))) return st;
                hp->rope_freq_scale = 1.0f / f; /* positions divided by the factor */
            } else if (!none && !(longrope && c->arch == ARTR_ARCH_PHI3)) {
                artr__format(key, sizeof key, "%s.rope.scaling.type", arch);
                return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "%s is '%.*s': artr runs none, linear (and longrope for phi3)",
                                  key, kv->type == ARTR_META_STRING ? artr__plen(kv->n) : 1,
                                  kv->type == ARTR_META_STRING ? (const char *)kv->val : "?");
            }
        }
        if (c->arch == ARTR_ARCH_PHI3) {
            float af;
            if ((st = artr__meta_need_uint(m, ARTR__KEY("rope.scaling.original_context_length"), 0, c->n_ctx_train, 1, &hp->n_ctx_orig, err))) return st;
            if ((st = artr__meta_need_float(m, ARTR__KEY("rope.scaling.attn_factor"), 0, 0.0f, &af, err))) return st;
            hp->rope_mscale = af; /* 0: computed from the contexts at bind (artr__bind_weights) */
        }
        if (c->arch == ARTR_ARCH_GEMMA3) {
            float f;
            if ((st = artr__meta_need_uint(m, ARTR__KEY("attention.sliding_window"), 0, 0, 0, &hp->swa_window, err))) return st;
            if ((st = artr__meta_need_uint(m, ARTR__KEY("attention.sliding_window_pattern"), 0, 6, 0, &hp->swa_period, err))) return st;
            if ((st = artr__meta_need_float(m, ARTR__KEY("rope.freq_base_swa"), 0, 10000.0f, &hp->rope_theta_swa, err))) return st;
            if ((st = artr__meta_need_float(m, ARTR__KEY("final_logit_softcapping"), 0, 0.0f, &hp->logit_softcap, err))) return st;
            if ((kv = artr__kv_find(m, ARTR__KEY("attention.query_pre_attn_scalar"))) != NULL) {
                if ((st = artr__meta_need_float(m, key, 1, 0.0f, &f, err))) return st;
                hp->attn_scale = 1.0f / sqrtf(f);
            } else if (c->n_layer == 62) { /* llama.cpp's rule for Gemma 3 27B (gemma_pytorch config) */
                hp->attn_scale = 1.0f / sqrtf((float)(c->n_embd / c->n_head));
            }
            hp->embd_scale = sqrtf((float)c->n_embd);
            hp->geglu = 1;
        }
    }
    if ((st = artr__meta_need_uint(m, ARTR__KEY("expert_count"), 0, 0, 0, &v, err))) return st;
    if (v > 0)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "%s is %d: mixture-of-experts models are not supported", key, v);
#undef ARTR__KEY
    return ARTR_OK;
}

/* A vector of hd/2 rope frequency divisors (rope_freqs, rope_factors_*): F32, finite and
   positive, or the file is refused. */
static artr_status artr__bind_rope_factors(const artr_model *m, const char *name, int64_t n,
                                           const float **out, artr_error *err)
{
    const artr_tensor *t;
    artr_status st;
    int64_t i;
    *out = NULL;
    if ((st = artr__bind(m, name, n, 0, 0, &t, err)) != ARTR_OK || !t) return st;
    for (i = 0; i < n; i++) {
        float f;
        memcpy(&f, (const unsigned char *)t->data + 4 * i, 4);
        if (!(f > 0 && f < 1e30f))
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor '%s': element %lld is %g, expected a positive divisor", name, (long long)i, (double)f);
    }
    *out = (const float *)t->data;
    return ARTR_OK;
}

/* Map tensors to layers for the architecture and check every shape against cfg. */
static artr_status artr__bind_weights(artr_model *m, artr_error *err)
{
    const artr_config *c = &m->cfg;
    artr__hparams *hp = &m->hp;
    int64_t E = c->n_embd, F = c->n_ff, V = c->n_vocab, HD = c->head_dim;
    int64_t Q, KV;
    int gpt2 = c->arch == ARTR_ARCH_GPT2, qwen2 = c->arch == ARTR_ARCH_QWEN2, l;
    int qk_norm = c->arch == ARTR_ARCH_QWEN3 || c->arch == ARTR_ARCH_GEMMA3;
    int gemma3 = c->arch == ARTR_ARCH_GEMMA3, phi3 = c->arch == ARTR_ARCH_PHI3;
    artr_status st;
    if (!c->head_dim) { /* llama2.c: the header's shape */
        m->cfg.head_dim = c->n_embd / c->n_head;
        HD = c->head_dim;
        hp->q_dim = c->n_embd;
        hp->kv_dim = c->n_head_kv * c->head_dim;
        hp->attn_scale = 1.0f / sqrtf((float)c->head_dim);
        hp->rope_mscale = 1.0f;
        hp->rope_freq_scale = 1.0f;
    }
    Q = hp->q_dim;
    KV = hp->kv_dim;
    if ((st = artr__bind(m, "token_embd.weight", E, V, 1, &m->tok_embd, err))) return st;
    if ((st = artr__bind(m, "output_norm.weight", E, 0, 1, &m->out_norm, err))) return st;
    if ((st = artr__bind(m, "output.weight", E, V, 0, &m->output, err))) return st;
    if (!m->output) m->output = m->tok_embd; /* tied embeddings */
    if (artr__tensor_find(m, "rope_freqs.weight") && (gpt2 || phi3))
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tensor 'rope_freqs.weight' in a %s model is not supported", gpt2 ? "gpt2" : "phi3");
    if (!gpt2 && !phi3 && (st = artr__bind_rope_factors(m, "rope_freqs.weight", HD / 2, &hp->rope_freqs, err))) return st;
    if (phi3) {
        if ((st = artr__bind_rope_factors(m, "rope_factors_long.weight", HD / 2, &hp->rope_freqs, err))) return st;
        if ((st = artr__bind_rope_factors(m, "rope_factors_short.weight", HD / 2, &hp->rope_freqs_short, err))) return st;
        if (!hp->rope_freqs != !hp->rope_freqs_short)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor 'rope_factors_%s.weight' is missing: LongRoPE needs both the long and the short factors",
                              hp->rope_freqs ? "short" : "long");
        if (hp->rope_mscale == 0) { /* Phi-3's LongRoPE attention factor (its converter writes it) */
            double s = (double)c->n_ctx_train / (double)hp->n_ctx_orig;
            hp->rope_mscale = s > 1 && hp->n_ctx_orig > 1 ? (float)sqrt(1 + log(s) / log((double)hp->n_ctx_orig)) : 1.0f;
        }
        hp->fused_up = 1;
    }
    if (gpt2) {
        if ((st = artr__bind(m, "output_norm.bias", E, 0, 1, &m->out_norm_b, err))) return st;
        if ((st = artr__bind(m, "position_embd.weight", E, c->n_ctx_train, 1, &m->pos_embd, err))) return st;
    }
    for (l = 0; l < c->n_layer; l++) {
        artr__layer *b = &m->layers[l];
        if ((st = artr__bind_blk(m, l, "attn_norm.weight", E, 0, 1, &b->attn_norm, err))) return st;
        if ((st = artr__bind_blk(m, l, "ffn_norm.weight", E, 0, 1, &b->ffn_norm, err))) return st;
        if ((st = artr__bind_blk(m, l, "attn_output.weight", Q, E, 1, &b->wo, err))) return st;
        if ((st = artr__bind_blk(m, l, "ffn_up.weight", E, phi3 ? 2 * F : F, 1, &b->w_up, err))) return st;
        if ((st = artr__bind_blk(m, l, "ffn_down.weight", F, E, 1, &b->w_down, err))) return st;
        if (gpt2) {
            if ((st = artr__bind_blk(m, l, "attn_norm.bias", E, 0, 1, &b->attn_norm_b, err))) return st;
            if ((st = artr__bind_blk(m, l, "ffn_norm.bias", E, 0, 1, &b->ffn_norm_b, err))) return st;
            if ((st = artr__bind_blk(m, l, "attn_qkv.weight", E, 3 * E, 1, &b->wqkv, err))) return st;
            if ((st = artr__bind_blk(m, l, "attn_qkv.bias", 3 * E, 0, 1, &b->bqkv, err))) return st;
            if ((st = artr__bind_blk(m, l, "attn_output.bias", E, 0, 1, &b->bo, err))) return st;
            if ((st = artr__bind_blk(m, l, "ffn_up.bias", F, 0, 1, &b->b_up, err))) return st;
            if ((st = artr__bind_blk(m, l, "ffn_down.bias", E, 0, 1, &b->b_down, err))) return st;
            continue;
        }
        if (phi3 && (st = artr__bind_blk(m, l, "attn_qkv.weight", E, Q + 2 * KV, 0, &b->wqkv, err))) return st;
        if (phi3 && !b->wqkv) {
            char name[64];
            artr__format(name, sizeof name, "blk.%d.attn_q.weight", l);
            if (!artr__tensor_find(m, name))
                return ARTR__FAIL(err, ARTR_E_FORMAT, "missing tensor 'blk.%d.attn_qkv.weight' (nor separate attn_q, attn_k, attn_v)", l);
        }
        if (!b->wqkv) { /* phi3 may also come with separate q, k, v */
            if ((st = artr__bind_blk(m, l, "attn_q.weight", E, Q, 1, &b->wq, err))) return st;
            if ((st = artr__bind_blk(m, l, "attn_k.weight", E, KV, 1, &b->wk, err))) return st;
            if ((st = artr__bind_blk(m, l, "attn_v.weight", E, KV, 1, &b->wv, err))) return st;
            if ((st = artr__bind_blk(m, l, "attn_q.bias", Q, 0, qwen2, &b->bq, err))) return st;
            if ((st = artr__bind_blk(m, l, "attn_k.bias", KV, 0, qwen2 || b->bq, &b->bk, err))) return st;
            if ((st = artr__bind_blk(m, l, "attn_v.bias", KV, 0, qwen2 || b->bq, &b->bv, err))) return st;
            if (!b->bq && (b->bk || b->bv))
                return ARTR__FAIL(err, ARTR_E_FORMAT, "blk.%d: attn_k/attn_v biases without 'blk.%d.attn_q.bias'", l, l);
        }
        if (!phi3 && (st = artr__bind_blk(m, l, "ffn_gate.weight", E, F, 1, &b->w_gate, err))) return st;
        if (qk_norm) {
            if ((st = artr__bind_blk(m, l, "attn_q_norm.weight", HD, 0, 1, &b->q_norm, err))) return st;
            if ((st = artr__bind_blk(m, l, "attn_k_norm.weight", HD, 0, 1, &b->k_norm, err))) return st;
        }
        if (gemma3) {
            if ((st = artr__bind_blk(m, l, "post_attention_norm.weight", E, 0, 1, &b->attn_post_norm, err))) return st;
            if ((st = artr__bind_blk(m, l, "post_ffw_norm.weight", E, 0, 1, &b->ffn_post_norm, err))) return st;
        }
    }
    return ARTR_OK;
}

/* GGUF tokenizer arrays into the token table; n_vocab must already be known. */
static artr_status artr__gguf_vocab(artr_model *m, artr__token *tokens, artr_error *err)
{
    artr__vocab *v = &m->vocab;
    const artr__kv *kv = artr__kv_find(m, "tokenizer.ggml.model");
    const artr__kv *toks = artr__kv_find(m, "tokenizer.ggml.tokens");
    const artr__kv *scores = artr__kv_find(m, "tokenizer.ggml.scores");
    const artr__kv *types = artr__kv_find(m, "tokenizer.ggml.token_type");
    static const char *const ids[4] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                       "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"};
    static const char *const flags[3] = {"tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
                                         "tokenizer.ggml.add_space_prefix"};
    int *id_out[4], *flag_out[3];
    artr__reader r;
    int i;
    id_out[0] = &v->bos; id_out[1] = &v->eos; id_out[2] = &v->unk; id_out[3] = &v->pad;
    flag_out[0] = &v->add_bos; flag_out[1] = &v->add_eos; flag_out[2] = &v->add_space_prefix;
    for (i = 0; i < 4; i++) *id_out[i] = -1;
    for (i = 0; i < 3; i++) *flag_out[i] = -1;
    if (!toks) return ARTR_OK;
    if (toks->type != ARTR_META_ARRAY || toks->elem_type != ARTR_META_STRING)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.ggml.tokens is not an array of strings");
    if (toks->n != (uint64_t)m->cfg.n_vocab && m->cfg.arch != ARTR_ARCH_NONE)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.ggml.tokens has %llu tokens but token_embd.weight has %d rows",
                          (unsigned long long)toks->n, m->cfg.n_vocab);
    if (scores && (scores->type != ARTR_META_ARRAY || scores->elem_type != ARTR_META_FLOAT32 || scores->n != toks->n))
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.ggml.scores must be an array of %llu float32", (unsigned long long)toks->n);
    if (types && (types->type != ARTR_META_ARRAY || types->elem_type != ARTR_META_INT32 || types->n != toks->n))
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.ggml.token_type must be an array of %llu int32", (unsigned long long)toks->n);
    v->n = (int)toks->n;
    v->tokens = tokens;
    artr__reader_init(&r, toks->val, toks->val_bytes);
    for (i = 0; i < v->n; i++) {
        uint64_t len;
        const char *s = artr__gguf_string(&r, &len);
        if (len > 0xffffffffu) len = 0; /* cannot happen: bounded by ARTR_MAX_STRING */
        tokens[i].text = s;
        tokens[i].len = (uint32_t)len;
        if ((int)len > v->max_token_len) v->max_token_len = (int)len;
        tokens[i].score = scores ? artr__lef32(scores->val + 4 * (size_t)i) : 0.0f;
        tokens[i].type = types ? (int32_t)artr__le32(types->val + 4 * (size_t)i) : 1;
    }
    v->kind = ARTR__VOCAB_OTHER;
    if (kv && kv->type == ARTR_META_STRING) {
        if (kv->n == 5 && memcmp(kv->val, "llama", 5) == 0) v->kind = ARTR__VOCAB_SPM;
        if (kv->n == 4 && memcmp(kv->val, "gpt2", 4) == 0) v->kind = ARTR__VOCAB_BPE;
    }
    for (i = 0; i < 4; i++) {
        const artr__kv *k = artr__kv_find(m, ids[i]);
        int64_t id;
        if (!k) continue;
        if (k->type == ARTR_META_ARRAY || !artr__kv_int(k->type, k->val, &id))
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%s' has type %s, expected an integer",
                              ids[i], artr__meta_type_name(k->type));
        if (id < 0 || id >= v->n)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%s' is %lld, outside the vocabulary of %d", ids[i], (long long)id, v->n);
        *id_out[i] = (int)id;
    }
    for (i = 0; i < 3; i++) {
        const artr__kv *k = artr__kv_find(m, flags[i]);
        if (k && k->type == ARTR_META_BOOL) *flag_out[i] = k->val[0] != 0;
    }
    if ((kv = artr__kv_find(m, "tokenizer.ggml.merges")) != NULL) {
        if (kv->type != ARTR_META_ARRAY || kv->elem_type != ARTR_META_STRING)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.ggml.merges is not an array of strings");
        v->merges = kv;
    }
    return ARTR_OK;
}

/* llama2.c tokenizer.bin into the token table (already validated by the scan). */
static void artr__l2_vocab(artr_model *m, const artr__plan *pl, artr__token *tokens)
{
    artr__vocab *v = &m->vocab;
    artr__reader r;
    int i;
    artr__reader_init(&r, pl->vocab, pl->vocab_size);
    v->max_token_len = (int)artr__get32(&r);
    v->kind = ARTR__VOCAB_LLAMA2C;
    v->n = m->cfg.n_vocab;
    v->tokens = tokens;
    for (i = 0; i < v->n; i++) {
        float score = artr__lef32(artr__take(&r, 4));
        uint32_t len = artr__get32(&r);
        tokens[i].text = (const char *)artr__take(&r, len);
        tokens[i].len = len;
        tokens[i].score = score;
        /* GGUF token types: 0 <unk> unknown, 1 <s> and 2 </s> control, <0xXX> byte */
        tokens[i].type = i == 0 ? 2 : i <= 2 ? 3 : len == 6 && memcmp(tokens[i].text, "<0x", 3) == 0 ? 6 : 1;
    }
    /* llama2.c's conventions: 0 <unk>, 1 <s>, 2 </s>; a leading space is added */
    v->unk = v->n > 0 ? 0 : -1;
    v->bos = v->n > 1 ? 1 : -1;
    v->eos = v->n > 2 ? 2 : -1;
    v->pad = -1;
    v->add_bos = 1;
    v->add_eos = 0;
    v->add_space_prefix = 1;
    v->merges = NULL;
}

static artr_status artr__model_bind(artr_model *m, const artr__plan *pl, artr__token *tokens,
                                    const artr_model_params *p, artr_error *err)
{
    artr_config *c = &m->cfg;
    artr_status st;
    if (pl->source == ARTR__SRC_LLAMA2C) {
        c->arch = ARTR_ARCH_LLAMA;
        c->n_embd = pl->hdr[0];
        c->n_ff = pl->hdr[1];
        c->n_layer = pl->hdr[2];
        c->n_head = pl->hdr[3];
        c->n_head_kv = pl->hdr[4];
        c->n_vocab = artr__plan_n_vocab(pl);
        c->n_ctx_train = pl->hdr[6];
        c->rope_theta = 10000.0f;
        c->norm_eps = 1e-5f;
        st = artr__bind_weights(m, err);
        if (st == ARTR_OK && pl->vocab) artr__l2_vocab(m, pl, tokens);
        return st;
    }
    if (!(p && p->container)) {
        const artr__kv *kv = artr__kv_find(m, "general.architecture");
        const artr_tensor *emb;
        int nv;
        if (!kv)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "no general.architecture key (set artr_model_params.container to open it as a plain GGUF container)");
        if (kv->type != ARTR_META_STRING)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "general.architecture has type %s, expected string", artr__meta_type_name(kv->type));
        if (kv->n == 5 && memcmp(kv->val, "llama", 5) == 0) c->arch = ARTR_ARCH_LLAMA;
        else if (kv->n == 5 && memcmp(kv->val, "qwen2", 5) == 0) c->arch = ARTR_ARCH_QWEN2;
        else if (kv->n == 4 && memcmp(kv->val, "gpt2", 4) == 0) c->arch = ARTR_ARCH_GPT2;
        else if (kv->n == 5 && memcmp(kv->val, "qwen3", 5) == 0) c->arch = ARTR_ARCH_QWEN3;
        else if (kv->n == 6 && memcmp(kv->val, "gemma3", 6) == 0) c->arch = ARTR_ARCH_GEMMA3;
        else if (kv->n == 4 && memcmp(kv->val, "phi3", 4) == 0) c->arch = ARTR_ARCH_PHI3;
        else
            return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "architecture '%.*s' is not supported (artr runs llama, qwen2, qwen3, gemma3, phi3, gpt2)",
                              artr__plen(kv->n), (const char *)kv->val);
        {
            char arch[8];
            memcpy(arch, kv->val, (size_t)kv->n);
            arch[kv->n] = 0;
            if ((st = artr__gguf_config(m, arch, err)) != ARTR_OK) return st;
            if (c->n_layer != pl->n_layer)
                return ARTR__FAIL(err, ARTR_E_FORMAT, "%s.block_count is inconsistent", arch); /* unreachable */
            emb = artr__tensor_find(m, "token_embd.weight");
            if (!emb) return ARTR__FAIL(err, ARTR_E_FORMAT, "missing tensor 'token_embd.weight'");
            if (emb->ne[1] > INT32_MAX / 4)
                return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor 'token_embd.weight': %lld rows is too many", (long long)emb->ne[1]);
            c->n_vocab = pl->n_vocab_tokens > 0 ? pl->n_vocab_tokens : (int)emb->ne[1];
            {
                char key[32];
                artr__format(key, sizeof key, "%s.vocab_size", arch);
                if ((st = artr__meta_need_uint(m, key, 0, c->n_vocab, 1, &nv, err)) != ARTR_OK) return st;
                if (nv != c->n_vocab)
                    return ARTR__FAIL(err, ARTR_E_FORMAT, "%s is %d but the vocabulary has %d tokens", key, nv, c->n_vocab);
            }
        }
        if ((st = artr__bind_weights(m, err)) != ARTR_OK) return st;
    }
    if (pl->vocab) {
        c->n_vocab = c->n_vocab ? c->n_vocab : pl->n_vocab_tokens;
        artr__l2_vocab(m, pl, tokens);
        return ARTR_OK;
    }
    return artr__gguf_vocab(m, tokens, err);
}

/* Build a model from a scan, in mem (placed) or in one allocation. */
static artr_status artr__model_build(artr_model **out, const artr__plan *pl,
                                     const artr_model_params *p, artr_error *err)
{
    artr__layout l;
    unsigned char *base, *block = NULL;
    artr_model *m;
    artr_status st;
    int n_vocab = artr__plan_n_vocab(pl);
    if ((st = artr__model_layout(pl, n_vocab, &l, err)) != ARTR_OK) return st;
    if (p && p->mem) {
        if (p->mem_size < l.total)
            return ARTR__FAIL(err, ARTR_E_NOMEM, "artr_model_params.mem_size is %zu bytes, the model needs %zu (artr_model_bytes)",
                              p->mem_size, l.total);
        base = (unsigned char *)p->mem;
    } else {
        block = (unsigned char *)artr__alloc(l.total);
        if (!block) {
#ifdef ARTR_NO_MALLOC
            return ARTR__FAIL(err, ARTR_E_NOMEM, "built with ARTR_NO_MALLOC: pass artr_model_params.mem (artr_model_bytes says how big: %zu)", l.total);
#else
            return ARTR__FAIL(err, ARTR_E_NOMEM, "cannot allocate %zu bytes for the model's tables", l.total);
#endif
        }
        base = block;
    }
    base += (64 - (uintptr_t)base % 64) % 64;
    m = (artr_model *)(void *)(base + l.model);
    memset(m, 0, sizeof *m);
    m->block = block;
    m->kv = (artr__kv *)(void *)(base + l.kv);
    m->kv_sorted = (uint32_t *)(void *)(base + l.kv_sorted);
    m->tensors = (artr_tensor *)(void *)(base + l.tensors);
    m->tensors_sorted = (uint32_t *)(void *)(base + l.tensors_sorted);
    m->layers = (artr__layer *)(void *)(base + l.layers);
    if (pl->n_layer) memset(m->layers, 0, (size_t)pl->n_layer * sizeof(artr__layer));
    m->vocab.bos = m->vocab.eos = m->vocab.unk = m->vocab.pad = -1;
    m->vocab.add_bos = m->vocab.add_eos = m->vocab.add_space_prefix = -1;
    if (pl->source == ARTR__SRC_GGUF) {
        st = artr__gguf_fill(m, pl, base + l.copies, err);
    } else {
        artr__l2_fill(m, pl, (char *)(base + l.names), base + l.copies);
        st = ARTR_OK;
    }
    if (st == ARTR_OK) st = artr__model_bind(m, pl, (artr__token *)(void *)(base + l.tokens), p, err);
    if (st == ARTR_OK) st = artr__tok_build(m, base + l.tok, n_vocab, pl->n_merges, pl->vocab_bytes, err);
    if (st != ARTR_OK) {
        artr__free(block);
        return st;
    }
    *out = m;
    return ARTR_OK;
}


#ifndef ARTR_NO_STDIO
/* ---- files: map (POSIX, Windows) or read into one allocation ---- */

typedef struct artr__file {
    void *data; /* NULL for an empty file */
    size_t size;
    int mapped;
} artr__file;

#ifdef ARTR__MMAP_WIN32
/* GetLastError() in words for the usual failures (FormatMessage would be localised). */
static const char *artr__win32_error(DWORD e)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND: return "file not found";
    case ERROR_PATH_NOT_FOUND: return "path not found";
    case ERROR_ACCESS_DENIED: return "access denied";
    case ERROR_SHARING_VIOLATION: return "in use by another process";
    case ERROR_INVALID_NAME: return "invalid file name";
    case ERROR_NOT_ENOUGH_MEMORY: return "not enough memory";
    case ERROR_NOT_ENOUGH_QUOTA: return "not enough quota";
    default: return "failed";
    }
}
#endif

static artr_status artr__file_open(artr__file *f, const char *path, artr_error *err)
{
    f->data = NULL;
    f->size = 0;
    f->mapped = 0;
#if defined(ARTR__MMAP_WIN32)
    {
        /* The view keeps the mapping and the file open, so both handles are closed right
           away and artr__file_close has only UnmapViewOfFile to call. */
        HANDLE h, map;
        LARGE_INTEGER n;
        DWORD e, attr;
        void *p;
        h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                        FILE_ATTRIBUTE_NORMAL, NULL);
        if (h == INVALID_HANDLE_VALUE) {
            e = GetLastError();
            attr = GetFileAttributesA(path); /* a directory cannot be opened as a file */
            if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY))
                return ARTR__FAIL(err, ARTR_E_IO, "'%s' is not a regular file", path);
            return ARTR__FAIL(err, ARTR_E_IO, "cannot open '%s': %s (Windows error %u)", path,
                              artr__win32_error(e), (unsigned)e);
        }
        if (GetFileType(h) != FILE_TYPE_DISK || !GetFileSizeEx(h, &n) || n.QuadPart < 0) {
            CloseHandle(h);
            return ARTR__FAIL(err, ARTR_E_IO, "'%s' is not a regular file", path);
        }
        if ((uint64_t)n.QuadPart > (uint64_t)SIZE_MAX) {
            CloseHandle(h);
            return ARTR__FAIL(err, ARTR_E_IO, "'%s' is larger than the address space", path);
        }
        f->size = (size_t)n.QuadPart;
        if (f->size == 0) { /* CreateFileMapping refuses an empty file */
            CloseHandle(h);
            return ARTR_OK; /* the loader explains why an empty file is no model */
        }
        map = CreateFileMappingA(h, NULL, PAGE_READONLY, 0, 0, NULL);
        if (!map) {
            e = GetLastError();
            CloseHandle(h);
            return ARTR__FAIL(err, ARTR_E_IO, "cannot map '%s': %s (Windows error %u)", path,
                              artr__win32_error(e), (unsigned)e);
        }
        p = MapViewOfFile(map, FILE_MAP_READ, 0, 0, 0);
        e = GetLastError();
        CloseHandle(map);
        CloseHandle(h);
        if (!p)
            return ARTR__FAIL(err, ARTR_E_IO, "cannot map '%s': %s (Windows error %u)", path,
                              artr__win32_error(e), (unsigned)e);
        f->data = p;
        f->mapped = 1;
        return ARTR_OK;
    }
#elif defined(ARTR__MMAP_POSIX)
    {
        struct stat stt;
        int fd = open(path, O_RDONLY);
        void *p;
        if (fd < 0) return ARTR__FAIL(err, ARTR_E_IO, "cannot open '%s': %s", path, strerror(errno));
        if (fstat(fd, &stt) != 0 || !S_ISREG(stt.st_mode)) {
            close(fd);
            return ARTR__FAIL(err, ARTR_E_IO, "'%s' is not a regular file", path);
        }
        if ((uint64_t)stt.st_size > (uint64_t)SIZE_MAX) {
            close(fd);
            return ARTR__FAIL(err, ARTR_E_IO, "'%s' is larger than the address space", path);
        }
        f->size = (size_t)stt.st_size;
        if (f->size == 0) {
            close(fd);
            return ARTR_OK; /* the loader explains why an empty file is no model */
        }
        p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED) return ARTR__FAIL(err, ARTR_E_IO, "cannot map '%s': %s", path, strerror(errno));
        f->data = p;
        f->mapped = 1;
        return ARTR_OK;
    }
#else
    {
        FILE *fp = fopen(path, "rb");
        int64_t n;
        unsigned char probe;
        if (!fp) return ARTR__FAIL(err, ARTR_E_IO, "cannot open '%s': %s", path, strerror(errno));
        if (fread(&probe, 1, 1, fp) != 1 && ferror(fp)) { /* a directory opens but cannot be read */
            fclose(fp);
            return ARTR__FAIL(err, ARTR_E_IO, "cannot read '%s': %s", path, strerror(errno));
        }
        if (ARTR__FSEEK(fp, 0, SEEK_END) != 0 || (n = (int64_t)ARTR__FTELL(fp)) < 0 ||
            ARTR__FSEEK(fp, 0, SEEK_SET) != 0) {
            fclose(fp);
            return ARTR__FAIL(err, ARTR_E_IO, "cannot seek in '%s' (not a regular file?)", path);
        }
        if ((uint64_t)n > (uint64_t)SIZE_MAX) {
            fclose(fp);
            return ARTR__FAIL(err, ARTR_E_IO, "'%s' is larger than the address space", path);
        }
        f->size = (size_t)n;
        if (f->size == 0) {
            fclose(fp);
            return ARTR_OK;
        }
        f->data = artr__alloc(f->size);
        if (!f->data) {
            fclose(fp);
            return ARTR__FAIL(err, ARTR_E_NOMEM, "cannot allocate %zu bytes to read '%s'", f->size, path);
        }
        if (fread(f->data, 1, f->size, fp) != f->size) {
            fclose(fp);
            artr__free(f->data);
            f->data = NULL;
            return ARTR__FAIL(err, ARTR_E_IO, "cannot read '%s'", path);
        }
        fclose(fp);
        return ARTR_OK;
    }
#endif
}

static void artr__file_close(artr__file *f)
{
#if defined(ARTR__MMAP_WIN32)
    if (f->data && f->mapped) {
        UnmapViewOfFile(f->data);
        f->data = NULL;
        return;
    }
#elif defined(ARTR__MMAP_POSIX)
    if (f->data && f->mapped) {
        munmap(f->data, f->size);
        f->data = NULL;
        return;
    }
#endif
    artr__free(f->data);
    f->data = NULL;
}
#endif /* ARTR_NO_STDIO */

static const uint8_t artr__no_bytes[1] = {0}; /* stands in for an empty buffer */

/* Scan and build; a tokenizer.bin given by path is read first and owned by the model. */
static artr_status artr__model_load(artr_model **out, const void *data, size_t size,
                                    const artr_model_params *p, artr_error *err)
{
    artr__plan pl;
    artr_status st;
    *out = NULL;
    if (!data) return ARTR__FAIL(err, ARTR_E_ARG, "NULL model data");
    if (p && p->vocab_path && !p->vocab) {
#ifdef ARTR_NO_STDIO
        return ARTR__FAIL(err, ARTR_E_ARG, "vocab_path needs stdio (built with ARTR_NO_STDIO); pass vocab instead");
#else
        artr__file vf;
        artr_model_params q = *p;
        if ((st = artr__file_open(&vf, p->vocab_path, err)) != ARTR_OK) return st;
        q.vocab = vf.data ? vf.data : (const void *)artr__no_bytes;
        q.vocab_size = vf.size;
        st = artr__model_load(out, data, size, &q, err);
        if (st != ARTR_OK) {
            artr__file_close(&vf);
            return st;
        }
        (*out)->vocab_file = vf.data;
        (*out)->vocab_file_size = vf.size;
        (*out)->vocab_file_mapped = vf.mapped;
        return ARTR_OK;
#endif
    }
    st = artr__model_scan(&pl, data, size, p, err);
    if (st == ARTR_OK) st = artr__model_build(out, &pl, p, err);
    if (st == ARTR_OK) artr__ok(err);
    return st;
}

ARTRDEF artr_status artr_model_load_memory(artr_model **out, const void *data, size_t size,
                                           const artr_model_params *p, artr_error *err)
{
    if (!out) return ARTR__FAIL(err, ARTR_E_ARG, "artr_model_load_memory: NULL out");
    return artr__model_load(out, data, size, p, err);
}

#ifndef ARTR_NO_STDIO
ARTRDEF artr_status artr_model_load_file(artr_model **out, const char *path,
                                         const artr_model_params *p, artr_error *err)
{
    artr__file f;
    artr_status st;
    if (!out) return ARTR__FAIL(err, ARTR_E_ARG, "artr_model_load_file: NULL out");
    *out = NULL;
    if (!path) return ARTR__FAIL(err, ARTR_E_ARG, "artr_model_load_file: NULL path");
    if ((st = artr__file_open(&f, path, err)) != ARTR_OK) return st;
    st = artr__model_load(out, f.data ? f.data : (const void *)artr__no_bytes, f.size, p, err);
    if (st != ARTR_OK) {
        artr__file_close(&f);
        return st;
    }
    (*out)->file = f.data;
    (*out)->file_size = f.size;
    (*out)->file_mapped = f.mapped;
    return ARTR_OK;
}

ARTRDEF artr_status artr_model_bytes_file(const char *path, const artr_model_params *p,
                                          size_t *bytes, artr_error *err)
{
    artr__file f;
    artr_status st;
    if (!path || !bytes) return ARTR__FAIL(err, ARTR_E_ARG, "artr_model_bytes_file: NULL path or bytes");
    if ((st = artr__file_open(&f, path, err)) != ARTR_OK) return st;
    st = artr_model_bytes(f.data ? f.data : (const void *)artr__no_bytes, f.size, p, bytes, err);
    artr__file_close(&f);
    return st;
}
#endif

ARTRDEF void artr_model_free(artr_model *m)
{
    void *block;
    if (!m) return;
#ifndef ARTR_NO_STDIO
    {
        artr__file f;
        f.data = m->file;
        f.size = m->file_size;
        f.mapped = m->file_mapped;
        artr__file_close(&f);
        f.data = m->vocab_file;
        f.size = m->vocab_file_size;
        f.mapped = m->vocab_file_mapped;
        artr__file_close(&f);
    }
#endif
    block = m->block; /* m lives inside the block: read it first */
    artr__free(block);
}

ARTRDEF const artr_config *artr_model_config(const artr_model *m)
{
    return m ? &m->cfg : NULL;
}

/* ---- metadata and tensor access ---- */

ARTRDEF int artr_model_meta_count(const artr_model *m)
{
    return m ? m->n_kv : -1;
}

ARTRDEF const char *artr_model_meta_key(const artr_model *m, int i, size_t *len)
{
    if (!m || i < 0 || i >= m->n_kv) return NULL;
    if (len) *len = m->kv[i].key_len;
    return m->kv[i].key;
}

static artr_status artr__meta_lookup(const artr_model *m, const char *key, const artr__kv **kv,
                                     artr_error *err)
{
    if (!m || !key) return ARTR__FAIL(err, ARTR_E_ARG, "NULL model or key");
    *kv = artr__kv_find(m, key);
    if (!*kv) return ARTR__FAIL(err, ARTR_E_ARG, "no metadata key '%s'", key);
    return ARTR_OK;
}

ARTRDEF artr_status artr_model_meta_type(const artr_model *m, const char *key, int *type,
                                         int *elem_type, uint64_t *n, artr_error *err)
{
    const artr__kv *kv;
    artr_status st = artr__meta_lookup(m, key, &kv, err);
    if (st != ARTR_OK) return st;
    if (type) *type = (int)kv->type;
    if (elem_type) *elem_type = kv->type == ARTR_META_ARRAY ? (int)kv->elem_type : -1;
    if (n) *n = kv->type == ARTR_META_ARRAY ? kv->n : 1;
    artr__ok(err);
    return ARTR_OK;
}

static artr_status artr__meta_wrong(const char *key, uint32_t type, const char *want, artr_error *err)
{
    return ARTR__FAIL(err, ARTR_E_ARG, "metadata '%s' has type %s, not %s", key, artr__meta_type_name(type), want);
}

ARTRDEF artr_status artr_model_meta_int(const artr_model *m, const char *key, int64_t *out,
                                        artr_error *err)
{
    const artr__kv *kv;
    artr_status st = artr__meta_lookup(m, key, &kv, err);
    if (st != ARTR_OK) return st;
    if (!out) return ARTR__FAIL(err, ARTR_E_ARG, "NULL out");
    if (!artr__kv_int(kv->type, kv->val, out)) return artr__meta_wrong(key, kv->type, "an integer in int64 range", err);
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_model_meta_float(const artr_model *m, const char *key, double *out,
                                          artr_error *err)
{
    const artr__kv *kv;
    artr_status st = artr__meta_lookup(m, key, &kv, err);
    if (st != ARTR_OK) return st;
    if (!out) return ARTR__FAIL(err, ARTR_E_ARG, "NULL out");
    if (!artr__kv_float(kv->type, kv->val, out)) return artr__meta_wrong(key, kv->type, "float32 or float64", err);
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_model_meta_str(const artr_model *m, const char *key, const char **s,
                                        size_t *len, artr_error *err)
{
    const artr__kv *kv;
    artr_status st = artr__meta_lookup(m, key, &kv, err);
    if (st != ARTR_OK) return st;
    if (!s || !len) return ARTR__FAIL(err, ARTR_E_ARG, "NULL s or len");
    if (kv->type != ARTR_META_STRING) return artr__meta_wrong(key, kv->type, "string", err);
    *s = (const char *)kv->val;
    *len = (size_t)kv->n;
    artr__ok(err);
    return ARTR_OK;
}

/* Element i of an array key whose elements are scalars: a pointer to its bytes. */
static artr_status artr__meta_elem(const artr_model *m, const char *key, uint64_t i,
                                   const artr__kv **kv, const uint8_t **at, artr_error *err)
{
    artr_status st = artr__meta_lookup(m, key, kv, err);
    int sz;
    if (st != ARTR_OK) return st;
    if ((*kv)->type != ARTR_META_ARRAY) return artr__meta_wrong(key, (*kv)->type, "array", err);
    if (i >= (*kv)->n)
        return ARTR__FAIL(err, ARTR_E_ARG, "metadata '%s': index %llu outside its %llu elements", key, (unsigned long long)i, (unsigned long long)(*kv)->n);
    sz = artr__meta_scalar_size((*kv)->elem_type);
    *at = sz ? (*kv)->val + (size_t)i * (size_t)sz : NULL;
    return ARTR_OK;
}

ARTRDEF artr_status artr_model_meta_array_int(const artr_model *m, const char *key, uint64_t i,
                                              int64_t *out, artr_error *err)
{
    const artr__kv *kv;
    const uint8_t *at;
    artr_status st = artr__meta_elem(m, key, i, &kv, &at, err);
    if (st != ARTR_OK) return st;
    if (!out) return ARTR__FAIL(err, ARTR_E_ARG, "NULL out");
    if (!at || !artr__kv_int(kv->elem_type, at, out))
        return ARTR__FAIL(err, ARTR_E_ARG, "metadata '%s': elements are %s, not integers in int64 range",
                          key, artr__meta_type_name(kv->elem_type));
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_model_meta_array_float(const artr_model *m, const char *key,
                                                uint64_t i, double *out, artr_error *err)
{
    const artr__kv *kv;
    const uint8_t *at;
    artr_status st = artr__meta_elem(m, key, i, &kv, &at, err);
    if (st != ARTR_OK) return st;
    if (!out) return ARTR__FAIL(err, ARTR_E_ARG, "NULL out");
    if (!at || !artr__kv_float(kv->elem_type, at, out))
        return ARTR__FAIL(err, ARTR_E_ARG, "metadata '%s': elements are %s, not floats",
                          key, artr__meta_type_name(kv->elem_type));
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_model_meta_array_str(const artr_model *m, const char *key, uint64_t i,
                                              const char **s, size_t *len, artr_error *err)
{
    const artr__kv *kv;
    const uint8_t *at;
    artr__reader r;
    uint64_t j, n = 0;
    artr_status st = artr__meta_elem(m, key, i, &kv, &at, err);
    if (st != ARTR_OK) return st;
    if (!s || !len) return ARTR__FAIL(err, ARTR_E_ARG, "NULL s or len");
    if (kv->elem_type != ARTR_META_STRING)
        return ARTR__FAIL(err, ARTR_E_ARG, "metadata '%s': elements are %s, not strings",
                          key, artr__meta_type_name(kv->elem_type));
    artr__reader_init(&r, kv->val, kv->val_bytes);
    for (j = 0; j <= i; j++) *s = artr__gguf_string(&r, &n);
    *len = (size_t)n;
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_model_meta_raw(const artr_model *m, int i, int *type,
                                        const void **bytes, size_t *n_bytes, artr_error *err)
{
    const artr__kv *kv;
    size_t head;
    if (!m || !type || !bytes || !n_bytes) return ARTR__FAIL(err, ARTR_E_ARG, "artr_model_meta_raw: NULL argument");
    if (i < 0 || i >= m->n_kv) return ARTR__FAIL(err, ARTR_E_ARG, "metadata index %d outside 0..%d", i, m->n_kv - 1);
    kv = &m->kv[i];
    /* val points past a string's length and past an array's element type and count */
    head = kv->type == ARTR_META_STRING ? 8 : kv->type == ARTR_META_ARRAY ? 12 : 0;
    *type = (int)kv->type;
    *bytes = kv->val - head;
    *n_bytes = kv->val_bytes + head;
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF int artr_model_tensor_count(const artr_model *m)
{
    return m ? m->n_tensors : -1;
}

ARTRDEF artr_status artr_model_tensor_at(const artr_model *m, int i, artr_tensor *t,
                                         artr_error *err)
{
    if (!m || !t) return ARTR__FAIL(err, ARTR_E_ARG, "NULL model or tensor");
    if (i < 0 || i >= m->n_tensors)
        return ARTR__FAIL(err, ARTR_E_ARG, "tensor index %d outside 0..%d", i, m->n_tensors - 1);
    *t = m->tensors[i];
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_model_tensor(const artr_model *m, const char *name, artr_tensor *t,
                                      artr_error *err)
{
    const artr_tensor *found;
    if (!m || !name || !t) return ARTR__FAIL(err, ARTR_E_ARG, "NULL model, name or tensor");
    found = artr__tensor_find(m, name);
    if (!found) return ARTR__FAIL(err, ARTR_E_ARG, "no tensor '%s'", name);
    *t = *found;
    artr__ok(err);
    return ARTR_OK;
}

/* ---- §6 context, KV cache, forward ----------------------------------------------- */
/* A context is one sequence. Its cache keeps, per layer, the keys (after rope) and values
   of every position it holds, as float32. Everything a forward call touches is carved
   from one block at creation (artr__ctx_layout), so forward, truncate and copy never
   allocate. A call validates all of its input before it changes anything: it commits
   all n positions or none. */

struct artr_ctx {
    const artr_model *m;
    int n_ctx, n_batch, n_threads;
    int n_sink;        /* positions kept at the front of a bounded cache */
    int bounded;       /* evict instead of failing when full (n_sink > 0) */
    int n_past;        /* tokens processed: the next token's position */
    int n_kv;          /* positions in the cache (< n_past once a bounded cache evicted) */
    int partial_from;  /* first position computed with early exit, or INT32_MAX */
    int partial_layers;/* fewest layers any of those positions ran */
    int n_rows;        /* rows kept by the last call (logits and hidden) */
    int row_pos0;      /* position of the token whose logits are row 0 */
    int n_layers;      /* layers this context runs (< n_layer: a self-speculative draft) */
    int n_draft;       /* most guesses per decoding step */
    int32_t pending;   /* a token a decoding step accepted but has not fed yet, or -1 */
    int n_guess;       /* Jacobi / SJD guesses carried to the next step */
    artr_stats stats;
    int head_dim, kv_dim, qkv_ld;
    int kv_type;       /* ARTR_TYPE_F32 or ARTR_TYPE_F16: the cache's elements */
    size_t kv_es;      /* bytes per cache element (4 or 2) */
    unsigned char *k_cache; /* per layer (n_ctx, kv_dim) elements of kv_type, a sliding-
                               window layer (swa_rows, kv_dim): a ring, position p in row
                               p % swa_rows (artr__kv_row) */
    unsigned char *v_cache; /* the same for values */
    int swa_rows;      /* rows of a sliding-window layer's ring (window + n_batch - 1), or 0:
                          every layer holds n_ctx rows */
    float *x;          /* (n_batch, n_embd) residual stream */
    float *xb;         /* (n_batch, n_embd) normed input / sublayer output */
    float *qkv;        /* (n_batch, q_dim + 2 kv_dim) queries, keys, values */
    float *att;        /* (n_batch, max(n_embd, q_dim)) attention output */
    float *hb;         /* (n_batch, n_ff, or 2 n_ff for a fused gate|up) feed-forward */
    float *hb2;        /* (n_batch, n_ff) feed-forward */
    float *scores;     /* (n_threads, n_ctx) attention weights, one row per thread */
    float *rope;       /* (n_rope, n_batch, head_dim) cos[hd/2], sin[hd/2] per position;
                          table 1: the sliding-window layers' (their own base) */
    float *inv_freq;   /* (2, head_dim / 2 + 1) theta^(-2i/hd) / factor_i: table 0, and
                          table 1 for sliding-window layers or Phi-3's long factors */
    int n_rope;        /* rope tables: 2 with sliding-window layers, else 1 */
    int q_dim, ld_hb;  /* n_head * head_dim; row stride of hb */
    float rope_mscale; /* cos and sin times this (LongRoPE) */
    int rope_long;     /* Phi-3 LongRoPE: the cache holds keys rotated with the long factors */
    float *hidden;     /* (n_batch, n_embd) final hidden states of the kept rows */
    int8_t *xq;        /* (n_batch, max(n_embd, n_ff)) quantized activations, or NULL */
    float *xd;         /* (n_batch, max(n_embd, n_ff) / 32) their scales */
    float *logits;     /* (n_batch, n_vocab) logits of the kept rows */
    float *probs;      /* (n_vocab) sampler: the transformed logits */
    float *dist;       /* (n_vocab) sampler: the distribution artr_sample draws from */
    uint32_t *order;   /* (n_vocab) sampler: token ids sorted by logit */
    int32_t *hist;     /* (n_ctx) ids of the last n_ctx positions, ring by position; -1 for
                          embeddings */
    int32_t *hist_tmp; /* (n_ctx) sampler: sorted copy of the penalty window */
    float *dists;      /* (n_draft + 1, n_vocab) decoding: the proposal distributions */
    int32_t *guess;    /* (n_draft + 1) decoding: proposed tokens */
    int32_t *qkind;    /* (n_draft + 1) decoding: how guess[i] was proposed (ARTR__Q_*) */
    int32_t *feed;     /* (n_batch) decoding: the tokens of one verification call */
    int32_t *next_tok; /* (n_vocab) Jacobi: the token seen after each token, or -1 */
    void *block;       /* our allocation, or NULL when placed */
};

typedef struct artr__ctx_layout {
    size_t ctx, k_cache, v_cache, x, xb, qkv, att, hb, hb2, scores, rope, inv_freq, hidden,
        logits, probs, dist, order, hist, hist_tmp, dists, guess, qkind, feed, next_tok, xq, xd, total;
    uint64_t act; /* activation bytes to quantize per call (artr__matmul_q), or 0 */
    int n_ctx, n_batch, n_threads, n_layers, n_draft, kv_type, swa_rows;
} artr__ctx_layout;

/* Cache rows of the layers before l: n_ctx for a global layer, swa_rows for a sliding-
   window one (every swa_period-th layer is global, so l / period of them come first). */
static uint64_t artr__kv_rows_before(const artr_model *m, int n_ctx, int swa_rows, int l)
{
    int p = m->hp.swa_period, g;
    if (!swa_rows) return (uint64_t)l * (uint64_t)n_ctx;
    g = p > 0 ? l / p : 0;
    return (uint64_t)g * (uint64_t)n_ctx + (uint64_t)(l - g) * (uint64_t)swa_rows;
}

/* Whether any tensor is Q8_0 or Q4_0: the context then has room for quantized activations. */
static ARTR__UNUSED int artr__model_has_qweights(const artr_model *m)
{
    int i;
    for (i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].type == ARTR_TYPE_Q8_0 || m->tensors[i].type == ARTR_TYPE_Q4_0) return 1;
    return 0;
}

static artr_status artr__ctx_layout_for(const artr_model *m, const artr_ctx_params *p,
                                        artr__ctx_layout *l, artr_error *err)
{
    const artr_config *c = &m->cfg;
    int kv_dim, hd, q_dim, n_rope;
    uint64_t at = 0, end, fl[25], act_w;
    size_t *slot[25];
    int i;
    if (c->arch == ARTR_ARCH_NONE)
        return ARTR__FAIL(err, ARTR_E_ARG, "the model was opened as a container; it has no architecture to run");
    hd = c->head_dim;
    kv_dim = m->hp.kv_dim;
    q_dim = m->hp.q_dim;
    n_rope = m->hp.swa_window > 0 ? 2 : 1;
    l->n_ctx = p && p->n_ctx > 0 ? p->n_ctx : c->n_ctx_train;
    l->n_batch = p && p->n_batch > 0 ? p->n_batch : (l->n_ctx < 128 ? l->n_ctx : 128);
    l->n_threads = p && p->n_threads > 0 ? p->n_threads : 1;
#ifdef _OPENMP
    if (!(p && p->n_threads > 0)) l->n_threads = omp_get_max_threads();
#endif
    if (p && (p->n_ctx < 0 || p->n_batch < 0 || p->n_threads < 0 || p->n_sink < 0))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_params: negative n_ctx, n_batch, n_threads or n_sink");
    if (l->n_threads > 512) l->n_threads = 512;
    l->n_layers = p && p->n_layers > 0 ? p->n_layers : c->n_layer;
    if (l->n_layers > c->n_layer)
        return ARTR__FAIL(err, ARTR_E_ARG, "n_layers %d, the model has %d", l->n_layers, c->n_layer);
    if (p && p->n_draft < 0) return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_params: negative n_draft");
    l->kv_type = p ? p->kv_type : ARTR_TYPE_F32;
    if (l->kv_type != ARTR_TYPE_F32 && l->kv_type != ARTR_TYPE_F16)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_params.kv_type %d: the cache holds ARTR_TYPE_F32 (0) or ARTR_TYPE_F16 (1)", l->kv_type);
    if (l->n_ctx > (1 << 24))
        return ARTR__FAIL(err, ARTR_E_ARG, "n_ctx %d is larger than artr supports (2^24)", l->n_ctx);
    if (c->arch == ARTR_ARCH_GPT2 && l->n_ctx > c->n_ctx_train)
        return ARTR__FAIL(err, ARTR_E_ARG, "n_ctx %d exceeds the %d learned positions of this GPT-2 model",
                          l->n_ctx, c->n_ctx_train);
    if (l->n_batch > l->n_ctx)
        return ARTR__FAIL(err, ARTR_E_ARG, "n_batch %d is larger than n_ctx %d", l->n_batch, l->n_ctx);
    l->n_draft = p && p->n_draft > 0 ? p->n_draft : (l->n_batch - 1 < 16 ? l->n_batch - 1 : 16);
    if (l->n_draft > l->n_batch - 1 && l->n_batch > 1)
        return ARTR__FAIL(err, ARTR_E_ARG, "n_draft %d needs n_batch >= %d (guesses + 1 per verification)", l->n_draft, l->n_draft + 1);
    if (l->n_draft < 1) l->n_draft = 1;
    if (p && (p->n_sink > 0 || p->bounded) && p->n_sink + l->n_batch > l->n_ctx)
        return ARTR__FAIL(err, ARTR_E_ARG, "n_sink %d + n_batch %d leave no room for a window in n_ctx %d",
                          p->n_sink, l->n_batch, l->n_ctx);
    /* a sliding-window layer keeps a ring of window + n_batch - 1 rows: a call's n new keys
       and the window before the first; not in a bounded cache, whose eviction moves rows */
    l->swa_rows = 0;
    if (m->hp.swa_window > 0 && !(p && (p->n_sink > 0 || p->bounded)) &&
        (int64_t)m->hp.swa_window + l->n_batch - 1 < l->n_ctx)
        l->swa_rows = m->hp.swa_window + l->n_batch - 1;
    slot[0] = &l->k_cache;
    fl[0] = artr__kv_rows_before(m, l->n_ctx, l->swa_rows, l->n_layers) * (uint64_t)kv_dim;
    if (l->kv_type == ARTR_TYPE_F16) fl[0] = (fl[0] + 1) / 2; /* 4-byte units */
    slot[1] = &l->v_cache;  fl[1] = fl[0];
    slot[2] = &l->x;        fl[2] = (uint64_t)l->n_batch * (uint64_t)c->n_embd;
    slot[3] = &l->xb;       fl[3] = fl[2];
    slot[4] = &l->qkv;      fl[4] = (uint64_t)l->n_batch * (uint64_t)(q_dim + 2 * kv_dim);
    slot[5] = &l->att;      fl[5] = (uint64_t)l->n_batch * (uint64_t)(q_dim > c->n_embd ? q_dim : c->n_embd);
    slot[7] = &l->hb2;      fl[7] = (uint64_t)l->n_batch * (uint64_t)c->n_ff;
    slot[6] = &l->hb;       fl[6] = fl[7] * (m->hp.fused_up ? 2u : 1u);
    slot[8] = &l->scores;   fl[8] = (uint64_t)l->n_threads * (uint64_t)l->n_ctx;
    slot[9] = &l->rope;     fl[9] = (uint64_t)n_rope * (uint64_t)l->n_batch * (uint64_t)hd;
    slot[10] = &l->inv_freq; fl[10] = 2 * ((uint64_t)hd / 2 + 1);
    slot[11] = &l->hidden;  fl[11] = fl[2];
    slot[12] = &l->logits;  fl[12] = (uint64_t)l->n_batch * (uint64_t)c->n_vocab;
    slot[13] = &l->probs;   fl[13] = (uint64_t)c->n_vocab;
    slot[14] = &l->order;   fl[14] = (uint64_t)c->n_vocab;
    slot[15] = &l->hist;    fl[15] = (uint64_t)l->n_ctx;
    slot[16] = &l->hist_tmp; fl[16] = (uint64_t)l->n_ctx;
    slot[17] = &l->dist;    fl[17] = (uint64_t)c->n_vocab;
    slot[18] = &l->dists;   fl[18] = (uint64_t)(l->n_draft + 1) * (uint64_t)c->n_vocab;
    slot[19] = &l->guess;   fl[19] = (uint64_t)l->n_draft + 1;
    slot[20] = &l->qkind;   fl[20] = (uint64_t)l->n_draft + 1;
    slot[21] = &l->feed;    fl[21] = (uint64_t)l->n_batch;
    slot[22] = &l->next_tok; fl[22] = (uint64_t)c->n_vocab;
    l->act = 0;
#if ARTR__QACT
    act_w = (uint64_t)(c->n_embd > c->n_ff ? c->n_embd : c->n_ff);
    if ((uint64_t)q_dim > act_w) act_w = (uint64_t)q_dim;
    if (artr__model_has_qweights(m)) l->act = (uint64_t)l->n_batch * act_w;
#else
    (void)act_w;
#endif
    slot[23] = &l->xq;      fl[23] = (l->act + 3) / 4;     /* bytes, in 4-byte units */
    slot[24] = &l->xd;      fl[24] = l->act / ARTR__QK + 1;
    l->ctx = 0;
    at = artr__align_up(sizeof(artr_ctx), 64);
    for (i = 0; i < 25; i++) { /* every slot holds 4-byte elements */
        *slot[i] = (size_t)at;
        if (!artr__mul_ok(fl[i], 4, &end) || !artr__add_ok(at, end, &end) || end > SIZE_MAX - 256)
            return ARTR__FAIL(err, ARTR_E_NOMEM, "a context with n_ctx %d, n_batch %d needs more than the address space",
                              l->n_ctx, l->n_batch);
        at = artr__align_up(end, 64);
    }
    l->total = (size_t)at + 63;
    return ARTR_OK;
}

static void artr__longrope_switch(artr_ctx *c, int to_long);

/* Whether layer l is a sliding-window layer (Gemma 3: all but every swa_period-th). */
static int artr__layer_swa(const artr_model *m, int l)
{
    int p = m->hp.swa_period;
    return m->hp.swa_window > 0 && (p == 0 || l % p < p - 1); /* llama.cpp's set_swa_pattern */
}

/* Rotation frequencies theta^(-2i/hd), divided by the file's per-dimension factors where
   it has them (llama.cpp divides the frequencies by rope_freqs, as transformers' llama3
   rope does), times the linear scale. Table 1: the sliding-window layers' own base with
   no factors or scaling (Gemma 3), or Phi-3's long LongRoPE factors (table 0 the short). */
static void artr__rope_init(artr_ctx *c)
{
    const artr_model *m = c->m;
    const artr__hparams *hp = &m->hp;
    int half = c->head_dim / 2, phi3 = m->cfg.arch == ARTR_ARCH_PHI3, r, i;
    c->rope_mscale = hp->rope_mscale > 0 ? hp->rope_mscale : 1.0f;
    for (r = 0; r < 2; r++) {
        float *inv = c->inv_freq + (size_t)r * (size_t)(half + 1);
        int swa = r == 1 && hp->swa_window > 0;
        const float *ff = phi3 ? (r ? hp->rope_freqs : hp->rope_freqs_short) : (r ? NULL : hp->rope_freqs);
        float theta = swa ? hp->rope_theta_swa : m->cfg.rope_theta;
        for (i = 0; i < half; i++) {
            float f = (float)(1.0 / pow((double)theta, 2.0 * i / c->head_dim));
            if (ff) f /= ff[i];
            if (!swa) f *= hp->rope_freq_scale;
            inv[i] = f;
        }
    }
}

/* The frequencies of rope table r now: Phi-3's LongRoPE uses the long factors once the
   sequence is longer than the original context (artr__forward_run). */
static const float *artr__rope_freqs_at(const artr_ctx *c, int r)
{
    if (c->m->hp.rope_freqs_short && c->rope_long) r = 1;
    return c->inv_freq + (size_t)r * (size_t)(c->head_dim / 2 + 1);
}

ARTRDEF artr_status artr_ctx_bytes(const artr_model *m, const artr_ctx_params *p, size_t *bytes,
                                   artr_error *err)
{
    artr__ctx_layout l;
    artr_status st;
    if (!m || !bytes) return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_bytes: NULL model or bytes");
    if ((st = artr__ctx_layout_for(m, p, &l, err)) != ARTR_OK) return st;
    *bytes = l.total;
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_ctx_create(artr_ctx **out, const artr_model *m, const artr_ctx_params *p,
                                    artr_error *err)
{
    artr__ctx_layout l;
    unsigned char *base, *block = NULL;
    artr_ctx *c;
    artr_status st;
    int i;
    if (!out) return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_create: NULL out");
    *out = NULL;
    if (!m) return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_create: NULL model");
    if ((st = artr__ctx_layout_for(m, p, &l, err)) != ARTR_OK) return st;
    if (p && p->mem) {
        if (p->mem_size < l.total)
            return ARTR__FAIL(err, ARTR_E_NOMEM, "artr_ctx_params.mem_size is %zu bytes, the context needs %zu (artr_ctx_bytes)",
                              p->mem_size, l.total);
        base = (unsigned char *)p->mem;
    } else {
        block = (unsigned char *)artr__alloc(l.total);
        if (!block)
            return ARTR__FAIL(err, ARTR_E_NOMEM, "cannot allocate %zu bytes for a context (n_ctx %d); pass artr_ctx_params.mem or a smaller n_ctx",
                              l.total, l.n_ctx);
        base = block;
    }
    base += (64 - (uintptr_t)base % 64) % 64;
    c = (artr_ctx *)(void *)base;
    memset(c, 0, sizeof *c);
    c->m = m;
    c->block = block;
    c->n_ctx = l.n_ctx;
    c->n_batch = l.n_batch;
    c->n_threads = l.n_threads;
    c->n_sink = p ? p->n_sink : 0;
    c->n_layers = l.n_layers;
    c->n_draft = l.n_draft;
    c->pending = -1;
    c->bounded = c->n_sink > 0 || (p && p->bounded);
    c->partial_from = INT32_MAX;
    c->head_dim = m->cfg.head_dim;
    c->kv_dim = m->hp.kv_dim;
    c->q_dim = m->hp.q_dim;
    c->qkv_ld = c->q_dim + 2 * c->kv_dim;
    c->ld_hb = m->cfg.n_ff * (m->hp.fused_up ? 2 : 1);
    c->n_rope = m->hp.swa_window > 0 ? 2 : 1;
    c->kv_type = l.kv_type;
    c->kv_es = l.kv_type == ARTR_TYPE_F16 ? 2 : 4;
    c->swa_rows = l.swa_rows;
    c->k_cache = base + l.k_cache;
    c->v_cache = base + l.v_cache;
#define ARTR__CARVE(F) c->F = (float *)(void *)(base + l.F)
    ARTR__CARVE(x); ARTR__CARVE(xb);
    ARTR__CARVE(qkv); ARTR__CARVE(att); ARTR__CARVE(hb); ARTR__CARVE(hb2);
    ARTR__CARVE(scores); ARTR__CARVE(rope); ARTR__CARVE(inv_freq); ARTR__CARVE(hidden);
    ARTR__CARVE(logits); ARTR__CARVE(probs); ARTR__CARVE(dist); ARTR__CARVE(dists);
#undef ARTR__CARVE
    c->order = (uint32_t *)(void *)(base + l.order);
    c->hist = (int32_t *)(void *)(base + l.hist);
    c->hist_tmp = (int32_t *)(void *)(base + l.hist_tmp);
    c->guess = (int32_t *)(void *)(base + l.guess);
    c->qkind = (int32_t *)(void *)(base + l.qkind);
    c->feed = (int32_t *)(void *)(base + l.feed);
    c->next_tok = (int32_t *)(void *)(base + l.next_tok);
    c->xq = l.act ? (int8_t *)(void *)(base + l.xq) : NULL;
    c->xd = l.act ? (float *)(void *)(base + l.xd) : NULL;
    for (i = 0; i < m->cfg.n_vocab; i++) c->next_tok[i] = -1;
    artr__rope_init(c);
    /* a bounded cache: llama.cpp's LongRoPE rule, the long factors when n_ctx exceeds the original */
    c->rope_long = c->bounded && m->hp.rope_freqs_short && c->n_ctx > m->hp.n_ctx_orig;
    *out = c;
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF void artr_ctx_free(artr_ctx *c)
{
    if (c) artr__free(c->block);
}

ARTRDEF int artr_ctx_pos(const artr_ctx *c)
{
    return c ? c->n_past + (c->pending >= 0) : -1;
}

ARTRDEF void artr_ctx_stats(const artr_ctx *c, artr_stats *st)
{
    if (!st) return;
    if (c) *st = c->stats;
    else memset(st, 0, sizeof *st);
}

ARTRDEF const artr_model *artr_ctx_model(const artr_ctx *c)
{
    return c ? c->m : NULL;
}

ARTRDEF artr_status artr_ctx_truncate(artr_ctx *c, int n_pos, artr_error *err)
{
    int drop;
    if (!c) return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_truncate: NULL context");
    if (n_pos < 0 || n_pos > artr_ctx_pos(c))
        return ARTR__FAIL(err, ARTR_E_ARG, "truncate to %d: the context holds positions 0..%d", n_pos, artr_ctx_pos(c));
    c->n_guess = 0;
    if (n_pos == artr_ctx_pos(c)) {
        artr__ok(err);
        return ARTR_OK; /* nothing to forget (a pending token stays pending) */
    }
    c->pending = -1;
    drop = c->n_past - n_pos;
    if (c->n_past > c->n_kv && drop > c->n_kv - c->n_sink)
        return ARTR__FAIL(err, ARTR_E_ARG, "truncate to %d: positions before %d were evicted from the bounded cache",
                          n_pos, c->n_past - (c->n_kv - c->n_sink));
    /* a sliding-window ring holds the last swa_rows positions; the window before n_pos must
       still be there (dropping up to n_batch positions always works) */
    if (c->swa_rows && n_pos > 0 && n_pos - c->m->hp.swa_window + 1 < c->n_kv - c->swa_rows &&
        c->n_kv > c->swa_rows)
        return ARTR__FAIL(err, ARTR_E_ARG, "truncate to %d: the sliding-window layers keep only positions from %d (window %d + n_batch %d - 1)",
                          n_pos, c->n_kv - c->swa_rows, c->m->hp.swa_window, c->n_batch);
    c->n_kv -= drop;
    c->n_past = n_pos;
    if (c->rope_long && !c->bounded && c->n_kv <= c->m->hp.n_ctx_orig) artr__longrope_switch(c, 0);
    if (n_pos <= c->partial_from) c->partial_from = INT32_MAX;
    c->n_rows = 0;
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_ctx_copy(artr_ctx *dst, const artr_ctx *src, artr_error *err)
{
    const artr_config *cfg;
    size_t row, rows_bytes;
    int l;
    if (!dst || !src) return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_copy: NULL context");
    if (dst == src) return ARTR_OK;
    if (dst->m != src->m || dst->n_ctx != src->n_ctx || dst->n_batch != src->n_batch ||
        dst->n_sink != src->n_sink || dst->bounded != src->bounded || dst->n_layers != src->n_layers ||
        dst->n_draft != src->n_draft || dst->kv_type != src->kv_type)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_copy: contexts differ in model, n_ctx, n_batch, n_sink, n_layers, n_draft or kv_type");
    cfg = &src->m->cfg;
    row = (size_t)src->kv_dim * src->kv_es;
    rows_bytes = (size_t)src->n_kv * row;
    for (l = 0; l < src->n_layers; l++) {
        size_t off = (size_t)artr__kv_rows_before(src->m, src->n_ctx, src->swa_rows, l) * row;
        size_t n = src->swa_rows && artr__layer_swa(src->m, l) ? (size_t)src->swa_rows * row : rows_bytes;
        memcpy(dst->k_cache + off, src->k_cache + off, n);
        memcpy(dst->v_cache + off, src->v_cache + off, n);
    }
    memcpy(dst->hidden, src->hidden, (size_t)src->n_rows * (size_t)cfg->n_embd * sizeof(float));
    memcpy(dst->logits, src->logits, (size_t)src->n_rows * (size_t)cfg->n_vocab * sizeof(float));
    memcpy(dst->hist, src->hist, (size_t)src->n_ctx * sizeof(int32_t));
    dst->n_past = src->n_past;
    dst->n_kv = src->n_kv;
    dst->partial_from = src->partial_from;
    dst->partial_layers = src->partial_layers;
    dst->n_rows = src->n_rows;
    dst->row_pos0 = src->row_pos0;
    dst->pending = src->pending;
    dst->n_guess = src->n_guess;
    dst->rope_long = src->rope_long;
    memcpy(dst->guess, src->guess, (size_t)(src->n_draft + 1) * sizeof(int32_t));
    memcpy(dst->qkind, src->qkind, (size_t)(src->n_draft + 1) * sizeof(int32_t));
    memcpy(dst->dists, src->dists, (size_t)src->n_guess * (size_t)cfg->n_vocab * sizeof(float));
    memcpy(dst->next_tok, src->next_tok, (size_t)cfg->n_vocab * sizeof(int32_t));
    artr__ok(err);
    return ARTR_OK;
}

/* Cache row of position `pos` of layer l in cache (k_cache or v_cache). */
static unsigned char *artr__kv_row(const artr_ctx *c, unsigned char *cache, int l, int pos)
{
    size_t slot = c->swa_rows && artr__layer_swa(c->m, l) ? (size_t)(pos % c->swa_rows) : (size_t)pos;
    return cache + ((size_t)artr__kv_rows_before(c->m, c->n_ctx, c->swa_rows, l) + slot) * (size_t)c->kv_dim * c->kv_es;
}

/* n floats into a cache row (rounded to half for an F16 cache: the writer artr_quantize_f32
   uses, which cannot fail for these types), and back. */
static void artr__kv_store(const artr_ctx *c, unsigned char *dst, const float *src, int n)
{
    artr_quantize_f32(c->kv_type, src, n, dst, (size_t)n * c->kv_es, NULL);
}

static void artr__kv_load(const artr_ctx *c, float *dst, const unsigned char *src, int n)
{
    int i;
    if (c->kv_type == ARTR_TYPE_F16) {
        const uint16_t *h = (const uint16_t *)(const void *)src;
        for (i = 0; i < n; i++) dst[i] = artr__f16_to_f32(h[i]);
    } else {
        memcpy(dst, src, (size_t)n * sizeof(float));
    }
}

/* Make room in a bounded cache for n more positions: drop a chunk of the oldest
   non-sink positions (at least 1/8 of the window, so the memmove is amortised) and
   shift the rest down. As in StreamingLLM (Xiao et al. 2023), positions are slots in the
   cache, so the moved keys are rotated back by the shift: attention distances stay
   within what the model was trained on, and the sinks keep their slots. */
static void artr__ctx_evict(artr_ctx *c, int n)
{
    const artr_config *cfg = &c->m->cfg;
    int window = c->n_kv - c->n_sink, d = c->n_kv + n - c->n_ctx, chunk = (c->n_ctx - c->n_sink) / 8, l, j, i;
    int half = c->head_dim / 2, neox = c->m->hp.neox;
    if (d < chunk) d = chunk;
    if (d > window) d = window;
    if (d <= 0) return;
    for (l = 0; l < c->n_layers; l++) {
        unsigned char *k = artr__kv_row(c, c->k_cache, l, 0), *v = artr__kv_row(c, c->v_cache, l, 0);
        size_t row = (size_t)c->kv_dim * c->kv_es;
        size_t from = (size_t)(c->n_sink + d) * row, to = (size_t)c->n_sink * row;
        size_t count = (size_t)(window - d) * row;
        memmove(k + to, k + from, count);
        memmove(v + to, v + from, count);
        if (cfg->arch == ARTR_ARCH_GPT2) continue; /* learned positions: nothing to rotate */
        for (j = 0; j < half; j++) {               /* rotate by -d: cos(-a), sin(-a) */
            float a = (float)d * artr__rope_freqs_at(c, artr__layer_swa(c->m, l))[j];
            c->rope[j] = cosf(a);
            c->rope[half + j] = -sinf(a);
        }
        for (i = c->n_sink; i < c->n_sink + window - d; i++) { /* att is free here */
            unsigned char *kr = k + (size_t)i * row;
            artr__kv_load(c, c->att, kr, c->kv_dim);
            artr__rope(c->att, cfg->n_head_kv, c->head_dim, c->rope, neox);
            artr__kv_store(c, kr, c->att, c->kv_dim);
        }
    }
    c->n_kv -= d;
}

/* Check everything about a call before anything changes. */
static artr_status artr__forward_check(const artr_ctx *c, const artr_batch *b, int *n_layers,
                                       artr_error *err)
{
    const artr_config *cfg;
    int i;
    if (!c || !b) return ARTR__FAIL(err, ARTR_E_ARG, "artr_forward: NULL context or batch");
    cfg = &c->m->cfg;
    if (b->n <= 0 || b->n > c->n_batch)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_forward: n = %d, expected 1..n_batch (%d)", b->n, c->n_batch);
    if (!b->tokens == !b->embd)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_forward: give exactly one of tokens and embd");
    if (b->logits < ARTR_LOGITS_LAST || b->logits > ARTR_LOGITS_NONE)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_forward: logits = %d, expected ARTR_LOGITS_LAST, _ALL or _NONE", b->logits);
    if (b->n_layers < 0 || b->n_layers > c->n_layers)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_forward: n_layers = %d, the context runs %d", b->n_layers, c->n_layers);
    *n_layers = b->n_layers ? b->n_layers : c->n_layers;
    if (c->partial_from < c->n_past && *n_layers > c->partial_layers)
        return ARTR__FAIL(err, ARTR_E_ARG, "positions from %d on ran only %d layers (early exit): truncate to %d before a deeper forward",
                          c->partial_from, c->partial_layers, c->partial_from);
    if (b->tokens)
        for (i = 0; i < b->n; i++)
            if (b->tokens[i] < 0 || b->tokens[i] >= cfg->n_vocab)
                return ARTR__FAIL(err, ARTR_E_ARG, "artr_forward: token %d is id %d, outside the vocabulary (0..%d)",
                                  i, (int)b->tokens[i], cfg->n_vocab - 1);
    if (!c->bounded && c->n_kv + b->n + (c->pending >= 0) > c->n_ctx)
        return ARTR__FAIL(err, ARTR_E_FULL, "context full: %d positions held, %d more do not fit in n_ctx %d",
                          c->n_kv + (c->pending >= 0), b->n, c->n_ctx);
    if (c->pending >= 0 && b->n + 1 > c->n_batch)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_forward: n = %d, expected 1..%d (n_batch %d less the token the last decoding step left to feed)",
                          b->n, c->n_batch - 1, c->n_batch);
    if (c->n_past > INT32_MAX - b->n)
        return ARTR__FAIL(err, ARTR_E_FULL, "position counter would overflow");
    return ARTR_OK;
}

/* Token embeddings (or the caller's vectors) into x, plus GPT-2's learned positions. */
static void artr__embed(artr_ctx *c, const artr_batch *b, int pos0)
{
    const artr_model *m = c->m;
    int E = m->cfg.n_embd, t;
    for (t = 0; t < b->n; t++) {
        float *x = c->x + (size_t)t * (size_t)E;
        if (b->tokens) {
            const artr_tensor *te = m->tok_embd;
            artr_tensor_to_f32(te, (int64_t)b->tokens[t] * E, E, x, NULL);
            if (m->hp.embd_scale > 0) { /* Gemma: token embeddings only, not the caller's vectors */
                int i;
                for (i = 0; i < E; i++) x[i] *= m->hp.embd_scale;
            }
        } else {
            memcpy(x, b->embd + (size_t)t * (size_t)E, (size_t)E * sizeof(float));
        }
        if (m->pos_embd) { /* xb is free until the first layer: the position's row */
            float *pe = c->xb + (size_t)t * (size_t)E;
            artr_tensor_to_f32(m->pos_embd, (int64_t)(pos0 + t) * E, E, pe, NULL);
            artr__add(x, pe, E);
        }
    }
}

/* Attention of n new positions (cache slots pos0 ..) over the cache, causal inside the
   batch. One (token, head) pair per task; each thread has its own row of scores. */
static void artr__attention(artr_ctx *c, int l, int n, int pos0)
{
    const artr_config *cfg = &c->m->cfg;
    int hd = c->head_dim, group = cfg->n_head / cfg->n_head_kv, task;
    int window = artr__layer_swa(c->m, l) ? c->m->hp.swa_window : 0;
    int ring = window > 0 && c->swa_rows ? c->swa_rows : INT32_MAX; /* row of position j: j % ring */
    const unsigned char *kc = artr__kv_row(c, c->k_cache, l, 0), *vc = artr__kv_row(c, c->v_cache, l, 0);
    size_t row = (size_t)c->kv_dim * c->kv_es, head = (size_t)hd * c->kv_es;
    artr__dot_fn dot = artr__dot_for(c->kv_type);
    artr__axpy_fn axpy = artr__axpy_for(c->kv_type);
    float scale = c->m->hp.attn_scale;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(c->n_threads) \
    if (c->n_threads > 1 && (int64_t)n * cfg->n_head * (pos0 + n) * hd >= ARTR_OMP_MIN_WORK)
#endif
    for (task = 0; task < n * cfg->n_head; task++) {
        int t = task / cfg->n_head, h = task % cfg->n_head, g = h / group, len = pos0 + t + 1, j, i;
        int j0 = window > 0 && len > window ? len - window : 0; /* sliding window: the last `window` */
        const float *q = c->qkv + (size_t)t * (size_t)c->qkv_ld + (size_t)h * (size_t)hd;
        float *out = c->att + (size_t)t * (size_t)c->q_dim + (size_t)h * (size_t)hd;
#ifdef _OPENMP
        float *s = c->scores + (size_t)omp_get_thread_num() * (size_t)c->n_ctx;
#else
        float *s = c->scores;
#endif
        for (j = j0; j < len; j++) s[j] = dot(kc + (size_t)(j % ring) * row + (size_t)g * head, q, hd) * scale;
        artr__softmax_into(s + j0, s + j0, len - j0);
        for (i = 0; i < hd; i++) out[i] = 0;
        for (j = j0; j < len; j++) axpy(out, s[j], vc + (size_t)(j % ring) * row + (size_t)g * head, hd);
    }
}

/* One transformer block over n positions: attention, then the feed-forward network.
   The architecture's switches (m->hp): fused or separate Q/K/V, biases, per-head QK
   RMSNorm before rope (Qwen3, Gemma 3), the rope table of a sliding-window layer, norms
   after attention and after the FFN before each residual add (Gemma 3), SwiGLU or GeGLU
   over separate or fused (Phi-3) gate and up. */
static void artr__layer_forward(artr_ctx *c, int l, int n, int pos0)
{
    const artr_model *m = c->m;
    const artr_config *cfg = &m->cfg;
    const artr__hparams *hp = &m->hp;
    const artr__layer *w = &m->layers[l];
    int E = cfg->n_embd, Q = c->q_dim, KV = c->kv_dim, F = cfg->n_ff, ld = c->qkv_ld, nt = c->n_threads, t;
    int hd = c->head_dim, ldh = c->ld_hb, gpt2 = cfg->arch == ARTR_ARCH_GPT2, neox = hp->neox;
    const float *rope = c->rope + (size_t)artr__layer_swa(m, l) * (size_t)c->n_batch * (size_t)hd;

    for (t = 0; t < n; t++) {
        const float *x = c->x + (size_t)t * (size_t)E;
        float *xb = c->xb + (size_t)t * (size_t)E;
        if (gpt2) artr__layernorm(xb, x, (const float *)w->attn_norm->data, (const float *)w->attn_norm_b->data, E, cfg->norm_eps);
        else artr__rmsnorm(xb, x, (const float *)w->attn_norm->data, E, cfg->norm_eps);
    }
    if (w->wqkv) {
        artr__matmul(w->wqkv, c->xb, E, n, c->qkv, ld, nt, c->xq, c->xd);
    } else {
        artr__matmul(w->wq, c->xb, E, n, c->qkv, ld, nt, c->xq, c->xd);
        artr__matmul(w->wk, c->xb, E, n, c->qkv + Q, ld, nt, c->xq, c->xd);
        artr__matmul(w->wv, c->xb, E, n, c->qkv + Q + KV, ld, nt, c->xq, c->xd);
    }
    for (t = 0; t < n; t++) {
        float *q = c->qkv + (size_t)t * (size_t)ld;
        if (w->bqkv) artr__add(q, (const float *)w->bqkv->data, Q + 2 * KV);
        if (w->bq) {
            artr__add(q, (const float *)w->bq->data, Q);
            artr__add(q + Q, (const float *)w->bk->data, KV);
            artr__add(q + Q + KV, (const float *)w->bv->data, KV);
        }
        if (w->q_norm) {
            artr__head_rmsnorm(q, cfg->n_head, hd, (const float *)w->q_norm->data, cfg->norm_eps);
            artr__head_rmsnorm(q + Q, cfg->n_head_kv, hd, (const float *)w->k_norm->data, cfg->norm_eps);
        }
        if (!gpt2) {
            artr__rope(q, cfg->n_head, hd, rope + (size_t)t * (size_t)hd, neox);
            artr__rope(q + Q, cfg->n_head_kv, hd, rope + (size_t)t * (size_t)hd, neox);
        }
        artr__kv_store(c, artr__kv_row(c, c->k_cache, l, pos0 + t), q + Q, KV);
        artr__kv_store(c, artr__kv_row(c, c->v_cache, l, pos0 + t), q + Q + KV, KV);
    }
    artr__attention(c, l, n, pos0);
    artr__matmul(w->wo, c->att, Q, n, c->xb, E, nt, c->xq, c->xd);
    for (t = 0; t < n; t++) {
        float *x = c->x + (size_t)t * (size_t)E, *xb = c->xb + (size_t)t * (size_t)E;
        if (w->bo) artr__add(xb, (const float *)w->bo->data, E);
        if (w->attn_post_norm) artr__rmsnorm_self(xb, (const float *)w->attn_post_norm->data, E, cfg->norm_eps);
        artr__add(x, xb, E);
        if (gpt2) artr__layernorm(xb, x, (const float *)w->ffn_norm->data, (const float *)w->ffn_norm_b->data, E, cfg->norm_eps);
        else artr__rmsnorm(xb, x, (const float *)w->ffn_norm->data, E, cfg->norm_eps);
    }
    if (gpt2) {
        artr__matmul(w->w_up, c->xb, E, n, c->hb2, F, nt, c->xq, c->xd);
        for (t = 0; t < n; t++) {
            float *h = c->hb2 + (size_t)t * (size_t)F;
            artr__add(h, (const float *)w->b_up->data, F);
            artr__gelu(h, F);
        }
        artr__matmul(w->w_down, c->hb2, F, n, c->xb, E, nt, c->xq, c->xd);
    } else if (hp->fused_up) { /* ffn_up rows: gate then up (Phi-3's gate_up_proj) */
        artr__matmul(w->w_up, c->xb, E, n, c->hb, ldh, nt, c->xq, c->xd);
        for (t = 0; t < n; t++) artr__swiglu(c->hb + (size_t)t * (size_t)ldh, c->hb + (size_t)t * (size_t)ldh + F, F);
        artr__matmul(w->w_down, c->hb, ldh, n, c->xb, E, nt, c->xq, c->xd);
    } else {
        artr__matmul(w->w_up, c->xb, E, n, c->hb2, F, nt, c->xq, c->xd);
        artr__matmul(w->w_gate, c->xb, E, n, c->hb, ldh, nt, c->xq, c->xd);
        for (t = 0; t < n; t++) {
            float *g = c->hb + (size_t)t * (size_t)ldh, *u = c->hb2 + (size_t)t * (size_t)F;
            if (hp->geglu) artr__geglu(g, u, F);
            else artr__swiglu(g, u, F);
        }
        artr__matmul(w->w_down, c->hb, ldh, n, c->xb, E, nt, c->xq, c->xd);
    }
    for (t = 0; t < n; t++) {
        float *xb = c->xb + (size_t)t * (size_t)E;
        if (w->b_down) artr__add(xb, (const float *)w->b_down->data, E);
        if (w->ffn_post_norm) artr__rmsnorm_self(xb, (const float *)w->ffn_post_norm->data, E, cfg->norm_eps);
        artr__add(c->x + (size_t)t * (size_t)E, xb, E);
    }
}

/* A validated call: it cannot fail. */
static void artr__forward_part(artr_ctx *c, const artr_batch *b, int n_layers, int row_off);

/* Phi-3 LongRoPE: switch the cache to the other factor set by replaying its positions
   from the token history, as transformers' generate() recomputes the sequence when it
   drops its cache at the switch: rope changes every layer's input, so re-rotating the
   keys would not do. A cache holding caller embeddings cannot be replayed and keeps its
   factors. The last call's kept rows stay. */
static void artr__longrope_switch(artr_ctx *c, int to_long)
{
    int n = c->n_kv, rows = c->n_rows, pos0 = c->row_pos0, i;
    artr_batch rb;
    for (i = 0; i < n; i++)
        if (c->hist[i] < 0) return;
    c->rope_long = to_long;
    c->n_kv = 0;
    c->n_past = 0;
    memset(&rb, 0, sizeof rb);
    rb.logits = ARTR_LOGITS_NONE;
    for (i = 0; i < n; i += rb.n) {
        rb.n = n - i < c->n_batch ? n - i : c->n_batch;
        rb.tokens = c->hist + i; /* rewritten in place with the same ids */
        artr__forward_part(c, &rb, c->n_layers, 0);
    }
    c->n_rows = rows;
    c->row_pos0 = pos0;
}

/* A validated call, its rows kept from row_off on (for a call split in two below). */
static void artr__forward_part(artr_ctx *c, const artr_batch *b, int n_layers, int row_off)
{
    const artr_model *m = c->m;
    const artr_config *cfg = &m->cfg;
    int pos0, l, t, first, E = cfg->n_embd;
    if (c->bounded && c->n_kv + b->n > c->n_ctx) artr__ctx_evict(c, b->n);
    pos0 = c->n_kv;
    for (t = 0; t < b->n && cfg->arch != ARTR_ARCH_GPT2; t++) {
        int j, r, half = c->head_dim / 2;
        for (r = 0; r < c->n_rope; r++) {
            float *cs = c->rope + ((size_t)r * (size_t)c->n_batch + (size_t)t) * (size_t)c->head_dim;
            const float *inv = artr__rope_freqs_at(c, r);
            for (j = 0; j < half; j++) {
                float a = (float)(pos0 + t) * inv[j];
                cs[j] = cosf(a);
                cs[half + j] = sinf(a);
                if (c->rope_mscale != 1.0f) {
                    cs[j] *= c->rope_mscale;
                    cs[half + j] *= c->rope_mscale;
                }
            }
        }
    }
    artr__embed(c, b, pos0);
    for (l = 0; l < n_layers; l++) artr__layer_forward(c, l, b->n, pos0);
    /* the kept rows: final norm, then the output head */
    first = b->logits == ARTR_LOGITS_ALL ? 0 : b->n - 1;
    c->n_rows = b->logits == ARTR_LOGITS_NONE ? 0 : b->n - first;
    for (t = 0; t < c->n_rows; t++) {
        const float *x = c->x + (size_t)(first + t) * (size_t)E;
        float *h = c->hidden + (size_t)(row_off + t) * (size_t)E;
        if (m->out_norm_b) artr__layernorm(h, x, (const float *)m->out_norm->data, (const float *)m->out_norm_b->data, E, cfg->norm_eps);
        else artr__rmsnorm(h, x, (const float *)m->out_norm->data, E, cfg->norm_eps);
    }
    if (c->n_rows)
        artr__matmul(m->output, c->hidden + (size_t)row_off * (size_t)E, E, c->n_rows,
                     c->logits + (size_t)row_off * (size_t)cfg->n_vocab, cfg->n_vocab, c->n_threads, c->xq, c->xd);
    if (m->hp.logit_softcap > 0) { /* Gemma: cap * tanh(logit / cap) */
        float cap = m->hp.logit_softcap, *lg = c->logits + (size_t)row_off * (size_t)cfg->n_vocab;
        size_t i, nl = (size_t)c->n_rows * (size_t)cfg->n_vocab;
        for (i = 0; i < nl; i++) lg[i] = cap * tanhf(lg[i] / cap);
    }
    c->n_rows += c->n_rows ? row_off : 0;
    c->row_pos0 = c->n_past + first - row_off;
    if (n_layers < c->n_layers) {
        if (c->partial_from > c->n_past) {
            c->partial_from = c->n_past;
            c->partial_layers = n_layers;
        } else if (n_layers < c->partial_layers) {
            c->partial_layers = n_layers;
        }
    }
    for (t = 0; t < b->n; t++) c->hist[(c->n_past + t) % c->n_ctx] = b->tokens ? b->tokens[t] : -1;
    c->n_kv += b->n;
    c->n_past += b->n;
}

/* A validated call: it cannot fail. Phi-3 with LongRoPE computes what transformers'
   generate() (and Microsoft's modeling_phi3.py) computes: the logits after a sequence of
   length L come from every position rotated with the long factors when L exceeds the
   original context, else with the short ones (generate drops its cache and recomputes
   the sequence at the switch; so does artr__longrope_switch). A call that crosses the
   line runs as two parts. A bounded cache keeps llama.cpp's rule, fixed at creation. */
static void artr__forward_run(artr_ctx *c, const artr_batch *b, int n_layers)
{
    const artr__hparams *hp = &c->m->hp;
    int orig = hp->n_ctx_orig, k = orig - c->n_kv;
    if (hp->rope_freqs_short && !c->bounded && !c->rope_long && c->n_kv + b->n > orig) {
        if (k > 0) {
            artr_batch b1 = *b, b2 = *b;
            b1.n = k;
            b1.logits = b->logits == ARTR_LOGITS_ALL ? ARTR_LOGITS_ALL : ARTR_LOGITS_NONE;
            artr__forward_part(c, &b1, n_layers, 0);
            artr__longrope_switch(c, 1);
            b2.n = b->n - k;
            if (b2.tokens) b2.tokens += k;
            else b2.embd += (size_t)k * (size_t)c->m->cfg.n_embd;
            artr__forward_part(c, &b2, n_layers, b->logits == ARTR_LOGITS_ALL ? k : 0);
            return;
        }
        artr__longrope_switch(c, 1);
    }
    artr__forward_part(c, b, n_layers, 0);
}

/* Feed a token a decoding step left pending (validated by the caller's check). */
static void artr__feed_pending(artr_ctx *c)
{
    artr_batch pb;
    if (c->pending < 0) return;
    memset(&pb, 0, sizeof pb);
    pb.tokens = &c->pending;
    pb.n = 1;
    pb.logits = ARTR_LOGITS_NONE;
    artr__forward_run(c, &pb, c->n_layers);
    c->pending = -1;
}

ARTRDEF artr_status artr_forward_batch(artr_ctx *c, const artr_batch *b, artr_error *err)
{
    int n_layers = 0;
    artr_status st = artr__forward_check(c, b, &n_layers, err);
    if (st != ARTR_OK) return st;
    artr__feed_pending(c);
    c->n_guess = 0;
    artr__forward_run(c, b, n_layers);
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_forward(artr_ctx *c, const int32_t *tokens, int n, artr_error *err)
{
    artr_batch b;
    memset(&b, 0, sizeof b);
    b.tokens = tokens;
    b.n = n;
    if (!tokens) return ARTR__FAIL(err, ARTR_E_ARG, "artr_forward: NULL tokens");
    return artr_forward_batch(c, &b, err);
}

static int artr__row(const artr_ctx *c, int i)
{
    if (!c) return -1;
    if (i < 0) i += c->n_rows;
    return i >= 0 && i < c->n_rows ? i : -1;
}

ARTRDEF const float *artr_logits(const artr_ctx *c, int i)
{
    int r = artr__row(c, i);
    return r < 0 ? NULL : c->logits + (size_t)r * (size_t)c->m->cfg.n_vocab;
}

ARTRDEF const float *artr_hidden(const artr_ctx *c, int i)
{
    int r = artr__row(c, i);
    return r < 0 ? NULL : c->hidden + (size_t)r * (size_t)c->m->cfg.n_embd;
}

/* ---- §7 sampling -------------------------------------------------------------------- */
/* The transforms work in place on one row of logits (c->probs) and end in a softmax.
   Sorting uses c->order; nothing is allocated. No loop's end depends on float values,
   so NaN or infinite logits cannot make one run long. */

ARTRDEF float artr_rng_uniform(uint64_t *state)
{
    /* SplitMix64 (Steele, Lea, Flood 2014): the state walks by the golden gamma */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

static int artr__u32_less(const void *ctx, uint32_t a, uint32_t b)
{
    (void)ctx;
    return a < b;
}

/* Sort order for artr__heapsort: larger logits first, equal logits by id. */
static int artr__logit_greater(const void *ctx, uint32_t a, uint32_t b)
{
    const float *l = (const float *)ctx;
    return l[a] > l[b] || (l[a] == l[b] && a < b);
}


/* Penalties over the last n ids of the history (CTRL's repetition penalty; OpenAI-style
   frequency and presence penalties), each distinct token once. */
static void artr__penalize(float *l, int n_vocab, const artr_sampler *s, int32_t *ids, int n)
{
    int i = 0, j, k;
    artr__heapsort((uint32_t *)(void *)ids, (size_t)n, artr__u32_less, NULL);
    while (i < n) {
        int32_t tok = ids[i];
        for (j = i; j < n && ids[j] == tok; j++) {}
        k = j - i;
        if (tok >= 0 && tok < n_vocab && l[tok] != -INFINITY) {
            float v = l[tok];
            if (s->repeat_penalty > 0 && s->repeat_penalty != 1.0f)
                v = v < 0 ? v * s->repeat_penalty : v / s->repeat_penalty;
            v -= (float)k * s->frequency_penalty + (k > 0 ? s->presence_penalty : 0.0f);
            l[tok] = v;
        }
        i = j;
    }
}

/* top-k: keep logits >= the k-th largest (as transformers' TopKLogitsWarper). */
static void artr__top_k(float *l, uint32_t *order, int n, int k)
{
    float kth;
    int i;
    if (k <= 0 || k >= n) return;
    for (i = 0; i < n; i++) order[i] = (uint32_t)i;
    artr__heapsort(order, (size_t)n, artr__logit_greater, l);
    kth = l[order[k - 1]];
    for (i = 0; i < n; i++)
        if (l[i] < kth) l[i] = -INFINITY;
}

/* top-p: walking from the least likely token up, drop tokens while the probability
   mass so far is <= 1 - top_p; the likeliest token always stays. */
static void artr__top_p(float *l, float *p, uint32_t *order, int n, float top_p)
{
    float cum = 0;
    int i;
    if (!(top_p > 0 && top_p < 1)) return;
    for (i = 0; i < n; i++) order[i] = (uint32_t)i;
    artr__heapsort(order, (size_t)n, artr__logit_greater, l); /* largest first */
    artr__softmax_into(l, p, n);
    for (i = n - 1; i > 0; i--) {
        cum += p[order[i]];
        if (cum > 1.0f - top_p) break;
        l[order[i]] = -INFINITY;
    }
}

/* min-p: drop tokens with p < min_p * p_max. */
static void artr__min_p(float *l, float *p, int n, float min_p)
{
    float pmax = 0;
    int i;
    if (!(min_p > 0)) return;
    artr__softmax_into(l, p, n);
    for (i = 0; i < n; i++)
        if (p[i] > pmax) pmax = p[i];
    for (i = 0; i < n; i++)
        if (p[i] < min_p * pmax) l[i] = -INFINITY;
}

/* Every transform, in order, on one row: p (n_vocab) receives the distribution. work and
   order are n_vocab scratch; hist/n_hist the penalty window (sorted in place). */
static artr_status artr__probs(const float *logits, const float *uncond, int n_vocab,
                               const artr_sampler *s, int32_t *hist, int n_hist, float *p,
                               float *work, uint32_t *order, artr_error *err)
{
    int i, best = -1, any_pos_inf = 0;
    for (i = 0; i < n_vocab; i++) {
        float v = logits[i];
        if (uncond) v = uncond[i] + s->guidance_scale * (v - uncond[i]);
        work[i] = v != v ? -INFINITY : v; /* NaN (also from inf - inf) counts as -inf */
        if (work[i] == INFINITY) any_pos_inf = 1;
    }
    if (any_pos_inf) /* the +inf tokens share all the mass */
        for (i = 0; i < n_vocab; i++) work[i] = work[i] == INFINITY ? 0.0f : -INFINITY;
    for (i = 0; i < s->n_logit_bias; i++) {
        int32_t t = s->logit_bias[i].token;
        if (t < 0 || t >= n_vocab)
            return ARTR__FAIL(err, ARTR_E_ARG, "logit_bias[%d]: token %d outside the vocabulary", i, (int)t);
        work[t] += s->logit_bias[i].bias;
        if (work[t] != work[t]) work[t] = -INFINITY;
    }
    for (i = 0; i < s->n_banned; i++) {
        int32_t t = s->banned[i];
        if (t < 0 || t >= n_vocab)
            return ARTR__FAIL(err, ARTR_E_ARG, "banned[%d]: token %d outside the vocabulary", i, (int)t);
        work[t] = -INFINITY;
    }
    if (n_hist > 0) artr__penalize(work, n_vocab, s, hist, n_hist);
    for (i = 0; i < n_vocab; i++)
        if (work[i] != -INFINITY && (best < 0 || work[i] > work[best])) best = i;
    if (best < 0)
        return ARTR__FAIL(err, ARTR_E_ARG, "no token can be drawn: every logit is -inf or NaN after the sampler's transforms");
    if (!(s->temperature > 0)) { /* greedy */
        for (i = 0; i < n_vocab; i++) p[i] = 0;
        p[best] = 1;
        return ARTR_OK;
    }
    artr__top_k(work, order, n_vocab, s->top_k);
    artr__top_p(work, p, order, n_vocab, s->top_p);
    artr__min_p(work, p, n_vocab, s->min_p);
    for (i = 0; i < n_vocab; i++) work[i] /= s->temperature;
    artr__softmax_into(work, p, n_vocab);
    return ARTR_OK;
}

/* The penalty window: the last n ids of c's history, copied into c->hist_tmp. */
/* The penalty window for kept row r: the ids up to and including that row's token (so
   a row of a verification call sees the same history as a single-token call would). */
static int artr__penalty_window(artr_ctx *c, const artr_sampler *s, int r)
{
    int n = s->repeat_last_n == 0 ? 64 : s->repeat_last_n < 0 ? c->n_ctx : s->repeat_last_n, i;
    int end = c->row_pos0 + r + 1; /* positions < end */
    int penalties = (s->repeat_penalty > 0 && s->repeat_penalty != 1.0f) || s->frequency_penalty != 0 ||
                    s->presence_penalty != 0;
    if (!penalties) return 0;
    if (n > end) n = end;
    if (n > c->n_ctx - (c->n_past - end)) n = c->n_ctx - (c->n_past - end); /* still in the ring */
    for (i = 0; i < n; i++) c->hist_tmp[i] = c->hist[(end - n + i) % c->n_ctx];
    return n;
}

ARTRDEF artr_status artr_probs(artr_ctx *c, const artr_sampler *s, int row, float *p,
                               artr_error *err)
{
    const float *logits, *uncond = NULL;
    int n_vocab;
    if (!c || !s || !p) return ARTR__FAIL(err, ARTR_E_ARG, "artr_probs: NULL context, sampler or p");
    logits = artr_logits(c, row);
    if (!logits) return ARTR__FAIL(err, ARTR_E_ARG, "artr_probs: row %d: the last call kept %d rows of logits", row, c->n_rows);
    n_vocab = c->m->cfg.n_vocab;
    if (s->guidance) {
        if (s->guidance->m->cfg.n_vocab != n_vocab)
            return ARTR__FAIL(err, ARTR_E_ARG, "guidance context: vocabulary %d, expected %d", s->guidance->m->cfg.n_vocab, n_vocab);
        uncond = artr_logits(s->guidance, row);
        if (!uncond) return ARTR__FAIL(err, ARTR_E_ARG, "guidance context has no logits row %d", row);
    }
    if ((s->n_logit_bias > 0 && !s->logit_bias) || (s->n_banned > 0 && !s->banned) || s->n_logit_bias < 0 || s->n_banned < 0)
        return ARTR__FAIL(err, ARTR_E_ARG, "sampler: n_logit_bias / n_banned without their arrays");
    artr__ok(err);
    return artr__probs(logits, uncond, n_vocab, s, c->hist_tmp, artr__penalty_window(c, s, artr__row(c, row)),
                       p, c->probs, c->order, err);
}

/* A token from the distribution: artr_sample here, every decoding step in §8. */
static int artr__greedy(const artr_sampler *s)
{
    return !(s->temperature > 0);
}

static int32_t artr__argmax(const float *p, int n)
{
    int i, best = 0;
    for (i = 1; i < n; i++)
        if (p[i] > p[best]) best = i;
    return best;
}

/* Draw from weights p (total mass `total`, which need not be 1). */
static int32_t artr__draw(const float *p, int n, float total, uint64_t *rng)
{
    float u = artr_rng_uniform(rng) * total, cum = 0;
    int i, last = 0;
    for (i = 0; i < n; i++) {
        if (!(p[i] > 0)) continue;
        cum += p[i];
        last = i;
        if (u < cum) return i;
    }
    return last; /* rounding left u above the total: the last live token */
}

/* A token from a distribution: its argmax under a greedy sampler, else a draw. */
static int32_t artr__pick(artr_sampler *s, const float *p, int n)
{
    return artr__greedy(s) ? artr__argmax(p, n) : artr__draw(p, n, 1.0f, &s->rng);
}

ARTRDEF artr_status artr_sample(artr_ctx *c, artr_sampler *s, int row, int32_t *tok, artr_error *err)
{
    artr_status st;
    if (!c || !s || !tok) return ARTR__FAIL(err, ARTR_E_ARG, "artr_sample: NULL context, sampler or tok");
    st = artr_probs(c, s, row, c->dist, err);
    if (st == ARTR_OK) *tok = artr__pick(s, c->dist, c->m->cfg.n_vocab);
    return st;
}

/* ---- §8 decoding ------------------------------------------------------------------- */
/* Every strategy keeps one invariant: after a step, c holds all returned tokens but the
   last, which is pending (fed first by the next step or forward). A verification call
   feeds [pending, guesses...] and keeps all rows, so row i is the distribution of the
   token after the i-th fed one; rejected guesses are truncated away. Scratch (proposal
   distributions, guesses, the fed ids) was carved at creation: (n_draft + 1) x n_vocab
   floats plus a few id arrays. */

enum { ARTR__Q_DIST = 0, ARTR__Q_POINT = 1, ARTR__Q_UNIFORM = 2 };

/* Room for n more positions in c (and in the guidance context). */
static int artr__room(const artr_ctx *c)
{
    return c->bounded ? c->n_batch : c->n_ctx - c->n_kv - (c->pending >= 0);
}

/* Feed ids to c and to the sampler's guidance context, keeping the rows asked for. c has
   no pending token here (the caller put it first in ids). */
static artr_status artr__feed(artr_ctx *c, artr_sampler *s, const int32_t *ids, int n, int logits,
                              artr_error *err)
{
    artr_batch b;
    int layers = 0;
    artr_status st;
    memset(&b, 0, sizeof b);
    b.tokens = ids;
    b.n = n;
    b.logits = logits;
    if ((st = artr__forward_check(c, &b, &layers, err)) != ARTR_OK) return st;
    if (s->guidance) {
        int gl = 0;
        if (s->guidance->pending >= 0)
            return ARTR__FAIL(err, ARTR_E_ARG, "the guidance context has a pending token; feed it only through the steps");
        if ((st = artr__forward_check(s->guidance, &b, &gl, err)) != ARTR_OK) return st;
        artr__forward_run(s->guidance, &b, gl);
    }
    artr__forward_run(c, &b, layers);
    c->stats.calls++;
    return ARTR_OK;
}

/* Keep n_keep of the positions the last verification fed (in c and in the guidance). */
static void artr__keep(artr_ctx *c, artr_sampler *s, int n_fed, int n_keep)
{
    artr_ctx_truncate(c, c->n_past - (n_fed - n_keep), NULL);
    if (s->guidance) artr_ctx_truncate(s->guidance, s->guidance->n_past - (n_fed - n_keep), NULL);
}

/* Common checks; a first step after the prompt samples the pending token from the
   prompt's last row and returns just that (*done = 1). */
static artr_status artr__step_begin(artr_ctx *c, artr_sampler *s, int32_t *out, int max_out, int *n_out,
                                    int *done, artr_error *err)
{
    artr_status st;
    *done = 0;
    if (!c || !s || !out || !n_out) return ARTR__FAIL(err, ARTR_E_ARG, "decoding step: NULL context, sampler, out or n_out");
    if (max_out < 1) {
        *n_out = 1;
        return ARTR__FAIL(err, ARTR_E_SPACE, "decoding step: max_out %d, a step returns at least 1 token", max_out);
    }
    if (s->guidance && s->guidance->m->cfg.n_vocab != c->m->cfg.n_vocab)
        return ARTR__FAIL(err, ARTR_E_ARG, "guidance context: vocabulary %d, expected %d", s->guidance->m->cfg.n_vocab, c->m->cfg.n_vocab);
    c->stats.steps++;
    if (c->pending >= 0) return ARTR_OK;
    if (c->n_rows == 0)
        return ARTR__FAIL(err, ARTR_E_ARG, "decoding step: no logits to start from; prefill the prompt with artr_forward first");
    if ((st = artr_sample(c, s, -1, &c->pending, err)) != ARTR_OK) {
        c->pending = -1;
        return st;
    }
    out[0] = c->pending;
    *n_out = 1;
    c->stats.tokens++;
    *done = 1;
    return ARTR_OK;
}

ARTRDEF artr_status artr_step(artr_ctx *c, artr_sampler *s, int32_t *out, int max_out, int *n_out,
                              artr_error *err)
{
    int done;
    int32_t tok;
    artr_status st = artr__step_begin(c, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    tok = c->pending;
    c->pending = -1;
    if ((st = artr__feed(c, s, &tok, 1, ARTR_LOGITS_LAST, err)) != ARTR_OK) {
        c->pending = tok;
        return st;
    }
    if ((st = artr_sample(c, s, -1, &c->pending, err)) != ARTR_OK) {
        c->pending = -1; /* tok was fed; nothing is pending */
        return st;
    }
    out[0] = c->pending;
    *n_out = 1;
    c->stats.tokens++;
    return ARTR_OK;
}

/* How many guesses a window step may verify. */
static int artr__window(const artr_ctx *c, const artr_sampler *s, int want, int max_out)
{
    int w = want;
    if (w > max_out - 1) w = max_out - 1;
    if (w > c->n_draft) w = c->n_draft;
    if (w > c->n_batch - 1) w = c->n_batch - 1;
    if (w > artr__room(c) - 1) w = artr__room(c) - 1;
    if (s->guidance && w > artr__room(s->guidance) - 1) w = artr__room(s->guidance) - 1;
    return w;
}

/* Speculative acceptance of guess x under target distribution p and proposal q (of kind
   qkind; q is a row for ARTR__Q_DIST). Accepts with min(1, p(x)/q(x)); on rejection p is
   overwritten by the residual norm(max(0, p - q)) and its total goes to *total. */
static int artr__accept(artr_sampler *s, float *p, const float *q, int qkind, int32_t x, int n, float *total)
{
    float qx = qkind == ARTR__Q_DIST ? q[x] : qkind == ARTR__Q_POINT ? 1.0f : 1.0f / (float)n;
    int v;
    if (artr__greedy(s)) { /* one-hot p: exact match with its argmax, residual = p */
        *total = 1;
        return p[x] > 0;
    }
    if (p[x] >= qx || artr_rng_uniform(&s->rng) * qx < p[x]) return 1;
    *total = 0;
    for (v = 0; v < n; v++) {
        float qv = qkind == ARTR__Q_DIST ? q[v] : qkind == ARTR__Q_POINT ? (v == x ? 1.0f : 0.0f) : qx;
        p[v] = p[v] > qv ? p[v] - qv : 0.0f;
        *total += p[v];
    }
    return 0;
}

/* The token after a rejection (from the residual in p) or after all guesses passed. */
static artr_status artr__next_token(artr_ctx *c, artr_sampler *s, int row, float total, int rejected,
                                    int32_t *tok, artr_error *err)
{
    int n = c->m->cfg.n_vocab;
    artr_status st;
    if (rejected && total > 0) {
        *tok = artr__greedy(s) ? artr__argmax(c->dist, n) : artr__draw(c->dist, n, total, &s->rng);
        return ARTR_OK;
    }
    if ((st = artr_probs(c, s, row, c->dist, err)) != ARTR_OK) return st;
    *tok = artr__pick(s, c->dist, n);
    return ARTR_OK;
}

ARTRDEF artr_status artr_step_speculative(artr_ctx *target, artr_ctx *draft, artr_sampler *s, int k,
                                          int32_t *out, int max_out, int *n_out, artr_error *err)
{
    int done, n_vocab, P, D, behind, i, j = 0, rejected = 0;
    float total = 0;
    int32_t t, next = -1;
    artr_sampler sd;
    artr_status st;
    if (!target || !draft || draft == target || k < 1)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_step_speculative: need a target, a draft context other than the target, and k >= 1");
    n_vocab = target->m->cfg.n_vocab;
    if (draft->m->cfg.n_vocab != n_vocab)
        return ARTR__FAIL(err, ARTR_E_ARG, "draft vocabulary %d, the target's is %d", draft->m->cfg.n_vocab, n_vocab);
    if (draft->pending >= 0)
        return ARTR__FAIL(err, ARTR_E_ARG, "the draft context has a pending token; step it only through artr_step_speculative");
    st = artr__step_begin(target, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    P = target->n_past;
    t = target->pending;
    if (draft->n_past > P) artr_ctx_truncate(draft, P, NULL);
    D = draft->n_past;
    behind = P - D + 1; /* what the draft has not seen: positions D..P-1, then t */
    if (behind > draft->n_batch || P - D > target->n_ctx)
        return ARTR__FAIL(err, ARTR_E_ARG, "the draft context is %d tokens behind the target; prefill both with the same prompt", P - D);
    k = artr__window(target, s, k, max_out);
    if (k > draft->n_draft) k = draft->n_draft;
    if (k > artr__room(draft) - behind + 1) k = artr__room(draft) - behind + 1;
    if (k < 1) return artr_step(target, s, out, max_out, n_out, err);
    /* draft: catch up and propose k tokens, keeping each proposal distribution */
    for (i = 0; i < behind - 1; i++) draft->feed[i] = target->hist[(D + i) % target->n_ctx];
    draft->feed[behind - 1] = t;
    sd = *s;
    sd.guidance = NULL;
    for (i = 0; i < k; i++) {
        float *q = draft->dists + (size_t)i * (size_t)n_vocab;
        if ((st = artr__feed(draft, &sd, i ? &target->feed[i] : draft->feed, i ? 1 : behind, ARTR_LOGITS_LAST, err)) != ARTR_OK ||
            (st = artr_probs(draft, &sd, -1, q, err)) != ARTR_OK)
            return st;
        target->feed[i + 1] = artr__pick(s, q, n_vocab); /* draws advance the caller's rng */
    }
    /* target: verify [t, x_0 .. x_{k-1}] in one call */
    target->feed[0] = t;
    target->pending = -1;
    if ((st = artr__feed(target, s, target->feed, k + 1, ARTR_LOGITS_ALL, err)) != ARTR_OK) {
        target->pending = t;
        return st;
    }
    for (j = 0; j < k; j++) { /* Leviathan et al. 2023, Alg. 1 */
        if ((st = artr_probs(target, s, j, target->dist, err)) != ARTR_OK) return st;
        if (!artr__accept(s, target->dist, draft->dists + (size_t)j * (size_t)n_vocab, ARTR__Q_DIST,
                          target->feed[j + 1], n_vocab, &total)) {
            rejected = 1;
            break;
        }
    }
    if ((st = artr__next_token(target, s, j, total, rejected, &next, err)) != ARTR_OK) return st;
    for (i = 0; i < j; i++) out[i] = target->feed[i + 1];
    out[j] = next;
    *n_out = j + 1;
    artr__keep(target, s, k + 1, j + 1);
    if (draft->n_past > P + 1 + j) artr_ctx_truncate(draft, P + 1 + j, NULL);
    target->pending = next;
    target->stats.tokens += j + 1;
    target->stats.drafted += k;
    target->stats.accepted += j;
    return ARTR_OK;
}

/* Remember which token followed which (the n-gram pool seeding Jacobi guesses). */
static void artr__pool_add(artr_ctx *c, int32_t a, int32_t b, int overwrite)
{
    if (a >= 0 && b >= 0 && (overwrite || c->next_tok[a] < 0)) c->next_tok[a] = b;
}

ARTRDEF artr_status artr_step_jacobi(artr_ctx *c, artr_sampler *s, int window, int32_t *out,
                                     int max_out, int *n_out, artr_error *err)
{
    int done, W, i, j, n_vocab, matched = 1;
    int32_t t, *y;
    artr_status st;
    if (s && !artr__greedy(s))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_step_jacobi is greedy (temperature 0); sample with artr_step_spec_jacobi");
    st = artr__step_begin(c, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    W = artr__window(c, s, window, max_out);
    if (W < 1) return artr_step(c, s, out, max_out, n_out, err);
    n_vocab = c->m->cfg.n_vocab;
    t = c->pending;
    y = c->feed + 1; /* guesses: carried from the last step, then seeded from the pool */
    for (i = 0; i < W; i++) {
        int32_t prev = i ? y[i - 1] : t;
        y[i] = i < c->n_guess ? c->guess[i] : c->next_tok[prev] >= 0 ? c->next_tok[prev] : prev;
    }
    c->feed[0] = t;
    c->pending = -1;
    if ((st = artr__feed(c, s, c->feed, W + 1, ARTR_LOGITS_ALL, err)) != ARTR_OK) {
        c->pending = t;
        return st;
    }
    /* g_i, the prediction after [t, y_0 .. y_{i-1}], is exact while all y before matched */
    for (i = 0, j = 0; i <= W; i++) {
        int32_t g;
        if ((st = artr_probs(c, s, i, c->dist, err)) != ARTR_OK) return st;
        g = artr__argmax(c->dist, n_vocab);
        if (matched) {
            out[i] = g;
            j = i;
            matched = i < W && y[i] == g;
        } else {
            c->guess[i - j - 1] = g; /* Jacobi update: the next step's guesses */
            artr__pool_add(c, c->guess[i - j - 1 > 0 ? i - j - 2 : 0], g, 0);
        }
    }
    *n_out = j + 1;
    artr__pool_add(c, t, out[0], 1);
    for (i = 1; i <= j; i++) artr__pool_add(c, out[i - 1], out[i], 1);
    artr__keep(c, s, W + 1, j + 1);
    c->n_guess = W - j;
    c->pending = out[j];
    c->stats.tokens += j + 1;
    c->stats.drafted += W;
    c->stats.accepted += j;
    return ARTR_OK;
}

ARTRDEF artr_status artr_step_spec_jacobi(artr_ctx *c, artr_sampler *s, int window,
                                          const int32_t *init, int n_init, int32_t *out,
                                          int max_out, int *n_out, artr_error *err)
{
    int done, W, i, j, n_vocab, rejected = 0;
    float total = 0;
    int32_t t, next = -1, *y;
    artr_status st = artr__step_begin(c, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    if (n_init < 0 || (n_init > 0 && !init))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_step_spec_jacobi: n_init %d without init", n_init);
    W = artr__window(c, s, window, max_out);
    if (W < 1) return artr_step(c, s, out, max_out, n_out, err);
    n_vocab = c->m->cfg.n_vocab;
    t = c->pending;
    y = c->feed + 1;
    for (i = 0; i < W; i++) { /* carried guesses keep their distributions; new slots: init or uniform */
        if (i < c->n_guess) {
            y[i] = c->guess[i];
        } else if (i < n_init && init[i] >= 0 && init[i] < n_vocab) {
            y[i] = init[i];
            c->qkind[i] = ARTR__Q_POINT;
        } else {
            int32_t r = (int32_t)(artr_rng_uniform(&s->rng) * (float)n_vocab);
            y[i] = r < n_vocab ? r : n_vocab - 1;
            c->qkind[i] = ARTR__Q_UNIFORM;
        }
    }
    c->feed[0] = t;
    c->pending = -1;
    if ((st = artr__feed(c, s, c->feed, W + 1, ARTR_LOGITS_ALL, err)) != ARTR_OK) {
        c->pending = t;
        return st;
    }
    for (j = 0; j < W; j++) { /* Teng et al. 2024: the speculative test on each guess in turn */
        if ((st = artr_probs(c, s, j, c->dist, err)) != ARTR_OK) return st;
        if (!artr__accept(s, c->dist, c->dists + (size_t)j * (size_t)n_vocab, c->qkind[j], y[j], n_vocab, &total)) {
            rejected = 1;
            break;
        }
    }
    if ((st = artr__next_token(c, s, j, total, rejected, &next, err)) != ARTR_OK) return st;
    for (i = 0; i < j; i++) out[i] = y[i];
    out[j] = next;
    *n_out = j + 1;
    /* the rows after the new token become the next guesses, drawn from (and remembered
       with) their distributions */
    for (i = j + 1; i <= W; i++) {
        float *q = c->dists + (size_t)(i - j - 1) * (size_t)n_vocab;
        if ((st = artr_probs(c, s, i, q, err)) != ARTR_OK) return st;
        c->guess[i - j - 1] = artr__pick(s, q, n_vocab);
        c->qkind[i - j - 1] = ARTR__Q_DIST;
    }
    artr__keep(c, s, W + 1, j + 1);
    c->n_guess = W - j;
    c->pending = next;
    c->stats.tokens += j + 1;
    c->stats.drafted += W;
    c->stats.accepted += j;
    return ARTR_OK;
}

/* ---- §9 tokenizer ---------------------------------------------------------------- */
/* Three families share one merge engine:
     SPM      SentencePiece BPE (GGUF tokenizer.ggml.model "llama"; sentencepiece
              bpe_model.cc): spaces become U+2581 "▁" and one is put in front; the text
              is split into characters; adjacent symbols merge while their concatenation
              is a normal piece, highest score first, leftmost on ties; a character that
              is no piece becomes its <0xXX> byte tokens (else <unk>).
     BPE      byte-level BPE ("gpt2"; Hugging Face tokenizers): the GPT-2 pre-tokenizer
              splits the text into words, each byte becomes the token of its byte-level
              character, and pairs merge by their rank in tokenizer.ggml.merges, lowest
              first, leftmost on ties.
     LLAMA2C  llama2.c run.c encode: the tokens of BOS, " " and each character (or its
              bytes + 3) merge while the concatenated texts are a token, highest score first.
   Special tokens (user-defined always, control and unknown with ARTR_TOKENIZE_SPECIAL)
   are cut out of the text first, longest first, as llama.cpp does; SPM puts the space
   prefix before the text after each of them.
   Invariants: the tables below are built at load and never written again, so threads
   share them. Tokenizing allocates nothing: its working set is one artr__enc on the
   stack (22 bytes per unit of the window: 2.8 KB at ARTR_TOKENIZE_RUN 128). Units
   (characters, bytes for BPE, tokens for llama2.c) are merged in runs of at most
   ARTR__RUN. A run ends between two units when no token can contain both, known from a
   bit set of the character pairs inside tokens (of merged pairs, for BPE): merges never
   cross such a boundary (they would make a token holding the pair), so results stay
   exact. A run that finds no such boundary in ARTR__RUN units slides: its tokens that
   end by the middle are kept and the rest is merged again with the units that follow
   (artr__run_slide). That bounds the work per byte, so time is linear in the text,
   O(len * log ARTR__RUN); it is the one place where a result could differ from the
   reference, if a merge decision depended on text more than ARTR__RUN / 2 units to its
   right or a token were longer than ARTR__RUN units. */

#ifndef ARTR_TOKENIZE_RUN
#define ARTR_TOKENIZE_RUN 128   /* units per merge window: a power of two, 8..128 */
#endif
#if ARTR_TOKENIZE_RUN < 8 || ARTR_TOKENIZE_RUN > 128 || (ARTR_TOKENIZE_RUN & (ARTR_TOKENIZE_RUN - 1))
#error "artr: ARTR_TOKENIZE_RUN must be a power of two from 8 to 128"
#endif
#define ARTR__RUN ARTR_TOKENIZE_RUN
#define ARTR__NIL 0xff          /* no symbol (run indices are uint8_t) */
#define ARTR__NOKEY 0xffffffffu /* a symbol with no text: never a safe boundary */
/* ids <= 4 * len + 5: BOS, EOS; <= 3 per byte ("▁" as byte tokens); per special token
   (>= 1 byte) its id and a space prefix (<= 3) for the text after it. */
#define ARTR__TOKENIZE_MAX_LEN ((size_t)((INT32_MAX - 5) / 4))

enum { ARTR__T_UNDEF = 0, ARTR__T_NORMAL = 1, ARTR__T_UNKNOWN = 2, ARTR__T_CONTROL = 3,
       ARTR__T_USER = 4, ARTR__T_UNUSED = 5, ARTR__T_BYTE = 6 };

/* One rule of tokenizer.ggml.merges, stored by its pair in an open-addressing table. */
typedef struct artr__merge {
    int32_t left, right; /* token ids of the pair; left = -1: empty slot */
    int32_t rank;        /* index in tokenizer.ggml.merges: lower merges first */
    int32_t result;      /* token id of left + right */
} artr__merge;

struct artr__tok {
    artr_vocab_info info;
    int bpe_pre_ok;               /* BPE: tokenizer.ggml.pre is absent or "gpt2" */
    const char *pre;              /* tokenizer.ggml.pre (for messages), pre_len bytes */
    size_t pre_len;
    uint32_t *hash;               /* (hash_mask + 1) token id + 1 by text, 0 = empty */
    uint32_t hash_mask;
    artr__merge *merges;          /* (merge_mask + 1) slots, or NULL */
    uint32_t merge_mask;
    uint8_t *pairs;               /* ((pair_mask + 1) / 8) bits: character pairs in tokens */
    uint32_t pair_mask;
    int32_t *special;             /* (n_special) ids cut out of text, sorted by text */
    int n_special, n_user;        /* ... of which n_user are user-defined (always cut out) */
    uint32_t special_at[257];     /* special[special_at[b] .. special_at[b + 1]) begin with b */
    int32_t byte_id[256];         /* token of each byte: <0xXX> (SPM), its byte-level
                                     character (BPE), byte + 3 (llama2.c); -1 none */
    int32_t space_id;             /* llama2.c: the token " " put before the text, or -1 */
};

/* ---- text: UTF-8, Unicode classes, GPT-2 byte-level characters ---- */

/* The UTF-8 character at s (n > 0 bytes left): its length and code point. An invalid
   or truncated sequence is one byte with cp = 0x110000 + that byte. */
static int artr__utf8(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0], min;
    int len, i;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        c &= 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        c &= 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        goto bad;
    }
    if ((size_t)len > n) goto bad;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) goto bad;
        c = c << 6 | (s[i] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) goto bad;
    *cp = c;
    return len;
bad:
    *cp = 0x110000u + s[0];
    return 1;
}

/* Write cp (< 0x800) as UTF-8; returns the length. */
static int artr__utf8_put2(uint32_t cp, uint8_t *dst)
{
    if (cp < 0x80) {
        dst[0] = (uint8_t)cp;
        return 1;
    }
    dst[0] = (uint8_t)(0xc0 | cp >> 6);
    dst[1] = (uint8_t)(0x80 | (cp & 0x3f));
    return 2;
}

/* How many bytes at the end of b[0..n) begin a UTF-8 character that is not complete
   yet (0..3): the detokenizer holds them back until the next piece. */
static int artr__utf8_unfinished(const uint8_t *b, int n)
{
    int i, cont = 0, need;
    for (i = n - 1; i >= 0 && cont < 3 && (b[i] & 0xc0) == 0x80; i--) cont++;
    if (i < 0) return 0;
    need = b[i] >= 0xf0 && b[i] <= 0xf4   ? 4
           : b[i] >= 0xe0 && b[i] <= 0xef ? 3
           : b[i] >= 0xc2 && b[i] <= 0xdf ? 2
                                          : 1;
    return cont + 1 < need ? cont + 1 : 0;
}

enum { ARTR__C_OTHER = 0, ARTR__C_LETTER = 1, ARTR__C_NUMBER = 2, ARTR__C_SPACE = 3 };

/* Unicode 14.0.0 general categories L* (1) and N* (2), else 0: (first code point << 2) | class
   at every change (tools/gen_unicode_table.py). */
static const uint32_t artr__uni_runs[1516] = {
    0x0, 0xc2, 0xe8, 0x105, 0x16c, 0x185, 0x1ec, 0x2a9,
    0x2ac, 0x2ca, 0x2d0, 0x2d5, 0x2d8, 0x2e6, 0x2e9, 0x2ec,
    0x2f2, 0x2fc, 0x301, 0x35c, 0x361, 0x3dc, 0x3e1, 0xb08,
    0xb19, 0xb48, 0xb81, 0xb94, 0xbb1, 0xbb4, 0xbb9, 0xbbc,
    0xdc1, 0xdd4, 0xdd9, 0xde0, 0xde9, 0xdf8, 0xdfd, 0xe00,
    0xe19, 0xe1c, 0xe21, 0xe2c, 0xe31, 0xe34, 0xe39, 0xe88,
    0xe8d, 0xfd8, 0xfdd, 0x1208, 0x1229, 0x14c0, 0x14c5, 0x155c,
    0x1565, 0x1568, 0x1581, 0x1624, 0x1741, 0x17ac, 0x17bd, 0x17cc,
    0x1881, 0x192c, 0x1982, 0x19a8, 0x19b9, 0x19c0, 0x19c5, 0x1b50,
    0x1b55, 0x1b58, 0x1b95, 0x1b9c, 0x1bb9, 0x1bc2, 0x1be9, 0x1bf4,
    0x1bfd, 0x1c00, 0x1c41, 0x1c44, 0x1c49, 0x1cc0, 0x1d35, 0x1e98,
    0x1ec5, 0x1ec8, 0x1f02, 0x1f29, 0x1fac, 0x1fd1, 0x1fd8, 0x1fe9,
    0x1fec, 0x2001, 0x2058, 0x2069, 0x206c, 0x2091, 0x2094, 0x20a1,
    0x20a4, 0x2101, 0x2164, 0x2181, 0x21ac, 0x21c1, 0x2220, 0x2225,
    0x223c, 0x2281, 0x2328, 0x2411, 0x24e8, 0x24f5, 0x24f8, 0x2541,
    0x2544, 0x2561, 0x2588, 0x259a, 0x25c0, 0x25c5, 0x2604, 0x2615,
    0x2634, 0x263d, 0x2644, 0x264d, 0x26a4, 0x26a9, 0x26c4, 0x26c9,
    0x26cc, 0x26d9, 0x26e8, 0x26f5, 0x26f8, 0x2739, 0x273c, 0x2771,
    0x2778, 0x277d, 0x2788, 0x279a, 0x27c1, 0x27c8, 0x27d2, 0x27e8,
    0x27f1, 0x27f4, 0x2815, 0x282c, 0x283d, 0x2844, 0x284d, 0x28a4,
    0x28a9, 0x28c4, 0x28c9, 0x28d0, 0x28d5, 0x28dc, 0x28e1, 0x28e8,
    0x2965, 0x2974, 0x2979, 0x297c, 0x299a, 0x29c0, 0x29c9, 0x29d4,
    0x2a15, 0x2a38, 0x2a3d, 0x2a48, 0x2a4d, 0x2aa4, 0x2aa9, 0x2ac4,
    0x2ac9, 0x2ad0, 0x2ad5, 0x2ae8, 0x2af5, 0x2af8, 0x2b41, 0x2b44,
    0x2b81, 0x2b88, 0x2b9a, 0x2bc0, 0x2be5, 0x2be8, 0x2c15, 0x2c34,
    0x2c3d, 0x2c44, 0x2c4d, 0x2ca4, 0x2ca9, 0x2cc4, 0x2cc9, 0x2cd0,
    0x2cd5, 0x2ce8, 0x2cf5, 0x2cf8, 0x2d71, 0x2d78, 0x2d7d, 0x2d88,
    0x2d9a, 0x2dc0, 0x2dc5, 0x2dca, 0x2de0, 0x2e0d, 0x2e10, 0x2e15,
    0x2e2c, 0x2e39, 0x2e44, 0x2e49, 0x2e58, 0x2e65, 0x2e6c, 0x2e71,
    0x2e74, 0x2e79, 0x2e80, 0x2e8d, 0x2e94, 0x2ea1, 0x2eac, 0x2eb9,
    0x2ee8, 0x2f41, 0x2f44, 0x2f9a, 0x2fcc, 0x3015, 0x3034, 0x3039,
    0x3044, 0x3049, 0x30a4, 0x30a9, 0x30e8, 0x30f5, 0x30f8, 0x3161,
    0x316c, 0x3175, 0x3178, 0x3181, 0x3188, 0x319a, 0x31c0, 0x31e2,
    0x31fc, 0x3201, 0x3204, 0x3215, 0x3234, 0x3239, 0x3244, 0x3249,
    0x32a4, 0x32a9, 0x32d0, 0x32d5, 0x32e8, 0x32f5, 0x32f8, 0x3375,
    0x337c, 0x3381, 0x3388, 0x339a, 0x33c0, 0x33c5, 0x33cc, 0x3411,
    0x3434, 0x3439, 0x3444, 0x3449, 0x34ec, 0x34f5, 0x34f8, 0x3539,
    0x353c, 0x3551, 0x355c, 0x3562, 0x357d, 0x3588, 0x359a, 0x35e4,
    0x35e9, 0x3600, 0x3615, 0x365c, 0x3669, 0x36c8, 0x36cd, 0x36f0,
    0x36f5, 0x36f8, 0x3701, 0x371c, 0x379a, 0x37c0, 0x3805, 0x38c4,
    0x38c9, 0x38d0, 0x3901, 0x391c, 0x3942, 0x3968, 0x3a05, 0x3a0c,
    0x3a11, 0x3a14, 0x3a19, 0x3a2c, 0x3a31, 0x3a90, 0x3a95, 0x3a98,
    0x3a9d, 0x3ac4, 0x3ac9, 0x3ad0, 0x3af5, 0x3af8, 0x3b01, 0x3b14,
    0x3b19, 0x3b1c, 0x3b42, 0x3b68, 0x3b71, 0x3b80, 0x3c01, 0x3c04,
    0x3c82, 0x3cd0, 0x3d01, 0x3d20, 0x3d25, 0x3db4, 0x3e21, 0x3e34,
    0x4001, 0x40ac, 0x40fd, 0x4102, 0x4128, 0x4141, 0x4158, 0x4169,
    0x4178, 0x4185, 0x4188, 0x4195, 0x419c, 0x41b9, 0x41c4, 0x41d5,
    0x4208, 0x4239, 0x423c, 0x4242, 0x4268, 0x4281, 0x4318, 0x431d,
    0x4320, 0x4335, 0x4338, 0x4341, 0x43ec, 0x43f1, 0x4924, 0x4929,
    0x4938, 0x4941, 0x495c, 0x4961, 0x4964, 0x4969, 0x4978, 0x4981,
    0x4a24, 0x4a29, 0x4a38, 0x4a41, 0x4ac4, 0x4ac9, 0x4ad8, 0x4ae1,
    0x4afc, 0x4b01, 0x4b04, 0x4b09, 0x4b18, 0x4b21, 0x4b5c, 0x4b61,
    0x4c44, 0x4c49, 0x4c58, 0x4c61, 0x4d6c, 0x4da6, 0x4df4, 0x4e01,
    0x4e40, 0x4e81, 0x4fd8, 0x4fe1, 0x4ff8, 0x5005, 0x59b4, 0x59bd,
    0x5a00, 0x5a05, 0x5a6c, 0x5a81, 0x5bac, 0x5bba, 0x5bc5, 0x5be4,
    0x5c01, 0x5c48, 0x5c7d, 0x5cc8, 0x5d01, 0x5d48, 0x5d81, 0x5db4,
    0x5db9, 0x5dc4, 0x5e01, 0x5ed0, 0x5f5d, 0x5f60, 0x5f71, 0x5f74,
    0x5f82, 0x5fa8, 0x5fc2, 0x5fe8, 0x6042, 0x6068, 0x6081, 0x61e4,
    0x6201, 0x6214, 0x621d, 0x62a4, 0x62a9, 0x62ac, 0x62c1, 0x63d8,
    0x6401, 0x647c, 0x651a, 0x6541, 0x65b8, 0x65c1, 0x65d4, 0x6601,
    0x66b0, 0x66c1, 0x6728, 0x6742, 0x676c, 0x6801, 0x685c, 0x6881,
    0x6954, 0x6a02, 0x6a28, 0x6a42, 0x6a68, 0x6a9d, 0x6aa0, 0x6c15,
    0x6cd0, 0x6d15, 0x6d34, 0x6d42, 0x6d68, 0x6e0d, 0x6e84, 0x6eb9,
    0x6ec2, 0x6ee9, 0x6f98, 0x7001, 0x7090, 0x7102, 0x7128, 0x7135,
    0x7142, 0x7169, 0x71f8, 0x7201, 0x7224, 0x7241, 0x72ec, 0x72f5,
    0x7300, 0x73a5, 0x73b4, 0x73b9, 0x73d0, 0x73d5, 0x73dc, 0x73e9,
    0x73ec, 0x7401, 0x7700, 0x7801, 0x7c58, 0x7c61, 0x7c78, 0x7c81,
    0x7d18, 0x7d21, 0x7d38, 0x7d41, 0x7d60, 0x7d65, 0x7d68, 0x7d6d,
    0x7d70, 0x7d75, 0x7d78, 0x7d7d, 0x7df8, 0x7e01, 0x7ed4, 0x7ed9,
    0x7ef4, 0x7ef9, 0x7efc, 0x7f09, 0x7f14, 0x7f19, 0x7f34, 0x7f41,
    0x7f50, 0x7f59, 0x7f70, 0x7f81, 0x7fb4, 0x7fc9, 0x7fd4, 0x7fd9,
    0x7ff4, 0x81c2, 0x81c5, 0x81c8, 0x81d2, 0x81e8, 0x81fd, 0x8202,
    0x8228, 0x8241, 0x8274, 0x8409, 0x840c, 0x841d, 0x8420, 0x8429,
    0x8450, 0x8455, 0x8458, 0x8465, 0x8478, 0x8491, 0x8494, 0x8499,
    0x849c, 0x84a1, 0x84a4, 0x84a9, 0x84b8, 0x84bd, 0x84e8, 0x84f1,
    0x8500, 0x8515, 0x8528, 0x8539, 0x853c, 0x8542, 0x860d, 0x8616,
    0x8628, 0x9182, 0x9270, 0x93aa, 0x9400, 0x9dda, 0x9e50, 0xb001,
    0xb394, 0xb3ad, 0xb3bc, 0xb3c9, 0xb3d0, 0xb3f6, 0xb3f8, 0xb401,
    0xb498, 0xb49d, 0xb4a0, 0xb4b5, 0xb4b8, 0xb4c1, 0xb5a0, 0xb5bd,
    0xb5c0, 0xb601, 0xb65c, 0xb681, 0xb69c, 0xb6a1, 0xb6bc, 0xb6c1,
    0xb6dc, 0xb6e1, 0xb6fc, 0xb701, 0xb71c, 0xb721, 0xb73c, 0xb741,
    0xb75c, 0xb761, 0xb77c, 0xb8bd, 0xb8c0, 0xc015, 0xc01e, 0xc020,
    0xc086, 0xc0a8, 0xc0c5, 0xc0d8, 0xc0e2, 0xc0ed, 0xc0f4, 0xc105,
    0xc25c, 0xc275, 0xc280, 0xc285, 0xc3ec, 0xc3f1, 0xc400, 0xc415,
    0xc4c0, 0xc4c5, 0xc63c, 0xc64a, 0xc658, 0xc681, 0xc700, 0xc7c1,
    0xc800, 0xc882, 0xc8a8, 0xc922, 0xc940, 0xc946, 0xc980, 0xca02,
    0xca28, 0xcac6, 0xcb00, 0xd001, 0x13700, 0x13801, 0x29234, 0x29341,
    0x293f8, 0x29401, 0x29834, 0x29841, 0x29882, 0x298a9, 0x298b0, 0x29901,
    0x299bc, 0x299fd, 0x29a78, 0x29a81, 0x29b9a, 0x29bc0, 0x29c5d, 0x29c80,
    0x29c89, 0x29e24, 0x29e2d, 0x29f2c, 0x29f41, 0x29f48, 0x29f4d, 0x29f50,
    0x29f55, 0x29f68, 0x29fc9, 0x2a008, 0x2a00d, 0x2a018, 0x2a01d, 0x2a02c,
    0x2a031, 0x2a08c, 0x2a0c2, 0x2a0d8, 0x2a101, 0x2a1d0, 0x2a209, 0x2a2d0,
    0x2a342, 0x2a368, 0x2a3c9, 0x2a3e0, 0x2a3ed, 0x2a3f0, 0x2a3f5, 0x2a3fc,
    0x2a402, 0x2a429, 0x2a498, 0x2a4c1, 0x2a51c, 0x2a581, 0x2a5f4, 0x2a611,
    0x2a6cc, 0x2a73d, 0x2a742, 0x2a768, 0x2a781, 0x2a794, 0x2a799, 0x2a7c2,
    0x2a7e9, 0x2a7fc, 0x2a801, 0x2a8a4, 0x2a901, 0x2a90c, 0x2a911, 0x2a930,
    0x2a942, 0x2a968, 0x2a981, 0x2a9dc, 0x2a9e9, 0x2a9ec, 0x2a9f9, 0x2aac0,
    0x2aac5, 0x2aac8, 0x2aad5, 0x2aadc, 0x2aae5, 0x2aaf8, 0x2ab01, 0x2ab04,
    0x2ab09, 0x2ab0c, 0x2ab6d, 0x2ab78, 0x2ab81, 0x2abac, 0x2abc9, 0x2abd4,
    0x2ac05, 0x2ac1c, 0x2ac25, 0x2ac3c, 0x2ac45, 0x2ac5c, 0x2ac81, 0x2ac9c,
    0x2aca1, 0x2acbc, 0x2acc1, 0x2ad6c, 0x2ad71, 0x2ada8, 0x2adc1, 0x2af8c,
    0x2afc2, 0x2afe8, 0x2b001, 0x35e90, 0x35ec1, 0x35f1c, 0x35f2d, 0x35ff0,
    0x3e401, 0x3e9b8, 0x3e9c1, 0x3eb68, 0x3ec01, 0x3ec1c, 0x3ec4d, 0x3ec60,
    0x3ec75, 0x3ec78, 0x3ec7d, 0x3eca4, 0x3eca9, 0x3ecdc, 0x3ece1, 0x3ecf4,
    0x3ecf9, 0x3ecfc, 0x3ed01, 0x3ed08, 0x3ed0d, 0x3ed14, 0x3ed19, 0x3eec8,
    0x3ef4d, 0x3f4f8, 0x3f541, 0x3f640, 0x3f649, 0x3f720, 0x3f7c1, 0x3f7f0,
    0x3f9c1, 0x3f9d4, 0x3f9d9, 0x3fbf4, 0x3fc42, 0x3fc68, 0x3fc85, 0x3fcec,
    0x3fd05, 0x3fd6c, 0x3fd99, 0x3fefc, 0x3ff09, 0x3ff20, 0x3ff29, 0x3ff40,
    0x3ff49, 0x3ff60, 0x3ff69, 0x3ff74, 0x40001, 0x40030, 0x40035, 0x4009c,
    0x400a1, 0x400ec, 0x400f1, 0x400f8, 0x400fd, 0x40138, 0x40141, 0x40178,
    0x40201, 0x403ec, 0x4041e, 0x404d0, 0x40502, 0x405e4, 0x4062a, 0x40630,
    0x40a01, 0x40a74, 0x40a81, 0x40b44, 0x40b86, 0x40bf0, 0x40c01, 0x40c82,
    0x40c90, 0x40cb5, 0x40d06, 0x40d09, 0x40d2a, 0x40d2c, 0x40d41, 0x40dd8,
    0x40e01, 0x40e78, 0x40e81, 0x40f10, 0x40f21, 0x40f40, 0x40f46, 0x40f58,
    0x41001, 0x41278, 0x41282, 0x412a8, 0x412c1, 0x41350, 0x41361, 0x413f0,
    0x41401, 0x414a0, 0x414c1, 0x41590, 0x415c1, 0x415ec, 0x415f1, 0x4162c,
    0x41631, 0x4164c, 0x41651, 0x41658, 0x4165d, 0x41688, 0x4168d, 0x416c8,
    0x416cd, 0x416e8, 0x416ed, 0x416f4, 0x41801, 0x41cdc, 0x41d01, 0x41d58,
    0x41d81, 0x41da0, 0x41e01, 0x41e18, 0x41e1d, 0x41ec4, 0x41ec9, 0x41eec,
    0x42001, 0x42018, 0x42021, 0x42024, 0x42029, 0x420d8, 0x420dd, 0x420e4,
    0x420f1, 0x420f4, 0x420fd, 0x42158, 0x42162, 0x42181, 0x421dc, 0x421e6,
    0x42201, 0x4227c, 0x4229e, 0x422c0, 0x42381, 0x423cc, 0x423d1, 0x423d8,
    0x423ee, 0x42401, 0x4245a, 0x42470, 0x42481, 0x424e8, 0x42601, 0x426e0,
    0x426f2, 0x426f9, 0x42702, 0x42740, 0x4274a, 0x42801, 0x42804, 0x42841,
    0x42850, 0x42855, 0x42860, 0x42865, 0x428d8, 0x42902, 0x42924, 0x42981,
    0x429f6, 0x429fc, 0x42a01, 0x42a76, 0x42a80, 0x42b01, 0x42b20, 0x42b25,
    0x42b94, 0x42bae, 0x42bc0, 0x42c01, 0x42cd8, 0x42d01, 0x42d58, 0x42d62,
    0x42d81, 0x42dcc, 0x42de2, 0x42e01, 0x42e48, 0x42ea6, 0x42ec0, 0x43001,
    0x43124, 0x43201, 0x432cc, 0x43301, 0x433cc, 0x433ea, 0x43401, 0x43490,
    0x434c2, 0x434e8, 0x43982, 0x439fc, 0x43a01, 0x43aa8, 0x43ac1, 0x43ac8,
    0x43c01, 0x43c76, 0x43c9d, 0x43ca0, 0x43cc1, 0x43d18, 0x43d46, 0x43d54,
    0x43dc1, 0x43e08, 0x43ec1, 0x43f16, 0x43f30, 0x43f81, 0x43fdc, 0x4400d,
    0x440e0, 0x4414a, 0x441c0, 0x441c5, 0x441cc, 0x441d5, 0x441d8, 0x4420d,
    0x442c0, 0x44341, 0x443a4, 0x443c2, 0x443e8, 0x4440d, 0x4449c, 0x444da,
    0x44500, 0x44511, 0x44514, 0x4451d, 0x44520, 0x44541, 0x445cc, 0x445d9,
    0x445dc, 0x4460d, 0x446cc, 0x44705, 0x44714, 0x44742, 0x44769, 0x4476c,
    0x44771, 0x44774, 0x44786, 0x447d4, 0x44801, 0x44848, 0x4484d, 0x448b0,
    0x44a01, 0x44a1c, 0x44a21, 0x44a24, 0x44a29, 0x44a38, 0x44a3d, 0x44a78,
    0x44a7d, 0x44aa4, 0x44ac1, 0x44b7c, 0x44bc2, 0x44be8, 0x44c15, 0x44c34,
    0x44c3d, 0x44c44, 0x44c4d, 0x44ca4, 0x44ca9, 0x44cc4, 0x44cc9, 0x44cd0,
    0x44cd5, 0x44ce8, 0x44cf5, 0x44cf8, 0x44d41, 0x44d44, 0x44d75, 0x44d88,
    0x45001, 0x450d4, 0x4511d, 0x4512c, 0x45142, 0x45168, 0x4517d, 0x45188,
    0x45201, 0x452c0, 0x45311, 0x45318, 0x4531d, 0x45320, 0x45342, 0x45368,
    0x45601, 0x456bc, 0x45761, 0x45770, 0x45801, 0x458c0, 0x45911, 0x45914,
    0x45942, 0x45968, 0x45a01, 0x45aac, 0x45ae1, 0x45ae4, 0x45b02, 0x45b28,
    0x45c01, 0x45c6c, 0x45cc2, 0x45cf0, 0x45d01, 0x45d1c, 0x46001, 0x460b0,
    0x46281, 0x46382, 0x463cc, 0x463fd, 0x4641c, 0x46425, 0x46428, 0x46431,
    0x46450, 0x46455, 0x4645c, 0x46461, 0x464c0, 0x464fd, 0x46500, 0x46505,
    0x46508, 0x46542, 0x46568, 0x46681, 0x466a0, 0x466a9, 0x46744, 0x46785,
    0x46788, 0x4678d, 0x46790, 0x46801, 0x46804, 0x4682d, 0x468cc, 0x468e9,
    0x468ec, 0x46941, 0x46944, 0x46971, 0x46a28, 0x46a75, 0x46a78, 0x46ac1,
    0x46be4, 0x47001, 0x47024, 0x47029, 0x470bc, 0x47101, 0x47104, 0x47142,
    0x471b4, 0x471c9, 0x47240, 0x47401, 0x4741c, 0x47421, 0x47428, 0x4742d,
    0x474c4, 0x47519, 0x4751c, 0x47542, 0x47568, 0x47581, 0x47598, 0x4759d,
    0x475a4, 0x475a9, 0x47628, 0x47661, 0x47664, 0x47682, 0x476a8, 0x47b81,
    0x47bcc, 0x47ec1, 0x47ec4, 0x47f02, 0x47f54, 0x48001, 0x48e68, 0x49002,
    0x491bc, 0x49201, 0x49510, 0x4be41, 0x4bfc4, 0x4c001, 0x4d0bc, 0x51001,
    0x5191c, 0x5a001, 0x5a8e4, 0x5a901, 0x5a97c, 0x5a982, 0x5a9a8, 0x5a9c1,
    0x5aafc, 0x5ab02, 0x5ab28, 0x5ab41, 0x5abb8, 0x5ac01, 0x5acc0, 0x5ad01,
    0x5ad10, 0x5ad42, 0x5ad68, 0x5ad6e, 0x5ad88, 0x5ad8d, 0x5ade0, 0x5adf5,
    0x5ae40, 0x5b901, 0x5ba02, 0x5ba5c, 0x5bc01, 0x5bd2c, 0x5bd41, 0x5bd44,
    0x5be4d, 0x5be80, 0x5bf81, 0x5bf88, 0x5bf8d, 0x5bf90, 0x5c001, 0x61fe0,
    0x62001, 0x63358, 0x63401, 0x63424, 0x6bfc1, 0x6bfd0, 0x6bfd5, 0x6bff0,
    0x6bff5, 0x6bffc, 0x6c001, 0x6c48c, 0x6c541, 0x6c54c, 0x6c591, 0x6c5a0,
    0x6c5c1, 0x6cbf0, 0x6f001, 0x6f1ac, 0x6f1c1, 0x6f1f4, 0x6f201, 0x6f224,
    0x6f241, 0x6f268, 0x74b82, 0x74bd0, 0x74d82, 0x74de4, 0x75001, 0x75154,
    0x75159, 0x75274, 0x75279, 0x75280, 0x75289, 0x7528c, 0x75295, 0x7529c,
    0x752a5, 0x752b4, 0x752b9, 0x752e8, 0x752ed, 0x752f0, 0x752f5, 0x75310,
    0x75315, 0x75418, 0x7541d, 0x7542c, 0x75435, 0x75454, 0x75459, 0x75474,
    0x75479, 0x754e8, 0x754ed, 0x754fc, 0x75501, 0x75514, 0x75519, 0x7551c,
    0x75529, 0x75544, 0x75549, 0x75a98, 0x75aa1, 0x75b04, 0x75b09, 0x75b6c,
    0x75b71, 0x75bec, 0x75bf1, 0x75c54, 0x75c59, 0x75cd4, 0x75cd9, 0x75d3c,
    0x75d41, 0x75dbc, 0x75dc1, 0x75e24, 0x75e29, 0x75ea4, 0x75ea9, 0x75f0c,
    0x75f11, 0x75f30, 0x75f3a, 0x76000, 0x77c01, 0x77c7c, 0x78401, 0x784b4,
    0x784dd, 0x784f8, 0x78502, 0x78528, 0x78539, 0x7853c, 0x78a41, 0x78ab8,
    0x78b01, 0x78bb0, 0x78bc2, 0x78be8, 0x79f81, 0x79f9c, 0x79fa1, 0x79fb0,
    0x79fb5, 0x79fbc, 0x79fc1, 0x79ffc, 0x7a001, 0x7a314, 0x7a31e, 0x7a340,
    0x7a401, 0x7a510, 0x7a52d, 0x7a530, 0x7a542, 0x7a568, 0x7b1c6, 0x7b2b0,
    0x7b2b6, 0x7b2c0, 0x7b2c6, 0x7b2d4, 0x7b406, 0x7b4b8, 0x7b4be, 0x7b4f8,
    0x7b801, 0x7b810, 0x7b815, 0x7b880, 0x7b885, 0x7b88c, 0x7b891, 0x7b894,
    0x7b89d, 0x7b8a0, 0x7b8a5, 0x7b8cc, 0x7b8d1, 0x7b8e0, 0x7b8e5, 0x7b8e8,
    0x7b8ed, 0x7b8f0, 0x7b909, 0x7b90c, 0x7b91d, 0x7b920, 0x7b925, 0x7b928,
    0x7b92d, 0x7b930, 0x7b935, 0x7b940, 0x7b945, 0x7b94c, 0x7b951, 0x7b954,
    0x7b95d, 0x7b960, 0x7b965, 0x7b968, 0x7b96d, 0x7b970, 0x7b975, 0x7b978,
    0x7b97d, 0x7b980, 0x7b985, 0x7b98c, 0x7b991, 0x7b994, 0x7b99d, 0x7b9ac,
    0x7b9b1, 0x7b9cc, 0x7b9d1, 0x7b9e0, 0x7b9e5, 0x7b9f4, 0x7b9f9, 0x7b9fc,
    0x7ba01, 0x7ba28, 0x7ba2d, 0x7ba70, 0x7ba85, 0x7ba90, 0x7ba95, 0x7baa8,
    0x7baad, 0x7baf0, 0x7c402, 0x7c434, 0x7efc2, 0x7efe8, 0x80001, 0xa9b80,
    0xa9c01, 0xadce4, 0xadd01, 0xae078, 0xae081, 0xb3a88, 0xb3ac1, 0xbaf84,
    0xbe001, 0xbe878, 0xc0001, 0xc4d2c,
};

/* The class the GPT-2 pattern sees: \s (Unicode White_Space), \p{L}, \p{N}, or other.
   Invalid bytes (cp > 0x10ffff) are other. */
static int artr__uni_class(uint32_t cp)
{
    size_t lo = 0, hi = sizeof artr__uni_runs / sizeof artr__uni_runs[0];
    if (cp < 0x80) {
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return ARTR__C_LETTER;
        if (cp >= '0' && cp <= '9') return ARTR__C_NUMBER;
        if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d)) return ARTR__C_SPACE;
        return ARTR__C_OTHER;
    }
    if (cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
        cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000)
        return ARTR__C_SPACE;
    if (cp > 0x10ffff) return ARTR__C_OTHER;
    while (hi - lo > 1) { /* the last run starting at or before cp; runs[0] starts at 0 */
        size_t mid = lo + (hi - lo) / 2;
        if ((artr__uni_runs[mid] >> 2) <= cp) lo = mid;
        else hi = mid;
    }
    return (int)(artr__uni_runs[lo] & 3);
}

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68
   (0-32, 127-160, 173) for U+0100 + their index among them. */
static uint32_t artr__bpe_char(uint8_t b)
{
    if ((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae) return b;
    if (b <= 0x20) return 0x100u + b;
    if (b <= 0xa0) return 0x121u + (b - 0x7fu);
    return 0x143; /* 0xad */
}
static int artr__bpe_byte(uint32_t cp) /* the inverse; -1 for a character no byte maps to */
{
    if ((cp >= 0x21 && cp <= 0x7e) || (cp >= 0xa1 && cp <= 0xac) || (cp >= 0xae && cp <= 0xff))
        return (int)cp;
    if (cp >= 0x100 && cp <= 0x120) return (int)(cp - 0x100);
    if (cp >= 0x121 && cp <= 0x142) return (int)(cp - 0x121 + 0x7f);
    if (cp == 0x143) return 0xad;
    return -1;
}

/* End of the GPT-2 pre-tokenizer's match at s[i], i < n: the pattern
     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
   of tokenizers' ByteLevel (and llama.cpp's "gpt2"), alternatives tried in order. */
static size_t artr__gpt2_word(const uint8_t *s, size_t n, size_t i)
{
    uint32_t cp;
    size_t j, k, last;
    int cls, len;
    if (s[i] == '\'' && i + 1 < n) {
        uint8_t a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    j = s[i] == ' ' && i + 1 < n ? i + 1 : i; /* the optional leading space */
    len = artr__utf8(s + j, n - j, &cp);
    cls = artr__uni_class(cp);
    if (cls != ARTR__C_SPACE) { /* a run of letters, of numbers, or of others */
        for (k = j + (size_t)len; k < n; k += (size_t)len) {
            len = artr__utf8(s + k, n - k, &cp);
            if (artr__uni_class(cp) != cls) break;
        }
        return k;
    }
    for (k = last = i; k < n; k += (size_t)len) { /* whitespace */
        len = artr__utf8(s + k, n - k, &cp);
        if (artr__uni_class(cp) != ARTR__C_SPACE) break;
        last = k;
    }
    return k < n && last > i ? last : k; /* \s+(?!\S) leaves the last one to the next word */
}

/* ---- tables, built at load ---- */

static uint32_t artr__hash_more(uint32_t h, const char *s, size_t n) /* FNV-1a */
{
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}
static uint32_t artr__hash_end(uint32_t h)
{
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    return h ^ (h >> 12);
}
#define ARTR__FNV_SEED 2166136261u

/* The token whose text is a followed by b, or -1. Mergeable types go first into the
   table, so a text that is both a normal piece and something else finds the piece. */
static int32_t artr__tok_find2(const artr__vocab *v, const char *a, size_t na, const char *b, size_t nb)
{
    const artr__tok *tk = v->tok;
    uint32_t i = artr__hash_end(artr__hash_more(artr__hash_more(ARTR__FNV_SEED, a, na), b, nb));
    for (;; i++) {
        uint32_t e = tk->hash[i & tk->hash_mask];
        const artr__token *t;
        if (!e) return -1;
        t = &v->tokens[e - 1];
        if (t->len == na + nb && (na == 0 || memcmp(t->text, a, na) == 0) &&
            (nb == 0 || memcmp(t->text + na, b, nb) == 0))
            return (int32_t)(e - 1);
    }
}
static int32_t artr__tok_find(const artr__vocab *v, const char *s, size_t n)
{
    return artr__tok_find2(v, s, n, s, 0);
}

/* Types SentencePiece merges into (its pieces_): normal and user-defined. */
static int artr__type_mergeable(int type)
{
    return type == ARTR__T_NORMAL || type == ARTR__T_UNDEF || type == ARTR__T_USER;
}

static uint32_t artr__merge_slot(uint32_t left, uint32_t right)
{
    return artr__hash_end(left * 0x9e3779b1u ^ (right + 0x7f4a7c15u) * 0x85ebca77u);
}
/* The merges slot of the pair (left, right), or -1. */
static int32_t artr__merge_find(const artr__tok *tk, int32_t left, int32_t right)
{
    uint32_t i = artr__merge_slot((uint32_t)left, (uint32_t)right);
    if (!tk->merges) return -1;
    for (;; i++) {
        const artr__merge *e = &tk->merges[i & tk->merge_mask];
        if (e->left < 0) return -1;
        if (e->left == left && e->right == right) return (int32_t)(i & tk->merge_mask);
    }
}

static uint32_t artr__pair_bit(const artr__tok *tk, uint32_t a, uint32_t b)
{
    return artr__merge_slot(a, b) & tk->pair_mask;
}
static void artr__pair_set(artr__tok *tk, uint32_t a, uint32_t b)
{
    uint32_t bit = artr__pair_bit(tk, a, b);
    if (a != ARTR__NOKEY && b != ARTR__NOKEY) tk->pairs[bit >> 3] |= (uint8_t)(1u << (bit & 7));
}
/* 1 if no token can contain character a followed by character b. */
static int artr__pair_safe(const artr__tok *tk, uint32_t a, uint32_t b)
{
    uint32_t bit = artr__pair_bit(tk, a, b);
    if (a == ARTR__NOKEY || b == ARTR__NOKEY) return 0;
    return !((tk->pairs[bit >> 3] >> (bit & 7)) & 1);
}

/* Offsets of the tables in the tokenizer's part of the model block. artr__tok_bytes
   (layout, artr_model_bytes) and artr__tok_build use this one function. */
typedef struct artr__tok_layout {
    uint64_t hash, merges, special, pairs, total;
    uint32_t hash_mask, merge_mask, pair_mask;
} artr__tok_layout;

static uint64_t artr__pow2_at_least(uint64_t x) /* x <= 2^40 */
{
    uint64_t p = 1;
    while (p < x) p <<= 1;
    return p;
}

static void artr__tok_layout_of(int n_vocab, uint64_t n_merges, uint64_t vocab_bytes,
                                artr__tok_layout *l)
{
    uint64_t at = artr__align_up(sizeof(artr__tok), 64), hash_n = 0, merge_n = 0, bits = 0;
    if (n_vocab > 0) {
        if (n_merges > (uint64_t)INT32_MAX) n_merges = (uint64_t)INT32_MAX + 1; /* refused by the build */
        if (vocab_bytes > ((uint64_t)1 << 21)) vocab_bytes = (uint64_t)1 << 21;
        hash_n = artr__pow2_at_least(2 * (uint64_t)n_vocab);          /* load <= 1/2 */
        merge_n = n_merges ? artr__pow2_at_least(n_merges + n_merges / 2 + 1) : 0; /* <= 2/3 */
        bits = artr__pow2_at_least(4 * (vocab_bytes + (n_merges < 4096 ? 4096 : n_merges)));
        if (bits > ((uint64_t)1 << 22)) bits = (uint64_t)1 << 22;     /* 512 KB at most */
    }
    l->hash_mask = (uint32_t)(hash_n ? hash_n - 1 : 0);
    l->merge_mask = (uint32_t)(merge_n ? merge_n - 1 : 0);
    l->pair_mask = (uint32_t)(bits ? bits - 1 : 0);
    l->hash = at;
    at = artr__align_up(at + hash_n * 4, 64);
    l->merges = at;
    at = artr__align_up(at + merge_n * sizeof(artr__merge), 64);
    l->special = at;
    at = artr__align_up(at + (uint64_t)(n_vocab > 0 ? n_vocab : 0) * 4, 64);
    l->pairs = at;
    l->total = at + bits / 8;
}

static uint64_t artr__tok_bytes(int n_vocab, uint64_t n_merges, uint64_t vocab_bytes)
{
    artr__tok_layout l;
    artr__tok_layout_of(n_vocab, n_merges, vocab_bytes, &l);
    return l.total;
}

/* The public facts, with each family's defaults where the file is silent (llama.cpp's:
   SPM bos 1, eos 2, unk 0, add BOS, space prefix; llama2.c the same; BPE neither). */
static void artr__tok_info(artr__tok *tk, const artr__vocab *v)
{
    artr_vocab_info *in = &tk->info;
    int spm_like = v->kind == ARTR__VOCAB_SPM || v->kind == ARTR__VOCAB_LLAMA2C;
    in->kind = v->tokens ? v->kind : ARTR__VOCAB_NONE; /* ARTR__VOCAB_x == ARTR_VOCAB_x */
    in->n_vocab = v->tokens ? v->n : 0;
    in->bos = v->bos;
    in->eos = v->eos;
    in->unk = v->unk;
    in->pad = v->pad;
    if (v->kind == ARTR__VOCAB_SPM) {
        if (in->bos < 0 && v->n > 1) in->bos = 1;
        if (in->eos < 0 && v->n > 2) in->eos = 2;
        if (in->unk < 0 && v->n > 0) in->unk = 0;
    }
    in->add_bos = v->add_bos >= 0 ? v->add_bos : spm_like;
    in->add_eos = v->add_eos >= 0 ? v->add_eos : 0;
    in->add_space_prefix = spm_like ? (v->add_space_prefix >= 0 ? v->add_space_prefix : 1) : 0;
    in->max_piece_bytes = v->max_token_len + 8; /* a piece never decodes longer, " ⁇ " is 5 */
}

/* Insert every token into the text hash: mergeable types first, then the rest; the
   first token with a given text keeps it. */
static void artr__tok_hash_build(artr__tok *tk, const artr__vocab *v)
{
    int pass, i;
    memset(tk->hash, 0, ((size_t)tk->hash_mask + 1) * 4);
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < v->n; i++) {
            const artr__token *t = &v->tokens[i];
            uint32_t h;
            if (artr__type_mergeable(t->type) != (pass == 0)) continue;
            if (artr__tok_find(v, t->text, t->len) >= 0) continue;
            h = artr__hash_end(artr__hash_more(ARTR__FNV_SEED, t->text, t->len));
            while (tk->hash[h & tk->hash_mask]) h++;
            tk->hash[h & tk->hash_mask] = (uint32_t)i + 1;
        }
    }
}

static void artr__tok_bytes_build(artr__tok *tk, const artr__vocab *v)
{
    int b;
    static const char hex[] = "0123456789ABCDEF";
    char name[6] = {'<', '0', 'x', '0', '0', '>'};
    for (b = 0; b < 256; b++) {
        uint8_t u[2];
        int n;
        tk->byte_id[b] = -1;
        if (v->kind == ARTR__VOCAB_SPM) { /* sentencepiece's byte pieces: <0x0A> */
            name[3] = hex[b >> 4];
            name[4] = hex[b & 15];
            tk->byte_id[b] = artr__tok_find(v, name, 6);
        } else if (v->kind == ARTR__VOCAB_BPE) {
            n = artr__utf8_put2(artr__bpe_char((uint8_t)b), u);
            tk->byte_id[b] = artr__tok_find(v, (const char *)u, (size_t)n);
        } else if (v->kind == ARTR__VOCAB_LLAMA2C) {
            tk->byte_id[b] = b + 3 < v->n ? b + 3 : -1;
        }
    }
    tk->space_id = v->kind == ARTR__VOCAB_LLAMA2C ? artr__tok_find(v, " ", 1) : -1;
}

/* Specials sort by text (a prefix before its extensions), then user-defined first, then id. */
static int artr__special_less(const void *ctx, uint32_t a, uint32_t b)
{
    const artr__token *t = (const artr__token *)ctx, *x = &t[a], *y = &t[b];
    int c = artr__cmp_bytes(x->text, x->len, y->text, y->len);
    if (c) return c < 0;
    if ((x->type == ARTR__T_USER) != (y->type == ARTR__T_USER)) return x->type == ARTR__T_USER;
    return a < b;
}

static void artr__tok_specials_build(artr__tok *tk, const artr__vocab *v)
{
    int i, b;
    uint32_t k = 0;
    if (v->kind == ARTR__VOCAB_SPM || v->kind == ARTR__VOCAB_BPE) {
        for (i = 0; i < v->n; i++) {
            const artr__token *t = &v->tokens[i];
            if (t->len == 0 ||
                !(t->type == ARTR__T_CONTROL || t->type == ARTR__T_USER || t->type == ARTR__T_UNKNOWN))
                continue;
            tk->special[tk->n_special++] = i;
            if (t->type == ARTR__T_USER) tk->n_user++;
        }
    }
    artr__heapsort((uint32_t *)tk->special, (size_t)tk->n_special, artr__special_less, v->tokens);
    for (b = 0; b <= 256; b++) {
        while (k < (uint32_t)tk->n_special && (uint8_t)v->tokens[tk->special[k]].text[0] < b) k++;
        tk->special_at[b] = k;
    }
}

/* The key of a character in the pair set: its code point (U+2581 for SPM's space), or
   0x110000 + byte for an invalid one; BPE and llama2.c use bytes. */
static void artr__tok_pairs_of_text(artr__tok *tk, const artr__token *t, int by_char)
{
    const uint8_t *s = (const uint8_t *)t->text;
    uint32_t prev = ARTR__NOKEY, cp;
    size_t i;
    int len;
    for (i = 0; i < t->len; i += (size_t)len) {
        len = by_char ? artr__utf8(s + i, t->len - i, &cp) : 1;
        if (!by_char) cp = s[i];
        if (prev != ARTR__NOKEY) artr__pair_set(tk, prev, cp);
        prev = cp;
    }
}

/* The raw byte of the first (last = 0) or last (last = 1) byte-level character of a
   BPE token text, or ARTR__NOKEY. */
static uint32_t artr__bpe_edge_byte(const char *s, size_t n, int last)
{
    uint32_t cp;
    size_t i = 0;
    int b;
    if (n == 0) return ARTR__NOKEY;
    if (last) {
        i = n - 1;
        while (i > 0 && n - i < 4 && ((uint8_t)s[i] & 0xc0) == 0x80) i--;
    }
    artr__utf8((const uint8_t *)s + i, n - i, &cp);
    b = artr__bpe_byte(cp);
    return b < 0 ? ARTR__NOKEY : (uint32_t)b;
}

/* tokenizer.ggml.merges ("left right" in byte-level text) into the pair table; rules
   whose tokens are not in the vocabulary are skipped, a repeated pair keeps its first
   rank. Also marks each merged pair's edge bytes in the pair set. */
static artr_status artr__tok_merges_build(artr__tok *tk, const artr__vocab *v, uint64_t n_merges,
                                          artr_error *err)
{
    artr__reader r;
    uint64_t i;
    const artr__kv *kv = v->merges;
    memset(tk->merges, 0xff, ((size_t)tk->merge_mask + 1) * sizeof(artr__merge));
    if (kv->n != n_merges || n_merges > (uint64_t)INT32_MAX)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.ggml.merges: %llu rules, at most %d supported",
                          (unsigned long long)kv->n, (int)INT32_MAX);
    artr__reader_init(&r, kv->val, kv->val_bytes);
    for (i = 0; i < n_merges; i++) {
        uint64_t len;
        const char *s = artr__gguf_string(&r, &len);
        size_t sp = 1;
        int32_t a, b, c;
        uint32_t h;
        while (sp < len && s[sp] != ' ') sp++;
        if (sp >= len)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.ggml.merges[%llu] '%.*s' is not two tokens separated by a space",
                              (unsigned long long)i, artr__plen(len), s);
        a = artr__tok_find(v, s, sp);
        b = artr__tok_find(v, s + sp + 1, (size_t)len - sp - 1);
        c = artr__tok_find2(v, s, sp, s + sp + 1, (size_t)len - sp - 1);
        if (a < 0 || b < 0 || c < 0 || artr__merge_find(tk, a, b) >= 0) continue;
        h = artr__merge_slot((uint32_t)a, (uint32_t)b);
        while (tk->merges[h & tk->merge_mask].left >= 0) h++;
        tk->merges[h & tk->merge_mask].left = a;
        tk->merges[h & tk->merge_mask].right = b;
        tk->merges[h & tk->merge_mask].rank = (int32_t)i;
        tk->merges[h & tk->merge_mask].result = c;
        artr__pair_set(tk, artr__bpe_edge_byte(s, sp, 1),
                       artr__bpe_edge_byte(s + sp + 1, (size_t)len - sp - 1, 0));
    }
    return ARTR_OK;
}

static artr_status artr__tok_build(artr_model *m, unsigned char *mem, int n_vocab, uint64_t n_merges,
                                   uint64_t vocab_bytes, artr_error *err)
{
    artr__vocab *v = &m->vocab;
    artr__tok *tk = (artr__tok *)(void *)mem;
    artr__tok_layout l;
    const artr__kv *pre;
    int i;
    artr__tok_layout_of(n_vocab, n_merges, vocab_bytes, &l);
    memset(tk, 0, sizeof *tk);
    v->tok = tk;
    tk->space_id = -1;
    for (i = 0; i < 256; i++) tk->byte_id[i] = -1;
    artr__tok_info(tk, v);
    if (!v->tokens || v->n <= 0) return ARTR_OK;
    if (v->n > n_vocab) /* both come from tokenizer.ggml.tokens; only a > 2^31 count differs */
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tokenizer.ggml.tokens: %d tokens, expected %d", v->n, n_vocab);
    tk->hash = (uint32_t *)(void *)(mem + l.hash);
    tk->hash_mask = l.hash_mask;
    tk->special = (int32_t *)(void *)(mem + l.special);
    tk->pairs = mem + l.pairs;
    tk->pair_mask = l.pair_mask;
    memset(tk->pairs, 0, ((size_t)l.pair_mask + 1) / 8);
    artr__tok_hash_build(tk, v);
    artr__tok_bytes_build(tk, v);
    artr__tok_specials_build(tk, v);
    for (i = 0; i < v->n; i++) {
        const artr__token *t = &v->tokens[i];
        if (v->kind == ARTR__VOCAB_SPM && artr__type_mergeable(t->type))
            artr__tok_pairs_of_text(tk, t, 1);
        if (v->kind == ARTR__VOCAB_LLAMA2C)
            artr__tok_pairs_of_text(tk, t, 0);
    }
    if (v->kind == ARTR__VOCAB_BPE) {
        tk->bpe_pre_ok = 1;
        if ((pre = artr__kv_find(m, "tokenizer.ggml.pre")) != NULL && pre->type == ARTR_META_STRING) {
            tk->pre = (const char *)pre->val;
            tk->pre_len = (size_t)pre->n;
            tk->bpe_pre_ok = pre->n == 4 && memcmp(pre->val, "gpt2", 4) == 0;
        }
        if (v->merges && n_merges > 0) {
            tk->merges = (artr__merge *)(void *)(mem + l.merges);
            tk->merge_mask = l.merge_mask;
            return artr__tok_merges_build(tk, v, n_merges, err);
        }
    }
    return ARTR_OK;
}

/* ---- the merge engine ---- */

/* One call's working set. Symbols of the current run are leaves of a tournament tree
   whose nodes hold the best merge below them, so each merge costs O(log ARTR__RUN). */
typedef struct artr__enc {
    const artr__vocab *v;
    const artr__tok *tk;
    int kind;
    int32_t *out;                  /* (max_out) the caller's ids; n counts past max_out */
    int max_out, n;
    int n_sym, p2;                 /* symbols in the run; tree leaves (power of two >= n_sym) */
    uint32_t last_key;             /* pair-set key of the run's last symbol */
    int32_t unit[ARTR__RUN];       /* token of each unit the run started with, -1 none */
    int32_t id[ARTR__RUN];         /* token of each symbol while merging, -1 none */
    int32_t cand[ARTR__RUN];       /* merge of symbol i with the next: the token (SPM,
                                      llama2.c) or merges slot (BPE); -1 none */
    uint16_t start[ARTR__RUN + 1]; /* SPM: each symbol's offset in buf; start[n_sym]: end */
    uint8_t next[ARTR__RUN], prev[ARTR__RUN]; /* live symbols in order, ARTR__NIL at ends */
    uint8_t win[ARTR__RUN];        /* win[k], 1 <= k < p2: best leaf below tree node k */
    char buf[4 * ARTR__RUN];       /* SPM: the run's text, spaces as U+2581 */
} artr__enc;

static void artr__emit(artr__enc *e, int32_t id)
{
    if (e->n < e->max_out) e->out[e->n] = id;
    e->n++;
}

/* The merge of symbol i with its successor, if the vocabulary has one. */
static int32_t artr__run_pair(const artr__enc *e, int i)
{
    const artr__vocab *v = e->v;
    int j = e->next[i];
    int32_t id;
    if (j == ARTR__NIL) return -1;
    if (e->kind == ARTR__VOCAB_BPE) {
        if (e->id[i] < 0 || e->id[j] < 0) return -1;
        return artr__merge_find(e->tk, e->id[i], e->id[j]);
    }
    if (e->kind == ARTR__VOCAB_SPM) {
        int end = e->next[j] == ARTR__NIL ? e->start[e->n_sym] : e->start[e->next[j]];
        id = artr__tok_find(v, e->buf + e->start[i], (size_t)(end - e->start[i]));
        if (id < 0 || !artr__type_mergeable(v->tokens[id].type)) return -1;
    } else { /* llama2.c: the texts of two tokens, any type, score above -1e10 */
        const artr__token *a = &v->tokens[e->id[i]], *b = &v->tokens[e->id[j]];
        id = artr__tok_find2(v, a->text, a->len, b->text, b->len);
        if (id < 0 || !(v->tokens[id].score > -1e10f)) return -1;
    }
    return v->tokens[id].score == v->tokens[id].score ? id : -1; /* a NaN score never merges */
}

/* The better of the candidates at symbols a < b: highest score (lowest rank), a on ties. */
static int artr__run_better(const artr__enc *e, int a, int b)
{
    int32_t ca = e->cand[a], cb = e->cand[b];
    if (cb < 0) return a;
    if (ca < 0) return b;
    if (e->kind == ARTR__VOCAB_BPE) return e->tk->merges[cb].rank < e->tk->merges[ca].rank ? b : a;
    return e->v->tokens[cb].score > e->v->tokens[ca].score ? b : a;
}

static int artr__run_winner(const artr__enc *e, int node)
{
    return node >= e->p2 ? node - e->p2 : e->win[node];
}

static void artr__run_update(artr__enc *e, int i)
{
    int k;
    e->cand[i] = artr__run_pair(e, i);
    for (k = (e->p2 + i) >> 1; k >= 1; k >>= 1)
        e->win[k] = (uint8_t)artr__run_better(e, artr__run_winner(e, 2 * k), artr__run_winner(e, 2 * k + 1));
}

/* SPM: a symbol that is no piece becomes its bytes' tokens, or <unk> if one is missing. */
static void artr__spm_fallback(artr__enc *e, const char *s, int n)
{
    int i;
    for (i = 0; i < n && e->tk->byte_id[(uint8_t)s[i]] >= 0; i++) {
    }
    if (i == n) {
        for (i = 0; i < n; i++) artr__emit(e, e->tk->byte_id[(uint8_t)s[i]]);
    } else if (e->tk->info.unk >= 0) {
        artr__emit(e, e->tk->info.unk);
    }
}

/* Merge the run's symbols, best pair first, until no pair is in the vocabulary. */
static void artr__run_merge(artr__enc *e)
{
    int n = e->n_sym, i, k;
    for (e->p2 = 1; e->p2 < n; e->p2 <<= 1) {
    }
    for (i = 0; i < e->p2; i++) {
        e->id[i] = i < n ? e->unit[i] : -1;
        e->next[i] = (uint8_t)(i + 1 < n ? i + 1 : ARTR__NIL);
        e->prev[i] = (uint8_t)(i > 0 ? i - 1 : ARTR__NIL);
    }
    for (i = 0; i < e->p2; i++) e->cand[i] = i < n ? artr__run_pair(e, i) : -1;
    for (k = e->p2 - 1; k >= 1; k--)
        e->win[k] = (uint8_t)artr__run_better(e, artr__run_winner(e, 2 * k), artr__run_winner(e, 2 * k + 1));
    for (;;) { /* each round joins the best pair (i, j) into i: at most n - 1 rounds */
        int j;
        i = artr__run_winner(e, 1);
        if (e->cand[i] < 0) break;
        j = e->next[i];
        e->id[i] = e->kind == ARTR__VOCAB_BPE ? e->tk->merges[e->cand[i]].result : e->cand[i];
        e->next[i] = e->next[j];
        if (e->next[j] != ARTR__NIL) e->prev[e->next[j]] = (uint8_t)i;
        e->next[j] = ARTR__NIL; /* j is gone: no candidate */
        artr__run_update(e, j);
        artr__run_update(e, i);
        if (e->prev[i] != ARTR__NIL) artr__run_update(e, e->prev[i]);
    }
}

/* Emit the merged symbols that start before unit `to`. */
static void artr__run_emit(artr__enc *e, int to)
{
    int i;
    for (i = 0; i != ARTR__NIL && i < to; i = e->next[i]) {
        if (e->id[i] >= 0) {
            artr__emit(e, e->id[i]);
        } else if (e->kind == ARTR__VOCAB_SPM) {
            int end = e->next[i] == ARTR__NIL ? e->start[e->n_sym] : e->start[e->next[i]];
            artr__spm_fallback(e, e->buf + e->start[i], end - e->start[i]);
        } else if (e->tk->info.unk >= 0) {
            artr__emit(e, e->tk->info.unk);
        }
    }
}

static void artr__run_flush(artr__enc *e)
{
    if (e->n_sym == 0) return;
    artr__run_merge(e);
    artr__run_emit(e, e->n_sym);
    e->n_sym = 0;
}

/* A full run with no safe boundary: merge it, keep the tokens that end at or before
   the middle (the last token boundary there; else the first one), and start the next
   run with the units after them, so each window decides tokens with ARTR__RUN / 2
   units of context on their right. */
static void artr__run_slide(artr__enc *e)
{
    int n = e->n_sym, cut = 0, i, k;
    artr__run_merge(e);
    for (i = e->next[0]; i != ARTR__NIL; i = e->next[i]) {
        if (i > ARTR__RUN / 2 && cut > 0) break;
        cut = i;
    }
    if (cut == 0) cut = n; /* one token spans the whole run */
    artr__run_emit(e, cut);
    for (k = cut; k < n; k++) e->unit[k - cut] = e->unit[k];
    if (e->kind == ARTR__VOCAB_SPM) {
        int base = e->start[cut];
        memmove(e->buf, e->buf + base, (size_t)(e->start[n] - base));
        for (k = cut; k <= n; k++) e->start[k - cut] = (uint16_t)(e->start[k] - base);
    }
    e->n_sym = n - cut;
}

/* Append a unit (token id, pair-set keys of its first and last character, SPM text).
   The run is merged first if no token can span from its last unit to this one, or
   slides on if it is full. */
static void artr__run_add(artr__enc *e, int32_t id, uint32_t key_first, uint32_t key_last,
                          const char *s, int n)
{
    int k = e->n_sym;
    if (k > 0 && artr__pair_safe(e->tk, e->last_key, key_first)) artr__run_flush(e);
    else if (k == ARTR__RUN) artr__run_slide(e);
    k = e->n_sym;
    e->unit[k] = id;
    if (e->kind == ARTR__VOCAB_SPM) {
        if (k == 0) e->start[0] = 0;
        memcpy(e->buf + e->start[k], s, (size_t)n);
        e->start[k + 1] = (uint16_t)(e->start[k] + n);
    }
    e->n_sym = k + 1;
    e->last_key = key_last;
}

/* ---- the three families ---- */

static void artr__spm_char(artr__enc *e, const char *s, int n, uint32_t key)
{
    int32_t id = artr__tok_find(e->v, s, (size_t)n);
    if (id >= 0 && !artr__type_mergeable(e->v->tokens[id].type)) id = -1;
    artr__run_add(e, id, key, key, s, n);
}

/* SentencePiece: characters, spaces escaped, optionally after a "▁". */
static void artr__spm_text(artr__enc *e, const uint8_t *s, size_t n, int prefix)
{
    size_t i;
    int len;
    uint32_t cp;
    if (prefix) artr__spm_char(e, "\xe2\x96\x81", 3, 0x2581);
    for (i = 0; i < n; i += (size_t)len) {
        len = artr__utf8(s + i, n - i, &cp);
        if (s[i] == ' ') artr__spm_char(e, "\xe2\x96\x81", 3, 0x2581);
        else artr__spm_char(e, (const char *)s + i, len, cp);
    }
    artr__run_flush(e);
}

/* Byte-level BPE: GPT-2 words, each byte its character's token, merged word by word. */
static void artr__bpe_text(artr__enc *e, const uint8_t *s, size_t n)
{
    size_t i, end;
    for (i = 0; i < n; i = end) {
        end = artr__gpt2_word(s, n, i);
        for (; i < end; i++) artr__run_add(e, e->tk->byte_id[s[i]], s[i], s[i], NULL, 0);
        artr__run_flush(e);
    }
}

static void artr__l2_token(artr__enc *e, int32_t id)
{
    const artr__token *t = &e->v->tokens[id];
    uint32_t first = t->len ? (uint8_t)t->text[0] : ARTR__NOKEY;
    uint32_t last = t->len ? (uint8_t)t->text[t->len - 1] : ARTR__NOKEY;
    artr__run_add(e, id, first, last, NULL, 0);
}

/* llama2.c run.c encode: BOS and " " (unless ARTR_TOKENIZE_NO_SPACE_PREFIX) join the
   merging; a "character" is a byte and the continuation bytes after it, at most 4; one
   the vocabulary lacks becomes bytes + 3. */
static void artr__l2_text(artr__enc *e, const uint8_t *s, size_t n, int flags)
{
    size_t i, k, len;
    if (flags & ARTR_TOKENIZE_BOS) artr__l2_token(e, e->tk->info.bos);
    if (n > 0 && e->tk->space_id >= 0 && !(flags & ARTR_TOKENIZE_NO_SPACE_PREFIX))
        artr__l2_token(e, e->tk->space_id);
    for (i = 0; i < n; i += len) {
        int32_t id;
        for (len = 1; len < 4 && i + len < n && (s[i + len] & 0xc0) == 0x80; len++) {
        }
        id = artr__tok_find(e->v, (const char *)s + i, len);
        if (id >= 0) {
            artr__l2_token(e, id);
            continue;
        }
        for (k = i; k < i + len; k++)
            if (e->tk->byte_id[s[k]] >= 0) artr__l2_token(e, e->tk->byte_id[s[k]]);
    }
    artr__run_flush(e);
}

/* First k in [lo, hi) whose special has byte d above c (above = 1) or at least c (0);
   every special there is longer than d bytes. */
static uint32_t artr__special_bound(const artr__enc *e, uint32_t lo, uint32_t hi, size_t d,
                                    uint8_t c, int above)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint8_t b = (uint8_t)e->v->tokens[e->tk->special[mid]].text[d];
        if (b < c || (above && b == c)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The longest special token that flags allow at s (n > 0 bytes), or -1. A walk down the
   sorted specials: [lo, hi) holds those that begin with s[0..d); its entries of length
   d (equal texts, user-defined first) are matches. O(match length * log n_special). */
static int32_t artr__special_at(const artr__enc *e, const uint8_t *s, size_t n, int flags, size_t *len)
{
    const artr__tok *tk = e->tk;
    const artr__token *tok = e->v->tokens;
    uint32_t lo = tk->special_at[s[0]], hi = tk->special_at[s[0] + 1];
    size_t d = 1;
    int32_t best = -1;
    while (lo < hi) {
        uint32_t a = lo, b = hi;
        if (tok[tk->special[lo]].len == d) { /* matches of length d, then the longer ones */
            const artr__token *t = &tok[tk->special[lo]];
            if (t->type == ARTR__T_USER || (flags & ARTR_TOKENIZE_SPECIAL)) {
                best = tk->special[lo];
                *len = d;
            }
            while (a < b) {
                uint32_t mid = a + (b - a) / 2;
                if (tok[tk->special[mid]].len == d) a = mid + 1;
                else b = mid;
            }
            lo = a;
        }
        if (lo >= hi || d >= n) break;
        a = artr__special_bound(e, lo, hi, d, s[d], 0);
        hi = artr__special_bound(e, a, hi, d, s[d], 1);
        lo = a;
        d++;
    }
    return best;
}

/* SPM and BPE: cut out special tokens, encode the text between them. */
static void artr__encode_text(artr__enc *e, const uint8_t *s, size_t n, int flags)
{
    const artr__tok *tk = e->tk;
    int scan = tk->n_user > 0 || ((flags & ARTR_TOKENIZE_SPECIAL) && tk->n_special > 0);
    int prefix = tk->info.add_space_prefix && !(flags & ARTR_TOKENIZE_NO_SPACE_PREFIX);
    int after_special = 1; /* SPM puts the prefix at the start and after every special */
    size_t i = 0, from = 0, len = 0;
    for (;;) {
        int32_t id = -1;
        while (scan && i < n && (id = artr__special_at(e, s + i, n - i, flags, &len)) < 0) i++;
        if (!scan || id < 0) i = n;
        if (i > from) {
            if (e->kind == ARTR__VOCAB_SPM) artr__spm_text(e, s + from, i - from, prefix && after_special);
            else artr__bpe_text(e, s + from, i - from);
            after_special = 0;
        }
        if (id < 0) return;
        artr__emit(e, id);
        after_special = 1;
        i += len;
        from = i;
    }
}

ARTRDEF artr_status artr_tokenize(const artr_model *m, const char *text, size_t len, int flags,
                                  int32_t *out, int max_out, int *n_out, artr_error *err)
{
    artr__enc e;
    const artr__tok *tk;
    if (!m || !n_out || (!text && len) || max_out < 0 || (!out && max_out))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_tokenize: NULL model, n_out, text or out, or max_out < 0");
    *n_out = 0;
    if (flags & ~(ARTR_TOKENIZE_BOS | ARTR_TOKENIZE_EOS | ARTR_TOKENIZE_SPECIAL | ARTR_TOKENIZE_NO_SPACE_PREFIX))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_tokenize: unknown flags 0x%x", (unsigned)flags);
    if (len > ARTR__TOKENIZE_MAX_LEN)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_tokenize: text of %zu bytes, at most %zu", len, ARTR__TOKENIZE_MAX_LEN);
    tk = m->vocab.tok;
    switch (tk->info.kind) {
    case ARTR__VOCAB_NONE:
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "the model has no vocabulary (no tokenizer.ggml.tokens, no tokenizer.bin)");
    case ARTR__VOCAB_OTHER:
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tokenizer.ggml.model is not \"llama\" or \"gpt2\": artr cannot tokenize with it");
    case ARTR__VOCAB_BPE:
        if (!tk->bpe_pre_ok)
            return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tokenizer.ggml.pre '%.*s': artr implements the GPT-2 pre-tokenizer only",
                              artr__plen(tk->pre_len), tk->pre);
        break;
    }
    if ((flags & ARTR_TOKENIZE_BOS) && tk->info.bos < 0)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_tokenize: BOS asked for, but the model has no BOS token");
    if ((flags & ARTR_TOKENIZE_EOS) && tk->info.eos < 0)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_tokenize: EOS asked for, but the model has no EOS token");
    e.v = &m->vocab;
    e.tk = tk;
    e.kind = tk->info.kind;
    e.out = out;
    e.max_out = max_out;
    e.n = 0;
    e.n_sym = 0;
    e.last_key = ARTR__NOKEY;
    if (e.kind == ARTR__VOCAB_LLAMA2C) {
        artr__l2_text(&e, (const uint8_t *)text, len, flags);
    } else {
        if (flags & ARTR_TOKENIZE_BOS) artr__emit(&e, tk->info.bos);
        if (len) artr__encode_text(&e, (const uint8_t *)text, len, flags);
    }
    if (flags & ARTR_TOKENIZE_EOS) artr__emit(&e, tk->info.eos);
    *n_out = e.n;
    if (e.n > max_out)
        return ARTR__FAIL(err, ARTR_E_SPACE, "artr_tokenize: the text has %d ids, out has room for %d",
                          e.n, max_out);
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF const artr_vocab_info *artr_model_vocab(const artr_model *m)
{
    return m ? &m->vocab.tok->info : NULL;
}

ARTRDEF const char *artr_token_piece(const artr_model *m, int32_t id, size_t *len)
{
    if (!m || !m->vocab.tokens || id < 0 || id >= m->vocab.n) return NULL;
    if (len) *len = m->vocab.tokens[id].len;
    return m->vocab.tokens[id].text;
}

/* ---- detokenizer ---- */

/* Decoded bytes go through a spool that stores the first cap, counts all, and keeps the
   last four (to hold back an unfinished character). */
typedef struct artr__spool {
    char *dst;
    size_t cap, n;
    uint8_t tail[4];
} artr__spool;

static void artr__spool_put(artr__spool *k, const uint8_t *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (k->n < k->cap) k->dst[k->n] = (char)s[i];
        k->n++;
        memmove(k->tail, k->tail + 1, 3);
        k->tail[3] = s[i];
    }
}

static int artr__hex(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

/* A token's bytes as its family decodes them. strip: drop one leading space. */
static void artr__detok_piece(const artr_model *m, const artr_detok *d, int32_t id, int strip,
                              artr__spool *k)
{
    const artr__token *t = &m->vocab.tokens[id];
    const uint8_t *s = (const uint8_t *)t->text;
    int kind = m->vocab.tok->info.kind;
    size_t i = 0, n = t->len;
    uint32_t cp;
    int len;
    if (t->type == ARTR__T_CONTROL) {
        if (d->flags & ARTR_DETOK_SPECIAL) artr__spool_put(k, s, n);
        return;
    }
    if (t->type == ARTR__T_BYTE && n == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' &&
        artr__hex(s[3]) >= 0 && artr__hex(s[4]) >= 0 && s[5] == '>') {
        uint8_t b = (uint8_t)(artr__hex(s[3]) * 16 + artr__hex(s[4]));
        artr__spool_put(k, &b, 1);
        return;
    }
    if (kind == ARTR__VOCAB_SPM && t->type == ARTR__T_UNKNOWN) {
        artr__spool_put(k, (const uint8_t *)" \xe2\x81\x87 ", 5); /* sentencepiece's " ⁇ " */
        return;
    }
    if (kind == ARTR__VOCAB_BPE && t->type != ARTR__T_USER) { /* byte-level characters */
        for (; i < n; i += (size_t)len) {
            int b;
            len = artr__utf8(s + i, n - i, &cp);
            b = artr__bpe_byte(cp);
            if (b >= 0) {
                uint8_t c = (uint8_t)b;
                artr__spool_put(k, &c, 1);
            } else {
                artr__spool_put(k, s + i, (size_t)len);
            }
        }
        return;
    }
    if (kind == ARTR__VOCAB_SPM) { /* "▁" is a space */
        if (strip && n >= 3 && memcmp(s, "\xe2\x96\x81", 3) == 0) i = 3;
        while (i < n) {
            if (n - i >= 3 && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
                artr__spool_put(k, (const uint8_t *)" ", 1);
                i += 3;
            } else {
                artr__spool_put(k, s + i++, 1);
            }
        }
        return;
    }
    if (strip && n > 0 && s[0] == ' ') i = 1; /* llama2.c: pieces hold spaces already */
    artr__spool_put(k, s + i, n - i);
}

static artr_status artr__detok_check(const artr_model *m, const artr_detok *d, char *out, size_t cap,
                                     size_t *n, artr_error *err)
{
    int kind;
    if (!m || !d || !n || (!out && cap))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_detok: NULL model, state, n or out");
    *n = 0;
    if (d->n_pending < 0 || d->n_pending > 3 || (d->flags & ~ARTR_DETOK_SPECIAL))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_detok: state not zeroed, or unknown flags 0x%x", (unsigned)d->flags);
    kind = m->vocab.tok->info.kind;
    if (kind != ARTR__VOCAB_SPM && kind != ARTR__VOCAB_BPE && kind != ARTR__VOCAB_LLAMA2C)
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "artr_detok: the model has no vocabulary artr can decode");
    return ARTR_OK;
}

ARTRDEF artr_status artr_detok_push(const artr_model *m, artr_detok *d, int32_t id, char *out,
                                    size_t cap, size_t *n, artr_error *err)
{
    artr__spool count, write;
    int hold, strip, type, tail_n;
    artr_status st = artr__detok_check(m, d, out, cap, n, err);
    if (st != ARTR_OK) return st;
    if (id < 0 || id >= m->vocab.n)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_detok_push: token %d outside the vocabulary of %d", (int)id, m->vocab.n);
    type = m->vocab.tokens[id].type;
    strip = !d->in_text && m->vocab.tok->info.add_space_prefix;
    memset(&count, 0, sizeof count);
    artr__spool_put(&count, d->pending, (size_t)d->n_pending);
    artr__detok_piece(m, d, id, strip, &count);
    tail_n = count.n < 4 ? (int)count.n : 4;
    hold = artr__utf8_unfinished(count.tail + 4 - tail_n, tail_n);
    *n = count.n - (size_t)hold;
    if (*n > cap)
        return ARTR__FAIL(err, ARTR_E_SPACE, "artr_detok_push: token %d needs %zu bytes, out has %zu",
                          (int)id, *n, cap);
    memset(&write, 0, sizeof write);
    write.dst = out;
    write.cap = *n;
    artr__spool_put(&write, d->pending, (size_t)d->n_pending);
    artr__detok_piece(m, d, id, strip, &write);
    memcpy(d->pending, count.tail + 4 - hold, (size_t)hold);
    d->n_pending = hold;
    d->in_text = !(type == ARTR__T_CONTROL || type == ARTR__T_USER);
    artr__ok(err);
    return ARTR_OK;
}

ARTRDEF artr_status artr_detok_flush(const artr_model *m, artr_detok *d, char *out, size_t cap,
                                     size_t *n, artr_error *err)
{
    artr_status st = artr__detok_check(m, d, out, cap, n, err);
    if (st != ARTR_OK) return st;
    *n = (size_t)d->n_pending;
    if (*n > cap)
        return ARTR__FAIL(err, ARTR_E_SPACE, "artr_detok_flush: %zu bytes held, out has %zu", *n, cap);
    if (*n) memcpy(out, d->pending, *n);
    d->n_pending = 0;
    d->in_text = 0;
    artr__ok(err);
    return ARTR_OK;
}

#endif /* ARTR__IMPLEMENTED */
#endif /* ARTR_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
This software is available under 2 licenses -- choose whichever you prefer.
------------------------------------------------------------------------------
ALTERNATIVE A - MIT License
Copyright (c) 2026 the artr authors
Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:
The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
ALTERNATIVE B - Public Domain (www.unlicense.org)
This is free and unencumbered software released into the public domain.
Anyone is free to copy, modify, publish, use, compile, sell, or distribute this
software, either in source code form or as a compiled binary, for any purpose,
commercial or non-commercial, and by any means.
In jurisdictions that recognize copyright laws, the author or authors of this
software dedicate any and all copyright interest in the software to the public
domain. We make this dedication for the benefit of the public at large and to
the detriment of our heirs and successors. We intend this dedication to be an
overt act of relinquishment in perpetuity of all present and future rights to
this software under copyright law.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN
ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
------------------------------------------------------------------------------
*/
