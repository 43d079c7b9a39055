#!/usr/bin/env python3
"""Generate the binary test fixtures in tests/fixtures/ for artr.

Requirements:  pip install gguf numpy      (written against gguf-py 0.19)
Run from the repository root:

    python tests/gen_fixtures.py

Every GGUF file is written by gguf-py's GGUFWriter; every quantized block is
produced by gguf.quants.quantize and every reference by gguf.quants.dequantize,
so the fixtures encode the ecosystem's (llama.cpp's) conventions rather than
our own reading of them.  The only hand-made bytes are meta_v2.gguf (a copy of
meta.gguf with the version field patched) and the llama2.c files, which follow
karpathy/llama2.c's export.py `legacy_export` and tokenizer.py `export`.
All random data comes from numpy.random.default_rng with fixed seeds, so
reruns produce byte-identical files.

Shape convention (llama.cpp's): a numpy array of shape (n_out, n_in) given to
GGUFWriter.add_tensor is stored with GGUF ne = [n_in, n_out] (ne[0] is the
fastest-varying, contiguous dimension).

Weights are 0.1*randn float32; norm weights 1 + 0.1*randn; biases 0.1*randn.

Files
-----
llama.gguf           arch llama, n_embd 16, n_head 4, n_head_kv 2 (head_dim 4),
                     n_ff 40, n_layer 2, ctx 64, rope base 1e4, rms eps 1e-5,
                     vocab 32; all F32; untied output.weight; llama (SPM)
                     tokenizer: 32 tokens, scores, token types, bos 1/eos 2/unk 0.
llama_tied.gguf      same shapes, no output.weight (tied to token_embd), 2-D
                     weights F16, norms F32, no tokenizer keys.
qwen2.gguf           arch qwen2, llama shapes + attn_q/k/v.bias (F32), tied,
                     2-D weights BF16, rope base 1e6, rms eps 1e-6, no tokenizer.
gpt2.gguf            arch gpt2, n_embd 16, n_head 4, n_ff 64, n_layer 2, ctx 32,
                     ln eps 1e-5, vocab 40, all F32 with biases, fused attn_qkv,
                     position_embd, untied output.weight; gpt2 (byte-level BPE)
                     tokenizer with 17 merges, bos = eos = 39 "<|endoftext|>".
quant.gguf           arch llama, n_embd 32, n_head 4, n_head_kv 4, n_ff 64,
                     n_layer 1, ctx 64, vocab 32, tied; token_embd + attn_* in
                     Q8_0, ffn_* in Q4_0, norms F32, no tokenizer.
dequant.gguf         no general.architecture; key artr.test.n = u32 512;
                     tensors of shape (8,64) (ne [64,8]):
                       f16, f16.ref        F16 incl. +-0, subnormals, +-65504,
                                           +-inf, NaN; ref = exact float32 values
                       bf16, bf16.ref      BF16 from gguf.quants (RNE, inf, NaN,
                                           ties); ref = gguf.quants.dequantize
                       q8_0, q8_0.src, q8_0.ref   quantized bytes, the float32
                                           input, and gguf-py's dequantization
                                           (block 0 all zero, block 3 outlier)
                       q4_0, q4_0.src, q4_0.ref   likewise
meta.gguf            no architecture; alignment 64; one key of every scalar
                     value type (t.*), arrays a.int32 / a.float32 / a.string /
                     a.uint8 / a.nested ([[1,2],[3]], arrays of int32 arrays);
                     tensors t.f32_1d (7,), t.f32_4d (2,3,1,5) -> ne [5,1,3,2],
                     t.i32 (3,), t.i8 (5,), t.f16 (4,4).  gguf-py refuses to
                     write empty arrays, so there is no a.empty.
meta_v2.gguf         meta.gguf with the version field (offset 4) patched 3 -> 2.
bigendian.gguf       big-endian GGUF (GGUFEndian.BIG): key artr.test.u32 =
                     0x01020304, tensor "x" F32 [1.0, -2.0, 3.5, 1e-3].
misaligned.gguf      alignment 1; tensors "a" I8 (3,), "b" F32 (5,): b's data is
                     at relative offset 3 (not a multiple of 4).
q5_0.gguf            one tensor "w" (2,32) of type Q5_0 (unsupported-type path).
stories_tiny.bin     llama2.c legacy (v0) checkpoint: dim 16, hidden 40,
                     n_layers 2, n_heads 4, n_kv_heads 2, vocab 32, seq 64,
                     shared classifier (positive vocab_size).
stories_tiny_cls.bin same weights + a distinct classifier (vocab_size -32).
stories_tiny.gguf    the same weights as stories_tiny.bin through GGUFWriter as
                     arch llama (no q/k row permutation), tied.
stories_tiny_cls.gguf  same as stories_tiny_cls.bin, with output.weight.
tok32.bin            llama2.c tokenizer.bin for the llama.gguf vocabulary,
                     post-processed exactly like llama2.c tokenizer.py export():
                     "<s>" -> "\\n<s>\\n", "</s>" -> "\\n</s>\\n", "<0x0A>" -> "\\n",
                     U+2581 -> " ".  Layout: u32 max_token_length, then per
                     token f32 score, u32 length, bytes (no NUL).
tok32_short.bin      the same, first 31 tokens only (vocab-size mismatch case).
"""

import hashlib
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGUFWriter, GGUFReader, GGMLQuantizationType as QT, GGUFValueType as VT

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

WRITTEN = []  # (filename, note)


def path(name):
    return os.path.join(OUT, name)


def finish(w, name, note=""):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    WRITTEN.append((name, note))


# --------------------------------------------------------------------------
# random weights


def mat(rng, n_out, n_in):
    return (0.1 * rng.standard_normal((n_out, n_in))).astype(np.float32)


def normw(rng, n):
    return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)


def bias(rng, n):
    return (0.1 * rng.standard_normal(n)).astype(np.float32)


# --------------------------------------------------------------------------
# vocabularies

LLAMA_TOKENS = [
    "<unk>", "<s>", "</s>", "<0x0A>",
    "\u2581", "\u2581t", "\u2581a", "\u2581the", "\u2581c", "\u2581is",
    "e", "t", "h", "a", "c", "s", "i", "n", "o",
    "th", "he", "the", "at", "in", "an",
    "\u2581th", "\u2581cat", "\u00e9", "ing", "\u2581an", "is", ".",
]
assert len(LLAMA_TOKENS) == 32
LLAMA_SCORES = [0.0 - i for i in range(32)]  # 0, -1, ..., -31 (no -0.0)
LLAMA_TYPES = [1] * 32
LLAMA_TYPES[0] = 2  # UNKNOWN
LLAMA_TYPES[1] = 3  # CONTROL
LLAMA_TYPES[2] = 3  # CONTROL
LLAMA_TYPES[3] = 6  # BYTE

GPT2_TOKENS = [
    "!", ",", ".", "a", "b", "c", "d", "e", "g", "h", "i", "l", "n", "o", "r",
    "s", "t", "w", "\u0120", "\u010a", "\u00c3", "\u00a9",          # 0..21
    "\u0120t", "he", "\u0120the", "in", "ing", "\u0120a", "an", "\u0120an",
    "er", "on", "\u0120w", "or", "ld", "\u0120wor", "\u0120world",
    "\u00c3\u00a9", "ll",                                              # 22..38
    "<|endoftext|>",                                                   # 39
]
assert len(GPT2_TOKENS) == 40
GPT2_MERGES = [
    "\u0120 t", "h e", "\u0120t he", "i n", "in g", "\u0120 a", "a n",
    "\u0120a n", "e r", "o n", "\u0120 w", "o r", "l d", "\u0120w or",
    "\u0120wor ld", "\u00c3 \u00a9", "l l",
]
for _m in GPT2_MERGES:
    _l, _r = _m.split(" ")
    assert _l in GPT2_TOKENS and _r in GPT2_TOKENS and _l + _r in GPT2_TOKENS, _m
GPT2_TYPES = [1] * 39 + [3]


# --------------------------------------------------------------------------
# llama-family models


def llama_weights(rng, n_embd=16, n_head=4, n_head_kv=2, n_ff=40, n_layer=2,
                  n_vocab=32, qkv_bias=False, untied=True):
    hd = n_embd // n_head
    t = {}
    t["token_embd.weight"] = mat(rng, n_vocab, n_embd)
    t["output_norm.weight"] = normw(rng, n_embd)
    if untied:
        t["output.weight"] = mat(rng, n_vocab, n_embd)
    for i in range(n_layer):
        p = f"blk.{i}."
        t[p + "attn_norm.weight"] = normw(rng, n_embd)
        t[p + "attn_q.weight"] = mat(rng, n_head * hd, n_embd)
        t[p + "attn_k.weight"] = mat(rng, n_head_kv * hd, n_embd)
        t[p + "attn_v.weight"] = mat(rng, n_head_kv * hd, n_embd)
        if qkv_bias:
            t[p + "attn_q.bias"] = bias(rng, n_head * hd)
            t[p + "attn_k.bias"] = bias(rng, n_head_kv * hd)
            t[p + "attn_v.bias"] = bias(rng, n_head_kv * hd)
        t[p + "attn_output.weight"] = mat(rng, n_embd, n_head * hd)
        t[p + "ffn_norm.weight"] = normw(rng, n_embd)
        t[p + "ffn_gate.weight"] = mat(rng, n_ff, n_embd)
        t[p + "ffn_up.weight"] = mat(rng, n_ff, n_embd)
        t[p + "ffn_down.weight"] = mat(rng, n_embd, n_ff)
    return t


def llama_hparams(w, arch, n_embd, n_head, n_head_kv, n_ff, n_layer, ctx,
                  freq_base, rms_eps):
    w.add_context_length(ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_rope_freq_base(freq_base)
    w.add_layer_norm_rms_eps(rms_eps)


def add_llama_tokenizer(w):
    w.add_tokenizer_model("llama")
    w.add_token_list(LLAMA_TOKENS)
    w.add_token_scores(LLAMA_SCORES)
    w.add_token_types(LLAMA_TYPES)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)


def gen_llama():
    rng = np.random.default_rng(1234)
    t = llama_weights(rng)
    w = GGUFWriter(path("llama.gguf"), "llama")
    llama_hparams(w, "llama", 16, 4, 2, 40, 2, 64, 10000.0, 1e-5)
    add_llama_tokenizer(w)
    for name, a in t.items():
        w.add_tensor(name, a)
    finish(w, "llama.gguf", "llama, F32, untied, SPM tokenizer")


def gen_llama_tied():
    rng = np.random.default_rng(1235)
    t = llama_weights(rng, untied=False)
    w = GGUFWriter(path("llama_tied.gguf"), "llama")
    llama_hparams(w, "llama", 16, 4, 2, 40, 2, 64, 10000.0, 1e-5)
    for name, a in t.items():
        if a.ndim == 2:
            w.add_tensor(name, a.astype(np.float16))
        else:
            w.add_tensor(name, a)
    finish(w, "llama_tied.gguf", "llama, tied, F16 matrices, no tokenizer")


def gen_qwen2():
    rng = np.random.default_rng(1236)
    t = llama_weights(rng, qkv_bias=True, untied=False)
    w = GGUFWriter(path("qwen2.gguf"), "qwen2")
    llama_hparams(w, "qwen2", 16, 4, 2, 40, 2, 64, 1000000.0, 1e-6)
    for name, a in t.items():
        if a.ndim == 2:
            q = gguf.quants.quantize(a, QT.BF16)  # uint8, shape (rows, 2*cols)
            w.add_tensor(name, q, raw_dtype=QT.BF16)
        else:
            w.add_tensor(name, a)
    finish(w, "qwen2.gguf", "qwen2, tied, BF16 matrices, qkv biases")


def gen_gpt2():
    rng = np.random.default_rng(1237)
    n_embd, n_ff, n_layer, ctx, n_vocab = 16, 64, 2, 32, 40
    t = {}
    t["token_embd.weight"] = mat(rng, n_vocab, n_embd)
    t["position_embd.weight"] = mat(rng, ctx, n_embd)
    t["output_norm.weight"] = normw(rng, n_embd)
    t["output_norm.bias"] = bias(rng, n_embd)
    t["output.weight"] = mat(rng, n_vocab, n_embd)
    for i in range(n_layer):
        p = f"blk.{i}."
        t[p + "attn_norm.weight"] = normw(rng, n_embd)
        t[p + "attn_norm.bias"] = bias(rng, n_embd)
        t[p + "attn_qkv.weight"] = mat(rng, 3 * n_embd, n_embd)
        t[p + "attn_qkv.bias"] = bias(rng, 3 * n_embd)
        t[p + "attn_output.weight"] = mat(rng, n_embd, n_embd)
        t[p + "attn_output.bias"] = bias(rng, n_embd)
        t[p + "ffn_norm.weight"] = normw(rng, n_embd)
        t[p + "ffn_norm.bias"] = bias(rng, n_embd)
        t[p + "ffn_up.weight"] = mat(rng, n_ff, n_embd)
        t[p + "ffn_up.bias"] = bias(rng, n_ff)
        t[p + "ffn_down.weight"] = mat(rng, n_embd, n_ff)
        t[p + "ffn_down.bias"] = bias(rng, n_embd)
    w = GGUFWriter(path("gpt2.gguf"), "gpt2")
    w.add_context_length(ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(4)
    w.add_layer_norm_eps(1e-5)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(GPT2_TOKENS)
    w.add_token_types(GPT2_TYPES)
    w.add_token_merges(GPT2_MERGES)
    w.add_bos_token_id(39)
    w.add_eos_token_id(39)
    for name, a in t.items():
        w.add_tensor(name, a)
    finish(w, "gpt2.gguf", "gpt2, F32, biases, BPE tokenizer")


def gen_quant():
    rng = np.random.default_rng(1238)
    t = llama_weights(rng, n_embd=32, n_head=4, n_head_kv=4, n_ff=64,
                      n_layer=1, n_vocab=32, untied=False)
    w = GGUFWriter(path("quant.gguf"), "llama")
    llama_hparams(w, "llama", 32, 4, 4, 64, 1, 64, 10000.0, 1e-5)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for name, a in t.items():
        if a.ndim == 1:
            w.add_tensor(name, a)
            continue
        qt = QT.Q4_0 if ".ffn_" in name else QT.Q8_0
        q = gguf.quants.quantize(a, qt)  # uint8 (rows, bytes_per_row)
        # raw_shape left None: add_tensor_info converts the uint8 byte shape
        # back to the element shape via quant_shape_from_byte_shape.
        w.add_tensor(name, q, raw_dtype=qt)
    finish(w, "quant.gguf", "llama, tied, Q8_0 attn/embd, Q4_0 ffn")


# --------------------------------------------------------------------------
# dequantization references


def mixed(rng, n, lo, hi):
    """random normals with magnitudes spread over 10**lo .. 10**hi"""
    return (rng.standard_normal(n) * 10.0 ** rng.uniform(lo, hi, n)).astype(np.float32)


def gen_dequant():
    rng = np.random.default_rng(1239)
    shape = (8, 64)
    n = 512

    # --- F16 ---
    special = np.array([0.0, -0.0, 1e-6, -1e-6, 5.96e-8, -5.96e-8, 6.1e-5,
                        65504.0, -65504.0, np.inf, -np.inf, np.nan, 1.0, -2.0,
                        0.333333, 1024.5], dtype=np.float32)
    f = mixed(rng, n, -7.5, 4.5)
    f[:len(special)] = special
    f16 = f.astype(np.float16).reshape(shape)
    f16_ref = f16.astype(np.float32)

    # --- BF16 ---
    b = mixed(rng, n, -30, 30)
    bits = b.view(np.uint32)
    spec_bits = np.array([
        0x00000000, 0x80000000,              # +0, -0
        0x7f800000, 0xff800000,              # +inf, -inf
        0x7fc00000, 0x7f800001, 0xffa00000,  # qNaN, sNaN (forced quiet), -sNaN
        0x7f7fffff,                          # FLT_MAX -> rounds to +inf
        0x00000001, 0x00012345,              # f32 subnormals
        0x3f808000, 0x3f818000,              # exact ties: to even (down / up)
        0x3f808001, 0x3f807fff,              # just above / below a tie
        0x3f800000, 0xc0490fdb,              # 1.0, -pi
    ], dtype=np.uint32)
    bits[:len(spec_bits)] = spec_bits
    b = bits.view(np.float32).reshape(shape)
    bf16 = gguf.quants.quantize(b, QT.BF16)
    bf16_ref = gguf.quants.dequantize(bf16, QT.BF16).astype(np.float32)

    # --- Q8_0 / Q4_0 sources: per-block scales over several decades ---
    def qsrc(seed):
        r = np.random.default_rng(seed)
        blocks = r.standard_normal((16, 32)) * 10.0 ** r.uniform(-3, 2, (16, 1))
        blocks = blocks.astype(np.float32)
        blocks[0] = 0.0                     # all-zero block
        blocks[3] = (0.1 * r.standard_normal(32)).astype(np.float32)
        blocks[3][7] = 5000.0               # huge outlier
        blocks[5][11] = -abs(blocks[5]).max() * 3  # negative max
        return blocks.reshape(shape)

    q8_src = qsrc(1240)
    q8 = gguf.quants.quantize(q8_src, QT.Q8_0)
    q8_ref = gguf.quants.dequantize(q8, QT.Q8_0).astype(np.float32)
    q4_src = qsrc(1241)
    q4 = gguf.quants.quantize(q4_src, QT.Q4_0)
    q4_ref = gguf.quants.dequantize(q4, QT.Q4_0).astype(np.float32)

    w = GGUFWriter(path("dequant.gguf"), "")  # "" -> general.architecture not written
    w.add_uint32("artr.test.n", n)
    w.add_tensor("f16", f16)
    w.add_tensor("f16.ref", f16_ref)
    w.add_tensor("bf16", bf16, raw_dtype=QT.BF16)
    w.add_tensor("bf16.ref", bf16_ref)
    w.add_tensor("q8_0", q8, raw_dtype=QT.Q8_0)
    w.add_tensor("q8_0.src", q8_src)
    w.add_tensor("q8_0.ref", q8_ref)
    w.add_tensor("q4_0", q4, raw_dtype=QT.Q4_0)
    w.add_tensor("q4_0.src", q4_src)
    w.add_tensor("q4_0.ref", q4_ref)
    finish(w, "dequant.gguf", "F16/BF16/Q8_0/Q4_0 + references")


# --------------------------------------------------------------------------
# container / metadata edge cases

NOTES = []


def gen_meta():
    w = GGUFWriter(path("meta.gguf"), "")
    w.add_custom_alignment(64)
    w.add_uint8("t.uint8", 200)
    w.add_int8("t.int8", -100)
    w.add_uint16("t.uint16", 60000)
    w.add_int16("t.int16", -30000)
    w.add_uint32("t.uint32", 4000000000)
    w.add_int32("t.int32", -2000000000)
    w.add_float32("t.float32", 1.5)
    w.add_bool("t.bool", True)
    w.add_string("t.string", "h\u00e9llo w\u00f6rld")
    w.add_uint64("t.uint64", 2**63 + 5)
    w.add_int64("t.int64", -(2**62))
    w.add_float64("t.float64", 3.141592653589793)
    w.add_key_value("a.int32", [1, -2, 3], VT.ARRAY, sub_type=VT.INT32)
    w.add_key_value("a.float32", [0.5, -1.25], VT.ARRAY, sub_type=VT.FLOAT32)
    w.add_key_value("a.string", ["a", "", "ccc"], VT.ARRAY, sub_type=VT.STRING)
    w.add_key_value("a.uint8", [1, 2, 255], VT.ARRAY, sub_type=VT.UINT8)

    # Empty array: add_array() silently drops it and _pack_val raises
    # "Invalid GGUF metadata array. Empty array" -> gguf-py cannot write one.
    w.add_array("a.empty", [])
    if "a.empty" in w.kv_data[0]:
        NOTES.append("a.empty: written as an empty array")
    else:
        NOTES.append("a.empty: NOT written (GGUFWriter.add_array drops empty "
                     "arrays; add_key_value with [] raises in _pack_val)")

    # Nested array: _pack_val recurses; the outer array's element type is
    # ARRAY (GGUFValueType.get_type(list)), each inner array is written as
    # <u32 elem type><u64 count><items> with its type inferred (int -> INT32).
    w.add_key_value("a.nested", [[1, 2], [3]], VT.ARRAY)
    nested_bytes = w._pack_val([[1, 2], [3]], VT.ARRAY, add_vtype=True)
    NOTES.append("a.nested: written; bytes after the key = " + nested_bytes.hex(" ", 4)
                 + "  (u32 ARRAY=9, u32 sub ARRAY=9, u64 n=2, then per inner array:"
                 " u32 INT32=5, u64 n, int32 items)")

    rng = np.random.default_rng(1242)
    w.add_tensor("t.f32_1d", rng.standard_normal(7).astype(np.float32))
    w.add_tensor("t.f32_4d", np.arange(30, dtype=np.float32).reshape(2, 3, 1, 5))
    w.add_tensor("t.i32", np.array([1, -2, 2147483647], dtype=np.int32))
    w.add_tensor("t.i8", np.array([-128, -1, 0, 1, 127], dtype=np.int8))
    w.add_tensor("t.f16", (np.arange(16, dtype=np.float32).reshape(4, 4) * 0.25 - 2).astype(np.float16))
    finish(w, "meta.gguf", "every KV type, arrays, alignment 64")

    with open(path("meta.gguf"), "rb") as fp:
        data = bytearray(fp.read())
    assert data[:4] == b"GGUF" and struct.unpack_from("<I", data, 4)[0] == 3
    struct.pack_into("<I", data, 4, 2)
    with open(path("meta_v2.gguf"), "wb") as fp:
        fp.write(data)
    WRITTEN.append(("meta_v2.gguf", "meta.gguf with version patched to 2"))


def gen_bigendian():
    w = GGUFWriter(path("bigendian.gguf"), "", endianess=gguf.GGUFEndian.BIG)
    w.add_uint32("artr.test.u32", 0x01020304)
    w.add_tensor("x", np.array([1.0, -2.0, 3.5, 1e-3], dtype=np.float32))
    finish(w, "bigendian.gguf", "big-endian container")


def gen_misaligned():
    w = GGUFWriter(path("misaligned.gguf"), "")
    w.add_custom_alignment(1)
    w.add_tensor("a", np.array([1, -2, 3], dtype=np.int8))
    w.add_tensor("b", np.array([1.0, 2.0, -3.0, 0.5, 1e10], dtype=np.float32))
    finish(w, "misaligned.gguf", "alignment 1, F32 at odd offset")


def gen_q5_0():
    rng = np.random.default_rng(1243)
    a = (0.1 * rng.standard_normal((2, 32))).astype(np.float32)
    w = GGUFWriter(path("q5_0.gguf"), "")
    w.add_tensor("w", gguf.quants.quantize(a, QT.Q5_0), raw_dtype=QT.Q5_0)
    finish(w, "q5_0.gguf", "unsupported tensor type Q5_0")


# --------------------------------------------------------------------------
# llama2.c


def precompute_freqs_cis(dim, end, theta=10000.0):
    # model.py precompute_freqs_cis, in float32 like torch
    freqs = np.float32(1.0) / (np.float32(theta) ** (np.arange(0, dim, 2, dtype=np.float32)[: dim // 2] / np.float32(dim)))
    freqs = freqs.astype(np.float32)
    t = np.arange(end, dtype=np.float32)
    freqs = np.outer(t, freqs).astype(np.float32)
    return np.cos(freqs).astype(np.float32), np.sin(freqs).astype(np.float32)


def legacy_export(fn, p, wts, classifier):
    """llama2.c export.py legacy_export (v0)"""
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq = p
    shared = classifier is None
    if not shared:
        vocab = -vocab
    with open(fn, "wb") as f:
        f.write(struct.pack("iiiiiii", dim, hidden, n_layers, n_heads, n_kv, vocab, seq))

        def ser(a):
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())

        ser(wts["tok"])
        for key in ("att_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w2", "w3"):
            for l in range(n_layers):
                ser(wts[key][l])
        ser(wts["norm"])
        cos, sin = precompute_freqs_cis(dim // n_heads, seq)
        ser(cos[:seq])
        ser(sin[:seq])
        if not shared:
            ser(classifier)


def stories_gguf(fn, p, wts, classifier):
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq = p
    w = GGUFWriter(fn, "llama")
    llama_hparams(w, "llama", dim, n_heads, n_kv, hidden, n_layers, seq, 10000.0, 1e-5)
    w.add_tensor("token_embd.weight", wts["tok"])
    w.add_tensor("output_norm.weight", wts["norm"])
    if classifier is not None:
        w.add_tensor("output.weight", classifier)
    for l in range(n_layers):
        pre = f"blk.{l}."
        w.add_tensor(pre + "attn_norm.weight", wts["att_norm"][l])
        w.add_tensor(pre + "attn_q.weight", wts["wq"][l])  # no permutation
        w.add_tensor(pre + "attn_k.weight", wts["wk"][l])
        w.add_tensor(pre + "attn_v.weight", wts["wv"][l])
        w.add_tensor(pre + "attn_output.weight", wts["wo"][l])
        w.add_tensor(pre + "ffn_norm.weight", wts["ffn_norm"][l])
        w.add_tensor(pre + "ffn_gate.weight", wts["w1"][l])
        w.add_tensor(pre + "ffn_down.weight", wts["w2"][l])
        w.add_tensor(pre + "ffn_up.weight", wts["w3"][l])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


STORIES_P = (16, 40, 2, 4, 2, 32, 64)


def stories_weights():
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq = STORIES_P
    hd = dim // n_heads
    rng = np.random.default_rng(1244)
    wts = {"tok": mat(rng, vocab, dim)}
    wts["att_norm"] = [normw(rng, dim) for _ in range(n_layers)]
    wts["wq"] = [mat(rng, n_heads * hd, dim) for _ in range(n_layers)]
    wts["wk"] = [mat(rng, n_kv * hd, dim) for _ in range(n_layers)]
    wts["wv"] = [mat(rng, n_kv * hd, dim) for _ in range(n_layers)]
    wts["wo"] = [mat(rng, dim, n_heads * hd) for _ in range(n_layers)]
    wts["ffn_norm"] = [normw(rng, dim) for _ in range(n_layers)]
    wts["w1"] = [mat(rng, hidden, dim) for _ in range(n_layers)]
    wts["w2"] = [mat(rng, dim, hidden) for _ in range(n_layers)]
    wts["w3"] = [mat(rng, hidden, dim) for _ in range(n_layers)]
    wts["norm"] = normw(rng, dim)
    cls = mat(np.random.default_rng(1245), vocab, dim)
    return wts, cls


def gen_stories():
    wts, cls = stories_weights()
    legacy_export(path("stories_tiny.bin"), STORIES_P, wts, None)
    WRITTEN.append(("stories_tiny.bin", "llama2.c v0, shared classifier"))
    legacy_export(path("stories_tiny_cls.bin"), STORIES_P, wts, cls)
    WRITTEN.append(("stories_tiny_cls.bin", "llama2.c v0, own classifier"))
    stories_gguf(path("stories_tiny.gguf"), STORIES_P, wts, None)
    WRITTEN.append(("stories_tiny.gguf", "= stories_tiny.bin as GGUF"))
    stories_gguf(path("stories_tiny_cls.gguf"), STORIES_P, wts, cls)
    WRITTEN.append(("stories_tiny_cls.gguf", "= stories_tiny_cls.bin as GGUF"))


def tokenizer_bin(fn, n):
    """llama2.c tokenizer.py export(), for the llama.gguf vocabulary"""
    bos_id, eos_id = 1, 2
    tokens, scores = [], []
    for i in range(n):
        t = LLAMA_TOKENS[i]
        s = LLAMA_SCORES[i]
        if i == bos_id:
            t = "\n<s>\n"
        elif i == eos_id:
            t = "\n</s>\n"
        elif len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
            t = chr(int(t[3:5], 16))
        t = t.replace("\u2581", " ")
        tokens.append(t.encode("utf-8"))
        scores.append(s)
    max_token_length = max(len(t) for t in tokens)
    with open(fn, "wb") as f:
        f.write(struct.pack("I", max_token_length))
        for b, score in zip(tokens, scores):
            f.write(struct.pack("fI", score, len(b)))
            f.write(b)


def gen_tok():
    tokenizer_bin(path("tok32.bin"), 32)
    WRITTEN.append(("tok32.bin", "llama2.c tokenizer.bin, 32 tokens"))
    tokenizer_bin(path("tok32_short.bin"), 31)
    WRITTEN.append(("tok32_short.bin", "llama2.c tokenizer.bin, 31 tokens"))


# --------------------------------------------------------------------------
# read-back checks


def check():
    print("\n== read-back (gguf.GGUFReader) ==")
    for name, _ in WRITTEN:
        if not name.endswith(".gguf"):
            continue
        r = GGUFReader(path(name))
        ver = struct.unpack_from("<I" if r.byte_order == "I" else ">I",
                                 open(path(name), "rb").read(8), 4)[0]
        print(f"\n{name}: version {ver}, byte_order {r.byte_order}, "
              f"alignment {r.alignment}, data_offset {r.data_offset}, "
              f"{len(r.fields)} fields, {len(r.tensors)} tensors")
        for f in r.fields.values():
            if f.name.startswith("GGUF."):
                continue
            v = f.contents()
            if isinstance(v, list) and len(v) > 8:
                v = f"[{len(v)} items] " + repr(v[:6])[:-1] + ", ...]"
            print(f"  kv  {f.name:40s} {'/'.join(t.name for t in f.types):16s} {v!r}"[:160])
        for t in r.tensors:
            print(f"  ten {t.name:28s} {t.tensor_type.name:5s} ne={t.shape.tolist()} "
                  f"n_bytes={t.n_bytes} off={t.data_offset}")

    # content checks
    r = GGUFReader(path("dequant.gguf"))
    T = {t.name: t for t in r.tensors}
    assert "general.architecture" not in r.fields
    assert np.array_equal(gguf.quants.dequantize(np.array(T["q8_0"].data), QT.Q8_0),
                          np.array(T["q8_0.ref"].data))
    assert np.array_equal(gguf.quants.dequantize(np.array(T["q4_0"].data), QT.Q4_0),
                          np.array(T["q4_0.ref"].data))
    assert np.array_equal(np.array(T["f16"].data).astype(np.float32),
                          np.array(T["f16.ref"].data), equal_nan=True)
    assert np.array_equal(gguf.quants.dequantize(np.array(T["bf16"].data), QT.BF16),
                          np.array(T["bf16.ref"].data), equal_nan=True)

    r = GGUFReader(path("misaligned.gguf"))
    tb = [t for t in r.tensors if t.name == "b"][0]
    rel = int(tb.field.parts[5][0])
    print(f"\nmisaligned.gguf: tensor 'b' relative offset {rel}, absolute file "
          f"offset {tb.data_offset} (data section starts at {r.data_offset}); "
          f"abs % 4 = {tb.data_offset % 4}")
    assert np.array_equal(np.array(tb.data), np.array([1.0, 2.0, -3.0, 0.5, 1e10], np.float32))

    r = GGUFReader(path("meta.gguf"))
    print("meta.gguf a.nested read back (GGUFReader flattens):",
          r.fields["a.nested"].contents(), [t.name for t in r.fields["a.nested"].types])
    print("meta.gguf t.uint64 =", r.fields["t.uint64"].contents(),
          " t.string =", r.fields["t.string"].contents())

    r = GGUFReader(path("bigendian.gguf"))
    print("bigendian.gguf x =", np.array(r.tensors[0].data).tolist(),
          " artr.test.u32 =", hex(r.fields["artr.test.u32"].contents()))

    # stories: .bin and .gguf carry the same weights
    for stem in ("stories_tiny", "stories_tiny_cls"):
        raw = open(path(stem + ".bin"), "rb").read()
        hdr = struct.unpack_from("iiiiiii", raw, 0)
        fl = np.frombuffer(raw, dtype="<f4", offset=28)
        dim, hidden, nl, nh, nkv, vocab, seq = hdr
        r = GGUFReader(path(stem + ".gguf"))
        T = {t.name: np.array(t.data) for t in r.tensors}
        o = 0

        def take(n):
            nonlocal o
            a = fl[o:o + n]
            o += n
            return a
        assert np.array_equal(take(abs(vocab) * dim), T["token_embd.weight"].ravel())
        hd = dim // nh
        for key, sz in (("attn_norm", dim), ("attn_q", nh * hd * dim), ("attn_k", nkv * hd * dim),
                        ("attn_v", nkv * hd * dim), ("attn_output", dim * nh * hd),
                        ("ffn_norm", dim), ("ffn_gate", hidden * dim), ("ffn_down", dim * hidden),
                        ("ffn_up", hidden * dim)):
            for l in range(nl):
                assert np.array_equal(take(sz), T[f"blk.{l}.{key}.weight"].ravel()), key
        assert np.array_equal(take(dim), T["output_norm.weight"])
        take(seq * hd // 2 * 2)
        if vocab < 0:
            assert np.array_equal(take(abs(vocab) * dim), T["output.weight"].ravel())
        else:
            assert "output.weight" not in T
        assert o == fl.size, (o, fl.size)
        print(f"{stem}.bin header {hdr}: {fl.size} floats, matches {stem}.gguf")


def main():
    os.makedirs(OUT, exist_ok=True)
    try:
        from importlib.metadata import version
        gv = version("gguf")
    except Exception:
        gv = "?"
    print(f"gguf-py {gv}, numpy {np.__version__}")
    gen_llama()
    gen_llama_tied()
    gen_qwen2()
    gen_gpt2()
    gen_quant()
    gen_dequant()
    gen_meta()
    gen_bigendian()
    gen_misaligned()
    gen_q5_0()
    gen_stories()
    gen_tok()

    print("\n== wrote ==")
    total = 0
    for name, note in WRITTEN:
        size = os.path.getsize(path(name))
        total += size
        sha = hashlib.sha256(open(path(name), "rb").read()).hexdigest()[:16]
        print(f"  tests/fixtures/{name:24s} {size:7d} B  sha256:{sha}  {note}")
    print(f"  total {total} B")
    print("\n== gguf-py notes ==")
    for n in NOTES:
        print("  " + n)
    check()


if __name__ == "__main__":
    sys.exit(main())
