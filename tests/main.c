/* artr's test suite: one translation unit that includes the implementation, so private
   helpers and reference kernels are testable. The last line is
   "N passed, N failed, N skipped". A test fails if a check failed, or if it made no check
   and did not say it skipped. A skip (th_skip) is printed "skip: name: reason"; it is
   expected only when a ../shared file is absent (th_skip_shared) or the build lacks what is
   compared (th_skip_build, e.g. no SIMD kernel), and any other skip fails the run (exit 1)
   unless ARTR_TEST_ALLOW_SKIP names the test ("name,name" or "all");
   ARTR_TEST_REQUIRE_SHARED=1 makes the ../shared skips unexpected too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Counting allocator: tests assert where artr allocates and that it frees everything. */
static long th_allocs, th_frees;
static void *th_malloc(size_t n)
{
    th_allocs++;
    return malloc(n);
}
static void th_free(void *p)
{
    if (p) th_frees++;
    free(p);
}
#define ARTR_MALLOC(n) th_malloc(n)
#define ARTR_FREE(p) th_free(p)
#define ARTR_IMPLEMENTATION
#include "../artr.h"
#include "harness.h"

#include "fuzz_load.c"
#include "test_kernels.c"
#include "test_gguf.c"
#include "test_llama2c.c"
#include "test_memory.c"
#include "test_hostile.c"
#include "test_forward.c"
#include "test_sampling.c"
#include "test_decoding.c"
#include "test_tools.c"
#include "test_tokenizer.c"

typedef struct th_test {
    const char *name;
    th_fn fn;
} th_test;

static const th_test tests[] = {
#define T(fn) {#fn, fn}
    T(test_status_names),
    T(test_error_format),
    T(test_f16_all_halves),
    T(test_f32_to_f16_rounding),
    T(test_bf16),
    T(test_dequant_vs_gguf_py),
    T(test_dequant_k_vs_gguf_py),
    T(test_kernel_table),
    T(test_tensor_to_f32_args),
    T(test_gguf_llama),
    T(test_gguf_llama_tied_f16),
    T(test_gguf_qwen2),
    T(test_gguf_gpt2),
    T(test_gguf_quant),
    T(test_gguf_meta_all_types),
    T(test_gguf_meta_v2),
    T(test_gguf_unsupported),
    T(test_gguf_misaligned),
    T(test_gguf_file_vs_memory),
    T(test_gguf_bad_shapes),
    T(test_gguf_new_archs),
    T(test_llama2c_matches_gguf),
    T(test_llama2c_classifier),
    T(test_llama2c_tokenizer),
    T(test_llama2c_bad_files),
    T(test_shared_tokenizer_bin),
    T(test_model_placement),
    T(test_model_no_leaks),
    T(test_load_file_errors),
    T(test_load_file_mapped),
    T(test_prefixes),
    T(test_prefixes_archs),
    T(test_byte_flips),
    T(test_crafted_overflows),
    T(test_crafted_duplicates),
    T(test_gguf_spec_rules),
    T(test_rope_dims_contradict),
    T(test_fuzz_regressions),
    T(test_forward_vs_transformers),
    T(test_forward_weight_types),
    T(test_forward_kquants),
    T(test_forward_batch_equals_steps),
    T(test_forward_truncate_copy_fail),
    T(test_forward_embeddings_hidden),
    T(test_forward_early_exit),
    T(test_forward_llama2c_vs_gguf),
    T(test_ctx_placement_and_errors),
    T(test_ctx_bounded_cache),
    T(test_ctx_kv_f16),
    T(test_ctx_sliding_window),
    T(test_forward_converted_models),
    T(test_forward_shipped_perplexity),
    T(test_sampling_vs_transformers),
    T(test_sampling_chi_square),
    T(test_sampling_edge_cases),
    T(test_sampling_contexts),
    T(test_decoding_greedy_exact),
    T(test_decoding_shipped_greedy),
    T(test_decoding_distribution),
    T(test_decoding_distribution_power),
    T(test_decoding_lookup_greedy),
    T(test_decoding_distribution_lookup),
    T(test_decoding_policy_greedy),
    T(test_decoding_tree_rows),
    T(test_decoding_lookahead_greedy),
    T(test_decoding_distribution_lookahead),
    T(test_decoding_policy_window),
    T(test_decoding_distribution_window_policy),
    T(test_decoding_steps_allocate_nothing),
    T(test_decoding_rejection_caches),
    T(test_decoding_guidance_bounded_errors),
    T(test_quantize_vs_gguf_py),
    T(test_quantize_q4_1_q5_vs_gguf_py),
    T(test_quantize_k_error),
    T(test_quantize_f16_bf16),
    T(test_quantize_args),
    T(test_quantize_tool),
    T(test_quantize_mix_vs_llama),
    T(test_quantize_shipped_types),
    T(test_quantize_tool_errors),
    T(test_bin2c_roundtrip),
    T(test_convert_llama2c_vs_hf),
    T(test_convert_fixtures),
    T(test_tok_spm_vs_sentencepiece),
    T(test_tok_gemma_vs_sentencepiece),
    T(test_tok_spm_262k),
    T(test_tok_bpe_vs_tokenizers),
    T(test_tok_llama2c),
    T(test_tok_roundtrip),
    T(test_tok_corpus),
    T(test_tok_detok_streaming),
    T(test_tok_specials),
    T(test_tok_small_models),
    T(test_tok_bad_input),
    T(test_tok_10mb),
    T(test_tok_no_alloc),
    T(test_tok_hostile_vocab),
    T(test_tok_crafted_specials),
    T(test_tok_llama2_vocab_as_gguf),
    T(test_tok_crafted_no_space_piece),
    T(test_dot_simd_vs_ref),
    T(test_dot_f16_all_halves),
    T(test_dot_quant_extremes),
    T(test_dotq_bound),
    T(test_dotq_extremes),
    T(test_dotq4_equals_rows),
    T(test_dotq32_extremes),
    T(test_dotq8_equals_rows),
    T(test_vec_math),
    T(test_kernels_choice),
#undef T
};

/* With arguments, only the tests whose names contain one of them run. */
static int th_selected(const char *name, int argc, char **argv)
{
    int a;
    if (argc < 2) return 1;
    for (a = 1; a < argc; a++)
        if (strstr(name, argv[a])) return 1;
    return 0;
}

/* Whether ARTR_TEST_ALLOW_SKIP ("all", or names separated by commas or spaces) names t. */
static int th_skip_allowed(const char *name)
{
    const char *a = getenv("ARTR_TEST_ALLOW_SKIP"), *p;
    size_t n = strlen(name);
    if (!a) return 0;
    for (p = a; *p;) {
        size_t k = strcspn(p, ", ");
        if ((k == 3 && !strncmp(p, "all", 3)) || (k == n && !strncmp(p, name, n))) return 1;
        p += k;
        p += strspn(p, ", ");
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t i;
    int passed = 0, failed = 0, skipped = 0, unexpected = 0;
    const char *req = getenv("ARTR_TEST_REQUIRE_SHARED");
    int require_shared = req && *req && strcmp(req, "0");
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int checks0 = th_checks;
        if (!th_selected(tests[i].name, argc, argv)) continue;
        th_test_failed = 0;
        th_skipped = 0;
        th_skip_other = 0;
        th_skip_shared_seen = 0;
        th_skip_reason[0] = 0;
        tests[i].fn();
        if (th_test_failed) {
            printf("%-36s FAILED\n", tests[i].name);
            failed++;
        } else if (th_skipped) {
            int expected = (!th_skip_other && !(th_skip_shared_seen && require_shared)) ||
                           th_skip_allowed(tests[i].name);
            printf("skip: %s: %s%s\n", tests[i].name, th_skip_reason,
                   expected ? "" : " (unexpected: ARTR_TEST_ALLOW_SKIP does not name it)");
            skipped++;
            if (!expected) unexpected++;
        } else if (th_checks == checks0) {
            printf("%-36s FAILED (no checks, and it did not say it skipped)\n", tests[i].name);
            failed++;
        } else {
            printf("%-36s ok\n", tests[i].name);
            passed++;
        }
    }
    printf("%d checks, %d failed checks\n", th_checks, th_failed_checks);
    if (unexpected) printf("%d unexpected skips: the run fails\n", unexpected);
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed || unexpected ? 1 : 0;
}
