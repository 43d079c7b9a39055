"""Random-weight Llama models for artr-bench, at the shapes of Karpathy's TinyStories
models, in every weight type artr multiplies with. Speed only: the weights are noise.

  stories15M-{f32,f16,q8_0,q4_0}.gguf   dim 288, 6 layers, 6 heads, ffn 768, vocab 32000
  stories110M-{f32,f16,q8_0,q4_0}.gguf  dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000
  stories{15M,110M}.bin                 the same F32 weights in llama2.c's checkpoint layout
                                        (for tools/compare.sh and llama2.c's run)

The GGUFs carry no vocabulary (tokenizer.ggml.model "no_vocab" and llama.vocab_size, the
convention llama.cpp reads), so llama.cpp's llama-bench loads them too.

Every matrix (token embedding and output included) is stored in the file's type; norms
stay F32. Quantized with gguf-py (gguf.quants). Written to build/bench-models/ (never
committed; about 1.3 GB in all). Run from the repository root:
    python tools/gen_bench_models.py [15M|110M ...]
Needs: pip install gguf numpy
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGUFWriter, GGMLQuantizationType as QT

SHAPES = {  # name: (dim, layers, heads, ffn, vocab)
    "15M": (288, 6, 6, 768, 32000),
    "110M": (768, 12, 12, 2048, 32000),
}
TYPES = {"f32": QT.F32, "f16": QT.F16, "q8_0": QT.Q8_0, "q4_0": QT.Q4_0}
N_CTX = 1024
OUT = os.path.join("build", "bench-models")


def tensors(dim, n_layer, n_ff, n_vocab, seed=0):
    """(name, float32 array) for one model; the same weights for every type."""
    rng = np.random.default_rng(seed)

    def mat(o, i):
        return (rng.standard_normal((o, i), dtype=np.float32) / np.float32(np.sqrt(i)))

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n, dtype=np.float32)).astype(np.float32)

    yield "token_embd.weight", rng.standard_normal((n_vocab, dim), dtype=np.float32)
    yield "output_norm.weight", norm(dim)
    yield "output.weight", mat(n_vocab, dim)
    for i in range(n_layer):
        yield f"blk.{i}.attn_norm.weight", norm(dim)
        yield f"blk.{i}.attn_q.weight", mat(dim, dim)
        yield f"blk.{i}.attn_k.weight", mat(dim, dim)
        yield f"blk.{i}.attn_v.weight", mat(dim, dim)
        yield f"blk.{i}.attn_output.weight", mat(dim, dim)
        yield f"blk.{i}.ffn_norm.weight", norm(dim)
        yield f"blk.{i}.ffn_gate.weight", mat(n_ff, dim)
        yield f"blk.{i}.ffn_up.weight", mat(n_ff, dim)
        yield f"blk.{i}.ffn_down.weight", mat(dim, n_ff)


def write(name, tname):
    dim, n_layer, n_head, n_ff, n_vocab = SHAPES[name]
    qt = TYPES[tname]
    path = os.path.join(OUT, f"stories{name}-{tname}.gguf")
    w = GGUFWriter(path, "llama")
    w.add_context_length(N_CTX)
    w.add_embedding_length(dim)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(dim // n_head)
    w.add_tokenizer_model("no_vocab")
    w.add_vocab_size(n_vocab)
    for tn, a in tensors(dim, n_layer, n_ff, n_vocab):
        if a.ndim == 1 or qt == QT.F32:
            w.add_tensor(tn, a)
        elif qt == QT.F16:
            w.add_tensor(tn, a.astype(np.float16))
        else:
            w.add_tensor(tn, gguf.quants.quantize(a, qt), raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(path, f"{os.path.getsize(path) / 1e6:.1f} MB")


def write_llama2c(name):
    """llama2.c's version-0 checkpoint: 7 int32 (dim, hidden, layers, heads, kv heads,
    vocab (negative: separate classifier), seq_len), then the F32 tensors grouped by kind
    across layers, the RoPE tables it skips, and the classifier."""
    dim, n_layer, n_head, n_ff, n_vocab = SHAPES[name]
    t = dict(tensors(dim, n_layer, n_ff, n_vocab))
    path = os.path.join(OUT, f"stories{name}.bin")
    hd = dim // n_head
    with open(path, "wb") as f:
        f.write(np.array([dim, n_ff, n_layer, n_head, n_head, -n_vocab, N_CTX], dtype=np.int32).tobytes())
        f.write(t["token_embd.weight"].tobytes())
        for kind in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm",
                     "ffn_gate", "ffn_down", "ffn_up"):
            for i in range(n_layer):
                f.write(t[f"blk.{i}.{kind}.weight"].tobytes())
        f.write(t["output_norm.weight"].tobytes())
        f.write(np.zeros(N_CTX * hd, dtype=np.float32).tobytes())  # freq_cis_real, _imag
        f.write(t["output.weight"].tobytes())
    print(path, f"{os.path.getsize(path) / 1e6:.1f} MB")


def main():
    names = sys.argv[1:] or list(SHAPES)
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        if name not in SHAPES:
            sys.exit(f"gen_bench_models.py: unknown shape {name!r} (15M or 110M)")
        for tname in TYPES:
            write(name, tname)
        write_llama2c(name)


if __name__ == "__main__":
    main()
