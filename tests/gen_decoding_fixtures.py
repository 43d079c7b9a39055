"""Tiny models for the decoding tests: a vocabulary of 8, so the joint distribution of
the first 3 generated tokens has 512 cells and can be enumerated exactly.

  tiny8.gguf        llama, vocab 8, n_embd 16, 2 layers, 4 heads / 2 kv heads, n_ff 32
  tiny8_draft.gguf  the same shapes with 1 layer and other weights: a poor draft, so the
                    speculative tests take the rejection path often
  tiny8_draft_v12.gguf, tiny8_draft_v6.gguf
                    1-layer drafts with vocabularies of 12 and 6 (as a real family's sizes
                    differ: Qwen2.5 0.5B has 151936 rows, 7B 152064): the first proposes
                    ids the target does not have, the second never proposes 6 or 7

Random weights written with gguf-py (no reference values: the tests compare artr's
decoding strategies with artr's own plain sampling, which test_forward.c ties to
transformers). Run from the repository root: python tests/gen_decoding_fixtures.py
Needs: pip install gguf numpy
"""
import numpy as np
from gguf import GGUFWriter

N_VOCAB, N_EMBD, N_HEAD, N_HEAD_KV, N_FF, N_CTX = 8, 16, 4, 2, 32, 64


def write(path, n_layer, seed, scale, n_vocab=N_VOCAB):
    rng = np.random.default_rng(seed)
    hd = N_EMBD // N_HEAD

    def mat(o, i):
        return (scale * rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    w = GGUFWriter(path, "llama")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(hd)
    w.add_tensor("token_embd.weight", (rng.standard_normal((n_vocab, N_EMBD))).astype(np.float32))
    w.add_tensor("output_norm.weight", norm(N_EMBD))
    w.add_tensor("output.weight", mat(n_vocab, N_EMBD))
    for i in range(n_layer):
        w.add_tensor(f"blk.{i}.attn_norm.weight", norm(N_EMBD))
        w.add_tensor(f"blk.{i}.attn_q.weight", mat(N_EMBD, N_EMBD))
        w.add_tensor(f"blk.{i}.attn_k.weight", mat(N_HEAD_KV * hd, N_EMBD))
        w.add_tensor(f"blk.{i}.attn_v.weight", mat(N_HEAD_KV * hd, N_EMBD))
        w.add_tensor(f"blk.{i}.attn_output.weight", mat(N_EMBD, N_EMBD))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", norm(N_EMBD))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", mat(N_FF, N_EMBD))
        w.add_tensor(f"blk.{i}.ffn_up.weight", mat(N_FF, N_EMBD))
        w.add_tensor(f"blk.{i}.ffn_down.weight", mat(N_EMBD, N_FF))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote", path)


write("tests/fixtures/tiny8.gguf", 2, 8, 1.5)
write("tests/fixtures/tiny8_draft.gguf", 1, 9, 1.5)
write("tests/fixtures/tiny8_draft_v12.gguf", 1, 10, 1.5, 12)
write("tests/fixtures/tiny8_draft_v6.gguf", 1, 11, 1.5, 6)
