"""artr-quantize against llama.cpp's llama-quantize, on the same F32 GGUF.

  python tools/compare_quant.py make-model OUT.gguf [--embd 576 --ff 1536 --layers 10
                                 --heads 9 --kv-heads 3 --vocab 1024 --tied]
      a Llama-shaped F32 model with weight-like noise: Student-t (5 degrees of freedom)
      rows with log-normal row scales, a few outlier columns; no vocabulary ("no_vocab",
      as tools/gen_bench_models.py), so llama-quantize reads it.
  python tools/compare_quant.py rms IN.gguf --llama-quantize PATH [--artr-quantize
                                 build/artr-quantize] [--types Q4_K Q6_K ...] [--rules]
      both quantizers (F32 or F16 input) with --pure to each type (with --rules: each mix's per-tensor rules,
      for row lengths that are not multiples of 256); every tensor of both outputs dequantized
      with gguf-py (gguf.quants.dequantize) and compared with the F32 original: the RMS
      error over all quantized weights, artr's over llama.cpp's, and how many tensors came
      out byte-identical.
  python tools/compare_quant.py types IN.gguf MIX --llama-quantize PATH [--artr-quantize
                                 PATH] [--write FIXTURE.txt]
      both quantizers with the mix's per-tensor rules; lists every tensor whose type
      differs. --write saves llama-quantize's choices as the text fixture that
      tests/test_tools.c checks artr-quantize's planner against (tests/fixtures/mix_*.txt).
  python tools/compare_quant.py fixture --ggml-lib .../libggml-base.so
      the RMS error of llama.cpp's quantizer (ggml_quantize_chunk, what llama-quantize
      calls, no importance matrix) on tests/fixtures/dequant_k.gguf's "x": the numbers in
      tests/test_tools.c's test_quantize_k_error.

llama.cpp is never built from here: pass its binaries by path. Needs numpy and gguf.
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT

K_TYPES = ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"]


def make_model(args):
    rng = np.random.default_rng(args.seed)
    e, f, h, kv, v = args.embd, args.ff, args.heads, args.kv_heads, args.vocab
    hd = e // h

    def mat(rows, cols):
        w = rng.standard_t(5, size=(rows, cols)) * 0.02
        w *= np.exp(rng.normal(0.0, 0.3, size=(rows, 1)))
        outl = rng.choice(cols, size=max(1, cols // 128), replace=False)
        w[:, outl] *= 4.0
        return w.astype(np.float32)

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_block_count(args.layers)
    w.add_context_length(256)
    w.add_embedding_length(e)
    w.add_feed_forward_length(f)
    w.add_head_count(h)
    w.add_head_count_kv(kv)
    w.add_rope_dimension_count(hd)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(v)
    w.add_file_type(0)
    w.add_tokenizer_model("no_vocab")
    w.add_tensor("token_embd.weight", mat(v, e))
    w.add_tensor("output_norm.weight", np.ones(e, np.float32))
    if not args.tied:
        w.add_tensor("output.weight", mat(v, e))
    for i in range(args.layers):
        p = "blk.%d." % i
        w.add_tensor(p + "attn_norm.weight", np.ones(e, np.float32))
        w.add_tensor(p + "attn_q.weight", mat(h * hd, e))
        w.add_tensor(p + "attn_k.weight", mat(kv * hd, e))
        w.add_tensor(p + "attn_v.weight", mat(kv * hd, e))
        w.add_tensor(p + "attn_output.weight", mat(e, h * hd))
        w.add_tensor(p + "ffn_norm.weight", np.ones(e, np.float32))
        w.add_tensor(p + "ffn_gate.weight", mat(f, e))
        w.add_tensor(p + "ffn_up.weight", mat(f, e))
        w.add_tensor(p + "ffn_down.weight", mat(e, f))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote", args.out)


def tensors(path):
    """name -> (type name, float32 values or raw bytes, shape)"""
    r = gguf.GGUFReader(path)
    return {t.name: t for t in r.tensors}


def dequant(t):
    if t.tensor_type in (QT.F32, QT.F16):
        return np.asarray(t.data, dtype=np.float32).reshape(-1)
    return gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32).reshape(-1)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stdout[-2000:]))


def quantize_both(args, src, mix, pure, tmp):
    lq = os.path.join(tmp, "llama-%s.gguf" % mix)
    aq = os.path.join(tmp, "artr-%s.gguf" % mix)
    run([args.llama_quantize] + (["--pure"] if pure else []) + [src, lq, mix, "1"])
    run([args.artr_quantize, "-q"] + (["--pure"] if pure else []) + [src, aq, mix])
    return lq, aq


def rms(args):
    src = tensors(args.model)
    ref = {n: dequant(t) for n, t in src.items() if t.tensor_type in (QT.F32, QT.F16)}
    print("RMS error against the F32 original, over every quantized weight tensor (%s)" % args.model)
    print("%-7s %12s %12s %8s %s" % ("type", "llama.cpp", "artr", "ratio", "identical tensors"))
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for ty in args.types:
            lq, aq = quantize_both(args, args.model, ty, not args.rules, tmp)
            lt, at = tensors(lq), tensors(aq)
            el = ea = 0.0
            n = same = total = 0
            for name, x in ref.items():
                if lt[name].tensor_type in (QT.F32, QT.F16) and at[name].tensor_type in (QT.F32, QT.F16):
                    continue
                if lt[name].tensor_type != at[name].tensor_type:
                    sys.exit("%s: %s is %s from llama-quantize, %s from artr" % (ty, name, lt[name].tensor_type.name,
                                                                            at[name].tensor_type.name))
                total += 1
                same += lt[name].tensor_type == at[name].tensor_type and \
                    np.array_equal(np.asarray(lt[name].data), np.asarray(at[name].data))
                el += float(np.sum((dequant(lt[name]).astype(np.float64) - x) ** 2))
                ea += float(np.sum((dequant(at[name]).astype(np.float64) - x) ** 2))
                n += x.size
            rl, ra = (el / n) ** 0.5, (ea / n) ** 0.5
            worst = max(worst, ra / rl)
            print("%-7s %12.7f %12.7f %8.4f %d of %d" % (ty, rl, ra, ra / rl, same, total))
            os.remove(lq)
            os.remove(aq)
    print("worst ratio %.4f (%s)" % (worst, "within 3%" if worst <= 1.03 else "MORE THAN 3% WORSE"))
    return 0 if worst <= 1.03 else 1


def types(args):
    with tempfile.TemporaryDirectory() as tmp:
        lq, aq = quantize_both(args, args.model, args.mix, False, tmp)
        lt, at = tensors(lq), tensors(aq)
    r = gguf.GGUFReader(args.model)
    arch = r.fields["general.architecture"].contents()

    def field(key, default=None):
        f = r.fields.get(arch + "." + key)
        if f is None:
            return default
        v = f.contents()
        return v[0] if isinstance(v, list) else v

    bad = 0
    for name, t in lt.items():
        a = at.get(name)
        if a is None or a.tensor_type != t.tensor_type:
            print("  %-32s llama.cpp %-6s artr %s" % (name, t.tensor_type.name, a.tensor_type.name if a else "-"))
            bad += 1
    print("%s of %s: %d of %d tensor types differ from llama-quantize's" % (args.mix, args.model, bad, len(lt)))
    if args.write:
        n_head = field("attention.head_count")
        with open(args.write, "w") as out:
            out.write("# llama-quantize %s of %s (tools/compare_quant.py types --write)\n" % (args.mix, os.path.basename(args.model)))
            out.write("# mix MIX; model ARCH N_LAYER N_HEAD N_HEAD_KV; then NAME NE0 NE1 NE2 NE3 INPUT_TYPE LLAMA_TYPE\n")
            out.write("mix %s\n" % args.mix)
            out.write("model %s %d %d %d\n" % (arch, field("block_count"), n_head, field("attention.head_count_kv", n_head)))
            for t in r.tensors:
                ne = [int(d) for d in t.shape] + [1] * (4 - len(t.shape))
                out.write("%s %d %d %d %d %s %s\n" % (t.name, ne[0], ne[1], ne[2], ne[3], t.tensor_type.name,
                                                      lt[t.name].tensor_type.name))
        print("wrote", args.write)
    return 1 if bad else 0


def fixture(args):
    lib = ctypes.CDLL(args.ggml_lib)
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    here = os.path.dirname(os.path.abspath(__file__))
    r = gguf.GGUFReader(os.path.join(here, "..", "tests", "fixtures", "dequant_k.gguf"))
    x = np.ascontiguousarray([t for t in r.tensors if t.name == "x"][0].data, dtype=np.float32).reshape(4, 512)
    for name in K_TYPES:
        qt = QT[name]
        bs, ts = gguf.GGML_QUANT_SIZES[qt]
        dst = np.zeros(x.size // bs * ts, np.uint8)
        lib.ggml_quantize_chunk(int(qt), x.ctypes.data, dst.ctypes.data, 0, 4, 512, None)
        y = gguf.quants.dequantize(dst.reshape(4, -1), qt)
        print("%-7s %.6f" % (name, float(np.sqrt(np.mean((y.astype(np.float64) - x) ** 2)))))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-model")
    m.add_argument("out")
    m.add_argument("--embd", type=int, default=576)
    m.add_argument("--ff", type=int, default=1536)
    m.add_argument("--layers", type=int, default=10)
    m.add_argument("--heads", type=int, default=9)
    m.add_argument("--kv-heads", type=int, default=3)
    m.add_argument("--vocab", type=int, default=1024)
    m.add_argument("--tied", action="store_true")
    m.add_argument("--seed", type=int, default=1)
    for name in ("rms", "types"):
        s = sub.add_parser(name)
        s.add_argument("model")
        if name == "types":
            s.add_argument("mix")
            s.add_argument("--write")
        else:
            s.add_argument("--types", nargs="+", default=K_TYPES)
            s.add_argument("--rules", action="store_true", help="the mixes' per-tensor rules, not --pure")
        s.add_argument("--llama-quantize", required=True)
        s.add_argument("--artr-quantize", default=os.path.join("build", "artr-quantize"))
    f = sub.add_parser("fixture")
    f.add_argument("--ggml-lib", required=True)
    args = ap.parse_args()
    return {"make-model": make_model, "rms": rms, "types": types, "fixture": fixture}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
