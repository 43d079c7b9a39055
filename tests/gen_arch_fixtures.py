#!/usr/bin/env python3
"""Reference fixtures for the newer families: Llama 3 (rope_freqs), Qwen3, Gemma 3, Phi-3.

Requirements:  pip install torch transformers gguf numpy   (CPU only; written against
               torch 2.x, transformers 5.x, gguf-py 0.19)
Run from the repository root:

    python tests/gen_arch_fixtures.py

For each family a small random-init model is built from transformers' own class
(attn_implementation="eager", float32, eval), every parameter overwritten with peaked
random values (norm weights 1 + 0.2 randn, or 0.2 randn for Gemma's 1 + w norms;
embeddings 0.5 randn, Gemma's 0.5/3 randn as it scales them by sqrt(64); linear weights
randn * 1.5 / sqrt(fan_in)); a seed is taken when the logits' std is > 1, every greedy
step's top-1 beats the top-2 by >= 1e-3 and the continuation has >= 8 distinct tokens, saved with
save_pretrained (safetensors) and converted by OUR tools/convert.py (--dtype f32), which
follows llama.cpp's converter conventions.  The GGUF and transformers' outputs are
written as tests/fixtures/hf_<name>.gguf / hf_<name>.ref (the AREF layout of
tests/gen_forward_fixtures.py, here with n_ids 48 and n_vocab 256):

  llama3  LlamaForCausalLM, rope_parameters llama3 (theta 5e5, factor 8, low 1, high 4,
          original context 64: the file's rope_freqs has all three kinds of divisors),
          hidden 64, 4 heads, 2 kv heads, 2 layers, ffn 96, tied.
  qwen3   Qwen3ForCausalLM, hidden 64, 4 heads of size 24 (head size != hidden / heads),
          2 kv heads, q/k norms, rope 1e6, 2 layers, ffn 64, tied.
  gemma3  Gemma3ForCausalLM (text), hidden 64, 2 heads of size 16, 1 kv head, 6 layers
          (5 sliding-window layers of window 8, layer 5 global), rope 1e6 global / 1e4
          local, query_pre_attn_scalar = head size, final logit softcap 15, ffn 16,
          untied (tied, this random model's greedy path copies its input: one token).
  phi3    Phi3ForCausalLM, hidden 64, 4 heads, 2 kv heads, 2 layers, ffn 64, fused
          qkv_proj and gate_up_proj, LongRoPE (context 256, original 32, random long and
          short factors in [1, 3], attention factor sqrt(1 + ln 8 / ln 32)), untied.

Every sequence (48 ids, and 8 prompt + 32 generated) is longer than Gemma's window.

Phi-3's reference logits are what transformers' generate() computes: row p is the last
row of one forward over ids[0..p].  transformers (like Microsoft's modeling_phi3.py) picks
the long factors when the call's max(position) + 1 exceeds the original context, and its
Phi-3 prepare_inputs_for_generation drops the KV cache when a sequence first crosses it,
so the whole sequence is recomputed with the long factors; artr does the same (for any
batching).  One call over all 48 ids rotates positions 0..31 with the long factors too,
which is also llama.cpp's rule (long factors everywhere once n_ctx > 32); the script
prints how far that is from generate()'s logits.

Checks: transformers loads each converted GGUF back (from_pretrained(dir, gguf_file=...))
and its logits are compared with the safetensors model's (printed; asserted where
transformers' GGUF reader keeps the information, see GGUF_OVERRIDES).
"""

import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch
import transformers
from transformers import (AutoModelForCausalLM, Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig,
                          LlamaForCausalLM, Phi3Config, Phi3ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import convert  # noqa: E402  (tools/convert.py)

OUT_DIR = os.path.join("tests", "fixtures")
N_VOCAB = 256
N_IDS = 48
N_PROMPT = 8
N_GEN = 32
MIN_GAP = 1e-3
MIN_DISTINCT = 8  # a greedy continuation stuck on one token would test little
REF_MAGIC = 0x46455241

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)
transformers.logging.set_verbosity_error()

COMMON = dict(bos_token_id=None, eos_token_id=None, pad_token_id=None, attn_implementation="eager")


def make_llama3():
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=N_VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 64},
        rms_norm_eps=1e-5, tie_word_embeddings=True, **COMMON))


def make_qwen3():
    return Qwen3ForCausalLM(Qwen3Config(
        vocab_size=N_VOCAB, hidden_size=64, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=24, max_position_embeddings=256,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, rms_norm_eps=1e-6,
        tie_word_embeddings=True, **COMMON))


def make_gemma3():
    return Gemma3ForCausalLM(Gemma3TextConfig(
        vocab_size=N_VOCAB, hidden_size=64, intermediate_size=16, num_hidden_layers=6,
        num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=256,
        sliding_window=8, query_pre_attn_scalar=16, final_logit_softcapping=15.0,
        rms_norm_eps=1e-6, tie_word_embeddings=False, **COMMON))


PHI3_ORIG = 32


def make_phi3():
    g = torch.Generator().manual_seed(77)
    lf = (1.0 + 2.0 * torch.rand(8, generator=g)).tolist()
    sf = (1.0 + 2.0 * torch.rand(8, generator=g)).tolist()
    return Phi3ForCausalLM(Phi3Config(
        vocab_size=N_VOCAB, hidden_size=64, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        original_max_position_embeddings=PHI3_ORIG,
        rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0, "long_factor": lf,
                         "short_factor": sf},
        rms_norm_eps=1e-5, tie_word_embeddings=False, resid_pdrop=0.0, embd_pdrop=0.0,
        attention_dropout=0.0, sliding_window=None, **COMMON))


MODELS = {"llama3": (make_llama3, 5000), "qwen3": (make_qwen3, 6000),
          "gemma3": (make_gemma3, 7000), "phi3": (make_phi3, 8000)}


def gguf_overrides(name, cfg):
    """What transformers' GGUF reader does not take from the file, passed to from_pretrained
    so that the check compares the weights and everything else: vocab_size (it reads it
    from the tokenizer, and these files have none; llama.cpp writes {arch}.vocab_size only
    for llama), head_dim for qwen3 (it maps no key_length there), query_pre_attn_scalar
    (no GGUF key), Gemma's final_logit_softcapping (a llama.cpp key its gemma3 map lacks),
    and the rope scaling behind rope_freqs / rope_factors_* (it reads neither
    tensor)."""
    kw = dict(vocab_size=N_VOCAB)
    if name == "qwen3":
        kw["head_dim"] = cfg.head_dim
    if name == "gemma3":
        kw["query_pre_attn_scalar"] = cfg.query_pre_attn_scalar
        kw["final_logit_softcapping"] = cfg.final_logit_softcapping  # not in its gemma3 key map
    if name in ("llama3", "phi3"):
        kw["rope_parameters"] = dict(cfg.rope_parameters)
    if name == "phi3":  # and Phi3Config's default pad id 32000 is outside this vocabulary
        kw["original_max_position_embeddings"] = cfg.original_max_position_embeddings
        kw["pad_token_id"] = None
    return kw


@torch.no_grad()
def perturb(model, g, gemma):
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
                v = 0.2 * r if gemma else 1.0 + 0.2 * r
            elif isinstance(mod, torch.nn.Embedding):  # Gemma scales them by sqrt(n_embd) = 8
                v = (0.5 / 3 if gemma else 0.5) * r
            elif isinstance(mod, torch.nn.Linear):
                v = r * (1.5 / math.sqrt(p.shape[1]))
            else:
                raise ValueError(f"unexpected parameter {cls}.{pname} {tuple(p.shape)}")
            p.copy_(v)
    assert len(seen) == sum(1 for _ in model.parameters())


def build(name, seed):
    ctor, _ = MODELS[name]
    torch.manual_seed(seed)
    model = ctor()
    model.eval()
    g = torch.Generator().manual_seed(seed)
    perturb(model, g, gemma=name == "gemma3")
    ids = torch.randint(0, N_VOCAB, (N_IDS,), generator=g, dtype=torch.long)
    return model, ids


def gap2(row):
    s = np.sort(np.asarray(row, dtype=np.float64))
    return s[-1] - s[-2]


@torch.no_grad()
def prefix_logits(model, ids):
    """Row p: the last logits of one forward over ids[0..p] (what generate() computes)."""
    return np.stack([model(input_ids=ids[None, :i + 1]).logits[0, -1].float().numpy() for i in range(len(ids))])


@torch.no_grad()
def reference(name, model, ids):
    """(logits[n_ids][vocab], gen[n_gen], min greedy gap)."""
    full = model(input_ids=ids[None]).logits[0].float().numpy()
    logits = prefix_logits(model, ids) if name == "phi3" else full
    prompt = ids[None, :N_PROMPT]
    gc = model.generation_config
    gc.eos_token_id = None
    gc.bos_token_id = None
    out = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                         max_new_tokens=N_GEN, min_new_tokens=N_GEN, pad_token_id=0,
                         eos_token_id=None, return_dict_in_generate=True, output_logits=True)
    seq = out.sequences[0]
    gen = seq[N_PROMPT:].numpy().astype(np.int32)
    gaps = []
    for step, lg in enumerate(out.logits):
        row = lg[0].float().numpy()
        assert int(np.argmax(row)) == gen[step]
        gaps.append(gap2(row))
    if name != "phi3":  # one call over prompt + gen agrees with the cached steps
        f2 = model(input_ids=seq[None, :-1]).logits[0].float().numpy()
        for step in range(N_GEN):
            assert int(np.argmax(f2[N_PROMPT - 1 + step])) == gen[step], f"{name}: step {step}"
    else:  # generate() equals one forward per prefix (it drops the cache at the switch)
        st = prefix_logits(model, seq[:-1])
        for step, lg in enumerate(out.logits):
            assert np.abs(st[N_PROMPT - 1 + step] - lg[0].float().numpy()).max() < 1e-4, f"{name}: step {step}"
    return logits, full, gen, float(min(gaps))


def write_ref(path, ids, logits, gen):
    ids = np.asarray(ids, dtype="<i4")
    logits = np.ascontiguousarray(logits, dtype="<f4")
    gen = np.asarray(gen, dtype="<i4")
    assert logits.shape == (N_IDS, N_VOCAB) and gen.shape == (N_GEN,)
    with open(path, "wb") as f:
        f.write(struct.pack("<iiii", REF_MAGIC, 1, N_IDS, N_VOCAB))
        f.write(ids.tobytes())
        f.write(logits.tobytes())
        f.write(struct.pack("<ii", N_PROMPT, N_GEN))
        f.write(gen.tobytes())


@torch.no_grad()
def gguf_roundtrip(name, cfg, gguf_path, ids, ref):
    """transformers loads our GGUF; max |logit diff| against the safetensors model."""
    kw = gguf_overrides(name, cfg)
    try:
        m = AutoModelForCausalLM.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path),
                                                 torch_dtype=torch.float32, attn_implementation="eager", **kw)
    except Exception as e:  # noqa: BLE001 -- report, do not hide
        return None, f"transformers cannot load it: {type(e).__name__}: {e}"
    m.eval()
    lg = prefix_logits(m, ids) if name == "phi3" else m(input_ids=ids[None]).logits[0].float().numpy()
    return float(np.abs(lg - ref).max()), type(m).__name__


def main():
    if not os.path.isdir(OUT_DIR):
        sys.exit(f"run from the repository root ({OUT_DIR} not found)")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, numpy {np.__version__}")
    names = sys.argv[1:] or list(MODELS)
    for name in names:
        for attempt in range(100):
            seed = MODELS[name][1] + attempt
            model, ids = build(name, seed)
            logits, full, gen, gap = reference(name, model, ids)
            std = float(logits.std())
            distinct = len(set(gen.tolist()))
            if std > 1.0 and gap >= MIN_GAP and distinct >= MIN_DISTINCT:
                break
            print(f"{name}: seed {seed} rejected (logit std {std:.3f}, greedy gap {gap:.2e}, "
                  f"{distinct} distinct greedy tokens)")
        else:
            sys.exit(f"{name}: no acceptable seed")
        print(f"{name}: seed {seed}, logit std {std:.2f}, min greedy top-1 gap {gap:.4f}")
        gguf_path = os.path.join(OUT_DIR, f"hf_{name}.gguf")
        with tempfile.TemporaryDirectory() as d:
            model.save_pretrained(d, safe_serialization=True)
            convert.convert(d, gguf_path, dtype="f32", name=f"hf_{name}", quiet=True)
        write_ref(os.path.join(OUT_DIR, f"hf_{name}.ref"), ids.numpy(), logits, gen)
        md, how = gguf_roundtrip(name, model.config, gguf_path, ids, logits)
        if md is None:
            print(f"  GGUF -> transformers: {how}")
        else:
            print(f"  GGUF -> transformers ({how}): max |logit diff| vs safetensors {md:.3e}")
            assert md < 1e-4, f"{name}: transformers on our GGUF differs by {md}"
        if name == "phi3":
            print(f"  one call over all {N_IDS} ids (long factors for positions < {PHI3_ORIG} too, which is "
                  f"llama.cpp's rule at n_ctx > {PHI3_ORIG}): max |diff| vs generate's {np.abs(full - logits).max():.3f}")
        print(f"  {gguf_path}: {os.path.getsize(gguf_path)} bytes")


if __name__ == "__main__":
    main()
