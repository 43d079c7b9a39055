#!/usr/bin/env python3
"""gen_sizing_model.py - a random-weight Llama GGUF with the shipped draft model's shapes,
for sizing the firmware's flash and arena before the trained model exists.

The shapes are tools/train_text.py's "draft" (dim 128, 4 heads, 2 kv heads, n_ff 352,
vocabulary 1024, context 256); --layers sets the depth: 2 is the draft (0.63M parameters),
6 is a 1.37M-parameter model (1.46 MB in Q8_0), the size the flash budget must hold. The
tokenizer is tests/fixtures/conv/llama_hf.gguf's 256 SentencePiece pieces plus 768 filler
pieces ("<x0>", ...), so prompts tokenize as with the fixture. F16 weights (0.1 * randn,
seed 0); quantize with build/artr-quantize like any shipped model.

    ~/venv/bin/python examples/firmware/gen_sizing_model.py --layers 2 build/fw/draft_shape.gguf
    make test-firmware FW_MODEL=build/fw/draft_shape.gguf

Needs numpy and gguf (gguf-py)."""

import argparse
import os

import numpy as np
import gguf

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIM, N_HEAD, N_HEAD_KV, N_FF, VOCAB, CTX = 128, 4, 2, 352, 1024, 256


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=2)
    a = ap.parse_args()

    src = gguf.GGUFReader(os.path.join(REPO, "tests/fixtures/conv/llama_hf.gguf"))
    f = src.fields["tokenizer.ggml.tokens"]
    tokens = [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    scores = [float(src.fields["tokenizer.ggml.scores"].parts[i][0]) for i in src.fields["tokenizer.ggml.scores"].data]
    types = [int(src.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in src.fields["tokenizer.ggml.token_type"].data]
    for i in range(VOCAB - len(tokens)):
        tokens.append(f"<x{i}>")
        scores.append(-1000.0 - i)
        types.append(1)

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name(f"artr firmware sizing model ({a.layers} layers, random weights)")
    w.add_block_count(a.layers)
    w.add_context_length(CTX)
    w.add_embedding_length(DIM)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(VOCAB)
    w.add_rope_dimension_count(DIM // N_HEAD)
    w.add_file_type(1)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    rng = np.random.default_rng(0)
    kv = DIM // N_HEAD * N_HEAD_KV

    def mat(rows, cols):  # GGUF ne = [cols, rows]; numpy shape (rows, cols)
        return (0.1 * rng.standard_normal((rows, cols))).astype(np.float16)

    def norm():
        return (1 + 0.1 * rng.standard_normal(DIM)).astype(np.float32)

    w.add_tensor("token_embd.weight", mat(VOCAB, DIM))
    w.add_tensor("output_norm.weight", norm())
    w.add_tensor("output.weight", mat(VOCAB, DIM))
    for l in range(a.layers):
        p = f"blk.{l}."
        w.add_tensor(p + "attn_norm.weight", norm())
        w.add_tensor(p + "attn_q.weight", mat(DIM, DIM))
        w.add_tensor(p + "attn_k.weight", mat(kv, DIM))
        w.add_tensor(p + "attn_v.weight", mat(kv, DIM))
        w.add_tensor(p + "attn_output.weight", mat(DIM, DIM))
        w.add_tensor(p + "ffn_norm.weight", norm())
        w.add_tensor(p + "ffn_gate.weight", mat(N_FF, DIM))
        w.add_tensor(p + "ffn_up.weight", mat(N_FF, DIM))
        w.add_tensor(p + "ffn_down.weight", mat(DIM, N_FF))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    n = 2 * VOCAB * DIM + DIM + a.layers * (2 * DIM * DIM + 2 * kv * DIM + 3 * DIM * N_FF + 2 * DIM)
    print(f"wrote {a.out}: {n} parameters")


if __name__ == "__main__":
    main()
