#!/usr/bin/env python3
"""Generate artr's forward-pass reference fixtures from Hugging Face transformers.

Requirements:  pip install torch transformers gguf numpy
               (written against torch 2.x, transformers 5.x, gguf-py 0.19; CPU only)
Run from the repository root:

    python tests/gen_forward_fixtures.py

What it makes (all in tests/fixtures/)
--------------------------------------
Four small random-init models, built from transformers' own classes
(attn_implementation="eager", float32, eval mode, CPU):

  llama       LlamaForCausalLM: vocab 96, hidden 64, ffn 160, 2 layers, 4 heads,
              2 kv heads (head_dim 16), ctx 128, rope base 1e4, rms eps 1e-5, untied.
  llama_tied  the same with 4 kv heads, rope base 5e5, 3 layers, tied embeddings.
  qwen2       Qwen2ForCausalLM: llama's shapes (2 layers, 4 heads, 2 kv heads),
              q/k/v biases, rope base 1e6, rms eps 1e-6, tied.
  gpt2        GPT2LMHeadModel: vocab 96, n_embd 64, 2 layers, 4 heads, n_inner 256,
              n_positions 128, gelu_new, ln eps 1e-5, tied (wte = lm_head).

After transformers' init every parameter is overwritten so that biases and
norms matter and the predictions are peaked: norm weights 1 + 0.2*randn, all
biases 0.2*randn, embeddings (token and position) 0.5*randn, every other weight
randn * 1.5/sqrt(fan_in).

Files:
  hf_<name>.gguf    the model converted to GGUF with gguf-py's GGUFWriter,
                    following llama.cpp's convert_hf_to_gguf.py (all F32).
  hf_<name>.ref     the transformers reference outputs (layout below).
  hf_llama_f16.gguf, hf_llama_bf16.gguf, hf_llama_q8_0.gguf, hf_llama_q4_0.gguf
                    the llama weights with every 2-D tensor stored as F16 / BF16 /
                    Q8_0 / Q4_0 (gguf.quants.quantize), 1-D tensors F32.  Their
                    reference is hf_llama.ref (the F32 model's outputs).

Conversion conventions (llama.cpp's)
------------------------------------
* A numpy array of shape (n_out, n_in) passed to add_tensor is stored with
  GGUF ne = [n_in, n_out].  1-D tensors are always F32.
* llama: keys llama.{context_length, embedding_length, block_count,
  feed_forward_length, attention.head_count, attention.head_count_kv,
  rope.freq_base, attention.layer_norm_rms_epsilon, rope.dimension_count,
  vocab_size}; tensors token_embd, output_norm, output (absent when tied),
  blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate,
  ffn_up, ffn_down}.weight.  attn_q / attn_k rows are permuted
  (LlamaModel.permute, n_head resp. n_head_kv) from HF's rotate_half RoPE layout
  to the interleaved-pair layout ggml's "normal" RoPE uses: within each head,
  dims (2i, 2i+1) form a pair rotated by pos * base^(-2i/head_dim).
* qwen2: like llama but NOT permuted (llama.cpp runs qwen2 with NEOX RoPE:
  pairs (i, i + head_dim/2), i.e. HF's rotate_half), plus F32
  blk.N.attn_{q,k,v}.bias, tied (no output.weight).  Like llama.cpp's Qwen2Model
  (which does not inherit LlamaModel's extras) the file has NO
  qwen2.rope.dimension_count and NO qwen2.vocab_size: loaders default them.
* gpt2: keys gpt2.{context_length, embedding_length, block_count,
  feed_forward_length, attention.head_count, attention.layer_norm_epsilon} (no
  head_count_kv, like llama.cpp's GPT2Model); tensors token_embd (wte),
  position_embd (wpe), output_norm.{weight,bias} (ln_f), blk.N.attn_norm (ln_1),
  attn_qkv (c_attn; rows: q, k, v), attn_output (attn.c_proj), ffn_norm (ln_2),
  ffn_up (mlp.c_fc), ffn_down (mlp.c_proj), each .weight and .bias.  HF's Conv1D
  stores (in, out); it is transposed to (out, in).  No output.weight: the current
  llama.cpp converter no longer duplicates wte as output.weight (older ones
  did), so a loader must treat a missing output.weight as tied.
* general.file_type is written as llama.cpp does (0 F32, 1 F16, 32 BF16,
  7 Q8_0, 2 Q4_0).  No tokenizer keys.

Reference file layout (hf_<name>.ref, little-endian)
-----------------------------------------------------
  int32   magic = 0x46455241 ('AREF' read as bytes "AREF")
  int32   version = 1
  int32   n_ids (40)
  int32   n_vocab (96)
  int32   ids[n_ids]                  seeded random ids in [0, n_vocab)
  float32 logits[n_ids][n_vocab]      model(input_ids=ids[None]).logits[0]: every
                                      position, one forward from an empty cache
  int32   n_prompt (8)
  int32   n_gen (32)
  int32   gen[n_gen]                  model.generate(ids[None, :n_prompt],
                                      do_sample=False, max_new_tokens=min_new_tokens
                                      =n_gen, no eos)[0, n_prompt:]: plain argmax

Robustness: for every greedy step the gap between the top-1 and top-2 logit
must be >= 1e-3 (and the continuation of generate() must agree with a single
full forward over prompt+gen).  For llama, a float64 numpy forward on the
weights exactly as stored in the F16, BF16 and Q8_0 files must, with a margin,
meet what tests/test_forward.c asks of them against hf_llama.ref: max logit
diff <= 0.8 * its tolerance (F16 2e-2, BF16 1.5e-1), all 32 greedy tokens equal
with every step's gap >= 1e-3, top-1 equal on >= 97.5% of positions.  Q4_0 is
only measured (on this random model no seed gets near 95% top-1).  A seed that
fails is bumped and the model regenerated.

Verification: every GGUF is read back with gguf.GGUFReader, and a float64
numpy forward pass that reads only the GGUF (weights and keys) reproduces the
transformers logits -- the proof that the conversion conventions are right.
Seeds are fixed and torch runs single-threaded and deterministic on CPU.
"""

# Paste-able C description of the .ref layout:
#
# /* tests/fixtures/hf_<name>.ref, little-endian (tests/gen_forward_fixtures.py):
#      int32   magic   0x46455241 ('AREF')
#      int32   version 1
#      int32   n_ids   (40)
#      int32   n_vocab (96)
#      int32   ids[n_ids]                 random token ids in [0, n_vocab)
#      float32 logits[n_ids][n_vocab]     transformers logits at every position of ids,
#                                         one forward pass from an empty cache
#      int32   n_prompt (8)
#      int32   n_gen    (32)
#      int32   gen[n_gen]                 greedy (argmax) continuation of ids[0..n_prompt),
#                                         no end-of-sequence stop; every step's top-1 beats
#                                         top-2 by >= 1e-3
#    File size = 16 + 4*n_ids + 4*n_ids*n_vocab + 8 + 4*n_gen bytes. */

import math
import copy
import os
import struct
import sys

import numpy as np
import torch

import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFReader, GGUFWriter, LlamaFileType

import transformers
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM,
                          Qwen2Config, Qwen2ForCausalLM)

OUT_DIR = os.path.join("tests", "fixtures")
N_VOCAB = 96
N_IDS = 40
N_PROMPT = 8
N_GEN = 32
MIN_GAP = 1e-3
REF_MAGIC = 0x46455241
REF_VERSION = 1
CHECK_TOL = 1e-4  # numpy-from-GGUF vs transformers, F32 files

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)
transformers.logging.set_verbosity_error()


def out_path(name):
    return os.path.join(OUT_DIR, name)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

COMMON = dict(bos_token_id=None, eos_token_id=None, pad_token_id=None,
              attn_implementation="eager")


def make_llama(**over):
    kw = dict(vocab_size=N_VOCAB, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
              rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
              attention_bias=False, mlp_bias=False)
    kw.update(over)
    return LlamaForCausalLM(LlamaConfig(**kw, **COMMON))


def make_llama_tied():
    return make_llama(num_key_value_heads=4, rope_theta=500000.0, tie_word_embeddings=True,
                      num_hidden_layers=3)


def make_qwen2():
    return Qwen2ForCausalLM(Qwen2Config(
        vocab_size=N_VOCAB, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, **COMMON))


def make_gpt2():
    return GPT2LMHeadModel(GPT2Config(
        vocab_size=N_VOCAB, n_embd=64, n_layer=2, n_head=4, n_positions=128, n_inner=None,
        activation_function="gelu_new", layer_norm_epsilon=1e-5, resid_pdrop=0.0,
        embd_pdrop=0.0, attn_pdrop=0.0, **COMMON))


# name -> (constructor, first seed)
MODELS = {
    "llama": (make_llama, 1000),
    "llama_tied": (make_llama_tied, 2000),
    "qwen2": (make_qwen2, 3000),
    "gpt2": (make_gpt2, 4000),
}


@torch.no_grad()
def perturb(model, g):
    """Overwrite every parameter (once, even when tied) with peaked random values."""
    from transformers.pytorch_utils import Conv1D
    seen = set()
    for mod in model.modules():
        for pname, p in mod.named_parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            cls = type(mod).__name__
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if pname == "bias":
                v = 0.2 * r
            elif "Norm" in cls:
                v = 1.0 + 0.2 * r
            elif isinstance(mod, torch.nn.Embedding):
                v = 0.5 * r
            elif isinstance(mod, torch.nn.Linear):
                v = r * (1.5 / math.sqrt(p.shape[1]))
            elif isinstance(mod, Conv1D):  # GPT-2 stores (in, out)
                v = r * (1.5 / math.sqrt(p.shape[0]))
            else:
                raise ValueError(f"unexpected parameter {cls}.{pname} {tuple(p.shape)}")
            p.copy_(v)
    n_params = sum(1 for _ in model.parameters())
    assert len(seen) == n_params, (len(seen), n_params)


def build(name, seed):
    ctor, _ = MODELS[name]
    torch.manual_seed(seed)
    model = ctor()
    model.eval()
    assert model.config._attn_implementation == "eager"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    g = torch.Generator().manual_seed(seed)
    perturb(model, g)
    if getattr(model.config, "tie_word_embeddings", False):
        assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    ids = torch.randint(0, N_VOCAB, (N_IDS,), generator=g, dtype=torch.long)
    return model, ids


def top2_gap(row):
    s = np.sort(np.asarray(row, dtype=np.float64))
    return s[-1] - s[-2]


@torch.no_grad()
def reference(model, ids):
    """(logits[n_ids][vocab], gen[n_gen], min greedy gap) from transformers."""
    logits = model(input_ids=ids[None]).logits[0].float().numpy()
    prompt = ids[None, :N_PROMPT]
    gc = model.generation_config
    gc.eos_token_id = None
    gc.bos_token_id = None
    out = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                         max_new_tokens=N_GEN, min_new_tokens=N_GEN, pad_token_id=0,
                         eos_token_id=None, return_dict_in_generate=True, output_logits=True)
    seq = out.sequences[0]
    assert seq.shape[0] == N_PROMPT + N_GEN
    gen = seq[N_PROMPT:].numpy().astype(np.int32)
    gaps = []
    # the raw per-step logits of generate() (KV-cache path) ...
    for step, lg in enumerate(out.logits):
        row = lg[0].float().numpy()
        assert int(np.argmax(row)) == gen[step]
        gaps.append(top2_gap(row))
    # ... and one full forward over prompt + gen (no cache) agree
    full = model(input_ids=seq[None, :-1]).logits[0].float().numpy()
    for step in range(N_GEN):
        row = full[N_PROMPT - 1 + step]
        assert int(np.argmax(row)) == gen[step], f"generate vs forward differ at step {step}"
        gaps.append(top2_gap(row))
    return logits, gen, float(min(gaps))


def write_ref(path, ids, logits, gen):
    ids = np.asarray(ids, dtype="<i4")
    logits = np.ascontiguousarray(logits, dtype="<f4")
    gen = np.asarray(gen, dtype="<i4")
    assert ids.shape == (N_IDS,) and logits.shape == (N_IDS, N_VOCAB) and gen.shape == (N_GEN,)
    with open(path, "wb") as f:
        f.write(struct.pack("<iiii", REF_MAGIC, REF_VERSION, N_IDS, N_VOCAB))
        f.write(ids.tobytes())
        f.write(logits.tobytes())
        f.write(struct.pack("<ii", N_PROMPT, N_GEN))
        f.write(gen.tobytes())
    assert os.path.getsize(path) == 16 + 4 * N_IDS + 4 * N_IDS * N_VOCAB + 8 + 4 * N_GEN


# --------------------------------------------------------------------------
# HF -> GGUF tensors and keys (llama.cpp convert_hf_to_gguf.py conventions)
# --------------------------------------------------------------------------

def permute(w, n_head):
    """llama.cpp LlamaModel.permute: HF rotate_half rows -> interleaved RoPE pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def convert(name, model):
    """Returns (arch, keys: list of (method, value), tensors: ordered dict name -> float32)."""
    cfg = model.config
    sd = {k: v.detach().float().numpy().copy() for k, v in model.state_dict().items()}
    t = {}
    if name == "gpt2":
        arch = "gpt2"
        n_embd = cfg.n_embd
        n_ff = cfg.n_inner if cfg.n_inner is not None else 4 * n_embd
        keys = [("add_context_length", cfg.n_positions), ("add_embedding_length", n_embd),
                ("add_block_count", cfg.n_layer), ("add_feed_forward_length", n_ff),
                ("add_head_count", cfg.n_head), ("add_layer_norm_eps", cfg.layer_norm_epsilon)]
        t["token_embd.weight"] = sd["transformer.wte.weight"]
        t["position_embd.weight"] = sd["transformer.wpe.weight"]
        for i in range(cfg.n_layer):
            h, b = f"transformer.h.{i}.", f"blk.{i}."
            for hf, gg, conv in (("ln_1", "attn_norm", False), ("attn.c_attn", "attn_qkv", True),
                                 ("attn.c_proj", "attn_output", True), ("ln_2", "ffn_norm", False),
                                 ("mlp.c_fc", "ffn_up", True), ("mlp.c_proj", "ffn_down", True)):
                w = sd[h + hf + ".weight"]
                t[b + gg + ".weight"] = np.ascontiguousarray(w.T) if conv else w
                t[b + gg + ".bias"] = sd[h + hf + ".bias"]
        t["output_norm.weight"] = sd["transformer.ln_f.weight"]
        t["output_norm.bias"] = sd["transformer.ln_f.bias"]
        assert cfg.tie_word_embeddings
        return arch, keys, t

    arch = "llama" if name.startswith("llama") else "qwen2"
    n_head, n_head_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    head_dim = cfg.hidden_size // n_head
    rope_theta = cfg.rope_parameters["rope_theta"]  # transformers 5: no cfg.rope_theta
    assert cfg.rope_parameters.get("rope_type", "default") == "default"
    keys = [("add_context_length", cfg.max_position_embeddings),
            ("add_embedding_length", cfg.hidden_size), ("add_block_count", cfg.num_hidden_layers),
            ("add_feed_forward_length", cfg.intermediate_size), ("add_head_count", n_head),
            ("add_head_count_kv", n_head_kv), ("add_rope_freq_base", float(rope_theta)),
            ("add_layer_norm_rms_eps", float(cfg.rms_norm_eps))]
    if arch == "llama":  # LlamaModel.set_gguf_parameters extras
        keys += [("add_vocab_size", cfg.vocab_size), ("add_rope_dimension_count", head_dim)]
    t["token_embd.weight"] = sd["model.embed_tokens.weight"]
    for i in range(cfg.num_hidden_layers):
        h, b = f"model.layers.{i}.", f"blk.{i}."
        q = sd[h + "self_attn.q_proj.weight"]
        k = sd[h + "self_attn.k_proj.weight"]
        if arch == "llama":
            q, k = permute(q, n_head), permute(k, n_head_kv)
        t[b + "attn_norm.weight"] = sd[h + "input_layernorm.weight"]
        t[b + "attn_q.weight"] = np.ascontiguousarray(q)
        t[b + "attn_k.weight"] = np.ascontiguousarray(k)
        t[b + "attn_v.weight"] = sd[h + "self_attn.v_proj.weight"]
        if arch == "qwen2":
            for p in "qkv":
                t[b + f"attn_{p}.bias"] = sd[h + f"self_attn.{p}_proj.bias"]
        else:
            assert h + "self_attn.q_proj.bias" not in sd
        t[b + "attn_output.weight"] = sd[h + "self_attn.o_proj.weight"]
        t[b + "ffn_norm.weight"] = sd[h + "post_attention_layernorm.weight"]
        t[b + "ffn_gate.weight"] = sd[h + "mlp.gate_proj.weight"]
        t[b + "ffn_up.weight"] = sd[h + "mlp.up_proj.weight"]
        t[b + "ffn_down.weight"] = sd[h + "mlp.down_proj.weight"]
    t["output_norm.weight"] = sd["model.norm.weight"]
    if not cfg.tie_word_embeddings:
        t["output.weight"] = sd["lm_head.weight"]
    return arch, keys, t


FILE_TYPES = {QT.F32: LlamaFileType.ALL_F32, QT.F16: LlamaFileType.MOSTLY_F16,
              QT.BF16: LlamaFileType.MOSTLY_BF16, QT.Q8_0: LlamaFileType.MOSTLY_Q8_0,
              QT.Q4_0: LlamaFileType.MOSTLY_Q4_0}


def encode(tensors, qtype):
    """name -> (array, raw_dtype) with every 2-D tensor as qtype, 1-D as F32."""
    out = {}
    for n, a in tensors.items():
        a = np.ascontiguousarray(a, dtype=np.float32)
        if a.ndim == 1 or qtype == QT.F32:
            out[n] = (a, None)
        elif qtype == QT.F16:
            out[n] = (a.astype(np.float16), None)
        else:
            assert a.shape[1] % 32 == 0, (n, a.shape)
            out[n] = (gguf.quants.quantize(a, qtype), qtype)
    return out


def write_gguf(path, arch, keys, tensors, qtype):
    w = GGUFWriter(path, arch)
    for method, value in keys:
        getattr(w, method)(value)
    w.add_file_type(int(FILE_TYPES[qtype]))
    for n, (a, raw) in encode(tensors, qtype).items():
        if raw is None:
            w.add_tensor(n, a)
        else:
            w.add_tensor(n, a, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def encoded_weights(tensors, qtype):
    """What a reader gets back from a file written with qtype (float64)."""
    return {n: gguf.quants.dequantize(a, raw if raw is not None else
                                      (QT.F16 if a.dtype == np.float16 else QT.F32)).astype(np.float64)
            for n, (a, raw) in encode(tensors, qtype).items()}


# --------------------------------------------------------------------------
# Quantized variants: transformers run on the weights the Q8_0 / Q4_0 files hold
# --------------------------------------------------------------------------

def unpermute(w, n_head):
    """Inverse of permute: interleaved RoPE pairs -> HF rotate_half rows."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


LLAMA_NAMES = {
    "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
    "ffn_norm": "post_attention_layernorm", "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}


@torch.no_grad()
def dequantized_llama(model, tensors, qtype):
    """A copy of the HF llama whose weights are exactly what a qtype file stores."""
    cfg = model.config
    m2 = copy.deepcopy(model)
    sd = m2.state_dict()
    for n, a in encoded_weights(tensors, qtype).items():
        a = a.astype(np.float32)
        if n == "token_embd.weight":
            hf = "model.embed_tokens.weight"
        elif n == "output_norm.weight":
            hf = "model.norm.weight"
        elif n == "output.weight":
            hf = "lm_head.weight"
        else:
            _, i, part, _ = n.split(".")
            hf = f"model.layers.{i}.{LLAMA_NAMES[part]}.weight"
            if part == "attn_q":
                a = unpermute(a, cfg.num_attention_heads)
            elif part == "attn_k":
                a = unpermute(a, cfg.num_key_value_heads)
        assert sd[hf].shape == a.shape, (n, hf)
        sd[hf].copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return m2


# --------------------------------------------------------------------------
# Independent numpy forward pass that reads only GGUF content
# --------------------------------------------------------------------------

def read_gguf(path):
    r = GGUFReader(path)
    kv = {}
    for k, f in r.fields.items():
        if k.startswith("GGUF."):
            continue
        kv[k] = f.contents()
    ts = {}
    for t in r.tensors:
        a = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float64)
        ne = [int(x) for x in t.shape]  # GGUF ne order
        assert a.shape == tuple(reversed(ne)), (t.name, a.shape, ne)
        ts[t.name] = (a, t.tensor_type, ne)
    return kv, ts


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def layer_norm(x, w, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(q, k, v, n_head, n_head_kv):
    """q (n, n_head, hd), k/v (n, n_head_kv, hd); causal; returns (n, n_head*hd)."""
    n, _, hd = q.shape
    out = np.empty_like(q)
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for h in range(n_head):
        kh = h // (n_head // n_head_kv)
        s = q[:, h, :] @ k[:, kh, :].T / math.sqrt(hd) + mask
        out[:, h, :] = softmax(s) @ v[:, kh, :]
    return out.reshape(n, n_head * hd)


def rope(x, base, neox):
    """x (n, heads, hd); position p = row index.  ggml 'normal' mode rotates pairs
    (2i, 2i+1); NEOX mode rotates (i, i + hd/2); both by angle p * base^(-2i/hd)."""
    n, _, hd = x.shape
    theta = base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)  # (hd/2,)
    ang = np.arange(n, dtype=np.float64)[:, None] * theta[None, :]  # (n, hd/2)
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    if neox:
        a, b = x[..., : hd // 2], x[..., hd // 2:]
    else:
        a, b = x[..., 0::2], x[..., 1::2]
    ra, rb = a * c - b * s, a * s + b * c
    y = np.empty_like(x)
    if neox:
        y[..., : hd // 2], y[..., hd // 2:] = ra, rb
    else:
        y[..., 0::2], y[..., 1::2] = ra, rb
    return y


def np_forward(kv, w, ids):
    """Logits (n, vocab) for token ids at positions 0..n-1 from GGUF keys/weights."""
    arch = kv["general.architecture"]
    g = lambda k, d=None: kv.get(f"{arch}.{k}", d)  # noqa: E731
    n_layer, n_embd, n_head = g("block_count"), g("embedding_length"), g("attention.head_count")
    n_head_kv = g("attention.head_count_kv", n_head)
    hd = n_embd // n_head
    ids = np.asarray(ids)
    n = len(ids)
    x = w["token_embd.weight"][ids]
    out_w = w.get("output.weight", w["token_embd.weight"])
    if arch == "gpt2":
        eps = g("attention.layer_norm_epsilon")
        x = x + w["position_embd.weight"][:n]
        for i in range(n_layer):
            p = f"blk.{i}."
            h = layer_norm(x, w[p + "attn_norm.weight"], w[p + "attn_norm.bias"], eps)
            qkv = h @ w[p + "attn_qkv.weight"].T + w[p + "attn_qkv.bias"]
            q, k, v = (qkv[:, j * n_embd:(j + 1) * n_embd].reshape(n, n_head, hd) for j in range(3))
            a = attention(q, k, v, n_head, n_head)
            x = x + a @ w[p + "attn_output.weight"].T + w[p + "attn_output.bias"]
            h = layer_norm(x, w[p + "ffn_norm.weight"], w[p + "ffn_norm.bias"], eps)
            u = h @ w[p + "ffn_up.weight"].T + w[p + "ffn_up.bias"]
            u = 0.5 * u * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * u ** 3)))
            x = x + u @ w[p + "ffn_down.weight"].T + w[p + "ffn_down.bias"]
        x = layer_norm(x, w["output_norm.weight"], w["output_norm.bias"], eps)
        return x @ out_w.T
    assert arch in ("llama", "qwen2")
    eps = g("attention.layer_norm_rms_epsilon")
    base = g("rope.freq_base", 10000.0)
    assert g("rope.dimension_count", hd) == hd
    neox = arch == "qwen2"
    for i in range(n_layer):
        p = f"blk.{i}."
        h = rms_norm(x, w[p + "attn_norm.weight"], eps)
        proj = {}
        for c in "qkv":
            y = h @ w[p + f"attn_{c}.weight"].T
            if p + f"attn_{c}.bias" in w:
                y = y + w[p + f"attn_{c}.bias"]
            proj[c] = y.reshape(n, -1, hd)
        q, k = rope(proj["q"], base, neox), rope(proj["k"], base, neox)
        a = attention(q, k, proj["v"], n_head, n_head_kv)
        x = x + a @ w[p + "attn_output.weight"].T
        h = rms_norm(x, w[p + "ffn_norm.weight"], eps)
        gt = h @ w[p + "ffn_gate.weight"].T
        up = h @ w[p + "ffn_up.weight"].T
        x = x + (gt / (1.0 + np.exp(-gt)) * up) @ w[p + "ffn_down.weight"].T
    x = rms_norm(x, w["output_norm.weight"], eps)
    return x @ out_w.T


def agreement(kv, w, ids, logits, gen):
    """(max |diff| vs reference logits, top-1 agreement, greedy tokens equal, min top-1 gap
    along this model's own greedy path)."""
    lg = np_forward(kv, w, ids)
    top1 = float(np.mean(lg.argmax(-1) == logits.argmax(-1)))
    seq = [int(t) for t in ids[:N_PROMPT]]
    gap = np.inf
    for _ in range(N_GEN):
        row = np_forward(kv, w, seq)[-1]
        gap = min(gap, top2_gap(row))
        seq.append(int(np.argmax(row)))
    g = np.array(seq[N_PROMPT:], dtype=np.int32)
    same = int(np.argmin(np.append(g == gen, False)))  # length of the equal prefix
    return float(np.abs(lg - logits).max()), top1, same, float(gap)


# What tests/test_forward.c asks of the stored-precision llama variants, measured against
# hf_llama.ref (the F32 model's outputs): max |logit diff| (F16, BF16), exact greedy (F16),
# and greedy >= 16 tokens with top-1 on >= 95% of positions (BF16, Q8_0, Q4_0).
C_TOL = {"F16": 2e-2, "BF16": 1.5e-1}


def llama_variants_ok(name, model, ids, logits, gen):
    """Float64 numpy forward on the F16/BF16/Q8_0 weights exactly as stored (artr computes
    d*q*x in float, so it reproduces this up to float32 rounding).  Accept the seed only with
    a margin: max diff <= 0.8 * the C tolerance, all 32 greedy tokens equal with every step's
    top-1 gap >= MIN_GAP, top-1 agreement >= 97.5%.  Q4_0 is measured but not required."""
    arch, keys, tensors = convert(name, model)
    kv = {"general.architecture": arch}
    for method, value in keys:  # key names as GGUFWriter writes them
        kv[{"add_context_length": "llama.context_length",
            "add_embedding_length": "llama.embedding_length",
            "add_block_count": "llama.block_count",
            "add_feed_forward_length": "llama.feed_forward_length",
            "add_head_count": "llama.attention.head_count",
            "add_head_count_kv": "llama.attention.head_count_kv",
            "add_rope_freq_base": "llama.rope.freq_base",
            "add_layer_norm_rms_eps": "llama.attention.layer_norm_rms_epsilon",
            "add_vocab_size": "llama.vocab_size",
            "add_rope_dimension_count": "llama.rope.dimension_count"}[method]] = value
    res, ok = {}, True
    for qt in (QT.F16, QT.BF16, QT.Q8_0, QT.Q4_0):
        md, top1, same, gap = agreement(kv, encoded_weights(tensors, qt), ids.numpy(), logits, gen)
        res[qt.name] = (round(md, 4), top1, same, round(gap, 4))
        if qt == QT.Q4_0:
            continue
        ok = ok and same == N_GEN and gap >= MIN_GAP and top1 >= 0.975
        if qt.name in C_TOL:
            ok = ok and md <= 0.8 * C_TOL[qt.name]
    return ok, res


# --------------------------------------------------------------------------

def main():
    if not os.path.isdir(OUT_DIR):
        sys.exit(f"run from the repository root ({OUT_DIR} not found)")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, numpy {np.__version__}")
    report = {}
    written = []
    for name, (_, seed0) in MODELS.items():
        for attempt in range(100):
            seed = seed0 + attempt
            model, ids = build(name, seed)
            logits, gen, gap = reference(model, ids)
            std = float(logits.std())
            why = None
            if std <= 1.0:
                why = f"logit std {std:.3f} <= 1"
            elif gap < MIN_GAP:
                why = f"greedy top-1 gap {gap:.2e} < {MIN_GAP}"
            variants = None
            if why is None and name == "llama":
                ok, variants = llama_variants_ok(name, model, ids, logits, gen)
                if not ok:
                    why = "stored-precision variants (max diff, top-1, greedy, gap): " + str(variants)
            if why is None:
                break
            print(f"{name}: seed {seed} rejected ({why})")
        else:
            sys.exit(f"{name}: no acceptable seed")
        all_gap = min(top2_gap(r) for r in logits)
        print(f"{name}: seed {seed}, logit std {std:.2f}, min greedy top-1 gap {gap:.4f}, "
              f"min top-1 gap over the {N_IDS} reference positions {all_gap:.4f}")
        print(f"  ids {ids.tolist()}")
        print(f"  gen {gen.tolist()}")
        arch, keys, tensors = convert(name, model)
        qtypes = [QT.F32] + ([QT.F16, QT.BF16, QT.Q8_0, QT.Q4_0] if name == "llama" else [])
        for qt in qtypes:
            fn = f"hf_{name}.gguf" if qt == QT.F32 else f"hf_{name}_{qt.name.lower()}.gguf"
            write_gguf(out_path(fn), arch, keys, tensors, qt)
            written.append(fn)
        write_ref(out_path(f"hf_{name}.ref"), ids.numpy(), logits, gen)
        written.append(f"hf_{name}.ref")
        if name == "llama":  # quantized files: a reference of their own, for the kernels
            for qt in (QT.Q8_0, QT.Q4_0):
                mq = dequantized_llama(model, tensors, qt)
                lq, gq, gap_q = reference(mq, ids)
                fn = f"hf_{name}_{qt.name.lower()}.ref"
                write_ref(out_path(fn), ids.numpy(), lq, gq)
                written.append(fn)
                print(f"  {fn}: transformers on the dequantized weights, min greedy gap {gap_q:.4f}")
        report[name] = dict(seed=seed, gap=gap, ids=ids.numpy(), logits=logits, gen=gen,
                            variants=variants)

    # ---- verification: read every file back, numpy forward from the GGUF ----
    print("\nverification (GGUFReader + numpy float64 forward from the file alone):")
    for fn in written:
        if not fn.endswith(".gguf"):
            continue
        kv, ts = read_gguf(out_path(fn))
        base = fn[3:-5]
        for suffix in ("_f16", "_bf16", "_q8_0", "_q4_0"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        ref = report[base]
        print(f"{fn}: arch {kv['general.architecture']}, {len(ts)} tensors, "
              f"{os.path.getsize(out_path(fn))} bytes")
        for k in sorted(kv):
            if not k.startswith("general.architecture"):
                print(f"    {k} = {kv[k]}")
        for tn, (_, tt, ne) in ts.items():
            print(f"    {tn:28s} {tt.name:5s} ne={ne}")
        w = {tn: a for tn, (a, _, _) in ts.items()}
        md, top1, same, gap = agreement(kv, w, ref["ids"], ref["logits"], ref["gen"])
        print(f"  numpy vs transformers: max |logit diff| {md:.3e}, top-1 {100 * top1:.1f}%, "
              f"greedy {same}/{N_GEN}, min greedy gap {gap:.4f}")
        if fn == f"hf_{base}.gguf":
            assert md < CHECK_TOL, f"{fn}: numpy forward differs from transformers by {md}"
            assert same == N_GEN and top1 == 1.0
        ref.setdefault("checks", {})[fn] = (md, top1, same, gap)

    print("\nsummary:")
    total = 0
    for fn in written:
        size = os.path.getsize(out_path(fn))
        total += size
        print(f"  {fn:24s} {size:8d} bytes")
    print(f"  total {total} bytes")
    for name, r in report.items():
        print(f"  {name}: seed {r['seed']}, min greedy gap {r['gap']:.4f}")
        for fn, (md, top1, same, gap) in r["checks"].items():
            print(f"     {fn:24s} max|diff| {md:.3e}  top-1 {100 * top1:5.1f}%  "
                  f"greedy {same:2d}/{N_GEN}  min greedy gap {gap:.4f}")


if __name__ == "__main__":
    main()
