"""A memory-bound stand-in for a larger trained model: the shipped text model widened
with channels and units that carry nothing.

  python tools/widen_model.py [SRC] [DST] [N_EMBD] [N_FF]
  (defaults: models/shakespeare.gguf build/bench-models/shakespeare-wide.gguf 2048 4096)

The residual stream gets N_EMBD - n_embd extra channels that stay exactly zero: the token
embedding's and every output projection's (attn_output, ffn_down) new entries are zero,
while the new input columns of attn_q/k/v, ffn_gate/up and output are seeded noise at the
trained weights' scale (they only ever multiply zeros). Each feed-forward layer gets
N_FF - n_ff extra units whose ffn_down columns are zero. RMSNorm keeps its value: the
norms' weights are scaled by sqrt(n_embd / N_EMBD) and the epsilon by n_embd / N_EMBD
(up to float rounding). Heads keep their size (attention.key_length). So the widened model
computes the shipped model's function with matrices of the shapes of a ~160M-parameter
model: about 330 MB as F16, well beyond the L3 cache, so decoding is memory-bound and a
multi-token call compute-bound, as with the few-hundred-MB models people run. Quantized
(artr-quantize), the zero blocks stay exactly zero. What it cannot stand in for: a larger
model's own acceptance rates (its drafts agree as the shipped model's do).

Used by the decoding benchmarks in README ("Decoding strategies"); written to
build/bench-models/ (never committed). Needs: pip install gguf numpy
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGUFWriter, GGUFValueType as VT


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "models/shakespeare.gguf"
    dst = sys.argv[2] if len(sys.argv) > 2 else "build/bench-models/shakespeare-wide.gguf"
    e_new = int(sys.argv[3]) if len(sys.argv) > 3 else 2048
    f_new = int(sys.argv[4]) if len(sys.argv) > 4 else 4096
    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    if arch != "llama":
        sys.exit(f"{src}: architecture {arch}; this widens llama models")
    key = lambda k: f"{arch}.{k}"
    n_embd = int(r.fields[key("embedding_length")].contents())
    n_ff = int(r.fields[key("feed_forward_length")].contents())
    n_head = int(r.fields[key("attention.head_count")].contents())
    eps = float(r.fields[key("attention.layer_norm_rms_epsilon")].contents())
    if e_new < n_embd or f_new < n_ff or e_new % 32 or f_new % 32:
        sys.exit(f"N_EMBD {e_new} and N_FF {f_new}: multiples of 32, at least {n_embd} and {n_ff}")
    rng = np.random.default_rng(7)
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    w = GGUFWriter(dst, arch)
    replaced = {key("embedding_length"): e_new, key("feed_forward_length"): f_new}
    for name, field in r.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        if name in replaced:
            w.add_uint32(name, replaced[name])
        elif name == key("attention.layer_norm_rms_epsilon"):
            w.add_float32(name, eps * n_embd / e_new)
        elif name == "general.name":
            w.add_string(name, field.contents() + f" (widened to embedding {e_new}, FFN {f_new}: zero-output channels)")
        elif field.types[0] == VT.ARRAY:
            w.add_array(name, field.contents())
        else:
            w.add_key_value(name, field.contents(), field.types[0])
    if key("attention.key_length") not in r.fields:
        w.add_uint32(key("attention.key_length"), n_embd // n_head)
        w.add_uint32(key("attention.value_length"), n_embd // n_head)

    def grow(a, rows, cols, fill_rows, fill_cols):
        """a (rows0, cols0) to (rows, cols): new columns of existing rows, then new rows."""
        scale = float(a.std()) or 1.0
        r0, c0 = a.shape
        if cols > c0:
            new = np.zeros((r0, cols - c0), np.float32) if fill_cols == "zero" else \
                rng.standard_normal((r0, cols - c0)).astype(np.float32) * scale
            a = np.concatenate([a, new], axis=1)
        if rows > r0:
            new = np.zeros((rows - r0, cols), np.float32) if fill_rows == "zero" else \
                rng.standard_normal((rows - r0, cols)).astype(np.float32) * scale
            a = np.concatenate([a, new], axis=0)
        return a

    for t in r.tensors:
        if t.tensor_type not in (gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.F32):
            sys.exit(f"{t.name}: {t.tensor_type.name}; widen an F16 or F32 file")
        shape = [int(x) for x in reversed(t.shape)]  # numpy order: rows, cols
        data = np.asarray(t.data)
        a = data.reshape(shape).astype(np.float32)
        n = t.name.split(".")[-2] if t.name.count(".") >= 2 else t.name.split(".")[0]
        if a.ndim == 1:  # norms: scaled, zero on the new channels
            a = np.concatenate([a * np.sqrt(n_embd / e_new), np.zeros(e_new - n_embd, np.float32)])
        elif n == "token_embd":
            a = grow(a, a.shape[0], e_new, None, "zero")
        elif n in ("attn_q", "attn_k", "attn_v", "output"):
            a = grow(a, a.shape[0], e_new, None, "noise")
        elif n == "attn_output":
            a = grow(a, e_new, a.shape[1], "zero", None)
        elif n in ("ffn_gate", "ffn_up"):
            a = grow(a, f_new, e_new, "noise", "noise")
        elif n == "ffn_down":
            a = grow(a, e_new, f_new, "zero", "zero")
        else:
            sys.exit(f"{t.name}: a tensor this script does not know how to widen")
        w.add_tensor(t.name, a.astype(data.dtype), raw_dtype=t.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(dst, f"{os.path.getsize(dst) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
