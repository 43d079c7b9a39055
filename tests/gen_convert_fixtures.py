#!/usr/bin/env python3
"""Generate the fixtures for artr's tools (tests/test_tools.c): the quantizer reference
and the converted models. Run from the repository root:

    pip install numpy gguf torch transformers sentencepiece tokenizers
    python tests/gen_convert_fixtures.py

Seeds are fixed; the files are committed, so the C tests never need Python.

tests/fixtures/quant_ref.gguf
    The quantizer reference: 102400 floats (3200 blocks of 32) from a SplitMix64
    generator that tests/test_tools.c reproduces bit for bit (th_qsrc), quantized by
    gguf-py's gguf.quants.quantize: tensors "q8_0" and "q4_0", ne [1024, 100]. Key
    artr.test.src_fnv1a is the FNV-1a 64 hash of the float bytes, so the C side checks that
    its generator made the same input. Block kinds (see qsrc_block): random floats over 60
    binary decades, all zeros (signed), exact Q4_0 ties (x/d + 8.5 an integer or half),
    exact Q8_0 ties (k + 0.5 with max 127), one huge outlier (d overflows half), a negative
    maximum, equal magnitudes of opposite sign (first one wins), tiny values (1e-30).

tests/fixtures/conv/ (see conv/README.md for the layout of each file)
    llama/        Hugging Face LlamaForCausalLM (GQA: 4 heads, 2 kv heads), saved by
                  transformers' save_pretrained (float16 safetensors) from the weights of
                  llama2c.bin, q/k rows permuted the way Meta-to-HF conversion does;
                  SentencePiece tokenizer.model (256 pieces) and a tokenizer_config.json.
    llama2c.bin, llama2c_tok.bin  the same weights as a llama2.c legacy checkpoint and its
                  tokenizer.bin (llama2.c tokenizer.py export of the same tokenizer.model).
    llama_hf.gguf, llama_l2c.gguf  tools/convert.py --dtype f16 of llama/ and of llama2c.bin
                  (float32): tensors byte-identical, same config and tokenizer arrays.
    llama_hf_q8_0.gguf  tools/convert.py --dtype q8_0 of llama/ (gguf-py's Q8_0).
    llama_hf_q4_0_ref.gguf  llama_hf.gguf's tensors quantized by gguf-py with
                  artr-quantize's Q4_0 rules (output.weight Q8_0): the quantizer reference.
    qwen2/        Qwen2ForCausalLM (bf16 safetensors, tied embeddings, q/k/v biases,
                  byte-level BPE tokenizer.json with Qwen2's pre-tokenizer).
    gpt2/         GPT2LMHeadModel (float32, Conv1D weights, tied lm_head, byte-level BPE).
    qwen2.gguf, gpt2.gguf  tools/convert.py --dtype bf16 and --dtype f16 of those.
    ids.bin       16 int32 token ids (little-endian) fed to every model.
    llama.logits, qwen2.logits, gpt2.logits  transformers' float32 logits for ids.bin,
                  row-major [16][256], little-endian (eager attention, float32 weights).

Every model: hidden 32, 4 heads (head size 8), 2 layers, vocab 256, weights 0.1*randn
(norm weights 1 + 0.1*randn, biases 0.1*randn) so that every parameter matters. Every
weight is a value its GGUF type holds exactly (float16 values for llama and gpt2,
bfloat16 for qwen2), so the converted GGUFs carry the very weights transformers ran:
the logits differ only by the order of float arithmetic.
"""

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import gguf
from gguf import GGUFWriter, GGUFReader, GGMLQuantizationType as QT

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(HERE, "fixtures")
CONV = os.path.join(FIX, "conv")
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, HERE)
import convert  # noqa: E402  tools/convert.py
from gen_fixtures import legacy_export  # noqa: E402  llama2.c export.py legacy_export

TEXT = os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare.txt")
N_IDS = 16
WRITTEN = []


def note(path, what):
    WRITTEN.append((os.path.relpath(path, ROOT), what))


# --------------------------------------------------------------------------------------
# quantizer reference

M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)


def f32bits(sign, exp, man):
    return sign << 31 | exp << 23 | man


def _bits(v):
    return int(np.array([v], dtype=np.float32).view(np.uint32)[0])


def qsrc_block(g):
    """32 float32 bit patterns; the same steps as th_qsrc_block in tests/test_tools.c."""
    r = g.next()
    kind = r % 10
    e0 = (r >> 8) % 60 - 40             # base binary exponent, -40..19
    shift = (r >> 8) % 60 % 5 - 3       # -3..1 for the exact ties
    p1 = (r >> 16) % 32
    p2 = (r >> 24) % 32
    out = []
    for j in range(32):
        u = g.next()
        if kind == 0:                   # zeros, both signs
            b = f32bits(u & 1, 0, 0)
        elif kind == 1:                 # Q4_0 ties: max -16*2^s, others k*2^s, |k| <= 16
            k = -16 if j == 0 else u % 33 - 16
            b = _bits(np.ldexp(np.float32(k), shift))
        elif kind == 6:                 # Q8_0 ties: max 127, others k + 0.5
            b = _bits(np.float32(127.0) if j == 0 else np.float32(u % 253) - np.float32(126.5))
        elif kind == 5:                 # tiny: around 1e-30
            b = f32bits(u >> 63, 127 - 100 + (u >> 23) % 8, u & 0x7FFFFF)
        else:                           # random over 8 binary decades around 2^e0
            b = f32bits(u >> 63, 127 + e0 + (u >> 23) % 8 - 4, u & 0x7FFFFF)
            if kind == 2 and j == p1:   # huge outlier
                b = f32bits(u >> 63, 127 + e0 + 25, u & 0x7FFFFF)
            if kind == 3 and j == p1:   # negative maximum
                b = f32bits(1, 127 + e0 + 4, u & 0x7FFFFF)
            if kind == 4 and (j == p1 or j == p2):  # |max| tie, opposite signs
                b = f32bits(1 if j == p2 else 0, 127 + e0 + 4, 0x400000)
        out.append(b)
    return out


def qsrc(n_blocks, seed):
    g = SplitMix64(seed)
    bits = []
    for _ in range(n_blocks):
        bits.extend(qsrc_block(g))
    return np.array(bits, dtype=np.uint32).view(np.float32)


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def gen_quant_ref():
    seed, rows, cols = 0x5EED, 100, 1024
    x = qsrc(rows * cols // 32, seed).reshape(rows, cols)
    assert np.isfinite(x).all()
    path = os.path.join(FIX, "quant_ref.gguf")
    w = GGUFWriter(path, "")
    w.add_uint64("artr.test.seed", seed)
    w.add_uint64("artr.test.src_fnv1a", fnv1a64(x.tobytes()))
    with np.errstate(over="ignore"):
        w.add_tensor("q8_0", gguf.quants.quantize(x, QT.Q8_0), raw_dtype=QT.Q8_0)
        w.add_tensor("q4_0", gguf.quants.quantize(x, QT.Q4_0), raw_dtype=QT.Q4_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    note(path, f"{rows * cols} floats quantized by gguf-py (Q8_0, Q4_0)")


# --------------------------------------------------------------------------------------
# tokenizers

def training_text():
    with open(TEXT, encoding="utf-8") as f:
        return f.read()[:200000]


def train_sentencepiece(d):
    import sentencepiece as spm
    txt = os.path.join(d, "train.txt")
    with open(txt, "w", encoding="utf-8") as f:
        f.write(training_text())
    spm.SentencePieceTrainer.train(
        input=txt, model_prefix=os.path.join(d, "tokenizer"), vocab_size=256, model_type="bpe",
        character_coverage=1.0, num_threads=1, byte_fallback=False, unk_id=0, bos_id=1, eos_id=2,
        pad_id=-1, normalization_rule_name="identity", minloglevel=2)
    os.remove(txt)
    os.remove(os.path.join(d, "tokenizer.vocab"))
    return os.path.join(d, "tokenizer.model")


def llama2c_tokenizer_bin(model_path, out):
    """karpathy/llama2.c tokenizer.py export()."""
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=model_path)
    tokens, scores = [], []
    for i in range(sp.vocab_size()):
        t = sp.id_to_piece(i)
        s = sp.get_score(i)
        if i == sp.bos_id():
            t = "\n<s>\n"
        elif i == sp.eos_id():
            t = "\n</s>\n"
        t = t.replace("\u2581", " ")
        tokens.append(t.encode("utf-8"))
        scores.append(s)
    with open(out, "wb") as f:
        f.write(struct.pack("I", max(len(t) for t in tokens)))
        for b, s in zip(tokens, scores):
            f.write(struct.pack("fI", s, len(b)))
            f.write(b)


QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def train_bpe(d, specials, qwen2):
    from tokenizers import Tokenizer, Regex, models, pre_tokenizers, decoders, trainers, normalizers
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE())
    if qwen2:
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=256, special_tokens=specials, show_progress=False)
    tok.train_from_iterator([training_text()], trainer=trainer)
    assert tok.get_vocab_size() == 256, tok.get_vocab_size()
    kw = {"eos_token": specials[0], "bos_token": None if qwen2 else specials[0],
          "unk_token": None if qwen2 else specials[0], "pad_token": specials[0] if qwen2 else None}
    if qwen2:
        kw["additional_special_tokens"] = specials[1:]
    PreTrainedTokenizerFast(tokenizer_object=tok, **kw).save_pretrained(d)


# --------------------------------------------------------------------------------------
# models

def randomize(model, seed):
    """Every parameter random, so that a forward pass that ignores one is caught."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("bias"):
                p.copy_(0.1 * r)
            elif p.dim() == 1:
                p.copy_(1.0 + 0.1 * r)
            else:
                p.copy_(0.1 * r)


def logits_of(model, ids):
    import torch
    with torch.no_grad():
        out = model(torch.tensor([ids], dtype=torch.long)).logits[0]
    return out.float().numpy().astype("<f4")


def meta_to_hf(w, n_head):
    """Meta's interleaved q/k rows to Hugging Face's rotate_half order (what
    transformers' convert_llama_weights_to_hf and llama2.c's hf_export do)."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, w.shape[1]).swapaxes(1, 2).reshape(w.shape)


LL = dict(dim=32, hidden=64, n_layer=2, n_head=4, n_kv=2, vocab=256, seq=64)


def gen_llama(ids):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    d = os.path.join(CONV, "llama")
    os.makedirs(d, exist_ok=True)
    p = LL
    hd = p["dim"] // p["n_head"]
    kv = p["n_kv"] * hd
    rng = np.random.default_rng(2024)

    def m(o, i):  # float32 values that F16 holds exactly: f16 GGUFs are lossless
        return (0.1 * rng.standard_normal((o, i))).astype(np.float16).astype(np.float32)

    def nw(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float16).astype(np.float32)

    L = range(p["n_layer"])
    wts = {"tok": m(p["vocab"], p["dim"]),
           "att_norm": [nw(p["dim"]) for _ in L], "wq": [m(p["dim"], p["dim"]) for _ in L],
           "wk": [m(kv, p["dim"]) for _ in L], "wv": [m(kv, p["dim"]) for _ in L],
           "wo": [m(p["dim"], p["dim"]) for _ in L], "ffn_norm": [nw(p["dim"]) for _ in L],
           "w1": [m(p["hidden"], p["dim"]) for _ in L], "w2": [m(p["dim"], p["hidden"]) for _ in L],
           "w3": [m(p["hidden"], p["dim"]) for _ in L], "norm": nw(p["dim"])}
    cls = m(p["vocab"], p["dim"])
    legacy_export(os.path.join(CONV, "llama2c.bin"),
                  (p["dim"], p["hidden"], p["n_layer"], p["n_head"], p["n_kv"], p["vocab"], p["seq"]), wts, cls)
    note(os.path.join(CONV, "llama2c.bin"), "llama2.c legacy checkpoint")

    spm_path = train_sentencepiece(d)
    llama2c_tokenizer_bin(spm_path, os.path.join(CONV, "llama2c_tok.bin"))
    note(os.path.join(CONV, "llama2c_tok.bin"), "llama2.c tokenizer.bin")
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "tokenizer_class": "LlamaTokenizer", "model_max_length": p["seq"]},
                  f, indent=2)

    cfg = LlamaConfig(vocab_size=p["vocab"], hidden_size=p["dim"], intermediate_size=p["hidden"],
                      num_hidden_layers=p["n_layer"], num_attention_heads=p["n_head"],
                      num_key_value_heads=p["n_kv"], max_position_embeddings=p["seq"], rms_norm_eps=1e-5,
                      rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                      attn_implementation="eager")
    model = LlamaForCausalLM(cfg).eval()
    sd = {"model.embed_tokens.weight": wts["tok"], "model.norm.weight": wts["norm"], "lm_head.weight": cls}
    for i in L:
        pre = f"model.layers.{i}."
        sd[pre + "input_layernorm.weight"] = wts["att_norm"][i]
        sd[pre + "self_attn.q_proj.weight"] = meta_to_hf(wts["wq"][i], p["n_head"])
        sd[pre + "self_attn.k_proj.weight"] = meta_to_hf(wts["wk"][i], p["n_kv"])
        sd[pre + "self_attn.v_proj.weight"] = wts["wv"][i]
        sd[pre + "self_attn.o_proj.weight"] = wts["wo"][i]
        sd[pre + "post_attention_layernorm.weight"] = wts["ffn_norm"][i]
        sd[pre + "mlp.gate_proj.weight"] = wts["w1"][i]
        sd[pre + "mlp.down_proj.weight"] = wts["w2"][i]
        sd[pre + "mlp.up_proj.weight"] = wts["w3"][i]
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()},
                                                strict=False)
    assert not unexpected and all("rotary" in k for k in missing), (missing, unexpected)
    # logits first: .half() would also round the rotary inv_freq buffer to float16
    lg = logits_of(model, ids)
    model.half().save_pretrained(d, safe_serialization=True)
    model.float()
    for f in os.listdir(d):
        note(os.path.join(d, f), "Hugging Face llama (f16)")
    lg.tofile(os.path.join(CONV, "llama.logits"))
    note(os.path.join(CONV, "llama.logits"), "transformers logits [16][256]")
    return wts, cls


def gen_qwen2(ids):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM
    d = os.path.join(CONV, "qwen2")
    os.makedirs(d, exist_ok=True)
    train_bpe(d, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], qwen2=True)
    cfg = Qwen2Config(vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
                      use_sliding_window=False, bos_token_id=None, eos_token_id=253,
                      attn_implementation="eager")
    model = Qwen2ForCausalLM(cfg).eval()
    randomize(model, 7)
    with torch.no_grad():  # the bf16 values the file will hold
        for prm in model.parameters():
            prm.copy_(prm.to(torch.bfloat16).float())
    lg = logits_of(model, ids)  # before .to(bfloat16), which rounds the rotary inv_freq too
    model.to(torch.bfloat16).save_pretrained(d, safe_serialization=True)
    model.float()
    for f in os.listdir(d):
        note(os.path.join(d, f), "Hugging Face qwen2 (bf16)")
    lg.tofile(os.path.join(CONV, "qwen2.logits"))
    note(os.path.join(CONV, "qwen2.logits"), "transformers logits [16][256]")


def gen_gpt2(ids):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    d = os.path.join(CONV, "gpt2")
    os.makedirs(d, exist_ok=True)
    train_bpe(d, ["<|endoftext|>"], qwen2=False)
    cfg = GPT2Config(vocab_size=256, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                     layer_norm_epsilon=1e-5, bos_token_id=0, eos_token_id=0,
                     attn_implementation="eager")
    model = GPT2LMHeadModel(cfg).eval()
    randomize(model, 8)
    with torch.no_grad():  # values F16 holds exactly: the f16 GGUF is lossless
        for prm in model.parameters():
            prm.copy_(prm.half().float())
    model.save_pretrained(d, safe_serialization=True)
    for f in os.listdir(d):
        note(os.path.join(d, f), "Hugging Face gpt2")
    lg = logits_of(model, ids)
    lg.tofile(os.path.join(CONV, "gpt2.logits"))
    note(os.path.join(CONV, "gpt2.logits"), "transformers logits [16][256]")


# --------------------------------------------------------------------------------------
# conversions and checks

def run_convert(src, out, dtype, tokenizer=None):
    convert.convert(src, out, dtype, tokenizer=tokenizer, quiet=True)
    note(out, f"tools/convert.py --dtype {dtype}")


def tensors_of(path):
    r = GGUFReader(path)
    return r, {t.name: t for t in r.tensors}


def tdata(t):
    """A GGUFReader tensor as float32, whatever its type."""
    a = np.array(t.data)
    if t.tensor_type in (QT.F32, QT.F16):
        return a.astype(np.float32)
    return gguf.quants.dequantize(a, t.tensor_type)


def field(r, key):
    f = r.fields.get(key)
    return None if f is None else f.contents()


def q4_0_reference(src, out):
    """llama_hf.gguf's tensors as artr-quantize's q4_0 rules quantize them, by gguf-py."""
    r, T = tensors_of(src)
    w = GGUFWriter(out, "")
    for t in r.tensors:
        a = np.array(t.data)
        name = t.name
        shape = [int(x) for x in t.shape]
        quant = (name.endswith("weight") and len(shape) >= 2 and "_norm.weight" not in name
                 and shape[0] % 32 == 0)
        if quant:
            qt = QT.Q8_0 if name == "output.weight" else QT.Q4_0
            w.add_tensor(name, gguf.quants.quantize(a, qt), raw_dtype=qt)
        else:
            w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    note(out, "gguf-py Q4_0 reference for artr-quantize")


def check_llama_pair(wts, cls):
    ra, A = tensors_of(os.path.join(CONV, "llama_hf.gguf"))
    rb, B = tensors_of(os.path.join(CONV, "llama_l2c.gguf"))
    assert sorted(A) == sorted(B)
    for name in A:
        assert A[name].tensor_type == B[name].tensor_type, name
        assert np.array(A[name].data).tobytes() == np.array(B[name].data).tobytes(), name
    # the permutation round trip: GGUF holds Meta's layout, as in the llama2.c file
    assert np.array_equal(tdata(A["blk.1.attn_q.weight"]), wts["wq"][1])
    assert np.array_equal(tdata(A["blk.0.attn_k.weight"]), wts["wk"][0])
    assert np.array_equal(tdata(A["output.weight"]), cls)
    for key in ("llama.block_count", "llama.context_length", "llama.embedding_length",
                "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
                "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon", "llama.vocab_size",
                "llama.rope.dimension_count", "tokenizer.ggml.model", "tokenizer.ggml.tokens",
                "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id",
                "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
                "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token"):
        assert field(ra, key) == field(rb, key), (key, field(ra, key), field(rb, key))
    print(f"llama pair: {len(A)} tensors byte-identical, config and tokenizer equal")


def check_against_hf(d, gguf_path, arch):
    """Every GGUF tensor against the safetensors it came from (through transformers' own
    loader), undoing the documented transforms."""
    import torch
    from safetensors.torch import load_file
    sd = {}
    for f in os.listdir(d):
        if f.endswith(".safetensors"):
            sd.update({k: v.float().numpy() for k, v in load_file(os.path.join(d, f)).items()})
    r, T = tensors_of(gguf_path)
    pre = "transformer." if arch == "gpt2" and "transformer.wte.weight" in sd else ""
    if arch == "gpt2":
        assert np.array_equal(tdata(T["blk.1.attn_qkv.weight"]), sd[pre + "h.1.attn.c_attn.weight"].T)
        assert np.array_equal(tdata(T["blk.0.ffn_down.weight"]), sd[pre + "h.0.mlp.c_proj.weight"].T)
        assert np.array_equal(tdata(T["position_embd.weight"]), sd[pre + "wpe.weight"])
        assert "output.weight" not in T
    else:
        assert np.array_equal(tdata(T["blk.1.attn_q.weight"]), sd["model.layers.1.self_attn.q_proj.weight"])
        assert np.array_equal(tdata(T["blk.1.attn_k.bias"]), sd["model.layers.1.self_attn.k_proj.bias"])
        assert "output.weight" not in T
    print(f"{os.path.basename(gguf_path)}: matches {os.path.relpath(d, ROOT)}")
    del torch


def check_convert_errors():
    """Unsupported inputs get one-line errors."""
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        with open(os.path.join(t, "config.json"), "w") as f:
            json.dump({"architectures": ["MambaForCausalLM"]}, f)
        try:
            convert.convert(t, os.path.join(t, "x.gguf"), "f32", quiet=True)
            raise AssertionError("no error")
        except convert.ConvertError as e:
            assert "MambaForCausalLM" in str(e) and "not supported" in str(e), e
        assert not os.path.exists(os.path.join(t, "x.gguf"))
    print("convert.py refuses an unsupported architecture")


def check_sentencepiece_parser(path):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=path)
    tokens, scores, types, ids = convert.read_sentencepiece(path)
    assert [t.decode() for t in tokens] == [sp.id_to_piece(i) for i in range(sp.vocab_size())]
    assert scores == [sp.get_score(i) for i in range(sp.vocab_size())]
    want = [2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i)
            else 5 if sp.is_unused(i) else 1 for i in range(sp.vocab_size())]
    assert types == want
    assert (ids["unk"], ids["bos"], ids["eos"], ids["pad"]) == (sp.unk_id(), sp.bos_id(), sp.eos_id(), sp.pad_id())
    print("tokenizer.model parser agrees with sentencepiece")


def check_quantizer_tool():
    """If build/artr-quantize exists, its output against gguf-py (the C test does this too)."""
    exe = os.path.join(ROOT, "build", "artr-quantize")
    if not os.path.exists(exe):
        subprocess.run(["make", "-C", ROOT, "build/artr-quantize"], check=False, capture_output=True)
    if not os.path.exists(exe):
        print("skipped: artr-quantize check (build/artr-quantize missing)")
        return
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        for typ, ref in (("q8_0", "llama_hf_q8_0.gguf"), ("q4_0", "llama_hf_q4_0_ref.gguf")):
            out = os.path.join(t, typ + ".gguf")
            subprocess.run([exe, "-q", os.path.join(CONV, "llama_hf.gguf"), out, typ], check=True)
            r, A = tensors_of(out)
            _, B = tensors_of(os.path.join(CONV, ref))
            for name in B:
                assert A[name].tensor_type == B[name].tensor_type, (name, A[name].tensor_type, B[name].tensor_type)
                assert np.array(A[name].data).tobytes() == np.array(B[name].data).tobytes(), name
            src = GGUFReader(os.path.join(CONV, "llama_hf.gguf"))
            for k, f in src.fields.items():
                if k.startswith("GGUF.") or k == "general.file_type":
                    continue
                assert field(r, k) == f.contents(), k
            print(f"artr-quantize {typ}: {len(B)} tensors byte-identical to gguf-py, metadata carried over "
                  f"(GGUFReader reads it)")


def main():
    import torch
    torch.manual_seed(0)
    os.makedirs(CONV, exist_ok=True)
    for sub in ("llama", "qwen2", "gpt2"):
        shutil.rmtree(os.path.join(CONV, sub), ignore_errors=True)
    gen_quant_ref()
    rng = np.random.default_rng(99)
    ids = [1] + [int(i) for i in rng.integers(3, 253, N_IDS - 1)]
    np.array(ids, dtype="<i4").tofile(os.path.join(CONV, "ids.bin"))
    note(os.path.join(CONV, "ids.bin"), f"{N_IDS} int32 token ids")
    wts, cls = gen_llama(ids)
    gen_qwen2(ids)
    gen_gpt2(ids)

    run_convert(os.path.join(CONV, "llama"), os.path.join(CONV, "llama_hf.gguf"), "f16")
    run_convert(os.path.join(CONV, "llama2c.bin"), os.path.join(CONV, "llama_l2c.gguf"), "f16",
                tokenizer=os.path.join(CONV, "llama2c_tok.bin"))
    run_convert(os.path.join(CONV, "llama"), os.path.join(CONV, "llama_hf_q8_0.gguf"), "q8_0")
    run_convert(os.path.join(CONV, "qwen2"), os.path.join(CONV, "qwen2.gguf"), "bf16")
    run_convert(os.path.join(CONV, "gpt2"), os.path.join(CONV, "gpt2.gguf"), "f16")
    q4_0_reference(os.path.join(CONV, "llama_hf.gguf"), os.path.join(CONV, "llama_hf_q4_0_ref.gguf"))

    check_llama_pair(wts, cls)
    check_against_hf(os.path.join(CONV, "qwen2"), os.path.join(CONV, "qwen2.gguf"), "qwen2")
    check_against_hf(os.path.join(CONV, "gpt2"), os.path.join(CONV, "gpt2.gguf"), "gpt2")
    check_sentencepiece_parser(os.path.join(CONV, "llama", "tokenizer.model"))
    check_convert_errors()
    check_quantizer_tool()

    print("\n== wrote ==")
    total = 0
    for path, what in WRITTEN:
        size = os.path.getsize(os.path.join(ROOT, path))
        total += size
        sha = hashlib.sha256(open(os.path.join(ROOT, path), "rb").read()).hexdigest()[:12]
        print(f"  {path:44s} {size:7d} B  {sha}  {what}")
    print(f"  total {total} B")


if __name__ == "__main__":
    main()
