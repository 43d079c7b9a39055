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
     ARTR_NO_DISPATCH         x86 without -mavx2: no run-time AVX2 (the references)
     ARTR_NO_QUANT_ACT        SIMD builds: block-type weights times float activations
                              (slower; no rounding of the activations to 8 bits)
     ARTR_ASSERT(x)           internal invariants (default assert); no file can fail one
     ARTR_NO_FAILURE_STRINGS  error messages shrink to status names (saves flash)
     ARTR_CLOCK() / ARTR_NO_CLOCK  seconds (double) on a monotonic clock for the adaptive
                              draft policy (default omp_get_wtime or clock_gettime) / none
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

   Kernels. The weight-times-activation dot products have AVX2/FMA versions (the only
   ones with -mavx2 -mfma or -march=native; F16 also needs F16C; a gcc or clang build
   for x86 without them compiles them by target attributes and each context uses them
   when CPUID shows AVX2, FMA and F16C, see artr_ctx_params.kernels) and NEON versions
   (AArch64; 32-bit NEON without F16 conversion uses the reference for F16);
   ARTR_NO_SIMD keeps the plain-C references. They
   add in another order than the references, so logits differ from a scalar build by
   float rounding (tested: |fast - ref| <= 1e-5 * sum |w*x| per dot product), but within
   a build batch equals steps still holds exactly. For every block type the SIMD
   builds also round each activation row to 8-bit blocks (once per matrix multiply, as
   llama.cpp: blocks of 32, or of 256 with sums of 16 for the k-quants) and sum in
   integers: faster, but logits move by the activations' rounding (bounded per dot
   product by sum |w| * max|x| / 254 per block; 0.2-0.3 on the test models' logits).
   ARTR_NO_QUANT_ACT keeps float activations. Tables of kernels (ARTR__KERNEL_ROWS, §3) say
   what each weight type has: its exact to-float, the reference and the build's dot
   kernels, and the multi-row and multi-token variants.

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
       Weight types F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K,
       Q6_K, IQ4_NL, IQ4_XS (mixed in one file, as llama-quantize's Q4_K_M writes them);
       norms and biases F32. Every other ggml type is recognised (sizes checked, shown
       by name) but not run.
     llama2.c legacy (version 0) checkpoints: 7 int32 header, float32 weights, shared or
       separate classifier, plus its tokenizer.bin (artr_model_params.vocab/vocab_path).

   Tokenizer. artr_tokenize turns text into ids with the model's own vocabulary:
   SentencePiece BPE (GGUF tokenizer.ggml.model "llama"), byte-level BPE ("gpt2", with
   the pre-tokenizer tokenizer.ggml.pre names: gpt2, llama3, qwen2, qwen35, starcoder,
   default and their aliases), or llama2.c's tokenizer.bin. It allocates nothing and is
   linear in the text. artr_token_is_eog says which ids end generation (EOS, eot/eom,
   <|im_end|>, <|eot_id|>, <end_of_turn>, ...). artr_chat_format writes a conversation
   in the model's chat format (ChatML, Llama 2/3, Gemma, Phi-3/4, Zephyr, Mistral,
   DeepSeek V2/R1; found
   in tokenizer.chat_template by artr_chat_template) without a Jinja engine. artr_detok_push streams ids back to text, holding back a UTF-8
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
     0.7.0 (2026-12-02) Lookahead decoding (artr_step_lookahead: Jacobi iterations over a
                        2D window and the context's n-grams feed a pool; candidates verified
                        in one tree call, each guess attending to its own path); token trees
                        for speculative decoding (artr_draft_params.branch); drafts whose
                        vocabulary differs in size (ids shared, exact); the policy probes
                        model-free sources rarely (their acceptance is checked for free).
                        artr_step_jacobi and artr_step_spec_jacobi follow artr_ctx_set_draft:
                        the adaptive policy picks their window or steps aside (their own
                        acceptance sources), draft_max caps and draft_min gates the window.
                        F32/F16 one-row-by-two-token kernels.
     0.6.0 (2026-12-02) run-time x86 dispatch: a build without -mavx2 runs the AVX2
                        kernels where the CPU has them (artr_ctx_params.kernels,
                        artr_ctx_kernels; ARTR_NO_DISPATCH); eight-row kernels for the
                        32-element block types (exact block integers, a row-interleaved
                        tile per call for two or more tokens); AVX2 four-row-by-two-token
                        kernels for the k-quants and IQ4_XS.
                        Prompt lookup decoding (artr_step_lookup: n-gram guesses from the
                        context, exact point-mass acceptance); artr_ctx_set_draft: draft_min,
                        draft_max, p_min and an adaptive policy that picks the draft length
                        from measured call times and acceptance or steps aside (ARTR_CLOCK);
                        artr_stats.aside, probes, short_drafts, cut, t_decode, t_verify, last_k.
     0.5.0 (2026-12-02) architectures qwen3, gemma3 (sliding-window layers in a ring
                        cache), phi3 and Llama 3's rope_freqs, in the one forward pass;
                        artr_config.head_dim; tools/convert.py converts
                        Qwen3, Gemma 3, Phi-3 and Llama 3 rope scaling. Weight types Q4_1,
                        Q5_0, Q5_1, IQ4_NL, Q2_K..Q6_K, IQ4_XS (dequantized bit for bit as
                        gguf-py; reference, AVX2 and NEON kernels; Q8K activations for the
                        k-quants) chosen in one kernel table; artr_quantize_f32 writes them
                        all (llama-quantize's blocks). Pre-tokenizers by tokenizer.ggml.pre
                        (Llama 3, Qwen2, Qwen3.5, StarCoder, default; artr_model_params.
                        tokenizer_pre), end-of-generation ids (artr_token_is_eog), chat
                        templates (artr_chat_template, artr_chat_format). GGUF structural
                        rules (names <= 64 bytes, no overlapping tensor data, bools 0/1).
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
#define ARTR_VERSION_MINOR 7
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
    const char *tokenizer_pre; /* NULL: tokenizer.ggml.pre; else the pre-tokenizer to use
                                 ("llama3", "qwen2", ...: README); only read at load      */
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
/* Convert elements [first, first + n) of a tensor (flat order) to float: every weight
   type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, IQ4_NL, IQ4_XS; bit for
   bit what gguf-py's dequantize gives) and I8, I16, I32; for block types first and n
   must be multiples of the block (32, or 256). Allocates nothing. */
ARTRDEF artr_status artr_tensor_to_f32(const artr_tensor *t, int64_t first, int64_t n,
                                       float *dst, artr_error *err);
/* The other way: n floats (a multiple of the type's block: 32, or 256 for the k-quants
   and IQ4_XS) to type F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K,
   Q5_K, Q6_K, IQ4_NL or IQ4_XS, written to dst (dst_size bytes; too small is
   ARTR_E_SPACE). Up to Q5_1: bit for bit what gguf-py's gguf.quants.quantize and ggml's
   reference quantizers write for finite input (NaN and Inf give well-defined but
   unspecified blocks). The k-quants and IQ4: the searches llama-quantize runs without an
   importance matrix, with its error. Allocates nothing; no alignment needed. */
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
    int kernels;      /* ARTR_KERNELS_AUTO (0): the build's SIMD kernels where this CPU
                         has them (on x86 a build without -mavx2 checks for AVX2/FMA/F16C
                         at creation); ARTR_KERNELS_SCALAR: the plain-C references, with
                         float activations (a scalar build's arithmetic)               */
} artr_ctx_params;

enum { ARTR_KERNELS_AUTO = 0, ARTR_KERNELS_SCALAR = 1 };

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
    int64_t aside;        /* adaptive policy: steps made plain, no guess expected to pay  */
    int64_t probes;       /* adaptive policy: verifications made to re-measure after that */
    int64_t short_drafts; /* steps made plain: a draft shorter than draft_min (lookup: no
                             earlier match of the last tokens)                             */
    int64_t cut;          /* drafts p_min stopped before k                               */
    float t_decode;       /* measured seconds of a one-token step call (moving average)  */
    float t_verify;       /* ... of a verification call of the last step's size           */
    int last_k;           /* guesses the last verification checked                        */
} artr_stats;
ARTRDEF void artr_ctx_stats(const artr_ctx *c, artr_stats *st);
ARTRDEF const artr_model *artr_ctx_model(const artr_ctx *c);
/* The kernels the context runs: "avx2", "avx2 (chosen at run time)" (an x86 build without
   -mavx2 on a CPU with AVX2, FMA and F16C), "neon" or "scalar" ("" for NULL). */
ARTRDEF const char *artr_ctx_kernels(const artr_ctx *c);
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
   artr_ctx_params.n_layers = L (its first L layers draft, sharing the weights). The
   vocabularies may differ in size (a family's models pad theirs differently): ids are
   shared, a draft id the target lacks is rejected (p = 0) and target ids past the
   draft's have q = 0; output stays exact, and the draft pays only as far as its ids mean
   the target's tokens (artr-text checks that, as llama.cpp does). */
ARTRDEF artr_status artr_step_speculative(artr_ctx *target, artr_ctx *draft, artr_sampler *s, int k,
                                          int32_t *out, int max_out, int *n_out, artr_error *err);
/* Jacobi decoding (Santilli et al. 2023): refine a window of guesses in parallel; every
   guess that matches the model's own prediction from a verified prefix is kept. Greedy
   only (s->temperature 0): the output equals plain greedy. Guesses carry over between
   calls and unguessed slots are seeded from an n-gram pool of past outputs (the token
   seen after the previous one, as lookahead decoding's pool, Fu et al. 2024). Under
   artr_ctx_set_draft's adaptive policy both Jacobi steps verify a window <= window that
   the policy picks, or make a plain step where no window is expected to pay. */
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

/* Prompt lookup (n-gram) decoding (Saxena 2023; llama.cpp's lookup): guesses come from
   c's own history, no draft model. The last n tokens (n from ngram_max, 0 = 3, down to
   1) are looked up at their most recent earlier occurrence and the k tokens that followed
   it are verified in ONE forward as point-mass proposals: a guess g is kept with
   probability p(g), else the next token is drawn from p with g removed (Leviathan et al.
   2023 with q = the point mass). Greedy output equals plain greedy; sampling is exact. No
   match: a plain step. Pays off when the output repeats its input (quoting, editing). */
ARTRDEF artr_status artr_step_lookup(artr_ctx *c, artr_sampler *s, int k, int ngram_max,
                                     int32_t *out, int max_out, int *n_out, artr_error *err);

/* Lookahead decoding (Fu et al. 2024): no draft model. A 2D window of `window` columns
   and ngram - 1 levels runs Jacobi iterations (each column's top level predicts one more
   token; the column and that token form an n-gram) into a pool that also holds the
   context's own n-grams (so it also finds what prompt lookup finds). The pool's n-grams
   that begin with the last token (n_verify at most) and the window itself are verified
   in ONE forward call as a tree: each guess attends to its own prefix only, and the
   longest accepted path is kept. At each node the distinct guesses are tried as
   point-mass proposals in turn, each against what the ones before left (Miao et al.
   2024): greedy output equals plain greedy and sampling is exact. 0 picks the default
   (window 4, ngram 3 (2..8), n_verify 4); a call holds at most 64 nodes, n_batch and
   the room left. Needs n_batch >= 2; with the adaptive policy (artr_ctx_set_draft) it
   steps aside when the measured tree call does not pay. */
ARTRDEF artr_status artr_step_lookahead(artr_ctx *c, artr_sampler *s, int window, int ngram, int n_verify,
                                        int32_t *out, int max_out, int *n_out, artr_error *err);

/* How many guesses artr_step_speculative and artr_step_lookup verify on context c (the
   target), and how wide a window artr_step_jacobi and artr_step_spec_jacobi verify (a
   window of W is W guesses; each strategy keeps its own acceptance): kept by c until set
   again; NULL or {0}: every step verifies its k or window. None of it changes greedy
   output (every choice is exact, the acceptance test never changes); with sampling the
   distribution stays exact but measured times make runs differ unless verify_cost is set. */
typedef struct artr_draft_params {
    int adaptive;      /* 1: each step picks the guess count (<= k or the window) with the
                          most expected tokens per second, from c's measured call times
                          (ARTR_CLOCK) and the acceptance so far, or a plain step when none
                          is expected to beat one (stepping aside; re-probing after
                          probe_every of them, a draft model only until 2 probes in a row
                          failed to pay)                                                 */
    int draft_min;     /* a draft or window shorter than this is not verified: a plain step
                          (0: 1)                                                          */
    int draft_max;     /* at most this many guesses (0: the step's k or window)            */
    float p_min;       /* draft models: stop drafting at a position where the draft's
                          softmax probability of its likeliest token is below p_min (0: off) */
    float verify_cost; /* > 0: a call on n tokens costs 1 + verify_cost * (n - 1) one-token
                          calls and a draft token (a Jacobi window's guess: its sampling
                          work) draft_cost, instead of measured times: reproducible
                          choices. 0: measure (0.25 without a clock)                      */
    float draft_cost;
    int probe_every;   /* stepped aside: verify once after this many plain steps (0: 16;
                          doubled after each probe that did not pay, up to 16 times)      */
    int branch;        /* draft models, token trees: >= 2 also verifies, beside each draft
                          token, the draft's next branch - 1 likeliest tokens (by its
                          logits) in the same call, as leaves tried where the draft token
                          fails; 0 or 1: a chain. At most 8                               */
} artr_draft_params;
ARTRDEF artr_status artr_ctx_set_draft(artr_ctx *c, const artr_draft_params *p, artr_error *err);

/* ---- tokenizer ------------------------------------------------------------------ */

/* Tokenizer families. SPM: SentencePiece BPE (GGUF tokenizer.ggml.model "llama"). BPE:
   byte-level BPE ("gpt2") after the pre-tokenizer tokenizer.ggml.pre names (gpt2, llama3,
   qwen2, qwen35, starcoder, default and their aliases: README). LLAMA2C: llama2.c's
   tokenizer.bin.
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
    const char *pre;            /* BPE: the pre-tokenizer's name ("llama-bpe"; "gpt2" if the
                                   file names none), NULL if artr has none of that name */
    const int32_t *eog;         /* (n_eog) end-of-generation ids, ascending: see
                                   artr_token_is_eog */
    int n_eog;
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

/* 1 if generation should stop at id: EOS, the file's eot/eom ids, or a token whose text
   ends a turn (<|im_end|>, <|eot_id|>, <|eom_id|>, <end_of_turn>, <|end|>,
   <|endoftext|>, ...). 0 otherwise, and for a bad id or NULL. */
ARTRDEF int artr_token_is_eog(const artr_model *m, int32_t id);

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

/* ---- chat templates ------------------------------------------------------------- */

/* One message of a conversation; role and content NUL-terminated UTF-8. Roles: "system",
   "user", "assistant" (ChatML, Llama 3 and Gemma pass others through, Phi, Zephyr and
   DeepSeek leave them out, Mistral and Llama 2 refuse them; DeepSeek-R1 also takes "tool"). */
typedef struct artr_chat_msg {
    const char *role;
    const char *content;
} artr_chat_msg;

/* Chat formats: what each family's published Jinja template renders, written out. */
enum { ARTR_CHAT_NONE = 0, ARTR_CHAT_CHATML = 1, ARTR_CHAT_LLAMA3 = 2, ARTR_CHAT_GEMMA = 3,
       ARTR_CHAT_PHI3 = 4, ARTR_CHAT_PHI4 = 5, ARTR_CHAT_ZEPHYR = 6, ARTR_CHAT_MISTRAL_V1 = 7,
       ARTR_CHAT_MISTRAL_V3 = 8, ARTR_CHAT_MISTRAL_V3_TEKKEN = 9, ARTR_CHAT_MISTRAL_V7 = 10,
       ARTR_CHAT_LLAMA2 = 11, ARTR_CHAT_LLAMA2_SYS = 12, ARTR_CHAT_DEEPSEEK2 = 13, ARTR_CHAT_DEEPSEEK3 = 14 };

/* The chat format called name ("chatml", "llama3", "gemma", "phi3", "phi4", "zephyr",
   "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7", "llama2", "llama2-sys",
   "deepseek2", "deepseek3") or, with name NULL, the
   one m's tokenizer.chat_template is recognised as (by llama.cpp's markers), in *tmpl.
   ARTR_E_UNSUPPORTED, with the list of names, when there is none. */
ARTRDEF artr_status artr_chat_template(const artr_model *m, const char *name, int *tmpl, artr_error *err);

/* The prompt text for msgs[0 .. n_msgs) in format tmpl, into out (cap bytes, NUL added):
   *len bytes. add_assistant: end with the opening of the assistant's turn. BOS is not
   written (tokenize with ARTR_TOKENIZE_BOS when the model adds one); the end-of-sequence
   text some formats write is m's EOS token ("</s>", "<|endoftext|>", "<｜end▁of▁sentence｜>" when
   m is NULL), and llama2-sys writes m's BOS text ("<s>") before each [INST] but the first.
   content_at (NULL, or 2 * n_msgs): where each content starts and ends in out (0, 0 if
   the format leaves it out), so a caller can tokenize what users typed without special
   tokens. cap too small: ARTR_E_SPACE, the length needed in *len. Allocates nothing. */
ARTRDEF artr_status artr_chat_format(const artr_model *m, int tmpl, const artr_chat_msg *msgs, int n_msgs,
                                     int add_assistant, char *out, size_t cap, size_t *len,
                                     size_t *content_at, artr_error *err);

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
               artr_step_spec_jacobi, artr_step_lookup, artr_step_lookahead,
               artr_ctx_set_draft                                               §8
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

/* ARTR_CLOCK(): seconds on a monotonic clock, as a double; only the adaptive draft policy
   (artr_draft_params) reads it. Defaults: omp_get_wtime under OpenMP, else POSIX
   clock_gettime where <time.h> has CLOCK_MONOTONIC; ARTR_NO_CLOCK: none. */
#if !defined(ARTR_CLOCK) && !defined(ARTR_NO_CLOCK)
#if defined(_OPENMP)
#define ARTR_CLOCK() omp_get_wtime()
#elif defined(__unix__) || defined(__APPLE__)
#include <time.h>
#ifdef CLOCK_MONOTONIC
static double artr__clock_posix(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#define ARTR_CLOCK() artr__clock_posix()
#endif
#endif
#endif

/* x86 SIMD. ARTR__AVX2: the AVX2/FMA kernels are compiled. Either the compiler targets
   AVX2 and FMA (-mavx2 -mfma, -march=native: ARTR__AVX2_NATIVE, the kernels are the only
   ones used), or it does not and it is GCC or Clang on x86 (ARTR__X86_DISPATCH): then
   the kernels are compiled for AVX2, FMA and F16C by target attributes (ARTR__AVX2_BEGIN
   .. _END around each AVX2 part) and each context picks them at creation when the CPU
   has those features (artr__cpu_avx2), so a plain `cc -O2` build runs them too.
   ARTR_NO_DISPATCH: no run-time choice (reference kernels without -mavx2). ARTR__F16C:
   the AVX2 code may convert halves with F16C. */
#if !defined(ARTR_NO_SIMD) && defined(__AVX2__) && defined(__FMA__)
#define ARTR__AVX2 1
#define ARTR__AVX2_NATIVE 1
#if defined(__F16C__)
#define ARTR__F16C 1
#endif
#elif !defined(ARTR_NO_SIMD) && !defined(ARTR_NO_DISPATCH) && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__clang__) ? (__clang_major__ >= 6) : (defined(__GNUC__) && __GNUC__ >= 5))
#define ARTR__AVX2 1
#define ARTR__X86_DISPATCH 1
#define ARTR__F16C 1
#endif
#if !defined(ARTR_NO_SIMD) && defined(__ARM_NEON)
#define ARTR__NEON 1
#endif
#if ARTR__AVX2
#include <immintrin.h>
#endif
#if ARTR__X86_DISPATCH
#include <cpuid.h>
#if defined(__clang__)
#define ARTR__AVX2_BEGIN \
    _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,f16c\"))), apply_to = function)")
#define ARTR__AVX2_END _Pragma("clang attribute pop")
#else
#define ARTR__AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,f16c\")")
#define ARTR__AVX2_END _Pragma("GCC pop_options")
#endif
#else
#define ARTR__AVX2_BEGIN
#define ARTR__AVX2_END
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

/* The other block types, each as gguf-py's dequantize_blocks computes it (quants.py):
   the same float32 products and sums in the same order, so the floats are equal bit for
   bit. A product and a sum that gguf-py rounds separately go through artr__mad_exact so
   that no compiler fuses them into one FMA. Layouts: ggml-common.h. Nibble order of the
   32-element types: low nibbles are elements 0..15, high nibbles 16..31. */
static float artr__mad_exact(float a, float b, float c) /* a * b + c, two roundings */
{
    volatile float p = a * b;
    return p + c;
}

/* The 16 values of IQ4_NL and IQ4_XS (ggml-common.h's kvalues_iq4nl). */
static const int8_t artr__iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                              1,    13,   25,  38,  53,  69,  89,  113};

/* Q4_1 block (20 bytes): half d, half m, 16 bytes of nibbles; x = d * q + m. */
static void artr__dequant_q4_1_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    int64_t b;
    int j;
    for (b = 0; b < n_blocks; b++, src += 20, dst += ARTR__QK) {
        float d = artr__f16_to_f32(artr__le16(src)), m = artr__f16_to_f32(artr__le16(src + 2));
        for (j = 0; j < 16; j++) {
            dst[j] = artr__mad_exact(d, (float)(src[4 + j] & 0x0f), m);
            dst[j + 16] = artr__mad_exact(d, (float)(src[4 + j] >> 4), m);
        }
    }
}

/* The 5-bit value of element j of a Q5_0 / Q5_1 block: its nibble and bit j of qh. */
static int artr__q5_value(const uint8_t *qh, const uint8_t *qs, int j)
{
    uint32_t h = artr__le32(qh);
    int lo = j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4;
    return lo | (int)((h >> j) & 1) << 4;
}

/* Q5_0 block (22 bytes): half d, uint32 qh (bit j: the fifth bit of element j), 16 bytes
   of nibbles; x = d * (q - 16). */
static void artr__dequant_q5_0_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    int64_t b;
    int j;
    for (b = 0; b < n_blocks; b++, src += 22, dst += ARTR__QK) {
        float d = artr__f16_to_f32(artr__le16(src));
        for (j = 0; j < ARTR__QK; j++) dst[j] = d * (float)(artr__q5_value(src + 2, src + 6, j) - 16);
    }
}

/* Q5_1 block (24 bytes): half d, half m, uint32 qh, 16 bytes of nibbles; x = d * q + m. */
static void artr__dequant_q5_1_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    int64_t b;
    int j;
    for (b = 0; b < n_blocks; b++, src += 24, dst += ARTR__QK) {
        float d = artr__f16_to_f32(artr__le16(src)), m = artr__f16_to_f32(artr__le16(src + 2));
        for (j = 0; j < ARTR__QK; j++) dst[j] = artr__mad_exact(d, (float)artr__q5_value(src + 4, src + 8, j), m);
    }
}

/* IQ4_NL block (18 bytes): half d, 16 bytes of nibbles indexing artr__iq4nl_values. */
static void artr__dequant_iq4_nl_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                     int64_t n_blocks)
{
    int64_t b;
    int j;
    for (b = 0; b < n_blocks; b++, src += 18, dst += ARTR__QK) {
        float d = artr__f16_to_f32(artr__le16(src));
        for (j = 0; j < 16; j++) {
            dst[j] = d * (float)artr__iq4nl_values[src[2 + j] & 0x0f];
            dst[j + 16] = d * (float)artr__iq4nl_values[src[2 + j] >> 4];
        }
    }
}

/* ---- the k-quants: super-blocks of 256 ---- */
#define ARTR__QKK 256

/* Q2_K element e (0..255) of a block's 64 bytes qs: 2 bits. Elements 128h + 32s + k sit
   in byte 32h + k at bits 2s. Q3_K and Q6_K's high bits use the same order. */
static int artr__q2_bits(const uint8_t *qs, int e)
{
    return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

/* Q2_K block (84 bytes): scales[16] (low nibble: scale, high: min, per 16 elements),
   qs[64], half d, half dmin; x = (d * sc) * q - (dmin * m). */
static void artr__dequant_q2_k_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    int64_t b;
    int e;
    for (b = 0; b < n_blocks; b++, src += 84, dst += ARTR__QKK) {
        float d = artr__f16_to_f32(artr__le16(src + 80)), dmin = artr__f16_to_f32(artr__le16(src + 82));
        for (e = 0; e < ARTR__QKK; e++) {
            uint8_t sc = src[e / 16];
            float dl = d * (float)(sc & 0x0f), ml = dmin * (float)(sc >> 4);
            dst[e] = artr__mad_exact(dl, (float)artr__q2_bits(src + 16, e), -ml);
        }
    }
}

/* Q3_K's 16 signed 6-bit scales from its 12 bytes: scale i has its low 4 bits in byte
   i % 8 (nibble i / 8) and its high 2 bits in byte 8 + i % 4 (bits 2 * (i / 4)); minus 32. */
static int artr__q3_k_scale(const uint8_t *s, int i)
{
    int lo = (s[i % 8] >> (4 * (i / 8))) & 0x0f, hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
    return (lo | hi << 4) - 32;
}

/* Q3_K block (110 bytes): hmask[32] (element 32s + k: bit s of byte k), qs[64] (low 2
   bits, Q2_K's order), scales[12], half d; q = low - 4 where the hmask bit is 0;
   x = (d * scale) * q. */
static int artr__q3_k_value(const uint8_t *blk, int e)
{
    int hbit = (blk[e % 32] >> (e / 32)) & 1;
    return artr__q2_bits(blk + 32, e) - (hbit ? 0 : 4);
}

static void artr__dequant_q3_k_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    int64_t b;
    int e;
    for (b = 0; b < n_blocks; b++, src += 110, dst += ARTR__QKK) {
        float d = artr__f16_to_f32(artr__le16(src + 108));
        for (e = 0; e < ARTR__QKK; e++)
            dst[e] = d * (float)artr__q3_k_scale(src + 96, e / 16) * (float)artr__q3_k_value(src, e);
    }
}

/* Q4_K / Q5_K's eight 6-bit scales and mins from 12 bytes (ggml's get_scale_min_k4). */
static void artr__k4_scale_min(const uint8_t *s, int j, int *sc, int *m)
{
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0f) | (s[j - 4] >> 6) << 4;
        *m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
    }
}

/* Q4_K element e's nibble in qs[128]: elements 64c + k (k < 32) are the low nibbles of
   bytes 32c + k, 64c + 32 + k the high nibbles. Q5_K's low four bits likewise. */
static int artr__k4_nibble(const uint8_t *qs, int e)
{
    uint8_t v = qs[32 * (e / 64) + e % 32];
    return (e % 64) < 32 ? v & 0x0f : v >> 4;
}

/* Q4_K block (144 bytes): half d, half dmin, scales[12], qs[128]; per 32 elements j,
   x = (d * sc_j) * q - (dmin * m_j). Q5_K (176 bytes) adds qh[32] before qs: bit j of
   byte k is the fifth bit of element 32j + k. */
static void artr__dequant_k45_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                  int64_t n_blocks, int five)
{
    int64_t b;
    int e, j, sc, m;
    size_t bytes = five ? 176 : 144;
    for (b = 0; b < n_blocks; b++, src += bytes, dst += ARTR__QKK) {
        float d = artr__f16_to_f32(artr__le16(src)), dmin = artr__f16_to_f32(artr__le16(src + 2));
        const uint8_t *qs = src + (five ? 48 : 16);
        for (j = 0; j < 8; j++) {
            float dl, ml;
            artr__k4_scale_min(src + 4, j, &sc, &m);
            dl = d * (float)sc;
            ml = dmin * (float)m;
            for (e = 32 * j; e < 32 * j + 32; e++) {
                int q = artr__k4_nibble(qs, e) | (five ? ((src[16 + e % 32] >> j) & 1) << 4 : 0);
                dst[e] = artr__mad_exact(dl, (float)q, -ml);
            }
        }
    }
}

static void artr__dequant_q4_k_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    artr__dequant_k45_ref(src, dst, n_blocks, 0);
}

static void artr__dequant_q5_k_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    artr__dequant_k45_ref(src, dst, n_blocks, 1);
}

/* Q6_K element e's value (-32..31): low 4 bits from ql[128] (elements 128h + 64s + k,
   k < 64: byte 64h + k, nibble s), high 2 bits from qh[64] in Q2_K's order. */
static int artr__q6_k_value(const uint8_t *blk, int e)
{
    int h = e / 128, r = e % 128, lo = (blk[64 * h + r % 64] >> (4 * (r / 64))) & 0x0f;
    return (lo | artr__q2_bits(blk + 128, e) << 4) - 32;
}

/* Q6_K block (210 bytes): ql[128], qh[64], int8 scales[16] (per 16 elements), half d;
   x = (d * scale) * q. */
static void artr__dequant_q6_k_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                   int64_t n_blocks)
{
    int64_t b;
    int e;
    for (b = 0; b < n_blocks; b++, src += 210, dst += ARTR__QKK) {
        float d = artr__f16_to_f32(artr__le16(src + 208));
        for (e = 0; e < ARTR__QKK; e++)
            dst[e] = d * (float)(int8_t)src[192 + e / 16] * (float)artr__q6_k_value(src, e);
    }
}

/* IQ4_XS's signed 6-bit scale of sub-block j (of 8): low 4 bits in scales_l[j / 2]
   (nibble j % 2), high 2 bits in scales_h at bits 2j; minus 32. */
static int artr__iq4_xs_scale(const uint8_t *blk, int j)
{
    int lo = (blk[4 + j / 2] >> (4 * (j % 2))) & 0x0f, hi = (artr__le16(blk + 2) >> (2 * j)) & 3;
    return (lo | hi << 4) - 32;
}

/* IQ4_XS block (136 bytes): half d, uint16 scales_h, scales_l[4], qs[128]: sub-block j
   is bytes 16j..16j+15, low nibbles its elements 0..15, high 16..31, each indexing
   artr__iq4nl_values; x = (d * scale_j) * value. */
static void artr__dequant_iq4_xs_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst,
                                     int64_t n_blocks)
{
    int64_t b;
    int j, k;
    for (b = 0; b < n_blocks; b++, src += 136, dst += ARTR__QKK) {
        float d = artr__f16_to_f32(artr__le16(src));
        for (j = 0; j < 8; j++) {
            float dl = d * (float)artr__iq4_xs_scale(src, j);
            const uint8_t *q = src + 8 + 16 * j;
            for (k = 0; k < 16; k++) {
                dst[32 * j + k] = dl * (float)artr__iq4nl_values[q[k] & 0x0f];
                dst[32 * j + 16 + k] = dl * (float)artr__iq4nl_values[q[k] >> 4];
            }
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

/* Half d (and m) into a block's first bytes, little-endian. */
static void artr__put_f16(uint8_t *dst, float v)
{
    uint16_t h = artr__f32_to_f16(v);
    dst[0] = (uint8_t)(h & 0xff);
    dst[1] = (uint8_t)(h >> 8);
}

/* The 32 5-bit values q of a Q5_0 / Q5_1 block into qh (bit j: q[j] >> 4) and qs (low
   nibbles: elements 0..15, high: 16..31), artr__q5_value's layout. */
static void artr__pack_q5(const int *q, uint8_t *qh, uint8_t *qs)
{
    uint32_t h = 0;
    int j;
    for (j = 0; j < ARTR__QK; j++) h |= (uint32_t)(q[j] >> 4) << j;
    for (j = 0; j < 4; j++) qh[j] = (uint8_t)(h >> (8 * j));
    for (j = 0; j < 16; j++) qs[j] = (uint8_t)((q[j] & 0x0f) | (q[j + 16] & 0x0f) << 4);
}

/* Q4_1 / Q5_1 (nmax 15 / 31), as gguf-py's Q4_1 / Q5_1.quantize_blocks and ggml's
   quantize_row_q4_1_ref / _q5_1_ref: per block, d = (max - min) / nmax, m = min and
   q = min(nmax, trunc((x - min) * (1 / d) + 0.5)), float32 throughout; the product goes
   through a volatile as in Q4_0. */
static void artr__quantize_row_qx_1_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                        int64_t n, int nmax)
{
    int64_t b;
    int j;
    size_t bytes = nmax == 15 ? 20 : 24;
    for (b = 0; b < n / ARTR__QK; b++, x += ARTR__QK, dst += bytes) {
        float lo = x[0], hi = x[0], d, id;
        int q[ARTR__QK];
        for (j = 1; j < ARTR__QK; j++) {
            if (x[j] < lo) lo = x[j];
            if (x[j] > hi) hi = x[j];
        }
        d = (hi - lo) / (float)nmax;
        id = d != 0.0f ? 1.0f / d : 0.0f;
        artr__put_f16(dst, d);
        artr__put_f16(dst + 2, lo);
        for (j = 0; j < ARTR__QK; j++) {
            volatile float p = (x[j] - lo) * id;
            q[j] = artr__q_clamp(truncf(p + 0.5f), 0, nmax);
        }
        if (nmax == 15) {
            for (j = 0; j < 16; j++) dst[4 + j] = (uint8_t)(q[j] | q[j + 16] << 4);
        } else {
            artr__pack_q5(q, dst + 4, dst + 8);
        }
    }
}

/* Q5_0, as gguf-py's Q5_0.quantize_blocks and ggml's quantize_row_q5_0_ref: Q4_0's rule
   with 16 levels a side: d = m / -16, q = min(31, trunc(x / d + 16.5)). */
static void artr__quantize_row_q5_0_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                        int64_t n)
{
    int64_t b;
    int j;
    for (b = 0; b < n / ARTR__QK; b++, x += ARTR__QK, dst += 22) {
        float amax = fabsf(x[0]), m = x[0], d, id;
        int q[ARTR__QK];
        for (j = 1; j < ARTR__QK; j++) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                m = x[j];
            }
        }
        d = m / -16.0f;
        id = d != 0.0f ? 1.0f / d : 0.0f;
        artr__put_f16(dst, d);
        for (j = 0; j < ARTR__QK; j++) {
            volatile float p = x[j] * id;
            q[j] = artr__q_clamp(truncf(p + 16.5f), 0, 31);
        }
        artr__pack_q5(q, dst + 2, dst + 6);
    }
}

/* ---- importance-free quantizers of the k-quants and IQ4 ----
   The searches of ggml's reference quantizers (ggml-quants.c: make_qx_quants,
   make_q3_quants, make_qkx2_quants, quantize_row_iq4_nl_impl), which llama-quantize runs
   when it has no importance matrix: fit each sub-block's scale (and min) by least squares
   over a few candidate grids, quantize the sub-block scales to the block's half d, then
   requantize every element with the stored scales. Same algorithms and constants, so
   the error is llama-quantize's (tools/compare_quant.py measures it); not bit for bit,
   since the float sums may round differently. Sub-blocks below 1e-15 in magnitude are
   all zero. */
#define ARTR__GROUP_EPS 1e-15f

/* Nearest integer, ties to even (ggml's nearest_int), saturated at +-2^22. */
static int artr__nint(float v)
{
    if (v >= 4194303.0f) return 4194303;
    if (v <= -4194303.0f) return -4194303;
    if (v != v) return 0;
    return (int)rintf(v);
}

static int artr__clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Signed value of largest magnitude in x[0..n) (the first on ties), and that magnitude. */
static float artr__signed_max(const float *x, int n, float *amax)
{
    float a = 0.0f, m = 0.0f;
    int i;
    for (i = 0; i < n; i++) {
        if (fabsf(x[i]) > a) {
            a = fabsf(x[i]);
            m = x[i];
        }
    }
    *amax = a;
    return m;
}

/* Symmetric levels -nmax..nmax-1 for n values weighted by x^2 (Q6_K): start from the grid
   through the extreme value, try 18 nearby grids (nmax + 0.1 * is, is = -9..9), keep the
   one whose least-squares scale explains most of x; L gets level + nmax. Returns the scale. */
static float artr__fit_sym(const float *x, int n, int nmax, uint8_t *L)
{
    float amax, m = artr__signed_max(x, n, &amax), scale = 0.0f, best;
    int is, i;
    for (i = 0; i < n; i++) L[i] = 0;
    if (amax < ARTR__GROUP_EPS) return 0.0f;
    best = 0.0f;
    for (is = 0; is <= 18; is++) { /* is = 0 is the plain grid, 1..18 the tries -9..9 */
        float iscale = is == 0 ? -(float)nmax / m : -((float)nmax + 0.1f * (float)(is <= 9 ? is - 10 : is - 9)) / m;
        float sumlx = 0.0f, suml2 = 0.0f;
        for (i = 0; i < n; i++) {
            int l = artr__clampi(artr__nint(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (is == 0 || (suml2 > 0.0f && sumlx * sumlx > best * suml2)) {
            for (i = 0; i < n; i++) L[i] = (uint8_t)(artr__clampi(artr__nint(iscale * x[i]), -nmax, nmax - 1) + nmax);
            scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Symmetric levels -nmax..nmax-1 weighted by x^2 (Q3_K): the grid through the extreme
   value, then up to five passes that move single elements to the level the scale of the
   others asks for whenever that raises the explained share. L gets level + nmax. */
static float artr__fit_sym_refine(const float *x, int n, int nmax, uint8_t *L)
{
    float amax, m = artr__signed_max(x, n, &amax), iscale, sumlx = 0.0f, suml2 = 0.0f;
    int lv[16], i, pass;
    for (i = 0; i < n; i++) L[i] = 0;
    if (amax < ARTR__GROUP_EPS) return 0.0f;
    iscale = -(float)nmax / m;
    for (i = 0; i < n; i++) {
        float w = x[i] * x[i];
        lv[i] = artr__clampi(artr__nint(iscale * x[i]), -nmax, nmax - 1);
        sumlx += w * x[i] * (float)lv[i];
        suml2 += w * (float)lv[i] * (float)lv[i];
    }
    for (pass = 0; pass < 5; pass++) {
        int changed = 0;
        for (i = 0; i < n; i++) {
            float w = x[i] * x[i], slx = sumlx - w * x[i] * (float)lv[i], sl2;
            int nl;
            if (!(slx > 0.0f)) continue;
            sl2 = suml2 - w * (float)lv[i] * (float)lv[i];
            nl = artr__clampi(artr__nint(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (nl == lv[i]) continue;
            slx += w * x[i] * (float)nl;
            sl2 += w * (float)nl * (float)nl;
            if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
                lv[i] = nl;
                sumlx = slx;
                suml2 = sl2;
                changed++;
            }
        }
        if (!changed) break;
    }
    for (i = 0; i < n; i++) L[i] = (uint8_t)(lv[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Levels 0..nmax with a scale and a min <= 0 (x ~ scale * L + min) for n <= 32 weighted
   values (Q2_K, Q4_K, Q5_K): the grid over [min(x, 0), max(x)], then nstep + 1 grids of
   nmax + rmin + rdelta * is steps, each refit by weighted least squares for scale and min,
   keeping the one of least weighted error (absolute with mad, else squared). Stores
   -min in *neg_min; returns the scale. */
static float artr__fit_affine(const float *x, const float *w, int n, int nmax, float rmin,
                              float rdelta, int nstep, int mad, uint8_t *L, float *neg_min)
{
    float lo = x[0], hi = x[0], sum_w = w[0], sum_x = w[0] * x[0], iscale, scale, best_err = 0.0f;
    uint8_t aux[32];
    int i, is;
    for (i = 1; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (lo > 0.0f) lo = 0.0f;
    if (hi == lo) {
        for (i = 0; i < n; i++) L[i] = 0;
        *neg_min = -lo;
        return 0.0f;
    }
    iscale = (float)nmax / (hi - lo);
    scale = 1.0f / iscale;
    for (i = 0; i < n; i++) {
        float diff;
        L[i] = (uint8_t)artr__clampi(artr__nint(iscale * (x[i] - lo)), 0, nmax);
        diff = scale * (float)L[i] + lo - x[i];
        best_err += w[i] * (mad ? fabsf(diff) : diff * diff);
    }
    for (is = 0; is <= nstep; is++) {
        float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f, det;
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (hi - lo);
        for (i = 0; i < n; i++) {
            int l = artr__clampi(artr__nint(iscale * (x[i] - lo)), 0, nmax);
            aux[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        det = sum_w * sum_l2 - sum_l * sum_l;
        if (det > 0.0f) {
            float s = (sum_w * sum_xl - sum_x * sum_l) / det, mn = (sum_l2 * sum_x - sum_l * sum_xl) / det;
            float err = 0.0f;
            if (mn > 0.0f) {
                mn = 0.0f;
                s = sum_xl / sum_l2;
            }
            for (i = 0; i < n; i++) {
                float diff = s * (float)aux[i] + mn - x[i];
                err += w[i] * (mad ? fabsf(diff) : diff * diff);
            }
            if (err < best_err) {
                memcpy(L, aux, (size_t)n);
                best_err = err;
                scale = s;
                lo = mn;
            }
        }
    }
    *neg_min = -lo;
    return scale;
}

/* Q2_K (ggml's quantize_row_q2_K_ref): per 16 elements a 2-bit affine fit weighted by |x|
   (absolute error); scales and mins to 4 bits of d = max scale / 15, dmin = max min / 15. */
static void artr__quantize_row_q2_k_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                        int64_t n)
{
    int64_t b;
    int j, i;
    for (b = 0; b < n / ARTR__QKK; b++, x += ARTR__QKK, dst += 84) {
        uint8_t L[ARTR__QKK];
        float w[16], sc[16], mn[16], max_sc = 0.0f, max_mn = 0.0f, d, dmin;
        for (j = 0; j < 16; j++) {
            for (i = 0; i < 16; i++) w[i] = fabsf(x[16 * j + i]);
            sc[j] = artr__fit_affine(x + 16 * j, w, 16, 3, -0.5f, 0.1f, 15, 1, L + 16 * j, &mn[j]);
            if (sc[j] > max_sc) max_sc = sc[j];
            if (mn[j] > max_mn) max_mn = mn[j];
        }
        for (j = 0; j < 16; j++) {
            int ls = max_sc > 0.0f ? artr__clampi(artr__nint(15.0f / max_sc * sc[j]), 0, 15) : 0;
            int lm = max_mn > 0.0f ? artr__clampi(artr__nint(15.0f / max_mn * mn[j]), 0, 15) : 0;
            dst[j] = (uint8_t)(ls | lm << 4);
        }
        artr__put_f16(dst + 80, max_sc > 0.0f ? max_sc / 15.0f : 0.0f);
        artr__put_f16(dst + 82, max_mn > 0.0f ? max_mn / 15.0f : 0.0f);
        d = artr__f16_to_f32(artr__le16(dst + 80));
        dmin = artr__f16_to_f32(artr__le16(dst + 82));
        for (j = 0; j < 16; j++) {
            float dl = d * (float)(dst[j] & 0x0f), ml = dmin * (float)(dst[j] >> 4);
            if (dl == 0.0f) continue;
            for (i = 0; i < 16; i++) L[16 * j + i] = (uint8_t)artr__clampi(artr__nint((x[16 * j + i] + ml) / dl), 0, 3);
        }
        for (j = 0; j < 64; j++) { /* artr__q2_bits' order */
            const uint8_t *l = L + 128 * (j / 32) + j % 32;
            dst[16 + j] = (uint8_t)(l[0] | l[32] << 2 | l[64] << 4 | l[96] << 6);
        }
    }
}

/* Q3_K (quantize_row_q3_K_ref): per 16 elements a refined 3-bit symmetric fit; the 16
   scales to signed 6 bits of d = -(the scale of largest magnitude) / 32. */
static void artr__quantize_row_q3_k_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                        int64_t n)
{
    int64_t b;
    int j, i;
    for (b = 0; b < n / ARTR__QKK; b++, x += ARTR__QKK, dst += 110) {
        uint8_t L[ARTR__QKK], *hmask = dst, *qs = dst + 32, *s = dst + 96;
        float sc[16], max_sc, amax, d;
        for (j = 0; j < 16; j++) sc[j] = artr__fit_sym_refine(x + 16 * j, 16, 4, L + 16 * j);
        max_sc = artr__signed_max(sc, 16, &amax);
        memset(dst, 0, 110);
        if (max_sc != 0.0f) {
            float iscale = -32.0f / max_sc;
            for (j = 0; j < 16; j++) {
                int l = artr__clampi(artr__nint(iscale * sc[j]), -32, 31) + 32;
                s[j % 8] |= (uint8_t)((l & 0x0f) << (4 * (j / 8)));
                s[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            artr__put_f16(dst + 108, 1.0f / iscale);
        }
        d = artr__f16_to_f32(artr__le16(dst + 108));
        for (j = 0; j < 16; j++) {
            float dl = d * (float)artr__q3_k_scale(s, j);
            if (dl == 0.0f) continue;
            for (i = 0; i < 16; i++)
                L[16 * j + i] = (uint8_t)(artr__clampi(artr__nint(x[16 * j + i] / dl), -4, 3) + 4);
        }
        for (j = 0; j < ARTR__QKK; j++) {
            if (L[j] > 3) {
                hmask[j % 32] |= (uint8_t)(1 << (j / 32));
                L[j] = (uint8_t)(L[j] - 4);
            }
        }
        for (j = 0; j < 64; j++) {
            const uint8_t *l = L + 128 * (j / 32) + j % 32;
            qs[j] = (uint8_t)(l[0] | l[32] << 2 | l[64] << 4 | l[96] << 6);
        }
    }
}

/* Q4_K / Q5_K (quantize_row_q4_K_ref / _q5_K_ref): per 32 elements an affine fit
   weighted by rms(x) + |x| (squared error); scales and mins to 6 bits of d = max scale /
   63, dmin = max min / 63 (artr__k4_scale_min's packing). */
static void artr__quantize_row_k45_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                       int64_t n, int five)
{
    int64_t b;
    int j, i, nmax = five ? 31 : 15;
    size_t bytes = five ? 176 : 144;
    for (b = 0; b < n / ARTR__QKK; b++, x += ARTR__QKK, dst += bytes) {
        uint8_t L[ARTR__QKK], *s = dst + 4, *qs = dst + (five ? 48 : 16);
        float w[32], sc[8], mn[8], max_sc = 0.0f, max_mn = 0.0f, inv_sc, inv_mn, d, dmin;
        for (j = 0; j < 8; j++) {
            const float *xb = x + 32 * j;
            float sum_x2 = 0.0f, av;
            for (i = 0; i < 32; i++) sum_x2 += xb[i] * xb[i];
            av = sqrtf(sum_x2 / 32.0f);
            for (i = 0; i < 32; i++) w[i] = av + fabsf(xb[i]);
            sc[j] = five ? artr__fit_affine(xb, w, 32, 31, -0.5f, 0.1f, 15, 0, L + 32 * j, &mn[j])
                         : artr__fit_affine(xb, w, 32, 15, -1.0f, 0.1f, 20, 0, L + 32 * j, &mn[j]);
            if (sc[j] > max_sc) max_sc = sc[j];
            if (mn[j] > max_mn) max_mn = mn[j];
        }
        inv_sc = max_sc > 0.0f ? 63.0f / max_sc : 0.0f;
        inv_mn = max_mn > 0.0f ? 63.0f / max_mn : 0.0f;
        memset(dst, 0, bytes);
        for (j = 0; j < 8; j++) {
            int ls = artr__clampi(artr__nint(inv_sc * sc[j]), 0, 63), lm = artr__clampi(artr__nint(inv_mn * mn[j]), 0, 63);
            if (j < 4) {
                s[j] = (uint8_t)ls;
                s[j + 4] = (uint8_t)lm;
            } else {
                s[j + 4] = (uint8_t)((ls & 0x0f) | (lm & 0x0f) << 4);
                s[j - 4] |= (uint8_t)((ls >> 4) << 6);
                s[j] |= (uint8_t)((lm >> 4) << 6);
            }
        }
        artr__put_f16(dst, max_sc / 63.0f);
        artr__put_f16(dst + 2, max_mn / 63.0f);
        d = artr__f16_to_f32(artr__le16(dst));
        dmin = artr__f16_to_f32(artr__le16(dst + 2));
        for (j = 0; j < 8; j++) {
            int isc, im;
            float dl, ml;
            artr__k4_scale_min(s, j, &isc, &im);
            dl = d * (float)isc;
            ml = dmin * (float)im;
            if (dl == 0.0f) continue;
            for (i = 0; i < 32; i++)
                L[32 * j + i] = (uint8_t)artr__clampi(artr__nint((x[32 * j + i] + ml) / dl), 0, nmax);
        }
        for (j = 0; j < ARTR__QKK; j++) { /* artr__k4_nibble's order; Q5_K's fifth bits */
            int c = j / 64, k = j % 32, hi = (j % 64) >= 32;
            qs[32 * c + k] |= (uint8_t)((L[j] & 0x0f) << (4 * hi));
            if (five && L[j] > 15) dst[16 + k] |= (uint8_t)(1 << (j / 32));
        }
    }
}

/* Q6_K (quantize_row_q6_K_ref): per 16 elements a 6-bit symmetric fit weighted by x^2;
   the scales to int8 of d = -(the scale of largest magnitude) / 128. */
static void artr__quantize_row_q6_k_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                        int64_t n)
{
    int64_t b;
    int j, i;
    for (b = 0; b < n / ARTR__QKK; b++, x += ARTR__QKK, dst += 210) {
        uint8_t L[ARTR__QKK];
        float sc[16], max_sc, amax, iscale, d;
        for (j = 0; j < 16; j++) sc[j] = artr__fit_sym(x + 16 * j, 16, 32, L + 16 * j);
        max_sc = artr__signed_max(sc, 16, &amax);
        memset(dst, 0, 210);
        if (amax < ARTR__GROUP_EPS) continue;
        iscale = -128.0f / max_sc;
        artr__put_f16(dst + 208, 1.0f / iscale);
        for (j = 0; j < 16; j++) dst[192 + j] = (uint8_t)(int8_t)artr__clampi(artr__nint(iscale * sc[j]), -128, 127);
        d = artr__f16_to_f32(artr__le16(dst + 208));
        for (j = 0; j < 16; j++) {
            float dl = d * (float)(int8_t)dst[192 + j];
            if (dl == 0.0f) continue;
            for (i = 0; i < 16; i++)
                L[16 * j + i] = (uint8_t)(artr__clampi(artr__nint(x[16 * j + i] / dl), -32, 31) + 32);
        }
        for (j = 0; j < ARTR__QKK; j++) { /* artr__q6_k_value's order */
            int h = j / 128, r = j % 128;
            dst[64 * h + r % 64] |= (uint8_t)((L[j] & 0x0f) << (4 * (r / 64)));
            dst[128 + 32 * h + r % 32] |= (uint8_t)((L[j] >> 4) << (2 * (r / 32)));
        }
    }
}

/* Index of the IQ4 value nearest to v (the higher one on ties; ggml's best_index_int8). */
static int artr__iq4_nearest(float v)
{
    int i = 0;
    while (i < 15 && !(v - (float)artr__iq4nl_values[i] < (float)artr__iq4nl_values[i + 1] - v)) i++;
    return i;
}

/* IQ4 sub-block scale for 32 values weighted by x^2 (quantize_row_iq4_nl_impl with
   ntry 7, as llama-quantize runs it): the grid through the extreme value, then 15 grids
   with extreme level -127 + t (t = -7..7), keeping the least-squares scale that explains
   most of x. */
static float artr__fit_iq4(const float *xb)
{
    float amax, m = artr__signed_max(xb, 32, &amax), d, id, sumqx = 0.0f, sumq2 = 0.0f, best;
    int j, t;
    if (amax < ARTR__GROUP_EPS) return 0.0f;
    d = -m / (float)artr__iq4nl_values[0];
    id = 1.0f / d;
    for (j = 0; j < 32; j++) {
        float q = (float)artr__iq4nl_values[artr__iq4_nearest(id * xb[j])], w = xb[j] * xb[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
    }
    d = sumq2 > 0.0f ? sumqx / sumq2 : 0.0f;
    best = d * sumqx;
    for (t = -7; t <= 7; t++) {
        id = ((float)t + (float)artr__iq4nl_values[0]) / m;
        sumqx = sumq2 = 0.0f;
        for (j = 0; j < 32; j++) {
            float q = (float)artr__iq4nl_values[artr__iq4_nearest(id * xb[j])], w = xb[j] * xb[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        if (sumq2 > 0.0f && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

/* 32 values to IQ4 nibbles at scale 1 / id (low nibbles elements 0..15, high 16..31). */
static void artr__pack_iq4(const float *xb, float id, uint8_t *q)
{
    int j;
    for (j = 0; j < 16; j++)
        q[j] = (uint8_t)(artr__iq4_nearest(id * xb[j]) | artr__iq4_nearest(id * xb[j + 16]) << 4);
}

/* IQ4_NL: one fitted scale per block of 32, stored as its half d. */
static void artr__quantize_row_iq4_nl_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                          int64_t n)
{
    int64_t b;
    for (b = 0; b < n / ARTR__QK; b++, x += ARTR__QK, dst += 18) {
        float d = artr__fit_iq4(x);
        artr__put_f16(dst, d);
        artr__pack_iq4(x, d != 0.0f ? 1.0f / d : 0.0f, dst + 2);
    }
}

/* IQ4_XS: eight fitted sub-block scales to signed 6 bits of d = -(largest) / 32. */
static void artr__quantize_row_iq4_xs_ref(const float *ARTR__RESTRICT x, uint8_t *ARTR__RESTRICT dst,
                                          int64_t n)
{
    int64_t b;
    int j;
    for (b = 0; b < n / ARTR__QKK; b++, x += ARTR__QKK, dst += 136) {
        float sc[8], amax, d, id;
        uint16_t sh = 0;
        for (j = 0; j < 8; j++) sc[j] = artr__fit_iq4(x + 32 * j);
        d = -artr__signed_max(sc, 8, &amax) / 32.0f;
        id = d != 0.0f ? 1.0f / d : 0.0f;
        artr__put_f16(dst, d);
        memset(dst + 4, 0, 4);
        for (j = 0; j < 8; j++) {
            int l = artr__clampi(artr__nint(id * sc[j]), -32, 31);
            float dl = d * (float)l;
            artr__pack_iq4(x + 32 * j, dl != 0.0f ? 1.0f / dl : 0.0f, dst + 8 + 16 * j);
            l += 32;
            dst[4 + j / 2] |= (uint8_t)((l & 0x0f) << (4 * (j % 2)));
            sh = (uint16_t)(sh | (l >> 4) << (2 * j));
        }
        dst[2] = (uint8_t)(sh & 0xff);
        dst[3] = (uint8_t)(sh >> 8);
    }
}

/* The types artr_quantize_f32 writes. */
static int artr__can_quantize(int type)
{
    switch (type) {
    case ARTR_TYPE_F32: case ARTR_TYPE_F16: case ARTR_TYPE_BF16: case ARTR_TYPE_Q8_0:
    case ARTR_TYPE_Q4_0: case ARTR_TYPE_Q4_1: case ARTR_TYPE_Q5_0: case ARTR_TYPE_Q5_1:
    case ARTR_TYPE_Q2_K: case ARTR_TYPE_Q3_K: case ARTR_TYPE_Q4_K: case ARTR_TYPE_Q5_K:
    case ARTR_TYPE_Q6_K: case ARTR_TYPE_IQ4_NL: case ARTR_TYPE_IQ4_XS:
        return 1;
    default:
        return 0;
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
    if (!ti || !artr__can_quantize(type))
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "artr_quantize_f32: cannot write type %s (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, IQ4_NL and IQ4_XS can be written)",
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
    case ARTR_TYPE_Q4_0:
        artr__quantize_row_q4_0_ref(src, out, n);
        break;
    case ARTR_TYPE_Q4_1:
        artr__quantize_row_qx_1_ref(src, out, n, 15);
        break;
    case ARTR_TYPE_Q5_0:
        artr__quantize_row_q5_0_ref(src, out, n);
        break;
    case ARTR_TYPE_Q5_1:
        artr__quantize_row_qx_1_ref(src, out, n, 31);
        break;
    case ARTR_TYPE_Q2_K:
        artr__quantize_row_q2_k_ref(src, out, n);
        break;
    case ARTR_TYPE_Q3_K:
        artr__quantize_row_q3_k_ref(src, out, n);
        break;
    case ARTR_TYPE_Q4_K:
        artr__quantize_row_k45_ref(src, out, n, 0);
        break;
    case ARTR_TYPE_Q5_K:
        artr__quantize_row_k45_ref(src, out, n, 1);
        break;
    case ARTR_TYPE_Q6_K:
        artr__quantize_row_q6_k_ref(src, out, n);
        break;
    case ARTR_TYPE_IQ4_NL:
        artr__quantize_row_iq4_nl_ref(src, out, n);
        break;
    default:
        artr__quantize_row_iq4_xs_ref(src, out, n);
        break;
    }
    return ARTR_OK;
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
ARTR__AVX2_BEGIN
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
#if ARTR__F16C
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
ARTR__AVX2_END
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
ARTR__AVX2_BEGIN
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
/* The same for two activation rows (a verification's leftover tokens). */
#define ARTR__DOT2T(NAME, WTYPE, LOAD8, ONE)                                                        \
    static void NAME(const void *w, const float *x, size_t ldx, int n, float *out)                 \
    {                                                                                              \
        const WTYPE *a = (const WTYPE *)w;                                                         \
        const float *x0 = x, *x1 = x + ldx;                                                        \
        __m256 p0 = _mm256_setzero_ps(), p1 = p0, q0 = p0, q1 = p0;                                \
        int i = 0, t;                                                                              \
        for (; i + 16 <= n; i += 16) {                                                             \
            __m256 w0 = LOAD8(i), w1 = LOAD8(i + 8);                                               \
            p0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x0 + i), p0);                                 \
            p1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x0 + i + 8), p1);                             \
            q0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x1 + i), q0);                                 \
            q1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x1 + i + 8), q1);                             \
        }                                                                                          \
        for (; i + 8 <= n; i += 8) {                                                               \
            __m256 w0 = LOAD8(i);                                                                  \
            p0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x0 + i), p0);                                 \
            q0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x1 + i), q0);                                 \
        }                                                                                          \
        out[0] = artr__hsum_avx2(_mm256_add_ps(p0, p1));                                           \
        out[1] = artr__hsum_avx2(_mm256_add_ps(q0, q1));                                           \
        for (t = 0; t < 2; t++) {                                                                  \
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
ARTR__DOT2T(artr__dot2t_f32_avx2, float, ARTR__F32_LOAD8, ARTR__F32_ONE)
#undef ARTR__F32_LOAD8
#undef ARTR__F32_ONE
ARTR__AVX2_END
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

#if ARTR__AVX2 && ARTR__F16C
ARTR__AVX2_BEGIN
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
ARTR__AVX2_END
#endif

#if ARTR__F16_AVX2
ARTR__AVX2_BEGIN
#define ARTR__F16_LOAD8(i) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + (i))))
#define ARTR__F16_ONE(i) artr__f16_one_avx2(a[i])
ARTR__DOT4T(artr__dot4t_f16_avx2, uint16_t, ARTR__F16_LOAD8, ARTR__F16_ONE)
ARTR__DOT2T(artr__dot2t_f16_avx2, uint16_t, ARTR__F16_LOAD8, ARTR__F16_ONE)
#undef ARTR__F16_LOAD8
#undef ARTR__F16_ONE
ARTR__AVX2_END
#endif
#undef ARTR__DOT4T
#undef ARTR__DOT2T

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
ARTR__AVX2_BEGIN
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
ARTR__AVX2_END
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
ARTR__AVX2_BEGIN
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
ARTR__AVX2_END
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
ARTR__AVX2_BEGIN
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
ARTR__AVX2_END
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
   integers and scaled by d_w * d_x. The k-quants read 256-element blocks instead
   (ARTR__ACT_Q8K, below). Used by the SIMD builds for every block type (unless
   ARTR_NO_QUANT_ACT). Rounding moves each activation by at most 1/254 of its
   block's largest, so a dot product by at most sum over blocks of sum|w| * d_x / 2
   (test_kernels.c: test_dotq_bound); on the test models' logits that is up to 0.31
   (test_forward.c: TOL_QACT_LOGITS, TOL_KQ_QACT). A token's quantized row depends on
   that token alone, so batch equals steps still holds. */
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

/* The other 32-element types against the same 8-bit activations. With an offset m (Q4_1,
   Q5_1) a block adds m * d_x * sum(xq). */
static ARTR__UNUSED float artr__dotq_q4_1_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, j;
    for (i = 0; i < n; i += ARTR__QK, b += 20) {
        int32_t is = 0, xs = 0;
        for (j = 0; j < 16; j++) {
            is += (b[4 + j] & 0x0f) * xq[i + j] + (b[4 + j] >> 4) * xq[i + j + 16];
            xs += xq[i + j] + xq[i + j + 16];
        }
        s += artr__f16_to_f32(artr__le16(b)) * xd[i / ARTR__QK] * (float)is +
             artr__f16_to_f32(artr__le16(b + 2)) * xd[i / ARTR__QK] * (float)xs;
    }
    return s;
}

static ARTR__UNUSED float artr__dotq_q5_0_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, j;
    for (i = 0; i < n; i += ARTR__QK, b += 22) {
        int32_t is = 0;
        for (j = 0; j < ARTR__QK; j++) is += (artr__q5_value(b + 2, b + 6, j) - 16) * xq[i + j];
        s += artr__f16_to_f32(artr__le16(b)) * xd[i / ARTR__QK] * (float)is;
    }
    return s;
}

static ARTR__UNUSED float artr__dotq_q5_1_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, j;
    for (i = 0; i < n; i += ARTR__QK, b += 24) {
        int32_t is = 0, xs = 0;
        for (j = 0; j < ARTR__QK; j++) {
            is += artr__q5_value(b + 4, b + 8, j) * xq[i + j];
            xs += xq[i + j];
        }
        s += artr__f16_to_f32(artr__le16(b)) * xd[i / ARTR__QK] * (float)is +
             artr__f16_to_f32(artr__le16(b + 2)) * xd[i / ARTR__QK] * (float)xs;
    }
    return s;
}

static ARTR__UNUSED float artr__dotq_iq4_nl_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, j;
    for (i = 0; i < n; i += ARTR__QK, b += 18) {
        int32_t is = 0;
        for (j = 0; j < 16; j++)
            is += artr__iq4nl_values[b[2 + j] & 0x0f] * xq[i + j] + artr__iq4nl_values[b[2 + j] >> 4] * xq[i + j + 16];
        s += artr__f16_to_f32(artr__le16(b)) * xd[i / ARTR__QK] * (float)is;
    }
    return s;
}

/* Activations for the k-quants (llama.cpp's Q8_K, in our own layout): per block of 256,
   d = max|x| / 127 and q = round(x / d) as artr__quantize_act_ref, and the sum of each 16
   q's (exact in a float) for the types with a min. The scales of one row are
   artr__act_scales(ARTR__ACT_Q8K, n) floats: n / 256 d's, then n / 16 sums. */
enum { ARTR__ACT_F32, ARTR__ACT_Q8, ARTR__ACT_Q8K }; /* what a dotq kernel reads */

static ARTR__UNUSED int artr__act_scales(int act, int n)
{
    return act == ARTR__ACT_Q8K ? n / ARTR__QKK + n / 16 : n / ARTR__QK;
}

static ARTR__UNUSED void artr__quantize_act_k_ref(const float *ARTR__RESTRICT x, int n,
                                                  int8_t *ARTR__RESTRICT q, float *ARTR__RESTRICT d)
{
    float *sums = d + n / ARTR__QKK;
    int i, j;
    for (i = 0; i < n; i += ARTR__QKK, x += ARTR__QKK, q += ARTR__QKK) {
        float amax = 0, id;
        for (j = 0; j < ARTR__QKK; j++)
            if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
        d[i / ARTR__QKK] = amax / 127.0f;
        id = amax != 0.0f ? 127.0f / amax : 0.0f;
        for (j = 0; j < ARTR__QKK; j++) q[j] = (int8_t)artr__q_clamp(roundf(x[j] * id), -127, 127);
        for (j = 0; j < ARTR__QKK; j += 16) {
            int k, s = 0;
            for (k = 0; k < 16; k++) s += q[j + k];
            sums[(i + j) / 16] = (float)s;
        }
    }
}

/* The k-quants against Q8K activations: per block the integer sums of each sub-block,
   weighted by its integer scale, then d_x * (d * sum - dmin * sum of mins times the
   activation sums). */
static ARTR__UNUSED float artr__dotq_q2_k_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    const float *sums = xd + n / ARTR__QKK;
    float s = 0;
    int i, g, k;
    for (i = 0; i < n; i += ARTR__QKK, b += 84) {
        int32_t is = 0, ms = 0;
        for (g = 0; g < 16; g++) {
            int32_t gs = 0;
            for (k = 16 * g; k < 16 * g + 16; k++) gs += artr__q2_bits(b + 16, k) * xq[i + k];
            is += (b[g] & 0x0f) * gs;
            ms += (b[g] >> 4) * (int32_t)sums[(i + 16 * g) / 16];
        }
        s += xd[i / ARTR__QKK] * (artr__f16_to_f32(artr__le16(b + 80)) * (float)is -
                                  artr__f16_to_f32(artr__le16(b + 82)) * (float)ms);
    }
    return s;
}

static ARTR__UNUSED float artr__dotq_q3_k_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, g, k;
    for (i = 0; i < n; i += ARTR__QKK, b += 110) {
        int32_t is = 0;
        for (g = 0; g < 16; g++) {
            int32_t gs = 0;
            for (k = 16 * g; k < 16 * g + 16; k++) gs += artr__q3_k_value(b, k) * xq[i + k];
            is += artr__q3_k_scale(b + 96, g) * gs;
        }
        s += xd[i / ARTR__QKK] * artr__f16_to_f32(artr__le16(b + 108)) * (float)is;
    }
    return s;
}

/* Q4_K and Q5_K (five: the qh bits). */
static float artr__dotq_k45_ref(const uint8_t *b, const int8_t *xq, const float *xd, int n, int five)
{
    const float *sums = xd + n / ARTR__QKK;
    size_t bytes = five ? 176 : 144;
    float s = 0;
    int i, j, k, sc, m;
    for (i = 0; i < n; i += ARTR__QKK, b += bytes) {
        const uint8_t *qs = b + (five ? 48 : 16);
        int32_t is = 0, ms = 0;
        for (j = 0; j < 8; j++) {
            int32_t js = 0;
            artr__k4_scale_min(b + 4, j, &sc, &m);
            for (k = 32 * j; k < 32 * j + 32; k++) {
                int q = artr__k4_nibble(qs, k) | (five ? ((b[16 + k % 32] >> j) & 1) << 4 : 0);
                js += q * xq[i + k];
            }
            is += sc * js;
            ms += m * ((int32_t)sums[(i + 32 * j) / 16] + (int32_t)sums[(i + 32 * j) / 16 + 1]);
        }
        s += xd[i / ARTR__QKK] * (artr__f16_to_f32(artr__le16(b)) * (float)is -
                                  artr__f16_to_f32(artr__le16(b + 2)) * (float)ms);
    }
    return s;
}

static ARTR__UNUSED float artr__dotq_q4_k_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    return artr__dotq_k45_ref((const uint8_t *)w, xq, xd, n, 0);
}

static ARTR__UNUSED float artr__dotq_q5_k_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    return artr__dotq_k45_ref((const uint8_t *)w, xq, xd, n, 1);
}

static ARTR__UNUSED float artr__dotq_q6_k_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, g, k;
    for (i = 0; i < n; i += ARTR__QKK, b += 210) {
        int32_t is = 0;
        for (g = 0; g < 16; g++) {
            int32_t gs = 0;
            for (k = 16 * g; k < 16 * g + 16; k++) gs += artr__q6_k_value(b, k) * xq[i + k];
            is += (int8_t)b[192 + g] * gs;
        }
        s += xd[i / ARTR__QKK] * artr__f16_to_f32(artr__le16(b + 208)) * (float)is;
    }
    return s;
}

static ARTR__UNUSED float artr__dotq_iq4_xs_ref(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    float s = 0;
    int i, j, k;
    for (i = 0; i < n; i += ARTR__QKK, b += 136) {
        int32_t is = 0;
        for (j = 0; j < 8; j++) {
            const uint8_t *q = b + 8 + 16 * j;
            const int8_t *x = xq + i + 32 * j;
            int32_t js = 0;
            for (k = 0; k < 16; k++)
                js += artr__iq4nl_values[q[k] & 0x0f] * x[k] + artr__iq4nl_values[q[k] >> 4] * x[k + 16];
            is += artr__iq4_xs_scale(b, j) * js;
        }
        s += xd[i / ARTR__QKK] * artr__f16_to_f32(artr__le16(b)) * (float)is;
    }
    return s;
}

/* The SIMD kernels that stream rows prefetch the same block ARTR__PREFETCH_ROWS rows
   ahead (the next group of rows): several independent streams keep a core busy instead
   of waiting on memory (5.6x faster decode of a 110M Q4_0 model on one core than one row
   at a time, when it was measured on the four-row kernels). */
#ifndef ARTR__PREFETCH_ROWS
#define ARTR__PREFETCH_ROWS 8
#endif

#if ARTR__AVX2
ARTR__AVX2_BEGIN
/* ---- the k-quants against Q8K activations, AVX2 ----
   Per block of 256: the weights as unsigned bytes (their bits, before any offset), 32 at
   a time times the activations by maddubs (unsigned x signed, pairs below 2^15), then by
   the sub-block's scale by madd: 8 lanes of exact int32 sums. An offset q - c (Q3_K's 4,
   Q6_K's 32) comes out of those integers through the activation sums of 16, a min (Q2_K,
   Q4_K, Q5_K) through the same sums in floats (exact: integers below 2^24). The block
   then adds d_x * d * lanes - d_x * dmin * mins into the row's float accumulator. A row's
   blocks go into one accumulator in order, so the four-row kernels equal the one-row
   kernel bit for bit; against the reference they agree to rounding (the integers are
   the same, the float sums run in another order). */

/* The block kernels below are inlined into each one-row and four-row kernel (gcc 12 keeps
   some of them out of line otherwise, which halves Q5_K's speed). */
#if defined(__GNUC__)
#define ARTR__KINLINE ARTR__INLINE __attribute__((always_inline))
#else
#define ARTR__KINLINE ARTR__INLINE
#endif

/* 32 unsigned weights q times the activations at x, times the int16 scales sc: 8 lanes. */
static ARTR__INLINE __m256i artr__kdot_avx2(__m256i q, const int8_t *x, __m256i sc)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)x)), sc);
}

/* The scales of 32 weights as int16 lanes: bytes sel picks from the 16 signed scales s. */
static ARTR__INLINE __m256i artr__kscale_avx2(__m128i s, __m128i sel)
{
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(s, sel));
}

/* The first 16-lane half gets scale 0, the second scale 1 (types with a scale per 16);
   add 2 for the next 32 weights. */
#define ARTR__KSEL16 _mm_set_epi8(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)

/* offset * sum over the 16 sub-blocks of scale * activation sum, as int32 lanes (the
   activation sums are exact integers in floats). */
static ARTR__INLINE __m256i artr__koffset_avx2(__m128i sc, const float *sums, int shift)
{
    __m256i lo = _mm256_mullo_epi32(_mm256_cvtepi8_epi32(sc), _mm256_cvtps_epi32(_mm256_loadu_ps(sums)));
    __m256i hi = _mm256_mullo_epi32(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8)),
                                    _mm256_cvtps_epi32(_mm256_loadu_ps(sums + 8)));
    return _mm256_sll_epi32(_mm256_add_epi32(lo, hi), _mm_cvtsi32_si128(shift));
}

/* Q4_K / Q5_K's 12 scale bytes as 16: the eight 6-bit scales, then the eight mins (the
   values of artr__k4_scale_min, four at a time). */
static ARTR__INLINE __m128i artr__k4_scales_avx2(const uint8_t *s)
{
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    uint32_t a = artr__le32(s), b = artr__le32(s + 4), c = artr__le32(s + 8);
    return _mm_set_epi32((int)(((c >> 4) & m4) | ((b >> 6) & m2) << 4), (int)(b & m6),
                         (int)((c & m4) | ((a >> 6) & m2) << 4), (int)(a & m6));
}

/* sum over j of min_j * (the activation sums of sub-block j's 32 elements): 8 lanes,
   exact. mins: 8 bytes. */
static ARTR__INLINE __m256 artr__kmins32_avx2(__m128i mins, const float *sums)
{
    /* hadd gives the pair sums in the order 0 1 4 5 2 3 6 7; the permute puts them in order */
    __m256 h = _mm256_hadd_ps(_mm256_loadu_ps(sums), _mm256_loadu_ps(sums + 8));
    h = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(h), 0xd8));
    return _mm256_mul_ps(h, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(mins)));
}

/* One block each, for nt = 1 or 2 tokens (a constant once inlined): acc[t] plus the
   block's products with token t's 256 activations x + t * ldq (scale dx[t * ldd], sums
   of 16 at sums + t * ldd). The weights are unpacked once for both tokens; each token's
   floats go exactly as with one. */
static ARTR__KINLINE void artr__kblk_q4_k_avx2(__m256 *acc, const uint8_t *b, const int8_t *x, size_t ldq,
                                              const float *sums, const float *dx, size_t ldd, int nt)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m128i sm = artr__k4_scales_avx2(b + 4), sel = _mm_setzero_si128(), one = _mm_set1_epi8(1);
    float d = artr__f16_one_avx2(artr__le16(b)), dmin = artr__f16_one_avx2(artr__le16(b + 2));
    __m256i is[2];
    int j, t;
    is[0] = is[1] = _mm256_setzero_si256();
    for (j = 0; j < 4; j++) { /* 64 elements: the low nibbles of 32 bytes, then the high */
        __m256i q = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * j));
        __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        __m256i slo = artr__kscale_avx2(sm, sel), shi = artr__kscale_avx2(sm, _mm_add_epi8(sel, one));
        for (t = 0; t < nt; t++) {
            is[t] = _mm256_add_epi32(is[t], artr__kdot_avx2(lo, x + t * ldq + 64 * j, slo));
            is[t] = _mm256_add_epi32(is[t], artr__kdot_avx2(hi, x + t * ldq + 64 * j + 32, shi));
        }
        sel = _mm_add_epi8(sel, _mm_add_epi8(one, one));
    }
    for (t = 0; t < nt; t++) {
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx[t * ldd] * d), _mm256_cvtepi32_ps(is[t]), acc[t]);
        acc[t] = _mm256_fnmadd_ps(_mm256_set1_ps(dx[t * ldd] * dmin),
                                  artr__kmins32_avx2(_mm_srli_si128(sm, 8), sums + t * ldd), acc[t]);
    }
}

static ARTR__KINLINE void artr__kblk_q5_k_avx2(__m256 *acc, const uint8_t *b, const int8_t *x, size_t ldq,
                                              const float *sums, const float *dx, size_t ldd, int nt)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f), bit = _mm256_set1_epi8(1);
    __m128i sm = artr__k4_scales_avx2(b + 4), sel = _mm_setzero_si128(), one = _mm_set1_epi8(1);
    __m256i is[2], hb = _mm256_loadu_si256((const __m256i *)(b + 16));
    float d = artr__f16_one_avx2(artr__le16(b)), dmin = artr__f16_one_avx2(artr__le16(b + 2));
    int j, t;
    is[0] = is[1] = _mm256_setzero_si256();
    for (j = 0; j < 4; j++) { /* as Q4_K, each nibble with its fifth bit: bits 2j, 2j + 1 of qh */
        __m256i q = _mm256_loadu_si256((const __m256i *)(b + 48 + 32 * j));
        __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(_mm256_and_si256(hb, bit), 4));
        __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                                     _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), bit), 4));
        __m256i slo = artr__kscale_avx2(sm, sel), shi = artr__kscale_avx2(sm, _mm_add_epi8(sel, one));
        for (t = 0; t < nt; t++) {
            is[t] = _mm256_add_epi32(is[t], artr__kdot_avx2(lo, x + t * ldq + 64 * j, slo));
            is[t] = _mm256_add_epi32(is[t], artr__kdot_avx2(hi, x + t * ldq + 64 * j + 32, shi));
        }
        sel = _mm_add_epi8(sel, _mm_add_epi8(one, one));
        hb = _mm256_srli_epi16(hb, 2);
    }
    for (t = 0; t < nt; t++) {
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx[t * ldd] * d), _mm256_cvtepi32_ps(is[t]), acc[t]);
        acc[t] = _mm256_fnmadd_ps(_mm256_set1_ps(dx[t * ldd] * dmin),
                                  artr__kmins32_avx2(_mm_srli_si128(sm, 8), sums + t * ldd), acc[t]);
    }
}

static ARTR__KINLINE void artr__kblk_q6_k_avx2(__m256 *acc, const uint8_t *b, const int8_t *x, size_t ldq,
                                              const float *sums, const float *dx, size_t ldd, int nt)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x30);
    __m128i sc = _mm_loadu_si128((const __m128i *)(b + 192)), sel = ARTR__KSEL16, two = _mm_set1_epi8(2);
    float d = artr__f16_one_avx2(artr__le16(b + 208));
    __m256i is[2];
    int h, c, t;
    for (t = 0; t < nt; t++) /* q - 32 */
        is[t] = _mm256_sub_epi32(_mm256_setzero_si256(), artr__koffset_avx2(sc, sums + t * ldd, 5));
    for (h = 0; h < 2; h++) { /* 128 elements: ql bytes 64h.., qh bytes 32h.. */
        __m256i a = _mm256_loadu_si256((const __m256i *)(b + 64 * h));
        __m256i a2 = _mm256_loadu_si256((const __m256i *)(b + 64 * h + 32));
        __m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * h));
        __m256i q[4];
        q[0] = _mm256_or_si256(_mm256_and_si256(a, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m2));
        q[1] = _mm256_or_si256(_mm256_and_si256(a2, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m2));
        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), m4), _mm256_and_si256(qh, m2));
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a2, 4), m4),
                               _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2));
        for (c = 0; c < 4; c++) {
            __m256i s = artr__kscale_avx2(sc, sel);
            for (t = 0; t < nt; t++)
                is[t] = _mm256_add_epi32(is[t], artr__kdot_avx2(q[c], x + t * ldq + 128 * h + 32 * c, s));
            sel = _mm_add_epi8(sel, two);
        }
    }
    for (t = 0; t < nt; t++)
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx[t * ldd] * d), _mm256_cvtepi32_ps(is[t]), acc[t]);
}

/* Q3_K's 16 scales (the values of artr__q3_k_scale) as signed bytes. */
static ARTR__INLINE __m128i artr__q3_k_scales_avx2(const uint8_t *s)
{
    const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
    uint32_t a = artr__le32(s), b = artr__le32(s + 4), c = artr__le32(s + 8);
    __m128i v = _mm_set_epi32((int)(((b >> 4) & m4) | ((c >> 6) & m2) << 4), (int)(((a >> 4) & m4) | ((c >> 4) & m2) << 4),
                              (int)((b & m4) | ((c >> 2) & m2) << 4), (int)((a & m4) | (c & m2) << 4));
    return _mm_sub_epi8(v, _mm_set1_epi8(32));
}

static ARTR__KINLINE void artr__kblk_q3_k_avx2(__m256 *acc, const uint8_t *b, const int8_t *x, size_t ldq,
                                              const float *sums, const float *dx, size_t ldd, int nt)
{
    const __m256i m2 = _mm256_set1_epi8(3), bit = _mm256_set1_epi8(1);
    __m128i sc = artr__q3_k_scales_avx2(b + 96), sel = ARTR__KSEL16, two = _mm_set1_epi8(2);
    __m256i is[2], hm = _mm256_loadu_si256((const __m256i *)b);
    float d = artr__f16_one_avx2(artr__le16(b + 108));
    int h, s, t;
    for (t = 0; t < nt; t++) /* q - 4 */
        is[t] = _mm256_sub_epi32(_mm256_setzero_si256(), artr__koffset_avx2(sc, sums + t * ldd, 2));
    for (h = 0; h < 2; h++) {
        __m256i qs = _mm256_loadu_si256((const __m256i *)(b + 32 + 32 * h));
        for (s = 0; s < 4; s++) { /* elements 128h + 32s..: bits 2s of qs, bit 4h + s of hmask */
            __m256i q = _mm256_or_si256(_mm256_and_si256(qs, m2), _mm256_slli_epi16(_mm256_and_si256(hm, bit), 2));
            __m256i scv = artr__kscale_avx2(sc, sel);
            for (t = 0; t < nt; t++)
                is[t] = _mm256_add_epi32(is[t], artr__kdot_avx2(q, x + t * ldq + 128 * h + 32 * s, scv));
            sel = _mm_add_epi8(sel, two);
            qs = _mm256_srli_epi16(qs, 2);
            hm = _mm256_srli_epi16(hm, 1);
        }
    }
    for (t = 0; t < nt; t++)
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx[t * ldd] * d), _mm256_cvtepi32_ps(is[t]), acc[t]);
}

static ARTR__KINLINE void artr__kblk_q2_k_avx2(__m256 *acc, const uint8_t *b, const int8_t *x, size_t ldq,
                                              const float *sums, const float *dx, size_t ldd, int nt)
{
    const __m256i m2 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0x0f);
    __m128i raw = _mm_loadu_si128((const __m128i *)b), sc = _mm_and_si128(raw, m4);
    __m128i mins = _mm_and_si128(_mm_srli_epi16(raw, 4), m4), sel = ARTR__KSEL16, two = _mm_set1_epi8(2);
    __m256 mlo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(mins));
    __m256 mhi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(mins, 8)));
    float d = artr__f16_one_avx2(artr__le16(b + 80)), dmin = artr__f16_one_avx2(artr__le16(b + 82));
    __m256i is[2];
    int h, s, t;
    is[0] = is[1] = _mm256_setzero_si256();
    for (h = 0; h < 2; h++) {
        __m256i qs = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * h));
        for (s = 0; s < 4; s++) {
            __m256i q = _mm256_and_si256(qs, m2), scv = artr__kscale_avx2(sc, sel);
            for (t = 0; t < nt; t++)
                is[t] = _mm256_add_epi32(is[t], artr__kdot_avx2(q, x + t * ldq + 128 * h + 32 * s, scv));
            sel = _mm_add_epi8(sel, two);
            qs = _mm256_srli_epi16(qs, 2);
        }
    }
    for (t = 0; t < nt; t++) {
        __m256 ms = _mm256_mul_ps(mlo, _mm256_loadu_ps(sums + t * ldd));
        ms = _mm256_add_ps(ms, _mm256_mul_ps(mhi, _mm256_loadu_ps(sums + t * ldd + 8)));
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx[t * ldd] * d), _mm256_cvtepi32_ps(is[t]), acc[t]);
        acc[t] = _mm256_fnmadd_ps(_mm256_set1_ps(dx[t * ldd] * dmin), ms, acc[t]);
    }
}

/* IQ4_XS: the values are signed, so the products go as artr__i8dot_avx2's (|w| times x
   with w's sign; |w| <= 127 keeps pairs below 2^15). */
static ARTR__KINLINE void artr__kblk_iq4_xs_avx2(__m256 *acc, const uint8_t *b, const int8_t *x, size_t ldq,
                                                const float *sums, const float *dx, size_t ldd, int nt)
{
    const __m256i tbl = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)artr__iq4nl_values));
    const __m128i m4 = _mm_set1_epi8(0x0f);
    float d = artr__f16_one_avx2(artr__le16(b));
    __m256i is[2];
    int j, t;
    (void)sums;
    is[0] = is[1] = _mm256_setzero_si256();
    for (j = 0; j < 8; j++) { /* sub-block j: 16 bytes, low nibbles then high */
        __m128i v = _mm_loadu_si128((const __m128i *)(b + 8 + 16 * j));
        __m256i idx = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, m4)),
                                              _mm_and_si128(_mm_srli_epi16(v, 4), m4), 1);
        __m256i w = _mm256_shuffle_epi8(tbl, idx), aw = _mm256_sign_epi8(w, w);
        __m256i scv = _mm256_set1_epi16((short)artr__iq4_xs_scale(b, j));
        for (t = 0; t < nt; t++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(x + t * ldq + 32 * j));
            __m256i p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv, w));
            is[t] = _mm256_add_epi32(is[t], _mm256_madd_epi16(p, scv));
        }
    }
    for (t = 0; t < nt; t++)
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx[t * ldd] * d), _mm256_cvtepi32_ps(is[t]), acc[t]);
}
#undef ARTR__KSEL16

/* The one-row, four-row and four-row-by-two-token kernels of each type from its block
   function: the four-row ones prefetch every line of the same block ARTR__PREFETCH_ROWS
   rows ahead. The second token's scales and sums sit ldd floats after the first's. */
#define ARTR__DOTQ_K_PREFETCH(BYTES)                                                                \
    for (o = 0; o < BYTES; o += 64) {                                                               \
        _mm_prefetch((const char *)b0 + ahead + o, _MM_HINT_T0);                                    \
        _mm_prefetch((const char *)b1 + ahead + o, _MM_HINT_T0);                                    \
        _mm_prefetch((const char *)b2 + ahead + o, _MM_HINT_T0);                                    \
        _mm_prefetch((const char *)b3 + ahead + o, _MM_HINT_T0);                                    \
    }
#define ARTR__DOTQ_K(T, BYTES)                                                                      \
    static float artr__dotq_##T##_avx2(const void *w, const int8_t *xq, const float *xd, int n)     \
    {                                                                                               \
        const uint8_t *b = (const uint8_t *)w;                                                      \
        const float *sums = xd + n / ARTR__QKK;                                                     \
        __m256 acc = _mm256_setzero_ps();                                                           \
        int i;                                                                                      \
        for (i = 0; i < n; i += ARTR__QKK, b += BYTES)                                              \
            artr__kblk_##T##_avx2(&acc, b, xq + i, 0, sums + i / 16, xd + i / ARTR__QKK, 0, 1);     \
        return artr__hsum_avx2(acc);                                                                \
    }                                                                                               \
    static void artr__dotq4_##T##_avx2(const void *w, size_t stride, const int8_t *xq, const float *xd, \
                                       int n, float *out)                                           \
    {                                                                                               \
        const uint8_t *b0 = (const uint8_t *)w, *b1 = b0 + stride, *b2 = b1 + stride, *b3 = b2 + stride; \
        const float *sums = xd + n / ARTR__QKK;                                                     \
        size_t ahead = ARTR__PREFETCH_ROWS * stride;                                                \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                 \
        int i, o;                                                                                   \
        for (i = 0; i < n; i += ARTR__QKK, b0 += BYTES, b1 += BYTES, b2 += BYTES, b3 += BYTES) {     \
            const int8_t *x = xq + i;                                                               \
            const float *s = sums + i / 16, *dx = xd + i / ARTR__QKK;                               \
            ARTR__DOTQ_K_PREFETCH(BYTES)                                                            \
            artr__kblk_##T##_avx2(&a0, b0, x, 0, s, dx, 0, 1);                                      \
            artr__kblk_##T##_avx2(&a1, b1, x, 0, s, dx, 0, 1);                                      \
            artr__kblk_##T##_avx2(&a2, b2, x, 0, s, dx, 0, 1);                                      \
            artr__kblk_##T##_avx2(&a3, b3, x, 0, s, dx, 0, 1);                                      \
        }                                                                                           \
        out[0] = artr__hsum_avx2(a0);                                                               \
        out[1] = artr__hsum_avx2(a1);                                                               \
        out[2] = artr__hsum_avx2(a2);                                                               \
        out[3] = artr__hsum_avx2(a3);                                                               \
    }                                                                                               \
    static void artr__dotq4x2_##T##_avx2(const void *w, size_t stride, const int8_t *xq, size_t ldq, \
                                         const float *xd, size_t ldd, int n, float *out)            \
    {                                                                                               \
        const uint8_t *b0 = (const uint8_t *)w, *b1 = b0 + stride, *b2 = b1 + stride, *b3 = b2 + stride; \
        const float *sums = xd + n / ARTR__QKK;                                                     \
        size_t ahead = ARTR__PREFETCH_ROWS * stride;                                                \
        __m256 a0[2], a1[2], a2[2], a3[2];                                                          \
        int i, o, t;                                                                                \
        for (t = 0; t < 2; t++) a0[t] = a1[t] = a2[t] = a3[t] = _mm256_setzero_ps();                \
        for (i = 0; i < n; i += ARTR__QKK, b0 += BYTES, b1 += BYTES, b2 += BYTES, b3 += BYTES) {     \
            const int8_t *x = xq + i;                                                               \
            const float *s = sums + i / 16, *dx = xd + i / ARTR__QKK;                               \
            ARTR__DOTQ_K_PREFETCH(BYTES)                                                            \
            artr__kblk_##T##_avx2(a0, b0, x, ldq, s, dx, ldd, 2);                                   \
            artr__kblk_##T##_avx2(a1, b1, x, ldq, s, dx, ldd, 2);                                   \
            artr__kblk_##T##_avx2(a2, b2, x, ldq, s, dx, ldd, 2);                                   \
            artr__kblk_##T##_avx2(a3, b3, x, ldq, s, dx, ldd, 2);                                   \
        }                                                                                           \
        for (t = 0; t < 2; t++) {                                                                   \
            out[4 * t + 0] = artr__hsum_avx2(a0[t]);                                                \
            out[4 * t + 1] = artr__hsum_avx2(a1[t]);                                                \
            out[4 * t + 2] = artr__hsum_avx2(a2[t]);                                                \
            out[4 * t + 3] = artr__hsum_avx2(a3[t]);                                                \
        }                                                                                           \
    }
ARTR__DOTQ_K(q2_k, 84)
ARTR__DOTQ_K(q3_k, 110)
ARTR__DOTQ_K(q4_k, 144)
ARTR__DOTQ_K(q5_k, 176)
ARTR__DOTQ_K(q6_k, 210)
ARTR__DOTQ_K(iq4_xs, 136)
#undef ARTR__DOTQ_K
#undef ARTR__DOTQ_K_PREFETCH

/* Helpers of the 32-element block kernels (ARTR__R8_KERNELS below). */

/* init + the sums of 4 products of 32 unsigned bytes u (below 128) and 32 signed ones x,
   in 8 exact int32 lanes. */
static __m256i artr__u8dot_avx2(__m256i init, __m256i u, __m256i x)
{
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(init, u, x);
#elif defined(__AVXVNNI__)
    return _mm256_dpbusd_avx_epi32(init, u, x);
#else
    /* u <= 31 here: a pair's sum stays below 2^15 */
    return _mm256_add_epi32(init, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1)));
#endif
}

/* The half at p as lane 0 (other lanes 0). */
static __m128 artr__f16x1_avx2(const uint8_t *p)
{
#if ARTR__F16C
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int)artr__le16(p)));
#else
    return _mm_set_ss(artr__f16_to_f32(artr__le16(p)));
#endif
}


/* The 32 nibbles of the 16 bytes at q as bytes 0..15: low nibbles (elements 0..15), then
   high (16..31). */
static __m256i artr__nibbles_avx2(const uint8_t *q)
{
    const __m128i mask = _mm_set1_epi8(0x0f);
    __m128i v = _mm_loadu_si128((const __m128i *)q);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, mask)),
                                   _mm_and_si128(_mm_srli_epi16(v, 4), mask), 1);
}

/* The 5-bit values of a Q5 block, 0..31: nibbles at q, fifth bits at qh (bit j: element
   j), each bit spread to its byte and masked to 0x10. */
static ARTR__INLINE __m256i artr__q5_unpack_avx2(const uint8_t *qh, const uint8_t *q)
{
    const __m256i spread = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL,
                                             0x0101010101010101LL, 0);
    const __m256i others = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL); /* byte k: all bits but k */
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)artr__le32(qh)), spread); /* byte j: byte j/8 */
    __m256i bits = _mm256_cmpeq_epi8(_mm256_or_si256(v, others), _mm256_set1_epi8(-1));
    return _mm256_or_si256(artr__nibbles_avx2(q), _mm256_and_si256(bits, _mm256_set1_epi8(0x10)));
}

ARTR__AVX2_END
#endif

/* Eight rows at a time, for the 32-element block types (AVX2). A block's dot product is
   an exact integer (its 32 products) times d_w * d_x; these kernels keep that integer
   whole and add one float per row and block into a lane of its own: for each block b,
   in order,
       acc = fma(d_w * d_x, (float)(isum - OFF * sx), acc)     (OFF: the type's offset)
       acc = fma(m_w * d_x, (float)sx, acc)                    (Q4_1, Q5_1: the min)
   with sx the sum of the block's 32 activations. Every kernel of these types (one row,
   eight rows, one token or many) does exactly this per row and token, so they agree bit
   for bit. The weights are read in a stored form: unsigned bytes and an integer offset
   (Q4_0 q with 8, Q5_0 with 16, Q4_1 and Q5_1 none; Q8_0 and IQ4_NL as w + 128 with 128
   where the CPU has VNNI's unsigned x signed dot), else signed bytes (Q8_0, IQ4_NL).
   For two or more tokens the eight rows are first repacked into a tile (artr__r8_pack:
   per block and 8-byte chunk, the chunks of rows 0,1,4,5 then of 2,3,6,7), so that one
   32-byte load serves four rows and a broadcast activation chunk, and the integer sums
   land in lanes that one hadd turns into the eight rows (as llama.cpp's and
   ik_llama.cpp's row-interleaved layouts do, here built per call in a small buffer, the
   weights in place). */
typedef struct artr__qacts {
    const int8_t *q;  /* token rows of quantized activations, ldq bytes apart */
    const float *d;   /* their block scales, ldd floats apart */
    const int32_t *s; /* their block sums (of the 32 q's), lds apart */
    size_t ldq, ldd, lds;
} artr__qacts;
/* out[t * ldo + r] for rows r < 8 (stride bytes apart) and tokens t < n_tok; tile: room
   for ARTR__TILE_BYTES(n). */
typedef void (*artr__dotq8_fn)(const void *w, size_t stride, int n, const artr__qacts *x, int n_tok,
                               float *out, size_t ldo, uint8_t *tile);
#define ARTR__TILE_BYTES(n) ((size_t)(n) * 8 + (size_t)((n) / ARTR__QK) * 64) /* + 8 d's, 8 m's a block */

/* The block sums of n quantized activations. */
static ARTR__UNUSED void artr__act_sums(const int8_t *q, int n, int32_t *s)
{
    int i, j;
    for (i = 0; i < n; i += ARTR__QK) {
        int32_t t = 0;
        for (j = 0; j < ARTR__QK; j++) t += q[i + j];
        s[i / ARTR__QK] = t;
    }
}

#if ARTR__AVX2
ARTR__AVX2_BEGIN
#if (defined(__AVX512VNNI__) && defined(__AVX512VL__)) || defined(__AVXVNNI__)
#define ARTR__VNNI 1
#else
#define ARTR__VNNI 0
#endif

/* acc + sums of 4 products of signed bytes w and x per lane, exact (|w| <= 128). */
static ARTR__KINLINE __m256i artr__s8dot_avx2(__m256i acc, __m256i aw, __m256i w, __m256i x)
{
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(x, w)),
                                                   _mm256_set1_epi16(1)));
}

/* The sum of 32 signed bytes, exact. */
static ARTR__KINLINE int32_t artr__xsum_i_avx2(__m256i x)
{
    __m256i s = _mm256_sad_epu8(_mm256_xor_si256(x, _mm256_set1_epi8((char)0x80)), _mm256_setzero_si256());
    __m128i t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    t = _mm_add_epi64(t, _mm_unpackhi_epi64(t, t));
    return _mm_cvtsi128_si32(t) - 32 * 128;
}

/* The 8 lane sums of each of p0..p7, in that order. */
static ARTR__KINLINE __m256i artr__sum8_epi32(__m256i p0, __m256i p1, __m256i p2, __m256i p3, __m256i p4,
                                              __m256i p5, __m256i p6, __m256i p7)
{
    __m256i e = _mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3));
    __m256i f = _mm256_hadd_epi32(_mm256_hadd_epi32(p4, p5), _mm256_hadd_epi32(p6, p7));
    return _mm256_add_epi32(_mm256_permute2x128_si256(e, f, 0x20), _mm256_permute2x128_si256(e, f, 0x31));
}

/* The halves at p[r] + off for r < 8, as floats. */
static ARTR__KINLINE __m256 artr__f16x8_rows_avx2(const uint8_t *const *p, size_t off)
{
#if ARTR__F16C
    return _mm256_cvtph_ps(_mm_set_epi16((short)artr__le16(p[7] + off), (short)artr__le16(p[6] + off),
                                         (short)artr__le16(p[5] + off), (short)artr__le16(p[4] + off),
                                         (short)artr__le16(p[3] + off), (short)artr__le16(p[2] + off),
                                         (short)artr__le16(p[1] + off), (short)artr__le16(p[0] + off)));
#else
    return _mm256_set_ps(artr__f16_to_f32(artr__le16(p[7] + off)), artr__f16_to_f32(artr__le16(p[6] + off)),
                         artr__f16_to_f32(artr__le16(p[5] + off)), artr__f16_to_f32(artr__le16(p[4] + off)),
                         artr__f16_to_f32(artr__le16(p[3] + off)), artr__f16_to_f32(artr__le16(p[2] + off)),
                         artr__f16_to_f32(artr__le16(p[1] + off)), artr__f16_to_f32(artr__le16(p[0] + off)));
#endif
}

static ARTR__KINLINE float artr__f16_at_avx2(const uint8_t *p)
{
    return _mm_cvtss_f32(artr__f16x1_avx2(p));
}

/* Where row r's 8-byte chunks go in a tile's 64 bytes per chunk: rows 0,1,4,5 in the
   first 32 bytes, 2,3,6,7 in the second (then one hadd gives rows 0..7 in order). */
#define ARTR__R8_SLOT(r) ((((r) >> 1) & 1) * 32 + ((((r) & 1) | (((r) >> 2) << 1)) * 8))

/* The stored-form weights of one block: T's type, q the block. */
#if ARTR__VNNI
#define ARTR__R8_FLIP ((char)0x80)
#define ARTR__R8_OFFS 128 /* the signed types' offset: stored as w + 128 for vpdpbusd */
#else
#define ARTR__R8_FLIP 0
#define ARTR__R8_OFFS 0
#endif
#define ARTR__R8_W_q8_0(q) _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)((q) + 2)), _mm256_set1_epi8(ARTR__R8_FLIP))
#define ARTR__R8_W_q4_0(q) artr__nibbles_avx2((q) + 2)
#define ARTR__R8_W_q4_1(q) artr__nibbles_avx2((q) + 4)
#define ARTR__R8_W_q5_0(q) artr__q5_unpack_avx2((q) + 2, (q) + 6)
#define ARTR__R8_W_q5_1(q) artr__q5_unpack_avx2((q) + 4, (q) + 8)
#define ARTR__R8_W_iq4_nl(q)                                                                          \
    _mm256_xor_si256(_mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)artr__iq4nl_values)), \
                                         artr__nibbles_avx2((q) + 2)),                                  \
                     _mm256_set1_epi8(ARTR__R8_FLIP))
/* acc + the stored-form dot of w and x per lane (signed types without VNNI: w's sign). */
#define ARTR__R8_DOT(SIGNED, acc, w, x) \
    ((SIGNED) ? artr__s8dot_avx2(acc, _mm256_sign_epi8(w, w), w, x) : artr__u8dot_avx2(acc, w, x))

/* One token's chunk (8 activations at p, broadcast) into the two halves' sums. */
#define ARTR__R8_TOK(SIGNED, i0, i1, s0, s1, w0, w1, p)                                            \
    do {                                                                                            \
        __m256i xv_ = _mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)(const void *)(p))); \
        if (SIGNED) {                                                                               \
            i0 = artr__s8dot_avx2(i0, s0, w0, xv_);                                                 \
            i1 = artr__s8dot_avx2(i1, s1, w1, xv_);                                                 \
        } else {                                                                                    \
            i0 = artr__u8dot_avx2(i0, w0, xv_);                                                     \
            i1 = artr__u8dot_avx2(i1, w1, xv_);                                                     \
        }                                                                                           \
    } while (0)
/* One token's block j into acc: the eight rows' integers, then the float steps. */
#define ARTR__R8_FIN(OFF, MIN, acc, i0, i1, dw, tm, x, t, j)                                       \
    do {                                                                                            \
        __m256i is_ = _mm256_hadd_epi32(i0, i1);                                                    \
        int32_t sx_ = (x)->s[(size_t)(t) * (x)->lds + (size_t)(j)];                                 \
        __m256 dx_ = _mm256_set1_ps((x)->d[(size_t)(t) * (x)->ldd + (size_t)(j)]);                  \
        if (OFF) is_ = _mm256_sub_epi32(is_, _mm256_set1_epi32((OFF) * sx_));                       \
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, dx_), _mm256_cvtepi32_ps(is_), acc);                \
        if (MIN)                                                                                    \
            acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps((tm) + (size_t)(j) * 8), dx_),      \
                                  _mm256_set1_ps((float)sx_), acc);                                 \
    } while (0)
/* T: type; BLOCK: bytes; SIGNED, OFF, MIN as above (OFF, MIN constants). */
#define ARTR__R8_KERNELS(T, BLOCK, SIGNED, OFF, MIN)                                                  \
    static float artr__dotq_##T##_avx2(const void *w, const int8_t *xq, const float *xd, int n)     \
    {                                                                                                \
        const uint8_t *q = (const uint8_t *)w;                                                       \
        __m128 s = _mm_setzero_ps();                                                                 \
        int i;                                                                                       \
        for (i = 0; i < n; i += ARTR__QK, q += BLOCK) {                                              \
            __m256i x = _mm256_loadu_si256((const __m256i *)(xq + i));                               \
            __m256i p = ARTR__R8_DOT(SIGNED, _mm256_setzero_si256(), ARTR__R8_W_##T(q), x);          \
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));    \
            int32_t sx = (OFF) || (MIN) ? artr__xsum_i_avx2(x) : 0, is;                              \
            __m128 dx = _mm_set_ss(xd[i / ARTR__QK]);                                                \
            h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));                                          \
            is = _mm_cvtsi128_si32(_mm_add_epi32(h, _mm_shuffle_epi32(h, 1))) - (OFF) * sx;          \
            s = _mm_fmadd_ss(_mm_mul_ss(artr__f16x1_avx2(q), dx), _mm_cvtsi32_ss(_mm_setzero_ps(), is), s); \
            if (MIN)                                                                                 \
                s = _mm_fmadd_ss(_mm_mul_ss(artr__f16x1_avx2(q + 2), dx), _mm_cvtsi32_ss(_mm_setzero_ps(), sx), s); \
        }                                                                                            \
        return _mm_cvtss_f32(s);                                                                     \
    }                                                                                                \
    /* one token, the rows read in place */                                                          \
    static ARTR__KINLINE void artr__r8_direct_##T(const uint8_t *const *b, size_t ahead, int n,      \
                                                  const int8_t *xq, const float *xd, const int32_t *xs, \
                                                  float *out)                                        \
    {                                                                                                \
        __m256 acc = _mm256_setzero_ps();                                                            \
        int i, k;                                                                                    \
        for (i = 0; i < n; i += ARTR__QK) {                                                          \
            const size_t o = (size_t)(i / ARTR__QK) * BLOCK;                                         \
            __m256i x = _mm256_loadu_si256((const __m256i *)(xq + i)), p[8], is;                     \
            __m256 dx = _mm256_set1_ps(xd[i / ARTR__QK]);                                            \
            for (k = 0; k < 8; k++) _mm_prefetch((const char *)b[k] + o + ahead, _MM_HINT_T0);       \
            p[0] = ARTR__R8_DOT(SIGNED, _mm256_setzero_si256(), ARTR__R8_W_##T(b[0] + o), x);        \
            p[1] = ARTR__R8_DOT(SIGNED, _mm256_setzero_si256(), ARTR__R8_W_##T(b[1] + o), x);        \
            p[2] = ARTR__R8_DOT(SIGNED, _mm256_setzero_si256(), ARTR__R8_W_##T(b[2] + o), x);        \
            p[3] = ARTR__R8_DOT(SIGNED, _mm256_setzero_si256(), ARTR__R8_W_##T(b[3] + o), x);        \
            p[4] = ARTR__R8_DOT(SIGNED, _mm256_setzero_si256(), ARTR__R8_W_##T(b[4] + o), x);        \
            p[5] = ARTR__R8_DOT(SIGNED, _mm256_setzero_si256(), ARTR__R8_W_##T(b[5] + o), x);        \
            p[6] = ARTR__R8_DOT(SIGNED, _mm256_setzero_si256(), ARTR__R8_W_##T(b[6] + o), x);        \
            p[7] = ARTR__R8_DOT(SIGNED, _mm256_setzero_si256(), ARTR__R8_W_##T(b[7] + o), x);        \
            is = artr__sum8_epi32(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);                   \
            if (OFF) is = _mm256_sub_epi32(is, _mm256_set1_epi32((OFF) * xs[i / ARTR__QK]));         \
            acc = _mm256_fmadd_ps(_mm256_mul_ps(artr__f16x8_rows_avx2(b, o), dx), _mm256_cvtepi32_ps(is), acc); \
            if (MIN)                                                                                 \
                acc = _mm256_fmadd_ps(_mm256_mul_ps(artr__f16x8_rows_avx2(b, o + 2), dx),            \
                                      _mm256_set1_ps((float)xs[i / ARTR__QK]), acc);                 \
        }                                                                                            \
        _mm256_storeu_ps(out, acc);                                                                  \
    }                                                                                                \
    /* the eight rows into a tile: per block 4 chunks x 64 bytes, then 8 d's (and 8 m's) per   \
       block as floats after all the chunks */                                                   \
    static void artr__r8_pack_##T(const uint8_t *const *b, size_t ahead, int n, uint8_t *tile)       \
    {                                                                                                \
        int nb = n / ARTR__QK, j, r;                                                                 \
        float *td = (float *)(void *)(tile + (size_t)nb * 256), *tm = td + (size_t)nb * 8;           \
        for (j = 0; j < nb; j++)                                                                     \
            for (r = 0; r < 8; r++) {                                                                \
                const uint8_t *q = b[r] + (size_t)j * BLOCK;                                         \
                __m256i v = ARTR__R8_W_##T(q);                                                       \
                _mm_prefetch((const char *)q + ahead, _MM_HINT_T0);                                  \
                __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);         \
                uint8_t *dst = tile + (size_t)j * 256 + ARTR__R8_SLOT(r);                            \
                _mm_storel_epi64((__m128i *)(void *)dst, lo);                                        \
                _mm_storel_epi64((__m128i *)(void *)(dst + 64), _mm_unpackhi_epi64(lo, lo));          \
                _mm_storel_epi64((__m128i *)(void *)(dst + 128), hi);                                \
                _mm_storel_epi64((__m128i *)(void *)(dst + 192), _mm_unpackhi_epi64(hi, hi));         \
                td[(size_t)j * 8 + r] = artr__f16_at_avx2(q);                                        \
                if (MIN) tm[(size_t)j * 8 + r] = artr__f16_at_avx2(q + 2);                           \
            }                                                                                        \
    }                                                                                                \
    /* NT tokens (x rows t0.., NT <= 4 a constant) from a packed tile; one variable per     \
       token so that they stay in registers */                                                   \
    static ARTR__KINLINE void artr__r8_tile_##T(const uint8_t *tile, int n, const artr__qacts *x, int t0, \
                                                const int NT, float *out, size_t ldo)                \
    {                                                                                                \
        int nb = n / ARTR__QK, j, c;                                                                 \
        const float *td = (const float *)(const void *)(tile + (size_t)nb * 256), *tm = td + (size_t)nb * 8; \
        const int8_t *q0 = x->q + (size_t)t0 * x->ldq, *q1 = q0 + x->ldq, *q2 = q1 + x->ldq, *q3 = q2 + x->ldq; \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;                    \
        for (j = 0; j < nb; j++) {                                                                   \
            const uint8_t *tj = tile + (size_t)j * 256;                                              \
            __m256i a00 = _mm256_setzero_si256(), a01 = a00, a02 = a00, a03 = a00;                   \
            __m256i a10 = a00, a11 = a00, a12 = a00, a13 = a00;                                      \
            __m256 dw = _mm256_loadu_ps(td + (size_t)j * 8);                                         \
            for (c = 0; c < 4; c++) {                                                                \
                __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(tj + 64 * c));       \
                __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(tj + 64 * c + 32));  \
                __m256i s0 = (SIGNED) ? _mm256_sign_epi8(w0, w0) : w0;                               \
                __m256i s1 = (SIGNED) ? _mm256_sign_epi8(w1, w1) : w1;                               \
                size_t o = 32 * (size_t)j + 8 * (size_t)c;                                           \
                ARTR__R8_TOK(SIGNED, a00, a10, s0, s1, w0, w1, q0 + o);                              \
                if (NT > 1) ARTR__R8_TOK(SIGNED, a01, a11, s0, s1, w0, w1, q1 + o);                  \
                if (NT > 2) ARTR__R8_TOK(SIGNED, a02, a12, s0, s1, w0, w1, q2 + o);                  \
                if (NT > 3) ARTR__R8_TOK(SIGNED, a03, a13, s0, s1, w0, w1, q3 + o);                  \
            }                                                                                        \
            ARTR__R8_FIN(OFF, MIN, acc0, a00, a10, dw, tm, x, t0 + 0, j);                            \
            if (NT > 1) ARTR__R8_FIN(OFF, MIN, acc1, a01, a11, dw, tm, x, t0 + 1, j);                \
            if (NT > 2) ARTR__R8_FIN(OFF, MIN, acc2, a02, a12, dw, tm, x, t0 + 2, j);                \
            if (NT > 3) ARTR__R8_FIN(OFF, MIN, acc3, a03, a13, dw, tm, x, t0 + 3, j);                \
        }                                                                                            \
        _mm256_storeu_ps(out + (size_t)t0 * ldo, acc0);                                              \
        if (NT > 1) _mm256_storeu_ps(out + (size_t)(t0 + 1) * ldo, acc1);                            \
        if (NT > 2) _mm256_storeu_ps(out + (size_t)(t0 + 2) * ldo, acc2);                            \
        if (NT > 3) _mm256_storeu_ps(out + (size_t)(t0 + 3) * ldo, acc3);                            \
    }                                                                                                \
    static void artr__dotq8_##T##_avx2(const void *w, size_t stride, int n, const artr__qacts *x, int n_tok, \
                                       float *out, size_t ldo, uint8_t *tile)                        \
    {                                                                                                \
        const uint8_t *b[8];                                                                         \
        int r, t = 0;                                                                                \
        for (r = 0; r < 8; r++) b[r] = (const uint8_t *)w + (size_t)r * stride;                      \
        if (n_tok < 2) {                                                                             \
            for (; t < n_tok; t++)                                                                   \
                artr__r8_direct_##T(b, 2 * ARTR__PREFETCH_ROWS * stride, n, x->q + (size_t)t * x->ldq, x->d + (size_t)t * x->ldd,      \
                                    x->s + (size_t)t * x->lds, out + (size_t)t * ldo);                \
            return;                                                                                  \
        }                                                                                            \
        artr__r8_pack_##T(b, 2 * ARTR__PREFETCH_ROWS * stride, n, tile);                             \
        for (; t + 4 <= n_tok; t += 4) artr__r8_tile_##T(tile, n, x, t, 4, out, ldo);                \
        if (n_tok - t == 3) artr__r8_tile_##T(tile, n, x, t, 3, out, ldo);                           \
        else if (n_tok - t == 2) artr__r8_tile_##T(tile, n, x, t, 2, out, ldo);                      \
        else if (n_tok - t == 1) artr__r8_tile_##T(tile, n, x, t, 1, out, ldo);                      \
    }
ARTR__R8_KERNELS(q8_0, 34, !ARTR__VNNI, ARTR__R8_OFFS, 0)
ARTR__R8_KERNELS(q4_0, 18, 0, 8, 0)
ARTR__R8_KERNELS(q4_1, 20, 0, 0, 1)
ARTR__R8_KERNELS(q5_0, 22, 0, 16, 0)
ARTR__R8_KERNELS(q5_1, 24, 0, 0, 1)
ARTR__R8_KERNELS(iq4_nl, 18, !ARTR__VNNI, ARTR__R8_OFFS, 0)
#undef ARTR__R8_KERNELS
#undef ARTR__R8_DOT
#undef ARTR__R8_TOK
#undef ARTR__R8_FIN
#undef ARTR__R8_W_q8_0
#undef ARTR__R8_W_q4_0
#undef ARTR__R8_W_q4_1
#undef ARTR__R8_W_q5_0
#undef ARTR__R8_W_q5_1
#undef ARTR__R8_W_iq4_nl
#undef ARTR__R8_FLIP
#undef ARTR__R8_OFFS
#undef ARTR__R8_SLOT
ARTR__AVX2_END
#endif

#if ARTR__NEON
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

#if ARTR__NEON
/* ---- the k-quants against Q8K activations, NEON ----
   Per block of 256: the weights as signed bytes (offset already taken), 16 or 32 at a
   time against the activations in int32 lanes (vdotq_s32 with the dot-product extension,
   else vmull/vpadal: each int16 two products, below 2^15), times each sub-block's scale
   into one int32 vector; then the block's integer sum and mins as the reference's, so
   the float arithmetic per block is the reference's too. */

/* 16 signed byte pairs: 4 int32 lanes of exact sums. */
static ARTR__INLINE int32x4_t artr__i8dot16_neon(int8x16_t w, const int8_t *x)
{
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(vdupq_n_s32(0), w, vld1q_s8(x));
#else
    int8x16_t v = vld1q_s8(x);
    return vpaddlq_s16(vmlal_s8(vmull_s8(vget_low_s8(w), vget_low_s8(v)), vget_high_s8(w), vget_high_s8(v)));
#endif
}

/* 32 signed byte pairs (w0|w1 against x, x + 16): 4 int32 lanes. */
static ARTR__INLINE int32x4_t artr__i8dot32_neon(int8x16_t w0, int8x16_t w1, const int8_t *x)
{
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, vld1q_s8(x)), w1, vld1q_s8(x + 16));
#else
    int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
    int16x8_t p0 = vmlal_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), vget_high_s8(w0), vget_high_s8(x0));
    int16x8_t p1 = vmlal_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(x1)), vget_high_s8(w1), vget_high_s8(x1));
    return vpadalq_s16(vpaddlq_s16(p0), p1);
#endif
}

static ARTR__INLINE int32_t artr__hsum_s32_neon(int32x4_t v)
{
#if defined(__aarch64__)
    return vaddvq_s32(v);
#else
    int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

#define ARTR__S8(v) vreinterpretq_s8_u8(v)

/* Q4_K and Q5_K (five: the qh bits), as artr__dotq_k45_ref. */
static float artr__dotq_k45_neon(const uint8_t *b, const int8_t *xq, const float *xd, int n, int five)
{
    const float *sums = xd + n / ARTR__QKK;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), bit = vdupq_n_u8(0x10);
    size_t bytes = five ? 176 : 144;
    float s = 0;
    int i, j, sc0, m0, sc1, m1;
    for (i = 0; i < n; i += ARTR__QKK, b += bytes) {
        const uint8_t *qs = b + (five ? 48 : 16);
        const int8_t *x = xq + i;
        const float *su = sums + i / 16;
        uint8x16_t h0 = vld1q_u8(b + 16), h1 = vld1q_u8(b + 32); /* Q5_K's qh */
        int32x4_t acc = vdupq_n_s32(0);
        int32_t ms = 0;
        for (j = 0; j < 4; j++) { /* sub-blocks 2j (low nibbles), 2j + 1 (high) */
            uint8x16_t q0 = vld1q_u8(qs + 32 * j), q1 = vld1q_u8(qs + 32 * j + 16);
            uint8x16_t l0 = vandq_u8(q0, m4), l1 = vandq_u8(q1, m4), u0 = vshrq_n_u8(q0, 4), u1 = vshrq_n_u8(q1, 4);
            if (five) {
                l0 = vorrq_u8(l0, vandq_u8(vshlq_n_u8(h0, 4), bit));
                l1 = vorrq_u8(l1, vandq_u8(vshlq_n_u8(h1, 4), bit));
                u0 = vorrq_u8(u0, vandq_u8(vshlq_n_u8(h0, 3), bit));
                u1 = vorrq_u8(u1, vandq_u8(vshlq_n_u8(h1, 3), bit));
                h0 = vshrq_n_u8(h0, 2);
                h1 = vshrq_n_u8(h1, 2);
            }
            artr__k4_scale_min(b + 4, 2 * j, &sc0, &m0);
            artr__k4_scale_min(b + 4, 2 * j + 1, &sc1, &m1);
            acc = vmlaq_n_s32(acc, artr__i8dot32_neon(ARTR__S8(l0), ARTR__S8(l1), x + 64 * j), sc0);
            acc = vmlaq_n_s32(acc, artr__i8dot32_neon(ARTR__S8(u0), ARTR__S8(u1), x + 64 * j + 32), sc1);
            ms += m0 * ((int32_t)su[4 * j] + (int32_t)su[4 * j + 1]) + m1 * ((int32_t)su[4 * j + 2] + (int32_t)su[4 * j + 3]);
        }
        s += xd[i / ARTR__QKK] * (artr__f16_to_f32(artr__le16(b)) * (float)artr__hsum_s32_neon(acc) -
                                  artr__f16_to_f32(artr__le16(b + 2)) * (float)ms);
    }
    return s;
}

static float artr__dotq_q4_k_neon(const void *w, const int8_t *xq, const float *xd, int n)
{
    return artr__dotq_k45_neon((const uint8_t *)w, xq, xd, n, 0);
}

static float artr__dotq_q5_k_neon(const void *w, const int8_t *xq, const float *xd, int n)
{
    return artr__dotq_k45_neon((const uint8_t *)w, xq, xd, n, 1);
}

static float artr__dotq_q6_k_neon(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m2 = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    float s = 0;
    int i, h, k, c;
    for (i = 0; i < n; i += ARTR__QKK, b += 210) {
        int32x4_t acc = vdupq_n_s32(0);
        for (h = 0; h < 2; h++) /* 128 elements: ql bytes 64h.., qh bytes 32h.. */
            for (k = 0; k < 2; k++) { /* 16 of each 32 */
                const uint8_t *ql = b + 64 * h + 16 * k;
                uint8x16_t a = vld1q_u8(ql), a2 = vld1q_u8(ql + 32), qh = vld1q_u8(b + 128 + 32 * h + 16 * k);
                int8x16_t q[4];
                q[0] = vsubq_s8(ARTR__S8(vorrq_u8(vandq_u8(a, m4), vandq_u8(vshlq_n_u8(qh, 4), m2))), off);
                q[1] = vsubq_s8(ARTR__S8(vorrq_u8(vandq_u8(a2, m4), vandq_u8(vshlq_n_u8(qh, 2), m2))), off);
                q[2] = vsubq_s8(ARTR__S8(vorrq_u8(vshrq_n_u8(a, 4), vandq_u8(qh, m2))), off);
                q[3] = vsubq_s8(ARTR__S8(vorrq_u8(vshrq_n_u8(a2, 4), vandq_u8(vshrq_n_u8(qh, 2), m2))), off);
                for (c = 0; c < 4; c++) { /* elements 128h + 32c + 16k.., sub-block 8h + 2c + k */
                    int g = 8 * h + 2 * c + k;
                    acc = vmlaq_n_s32(acc, artr__i8dot16_neon(q[c], xq + i + 16 * g), (int8_t)b[192 + g]);
                }
            }
        s += xd[i / ARTR__QKK] * artr__f16_to_f32(artr__le16(b + 208)) * (float)artr__hsum_s32_neon(acc);
    }
    return s;
}

static float artr__dotq_q3_k_neon(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    const uint8x16_t m2 = vdupq_n_u8(3), bit = vdupq_n_u8(4);
    const int8x16_t four = vdupq_n_s8(4);
    float s = 0;
    int i, h, k, t;
    for (i = 0; i < n; i += ARTR__QKK, b += 110) {
        int32x4_t acc = vdupq_n_s32(0);
        for (k = 0; k < 2; k++) { /* the 16 elements of each 32 at offset 16k */
            uint8x16_t hm = vld1q_u8(b + 16 * k);
            for (h = 0; h < 2; h++) {
                uint8x16_t qs = vld1q_u8(b + 32 + 32 * h + 16 * k);
                for (t = 0; t < 4; t++) { /* elements 128h + 32t + 16k..: sub-block 8h + 2t + k */
                    int g = 8 * h + 2 * t + k;
                    int8x16_t q = vsubq_s8(ARTR__S8(vorrq_u8(vandq_u8(qs, m2), vandq_u8(vshlq_n_u8(hm, 2), bit))), four);
                    acc = vmlaq_n_s32(acc, artr__i8dot16_neon(q, xq + i + 16 * g), artr__q3_k_scale(b + 96, g));
                    qs = vshrq_n_u8(qs, 2);
                    hm = vshrq_n_u8(hm, 1);
                }
            }
        }
        s += xd[i / ARTR__QKK] * artr__f16_to_f32(artr__le16(b + 108)) * (float)artr__hsum_s32_neon(acc);
    }
    return s;
}

static float artr__dotq_q2_k_neon(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    const float *sums = xd + n / ARTR__QKK;
    const uint8x16_t m2 = vdupq_n_u8(3);
    float s = 0;
    int i, h, k, t, g;
    for (i = 0; i < n; i += ARTR__QKK, b += 84) {
        int32x4_t acc = vdupq_n_s32(0);
        int32_t ms = 0;
        for (h = 0; h < 2; h++)
            for (k = 0; k < 2; k++) {
                uint8x16_t qs = vld1q_u8(b + 16 + 32 * h + 16 * k);
                for (t = 0; t < 4; t++) { /* elements 128h + 32t + 16k..: sub-block 8h + 2t + k */
                    g = 8 * h + 2 * t + k;
                    acc = vmlaq_n_s32(acc, artr__i8dot16_neon(ARTR__S8(vandq_u8(qs, m2)), xq + i + 16 * g), b[g] & 0x0f);
                    qs = vshrq_n_u8(qs, 2);
                }
            }
        for (g = 0; g < 16; g++) ms += (b[g] >> 4) * (int32_t)sums[(i + 16 * g) / 16];
        s += xd[i / ARTR__QKK] * (artr__f16_to_f32(artr__le16(b + 80)) * (float)artr__hsum_s32_neon(acc) -
                                  artr__f16_to_f32(artr__le16(b + 82)) * (float)ms);
    }
    return s;
}

static float artr__dotq_iq4_xs_neon(const void *w, const int8_t *xq, const float *xd, int n)
{
    const uint8_t *b = (const uint8_t *)w;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    float s = 0;
    int i, j;
#if defined(__aarch64__)
    const int8x16_t tbl = vld1q_s8(artr__iq4nl_values);
#define ARTR__IQ4_LOOKUP(idx) vqtbl1q_s8(tbl, idx)
#else
    int8x8x2_t tbl;
#define ARTR__IQ4_LOOKUP(idx) \
    vcombine_s8(vtbl2_s8(tbl, vreinterpret_s8_u8(vget_low_u8(idx))), vtbl2_s8(tbl, vreinterpret_s8_u8(vget_high_u8(idx))))
    tbl.val[0] = vld1_s8(artr__iq4nl_values);
    tbl.val[1] = vld1_s8(artr__iq4nl_values + 8);
#endif
    for (i = 0; i < n; i += ARTR__QKK, b += 136) {
        int32x4_t acc = vdupq_n_s32(0);
        for (j = 0; j < 8; j++) { /* sub-block j: 16 bytes, low nibbles then high */
            uint8x16_t q = vld1q_u8(b + 8 + 16 * j);
            int8x16_t lo = ARTR__IQ4_LOOKUP(vandq_u8(q, m4)), hi = ARTR__IQ4_LOOKUP(vshrq_n_u8(q, 4));
            acc = vmlaq_n_s32(acc, artr__i8dot32_neon(lo, hi, xq + i + 32 * j), artr__iq4_xs_scale(b, j));
        }
        s += xd[i / ARTR__QKK] * artr__f16_to_f32(artr__le16(b)) * (float)artr__hsum_s32_neon(acc);
    }
    return s;
}
#undef ARTR__IQ4_LOOKUP
#undef ARTR__S8

/* Q4_1, Q5_0, Q5_1 and IQ4_NL against 8-bit activations, as the AVX2 kernels above: a
   block's weights unpacked to 32 signed bytes (w[0]: elements 0..15, w[1]: 16..31), an
   exact integer dot, scaled by d_w * d_x, plus m_w * d_x times the activations' sum for
   the types with an offset. */

/* 32 byte pairs as artr__i8dot_neon, the activations in registers; with the dot-product
   extension, two vdotq_s32 (the same exact sums). */
static float32x4_t artr__i8dot2_neon(const int8x16_t *w, int8x16_t x0, int8x16_t x1)
{
#ifdef __ARM_FEATURE_DOTPROD
    return vcvtq_f32_s32(vdotq_s32(vdotq_s32(vdupq_n_s32(0), w[0], x0), w[1], x1));
#else
    int16x8_t p0 = vmlal_s8(vmull_s8(vget_low_s8(w[0]), vget_low_s8(x0)), vget_high_s8(w[0]), vget_high_s8(x0));
    int16x8_t p1 = vmlal_s8(vmull_s8(vget_low_s8(w[1]), vget_low_s8(x1)), vget_high_s8(w[1]), vget_high_s8(x1));
    return vcvtq_f32_s32(vpadalq_s16(vpaddlq_s16(p0), p1));
#endif
}

/* The sum of 32 activations, as 4 lanes of exact sums of 8. */
static float32x4_t artr__xsum_neon(int8x16_t x0, int8x16_t x1)
{
    return vcvtq_f32_s32(vpaddlq_s16(vaddq_s16(vpaddlq_s8(x0), vpaddlq_s8(x1))));
}

/* The 32 nibbles of the 16 bytes at q: n[0] the low ones (elements 0..15), n[1] the high. */
static void artr__nibbles_neon(const uint8_t *q, uint8x16_t *n)
{
    uint8x16_t v = vld1q_u8(q);
    n[0] = vandq_u8(v, vdupq_n_u8(0x0f));
    n[1] = vshrq_n_u8(v, 4);
}

/* The 32 bits at qh as bytes, 0xff where bit j is set: h[0] bits 0..15, h[1] 16..31. */
static ARTR__INLINE void artr__bits32_neon(const uint8_t *qh, uint8x16_t *h)
{
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t m = vld1q_u8(bit);
    uint32_t b = artr__le32(qh);
    h[0] = vtstq_u8(vcombine_u8(vdup_n_u8((uint8_t)b), vdup_n_u8((uint8_t)(b >> 8))), m);
    h[1] = vtstq_u8(vcombine_u8(vdup_n_u8((uint8_t)(b >> 16)), vdup_n_u8((uint8_t)(b >> 24))), m);
}

/* Weights as signed bytes, per type (q: the block). Q4_1: 0..15. Q5_0: q - 16, the nibble
   with 0xf0 where the fifth bit is clear. Q5_1: 0..31. IQ4_NL: the values. */
static void artr__unpack_q4_1_neon(const uint8_t *q, int8x16_t *w)
{
    uint8x16_t n[2];
    artr__nibbles_neon(q + 4, n);
    w[0] = vreinterpretq_s8_u8(n[0]);
    w[1] = vreinterpretq_s8_u8(n[1]);
}

static void artr__unpack_q5_0_neon(const uint8_t *q, int8x16_t *w)
{
    uint8x16_t n[2], h[2], f0 = vdupq_n_u8(0xf0);
    artr__nibbles_neon(q + 6, n);
    artr__bits32_neon(q + 2, h);
    w[0] = vreinterpretq_s8_u8(vorrq_u8(n[0], vbicq_u8(f0, h[0])));
    w[1] = vreinterpretq_s8_u8(vorrq_u8(n[1], vbicq_u8(f0, h[1])));
}

static void artr__unpack_q5_1_neon(const uint8_t *q, int8x16_t *w)
{
    uint8x16_t n[2], h[2], b4 = vdupq_n_u8(0x10);
    artr__nibbles_neon(q + 8, n);
    artr__bits32_neon(q + 4, h);
    w[0] = vreinterpretq_s8_u8(vorrq_u8(n[0], vandq_u8(b4, h[0])));
    w[1] = vreinterpretq_s8_u8(vorrq_u8(n[1], vandq_u8(b4, h[1])));
}

static void artr__unpack_iq4_nl_neon(const uint8_t *q, int8x16_t *w)
{
    uint8x16_t n[2];
    int r;
#if defined(__aarch64__)
    int8x16_t values = vld1q_s8(artr__iq4nl_values);
    artr__nibbles_neon(q + 2, n);
    for (r = 0; r < 2; r++) w[r] = vqtbl1q_s8(values, n[r]);
#else
    int8x8x2_t values;
    values.val[0] = vld1_s8(artr__iq4nl_values);
    values.val[1] = vld1_s8(artr__iq4nl_values + 8);
    artr__nibbles_neon(q + 2, n);
    for (r = 0; r < 2; r++)
        w[r] = vcombine_s8(vtbl2_s8(values, vreinterpret_s8_u8(vget_low_u8(n[r]))),
                           vtbl2_s8(values, vreinterpret_s8_u8(vget_high_u8(n[r]))));
#endif
}

/* T: the type's name; BLOCK: bytes per block; OFS: 1 if it has an offset m (the half at
   q + 2). */
#define ARTR__DOTQ32_NEON(T, BLOCK, OFS)                                                         \
    static float artr__dotq_##T##_neon(const void *w, const int8_t *xq, const float *xd, int n) \
    {                                                                                            \
        const uint8_t *q = (const uint8_t *)w;                                                   \
        float32x4_t acc = vdupq_n_f32(0);                                                        \
        int i;                                                                                   \
        for (i = 0; i < n; i += ARTR__QK, q += BLOCK) {                                          \
            int8x16_t x0 = vld1q_s8(xq + i), x1 = vld1q_s8(xq + i + 16), wv[2];                  \
            float dx = xd[i / ARTR__QK];                                                         \
            artr__unpack_##T##_neon(q, wv);                                                      \
            acc = ARTR__VFMA(acc, artr__i8dot2_neon(wv, x0, x1),                                 \
                             vdupq_n_f32(artr__f16_to_f32(artr__le16(q)) * dx));                 \
            if (OFS)                                                                             \
                acc = ARTR__VFMA(acc, artr__xsum_neon(x0, x1),                                   \
                                 vdupq_n_f32(artr__f16_to_f32(artr__le16(q + 2)) * dx));         \
        }                                                                                        \
        return artr__hsum_neon(acc);                                                             \
    }
ARTR__DOTQ32_NEON(q4_1, 20, 1)
ARTR__DOTQ32_NEON(q5_0, 22, 0)
ARTR__DOTQ32_NEON(q5_1, 24, 1)
ARTR__DOTQ32_NEON(iq4_nl, 18, 0)
#undef ARTR__DOTQ32_NEON
#endif

/* Four rows per call: out[r] for rows w, w + stride, ... (artr__dotq4_*); four rows
   times two tokens (artr__dotq4x2_*). */
typedef void (*artr__dotq4_fn)(const void *w, size_t stride, const int8_t *xq, const float *xd, int n,
                               float *out);
typedef void (*artr__dotq4x2_fn)(const void *w, size_t stride, const int8_t *xq, size_t ldq, const float *xd,
                                 size_t ldd, int n, float *out);

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
ARTR__AVX2_BEGIN
static void artr__axpy_f32_avx2(float *out, float a, const void *v, int n)
{
    const float *b = (const float *)v;
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(b + i), _mm256_loadu_ps(out + i)));
    for (; i < n; i++) out[i] += a * b[i];
}
ARTR__AVX2_END
#endif

#if ARTR__F16_AVX2
ARTR__AVX2_BEGIN
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
ARTR__AVX2_END
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

/* One weight row with four activation rows per call (artr__dot4t_*), where the build
   has one (else NULL: one token at a time). Each output equals artr__dot_for's bit for
   bit, so a token's logits do not depend on how many share the call. */
typedef void (*artr__dot4t_fn)(const void *w, const float *x, size_t ldx, int n, float *out);
/* ---- §3 kernels: the per-type table ------------------------------------------------ */
/* Float-activation dots of the types without a hand-written one: each block turned into
   floats by its exact to_f32, then dotted with x by F32DOT (the reference F32 loop, or
   the build's F32 kernel). What ARTR_NO_QUANT_ACT and scalar builds multiply with. */
#define ARTR__DOT_DEQUANT(NAME, TO_F32, BLOCK, BYTES, F32DOT)                                \
    static ARTR__UNUSED float NAME(const void *w, const float *x, int n)                    \
    {                                                                                        \
        const uint8_t *b = (const uint8_t *)w;                                               \
        float buf[BLOCK], s = 0;                                                             \
        int i;                                                                               \
        for (i = 0; i < n; i += BLOCK, b += BYTES) {                                         \
            TO_F32(b, buf, 1);                                                               \
            s += F32DOT(buf, x + i, BLOCK);                                                  \
        }                                                                                    \
        return s;                                                                            \
    }
#define ARTR__DOT_DEQUANT_ALL(SUFFIX, F32DOT)                                               \
    ARTR__DOT_DEQUANT(artr__dot_q4_1_##SUFFIX, artr__dequant_q4_1_ref, 32, 20, F32DOT)           \
    ARTR__DOT_DEQUANT(artr__dot_q5_0_##SUFFIX, artr__dequant_q5_0_ref, 32, 22, F32DOT)           \
    ARTR__DOT_DEQUANT(artr__dot_q5_1_##SUFFIX, artr__dequant_q5_1_ref, 32, 24, F32DOT)           \
    ARTR__DOT_DEQUANT(artr__dot_iq4_nl_##SUFFIX, artr__dequant_iq4_nl_ref, 32, 18, F32DOT)       \
    ARTR__DOT_DEQUANT(artr__dot_q2_k_##SUFFIX, artr__dequant_q2_k_ref, 256, 84, F32DOT)          \
    ARTR__DOT_DEQUANT(artr__dot_q3_k_##SUFFIX, artr__dequant_q3_k_ref, 256, 110, F32DOT)         \
    ARTR__DOT_DEQUANT(artr__dot_q4_k_##SUFFIX, artr__dequant_q4_k_ref, 256, 144, F32DOT)         \
    ARTR__DOT_DEQUANT(artr__dot_q5_k_##SUFFIX, artr__dequant_q5_k_ref, 256, 176, F32DOT)         \
    ARTR__DOT_DEQUANT(artr__dot_q6_k_##SUFFIX, artr__dequant_q6_k_ref, 256, 210, F32DOT)         \
    ARTR__DOT_DEQUANT(artr__dot_iq4_xs_##SUFFIX, artr__dequant_iq4_xs_ref, 256, 136, F32DOT)
ARTR__DOT_DEQUANT_ALL(ref, artr__dot_f32_ref)
#if ARTR__AVX2
ARTR__AVX2_BEGIN
ARTR__DOT_DEQUANT_ALL(avx2, artr__dot_f32_avx2)
ARTR__AVX2_END
#endif
#if ARTR__NEON
ARTR__DOT_DEQUANT_ALL(neon, artr__dot_f32_neon)
#endif
#undef ARTR__DOT_DEQUANT_ALL
#undef ARTR__DOT_DEQUANT

/* to_f32 of the element types, in the table's signature (a block is one element). */
static void artr__dequant_f32_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * 4);
}

static void artr__dequant_f16_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst, int64_t n)
{
    int64_t i;
    for (i = 0; i < n; i++) dst[i] = artr__f16_to_f32(artr__le16(src + 2 * i));
}

static void artr__dequant_bf16_ref(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst, int64_t n)
{
    int64_t i;
    for (i = 0; i < n; i++) dst[i] = artr__bf16_to_f32(artr__le16(src + 2 * i));
}

/* What each weight type has, in one place. A row per type the forward pass multiplies
   with (artr__type_is_weight); block size and bytes are artr__types'. Fields:
     to_f32   blocks to floats, exact (equal to gguf-py's dequantize bit for bit)
     dot_ref  the reference dot against float activations (tests compare with it)
     dot      the build's dot against float activations (never NULL)
     dot4t    one row times four float activation rows, bit for bit dot's; NULL: dot
              once per token
     dot2t    the same for two rows (the tokens dot4t leaves); NULL: dot
     axpy     out += a * row, for the KV cache types (F32, F16); NULL otherwise
     act      the activation format dotq reads: ARTR__ACT_Q8 (32-element blocks),
              ARTR__ACT_Q8K (256-element blocks with sums of 16), ARTR__ACT_F32: no dotq
     dotq_ref the reference dot against quantized activations
     dotq     the build's; matmuls use it when the build quantizes activations
              (ARTR__QACT: SIMD builds without ARTR_NO_QUANT_ACT), else dot
     dotq4    four rows per call, bit for bit dotq's; NULL: dotq row by row
     dotq4x2  four rows times two tokens, bit for bit dotq's; NULL: dotq4 per token
     dotq8    eight rows times any number of tokens (ARTR__R8_KERNELS), bit for bit
              dotq's; where set, matmuls use it (and dotq for leftover rows) instead
   ARTR__ISA(ref, avx2, neon) names the build's variant of a kernel. */
typedef void (*artr__to_f32_fn)(const uint8_t *ARTR__RESTRICT src, float *ARTR__RESTRICT dst, int64_t n_blocks);

typedef struct artr__kernel_row {
    int type;
    artr__to_f32_fn to_f32;
    artr__dot_fn dot_ref, dot;
    artr__dot4t_fn dot4t, dot2t;
    artr__axpy_fn axpy;
    int act;
    artr__dotq_fn dotq_ref, dotq;
    artr__dotq4_fn dotq4;
    artr__dotq4x2_fn dotq4x2;
    artr__dotq8_fn dotq8;
} artr__kernel_row;

/* The rows, written once with ARTR__ISA(ref, avx2, neon) for each kernel that has SIMD
   variants, then laid out as two tables: the references' (ARTR__ISA picks ref) and the
   build's SIMD one (avx2 or neon) where the build has SIMD kernels. */
#define ARTR__NONE_Q ARTR__ACT_F32, NULL, NULL, NULL, NULL, NULL /* no quantized-activation kernels */
/* A 32-element block type (eight-row kernels), a 256-element one (four-row and 4x2). */
#define ARTR__ROW_Q32(TYPE, t)                                                                    \
    {TYPE, artr__dequant_##t##_ref, artr__dot_##t##_ref,                                          \
     ARTR__ISA(artr__dot_##t##_ref, artr__dot_##t##_avx2, artr__dot_##t##_neon), NULL, NULL, NULL, \
     ARTR__ACT_Q8, artr__dotq_##t##_ref,                                                          \
     ARTR__ISA(artr__dotq_##t##_ref, artr__dotq_##t##_avx2, artr__dotq_##t##_neon), NULL, NULL,   \
     ARTR__ISA(NULL, artr__dotq8_##t##_avx2, NULL)}
#define ARTR__ROW_K(TYPE, t)                                                                      \
    {TYPE, artr__dequant_##t##_ref, artr__dot_##t##_ref,                                          \
     ARTR__ISA(artr__dot_##t##_ref, artr__dot_##t##_avx2, artr__dot_##t##_neon), NULL, NULL, NULL, \
     ARTR__ACT_Q8K, artr__dotq_##t##_ref,                                                         \
     ARTR__ISA(artr__dotq_##t##_ref, artr__dotq_##t##_avx2, artr__dotq_##t##_neon),               \
     ARTR__ISA(NULL, artr__dotq4_##t##_avx2, NULL), ARTR__ISA(NULL, artr__dotq4x2_##t##_avx2, NULL), NULL}
#define ARTR__KERNEL_ROWS \
    {ARTR_TYPE_F32, artr__dequant_f32_ref, artr__dot_f32_ref, \
     ARTR__ISA(artr__dot_f32_ref, artr__dot_f32_avx2, artr__dot_f32_neon), \
     ARTR__ISA(NULL, artr__dot4t_f32_avx2, NULL), ARTR__ISA(NULL, artr__dot2t_f32_avx2, NULL), \
     ARTR__ISA(artr__axpy_f32_ref, artr__axpy_f32_avx2, artr__axpy_f32_neon), ARTR__NONE_Q}, \
    {ARTR_TYPE_F16, artr__dequant_f16_ref, artr__dot_f16_ref, \
     ARTR__ISA_F16(artr__dot_f16_ref, artr__dot_f16_avx2, artr__dot_f16_neon), \
     ARTR__ISA_F16(NULL, artr__dot4t_f16_avx2, NULL), ARTR__ISA_F16(NULL, artr__dot2t_f16_avx2, NULL), \
     ARTR__ISA_F16(artr__axpy_f16_ref, artr__axpy_f16_avx2, artr__axpy_f16_neon), ARTR__NONE_Q}, \
    {ARTR_TYPE_BF16, artr__dequant_bf16_ref, artr__dot_bf16_ref, \
     ARTR__ISA(artr__dot_bf16_ref, artr__dot_bf16_avx2, artr__dot_bf16_neon), NULL, NULL, NULL, ARTR__NONE_Q}, \
    ARTR__ROW_Q32(ARTR_TYPE_Q8_0, q8_0), \
    ARTR__ROW_Q32(ARTR_TYPE_Q4_0, q4_0), \
    ARTR__ROW_Q32(ARTR_TYPE_Q4_1, q4_1), \
    ARTR__ROW_Q32(ARTR_TYPE_Q5_0, q5_0), \
    ARTR__ROW_Q32(ARTR_TYPE_Q5_1, q5_1), \
    ARTR__ROW_Q32(ARTR_TYPE_IQ4_NL, iq4_nl), \
    ARTR__ROW_K(ARTR_TYPE_Q2_K, q2_k), \
    ARTR__ROW_K(ARTR_TYPE_Q3_K, q3_k), \
    ARTR__ROW_K(ARTR_TYPE_Q4_K, q4_k), \
    ARTR__ROW_K(ARTR_TYPE_Q5_K, q5_k), \
    ARTR__ROW_K(ARTR_TYPE_Q6_K, q6_k), \
    ARTR__ROW_K(ARTR_TYPE_IQ4_XS, iq4_xs)
#if ARTR__F16_AVX2 || ARTR__F16_NEON
#define ARTR__ISA_F16(ref, avx2, neon) ARTR__ISA(ref, avx2, neon)
#else
#define ARTR__ISA_F16(ref, avx2, neon) ref
#endif
#define ARTR__ISA(ref, avx2, neon) ref
static const artr__kernel_row artr__kernel_table_ref[] = {ARTR__KERNEL_ROWS};
#undef ARTR__ISA
#if ARTR__AVX2
#define ARTR__ISA(ref, avx2, neon) avx2
#elif ARTR__NEON
#define ARTR__ISA(ref, avx2, neon) neon
#endif
#ifdef ARTR__ISA
static const artr__kernel_row artr__kernel_table_simd[] = {ARTR__KERNEL_ROWS};
#undef ARTR__ISA
#endif
#undef ARTR__KERNEL_ROWS
#undef ARTR__ROW_Q32
#undef ARTR__ROW_K
#undef ARTR__NONE_Q
#undef ARTR__ISA_F16
#define ARTR__N_KERNEL_ROWS ((int)(sizeof artr__kernel_table_ref / sizeof artr__kernel_table_ref[0]))

/* A context's kernels (artr__kset_for picks them once, at creation): a table of rows, the
   vector helpers (softmax, SwiGLU, GELU) of the same ISA, and whether matmuls quantize
   activations (qact: SIMD kernels, unless ARTR_NO_QUANT_ACT). */
enum { ARTR__SIMD_NONE, ARTR__SIMD_AVX2, ARTR__SIMD_NEON };
typedef struct artr__kset {
    const artr__kernel_row *rows;
    int simd, qact;
    const char *name;
} artr__kset;

static const artr__kset artr__kset_ref = {artr__kernel_table_ref, ARTR__SIMD_NONE, 0, "scalar"};
#if ARTR__QACT
#define ARTR__SIMD_QACT 1
#else
#define ARTR__SIMD_QACT 0
#endif
#if ARTR__AVX2
static const artr__kset artr__kset_simd = {artr__kernel_table_simd, ARTR__SIMD_AVX2, ARTR__SIMD_QACT,
#if ARTR__X86_DISPATCH
                                           "avx2 (chosen at run time)"};
#else
                                           "avx2"};
#endif
#elif ARTR__NEON
static const artr__kset artr__kset_simd = {artr__kernel_table_simd, ARTR__SIMD_NEON, ARTR__SIMD_QACT, "neon"};
#endif
#undef ARTR__SIMD_QACT

#if ARTR__X86_DISPATCH
/* Whether this CPU runs the AVX2 kernels: AVX2, FMA and F16C, and an OS that saves the
   YMM registers (OSXSAVE, then XCR0 bits 1 and 2). */
static int artr__cpu_avx2(void)
{
    unsigned a, b, c, d, lo, hi;
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid(1, a, b, c, d);
    if (!(c & (1u << 27)) || !(c & (1u << 28)) || !(c & (1u << 12)) || !(c & (1u << 29))) return 0;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 6u) != 6u) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0;
}
#endif

/* The kernels for a context: the references when asked (ARTR_KERNELS_SCALAR), else the
   build's SIMD ones (on x86 without -mavx2: where this CPU has AVX2). */
static const artr__kset *artr__kset_for(int kernels)
{
    if (kernels == ARTR_KERNELS_SCALAR) return &artr__kset_ref;
#if ARTR__X86_DISPATCH
    return artr__cpu_avx2() ? &artr__kset_simd : &artr__kset_ref;
#elif ARTR__AVX2 || ARTR__NEON
    return &artr__kset_simd;
#else
    return &artr__kset_ref;
#endif
}

/* The build's default kernels without asking the CPU: the native SIMD table, or the
   references (a dispatching build, a scalar one). For what every table shares (to_f32,
   act) and for tests. */
#if ARTR__AVX2_NATIVE || ARTR__NEON
#define artr__kernel_table artr__kernel_table_simd
#define ARTR__KSET_BUILD (&artr__kset_simd)
#else
#define artr__kernel_table artr__kernel_table_ref
#define ARTR__KSET_BUILD (&artr__kset_ref)
#endif

/* A table's row for a type, or NULL: a type artr does not multiply with. */
static const artr__kernel_row *artr__kernels_in(const artr__kernel_row *table, int type)
{
    int i;
    for (i = 0; i < ARTR__N_KERNEL_ROWS; i++)
        if (table[i].type == type) return &table[i];
    return NULL;
}

/* The build's default row (artr__kernel_table) for a type, or NULL. */
static const artr__kernel_row *artr__kernels(int type)
{
    return artr__kernels_in(artr__kernel_table, type);
}

/* The float-activation dot of a type in a context's kernels (F32 for anything else). */
static artr__dot_fn artr__dot_for(const artr__kset *ks, int type)
{
    const artr__kernel_row *k = artr__kernels_in(ks->rows, type);
    return k ? k->dot : ks->rows[0].dot;
}

ARTRDEF artr_status artr_tensor_to_f32(const artr_tensor *t, int64_t first, int64_t n,
                                       float *dst, artr_error *err)
{
    const artr__type_info *ti;
    const artr__kernel_row *k;
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
    if ((k = artr__kernels(t->type)) != NULL) {
        k->to_f32(src, dst, n / ti->block);
        return ARTR_OK;
    }
    switch (t->type) {
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

/* Types the forward pass multiplies with: those in the kernel table. */
static int artr__type_is_weight(int type)
{
    return artr__kernels(type) != NULL;
}

/* Matmul blocking: rows (float kernels) and four-row units (quantized) per block. */
#define ARTR__MM_ROWS 16
#define ARTR__MM_UNITS 4

#ifndef ARTR_OMP_MIN_WORK
#define ARTR_OMP_MIN_WORK 65536 /* multiply-adds below which a matmul stays on one thread */
#endif

/* What a context lends its matmuls: room for n_batch quantized activation rows (xq; xd
   their scales, xs their block sums) and one tile (ARTR__TILE_BYTES of the widest matrix)
   per thread, tile_bytes apart. All NULL where the context does not quantize. */
typedef struct artr__mm_scratch {
    int8_t *xq;
    float *xd;
    int32_t *xs;
    uint8_t *tile;
    size_t tile_bytes;
} artr__mm_scratch;

#if ARTR__QACT
/* This thread's tile (OpenMP's thread number; 0 without OpenMP). */
static uint8_t *artr__my_tile(const artr__mm_scratch *sc)
{
#ifdef _OPENMP
    return sc->tile + (size_t)omp_get_thread_num() * sc->tile_bytes;
#else
    return sc->tile;
#endif
}

/* artr__matmul for weights with a quantized-activation kernel (k->dotq): each activation
   row quantized once into k->act's format (into sc->xq, xd: n rows of cols bytes and
   artr__act_scales floats; for dotq8 also the block sums, xs), then the integer
   kernels: dotq8 on eight rows at a time (every token of the call before the next eight
   rows, so their weights are read once), or the four-row kernels. */
static void artr__matmul_q(const artr_tensor *w, const artr__kernel_row *k_row, const float *x, int ldx,
                           int n, float *out, int ldo, int n_threads, const artr__mm_scratch *sc)
{
    int rows = (int)w->ne[1], cols = (int)w->ne[0], groups, units, blocks, bl, t;
    size_t row_bytes = w->n_bytes / (size_t)rows, nb = (size_t)artr__act_scales(k_row->act, cols);
    artr__dotq_fn dot = k_row->dotq;
    artr__dotq4_fn dot4 = k_row->dotq4;
    artr__dotq4x2_fn dot4x2 = k_row->dotq4x2;
    int8_t *xq = sc->xq;
    float *xd = sc->xd;
    (void)n_threads;
    for (t = 0; t < n; t++) {
        if (k_row->act == ARTR__ACT_Q8K)
            artr__quantize_act_k_ref(x + (size_t)t * ldx, cols, xq + (size_t)t * cols, xd + (size_t)t * nb);
        else
            artr__quantize_act_ref(x + (size_t)t * ldx, cols, xq + (size_t)t * cols, xd + (size_t)t * nb);
        if (k_row->dotq8) artr__act_sums(xq + (size_t)t * cols, cols, sc->xs + (size_t)t * nb);
    }
    if (k_row->dotq8) {
        artr__qacts a;
        int g8 = rows / 8, g;
        a.q = xq;
        a.d = xd;
        a.s = sc->xs;
        a.ldq = (size_t)cols;
        a.ldd = a.lds = nb;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(n_threads) \
    if (n_threads > 1 && (int64_t)rows * cols * n >= ARTR_OMP_MIN_WORK)
#endif
        for (g = 0; g < g8 + (rows % 8); g++) {
            if (g < g8) {
                k_row->dotq8((const uint8_t *)w->data + (size_t)(8 * g) * row_bytes, row_bytes, cols, &a, n,
                             out + 8 * g, (size_t)ldo, artr__my_tile(sc));
            } else { /* the rows after the last eight */
                int rr = 8 * g8 + (g - g8), v;
                for (v = 0; v < n; v++)
                    out[(size_t)v * ldo + rr] = dot((const uint8_t *)w->data + (size_t)rr * row_bytes,
                                                    xq + (size_t)v * cols, xd + (size_t)v * nb, cols);
            }
        }
        return;
    }
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
   sc: the context's scratch for quantized activations (artr__matmul_q). */
static void artr__matmul(const artr__kset *ks, const artr_tensor *w, const float *x, int ldx, int n,
                         float *out, int ldo, int n_threads, const artr__mm_scratch *sc)
{
    int rows = (int)w->ne[1], cols = (int)w->ne[0], blocks = (rows + ARTR__MM_ROWS - 1) / ARTR__MM_ROWS, bl;
    size_t row_bytes = w->n_bytes / (size_t)rows;
    const artr__kernel_row *k_row = artr__kernels_in(ks->rows, w->type);
    artr__dot_fn dot = k_row->dot;
    artr__dot4t_fn dot4t = k_row->dot4t, dot2t = k_row->dot2t;
    (void)n_threads;
#if ARTR__QACT
    if (ks->qact && sc->xq && k_row->dotq) {
        artr__matmul_q(w, k_row, x, ldx, n, out, ldo, n_threads, sc);
        return;
    }
#endif
    (void)sc;
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
        for (; dot2t && t + 2 <= n; t += 2)
            for (r = r0; r < r1; r++) {
                float o[2];
                dot2t((const uint8_t *)w->data + (size_t)r * row_bytes, x + (size_t)t * ldx, (size_t)ldx, cols, o);
                out[(size_t)t * ldo + r] = o[0];
                out[(size_t)(t + 1) * ldo + r] = o[1];
            }
        for (; t < n; t++)
            for (r = r0; r < r1; r++)
                out[(size_t)t * ldo + r] = dot((const uint8_t *)w->data + (size_t)r * row_bytes, x + (size_t)t * ldx, cols);
    }
}

/* out = x / rms(x) * w  (RMSNorm, as Llama). */
static void artr__rmsnorm(const artr__kset *ks, float *out, const float *x, const float *w, int n, float eps)
{
    float ss = ks->rows[0].dot(x, x, n), scale; /* the context's F32 dot kernel */
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
ARTR__AVX2_BEGIN
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
ARTR__AVX2_END
#endif

/* The build's softmax, SwiGLU and GELU (AVX2 where built, else the references). */
static void artr__softmax_into(const artr__kset *ks, const float *l, float *p, int n)
{
#if ARTR__AVX2
    if (ks->simd == ARTR__SIMD_AVX2) {
        artr__softmax_avx2(l, p, n);
        return;
    }
#endif
    (void)ks;
    artr__softmax_ref(l, p, n);
}

static void artr__swiglu(const artr__kset *ks, float *g, const float *u, int n)
{
#if ARTR__AVX2
    if (ks->simd == ARTR__SIMD_AVX2) {
        artr__swiglu_avx2(g, u, n);
        return;
    }
#endif
    (void)ks;
    artr__swiglu_ref(g, u, n);
}

static void artr__gelu(const artr__kset *ks, float *x, int n);

/* GeGLU: g = gelu_tanh(g) * u (Gemma's gated FFN). */
static void artr__geglu(const artr__kset *ks, float *g, const float *u, int n)
{
    int i;
    artr__gelu(ks, g, n);
    for (i = 0; i < n; i++) g[i] *= u[i];
}

/* RMSNorm in place (artr__rmsnorm's arithmetic; that kernel may not alias its arguments). */
static void artr__rmsnorm_self(const artr__kset *ks, float *x, const float *w, int n, float eps)
{
    float ss = ks->rows[0].dot(x, x, n), scale;
    int i;
    scale = 1.0f / sqrtf(ss / (float)n + eps);
    for (i = 0; i < n; i++) x[i] = x[i] * scale * w[i];
}

/* RMSNorm over each of n_head heads of size hd, in place, with one weight (hd) for all
   heads (Qwen3's and Gemma 3's q_norm / k_norm). */
static void artr__head_rmsnorm(const artr__kset *ks, float *v, int n_head, int hd, const float *w, float eps)
{
    int h;
    for (h = 0; h < n_head; h++) artr__rmsnorm_self(ks, v + (size_t)h * (size_t)hd, w, hd, eps);
}

static void artr__gelu(const artr__kset *ks, float *x, int n)
{
#if ARTR__AVX2
    if (ks->simd == ARTR__SIMD_AVX2) {
        artr__gelu_avx2(x, n);
        return;
    }
#endif
    (void)ks;
    artr__gelu_ref(x, n);
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
                                   uint64_t vocab_bytes, const artr_model_params *p, artr_error *err);

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

/* ---- GGUF structural rules beside the parser (docs/gguf.md, ggml's gguf.cpp) ----
   Each is ARTR_E_FORMAT saying what, where, what was found and what is expected:
   keys are ASCII without control bytes; a bool is 0 or 1; a tensor name is at most 64
   bytes (GGML_MAX_NAME); no two tensors' data regions overlap (one tensor's bytes would
   be read as another's weights). Duplicate keys and tensor names are refused in
   artr__gguf_fill; general.alignment's type and power of two in artr__gguf_scan. */
#define ARTR__GGUF_MAX_TENSOR_NAME 64

static artr_status artr__gguf_check_key(const char *k, uint64_t klen, uint64_t idx, size_t at,
                                        artr_error *err)
{
    uint64_t j;
    for (j = 0; j < klen; j++) {
        unsigned c = (unsigned char)k[j];
        if (c < 0x20 || c > 0x7e)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata entry %llu at offset %zu: key '%.*s' has byte 0x%x at position %llu, expected printable ASCII (docs/gguf.md)",
                              (unsigned long long)idx, at, artr__plen(j), k, c, (unsigned long long)j);
    }
    return ARTR_OK;
}

/* A bool value, or an array of bools, at pl->data + at (already bounds-checked by the
   skip): every byte 0 or 1. Arrays nested inside arrays are not looked into. */
static artr_status artr__gguf_check_value(const artr__plan *pl, const char *k, uint64_t klen,
                                          uint32_t type, size_t at, artr_error *err)
{
    const uint8_t *p = pl->data + at;
    uint64_t n = 1, j;
    if (type == ARTR_META_ARRAY) {
        if (artr__le32(p) != ARTR_META_BOOL) return ARTR_OK;
        n = artr__le64(p + 4);
        p += 12;
    } else if (type != ARTR_META_BOOL) {
        return ARTR_OK;
    }
    for (j = 0; j < n; j++)
        if (p[j] > 1)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%.*s' (%s) at offset %zu: bool %llu is %u, expected 0 or 1",
                              artr__plen(klen), k, artr__meta_type_name(type), (size_t)(p + j - pl->data),
                              (unsigned long long)j, (unsigned)p[j]);
    return ARTR_OK;
}

static artr_status artr__gguf_check_tname(const artr__tinfo *t, uint64_t idx, size_t at, artr_error *err)
{
    if (t->name_len > ARTR__GGUF_MAX_TENSOR_NAME)
        return ARTR__FAIL(err, ARTR_E_FORMAT, "tensor info %llu at offset %zu: name '%.*s' is %llu bytes, expected at most %d (GGML_MAX_NAME)",
                          (unsigned long long)idx, at, artr__plen(t->name_len), t->name,
                          (unsigned long long)t->name_len, ARTR__GGUF_MAX_TENSOR_NAME);
    return ARTR_OK;
}

/* A filled GGUF tensor's data offset, read back from its info in the file: the name is a
   view of the file, followed by n_dims, the dims, the type and the offset. */
static uint64_t artr__gguf_tensor_offset(const artr_tensor *t)
{
    return artr__le64((const uint8_t *)t->name + t->name_len + 8 + 8 * (size_t)t->n_dims);
}
static int artr__tensor_offset_less(const void *ctx, uint32_t a, uint32_t b)
{
    const artr_tensor *t = (const artr_tensor *)ctx;
    uint64_t oa = artr__gguf_tensor_offset(&t[a]), ob = artr__gguf_tensor_offset(&t[b]);
    return oa < ob || (oa == ob && a < b);
}

/* No two tensors' data regions overlap: m->tensors_sorted (free until the name sort) is
   sorted by offset, then each region must end before the next begins. */
static artr_status artr__gguf_check_overlap(artr_model *m, const artr__plan *pl, artr_error *err)
{
    uint64_t i;
    artr__heapsort(m->tensors_sorted, pl->n_tensors, artr__tensor_offset_less, m->tensors);
    for (i = 1; i < pl->n_tensors; i++) {
        const artr_tensor *a = &m->tensors[m->tensors_sorted[i - 1]];
        const artr_tensor *b = &m->tensors[m->tensors_sorted[i]];
        uint64_t oa = artr__gguf_tensor_offset(a), ob = artr__gguf_tensor_offset(b);
        if (ob - oa < (uint64_t)a->n_bytes)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "tensors '%.*s' and '%.*s': data [%llu, +%zu) and [%llu, +%zu) overlap (data section at file offset %zu); expected disjoint regions",
                              artr__plen(a->name_len), a->name, artr__plen(b->name_len), b->name,
                              (unsigned long long)oa, a->n_bytes, (unsigned long long)ob, b->n_bytes,
                              pl->data_pos);
    }
    for (i = 0; i < pl->n_tensors; i++) m->tensors_sorted[i] = (uint32_t)i;
    return ARTR_OK;
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
        if (artr__gguf_check_key(k, klen, i, at, err) != ARTR_OK) return ARTR_E_FORMAT;
        if (type > ARTR_META_FLOAT64)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%.*s': unknown value type %u", artr__plen(klen), k, (unsigned)type);
        at = r.pos;
        if (!artr__gguf_skip_value(&r, type))
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%.*s' (%s) at offset %zu: malformed or truncated value (file has %zu bytes)",
                              artr__plen(klen), k, artr__meta_type_name(type), at, pl->size);
        if (artr__gguf_check_value(pl, k, klen, type, at, err) != ARTR_OK) return ARTR_E_FORMAT;
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
        size_t at = r.pos;
        artr_status st = artr__gguf_read_tinfo(&r, i, pl->alignment, &t, err);
        if (st != ARTR_OK) return st;
        if (artr__gguf_check_tname(&t, i, at, err) != ARTR_OK) return ARTR_E_FORMAT;
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
    if (artr__gguf_check_overlap(m, pl, err) != ARTR_OK) return ARTR_E_FORMAT;
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
        return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tensor '%s' has type %s; artr runs F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, IQ4_NL and IQ4_XS weights",
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
        if (v % 2 || v > head_dim) /* rotated in pairs, within one head: the file contradicts itself */
            return ARTR__FAIL(err, ARTR_E_FORMAT, "%s is %d, expected an even count of at most the head size %d", key, v, head_dim);
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
    if (st == ARTR_OK) st = artr__tok_build(m, base + l.tok, n_vocab, pl->n_merges, pl->vocab_bytes, p, err);
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

/* The adaptive draft policy's state: call times by size, acceptance by source. */
#define ARTR__PMAX 65   /* call sizes timed: 1..64 tokens */
#define ARTR__NGRAM 16  /* lookup: longest n-gram (acceptance kept per match length) */
/* Acceptance sources: [0] a draft model, [1..ARTR__NGRAM] lookup by match length, then
   Jacobi's and speculative Jacobi's own window guesses, lookahead's (per tree level). */
#define ARTR__SRC_JACOBI (ARTR__NGRAM + 1)
#define ARTR__SRC_SJD (ARTR__NGRAM + 2)
#define ARTR__SRC_LA (ARTR__NGRAM + 3)
#define ARTR__NSRC (ARTR__NGRAM + 4)
#define ARTR__DEPTHS 16 /* acceptance is kept per guess depth up to this (deeper: the last) */
typedef struct artr__policy {
    artr_draft_params p;
    float t[ARTR__PMAX];      /* moving average seconds of a step's call on n tokens, 0 unseen */
    float t_row;              /* window steps: moving average seconds of the sampling work per
                                 row after the call (probabilities, test, next guess)     */
    float hit[ARTR__NSRC][ARTR__DEPTHS], tries[ARTR__NSRC][ARTR__DEPTHS]; /* decayed counts
                                 by source and depth: guess d passed / was tried, given
                                 all before it passed                                     */
    int run;                  /* plain steps in a row since stepping aside */
    int out;                  /* 1 while stepped aside: re-entering needs a 10% gain */
    int fails;                /* probes in a row that did not pay */
    int32_t shadow[ARTR__PMAX]; /* lookup, stepped aside: the guesses checked against the
                                   tokens plain steps produce (free acceptance samples) */
    int n_shadow, i_shadow, b_shadow;
} artr__policy;

/* Lookahead decoding's n-gram pool: a ring of n-grams, chained by their first token. A
   chain runs from the newest to older entries; as the ring recycles the oldest first, a
   link whose stamp no longer matches ends the chain (everything beyond it is gone too). */
#define ARTR__LA_NMAX 8 /* longest lookahead n-gram */
typedef struct artr__gram {
    int32_t tok[ARTR__LA_NMAX]; /* tok[0] the key, then the n - 1 tokens that followed it */
    uint32_t stamp;             /* insertion count when written (0: never)             */
    uint32_t next_stamp;        /* the stamp the older entry of the chain had          */
    int32_t next;               /* that entry, or -1                                    */
} artr__gram;

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
    const artr__kset *ks; /* kernels, chosen at creation (artr__kset_for) */
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
    artr__mm_scratch mm; /* quantized activations (n_batch rows of the widest input), their
                            scales and block sums, a tile per thread; NULLs when the
                            kernels use float activations */
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
    int32_t *tree;     /* (2 n_batch) a tree call's node parents (-1: a root), then depths */
    int tree_n;        /* > 0 during a tree call of that many nodes (artr__feed_tree)      */
    int32_t *la_win;   /* (n_batch) lookahead: the 2D window, level by level (la_w each)  */
    int la_w, la_n;    /* lookahead: the window's width and n-gram size (0: not started)  */
    int la_seen;       /* lookahead: n-grams of the history starting before it are pooled */
    artr__gram *pool;  /* (pool_cap) lookahead: the n-gram pool, a ring                   */
    uint32_t *pool_head; /* (2 pool_cap) per bucket: newest entry + 1 (0: empty), its stamp */
    int pool_cap, pool_at, pool_ngram; /* ring size, next slot, n of the pooled n-grams   */
    uint32_t pool_stamp; /* n-grams inserted so far                                       */
    artr__policy pol;  /* draft length and stepping aside (artr_ctx_set_draft) */
    void *block;       /* our allocation, or NULL when placed */
};

typedef struct artr__ctx_layout {
    size_t ctx, k_cache, v_cache, x, xb, qkv, att, hb, hb2, scores, rope, inv_freq, hidden,
        logits, probs, dist, order, hist, hist_tmp, dists, guess, qkind, feed, next_tok, xq, xd, xs, tile,
        tile_bytes, tree, la_win, pool, pool_head, total;
    int pool_cap;
    uint64_t act; /* activation bytes to quantize per call (artr__matmul_q), or 0 */
    const artr__kset *ks; /* the kernels (artr__kset_for) */
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

/* Whether any tensor has a quantized-activation kernel: the context then has room for
   quantized activations. */
static int artr__model_has_qweights(const artr_model *m)
{
    int i;
    for (i = 0; i < m->n_tensors; i++)
        if (artr__kernels(m->tensors[i].type) && artr__kernels(m->tensors[i].type)->act != ARTR__ACT_F32) return 1;
    return 0;
}

static artr_status artr__ctx_layout_for(const artr_model *m, const artr_ctx_params *p,
                                        artr__ctx_layout *l, artr_error *err)
{
    const artr_config *c = &m->cfg;
    int kv_dim, hd, q_dim, n_rope;
    uint64_t at = 0, end, fl[31], act_w;
    size_t *slot[31];
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
    if (p && p->kernels != ARTR_KERNELS_AUTO && p->kernels != ARTR_KERNELS_SCALAR)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_params.kernels %d: ARTR_KERNELS_AUTO (0) or ARTR_KERNELS_SCALAR (1)", p->kernels);
    l->ks = artr__kset_for(p ? p->kernels : ARTR_KERNELS_AUTO);
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
    act_w = (uint64_t)(c->n_embd > c->n_ff ? c->n_embd : c->n_ff);
    if ((uint64_t)q_dim > act_w) act_w = (uint64_t)q_dim;
    if (l->ks->qact && artr__model_has_qweights(m)) l->act = (uint64_t)l->n_batch * act_w;
    slot[23] = &l->xq;      fl[23] = (l->act + 3) / 4;     /* bytes, in 4-byte units */
    slot[24] = &l->xd;      fl[24] = l->act / 8 + 1; /* artr__act_scales: at most cols / 8 per row */
    slot[25] = &l->xs;      fl[25] = l->act / ARTR__QK + 1; /* block sums (artr__act_sums) */
    l->tile_bytes = l->act ? artr__align_up(ARTR__TILE_BYTES(act_w), 64) : 0; /* one per thread */
    slot[26] = &l->tile;    fl[26] = ((uint64_t)l->n_threads * l->tile_bytes + 3) / 4;
    /* tree calls and lookahead decoding (a pool of 16 n-grams per batch row, <= 1024) */
    l->pool_cap = l->n_batch > 1 ? (l->n_batch < 64 ? 16 * l->n_batch : 1024) : 0;
    slot[27] = &l->tree;    fl[27] = 2 * (uint64_t)l->n_batch;
    slot[28] = &l->la_win;  fl[28] = (uint64_t)l->n_batch;
    slot[29] = &l->pool;    fl[29] = (uint64_t)l->pool_cap * (sizeof(artr__gram) / 4);
    slot[30] = &l->pool_head; fl[30] = 2 * (uint64_t)l->pool_cap;
    l->ctx = 0;
    at = artr__align_up(sizeof(artr_ctx), 64);
    for (i = 0; i < 31; i++) { /* every slot holds 4-byte elements */
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
    c->ks = l.ks;
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
    c->tree = (int32_t *)(void *)(base + l.tree);
    c->la_win = (int32_t *)(void *)(base + l.la_win);
    c->pool = (artr__gram *)(void *)(base + l.pool);
    c->pool_head = (uint32_t *)(void *)(base + l.pool_head);
    c->pool_cap = l.pool_cap;
    memset(c->pool_head, 0, (size_t)l.pool_cap * 2 * sizeof(uint32_t));
    c->mm.xq = l.act ? (int8_t *)(void *)(base + l.xq) : NULL;
    c->mm.xd = l.act ? (float *)(void *)(base + l.xd) : NULL;
    c->mm.xs = l.act ? (int32_t *)(void *)(base + l.xs) : NULL;
    c->mm.tile = l.act ? base + l.tile : NULL;
    c->mm.tile_bytes = l.tile_bytes;
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

ARTRDEF const char *artr_ctx_kernels(const artr_ctx *c)
{
    return c ? c->ks->name : "";
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
        dst->n_draft != src->n_draft || dst->kv_type != src->kv_type || dst->ks != src->ks)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_copy: contexts differ in model, n_ctx, n_batch, n_sink, n_layers, n_draft, kv_type or kernels");
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
    memcpy(dst->la_win, src->la_win, (size_t)src->n_batch * sizeof(int32_t));
    memcpy(dst->pool, src->pool, (size_t)src->pool_cap * sizeof(artr__gram));
    memcpy(dst->pool_head, src->pool_head, (size_t)src->pool_cap * 2 * sizeof(uint32_t));
    dst->la_w = src->la_w;
    dst->la_n = src->la_n;
    dst->la_seen = src->la_seen;
    dst->pool_at = src->pool_at;
    dst->pool_ngram = src->pool_ngram;
    dst->pool_stamp = src->pool_stamp;
    dst->pol = src->pol;
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

/* Position of batch token t after the call's first: t, or its depth in a tree call. */
static int artr__depth(const artr_ctx *c, int t)
{
    return c->tree_n ? c->tree[c->n_batch + t] : t;
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
            artr_tensor_to_f32(m->pos_embd, (int64_t)(pos0 + artr__depth(c, t)) * E, E, pe, NULL);
            artr__add(x, pe, E);
        }
    }
}

/* A tree call's token t: attention over the cache before pos0 and its ancestors (itself
   included), which hold positions pos0 .. pos0 + depth in cache slots pos0 + node. The
   values are added in position order, so a node's output is bit for bit that of a plain
   call on its path (the ancestor at depth i is found by walking up: O(depth^2) steps). */
static void artr__attention_tree(const artr_ctx *c, const float *q, float *out, float *s, int t, int pos0, int j0,
                                 int ring, const unsigned char *kc, const unsigned char *vc, size_t row, size_t off,
                                 artr__dot_fn dot, artr__axpy_fn axpy, float scale)
{
    const int32_t *par = c->tree, *dep = c->tree + c->n_batch;
    int hd = c->head_dim, d = dep[t], len = pos0 + d + 1, j, i, a;
    for (j = j0; j < pos0; j++) s[j] = dot(kc + (size_t)(j % ring) * row + off, q, hd) * scale;
    for (a = t; a >= 0; a = par[a])
        if (pos0 + dep[a] >= j0) s[pos0 + dep[a]] = dot(kc + (size_t)((pos0 + a) % ring) * row + off, q, hd) * scale;
    artr__softmax_into(c->ks, s + j0, s + j0, len - j0);
    for (i = 0; i < hd; i++) out[i] = 0;
    for (j = j0; j < pos0; j++) axpy(out, s[j], vc + (size_t)(j % ring) * row + off, hd);
    for (i = pos0 > j0 ? 0 : j0 - pos0; i <= d; i++) {
        a = t;
        while (dep[a] > i) a = par[a];
        axpy(out, s[pos0 + i], vc + (size_t)((pos0 + a) % ring) * row + off, hd);
    }
}

/* Attention of n new positions (cache slots pos0 ..) over the cache, causal inside the
   batch (or along the tree of a tree call). One (token, head) pair per task; each thread
   has its own row of scores. */
static void artr__attention(artr_ctx *c, int l, int n, int pos0)
{
    const artr_config *cfg = &c->m->cfg;
    int hd = c->head_dim, group = cfg->n_head / cfg->n_head_kv, task;
    int window = artr__layer_swa(c->m, l) ? c->m->hp.swa_window : 0;
    int ring = window > 0 && c->swa_rows ? c->swa_rows : INT32_MAX; /* row of position j: j % ring */
    const unsigned char *kc = artr__kv_row(c, c->k_cache, l, 0), *vc = artr__kv_row(c, c->v_cache, l, 0);
    size_t row = (size_t)c->kv_dim * c->kv_es, head = (size_t)hd * c->kv_es;
    artr__dot_fn dot = artr__dot_for(c->ks, c->kv_type);
    artr__axpy_fn axpy = artr__kernels_in(c->ks->rows, c->kv_type)->axpy;
    float scale = c->m->hp.attn_scale;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(c->n_threads) \
    if (c->n_threads > 1 && (int64_t)n * cfg->n_head * (pos0 + n) * hd >= ARTR_OMP_MIN_WORK)
#endif
    for (task = 0; task < n * cfg->n_head; task++) {
        int t = task / cfg->n_head, h = task % cfg->n_head, g = h / group, len = pos0 + artr__depth(c, t) + 1, j, i;
        int j0 = window > 0 && len > window ? len - window : 0; /* sliding window: the last `window` */
        const float *q = c->qkv + (size_t)t * (size_t)c->qkv_ld + (size_t)h * (size_t)hd;
        float *out = c->att + (size_t)t * (size_t)c->q_dim + (size_t)h * (size_t)hd;
#ifdef _OPENMP
        float *s = c->scores + (size_t)omp_get_thread_num() * (size_t)c->n_ctx;
#else
        float *s = c->scores;
#endif
        if (c->tree_n) {
            artr__attention_tree(c, q, out, s, t, pos0, j0, ring, kc, vc, row, (size_t)g * head, dot, axpy, scale);
            continue;
        }
        for (j = j0; j < len; j++) s[j] = dot(kc + (size_t)(j % ring) * row + (size_t)g * head, q, hd) * scale;
        artr__softmax_into(c->ks, s + j0, s + j0, len - j0);
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
        else artr__rmsnorm(c->ks, xb, x, (const float *)w->attn_norm->data, E, cfg->norm_eps);
    }
    if (w->wqkv) {
        artr__matmul(c->ks, w->wqkv, c->xb, E, n, c->qkv, ld, nt, &c->mm);
    } else {
        artr__matmul(c->ks, w->wq, c->xb, E, n, c->qkv, ld, nt, &c->mm);
        artr__matmul(c->ks, w->wk, c->xb, E, n, c->qkv + Q, ld, nt, &c->mm);
        artr__matmul(c->ks, w->wv, c->xb, E, n, c->qkv + Q + KV, ld, nt, &c->mm);
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
            artr__head_rmsnorm(c->ks, q, cfg->n_head, hd, (const float *)w->q_norm->data, cfg->norm_eps);
            artr__head_rmsnorm(c->ks, q + Q, cfg->n_head_kv, hd, (const float *)w->k_norm->data, cfg->norm_eps);
        }
        if (!gpt2) {
            artr__rope(q, cfg->n_head, hd, rope + (size_t)t * (size_t)hd, neox);
            artr__rope(q + Q, cfg->n_head_kv, hd, rope + (size_t)t * (size_t)hd, neox);
        }
        artr__kv_store(c, artr__kv_row(c, c->k_cache, l, pos0 + t), q + Q, KV);
        artr__kv_store(c, artr__kv_row(c, c->v_cache, l, pos0 + t), q + Q + KV, KV);
    }
    artr__attention(c, l, n, pos0);
    artr__matmul(c->ks, w->wo, c->att, Q, n, c->xb, E, nt, &c->mm);
    for (t = 0; t < n; t++) {
        float *x = c->x + (size_t)t * (size_t)E, *xb = c->xb + (size_t)t * (size_t)E;
        if (w->bo) artr__add(xb, (const float *)w->bo->data, E);
        if (w->attn_post_norm) artr__rmsnorm_self(c->ks, xb, (const float *)w->attn_post_norm->data, E, cfg->norm_eps);
        artr__add(x, xb, E);
        if (gpt2) artr__layernorm(xb, x, (const float *)w->ffn_norm->data, (const float *)w->ffn_norm_b->data, E, cfg->norm_eps);
        else artr__rmsnorm(c->ks, xb, x, (const float *)w->ffn_norm->data, E, cfg->norm_eps);
    }
    if (gpt2) {
        artr__matmul(c->ks, w->w_up, c->xb, E, n, c->hb2, F, nt, &c->mm);
        for (t = 0; t < n; t++) {
            float *h = c->hb2 + (size_t)t * (size_t)F;
            artr__add(h, (const float *)w->b_up->data, F);
            artr__gelu(c->ks, h, F);
        }
        artr__matmul(c->ks, w->w_down, c->hb2, F, n, c->xb, E, nt, &c->mm);
    } else if (hp->fused_up) { /* ffn_up rows: gate then up (Phi-3's gate_up_proj) */
        artr__matmul(c->ks, w->w_up, c->xb, E, n, c->hb, ldh, nt, &c->mm);
        for (t = 0; t < n; t++) artr__swiglu(c->ks, c->hb + (size_t)t * (size_t)ldh, c->hb + (size_t)t * (size_t)ldh + F, F);
        artr__matmul(c->ks, w->w_down, c->hb, ldh, n, c->xb, E, nt, &c->mm);
    } else {
        artr__matmul(c->ks, w->w_up, c->xb, E, n, c->hb2, F, nt, &c->mm);
        artr__matmul(c->ks, w->w_gate, c->xb, E, n, c->hb, ldh, nt, &c->mm);
        for (t = 0; t < n; t++) {
            float *g = c->hb + (size_t)t * (size_t)ldh, *u = c->hb2 + (size_t)t * (size_t)F;
            if (hp->geglu) artr__geglu(c->ks, g, u, F);
            else artr__swiglu(c->ks, g, u, F);
        }
        artr__matmul(c->ks, w->w_down, c->hb, ldh, n, c->xb, E, nt, &c->mm);
    }
    for (t = 0; t < n; t++) {
        float *xb = c->xb + (size_t)t * (size_t)E;
        if (w->b_down) artr__add(xb, (const float *)w->b_down->data, E);
        if (w->ffn_post_norm) artr__rmsnorm_self(c->ks, xb, (const float *)w->ffn_post_norm->data, E, cfg->norm_eps);
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
                float a = (float)(pos0 + artr__depth(c, t)) * inv[j];
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
        else artr__rmsnorm(c->ks, h, x, (const float *)m->out_norm->data, E, cfg->norm_eps);
    }
    if (c->n_rows)
        artr__matmul(c->ks, m->output, c->hidden + (size_t)row_off * (size_t)E, E, c->n_rows,
                     c->logits + (size_t)row_off * (size_t)cfg->n_vocab, cfg->n_vocab, c->n_threads, &c->mm);
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
    artr__softmax_into(ARTR__KSET_BUILD, l, p, n);
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
    artr__softmax_into(ARTR__KSET_BUILD, l, p, n);
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
    artr__softmax_into(ARTR__KSET_BUILD, work, p, n_vocab);
    return ARTR_OK;
}

/* The penalty window of a row whose token is at position end - 1: the ids of positions
   before end (so a row of a verification call sees the same history as a single-token
   call would), copied into c->hist_tmp. */
static int artr__penalty_window(artr_ctx *c, const artr_sampler *s, int end)
{
    int n = s->repeat_last_n == 0 ? 64 : s->repeat_last_n < 0 ? c->n_ctx : s->repeat_last_n, i;
    int penalties = (s->repeat_penalty > 0 && s->repeat_penalty != 1.0f) || s->frequency_penalty != 0 ||
                    s->presence_penalty != 0;
    if (!penalties) return 0;
    if (n > end) n = end;
    if (n > c->n_ctx - (c->n_past - end)) n = c->n_ctx - (c->n_past - end); /* still in the ring */
    for (i = 0; i < n; i++) c->hist_tmp[i] = c->hist[(end - n + i) % c->n_ctx];
    return n;
}

/* artr_probs of a row whose token is at position end - 1 (< 0: the row's own position;
   a tree call's rows sit at their depth, with their path written into the history). */
static artr_status artr__probs_at(artr_ctx *c, const artr_sampler *s, int row, int end, float *p,
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
    if (end < 0) end = c->row_pos0 + artr__row(c, row) + 1;
    return artr__probs(logits, uncond, n_vocab, s, c->hist_tmp, artr__penalty_window(c, s, end),
                       p, c->probs, c->order, err);
}

ARTRDEF artr_status artr_probs(artr_ctx *c, const artr_sampler *s, int row, float *p,
                               artr_error *err)
{
    return artr__probs_at(c, s, row, -1, p, err);
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

/* The same from what rejections left of a distribution (mass total; none left: p as is). */
static int32_t artr__pick_left(artr_sampler *s, const float *p, int n, float total)
{
    return artr__greedy(s) || !(total > 0) ? artr__pick(s, p, n) : artr__draw(p, n, total, &s->rng);
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

/* Seconds on ARTR_CLOCK, or 0 without one. */
static double artr__now(void)
{
#ifdef ARTR_CLOCK
    return (double)(ARTR_CLOCK());
#else
    return 0;
#endif
}

/* A step's call on n tokens took dt seconds: the moving average of that size. A call
   over twice the average counts as twice it: one preempted call must not swing choices
   (the average can still grow by a quarter a call). */
static void artr__time(artr_ctx *c, int n, double dt)
{
    float *t;
    if (n < 1 || n >= ARTR__PMAX || !(dt > 0)) return;
    t = &c->pol.t[n];
    if (*t > 0 && dt > 2.0 * (double)*t) dt = 2.0 * (double)*t;
    /* a shared machine's noise (and a first, cold call) only slows: faster samples count more */
    if (*t > 0) *t = dt < (double)*t ? 0.5f * *t + 0.5f * (float)dt : 0.75f * *t + 0.25f * (float)dt;
    else *t = (float)dt;
}

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
    double t0 = artr__now();
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
    artr__time(c, n, artr__now() - t0);
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

/* One plain token after artr__step_begin: feed the pending token, sample the next. */
static artr_status artr__step_one(artr_ctx *c, artr_sampler *s, int32_t *out, int *n_out, artr_error *err)
{
    int32_t tok;
    artr_status st;
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
    c->stats.t_decode = c->pol.t[1];
    return ARTR_OK;
}

ARTRDEF artr_status artr_step(artr_ctx *c, artr_sampler *s, int32_t *out, int max_out, int *n_out,
                              artr_error *err)
{
    int done;
    artr_status st = artr__step_begin(c, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    return artr__step_one(c, s, out, n_out, err);
}

/* ---- tree calls: several guessed continuations verified in one forward ----
   A tree call feeds n nodes: node 0 the pending token, every other node a guess whose
   parent is an earlier node. Node i sits in cache slot n_kv + i but at position
   n_past + depth(i), and attends only to the cache before the call and to its ancestors
   (artr__attention_tree), so its row is what a plain call on its path would give. After
   the verification walks the tree, artr__tree_keep moves the accepted path's keys and
   values into place and forgets the rest. A call that would cross Phi-3's LongRoPE line
   (which recomputes the cache) is not made as a tree. */

static int artr__tree_ok(const artr_ctx *c, int n)
{
    const artr__hparams *hp = &c->m->hp;
    return !(hp->rope_freqs_short && !c->bounded && !c->rope_long && c->n_kv + n > hp->n_ctx_orig);
}

/* Feed the n nodes of c->tree (tokens in ids) to c and to the sampler's guidance. */
static artr_status artr__feed_tree(artr_ctx *c, artr_sampler *s, const int32_t *ids, int n, artr_error *err)
{
    artr_ctx *g = s->guidance;
    artr_status st;
    if (g) {
        memcpy(g->tree, c->tree, (size_t)n * sizeof(int32_t));
        memcpy(g->tree + g->n_batch, c->tree + c->n_batch, (size_t)n * sizeof(int32_t));
        g->tree_n = n;
    }
    c->tree_n = n;
    st = artr__feed(c, s, ids, n, ARTR_LOGITS_ALL, err);
    c->tree_n = 0;
    if (g) g->tree_n = 0;
    return st;
}

/* Keep the path path[0 .. len - 1] (path[0] = 0) of the n nodes the last tree call fed,
   as its positions, in one context. */
static void artr__tree_keep_one(artr_ctx *c, const int32_t *ids, const int32_t *path, int len, int n)
{
    int kv0 = c->n_kv - n, P = c->n_past - n, i, l;
    size_t row = (size_t)c->kv_dim * c->kv_es;
    for (i = 1; i < len; i++) {
        if (path[i] != i)
            for (l = 0; l < c->n_layers; l++) {
                memcpy(artr__kv_row(c, c->k_cache, l, kv0 + i), artr__kv_row(c, c->k_cache, l, kv0 + path[i]), row);
                memcpy(artr__kv_row(c, c->v_cache, l, kv0 + i), artr__kv_row(c, c->v_cache, l, kv0 + path[i]), row);
            }
        c->hist[(P + i) % c->n_ctx] = ids[path[i]];
    }
    artr_ctx_truncate(c, P + len, NULL);
}

static void artr__tree_keep(artr_ctx *c, artr_sampler *s, const int32_t *ids, const int32_t *path, int len, int n)
{
    artr__tree_keep_one(c, ids, path, len, n);
    if (s->guidance) artr__tree_keep_one(s->guidance, ids, path, len, n);
}

/* Add node tok under parent (depth + 1) unless the parent has a child with that token;
   its index, or -1 when the tree holds cap nodes. */
static int artr__tree_child(artr_ctx *c, int32_t *ids, int *n, int cap, int parent, int32_t tok, int dedup)
{
    int32_t *par = c->tree, *dep = c->tree + c->n_batch;
    int i;
    if (dedup)
        for (i = parent + 1; i < *n; i++)
            if (par[i] == parent && ids[i] == tok) return i;
    if (*n >= cap) return -1;
    i = (*n)++;
    ids[i] = tok;
    par[i] = parent;
    dep[i] = dep[parent] + 1;
    return i;
}

/* Point-mass proposals at node `parent` of a tree call: its children from node `from` on,
   each distinct token once in node order, tried against c->dist (mass *total, which need
   not be 1): a child is kept with probability p(x) / total, else its token is removed.
   The child kept, or -1; *tried = 1 when any was tried. Greedy (p one-hot): the child
   that is the argmax. */
static int artr__tree_try(artr_ctx *c, artr_sampler *s, const int32_t *ids, int n, int parent, int from,
                          float *total, int *tried)
{
    const int32_t *par = c->tree;
    int i, k;
    *tried = 0;
    for (i = from; i < n; i++) {
        int32_t x = ids[i];
        if (par[i] != parent) continue;
        for (k = from; k < i; k++) /* a token tried already at this node */
            if (par[k] == parent && ids[k] == x) break;
        if (k < i) continue;
        *tried = 1;
        if (artr__greedy(s)) {
            if (c->dist[x] > 0) return i;
        } else if (c->dist[x] > 0 && artr_rng_uniform(&s->rng) * *total < c->dist[x]) {
            return i;
        } else {
            *total -= c->dist[x];
            c->dist[x] = 0;
        }
    }
    return -1;
}

/* Walk the tree fed in ids from node 0: at each node the children's distinct tokens are
   tried in node order as point-mass proposals (Miao et al. 2024, SpecInfer's multi-step
   speculative sampling): child x is kept with probability p'(x), p' the distribution
   with the children tried before removed and renormalised; when none is kept the next
   token is drawn from what is left. Greedy: the child that is the argmax. The path goes
   to path (path[0] = 0) and its length to *len, the next token to *next; *rejected = 1
   when the walk stopped at a node that had children. Nodes deeper than max_depth are
   not accepted. Penalty windows see the path (written into the history as it goes). */
static artr_status artr__tree_walk(artr_ctx *c, artr_sampler *s, const int32_t *ids, int n, int max_depth,
                                   int32_t *path, int *len, int32_t *next, int *rejected, artr_error *err)
{
    int P = c->n_past - n, cur = 0, d = 0, n_vocab = c->m->cfg.n_vocab;
    artr_status st;
    path[0] = 0;
    *rejected = 0;
    for (;;) {
        float total = 1;
        int found = -1, tried = 0;
        if (d > 0) c->hist[(P + d) % c->n_ctx] = ids[cur];
        if ((st = artr__probs_at(c, s, cur, P + d + 1, c->dist, err)) != ARTR_OK) return st;
        if (d < max_depth) found = artr__tree_try(c, s, ids, n, cur, cur + 1, &total, &tried);
        if (found < 0) {
            *rejected = tried;
            *next = artr__pick_left(s, c->dist, n_vocab, total);
            break;
        }
        cur = found;
        path[++d] = cur;
    }
    *len = d + 1;
    return ARTR_OK;
}

/* ---- draft length and stepping aside (artr_draft_params) ----
   Guess d of a step passes with probability a_d given the ones before passed, so k
   guesses yield E(k) = 1 + a_1 + a_1 a_2 + ... tokens, for the cost of a call on k + 1
   tokens plus k draft tokens, in units of a one-token call: the policy takes the k with
   the most tokens per unit, a plain step when no k beats 1 by 3% (10% to re-enter). a_d
   is a decayed count of passes over trials per source (draft model; lookup by match
   length; ...) and depth, with the depth before's as its prior (1/4 at depth 1); costs
   are moving averages of the calls the steps make, a size not yet timed extrapolated
   from the nearest one that was. Jacobi and SJD are sources of their own: a
   window of W is W guesses, and a guess's "draft cost" is the sampling work of its row
   after the call (probabilities, the test, the next guess), measured per row. A plain
   step between windows moves their carried guesses on one position (kept while the
   first was the token made, else dropped), so each guess is verified at its own position
   and SJD's stay paired with their distributions. Costs are moving averages that give a
   faster sample more weight (a shared machine's noise and a cold first call only slow);
   until a draft's own one-token call is timed, its cost is the ratio of the weight bytes
   the two read. Stepped aside, lookup and lookahead still check their guesses against
   the tokens plain steps produce (the same pass probability, for free), so they are
   re-probed only every 16 probe_every plain steps; so is a draft cheaper than 0.05
   target calls a token, which keeps drafting while stepped aside (artr__draft_shadow),
   its probes verifying the most guesses allowed (its longest call timed once at once).
   A dearer draft, Jacobi and SJD are probed at once when never tried (a draft is still
   caught up then) and re-probed after probe_every plain steps, doubled after each probe
   that did not pay (its wall clock, a draft's catch-up included), up to 16 times; such a
   draft is given up after 2 probes in a row that did not pay, as catching it up costs a
   prefill of every token since. */

ARTRDEF artr_status artr_ctx_set_draft(artr_ctx *c, const artr_draft_params *p, artr_error *err)
{
    if (!c) return ARTR__FAIL(err, ARTR_E_ARG, "artr_ctx_set_draft: NULL context");
    if (p && (p->adaptive < 0 || p->adaptive > 1 || p->draft_min < 0 || p->draft_max < 0 || p->probe_every < 0 ||
              p->branch < 0 || p->branch > 8 ||
              !(p->p_min >= 0 && p->p_min <= 1) || !(p->verify_cost >= 0 && p->verify_cost < 1e6f) ||
              !(p->draft_cost >= 0 && p->draft_cost < 1e6f)))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_draft_params: adaptive 0 or 1, draft_min, draft_max, probe_every >= 0, p_min in [0, 1], costs >= 0, branch 0..8");
    if (p && p->draft_max > 0 && p->draft_min > p->draft_max)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_draft_params: draft_min %d above draft_max %d", p->draft_min, p->draft_max);
    if (p) c->pol.p = *p;
    else memset(&c->pol.p, 0, sizeof c->pol.p);
    c->pol.run = 0;
    c->pol.fails = 0;
    c->pol.n_shadow = 0;
    artr__ok(err);
    return ARTR_OK;
}

/* A call on n tokens in one-token calls. */
static float artr__cost(const artr_ctx *c, int n)
{
    const artr__policy *q = &c->pol;
    int m;
    if (q->p.verify_cost > 0) return 1 + q->p.verify_cost * (float)(n - 1);
    if (!(q->t[1] > 0)) return 1 + 0.25f * (float)(n - 1);
    if (n < ARTR__PMAX && q->t[n] > 0) return q->t[n] / q->t[1];
    for (m = 1; m < ARTR__PMAX; m++) { /* the nearest timed size: its slope */
        int lo = n - m, hi = n + m;
        if (lo > 1 && lo < ARTR__PMAX && q->t[lo] > 0) return 1 + (q->t[lo] / q->t[1] - 1) * (float)(n - 1) / (float)(lo - 1);
        if (hi < ARTR__PMAX && q->t[hi] > 0) return 1 + (q->t[hi] / q->t[1] - 1) * (float)(n - 1) / (float)(hi - 1);
    }
    return 1 + 0.25f * (float)(n - 1);
}

/* Weight bytes a context reads per token: its layers' share of its model's tensors. */
static double artr__ctx_bytes(const artr_ctx *c)
{
    double total = 0;
    int i;
    for (i = 0; i < c->m->n_tensors; i++) total += (double)c->m->tensors[i].n_bytes;
    return total * (double)c->n_layers / (double)(c->m->cfg.n_layer > 0 ? c->m->cfg.n_layer : 1);
}

/* One draft token (of draft context d) in the target's one-token calls: measured, else
   the ratio of the weight bytes they read (decoding is memory-bound), within [0.01, 1]. */
static float artr__draft_cost(const artr_ctx *c, const artr_ctx *d)
{
    double r, bc;
    if (c->pol.p.verify_cost > 0) return c->pol.p.draft_cost;
    if (c->pol.t[1] > 0 && d->pol.t[1] > 0) return d->pol.t[1] / c->pol.t[1];
    bc = artr__ctx_bytes(c);
    r = bc > 0 ? artr__ctx_bytes(d) / bc : 0.25;
    return (float)(r < 0.01 ? 0.01 : r > 1 ? 1 : r);
}

/* A step from source b whose first `hits` guesses passed, out of `tries` tested (hits + 1
   when one failed): each depth's counts decay by 0.9 when it is tried. */
static void artr__learn(artr_ctx *c, int b, int hits, int tries)
{
    int d;
    for (d = 0; d < tries; d++) {
        int i = d < ARTR__DEPTHS ? d : ARTR__DEPTHS - 1;
        c->pol.hit[b][i] = 0.9f * c->pol.hit[b][i] + (d < hits ? 1.0f : 0.0f);
        c->pol.tries[b][i] = 0.9f * c->pol.tries[b][i] + 1.0f;
    }
}

/* Expected tokens from k guesses of source b: 1 + a_1 + a_1 a_2 + ..., a_d the pass rate
   at depth d given the ones before passed (passes are correlated: a draft that is right
   once tends to stay right), each with a prior of the depth before's (1/4 at depth 1)
   worth two trials. */
static float artr__expect(const artr_ctx *c, int b, int k)
{
    float e = 1, run = 1, prior = 0.25f;
    int d;
    for (d = 0; d < k; d++) {
        int i = d < ARTR__DEPTHS ? d : ARTR__DEPTHS - 1;
        float a = (c->pol.hit[b][i] + 2 * prior) / (c->pol.tries[b][i] + 2);
        run *= a;
        e += run;
        prior = a;
    }
    return e;
}

/* Expected tokens per unit of cost with k guesses from source b. */
static float artr__gain(const artr_ctx *c, int b, int k, float dcost)
{
    return artr__expect(c, b, k) /
           (artr__cost(c, k + 1 + (b == 0 && c->pol.p.branch > 1 ? k * (c->pol.p.branch - 1) : 0)) + (float)k * dcost);
}

/* Adaptive: whether this step is a plain one that times a one-token call (the first,
   then every 64th step), so costs stay measured. */
static int artr__policy_time_plain(const artr_ctx *c)
{
#ifdef ARTR_CLOCK
    if (c->pol.p.verify_cost <= 0 && (!(c->pol.t[1] > 0) || c->stats.steps % 64 == 0)) return 1;
#else
    (void)c;
#endif
    return 0;
}

/* How a source's acceptance is known while the policy steps aside. */
enum {
    ARTR__BY_PROBE = 0, /* only by verifying (Jacobi, SJD): re-probed                       */
    ARTR__BY_DRAFT = 1, /* a draft model: re-probed, given up after 2 probes in a row that
                           did not pay (by their wall clock, which includes catching the
                           draft up: a prefill of every token since)                      */
    ARTR__BY_SHADOW = 2 /* model-free guesses (lookup, lookahead): checked for free against
                           the tokens plain steps produce; probed only every 16 probe_every
                           plain steps, never at once                                        */
};

/* Adaptive: `best` guesses with gain g (tokens per unit of cost), or 0 to step aside;
   by: ARTR__BY_*. A shadowed draft's probe verifies kmax guesses (its longest call is
   timed once, and acceptance seen at every depth); other probes verify best. */
static int artr__policy_go(artr_ctx *c, int b, int best, int kmax, float g, int by, int *probe, int *aside)
{
    artr__policy *q = &c->pol;
    int every, n_max = kmax + 1 + (q->p.branch > 1 ? kmax * (q->p.branch - 1) : 0); /* its call */
    if (g > (q->out ? 1.10f : 1.03f)) {
        q->run = 0;
        q->fails = 0;
        q->out = 0;
        return best;
    }
    q->out = 1;
    if (b == 0 && by == ARTR__BY_SHADOW && q->p.verify_cost <= 0 && n_max < ARTR__PMAX && !(q->t[n_max] > 0)) {
        *probe = 1; /* a shadowed draft's longest call, never timed: time it once */
        return kmax;
    }
    if (b == 0 && by == ARTR__BY_SHADOW) best = kmax;
    if (!(q->tries[b][0] > 0) && by != ARTR__BY_SHADOW) { /* never tried: measure now (a draft is still caught up) */
        *probe = 1;
        return best;
    }
    every = (q->p.probe_every > 0 ? q->p.probe_every : 16) << (by == ARTR__BY_SHADOW ? 4 : q->fails < 4 ? q->fails : 4);
    if (++q->run >= every && !(by == ARTR__BY_DRAFT && q->fails >= 2)) {
        q->run = 0;
        *probe = 1;
        return best;
    }
    *aside = 1;
    return 0;
}

/* The guesses to verify (<= k) from source b, or 0 for a plain step; *probe = 1 when it
   is a re-probe after stepping aside, *aside = 1 when the policy stepped aside. */
static int artr__policy_k(artr_ctx *c, int b, int k, float dcost, int by, int *probe, int *aside)
{
    artr__policy *q = &c->pol;
    int kmin = q->p.draft_min > 1 ? q->p.draft_min : 1, i, best = 0;
    float g = 0;
    *probe = 0;
    *aside = 0;
    if (q->p.draft_max > 0 && k > q->p.draft_max) k = q->p.draft_max;
    if (k > ARTR__PMAX - 2) k = ARTR__PMAX - 2;
    if (!q->p.adaptive || k < kmin) return k;
    if (artr__policy_time_plain(c)) return 0;
    for (i = kmin; i <= k; i++) {
        float gi = artr__gain(c, b, i, dcost);
        if (gi > g) {
            g = gi;
            best = i;
        }
    }
    return artr__policy_go(c, b, best, k, g, by, probe, aside);
}

/* After a verification call on n tokens that kept j guesses of the `tries` it tested
   (j + 1 when one was rejected): acceptance, and whether a probe paid (by the wall clock
   of the whole step, t0 on, when there is one: a draft's catch-up counts; else by the
   cost model, extra for the draft's tokens). */
static void artr__policy_after(artr_ctx *c, int b, int n, int j, int tries, float extra, int probe, double t0)
{
    double dt = artr__now() - t0;
    artr__learn(c, b, j, tries);
    c->pol.n_shadow = 0;
    c->stats.last_k = n - 1;
    c->stats.t_verify = n < ARTR__PMAX ? c->pol.t[n] : 0;
    if (probe) {
        c->stats.probes++;
        float cost = artr__cost(c, n) + extra;
        if (c->pol.p.verify_cost <= 0 && dt > 0 && c->pol.t[1] > 0) cost = (float)(dt / c->pol.t[1]);
        if ((float)(j + 1) > 1.03f * cost) c->pol.fails = 0;
        else c->pol.fails++;
    }
}

/* After a verification of k guesses that kept j. */
static void artr__policy_done(artr_ctx *c, int b, int k, int j, float dcost, int probe, double t0)
{
    artr__policy_after(c, b, k + 1, j, j + (j < k), (float)k * dcost, probe, t0);
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

/* p (n) becomes the residual max(0, p - q) of a rejection, q a row of nq entries (0 past
   them: a draft with a smaller vocabulary); its total. Greedy: p stays (one-hot). */
static float artr__residual(const artr_sampler *s, float *p, const float *q, int n, int nq)
{
    float total = 0;
    int v;
    if (artr__greedy(s)) return 1;
    for (v = 0; v < n; v++) {
        float qv = v < nq ? q[v] : 0.0f;
        p[v] = p[v] > qv ? p[v] - qv : 0.0f;
        total += p[v];
    }
    return total;
}

/* Speculative acceptance of guess x (< n) under target distribution p (n) and proposal q
   (of kind qkind; for ARTR__Q_DIST a row of nq entries, 0 past them). Accepts with
   min(1, p(x)/q(x)); on rejection p is overwritten by the residual norm(max(0, p - q))
   and its total goes to *total. */
static int artr__accept(artr_sampler *s, float *p, const float *q, int qkind, int32_t x, int n, int nq, float *total)
{
    float qx = qkind == ARTR__Q_DIST ? q[x] : qkind == ARTR__Q_POINT ? 1.0f : 1.0f / (float)n;
    int v;
    if (artr__greedy(s)) { /* one-hot p: exact match with its argmax, residual = p */
        *total = 1;
        return p[x] > 0;
    }
    if (p[x] >= qx || artr_rng_uniform(&s->rng) * qx < p[x]) return 1;
    if (qkind == ARTR__Q_DIST) {
        *total = artr__residual(s, p, q, n, nq);
        return 0;
    }
    *total = 0;
    for (v = 0; v < n; v++) {
        float qv = qkind == ARTR__Q_POINT ? (v == x ? 1.0f : 0.0f) : qx;
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
        *tok = artr__pick_left(s, c->dist, n, total);
        return ARTR_OK;
    }
    if ((st = artr_probs(c, s, row, c->dist, err)) != ARTR_OK) return st;
    *tok = artr__pick(s, c->dist, n);
    return ARTR_OK;
}

/* The draft's softmax probability (temperature 1) of its likeliest token in its last row. */
static float artr__confidence(const artr_ctx *d)
{
    const float *l = artr_logits(d, -1);
    int i, n = d->m->cfg.n_vocab;
    float mx = -INFINITY, sum = 0;
    if (!l) return 0;
    for (i = 0; i < n; i++)
        if (l[i] > mx) mx = l[i];
    if (!(mx > -INFINITY) || mx != mx) return 0;
    for (i = 0; i < n; i++)
        if (l[i] == l[i]) sum += expf(l[i] - mx);
    return sum > 0 ? 1.0f / sum : 0;
}

/* Stepped aside: check the running shadow guess against the token a plain step made. */
static void artr__shadow(artr_ctx *c, int32_t tok)
{
    artr__policy *q = &c->pol;
    if (q->i_shadow >= q->n_shadow) return;
    if (tok == q->shadow[q->i_shadow]) {
        if (++q->i_shadow < q->n_shadow) return;
        artr__learn(c, q->b_shadow, q->i_shadow, q->i_shadow);
    } else {
        artr__learn(c, q->b_shadow, q->i_shadow, q->i_shadow + 1);
    }
    q->n_shadow = 0;
    q->i_shadow = 0;
}

/* A target id as the draft reads it: an id past the draft's vocabulary becomes 0 (only the
   draft's guesses can change, never what is accepted). */
static int32_t artr__draft_id(int32_t x, int nd)
{
    return x >= 0 && x < nd ? x : 0;
}

/* The m ids (fewer where the row has fewer finite values) with the largest l[v], v < n,
   other than skip, into ids, largest first; -1 fills the rest. */
static void artr__top_ids(const float *l, int n, int32_t skip, int m, int32_t *ids)
{
    int v, i, j;
    for (i = 0; i < m; i++) ids[i] = -1;
    if (!l) return;
    for (v = 0; v < n; v++) {
        if (v == skip || !(l[v] > -INFINITY)) continue; /* NaN and -inf never */
        for (i = m; i > 0 && (ids[i - 1] < 0 || l[ids[i - 1]] < l[v]); i--) {}
        if (i == m) continue;
        for (j = m - 1; j > i; j--) ids[j] = ids[j - 1];
        ids[i] = v;
    }
}

/* Speculative decoding with a token tree (artr_draft_params.branch >= 2): the draft's
   chain x_0 .. x_{k-1} (target->feed[1..k], its distributions in draft->dists) and,
   beside each x_d, up to branch - 1 other draft ids (alts, 7 per depth) as leaves,
   verified in one tree call. Along the chain each guess takes the speculative test
   (min(1, p/q)); where one fails, its siblings are tried as point-mass proposals against
   the residual, each against what the ones before left (SpecInfer's rule: the output is
   still exactly the target's), and one that passes ends the path with the target's
   token after it. */
static artr_status artr__spec_tree(artr_ctx *target, artr_ctx *draft, artr_sampler *s, int k, int branch,
                                   const int32_t *alts, float dcost, int probe, double t_start, int32_t *out,
                                   int *n_out, artr_error *err)
{
    int n_vocab = target->m->cfg.n_vocab, nd = draft->m->cfg.n_vocab, P = target->n_past, cap, n, d, i, a;
    int cur = 0, found = -1, tried = 0, tries, chain;
    int32_t *ids = target->feed, *par = target->tree, *dep = target->tree + target->n_batch, t = target->pending;
    int32_t next = -1, path[ARTR__PMAX];
    float total = 1;
    artr_status st;
    cap = target->n_batch < artr__room(target) ? target->n_batch : artr__room(target);
    if (s->guidance && artr__room(s->guidance) < cap) cap = artr__room(s->guidance);
    if (s->guidance && s->guidance->n_batch < cap) cap = s->guidance->n_batch;
    if (cap > ARTR__PMAX - 1) cap = ARTR__PMAX - 1;
    ids[0] = t;
    for (n = 0; n <= k; n++) { /* the chain: node d at depth d */
        par[n] = n - 1;
        dep[n] = n;
    }
    for (d = 0; d < k; d++)
        for (a = 0; a < branch - 1 && n < cap && alts[d * 7 + a] >= 0; a++) {
            ids[n] = alts[d * 7 + a];
            par[n] = d;
            dep[n] = d + 1;
            n++;
        }
    target->pending = -1;
    if ((st = artr__feed_tree(target, s, ids, n, err)) != ARTR_OK) {
        target->pending = t;
        return st;
    }
    path[0] = 0;
    for (d = 0;;) {
        const float *q = draft->dists + (size_t)d * (size_t)nd;
        if (d > 0) target->hist[(P + d) % target->n_ctx] = ids[cur];
        if ((st = artr__probs_at(target, s, cur, P + d + 1, target->dist, err)) != ARTR_OK) break;
        if (cur != d || d == k) { /* a leaf, or the chain's end: the target's next token */
            next = artr__pick(s, target->dist, n_vocab);
            break;
        }
        if (artr__accept(s, target->dist, q, ARTR__Q_DIST, ids[d + 1], n_vocab, nd, &total)) {
            d++;
            cur = path[d] = d;
            continue;
        }
        found = artr__tree_try(target, s, ids, n, cur, k + 1, &total, &tried); /* the residual, then the siblings */
        if (found < 0) {
            next = artr__pick_left(s, target->dist, n_vocab, total);
            break;
        }
        d++;
        cur = path[d] = found;
    }
    if (st != ARTR_OK) {
        artr__tree_keep(target, s, ids, path, 1, n); /* t was fed; nothing is pending */
        return st;
    }
    tries = d + (cur == d && d < k && found < 0); /* + 1: the walk stopped at a rejection */
    chain = cur == d ? d : d - 1;                  /* chain tokens on the path */
    for (i = 0; i < d; i++) out[i] = ids[path[i + 1]];
    out[d] = next;
    *n_out = d + 1;
    artr__tree_keep(target, s, ids, path, d + 1, n);
    if (draft->n_past > P + 1 + chain) artr_ctx_truncate(draft, P + 1 + chain, NULL);
    target->pending = next;
    target->stats.tokens += d + 1;
    target->stats.drafted += n - 1;
    target->stats.accepted += d;
    artr__policy_after(target, 0, n, d, tries, (float)k * dcost, probe, t_start);
    return ARTR_OK;
}

/* Feed the draft the target's positions it has not seen (from *D on), in chunks of its
   batch, until what is left (and the pending token) fits one call. */
static artr_status artr__draft_catch_up(artr_ctx *target, artr_ctx *draft, artr_sampler *sd, int nd, int *D,
                                        artr_error *err)
{
    int P = target->n_past, i;
    artr_status st;
    while (P - *D + 1 > draft->n_batch) {
        int n = draft->n_batch;
        for (i = 0; i < n; i++) draft->feed[i] = artr__draft_id(target->hist[(*D + i) % target->n_ctx], nd);
        if ((st = artr__feed(draft, sd, draft->feed, n, ARTR_LOGITS_NONE, err)) != ARTR_OK) return st;
        *D += n;
    }
    return ARTR_OK;
}

/* A draft cheaper than ARTR__SHADOW_DCOST one-token target calls per token keeps drafting
   while the policy steps aside: its greedy chain of up to k tokens after the pending one
   is checked against the tokens plain steps produce (artr__shadow), so its acceptance is
   measured without verification calls. Nothing it does changes the target's output. */
#define ARTR__SHADOW_DCOST 0.05f
static void artr__draft_shadow(artr_ctx *target, artr_ctx *draft, artr_sampler *sd, int k, int nd)
{
    int P = target->n_past, D = draft->n_past, n_vocab = target->m->cfg.n_vocab, behind, i, lim;
    int32_t x;
    if (target->pol.n_shadow > 0 || artr__draft_catch_up(target, draft, sd, nd, &D, NULL) != ARTR_OK) return;
    behind = P - D + 1;
    if (k > artr__room(draft) - behind + 1) k = artr__room(draft) - behind + 1;
    lim = nd < n_vocab ? nd : n_vocab;
    for (i = 0; i < behind - 1; i++) draft->feed[i] = artr__draft_id(target->hist[(D + i) % target->n_ctx], nd);
    draft->feed[behind - 1] = artr__draft_id(target->pending, nd);
    for (i = 0; i < k; i++) {
        if (artr__feed(draft, sd, i ? &x : draft->feed, i ? 1 : behind, ARTR_LOGITS_LAST, NULL) != ARTR_OK) break;
        x = artr__argmax(artr_logits(draft, -1), lim);
        target->pol.shadow[i] = x;
    }
    target->pol.n_shadow = i;
    target->pol.i_shadow = 0;
    target->pol.b_shadow = 0;
}

ARTRDEF artr_status artr_step_speculative(artr_ctx *target, artr_ctx *draft, artr_sampler *s, int k,
                                          int32_t *out, int max_out, int *n_out, artr_error *err)
{
    int done, n_vocab, nd, P, D, behind, i, j = 0, rejected = 0, probe = 0, aside = 0, foreign = 0, kmax, shadowed;
    int branch = target->pol.p.branch > 1 ? target->pol.p.branch : 1;
    float total = 0, dcost;
    double t_start = artr__now();
    int32_t t, next = -1, alts[ARTR__PMAX * 7];
    artr_sampler sd;
    artr_status st;
    if (!target || !draft || draft == target || k < 1)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_step_speculative: need a target, a draft context other than the target, and k >= 1");
    n_vocab = target->m->cfg.n_vocab;
    nd = draft->m->cfg.n_vocab; /* may differ (a family's sizes do): ids past the target's are rejected */
    if (draft->pending >= 0)
        return ARTR__FAIL(err, ARTR_E_ARG, "the draft context has a pending token; step it only through artr_step_speculative");
    st = artr__step_begin(target, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    P = target->n_past;
    t = target->pending;
    if (draft->n_past > P) artr_ctx_truncate(draft, P, NULL);
    D = draft->n_past;
    if (P - D > target->n_ctx)
        return ARTR__FAIL(err, ARTR_E_ARG, "the draft context is %d tokens behind the target; prefill both with the same prompt", P - D);
    sd = *s;
    sd.guidance = NULL;
    k = artr__window(target, s, k, max_out);
    if (k > draft->n_draft) k = draft->n_draft;
    dcost = artr__draft_cost(target, draft);
    kmax = k;
    shadowed = dcost < ARTR__SHADOW_DCOST;
    k = artr__policy_k(target, 0, k, dcost, shadowed ? ARTR__BY_SHADOW : ARTR__BY_DRAFT, &probe, &aside);
    if (k < 1 || k < target->pol.p.draft_min) {
        if (aside) target->stats.aside++;
        else if (target->pol.p.draft_min > 1) target->stats.short_drafts++;
        if (aside && shadowed) artr__draft_shadow(target, draft, &sd, kmax, nd);
        if ((st = artr__step_one(target, s, out, n_out, err)) != ARTR_OK) return st;
        if (shadowed) artr__shadow(target, out[0]);
        return ARTR_OK;
    }
    target->pol.n_shadow = 0;
    /* draft: catch up (in chunks after plain steps left it far behind) */
    if ((st = artr__draft_catch_up(target, draft, &sd, nd, &D, err)) != ARTR_OK) return st;
    behind = P - D + 1; /* what the draft has not seen: positions D..P-1, then t */
    if (k > artr__room(draft) - behind + 1) k = artr__room(draft) - behind + 1;
    if (k < 1) return artr__step_one(target, s, out, n_out, err);
    /* draft: propose k tokens, keeping each proposal distribution; p_min may stop it */
    for (i = 0; i < behind - 1; i++) draft->feed[i] = artr__draft_id(target->hist[(D + i) % target->n_ctx], nd);
    draft->feed[behind - 1] = artr__draft_id(t, nd);
    for (i = 0; i < k; i++) {
        float *q = draft->dists + (size_t)i * (size_t)nd;
        if ((st = artr__feed(draft, &sd, i ? &target->feed[i] : draft->feed, i ? 1 : behind, ARTR_LOGITS_LAST, err)) != ARTR_OK)
            return st;
        /* the stop depends on the prefix only, never on the drawn token: exactness holds */
        if (target->pol.p.p_min > 0 && artr__confidence(draft) < target->pol.p.p_min) {
            target->stats.cut++;
            break;
        }
        if ((st = artr_probs(draft, &sd, -1, q, err)) != ARTR_OK) return st;
        target->feed[i + 1] = artr__pick(s, q, nd); /* draws advance the caller's rng */
        if (target->feed[i + 1] >= n_vocab) { /* an id the target lacks: p = 0, rejected for sure */
            foreign = 1;
            break;
        }
        if (branch > 1) /* token trees: the draft's likeliest others, by its logits */
            artr__top_ids(artr_logits(draft, -1), nd < n_vocab ? nd : n_vocab, target->feed[i + 1], branch - 1,
                          alts + (size_t)i * 7);
    }
    if (!foreign && i < k && (i < 1 || i < target->pol.p.draft_min)) { /* too short to verify */
        artr_ctx_truncate(draft, P + 1, NULL);
        target->stats.short_drafts++;
        return artr__step_one(target, s, out, n_out, err);
    }
    k = i;
    if (branch > 1 && !foreign && artr__tree_ok(target, ARTR__PMAX) && (!s->guidance || artr__tree_ok(s->guidance, ARTR__PMAX)))
        return artr__spec_tree(target, draft, s, k, branch, alts, dcost, probe, t_start, out, n_out, err);
    /* target: verify [t, x_0 .. x_{k-1}] in one call */
    target->feed[0] = t;
    target->pending = -1;
    if ((st = artr__feed(target, s, target->feed, k + 1, ARTR_LOGITS_ALL, err)) != ARTR_OK) {
        target->pending = t;
        return st;
    }
    for (j = 0; j < k; j++) { /* Leviathan et al. 2023, Alg. 1 */
        if ((st = artr_probs(target, s, j, target->dist, err)) != ARTR_OK) return st;
        if (!artr__accept(s, target->dist, draft->dists + (size_t)j * (size_t)nd, ARTR__Q_DIST,
                          target->feed[j + 1], n_vocab, nd, &total)) {
            rejected = 1;
            break;
        }
    }
    if (!rejected && foreign) { /* guess k, an id the target lacks, is rejected: the residual */
        if ((st = artr_probs(target, s, k, target->dist, err)) != ARTR_OK) return st;
        total = artr__residual(s, target->dist, draft->dists + (size_t)k * (size_t)nd, n_vocab, nd);
        rejected = 1;
    }
    if ((st = artr__next_token(target, s, j, total, rejected, &next, err)) != ARTR_OK) return st;
    for (i = 0; i < j; i++) out[i] = target->feed[i + 1];
    out[j] = next;
    *n_out = j + 1;
    artr__keep(target, s, k + 1, j + 1);
    if (draft->n_past > P + 1 + j) artr_ctx_truncate(draft, P + 1 + j, NULL);
    target->pending = next;
    target->stats.tokens += j + 1;
    target->stats.drafted += k + foreign;
    target->stats.accepted += j;
    artr__policy_after(target, 0, k + 1, j, j + rejected, (float)k * dcost, probe, t_start);
    return ARTR_OK;
}

/* Remember which token followed which (the n-gram pool seeding Jacobi guesses). */
static void artr__pool_add(artr_ctx *c, int32_t a, int32_t b, int overwrite)
{
    if (a >= 0 && b >= 0 && (overwrite || c->next_tok[a] < 0)) c->next_tok[a] = b;
}

/* A window step's rows took dt seconds of sampling work after the call (n rows). */
static void artr__time_rows(artr_ctx *c, int n, double dt)
{
    float r;
    if (n < 1 || !(dt > 0)) return;
    r = (float)(dt / (double)n);
    c->pol.t_row = c->pol.t_row > 0 ? 0.75f * c->pol.t_row + 0.25f * r : r;
}

/* A window guess's sampling work in one-token calls (draft_cost with fixed costs). */
static float artr__row_cost(const artr_ctx *c)
{
    if (c->pol.p.verify_cost > 0) return c->pol.p.draft_cost;
    if (c->pol.t[1] > 0 && c->pol.t_row > 0) return c->pol.t_row / c->pol.t[1];
    return 0;
}

/* The window (<= w) a Jacobi or SJD step verifies with guesses from source b: w capped by
   draft_max with the policy off, else the policy's pick; 0 is a plain step. */
static int artr__policy_w(artr_ctx *c, int b, int w, float dcost, int *probe, int *aside)
{
    *probe = 0;
    *aside = 0;
    if (!c->pol.p.adaptive) {
        if (c->pol.p.draft_max > 0 && w > c->pol.p.draft_max) w = c->pol.p.draft_max;
        return w;
    }
    return artr__policy_k(c, b, w, dcost, ARTR__BY_PROBE, probe, aside);
}

/* A window step made plain (stepped aside, or a window under draft_min): one token; the
   carried guesses move on one position, kept while the first was that token and dropped
   otherwise, so guess[i] (with SJD's dists row i and qkind[i]) stays the guess for the
   position after the pending token plus i. */
static artr_status artr__window_plain(artr_ctx *c, artr_sampler *s, int aside, int sjd, int32_t *out, int *n_out,
                                      artr_error *err)
{
    int32_t t = c->pending;
    int n = c->n_guess;
    size_t nv = (size_t)c->m->cfg.n_vocab;
    artr_status st;
    if (aside) c->stats.aside++;
    else if (c->pol.p.draft_min > 1) c->stats.short_drafts++;
    c->n_guess = 0;
    if ((st = artr__step_one(c, s, out, n_out, err)) != ARTR_OK) return st;
    if (!sjd) artr__pool_add(c, t, out[0], 1);
    if (n > 1 && c->guess[0] == out[0]) {
        memmove(c->guess, c->guess + 1, (size_t)(n - 1) * sizeof(int32_t));
        if (sjd) {
            memmove(c->qkind, c->qkind + 1, (size_t)(n - 1) * sizeof(int32_t));
            memmove(c->dists, c->dists + nv, (size_t)(n - 1) * nv * sizeof(float));
        }
        c->n_guess = n - 1;
    }
    return ARTR_OK;
}

ARTRDEF artr_status artr_step_jacobi(artr_ctx *c, artr_sampler *s, int window, int32_t *out,
                                     int max_out, int *n_out, artr_error *err)
{
    int done, W, i, j, n_vocab, matched = 1, probe = 0, aside = 0;
    float dcost;
    double t_start = artr__now(), t_rows;
    int32_t t, *y;
    artr_status st;
    if (s && !artr__greedy(s))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_step_jacobi is greedy (temperature 0); sample with artr_step_spec_jacobi");
    st = artr__step_begin(c, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    W = artr__window(c, s, window, max_out);
    if (W < 1) return artr_step(c, s, out, max_out, n_out, err);
    dcost = artr__row_cost(c);
    W = artr__policy_w(c, ARTR__SRC_JACOBI, W, dcost, &probe, &aside);
    if (W < 1 || W < c->pol.p.draft_min) return artr__window_plain(c, s, aside, 0, out, n_out, err);
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
    t_rows = artr__now();
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
    artr__time_rows(c, W + 1, artr__now() - t_rows);
    artr__pool_add(c, t, out[0], 1);
    for (i = 1; i <= j; i++) artr__pool_add(c, out[i - 1], out[i], 1);
    artr__keep(c, s, W + 1, j + 1);
    c->n_guess = W - j;
    c->pending = out[j];
    c->stats.tokens += j + 1;
    c->stats.drafted += W;
    c->stats.accepted += j;
    artr__policy_done(c, ARTR__SRC_JACOBI, W, j, dcost, probe, t_start);
    return ARTR_OK;
}

ARTRDEF artr_status artr_step_spec_jacobi(artr_ctx *c, artr_sampler *s, int window,
                                          const int32_t *init, int n_init, int32_t *out,
                                          int max_out, int *n_out, artr_error *err)
{
    int done, W, i, j, n_vocab, rejected = 0, probe = 0, aside = 0;
    float total = 0, dcost;
    double t_start = artr__now(), t_rows;
    int32_t t, next = -1, *y;
    artr_status st = artr__step_begin(c, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    if (n_init < 0 || (n_init > 0 && !init))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_step_spec_jacobi: n_init %d without init", n_init);
    W = artr__window(c, s, window, max_out);
    if (W < 1) return artr_step(c, s, out, max_out, n_out, err);
    dcost = artr__row_cost(c);
    W = artr__policy_w(c, ARTR__SRC_SJD, W, dcost, &probe, &aside);
    if (W < 1 || W < c->pol.p.draft_min) return artr__window_plain(c, s, aside, 1, out, n_out, err);
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
    t_rows = artr__now();
    for (j = 0; j < W; j++) { /* Teng et al. 2024: the speculative test on each guess in turn */
        if ((st = artr_probs(c, s, j, c->dist, err)) != ARTR_OK) return st;
        if (!artr__accept(s, c->dist, c->dists + (size_t)j * (size_t)n_vocab, c->qkind[j], y[j], n_vocab, n_vocab, &total)) {
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
    artr__time_rows(c, W + 1, artr__now() - t_rows);
    artr__keep(c, s, W + 1, j + 1);
    c->n_guess = W - j;
    c->pending = next;
    c->stats.tokens += j + 1;
    c->stats.drafted += W;
    c->stats.accepted += j;
    artr__policy_done(c, ARTR__SRC_SJD, W, j, dcost, probe, t_start);
    return ARTR_OK;
}

/* Id at position i of c's history with t pending at position P. */
static int32_t artr__hist_at(const artr_ctx *c, int i, int P, int32_t t)
{
    return i == P ? t : c->hist[i % c->n_ctx];
}

/* Lookup guesses into y (<= k): what followed the most recent earlier occurrence of the
   longest suffix (<= ngram tokens) of the history + t, running on into the guesses
   themselves (so a repeating cycle is guessed whole). The match length goes to *b. */
static int artr__lookup(const artr_ctx *c, int32_t t, int ngram, int k, int32_t *y, int *b)
{
    int P = c->n_past, lo = P - c->n_ctx + 1 > 0 ? P - c->n_ctx + 1 : 0, best = 0, at = -1, j, n, i;
    for (j = P - 1; j >= lo && best < ngram; j--) {
        for (n = 0; n < ngram && j - n >= lo; n++) {
            int32_t x = artr__hist_at(c, j - n, P, t);
            if (x < 0 || x != artr__hist_at(c, P - n, P, t)) break;
        }
        if (n > best) {
            best = n;
            at = j;
        }
    }
    *b = best;
    if (best == 0) return 0;
    for (i = 0; i < k; i++) {
        int src = at + 1 + i;
        int32_t x = src <= P ? artr__hist_at(c, src, P, t) : y[src - P - 1];
        if (x < 0) break;
        y[i] = x;
    }
    return i;
}

ARTRDEF artr_status artr_step_lookup(artr_ctx *c, artr_sampler *s, int k, int ngram_max,
                                     int32_t *out, int max_out, int *n_out, artr_error *err)
{
    int done, K, i, j, n, b = 0, kk, probe = 0, aside = 0, rejected = 0, n_vocab;
    float total = 0;
    double t_start = artr__now();
    int32_t t, next = -1, *y;
    artr_status st;
    if (k < 1 || ngram_max < 0)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_step_lookup: k %d (>= 1), ngram_max %d (>= 0)", k, ngram_max);
    st = artr__step_begin(c, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    if (ngram_max == 0) ngram_max = 3;
    if (ngram_max > ARTR__NGRAM) ngram_max = ARTR__NGRAM;
    n_vocab = c->m->cfg.n_vocab;
    t = c->pending;
    y = c->feed + 1;
    K = artr__window(c, s, k, max_out);
    if (c->pol.p.draft_max > 0 && K > c->pol.p.draft_max) K = c->pol.p.draft_max;
    if (K > ARTR__PMAX - 2) K = ARTR__PMAX - 2;
    n = K > 0 ? artr__lookup(c, t, ngram_max, K, y, &b) : 0;
    kk = n < 1 || n < c->pol.p.draft_min ? 0 : artr__policy_k(c, b, n, 0, ARTR__BY_SHADOW, &probe, &aside);
    if (kk < 1) { /* a plain step: no match, too short, or the policy stepped aside */
        if (aside) {
            c->stats.aside++;
            if (c->pol.n_shadow == 0) {
                memcpy(c->pol.shadow, y, (size_t)n * sizeof(int32_t));
                c->pol.n_shadow = n;
                c->pol.i_shadow = 0;
                c->pol.b_shadow = b;
            }
        } else if (n < 1 || n < c->pol.p.draft_min) {
            c->stats.short_drafts++;
        }
        if ((st = artr__step_one(c, s, out, n_out, err)) != ARTR_OK) return st;
        artr__shadow(c, out[0]);
        return ARTR_OK;
    }
    n = kk;
    c->feed[0] = t;
    c->pending = -1;
    if ((st = artr__feed(c, s, c->feed, n + 1, ARTR_LOGITS_ALL, err)) != ARTR_OK) {
        c->pending = t;
        return st;
    }
    for (j = 0; j < n; j++) { /* a point-mass proposal: kept with probability p(y_j) */
        if ((st = artr_probs(c, s, j, c->dist, err)) != ARTR_OK) return st;
        if (!artr__accept(s, c->dist, NULL, ARTR__Q_POINT, y[j], n_vocab, n_vocab, &total)) {
            rejected = 1;
            break;
        }
    }
    if ((st = artr__next_token(c, s, j, total, rejected, &next, err)) != ARTR_OK) return st;
    for (i = 0; i < j; i++) out[i] = y[i];
    out[j] = next;
    *n_out = j + 1;
    artr__keep(c, s, n + 1, j + 1);
    c->pending = next;
    c->stats.tokens += j + 1;
    c->stats.drafted += n;
    c->stats.accepted += j;
    artr__policy_done(c, b, n, j, 0, probe, t_start);
    return ARTR_OK;
}

/* ---- lookahead decoding's n-gram pool ---- */

static uint32_t artr__pool_bucket(const artr_ctx *c, int32_t key)
{
    return ((uint32_t)key * 2654435761u) % (uint32_t)c->pool_cap;
}

/* Forget every n-gram; the next ones have n tokens. */
static void artr__pool_reset(artr_ctx *c, int n)
{
    memset(c->pool_head, 0, (size_t)c->pool_cap * 2 * sizeof(uint32_t));
    c->pool_at = 0;
    c->pool_ngram = n;
    c->la_seen = 0;
}

/* Add the n-gram g (c->pool_ngram tokens) unless the newest 16 of its chain hold it. */
static void artr__pool_put(artr_ctx *c, const int32_t *g)
{
    int n = c->pool_ngram, i, e, looked;
    uint32_t b, st;
    artr__gram *x;
    if (c->pool_cap == 0) return;
    for (i = 0; i < n; i++)
        if (g[i] < 0) return;
    b = artr__pool_bucket(c, g[0]);
    e = (int)c->pool_head[2 * b] - 1;
    st = c->pool_head[2 * b + 1];
    for (looked = 0; e >= 0 && c->pool[e].stamp == st && looked < 16; looked++) {
        if (!memcmp(c->pool[e].tok, g, (size_t)n * sizeof(int32_t))) return;
        st = c->pool[e].next_stamp;
        e = c->pool[e].next;
    }
    e = c->pool_at;
    c->pool_at = (c->pool_at + 1) % c->pool_cap;
    x = &c->pool[e];
    memcpy(x->tok, g, (size_t)n * sizeof(int32_t));
    x->next = (int32_t)c->pool_head[2 * b] - 1;
    x->next_stamp = c->pool_head[2 * b + 1];
    if (++c->pool_stamp == 0) c->pool_stamp = 1;
    x->stamp = c->pool_stamp;
    c->pool_head[2 * b] = (uint32_t)e + 1;
    c->pool_head[2 * b + 1] = x->stamp;
}

/* The n - 1 followers of up to g n-grams that begin with key, newest first, into y. */
static int artr__pool_get(const artr_ctx *c, int32_t key, int g, int32_t *y)
{
    int n = c->pool_ngram, e, got = 0, looked;
    uint32_t b, st;
    if (c->pool_cap == 0 || n < 2) return 0;
    b = artr__pool_bucket(c, key);
    e = (int)c->pool_head[2 * b] - 1;
    st = c->pool_head[2 * b + 1];
    for (looked = 0; e >= 0 && c->pool[e].stamp == st && got < g && looked < 4 * c->pool_cap; looked++) {
        if (c->pool[e].tok[0] == key) {
            memcpy(y + (size_t)got * (size_t)(n - 1), c->pool[e].tok + 1, (size_t)(n - 1) * sizeof(int32_t));
            got++;
        }
        st = c->pool[e].next_stamp;
        e = c->pool[e].next;
    }
    return got;
}

/* Pool the history's n-grams not pooled yet, up to the pending token t at position P
   (the newest 8 pool_cap positions at most, when starting). */
static void artr__pool_sync(artr_ctx *c, int32_t t)
{
    int n = c->pool_ngram, P = c->n_past, q, i, lo = P - c->n_ctx + 1 > 0 ? P - c->n_ctx + 1 : 0;
    int32_t g[ARTR__LA_NMAX];
    if (lo < P - 8 * c->pool_cap) lo = P - 8 * c->pool_cap;
    if (c->la_seen < lo || c->la_seen > P) c->la_seen = lo; /* (or the context was rewound) */
    for (q = c->la_seen; q + n - 1 <= P; q++) {
        for (i = 0; i < n; i++) g[i] = artr__hist_at(c, q + i, P, t);
        artr__pool_put(c, g);
    }
    if (q > c->la_seen) c->la_seen = q;
}

/* (Re)start the window: W columns of N - 1 levels, seeded with tokens of the history. */
static void artr__la_start(artr_ctx *c, int32_t t, int W, int N)
{
    int P = c->n_past, span = P < c->n_ctx - 1 ? P : c->n_ctx - 1, i;
    for (i = 0; i < W * (N - 1); i++) {
        int32_t x = span > 0 ? artr__hist_at(c, P - 1 - (int)(((uint32_t)i * 37u + 11u) % (uint32_t)span), P, t) : t;
        c->la_win[i] = x >= 0 ? x : t;
    }
    c->la_w = W;
    c->la_n = N;
}

/* Expected tokens per unit of cost of a tree of n nodes and depth D from source b. */
static float artr__gain_tree(const artr_ctx *c, int b, int D, int n)
{
    return artr__expect(c, b, D) / artr__cost(c, n);
}

ARTRDEF artr_status artr_step_lookahead(artr_ctx *c, artr_sampler *s, int window, int ngram, int n_verify,
                                        int32_t *out, int max_out, int *n_out, artr_error *err)
{
    int done, W, N, G, cap, n = 1, n_v, i, w, lv, ng, len = 0, rejected = 0, D = 0, D_v = 0, probe = 0, aside = 0, n_vocab;
    float gain = 0;
    int32_t t, next = -1, *ids, *dep, cand[ARTR__PMAX], base[ARTR__PMAX], top[ARTR__PMAX], path[ARTR__PMAX];
    double t_start = artr__now();
    artr_status st;
    if (window < 0 || ngram < 0 || n_verify < 0 || (ngram > 0 && (ngram < 2 || ngram > ARTR__LA_NMAX)))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_step_lookahead: window %d, ngram %d (2..%d), n_verify %d: none negative (0: the default)",
                          window, ngram, ARTR__LA_NMAX, n_verify);
    st = artr__step_begin(c, s, out, max_out, n_out, &done, err);
    if (st != ARTR_OK || done) return st;
    W = window ? window : 4;
    N = ngram ? ngram : 3;
    G = n_verify ? n_verify : 4;
    if (G > (ARTR__PMAX - 1) / (N - 1)) G = (ARTR__PMAX - 1) / (N - 1);
    n_vocab = c->m->cfg.n_vocab;
    t = c->pending;
    /* nodes: at most n_batch, the room in c (and in the guidance), ARTR__PMAX - 1 */
    cap = c->n_batch < artr__room(c) ? c->n_batch : artr__room(c);
    if (s->guidance && artr__room(s->guidance) < cap) cap = artr__room(s->guidance);
    if (s->guidance && s->guidance->n_batch < cap) cap = s->guidance->n_batch;
    if (cap > ARTR__PMAX - 1) cap = ARTR__PMAX - 1;
    if (c->pool_cap == 0 || cap < 2 || max_out < 2 || !artr__tree_ok(c, cap) ||
        (s->guidance && !artr__tree_ok(s->guidance, cap))) {
        c->stats.short_drafts++;
        return artr__step_one(c, s, out, n_out, err);
    }
    if (c->pool_ngram != N) artr__pool_reset(c, N);
    if (c->la_w != W || c->la_n != N) artr__la_start(c, t, W, N);
    artr__pool_sync(c, t);
    /* the tree: node 0 = t; the pool's n-grams after t as a trie; the window's columns */
    ids = c->feed;
    dep = c->tree + c->n_batch;
    ids[0] = t;
    c->tree[0] = -1;
    dep[0] = 0;
    ng = artr__pool_get(c, t, G, cand);
    for (i = 0; i < ng; i++) {
        int cur = 0;
        for (lv = 0; lv < N - 1 && cur >= 0 && dep[cur] < max_out - 1; lv++)
            cur = artr__tree_child(c, ids, &n, cap, cur, cand[i * (N - 1) + lv], 1);
    }
    n_v = n; /* the pool's nodes; the window's follow */
    if (W > (cap - n) / (N - 1)) W = (cap - n) / (N - 1); /* this call's columns */
    for (w = 0; w < W; w++) { /* level 0 hangs from column w - 1's, each level from the one below */
        int cur = w ? base[w - 1] : 0;
        for (lv = 0; lv < N - 1; lv++) {
            cur = artr__tree_child(c, ids, &n, cap, cur, c->la_win[lv * c->la_w + w], 0);
            if (lv == 0) base[w] = cur;
        }
        top[w] = cur;
    }
    for (i = 1; i < n; i++) {
        if (dep[i] > D) D = dep[i];
        if (i < n_v && dep[i] > D_v) D_v = dep[i];
    }
    if (D > max_out - 1) D = max_out - 1;
    if (D_v > max_out - 1) D_v = max_out - 1;
    if (n < 2) {
        c->stats.short_drafts++;
        return artr__step_one(c, s, out, n_out, err);
    }
    if (c->pol.p.adaptive) { /* the whole tree, or the pool's n-grams alone where that pays more */
        gain = artr__gain_tree(c, ARTR__SRC_LA, D, n);
        if (n_v > 1 && artr__gain_tree(c, ARTR__SRC_LA, D_v, n_v) > gain) {
            gain = artr__gain_tree(c, ARTR__SRC_LA, D_v, n_v);
            n = n_v;
            D = D_v;
            W = 0;
        }
    }
    if (c->pol.p.adaptive &&
        (artr__policy_time_plain(c) || !artr__policy_go(c, ARTR__SRC_LA, 1, 1, gain, ARTR__BY_SHADOW, &probe, &aside))) {
        if (aside) { /* the newest n-gram is checked against what plain steps produce */
            c->stats.aside++;
            if (c->pol.n_shadow == 0 && ng > 0) {
                memcpy(c->pol.shadow, cand, (size_t)(N - 1) * sizeof(int32_t));
                c->pol.n_shadow = N - 1;
                c->pol.i_shadow = 0;
                c->pol.b_shadow = ARTR__SRC_LA;
            }
        }
        if ((st = artr__step_one(c, s, out, n_out, err)) != ARTR_OK) return st;
        artr__shadow(c, out[0]);
        return ARTR_OK;
    }
    c->pending = -1;
    if ((st = artr__feed_tree(c, s, ids, n, err)) != ARTR_OK) {
        c->pending = t;
        return st;
    }
    if ((st = artr__tree_walk(c, s, ids, n, D, path, &len, &next, &rejected, err)) != ARTR_OK) {
        artr__tree_keep(c, s, ids, path, 1, n); /* t was fed; nothing is pending */
        return st;
    }
    /* Jacobi update: each column's top level predicts one token further; the column and
       that token form an n-gram, and the levels move down */
    for (w = 0; w < W; w++) {
        int32_t g[ARTR__LA_NMAX];
        for (lv = 0; lv < N - 1; lv++) g[lv] = c->la_win[lv * c->la_w + w];
        g[N - 1] = artr__argmax(artr_logits(c, top[w]), n_vocab);
        artr__pool_put(c, g);
        for (lv = 0; lv + 1 < N - 1; lv++) c->la_win[lv * c->la_w + w] = c->la_win[(lv + 1) * c->la_w + w];
        c->la_win[(N - 2) * c->la_w + w] = g[N - 1];
    }
    for (i = 1; i < len; i++) out[i - 1] = ids[path[i]];
    out[len - 1] = next;
    *n_out = len;
    artr__tree_keep(c, s, ids, path, len, n);
    c->pending = next;
    c->stats.tokens += len;
    c->stats.drafted += n - 1;
    c->stats.accepted += len - 1;
    artr__policy_after(c, ARTR__SRC_LA, n, len - 1, len - 1 + rejected, 0, probe, t_start);
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

#define ARTR__MAX_EOG 16  /* end-of-generation ids kept; real files have 1 to 4 */

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
    int pre;                      /* BPE: ARTR__PRE_*; UNKNOWN: tokenizer.ggml.pre names none */
    int ignore_merges;            /* BPE: a word that is a token is that token */
    const char *pre_text;         /* tokenizer.ggml.pre (for messages), pre_len bytes */
    size_t pre_len;
    int32_t eog[ARTR__MAX_EOG];   /* (n_eog) end-of-generation ids, ascending */
    int n_eog;
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

enum { ARTR__C_OTHER = 0, ARTR__C_LETTER = 1, ARTR__C_NUMBER = 2, ARTR__C_SPACE = 3,
       ARTR__C_MARK = 4, ARTR__C_PUNCT = 5, ARTR__C_END = 6 /* past the text, or a stop */ };

/* Unicode 14.0.0: (first code point << 3) | class at every change of class: 0 other,
   1 L*, 2 N*, 3 White_Space, 4 M*, 5 P* (tools/gen_unicode_table.py). */
static const uint32_t artr__uni_runs[2054] = {
    0x0, 0x4b, 0x70, 0x103, 0x10d, 0x120, 0x12d, 0x158,
    0x165, 0x182, 0x1d5, 0x1e0, 0x1fd, 0x209, 0x2dd, 0x2f0,
    0x2fd, 0x300, 0x309, 0x3dd, 0x3e0, 0x3ed, 0x3f0, 0x42b,
    0x430, 0x503, 0x50d, 0x510, 0x53d, 0x540, 0x551, 0x55d,
    0x560, 0x592, 0x5a0, 0x5a9, 0x5b5, 0x5c0, 0x5ca, 0x5d1,
    0x5dd, 0x5e2, 0x5fd, 0x601, 0x6b8, 0x6c1, 0x7b8, 0x7c1,
    0x1610, 0x1631, 0x1690, 0x1701, 0x1728, 0x1761, 0x1768, 0x1771,
    0x1778, 0x1804, 0x1b81, 0x1ba8, 0x1bb1, 0x1bc0, 0x1bd1, 0x1bf5,
    0x1bf9, 0x1c00, 0x1c31, 0x1c3d, 0x1c41, 0x1c58, 0x1c61, 0x1c68,
    0x1c71, 0x1d10, 0x1d19, 0x1fb0, 0x1fb9, 0x2410, 0x241c, 0x2451,
    0x2980, 0x2989, 0x2ab8, 0x2ac9, 0x2ad5, 0x2b01, 0x2c4d, 0x2c58,
    0x2c8c, 0x2df5, 0x2dfc, 0x2e05, 0x2e0c, 0x2e1d, 0x2e24, 0x2e35,
    0x2e3c, 0x2e40, 0x2e81, 0x2f58, 0x2f79, 0x2f9d, 0x2fa8, 0x304d,
    0x3058, 0x3065, 0x3070, 0x3084, 0x30dd, 0x30e0, 0x30ed, 0x3101,
    0x325c, 0x3302, 0x3355, 0x3371, 0x3384, 0x3389, 0x36a5, 0x36a9,
    0x36b4, 0x36e8, 0x36fc, 0x3729, 0x373c, 0x3748, 0x3754, 0x3771,
    0x3782, 0x37d1, 0x37e8, 0x37f9, 0x3805, 0x3870, 0x3881, 0x388c,
    0x3891, 0x3984, 0x3a58, 0x3a69, 0x3d34, 0x3d89, 0x3d90, 0x3e02,
    0x3e51, 0x3f5c, 0x3fa1, 0x3fb0, 0x3fbd, 0x3fd1, 0x3fd8, 0x3fec,
    0x3ff0, 0x4001, 0x40b4, 0x40d1, 0x40dc, 0x4121, 0x412c, 0x4141,
    0x414c, 0x4170, 0x4185, 0x41f8, 0x4201, 0x42cc, 0x42e0, 0x42f5,
    0x42f8, 0x4301, 0x4358, 0x4381, 0x4440, 0x4449, 0x4478, 0x44c4,
    0x4501, 0x4654, 0x4710, 0x471c, 0x4821, 0x49d4, 0x49e9, 0x49f4,
    0x4a81, 0x4a8c, 0x4ac1, 0x4b14, 0x4b25, 0x4b32, 0x4b85, 0x4b89,
    0x4c0c, 0x4c20, 0x4c29, 0x4c68, 0x4c79, 0x4c88, 0x4c99, 0x4d48,
    0x4d51, 0x4d88, 0x4d91, 0x4d98, 0x4db1, 0x4dd0, 0x4de4, 0x4de9,
    0x4df4, 0x4e28, 0x4e3c, 0x4e48, 0x4e5c, 0x4e71, 0x4e78, 0x4ebc,
    0x4ec0, 0x4ee1, 0x4ef0, 0x4ef9, 0x4f14, 0x4f20, 0x4f32, 0x4f81,
    0x4f90, 0x4fa2, 0x4fd0, 0x4fe1, 0x4fed, 0x4ff4, 0x4ff8, 0x500c,
    0x5020, 0x5029, 0x5058, 0x5079, 0x5088, 0x5099, 0x5148, 0x5151,
    0x5188, 0x5191, 0x51a0, 0x51a9, 0x51b8, 0x51c1, 0x51d0, 0x51e4,
    0x51e8, 0x51f4, 0x5218, 0x523c, 0x5248, 0x525c, 0x5270, 0x528c,
    0x5290, 0x52c9, 0x52e8, 0x52f1, 0x52f8, 0x5332, 0x5384, 0x5391,
    0x53ac, 0x53b5, 0x53b8, 0x540c, 0x5420, 0x5429, 0x5470, 0x5479,
    0x5490, 0x5499, 0x5548, 0x5551, 0x5588, 0x5591, 0x55a0, 0x55a9,
    0x55d0, 0x55e4, 0x55e9, 0x55f4, 0x5630, 0x563c, 0x5650, 0x565c,
    0x5670, 0x5681, 0x5688, 0x5701, 0x5714, 0x5720, 0x5732, 0x5785,
    0x5788, 0x57c9, 0x57d4, 0x5800, 0x580c, 0x5820, 0x5829, 0x5868,
    0x5879, 0x5888, 0x5899, 0x5948, 0x5951, 0x5988, 0x5991, 0x59a0,
    0x59a9, 0x59d0, 0x59e4, 0x59e9, 0x59f4, 0x5a28, 0x5a3c, 0x5a48,
    0x5a5c, 0x5a70, 0x5aac, 0x5ac0, 0x5ae1, 0x5af0, 0x5af9, 0x5b14,
    0x5b20, 0x5b32, 0x5b80, 0x5b89, 0x5b92, 0x5bc0, 0x5c14, 0x5c19,
    0x5c20, 0x5c29, 0x5c58, 0x5c71, 0x5c88, 0x5c91, 0x5cb0, 0x5cc9,
    0x5cd8, 0x5ce1, 0x5ce8, 0x5cf1, 0x5d00, 0x5d19, 0x5d28, 0x5d41,
    0x5d58, 0x5d71, 0x5dd0, 0x5df4, 0x5e18, 0x5e34, 0x5e48, 0x5e54,
    0x5e70, 0x5e81, 0x5e88, 0x5ebc, 0x5ec0, 0x5f32, 0x5f98, 0x6004,
    0x6029, 0x6068, 0x6071, 0x6088, 0x6091, 0x6148, 0x6151, 0x61d0,
    0x61e4, 0x61e9, 0x61f4, 0x6228, 0x6234, 0x6248, 0x6254, 0x6270,
    0x62ac, 0x62b8, 0x62c1, 0x62d8, 0x62e9, 0x62f0, 0x6301, 0x6314,
    0x6320, 0x6332, 0x6380, 0x63bd, 0x63c2, 0x63f8, 0x6401, 0x640c,
    0x6425, 0x6429, 0x6468, 0x6471, 0x6488, 0x6491, 0x6548, 0x6551,
    0x65a0, 0x65a9, 0x65d0, 0x65e4, 0x65e9, 0x65f4, 0x6628, 0x6634,
    0x6648, 0x6654, 0x6670, 0x66ac, 0x66b8, 0x66e9, 0x66f8, 0x6701,
    0x6714, 0x6720, 0x6732, 0x6780, 0x6789, 0x6798, 0x6804, 0x6821,
    0x6868, 0x6871, 0x6888, 0x6891, 0x69dc, 0x69e9, 0x69f4, 0x6a28,
    0x6a34, 0x6a48, 0x6a54, 0x6a71, 0x6a78, 0x6aa1, 0x6abc, 0x6ac2,
    0x6af9, 0x6b14, 0x6b20, 0x6b32, 0x6bc8, 0x6bd1, 0x6c00, 0x6c0c,
    0x6c20, 0x6c29, 0x6cb8, 0x6cd1, 0x6d90, 0x6d99, 0x6de0, 0x6de9,
    0x6df0, 0x6e01, 0x6e38, 0x6e54, 0x6e58, 0x6e7c, 0x6ea8, 0x6eb4,
    0x6eb8, 0x6ec4, 0x6f00, 0x6f32, 0x6f80, 0x6f94, 0x6fa5, 0x6fa8,
    0x7009, 0x718c, 0x7191, 0x71a4, 0x71d8, 0x7201, 0x723c, 0x727d,
    0x7282, 0x72d5, 0x72e0, 0x7409, 0x7418, 0x7421, 0x7428, 0x7431,
    0x7458, 0x7461, 0x7520, 0x7529, 0x7530, 0x7539, 0x758c, 0x7591,
    0x75a4, 0x75e9, 0x75f0, 0x7601, 0x7628, 0x7631, 0x7638, 0x7644,
    0x7670, 0x7682, 0x76d0, 0x76e1, 0x7700, 0x7801, 0x7808, 0x7825,
    0x7898, 0x78a5, 0x78a8, 0x78c4, 0x78d0, 0x7902, 0x79a0, 0x79ac,
    0x79b0, 0x79bc, 0x79c0, 0x79cc, 0x79d5, 0x79f4, 0x7a01, 0x7a40,
    0x7a49, 0x7b68, 0x7b8c, 0x7c2d, 0x7c34, 0x7c41, 0x7c6c, 0x7cc0,
    0x7ccc, 0x7de8, 0x7e34, 0x7e38, 0x7e85, 0x7ea8, 0x7ecd, 0x7ed8,
    0x8001, 0x815c, 0x81f9, 0x8202, 0x8255, 0x8281, 0x82b4, 0x82d1,
    0x82f4, 0x8309, 0x8314, 0x8329, 0x833c, 0x8371, 0x838c, 0x83a9,
    0x8414, 0x8471, 0x847c, 0x8482, 0x84d4, 0x84f0, 0x8501, 0x8630,
    0x8639, 0x8640, 0x8669, 0x8670, 0x8681, 0x87dd, 0x87e1, 0x9248,
    0x9251, 0x9270, 0x9281, 0x92b8, 0x92c1, 0x92c8, 0x92d1, 0x92f0,
    0x9301, 0x9448, 0x9451, 0x9470, 0x9481, 0x9588, 0x9591, 0x95b0,
    0x95c1, 0x95f8, 0x9601, 0x9608, 0x9611, 0x9630, 0x9641, 0x96b8,
    0x96c1, 0x9888, 0x9891, 0x98b0, 0x98c1, 0x9ad8, 0x9aec, 0x9b05,
    0x9b4a, 0x9be8, 0x9c01, 0x9c80, 0x9d01, 0x9fb0, 0x9fc1, 0x9ff0,
    0xa005, 0xa009, 0xb368, 0xb375, 0xb379, 0xb403, 0xb409, 0xb4dd,
    0xb4e8, 0xb501, 0xb75d, 0xb772, 0xb789, 0xb7c8, 0xb801, 0xb894,
    0xb8b0, 0xb8f9, 0xb994, 0xb9ad, 0xb9b8, 0xba01, 0xba94, 0xbaa0,
    0xbb01, 0xbb68, 0xbb71, 0xbb88, 0xbb94, 0xbba0, 0xbc01, 0xbda4,
    0xbea5, 0xbeb9, 0xbec5, 0xbed8, 0xbee1, 0xbeec, 0xbef0, 0xbf02,
    0xbf50, 0xbf82, 0xbfd0, 0xc005, 0xc05c, 0xc070, 0xc07c, 0xc082,
    0xc0d0, 0xc101, 0xc3c8, 0xc401, 0xc42c, 0xc439, 0xc54c, 0xc551,
    0xc558, 0xc581, 0xc7b0, 0xc801, 0xc8f8, 0xc904, 0xc960, 0xc984,
    0xc9e0, 0xca25, 0xca32, 0xca81, 0xcb70, 0xcb81, 0xcba8, 0xcc01,
    0xcd60, 0xcd81, 0xce50, 0xce82, 0xced8, 0xd001, 0xd0bc, 0xd0e0,
    0xd0f5, 0xd101, 0xd2ac, 0xd2f8, 0xd304, 0xd3e8, 0xd3fc, 0xd402,
    0xd450, 0xd482, 0xd4d0, 0xd505, 0xd539, 0xd545, 0xd570, 0xd584,
    0xd678, 0xd804, 0xd829, 0xd9a4, 0xda29, 0xda68, 0xda82, 0xdad5,
    0xdb08, 0xdb5c, 0xdba0, 0xdbed, 0xdbf8, 0xdc04, 0xdc19, 0xdd0c,
    0xdd71, 0xdd82, 0xddd1, 0xdf34, 0xdfa0, 0xdfe5, 0xe001, 0xe124,
    0xe1c0, 0xe1dd, 0xe202, 0xe250, 0xe269, 0xe282, 0xe2d1, 0xe3f5,
    0xe401, 0xe448, 0xe481, 0xe5d8, 0xe5e9, 0xe605, 0xe640, 0xe684,
    0xe69d, 0xe6a4, 0xe749, 0xe76c, 0xe771, 0xe7a4, 0xe7a9, 0xe7bc,
    0xe7d1, 0xe7d8, 0xe801, 0xee04, 0xf001, 0xf8b0, 0xf8c1, 0xf8f0,
    0xf901, 0xfa30, 0xfa41, 0xfa70, 0xfa81, 0xfac0, 0xfac9, 0xfad0,
    0xfad9, 0xfae0, 0xfae9, 0xfaf0, 0xfaf9, 0xfbf0, 0xfc01, 0xfda8,
    0xfdb1, 0xfde8, 0xfdf1, 0xfdf8, 0xfe11, 0xfe28, 0xfe31, 0xfe68,
    0xfe81, 0xfea0, 0xfeb1, 0xfee0, 0xff01, 0xff68, 0xff91, 0xffa8,
    0xffb1, 0xffe8, 0x10003, 0x10058, 0x10085, 0x10143, 0x10150, 0x1017b,
    0x10185, 0x10220, 0x1022d, 0x10290, 0x1029d, 0x102fb, 0x10300, 0x10382,
    0x10389, 0x10390, 0x103a2, 0x103d0, 0x103ed, 0x103f9, 0x10402, 0x10450,
    0x1046d, 0x10478, 0x10481, 0x104e8, 0x10684, 0x10788, 0x10811, 0x10818,
    0x10839, 0x10840, 0x10851, 0x108a0, 0x108a9, 0x108b0, 0x108c9, 0x108f0,
    0x10921, 0x10928, 0x10931, 0x10938, 0x10941, 0x10948, 0x10951, 0x10970,
    0x10979, 0x109d0, 0x109e1, 0x10a00, 0x10a29, 0x10a50, 0x10a71, 0x10a78,
    0x10a82, 0x10c19, 0x10c2a, 0x10c50, 0x11845, 0x11860, 0x1194d, 0x11958,
    0x12302, 0x124e0, 0x12752, 0x12800, 0x13b45, 0x13bb2, 0x13ca0, 0x13e2d,
    0x13e38, 0x13f35, 0x13f80, 0x14c1d, 0x14cc8, 0x14ec5, 0x14ee0, 0x14fe5,
    0x14ff0, 0x16001, 0x16728, 0x16759, 0x1677c, 0x16791, 0x167a0, 0x167cd,
    0x167ea, 0x167f5, 0x16801, 0x16930, 0x16939, 0x16940, 0x16969, 0x16970,
    0x16981, 0x16b40, 0x16b79, 0x16b85, 0x16b88, 0x16bfc, 0x16c01, 0x16cb8,
    0x16d01, 0x16d38, 0x16d41, 0x16d78, 0x16d81, 0x16db8, 0x16dc1, 0x16df8,
    0x16e01, 0x16e38, 0x16e41, 0x16e78, 0x16e81, 0x16eb8, 0x16ec1, 0x16ef8,
    0x16f04, 0x17005, 0x17179, 0x17185, 0x17280, 0x17295, 0x172f0, 0x18003,
    0x1800d, 0x18020, 0x18029, 0x1803a, 0x18045, 0x18090, 0x180a5, 0x18100,
    0x1810a, 0x18154, 0x18185, 0x18189, 0x181b0, 0x181c2, 0x181d9, 0x181ed,
    0x181f0, 0x18209, 0x184b8, 0x184cc, 0x184d8, 0x184e9, 0x18505, 0x18509,
    0x187dd, 0x187e1, 0x18800, 0x18829, 0x18980, 0x18989, 0x18c78, 0x18c92,
    0x18cb0, 0x18d01, 0x18e00, 0x18f81, 0x19000, 0x19102, 0x19150, 0x19242,
    0x19280, 0x1928a, 0x19300, 0x19402, 0x19450, 0x1958a, 0x19600, 0x1a001,
    0x26e00, 0x27001, 0x52468, 0x52681, 0x527f5, 0x52801, 0x5306d, 0x53081,
    0x53102, 0x53151, 0x53160, 0x53201, 0x5337c, 0x5339d, 0x533a4, 0x533f5,
    0x533f9, 0x534f4, 0x53501, 0x53732, 0x53784, 0x53795, 0x537c0, 0x538b9,
    0x53900, 0x53911, 0x53c48, 0x53c59, 0x53e58, 0x53e81, 0x53e90, 0x53e99,
    0x53ea0, 0x53ea9, 0x53ed0, 0x53f91, 0x54014, 0x54019, 0x54034, 0x54039,
    0x5405c, 0x54061, 0x5411c, 0x54140, 0x54164, 0x54168, 0x54182, 0x541b0,
    0x54201, 0x543a5, 0x543c0, 0x54404, 0x54411, 0x545a4, 0x54630, 0x54675,
    0x54682, 0x546d0, 0x54704, 0x54791, 0x547c5, 0x547d9, 0x547e5, 0x547e9,
    0x547fc, 0x54802, 0x54851, 0x54934, 0x54975, 0x54981, 0x54a3c, 0x54aa0,
    0x54afd, 0x54b01, 0x54be8, 0x54c04, 0x54c21, 0x54d9c, 0x54e0d, 0x54e70,
    0x54e79, 0x54e82, 0x54ed0, 0x54ef5, 0x54f01, 0x54f2c, 0x54f31, 0x54f82,
    0x54fd1, 0x54ff8, 0x55001, 0x5514c, 0x551b8, 0x55201, 0x5521c, 0x55221,
    0x55264, 0x55270, 0x55282, 0x552d0, 0x552e5, 0x55301, 0x553b8, 0x553d1,
    0x553dc, 0x553f1, 0x55584, 0x55589, 0x55594, 0x555a9, 0x555bc, 0x555c9,
    0x555f4, 0x55601, 0x5560c, 0x55611, 0x55618, 0x556d9, 0x556f5, 0x55701,
    0x5575c, 0x55785, 0x55791, 0x557ac, 0x557b8, 0x55809, 0x55838, 0x55849,
    0x55878, 0x55889, 0x558b8, 0x55901, 0x55938, 0x55941, 0x55978, 0x55981,
    0x55ad8, 0x55ae1, 0x55b50, 0x55b81, 0x55f1c, 0x55f5d, 0x55f64, 0x55f70,
    0x55f82, 0x55fd0, 0x56001, 0x6bd20, 0x6bd81, 0x6be38, 0x6be59, 0x6bfe0,
    0x7c801, 0x7d370, 0x7d381, 0x7d6d0, 0x7d801, 0x7d838, 0x7d899, 0x7d8c0,
    0x7d8e9, 0x7d8f4, 0x7d8f9, 0x7d948, 0x7d951, 0x7d9b8, 0x7d9c1, 0x7d9e8,
    0x7d9f1, 0x7d9f8, 0x7da01, 0x7da10, 0x7da19, 0x7da28, 0x7da31, 0x7dd90,
    0x7de99, 0x7e9f5, 0x7ea00, 0x7ea81, 0x7ec80, 0x7ec91, 0x7ee40, 0x7ef81,
    0x7efe0, 0x7f004, 0x7f085, 0x7f0d0, 0x7f104, 0x7f185, 0x7f298, 0x7f2a5,
    0x7f310, 0x7f31d, 0x7f320, 0x7f345, 0x7f348, 0x7f355, 0x7f360, 0x7f381,
    0x7f3a8, 0x7f3b1, 0x7f7e8, 0x7f80d, 0x7f820, 0x7f82d, 0x7f858, 0x7f865,
    0x7f882, 0x7f8d5, 0x7f8e0, 0x7f8fd, 0x7f909, 0x7f9dd, 0x7f9f0, 0x7f9fd,
    0x7fa00, 0x7fa09, 0x7fadd, 0x7fae0, 0x7faed, 0x7faf0, 0x7fafd, 0x7fb31,
    0x7fdf8, 0x7fe11, 0x7fe40, 0x7fe51, 0x7fe80, 0x7fe91, 0x7fec0, 0x7fed1,
    0x7fee8, 0x80001, 0x80060, 0x80069, 0x80138, 0x80141, 0x801d8, 0x801e1,
    0x801f0, 0x801f9, 0x80270, 0x80281, 0x802f0, 0x80401, 0x807d8, 0x80805,
    0x80818, 0x8083a, 0x809a0, 0x80a02, 0x80bc8, 0x80c52, 0x80c60, 0x80fec,
    0x80ff0, 0x81401, 0x814e8, 0x81501, 0x81688, 0x81704, 0x8170a, 0x817e0,
    0x81801, 0x81902, 0x81920, 0x81969, 0x81a0a, 0x81a11, 0x81a52, 0x81a58,
    0x81a81, 0x81bb4, 0x81bd8, 0x81c01, 0x81cf0, 0x81cfd, 0x81d01, 0x81e20,
    0x81e41, 0x81e85, 0x81e8a, 0x81eb0, 0x82001, 0x824f0, 0x82502, 0x82550,
    0x82581, 0x826a0, 0x826c1, 0x827e0, 0x82801, 0x82940, 0x82981, 0x82b20,
    0x82b7d, 0x82b81, 0x82bd8, 0x82be1, 0x82c58, 0x82c61, 0x82c98, 0x82ca1,
    0x82cb0, 0x82cb9, 0x82d10, 0x82d19, 0x82d90, 0x82d99, 0x82dd0, 0x82dd9,
    0x82de8, 0x83001, 0x839b8, 0x83a01, 0x83ab0, 0x83b01, 0x83b40, 0x83c01,
    0x83c30, 0x83c39, 0x83d88, 0x83d91, 0x83dd8, 0x84001, 0x84030, 0x84041,
    0x84048, 0x84051, 0x841b0, 0x841b9, 0x841c8, 0x841e1, 0x841e8, 0x841f9,
    0x842b0, 0x842bd, 0x842c2, 0x84301, 0x843b8, 0x843ca, 0x84401, 0x844f8,
    0x8453a, 0x84580, 0x84701, 0x84798, 0x847a1, 0x847b0, 0x847da, 0x84801,
    0x848b2, 0x848e0, 0x848fd, 0x84901, 0x849d0, 0x849fd, 0x84a00, 0x84c01,
    0x84dc0, 0x84de2, 0x84df1, 0x84e02, 0x84e80, 0x84e92, 0x85001, 0x8500c,
    0x85020, 0x8502c, 0x85038, 0x85064, 0x85081, 0x850a0, 0x850a9, 0x850c0,
    0x850c9, 0x851b0, 0x851c4, 0x851d8, 0x851fc, 0x85202, 0x85248, 0x85285,
    0x852c8, 0x85301, 0x853ea, 0x853fd, 0x85401, 0x854ea, 0x85500, 0x85601,
    0x85640, 0x85649, 0x8572c, 0x85738, 0x8575a, 0x85785, 0x857b8, 0x85801,
    0x859b0, 0x859cd, 0x85a01, 0x85ab0, 0x85ac2, 0x85b01, 0x85b98, 0x85bc2,
    0x85c01, 0x85c90, 0x85ccd, 0x85ce8, 0x85d4a, 0x85d80, 0x86001, 0x86248,
    0x86401, 0x86598, 0x86601, 0x86798, 0x867d2, 0x86801, 0x86924, 0x86940,
    0x86982, 0x869d0, 0x87302, 0x873f8, 0x87401, 0x87550, 0x8755c, 0x8756d,
    0x87570, 0x87581, 0x87590, 0x87801, 0x878ea, 0x87939, 0x87940, 0x87981,
    0x87a34, 0x87a8a, 0x87aad, 0x87ad0, 0x87b81, 0x87c14, 0x87c35, 0x87c50,
    0x87d81, 0x87e2a, 0x87e60, 0x87f01, 0x87fb8, 0x88004, 0x88019, 0x881c4,
    0x8823d, 0x88270, 0x88292, 0x88384, 0x88389, 0x8839c, 0x883a9, 0x883b0,
    0x883fc, 0x88419, 0x88584, 0x885dd, 0x885e8, 0x885f5, 0x88614, 0x88618,
    0x88681, 0x88748, 0x88782, 0x887d0, 0x88804, 0x88819, 0x8893c, 0x889a8,
    0x889b2, 0x88a05, 0x88a21, 0x88a2c, 0x88a39, 0x88a40, 0x88a81, 0x88b9c,
    0x88ba5, 0x88bb1, 0x88bb8, 0x88c04, 0x88c19, 0x88d9c, 0x88e09, 0x88e2d,
    0x88e4c, 0x88e6d, 0x88e74, 0x88e82, 0x88ed1, 0x88edd, 0x88ee1, 0x88eed,
    0x88f00, 0x88f0a, 0x88fa8, 0x89001, 0x89090, 0x89099, 0x89164, 0x891c5,
    0x891f4, 0x891f8, 0x89401, 0x89438, 0x89441, 0x89448, 0x89451, 0x89470,
    0x89479, 0x894f0, 0x894f9, 0x8954d, 0x89550, 0x89581, 0x896fc, 0x89758,
    0x89782, 0x897d0, 0x89804, 0x89820, 0x89829, 0x89868, 0x89879, 0x89888,
    0x89899, 0x89948, 0x89951, 0x89988, 0x89991, 0x899a0, 0x899a9, 0x899d0,
    0x899dc, 0x899e9, 0x899f4, 0x89a28, 0x89a3c, 0x89a48, 0x89a5c, 0x89a70,
    0x89a81, 0x89a88, 0x89abc, 0x89ac0, 0x89ae9, 0x89b14, 0x89b20, 0x89b34,
    0x89b68, 0x89b84, 0x89ba8, 0x8a001, 0x8a1ac, 0x8a239, 0x8a25d, 0x8a282,
    0x8a2d5, 0x8a2e0, 0x8a2ed, 0x8a2f4, 0x8a2f9, 0x8a310, 0x8a401, 0x8a584,
    0x8a621, 0x8a635, 0x8a639, 0x8a640, 0x8a682, 0x8a6d0, 0x8ac01, 0x8ad7c,
    0x8adb0, 0x8adc4, 0x8ae0d, 0x8aec1, 0x8aee4, 0x8aef0, 0x8b001, 0x8b184,
    0x8b20d, 0x8b221, 0x8b228, 0x8b282, 0x8b2d0, 0x8b305, 0x8b368, 0x8b401,
    0x8b55c, 0x8b5c1, 0x8b5cd, 0x8b5d0, 0x8b602, 0x8b650, 0x8b801, 0x8b8d8,
    0x8b8ec, 0x8b960, 0x8b982, 0x8b9e5, 0x8b9f8, 0x8ba01, 0x8ba38, 0x8c001,
    0x8c164, 0x8c1dd, 0x8c1e0, 0x8c501, 0x8c702, 0x8c798, 0x8c7f9, 0x8c838,
    0x8c849, 0x8c850, 0x8c861, 0x8c8a0, 0x8c8a9, 0x8c8b8, 0x8c8c1, 0x8c984,
    0x8c9b0, 0x8c9bc, 0x8c9c8, 0x8c9dc, 0x8c9f9, 0x8ca04, 0x8ca09, 0x8ca14,
    0x8ca25, 0x8ca38, 0x8ca82, 0x8cad0, 0x8cd01, 0x8cd40, 0x8cd51, 0x8ce8c,
    0x8cec0, 0x8ced4, 0x8cf09, 0x8cf15, 0x8cf19, 0x8cf24, 0x8cf28, 0x8d001,
    0x8d00c, 0x8d059, 0x8d19c, 0x8d1d1, 0x8d1dc, 0x8d1fd, 0x8d23c, 0x8d240,
    0x8d281, 0x8d28c, 0x8d2e1, 0x8d454, 0x8d4d5, 0x8d4e9, 0x8d4f5, 0x8d518,
    0x8d581, 0x8d7c8, 0x8e001, 0x8e048, 0x8e051, 0x8e17c, 0x8e1b8, 0x8e1c4,
    0x8e201, 0x8e20d, 0x8e230, 0x8e282, 0x8e368, 0x8e385, 0x8e391, 0x8e480,
    0x8e494, 0x8e540, 0x8e54c, 0x8e5b8, 0x8e801, 0x8e838, 0x8e841, 0x8e850,
    0x8e859, 0x8e98c, 0x8e9b8, 0x8e9d4, 0x8e9d8, 0x8e9e4, 0x8e9f0, 0x8e9fc,
    0x8ea31, 0x8ea3c, 0x8ea40, 0x8ea82, 0x8ead0, 0x8eb01, 0x8eb30, 0x8eb39,
    0x8eb48, 0x8eb51, 0x8ec54, 0x8ec78, 0x8ec84, 0x8ec90, 0x8ec9c, 0x8ecc1,
    0x8ecc8, 0x8ed02, 0x8ed50, 0x8f701, 0x8f79c, 0x8f7bd, 0x8f7c8, 0x8fd81,
    0x8fd88, 0x8fe02, 0x8fea8, 0x8fffd, 0x90001, 0x91cd0, 0x92002, 0x92378,
    0x92385, 0x923a8, 0x92401, 0x92a20, 0x97c81, 0x97f8d, 0x97f98, 0x98001,
    0x9a178, 0xa2001, 0xa3238, 0xb4001, 0xb51c8, 0xb5201, 0xb52f8, 0xb5302,
    0xb5350, 0xb5375, 0xb5381, 0xb55f8, 0xb5602, 0xb5650, 0xb5681, 0xb5770,
    0xb5784, 0xb57ad, 0xb57b0, 0xb5801, 0xb5984, 0xb59bd, 0xb59e0, 0xb5a01,
    0xb5a25, 0xb5a28, 0xb5a82, 0xb5ad0, 0xb5ada, 0xb5b10, 0xb5b19, 0xb5bc0,
    0xb5be9, 0xb5c80, 0xb7201, 0xb7402, 0xb74bd, 0xb74d8, 0xb7801, 0xb7a58,
    0xb7a7c, 0xb7a81, 0xb7a8c, 0xb7c40, 0xb7c7c, 0xb7c99, 0xb7d00, 0xb7f01,
    0xb7f15, 0xb7f19, 0xb7f24, 0xb7f28, 0xb7f84, 0xb7f90, 0xb8001, 0xc3fc0,
    0xc4001, 0xc66b0, 0xc6801, 0xc6848, 0xd7f81, 0xd7fa0, 0xd7fa9, 0xd7fe0,
    0xd7fe9, 0xd7ff8, 0xd8001, 0xd8918, 0xd8a81, 0xd8a98, 0xd8b21, 0xd8b40,
    0xd8b81, 0xd97e0, 0xde001, 0xde358, 0xde381, 0xde3e8, 0xde401, 0xde448,
    0xde481, 0xde4d0, 0xde4ec, 0xde4fd, 0xde500, 0xe7804, 0xe7970, 0xe7984,
    0xe7a38, 0xe8b2c, 0xe8b50, 0xe8b6c, 0xe8b98, 0xe8bdc, 0xe8c18, 0xe8c2c,
    0xe8c60, 0xe8d54, 0xe8d70, 0xe9214, 0xe9228, 0xe9702, 0xe97a0, 0xe9b02,
    0xe9bc8, 0xea001, 0xea2a8, 0xea2b1, 0xea4e8, 0xea4f1, 0xea500, 0xea511,
    0xea518, 0xea529, 0xea538, 0xea549, 0xea568, 0xea571, 0xea5d0, 0xea5d9,
    0xea5e0, 0xea5e9, 0xea620, 0xea629, 0xea830, 0xea839, 0xea858, 0xea869,
    0xea8a8, 0xea8b1, 0xea8e8, 0xea8f1, 0xea9d0, 0xea9d9, 0xea9f8, 0xeaa01,
    0xeaa28, 0xeaa31, 0xeaa38, 0xeaa51, 0xeaa88, 0xeaa91, 0xeb530, 0xeb541,
    0xeb608, 0xeb611, 0xeb6d8, 0xeb6e1, 0xeb7d8, 0xeb7e1, 0xeb8a8, 0xeb8b1,
    0xeb9a8, 0xeb9b1, 0xeba78, 0xeba81, 0xebb78, 0xebb81, 0xebc48, 0xebc51,
    0xebd48, 0xebd51, 0xebe18, 0xebe21, 0xebe60, 0xebe72, 0xec000, 0xed004,
    0xed1b8, 0xed1dc, 0xed368, 0xed3ac, 0xed3b0, 0xed424, 0xed428, 0xed43d,
    0xed460, 0xed4dc, 0xed500, 0xed50c, 0xed580, 0xef801, 0xef8f8, 0xf0004,
    0xf0038, 0xf0044, 0xf00c8, 0xf00dc, 0xf0110, 0xf011c, 0xf0128, 0xf0134,
    0xf0158, 0xf0801, 0xf0968, 0xf0984, 0xf09b9, 0xf09f0, 0xf0a02, 0xf0a50,
    0xf0a71, 0xf0a78, 0xf1481, 0xf1574, 0xf1578, 0xf1601, 0xf1764, 0xf1782,
    0xf17d0, 0xf3f01, 0xf3f38, 0xf3f41, 0xf3f60, 0xf3f69, 0xf3f78, 0xf3f81,
    0xf3ff8, 0xf4001, 0xf4628, 0xf463a, 0xf4684, 0xf46b8, 0xf4801, 0xf4a24,
    0xf4a59, 0xf4a60, 0xf4a82, 0xf4ad0, 0xf4af5, 0xf4b00, 0xf638a, 0xf6560,
    0xf656a, 0xf6580, 0xf658a, 0xf65a8, 0xf680a, 0xf6970, 0xf697a, 0xf69f0,
    0xf7001, 0xf7020, 0xf7029, 0xf7100, 0xf7109, 0xf7118, 0xf7121, 0xf7128,
    0xf7139, 0xf7140, 0xf7149, 0xf7198, 0xf71a1, 0xf71c0, 0xf71c9, 0xf71d0,
    0xf71d9, 0xf71e0, 0xf7211, 0xf7218, 0xf7239, 0xf7240, 0xf7249, 0xf7250,
    0xf7259, 0xf7260, 0xf7269, 0xf7280, 0xf7289, 0xf7298, 0xf72a1, 0xf72a8,
    0xf72b9, 0xf72c0, 0xf72c9, 0xf72d0, 0xf72d9, 0xf72e0, 0xf72e9, 0xf72f0,
    0xf72f9, 0xf7300, 0xf7309, 0xf7318, 0xf7321, 0xf7328, 0xf7339, 0xf7358,
    0xf7361, 0xf7398, 0xf73a1, 0xf73c0, 0xf73c9, 0xf73e8, 0xf73f1, 0xf73f8,
    0xf7401, 0xf7450, 0xf7459, 0xf74e0, 0xf7509, 0xf7520, 0xf7529, 0xf7550,
    0xf7559, 0xf75e0, 0xf8802, 0xf8868, 0xfdf82, 0xfdfd0, 0x100001, 0x153700,
    0x153801, 0x15b9c8, 0x15ba01, 0x15c0f0, 0x15c101, 0x167510, 0x167581, 0x175f08,
    0x17c001, 0x17d0f0, 0x180001, 0x189a58, 0x700804, 0x700f80,
};

/* A code point's class: White_Space, L*, N*, M*, P*, or other (also an invalid byte,
   cp > 0x10ffff). */
static int artr__uni_class(uint32_t cp)
{
    static const char punct[] = "!\"#%&'()*,-./:;?@[\\]_{}"; /* ASCII P*; $+<=>^`|~ are S* */
    size_t lo = 0, hi = sizeof artr__uni_runs / sizeof artr__uni_runs[0];
    if (cp < 0x80) {
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return ARTR__C_LETTER;
        if (cp >= '0' && cp <= '9') return ARTR__C_NUMBER;
        if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d)) return ARTR__C_SPACE;
        return cp && memchr(punct, (int)cp, sizeof punct - 1) ? ARTR__C_PUNCT : ARTR__C_OTHER;
    }
    if (cp > 0x10ffff) return ARTR__C_OTHER;
    while (hi - lo > 1) { /* the last run starting at or before cp; runs[0] starts at 0 */
        size_t mid = lo + (hi - lo) / 2;
        if ((artr__uni_runs[mid] >> 3) <= cp) lo = mid;
        else hi = mid;
    }
    return (int)(artr__uni_runs[lo] & 7);
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

/* ---- pre-tokenizers: the text cut into words before byte-level BPE ---- */

/* Each is the regex llama.cpp runs for a tokenizer.ggml.pre name (llama-vocab.cpp), the
   Split pattern of that family's tokenizer.json, written out as a scan over character
   classes: artr__pre_word matches one word at i and the next starts at its end, so the
   split is linear in the text. The patterns, alternatives tried in order:
     GPT2       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
     LLAMA3     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
                 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
     QWEN2      LLAMA3 with \p{N} in place of \p{N}{1,3}
     QWEN35     QWEN2 with [\p{L}\p{M}] in place of \p{L}, and \p{M} in the negated class
     STARCODER  \p{N} first (each digit a word), then GPT2 on the text between
     DEFAULT    [\p{P}$+<=>^~|]+ first, then GPT2 on the text between, then \p{N}+, then
                [0-9]{3} (each pattern splits the words of the one before; the text
                between two matches is a word too)
   \s is White_Space. Contractions are ASCII only, as llama.cpp's. */
enum { ARTR__PRE_UNKNOWN = 0, ARTR__PRE_GPT2, ARTR__PRE_LLAMA3, ARTR__PRE_QWEN2, ARTR__PRE_QWEN35,
       ARTR__PRE_STARCODER, ARTR__PRE_DEFAULT };

/* tokenizer.ggml.pre names (llama.cpp's) and their pattern; ignore_merges: a word that is
   itself a token is that token, unmerged (llama.cpp's Llama 3 names; tokenizers' BPE
   ignore_merges). The first name of each pattern is the one artr_vocab_info reports. */
typedef struct artr__pre_name {
    const char *name;
    int pre, ignore_merges;
} artr__pre_name;
static const artr__pre_name artr__pre_names[] = {
    {"gpt2", ARTR__PRE_GPT2, 0},           {"gpt-2", ARTR__PRE_GPT2, 0},
    {"phi-2", ARTR__PRE_GPT2, 0},          {"mpt", ARTR__PRE_GPT2, 0},
    {"olmo", ARTR__PRE_GPT2, 0},           {"llama3", ARTR__PRE_LLAMA3, 1},
    {"llama-bpe", ARTR__PRE_LLAMA3, 1},    {"llama-v3", ARTR__PRE_LLAMA3, 1},
    {"falcon3", ARTR__PRE_LLAMA3, 1},      {"dbrx", ARTR__PRE_LLAMA3, 0},
    {"smaug-bpe", ARTR__PRE_LLAMA3, 0},    {"qwen2", ARTR__PRE_QWEN2, 0},
    {"deepseek-r1-qwen", ARTR__PRE_QWEN2, 0}, {"stablelm2", ARTR__PRE_QWEN2, 0},
    {"megrez", ARTR__PRE_QWEN2, 0},        {"qwen35", ARTR__PRE_QWEN35, 0},
    {"starcoder", ARTR__PRE_STARCODER, 0}, {"smollm", ARTR__PRE_STARCODER, 0},
    {"refact", ARTR__PRE_STARCODER, 0},    {"codeshell", ARTR__PRE_STARCODER, 0},
    {"command-r", ARTR__PRE_STARCODER, 0}, {"exaone", ARTR__PRE_STARCODER, 0},
    {"default", ARTR__PRE_DEFAULT, 0},
};
#define ARTR__PRE_LIST "gpt2, llama3 (llama-bpe), dbrx, qwen2, qwen35, starcoder (smollm), default"

/* The entry named by s[0..n), or NULL. */
static const artr__pre_name *artr__pre_find(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < sizeof artr__pre_names / sizeof artr__pre_names[0]; i++)
        if (strlen(artr__pre_names[i].name) == n && memcmp(artr__pre_names[i].name, s, n) == 0)
            return &artr__pre_names[i];
    return NULL;
}

/* The class pattern pre sees in cp: marks are letters to QWEN35 and other to the rest;
   punctuation (with $+<=>^~|) is its own class only to DEFAULT. */
static int artr__pre_class(int pre, uint32_t cp)
{
    int c = artr__uni_class(cp);
    if (c == ARTR__C_MARK) return pre == ARTR__PRE_QWEN35 ? ARTR__C_LETTER : ARTR__C_OTHER;
    if (pre != ARTR__PRE_DEFAULT) return c == ARTR__C_PUNCT ? ARTR__C_OTHER : c;
    if (cp < 0x80 && cp && memchr("$+<=>^~|", (int)cp, 8)) return ARTR__C_PUNCT;
    return c;
}

/* The class of the character at s[k] (its length in *len): END at the end of the text
   and, for a pattern that runs on the text between another's matches, at a character
   of that one's class stop (ARTR__C_END: none). */
static int artr__pre_at(int pre, int stop, const uint8_t *s, size_t n, size_t k, int *len)
{
    uint32_t cp;
    int c;
    *len = 0;
    if (k >= n) return ARTR__C_END;
    *len = artr__utf8(s + k, n - k, &cp);
    c = artr__pre_class(pre, cp);
    return c == stop ? ARTR__C_END : c;
}

/* 's 't 'm 'd 're 've 'll at s[i] (case_fold: also capitals): its end, or 0. */
static size_t artr__contraction(const uint8_t *s, size_t n, size_t i, int case_fold)
{
    uint8_t a, b;
    if (s[i] != '\'' || i + 1 >= n) return 0;
    a = case_fold ? (uint8_t)(s[i + 1] | 0x20) : s[i + 1]; /* only letters are compared */
    b = i + 2 >= n ? 0 : case_fold ? (uint8_t)(s[i + 2] | 0x20) : s[i + 2];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    return 0;
}

/* End of the GPT2 pattern's match at s[i] (i < n, not a stop character). */
static size_t artr__gpt2_word(int pre, int stop, const uint8_t *s, size_t n, size_t i)
{
    size_t j, k, last;
    int cls, c, len;
    if ((k = artr__contraction(s, n, i, 0)) != 0) return k;
    j = s[i] == ' ' && artr__pre_at(pre, stop, s, n, i + 1, &len) != ARTR__C_END ? i + 1 : i;
    cls = artr__pre_at(pre, stop, s, n, j, &len);
    if (cls != ARTR__C_SPACE) { /* a run of letters, of numbers, or of others */
        for (k = j + (size_t)len; artr__pre_at(pre, stop, s, n, k, &len) == cls; k += (size_t)len) {
        }
        return k;
    }
    for (k = last = i; (c = artr__pre_at(pre, stop, s, n, k, &len)) == ARTR__C_SPACE; k += (size_t)len)
        last = k;
    return c != ARTR__C_END && last > i ? last : k; /* \s+(?!\S) leaves the last one to the next word */
}

/* End of the LLAMA3, QWEN2 or QWEN35 pattern's match at s[i], i < n. */
static size_t artr__llama3_word(int pre, const uint8_t *s, size_t n, size_t i)
{
    const int none = ARTR__C_END;
    size_t k, last, crlf = 0;
    int c, len, len2, count;
    if ((k = artr__contraction(s, n, i, 1)) != 0) return k;
    c = artr__pre_at(pre, none, s, n, i, &len);
    if (c == ARTR__C_LETTER || (s[i] != '\r' && s[i] != '\n' && c != ARTR__C_NUMBER &&
                                artr__pre_at(pre, none, s, n, i + (size_t)len, &len2) == ARTR__C_LETTER)) {
        k = i + (size_t)len;
        while (artr__pre_at(pre, none, s, n, k, &len2) == ARTR__C_LETTER) k += (size_t)len2;
        return k; /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    }
    if (c == ARTR__C_NUMBER) { /* \p{N}{1,3} or \p{N} */
        k = i + (size_t)len;
        for (count = 1; count < (pre == ARTR__PRE_LLAMA3 ? 3 : 1) &&
                        artr__pre_at(pre, none, s, n, k, &len2) == ARTR__C_NUMBER; count++)
            k += (size_t)len2;
        return k;
    }
    k = s[i] == ' ' && artr__pre_at(pre, none, s, n, i + 1, &len2) == ARTR__C_OTHER ? i + 1 : i;
    if (artr__pre_at(pre, none, s, n, k, &len2) == ARTR__C_OTHER) { /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
        while (artr__pre_at(pre, none, s, n, k, &len2) == ARTR__C_OTHER) k += (size_t)len2;
        while (k < n && (s[k] == '\r' || s[k] == '\n')) k++;
        return k;
    }
    for (k = last = i; artr__pre_at(pre, none, s, n, k, &len2) == ARTR__C_SPACE; k += (size_t)len2) {
        if (s[k] == '\r' || s[k] == '\n') crlf = k + 1;
        last = k;
    }
    if (crlf > i) return crlf;                  /* \s*[\r\n]+ */
    return k < n && last > i ? last : k;        /* \s+(?!\S), else \s+ */
}

static int artr__digit(uint8_t c) /* [0-9] */
{
    return c >= '0' && c <= '9';
}

/* DEFAULT: a run of punctuation; else GPT2's word, its numbers split off the space
   before them and into [0-9]{3} and the digits between. */
static size_t artr__default_word(const uint8_t *s, size_t n, size_t i)
{
    const int pre = ARTR__PRE_DEFAULT;
    int len, len2;
    size_t k;
    int c = artr__pre_at(pre, ARTR__C_END, s, n, i, &len);
    if (c == ARTR__C_PUNCT) {
        k = i + (size_t)len;
        while (artr__pre_at(pre, ARTR__C_END, s, n, k, &len2) == ARTR__C_PUNCT) k += (size_t)len2;
        return k;
    }
    if (s[i] == ' ' && artr__pre_at(pre, ARTR__C_PUNCT, s, n, i + 1, &len2) == ARTR__C_NUMBER) return i + 1;
    if (c != ARTR__C_NUMBER) return artr__gpt2_word(pre, ARTR__C_PUNCT, s, n, i);
    for (k = i; artr__pre_at(pre, ARTR__C_END, s, n, k, &len2) == ARTR__C_NUMBER; k += (size_t)len2) {
        if (k + 2 < n && artr__digit(s[k]) && artr__digit(s[k + 1]) && artr__digit(s[k + 2]))
            return k == i ? i + 3 : k;
    }
    return k;
}

/* End of the word at s[i], i < n, for pre-tokenizer pre. */
static size_t artr__pre_word(int pre, const uint8_t *s, size_t n, size_t i)
{
    int len;
    switch (pre) {
    case ARTR__PRE_LLAMA3:
    case ARTR__PRE_QWEN2:
    case ARTR__PRE_QWEN35:
        return artr__llama3_word(pre, s, n, i);
    case ARTR__PRE_STARCODER:
        if (artr__pre_at(pre, ARTR__C_END, s, n, i, &len) == ARTR__C_NUMBER) return i + (size_t)len;
        return artr__gpt2_word(pre, ARTR__C_NUMBER, s, n, i);
    case ARTR__PRE_DEFAULT:
        return artr__default_word(s, n, i);
    default:
        return artr__gpt2_word(pre, ARTR__C_END, s, n, i);
    }
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

/* The pre-tokenizer: the caller's name (force) or tokenizer.ggml.pre; none is GPT2,
   byte-level BPE's own pattern (llama.cpp would take "default"). An unknown name in the
   file still loads (artr_tokenize refuses it); an unknown forced one fails the load. */
static artr_status artr__tok_pre_build(artr__tok *tk, const artr_model *m, const char *force,
                                       artr_error *err)
{
    const artr__kv *kv = artr__kv_find(m, "tokenizer.ggml.pre");
    const artr__pre_name *p = &artr__pre_names[0];
    if (force) {
        if ((p = artr__pre_find(force, strlen(force))) == NULL)
            return ARTR__FAIL(err, ARTR_E_ARG, "artr_model_params.tokenizer_pre '%s': not a pre-tokenizer artr has (" ARTR__PRE_LIST ")",
                              force);
    } else if (kv && kv->type == ARTR_META_STRING) {
        tk->pre_text = (const char *)kv->val;
        tk->pre_len = (size_t)kv->n;
        p = artr__pre_find(tk->pre_text, tk->pre_len);
    }
    tk->pre = p ? p->pre : ARTR__PRE_UNKNOWN;
    tk->ignore_merges = p ? p->ignore_merges : 0;
    if (m->vocab.kind == ARTR__VOCAB_BPE) tk->info.pre = p ? p->name : NULL;
    return ARTR_OK;
}

static int artr__eog_has(const artr__tok *tk, int32_t id)
{
    int i;
    for (i = 0; i < tk->n_eog; i++)
        if (tk->eog[i] == id) return 1;
    return 0;
}

static void artr__eog_add(artr__tok *tk, int32_t id) /* keeps eog ascending, no repeats */
{
    int i = tk->n_eog;
    if (id < 0 || tk->n_eog == ARTR__MAX_EOG || artr__eog_has(tk, id)) return;
    for (; i > 0 && tk->eog[i - 1] > id; i--) tk->eog[i] = tk->eog[i - 1];
    tk->eog[i] = id;
    tk->n_eog++;
}

/* End of generation: EOS, tokenizer.ggml.eot_token_id and eom_token_id, and the tokens
   whose text ends a turn in a chat format (the list llama.cpp keeps). */
static artr_status artr__tok_eog_build(artr__tok *tk, const artr_model *m, artr_error *err)
{
    static const char *const keys[2] = {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"};
    static const char *const texts[] = {
        "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>",
        "<|end_of_text|>", "<EOT>", "<|return|>", "<|call|>", "<end_of_utterance>",
        "<\xef\xbd\234end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", /* DeepSeek's (\234: 0x9c) */
    };
    const artr__vocab *v = &m->vocab;
    size_t i;
    artr__eog_add(tk, tk->info.eos);
    for (i = 0; i < 2; i++) {
        const artr__kv *kv = artr__kv_find(m, keys[i]);
        int64_t id;
        if (!kv) continue;
        if (kv->type == ARTR_META_ARRAY || !artr__kv_int(kv->type, kv->val, &id))
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%s' has type %s, expected an integer",
                              keys[i], artr__meta_type_name(kv->type));
        if (id < 0 || id >= v->n)
            return ARTR__FAIL(err, ARTR_E_FORMAT, "metadata '%s' is %lld, outside the vocabulary of %d",
                              keys[i], (long long)id, v->n);
        artr__eog_add(tk, (int32_t)id);
    }
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
        artr__eog_add(tk, artr__tok_find(v, texts[i], strlen(texts[i])));
    tk->info.eog = tk->eog;
    tk->info.n_eog = tk->n_eog;
    return ARTR_OK;
}

static artr_status artr__tok_build(artr_model *m, unsigned char *mem, int n_vocab, uint64_t n_merges,
                                   uint64_t vocab_bytes, const artr_model_params *p, artr_error *err)
{
    artr__vocab *v = &m->vocab;
    artr__tok *tk = (artr__tok *)(void *)mem;
    artr__tok_layout l;
    artr_status st;
    int i;
    artr__tok_layout_of(n_vocab, n_merges, vocab_bytes, &l);
    memset(tk, 0, sizeof *tk);
    v->tok = tk;
    tk->space_id = -1;
    for (i = 0; i < 256; i++) tk->byte_id[i] = -1;
    artr__tok_info(tk, v);
    if ((st = artr__tok_pre_build(tk, m, p ? p->tokenizer_pre : NULL, err)) != ARTR_OK) return st;
    if (v->kind == ARTR__VOCAB_BPE && v->add_bos < 0 && tk->ignore_merges)
        tk->info.add_bos = 1; /* llama.cpp: the Llama 3 names add BOS unless the file says */
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
    if ((st = artr__tok_eog_build(tk, m, err)) != ARTR_OK) return st;
    for (i = 0; i < v->n; i++) {
        const artr__token *t = &v->tokens[i];
        if (v->kind == ARTR__VOCAB_SPM && artr__type_mergeable(t->type))
            artr__tok_pairs_of_text(tk, t, 1);
        if (v->kind == ARTR__VOCAB_LLAMA2C)
            artr__tok_pairs_of_text(tk, t, 0);
    }
    if (v->kind == ARTR__VOCAB_BPE && v->merges && n_merges > 0) {
        tk->merges = (artr__merge *)(void *)(mem + l.merges);
        tk->merge_mask = l.merge_mask;
        return artr__tok_merges_build(tk, v, n_merges, err);
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

/* 1 if token t's text is the byte-level form of s[0..n). */
static int artr__bpe_text_is(const artr__token *t, const uint8_t *s, size_t n)
{
    size_t k, at = 0;
    uint8_t u[2];
    for (k = 0; k < n; k++) {
        int w = artr__utf8_put2(artr__bpe_char(s[k]), u);
        if (at + (size_t)w > t->len || memcmp(t->text + at, u, (size_t)w) != 0) return 0;
        at += (size_t)w;
    }
    return at == t->len;
}

/* The mergeable token whose text is the byte-level form of s[0..n), or -1. */
static int32_t artr__bpe_word_token(const artr__vocab *v, const uint8_t *s, size_t n)
{
    const artr__tok *tk = v->tok;
    uint32_t h = ARTR__FNV_SEED, i;
    size_t k;
    uint8_t u[2];
    if (n > (size_t)v->max_token_len) return -1; /* each byte is at least one byte of text */
    for (k = 0; k < n; k++)
        h = artr__hash_more(h, (const char *)u, (size_t)artr__utf8_put2(artr__bpe_char(s[k]), u));
    for (i = artr__hash_end(h);; i++) {
        uint32_t id = tk->hash[i & tk->hash_mask];
        if (!id) return -1;
        if (artr__bpe_text_is(&v->tokens[id - 1], s, n))
            return artr__type_mergeable(v->tokens[id - 1].type) ? (int32_t)(id - 1) : -1;
    }
}

/* Byte-level BPE: the pre-tokenizer's words, each byte its character's token, merged
   word by word (a word that is a token is kept whole under ignore_merges). */
static void artr__bpe_text(artr__enc *e, const uint8_t *s, size_t n)
{
    size_t i, end;
    int32_t id;
    for (i = 0; i < n; i = end) {
        end = artr__pre_word(e->tk->pre, s, n, i);
        if (e->tk->ignore_merges && (id = artr__bpe_word_token(e->v, s + i, end - i)) >= 0) {
            artr__emit(e, id);
            continue;
        }
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
        if (tk->pre == ARTR__PRE_UNKNOWN)
            return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tokenizer.ggml.pre '%.*s': not a pre-tokenizer artr has (" ARTR__PRE_LIST
                              "); artr_model_params.tokenizer_pre can force one", artr__plen(tk->pre_len), tk->pre_text);
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

ARTRDEF int artr_token_is_eog(const artr_model *m, int32_t id)
{
    return m && artr__eog_has(m->vocab.tok, id);
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

/* ---- chat templates ---- */

/* Each format is the text its family's published Jinja template renders (transformers'
   apply_chat_template: trim_blocks, lstrip_blocks) with bos_token empty, checked against
   jinja2 renderings (tests/gen_tokenizer_fixtures.py chat). Jinja's trim is Python's str.strip. */
static const char *const artr__chat_names[] = {NULL, "chatml", "llama3", "gemma", "phi3", "phi4", "zephyr",
                                               "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7",
                                               "llama2", "llama2-sys", "deepseek2", "deepseek3"};
#define ARTR__CHAT_LIST "chatml, llama3, gemma, phi3, phi4, zephyr, mistral-v1, mistral-v3, mistral-v3-tekken, mistral-v7, " \
                        "llama2, llama2-sys, deepseek2, deepseek3"

static int artr__contains(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit), i;
    for (i = 0; i + k <= n; i++)
        if (memcmp(s + i, lit, k) == 0) return 1;
    return 0;
}

#define ARTR__DS_USER "<\xef\xbd\x9cUser\xef\xbd\x9c>" /* DeepSeek's bars are U+FF5C, its spaces U+2581 */
#define ARTR__DS_ASSISTANT "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>"
#define ARTR__DS_EOS "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"

/* llama.cpp's order of markers (llama-chat.cpp llm_chat_detect_template), for the formats
   artr has; ARTR_CHAT_NONE for any other template. */
static int artr__chat_detect(const char *t, size_t n)
{
    if (artr__contains(t, n, "<|im_start|>"))
        return artr__contains(t, n, "<|im_sep|>") ? ARTR_CHAT_PHI4 : ARTR_CHAT_CHATML;
    if (artr__contains(t, n, "[SYSTEM_PROMPT]")) return ARTR_CHAT_MISTRAL_V7;
    if (artr__contains(t, n, "' [INST] ' + system_message") || artr__contains(t, n, "[AVAILABLE_TOOLS]")) {
        if (artr__contains(t, n, " [INST]")) return ARTR_CHAT_MISTRAL_V1;
        return artr__contains(t, n, "\"[INST]\"") ? ARTR_CHAT_MISTRAL_V3_TEKKEN : ARTR_CHAT_MISTRAL_V3;
    }
    if (artr__contains(t, n, "[INST]")) /* Llama 2: llama.cpp's -sys, -sys-bos, -sys-strip are one here */
        return artr__contains(t, n, "<<SYS>>") || artr__contains(t, n, "bos_token + '[INST]") ||
                       artr__contains(t, n, "content.strip()")
                   ? ARTR_CHAT_LLAMA2_SYS
                   : ARTR_CHAT_LLAMA2;
    if (artr__contains(t, n, "<|assistant|>") && artr__contains(t, n, "<|end|>")) return ARTR_CHAT_PHI3;
    if (artr__contains(t, n, "<|user|>") && artr__contains(t, n, "<|assistant|>") &&
        artr__contains(t, n, "eos_token"))
        return ARTR_CHAT_ZEPHYR;
    if (artr__contains(t, n, "<start_of_turn>")) return ARTR_CHAT_GEMMA;
    if (artr__contains(t, n, "<|start_header_id|>") && artr__contains(t, n, "<|end_header_id|>"))
        return ARTR_CHAT_LLAMA3;
    if (artr__contains(t, n, "'Assistant: ' + message['content'] + eos_token")) return ARTR_CHAT_DEEPSEEK2;
    if (artr__contains(t, n, ARTR__DS_ASSISTANT) && artr__contains(t, n, ARTR__DS_USER) &&
        artr__contains(t, n, ARTR__DS_EOS))
        return ARTR_CHAT_DEEPSEEK3;
    return ARTR_CHAT_NONE;
}

ARTRDEF artr_status artr_chat_template(const artr_model *m, const char *name, int *tmpl, artr_error *err)
{
    const artr__kv *kv;
    int i;
    if (!tmpl || (!m && !name)) return ARTR__FAIL(err, ARTR_E_ARG, "artr_chat_template: NULL tmpl, or neither a model nor a name");
    *tmpl = ARTR_CHAT_NONE;
    if (name) {
        for (i = 1; i < (int)(sizeof artr__chat_names / sizeof artr__chat_names[0]); i++)
            if (strcmp(name, artr__chat_names[i]) == 0) *tmpl = i;
        if (*tmpl == ARTR_CHAT_NONE)
            return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "chat template '%s': artr has " ARTR__CHAT_LIST, name);
    } else {
        kv = artr__kv_find(m, "tokenizer.chat_template");
        if (!kv || kv->type != ARTR_META_STRING)
            return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "the model has no tokenizer.chat_template; name one of " ARTR__CHAT_LIST);
        *tmpl = artr__chat_detect((const char *)kv->val, (size_t)kv->n);
        if (*tmpl == ARTR_CHAT_NONE)
            return ARTR__FAIL(err, ARTR_E_UNSUPPORTED, "tokenizer.chat_template is none artr recognises; name one of " ARTR__CHAT_LIST);
    }
    artr__ok(err);
    return ARTR_OK;
}

/* The text being formatted: the first cap bytes are stored, all are counted. */
typedef struct artr__chat_out {
    char *dst;
    size_t cap, n;
    size_t *at; /* content_at or NULL */
} artr__chat_out;

static void artr__chat_put(artr__chat_out *o, const char *s, size_t n)
{
    if (o->n < o->cap && n) memcpy(o->dst + o->n, s, n < o->cap - o->n ? n : o->cap - o->n);
    o->n += n;
}
static void artr__chat_lit(artr__chat_out *o, const char *s)
{
    artr__chat_put(o, s, strlen(s));
}

static int artr__py_space(uint32_t cp) /* Python's str.isspace: White_Space and U+001C..U+001F */
{
    return artr__uni_class(cp) == ARTR__C_SPACE || (cp >= 0x1c && cp <= 0x1f);
}

/* Message i's content from byte a0 (trimmed as Jinja's trim if trim is 1, at its end
   only if 2), its span noted in o->at; the bytes written. */
static size_t artr__chat_content_from(artr__chat_out *o, const artr_chat_msg *msg, int i, int trim, size_t a0)
{
    const uint8_t *s = (const uint8_t *)msg->content;
    size_t a = a0, b = strlen(msg->content), k;
    uint32_t cp;
    int len;
    while (trim == 1 && a < b && (len = artr__utf8(s + a, b - a, &cp)) > 0 && artr__py_space(cp)) a += (size_t)len;
    while (trim && b > a) {
        for (k = b - 1; k > a && b - k < 4 && (s[k] & 0xc0) == 0x80; k--) {
        }
        len = artr__utf8(s + k, b - k, &cp);
        if (k + (size_t)len != b || !artr__py_space(cp)) break;
        b = k;
    }
    if (o->at) o->at[2 * i] = o->n;
    artr__chat_put(o, msg->content + a, b - a);
    if (o->at) o->at[2 * i + 1] = o->n;
    return b - a;
}
static void artr__chat_content(artr__chat_out *o, const artr_chat_msg *msg, int i, int trim)
{
    artr__chat_content_from(o, msg, i, trim, 0);
}

static int artr__role_is(const artr_chat_msg *msg, const char *role)
{
    return strcmp(msg->role, role) == 0;
}

/* ChatML, Llama 3, Phi-3, Phi-4, Zephyr: every message on its own, in a role header. */
static void artr__chat_turn(artr__chat_out *o, int tmpl, const artr_chat_msg *msg, int i, const char *eos)
{
    int sys = artr__role_is(msg, "system"), user = artr__role_is(msg, "user");
    int known = sys || user || artr__role_is(msg, "assistant");
    switch (tmpl) {
    case ARTR_CHAT_CHATML:
        artr__chat_lit(o, "<|im_start|>");
        artr__chat_lit(o, msg->role);
        artr__chat_lit(o, "\n");
        artr__chat_content(o, msg, i, 0);
        artr__chat_lit(o, "<|im_end|>\n");
        break;
    case ARTR_CHAT_LLAMA3:
        artr__chat_lit(o, "<|start_header_id|>");
        artr__chat_lit(o, msg->role);
        artr__chat_lit(o, "<|end_header_id|>\n\n");
        artr__chat_content(o, msg, i, 1);
        artr__chat_lit(o, "<|eot_id|>");
        break;
    case ARTR_CHAT_PHI4:
        if (!known) break;
        artr__chat_lit(o, "<|im_start|>");
        artr__chat_lit(o, msg->role);
        artr__chat_lit(o, "<|im_sep|>");
        artr__chat_content(o, msg, i, 0);
        artr__chat_lit(o, "<|im_end|>");
        break;
    default: /* Phi-3 (an empty system message left out), Zephyr */
        if (!known || (tmpl == ARTR_CHAT_PHI3 && sys && !msg->content[0])) break;
        artr__chat_lit(o, "<|");
        artr__chat_lit(o, msg->role);
        artr__chat_lit(o, "|>\n");
        artr__chat_content(o, msg, i, 0);
        artr__chat_lit(o, tmpl == ARTR_CHAT_PHI3 ? "<|end|>\n" : eos);
        if (tmpl == ARTR_CHAT_ZEPHYR) artr__chat_lit(o, "\n");
        break;
    }
}

/* After the messages of ChatML, Llama 3, Phi-3, Phi-4, Zephyr: the opening of the
   assistant's turn (Zephyr's only after a message), or Phi-3's EOS text without one. */
static void artr__chat_tail(artr__chat_out *o, int tmpl, int n_msgs, int add_assistant, const char *eos)
{
    static const char *const opening[ARTR_CHAT_ZEPHYR + 1] = {
        NULL, "<|im_start|>assistant\n", "<|start_header_id|>assistant<|end_header_id|>\n\n", NULL,
        "<|assistant|>\n", "<|im_start|>assistant<|im_sep|>", "<|assistant|>\n"};
    if (tmpl == ARTR_CHAT_PHI3 && !add_assistant) artr__chat_lit(o, eos);
    else if (add_assistant && opening[tmpl] && (tmpl != ARTR_CHAT_ZEPHYR || n_msgs > 0)) artr__chat_lit(o, opening[tmpl]);
}

/* Gemma: assistant is "model"; a first system message goes before the first turn's text. */
static void artr__chat_gemma(artr__chat_out *o, const artr_chat_msg *msgs, int n, int add_assistant)
{
    int i, first = n > 0 && artr__role_is(&msgs[0], "system");
    for (i = first; i < n; i++) {
        artr__chat_lit(o, "<start_of_turn>");
        artr__chat_lit(o, artr__role_is(&msgs[i], "assistant") ? "model" : msgs[i].role);
        artr__chat_lit(o, "\n");
        if (i == 1 && first) {
            artr__chat_content(o, &msgs[0], 0, 0);
            artr__chat_lit(o, "\n\n");
        }
        artr__chat_content(o, &msgs[i], i, 1);
        artr__chat_lit(o, "<end_of_turn>\n");
    }
    if (add_assistant) artr__chat_lit(o, "<start_of_turn>model\n");
}

/* Mistral's [INST] formats. v1 puts a first system message in the first user turn, v3 in
   the last message if that is a user turn; v7 writes it where it is. */
static artr_status artr__chat_mistral(artr__chat_out *o, int tmpl, const artr_chat_msg *msgs, int n,
                                      const char *eos, artr_error *err)
{
    int v1 = tmpl == ARTR_CHAT_MISTRAL_V1, v7 = tmpl == ARTR_CHAT_MISTRAL_V7;
    int tekken = tmpl == ARTR_CHAT_MISTRAL_V3_TEKKEN, i;
    int sys = !v7 && n > 0 && artr__role_is(&msgs[0], "system");
    for (i = sys; i < n; i++) {
        const artr_chat_msg *msg = &msgs[i];
        int with_sys = sys && (v1 ? i == 1 : i == n - 1);
        if (artr__role_is(msg, "user")) {
            artr__chat_lit(o, v1 ? " [INST] " : tekken ? "[INST]" : "[INST] ");
            if (with_sys) {
                artr__chat_content(o, &msgs[0], 0, 0);
                artr__chat_lit(o, "\n\n");
            }
            artr__chat_content(o, msg, i, 0);
            artr__chat_lit(o, v1 ? " [/INST]" : "[/INST]");
        } else if (artr__role_is(msg, "assistant")) {
            if (!tekken) artr__chat_lit(o, " ");
            artr__chat_content(o, msg, i, tmpl == ARTR_CHAT_MISTRAL_V3);
            artr__chat_lit(o, eos);
        } else if (v7 && artr__role_is(msg, "system")) {
            artr__chat_lit(o, "[SYSTEM_PROMPT] ");
            artr__chat_content(o, msg, i, 0);
            artr__chat_lit(o, "[/SYSTEM_PROMPT]");
        } else {
            return ARTR__FAIL(err, ARTR_E_ARG, "chat template %s: message %d has role '%s' (user and assistant only, after an optional system message)",
                              artr__chat_names[tmpl], i, msg->role);
        }
    }
    return ARTR_OK;
}

/* Llama 2's [INST] formats. llama2 (Mistral-7B-Instruct's first template) puts a first
   system message, and "\n", in the first user turn, as llama.cpp does (the template
   refuses one). llama2-sys is Meta's Llama-2-chat template: the system message in <<SYS>>
   in the first user turn, which is then stripped as a whole (Python's strip), replies
   stripped between spaces, and the BOS text before each [INST] but the first. */
static artr_status artr__chat_llama2(artr__chat_out *o, int tmpl, const artr_chat_msg *msgs, int n,
                                     const char *bos, const char *eos, artr_error *err)
{
    int meta = tmpl == ARTR_CHAT_LLAMA2_SYS, i;
    int sys = n > 0 && artr__role_is(&msgs[0], "system");
    for (i = sys; i < n; i++) {
        const artr_chat_msg *msg = &msgs[i];
        if (artr__role_is(msg, "user")) {
            if (meta && i > sys) artr__chat_lit(o, bos);
            artr__chat_lit(o, "[INST] ");
            if (sys && i == 1 && meta) { /* "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content, stripped */
                artr__chat_out probe = {NULL, 0, 0, NULL};
                artr__chat_lit(o, "<<SYS>>\n");
                artr__chat_content(o, &msgs[0], 0, 0);
                artr__chat_lit(o, "\n<</SYS>>");
                if (artr__chat_content_from(&probe, msg, i, 2, 0)) {
                    artr__chat_lit(o, "\n\n");
                    artr__chat_content_from(o, msg, i, 2, 0);
                } else if (o->at) {
                    o->at[2 * i] = o->at[2 * i + 1] = 0;
                }
            } else {
                if (sys && i == 1) {
                    artr__chat_content(o, &msgs[0], 0, 0);
                    artr__chat_lit(o, "\n");
                }
                artr__chat_content(o, msg, i, meta);
            }
            artr__chat_lit(o, " [/INST]");
        } else if (artr__role_is(msg, "assistant")) {
            if (meta) artr__chat_lit(o, " ");
            artr__chat_content(o, msg, i, meta);
            if (meta) artr__chat_lit(o, " ");
            artr__chat_lit(o, eos);
        } else {
            return ARTR__FAIL(err, ARTR_E_ARG, "chat template %s: message %d has role '%s' (user and assistant only, after an optional system message)",
                              artr__chat_names[tmpl], i, msg->role);
        }
    }
    return ARTR_OK;
}

/* DeepSeek. deepseek2 (DeepSeek-V2-Chat): "User: ", "Assistant: " and the EOS text, a
   system message where it is. deepseek3 (DeepSeek-R1 and its distills): the last system
   message first, then the turns; a reply is its text after the last "</think>"; tool
   outputs are wrapped as the template wraps them (and the reply after them goes without
   <｜Assistant｜>, as there); add_assistant opens "<｜Assistant｜><think>\n" unless tool
   outputs are open. */
static void artr__chat_deepseek(artr__chat_out *o, int tmpl, const artr_chat_msg *msgs, int n,
                                int add_assistant, const char *eos)
{
    int i, last_sys = -1, in_tool = 0, tool_first = 1;
    if (tmpl == ARTR_CHAT_DEEPSEEK2) {
        for (i = 0; i < n; i++) {
            int user = artr__role_is(&msgs[i], "user"), asst = artr__role_is(&msgs[i], "assistant");
            if (!user && !asst && !artr__role_is(&msgs[i], "system")) continue;
            artr__chat_lit(o, user ? "User: " : asst ? "Assistant: " : "");
            artr__chat_content(o, &msgs[i], i, 0);
            artr__chat_lit(o, asst ? eos : "\n\n");
        }
        if (add_assistant) artr__chat_lit(o, "Assistant:");
        return;
    }
    for (i = 0; i < n; i++)
        if (artr__role_is(&msgs[i], "system")) last_sys = i;
    if (last_sys >= 0) artr__chat_content(o, &msgs[last_sys], last_sys, 0);
    for (i = 0; i < n; i++) {
        const artr_chat_msg *msg = &msgs[i];
        if (artr__role_is(msg, "user")) {
            in_tool = 0;
            artr__chat_lit(o, ARTR__DS_USER);
            artr__chat_content(o, msg, i, 0);
        } else if (artr__role_is(msg, "assistant")) {
            size_t from = 0, k, len = strlen(msg->content);
            if (in_tool) {
                artr__chat_lit(o, "<\xef\xbd\x9ctool\xe2\x96\x81outputs\xe2\x96\x81" "end\xef\xbd\x9c>");
                in_tool = 0;
            } else {
                for (k = 0; k + 8 <= len; k++)
                    if (!memcmp(msg->content + k, "</think>", 8)) from = k + 8;
                artr__chat_lit(o, ARTR__DS_ASSISTANT);
            }
            artr__chat_content_from(o, msg, i, 0, from);
            artr__chat_lit(o, ARTR__DS_EOS);
        } else if (artr__role_is(msg, "tool")) {
            in_tool = 1;
            artr__chat_lit(o, tool_first ? "<\xef\xbd\x9ctool\xe2\x96\x81outputs\xe2\x96\x81" "begin\xef\xbd\x9c>"
                                         : "\n");
            artr__chat_lit(o, "<\xef\xbd\x9ctool\xe2\x96\x81output\xe2\x96\x81" "begin\xef\xbd\x9c>");
            tool_first = 0;
            artr__chat_content(o, msg, i, 0);
            artr__chat_lit(o, "<\xef\xbd\x9ctool\xe2\x96\x81output\xe2\x96\x81" "end\xef\xbd\x9c>");
        }
    }
    if (in_tool) artr__chat_lit(o, "<\xef\xbd\x9ctool\xe2\x96\x81outputs\xe2\x96\x81" "end\xef\xbd\x9c>");
    else if (add_assistant) artr__chat_lit(o, ARTR__DS_ASSISTANT "<think>\n");
}

ARTRDEF artr_status artr_chat_format(const artr_model *m, int tmpl, const artr_chat_msg *msgs, int n_msgs,
                                     int add_assistant, char *out, size_t cap, size_t *len,
                                     size_t *content_at, artr_error *err)
{
    artr__chat_out o;
    const char *eos = tmpl == ARTR_CHAT_PHI3 ? "<|endoftext|>" : tmpl == ARTR_CHAT_DEEPSEEK2 ? ARTR__DS_EOS : "</s>";
    const char *bos = "<s>";
    char eos_buf[64], bos_buf[64];
    artr_status st = ARTR_OK;
    int i;
    if (!len || n_msgs < 0 || (!msgs && n_msgs) || (!out && cap))
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_chat_format: NULL len, msgs or out, or n_msgs < 0");
    *len = 0;
    if (tmpl <= ARTR_CHAT_NONE || tmpl > ARTR_CHAT_DEEPSEEK3)
        return ARTR__FAIL(err, ARTR_E_ARG, "artr_chat_format: unknown chat format %d", tmpl);
    for (i = 0; i < n_msgs; i++)
        if (!msgs[i].role || !msgs[i].content)
            return ARTR__FAIL(err, ARTR_E_ARG, "artr_chat_format: message %d has a NULL role or content", i);
    if (m && m->vocab.tokens && m->vocab.tok->info.eos >= 0) { /* the model's own EOS text */
        const artr__token *t = &m->vocab.tokens[m->vocab.tok->info.eos];
        if (t->len < sizeof eos_buf && !memchr(t->text, 0, t->len)) {
            memcpy(eos_buf, t->text, t->len);
            eos_buf[t->len] = 0;
            eos = eos_buf;
        }
    }
    if (m && m->vocab.tokens && m->vocab.tok->info.bos >= 0) { /* and its BOS text */
        const artr__token *t = &m->vocab.tokens[m->vocab.tok->info.bos];
        if (t->len < sizeof bos_buf && !memchr(t->text, 0, t->len)) {
            memcpy(bos_buf, t->text, t->len);
            bos_buf[t->len] = 0;
            bos = bos_buf;
        }
    }
    o.dst = out;
    o.cap = cap;
    o.n = 0;
    o.at = content_at;
    if (content_at) memset(content_at, 0, 2 * (size_t)n_msgs * sizeof *content_at);
    if (tmpl == ARTR_CHAT_GEMMA) {
        artr__chat_gemma(&o, msgs, n_msgs, add_assistant);
    } else if (tmpl >= ARTR_CHAT_DEEPSEEK2) {
        artr__chat_deepseek(&o, tmpl, msgs, n_msgs, add_assistant, eos);
    } else if (tmpl >= ARTR_CHAT_LLAMA2) {
        st = artr__chat_llama2(&o, tmpl, msgs, n_msgs, bos, eos, err);
    } else if (tmpl >= ARTR_CHAT_MISTRAL_V1) {
        st = artr__chat_mistral(&o, tmpl, msgs, n_msgs, eos, err);
    } else {
        for (i = 0; i < n_msgs; i++) artr__chat_turn(&o, tmpl, &msgs[i], i, eos);
        artr__chat_tail(&o, tmpl, n_msgs, add_assistant, eos);
    }
    if (st != ARTR_OK) return st;
    *len = o.n;
    if (o.n >= cap)
        return ARTR__FAIL(err, ARTR_E_SPACE, "artr_chat_format: the prompt has %zu bytes, out has room for %zu", o.n, cap ? cap - 1 : 0);
    out[o.n] = 0;
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
