#!/usr/bin/env python3
"""gen_kquant_fixtures.py: end-to-end fixtures for the weight types of issue 18, made by
llama.cpp's own quantizer and checked by Hugging Face transformers loading the GGUF.

    ~/venv/bin/python tests/gen_kquant_fixtures.py /path/to/llama-quantize

Needs torch, transformers, accelerate, gguf, numpy, and a llama-quantize built outside
this repository (llama.cpp; nothing here builds it). Makes, in tests/fixtures/:

  hf_llama256.gguf is NOT kept: the model is a LlamaForCausalLM from transformers' own
  class (vocab 96, hidden 256, ffn 288, 2 layers, 4 heads, 2 kv heads, head 64), every
  weight perturbed as gen_forward_fixtures.py does, converted to an F32 GGUF with its
  convert() (llama.cpp's conventions) in a temporary directory, then quantized:

  hf_llama256_q4_k_m.gguf  llama-quantize IN OUT Q4_K_M: llama.cpp's own mix (Q4_K, Q6_K
                           for output and some attn_v / ffn_down, and Q5_0 / Q8_0 where
                           a row length (ffn 288) is not a multiple of 256)
  hf_llama256_q5_k_m.gguf  llama-quantize IN OUT Q5_K_M (Q5_K, Q6_K, Q5_1 / Q8_0 fallbacks)
  hf_llama256_mix.gguf     llama-quantize --tensor-type ... : every type of issue 18 on
                           some tensor (Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_XS on the rows of
                           256, Q4_1 Q5_0 Q5_1 IQ4_NL on ffn_down's rows of 288)
  hf_llama256_<file>.ref   transformers' reference for each: AutoModelForCausalLM.
                           from_pretrained(dir, gguf_file=file) (transformers dequantizes
                           with gguf-py and runs its own LlamaForCausalLM), layout as
                           gen_forward_fixtures.py's .ref files
  hf_llama256.types        per tensor of each file, the type llama-quantize chose (text:
                           "file tensor type"), for artr-quantize's mix rules

tests/test_forward.c (test_forward_kquants) runs both files against their references.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_forward_fixtures as F  # noqa: E402
import gguf  # noqa: E402
from gguf import GGMLQuantizationType as QT  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

FIX = os.path.join(HERE, "fixtures")
MIX = [  # tensor-name regex = type, for llama-quantize --tensor-type
    ("blk\\.0\\.attn_q", "q2_k"), ("blk\\.0\\.attn_k", "q3_k"), ("blk\\.0\\.attn_v", "q4_k"),
    ("blk\\.0\\.attn_output", "q5_k"), ("blk\\.0\\.ffn_gate", "q6_k"), ("blk\\.0\\.ffn_up", "iq4_xs"),
    ("blk\\.0\\.ffn_down", "q4_1"), ("blk\\.1\\.attn_q", "q4_k"), ("blk\\.1\\.attn_k", "q5_k"),
    ("blk\\.1\\.attn_v", "q6_k"), ("blk\\.1\\.attn_output", "q3_k"), ("blk\\.1\\.ffn_gate", "q2_k"),
    ("blk\\.1\\.ffn_up", "q4_k"), ("blk\\.1\\.ffn_down", "q5_1"),
]


def make_model(seed):
    torch.manual_seed(seed)
    model = F.make_llama(hidden_size=256, intermediate_size=288, num_attention_heads=4,
                         num_key_value_heads=2)
    model.eval()
    g = torch.Generator().manual_seed(seed)
    F.perturb(model, g)
    ids = torch.randint(0, F.N_VOCAB, (F.N_IDS,), generator=g, dtype=torch.long)
    return model, ids


def types_of(path):
    r = gguf.GGUFReader(path)
    return [(t.name, QT(t.tensor_type).name) for t in r.tensors]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    quantize = sys.argv[1]
    tmp = tempfile.mkdtemp()
    try:
        model, ids = make_model(5000)
        arch, keys, tensors = F.convert("llama", model)
        f32 = os.path.join(tmp, "f32.gguf")
        F.write_gguf(f32, arch, keys, tensors, QT.F32)
        outs = {"q4_k_m": ["Q4_K_M"], "q5_k_m": ["Q5_K_M"],
                "mix": ["--token-embedding-type", "q5_0", "--output-tensor-type", "iq4_nl", "Q8_0"]}
        for pat, ty in MIX:
            outs["mix"] = [f"--tensor-type", f"{pat}={ty}"] + outs["mix"]
        lines = []
        for name, args in outs.items():
            fname = f"hf_llama256_{name}.gguf"
            out = os.path.join(tmp, fname)
            cmd = [quantize] + args[:-1] + [f32, out, args[-1]]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            hf = AutoModelForCausalLM.from_pretrained(tmp, gguf_file=fname, torch_dtype=torch.float32,
                                                      attn_implementation="eager")
            hf.eval()
            logits, gen, gap = F.reference(hf, ids)
            F.write_ref(os.path.join(FIX, f"hf_llama256_{name}.ref"), ids.numpy(), logits, gen)
            shutil.copy(out, os.path.join(FIX, fname))
            ts = types_of(out)
            lines += [f"{fname} {t} {ty}" for t, ty in ts]
            kinds = sorted({ty for _, ty in ts})
            print(f"{fname}: {os.path.getsize(out)} bytes, types {' '.join(kinds)}, min greedy gap {gap:.4f}")
        with open(os.path.join(FIX, "hf_llama256.types"), "w") as f:
            f.write("\n".join(lines) + "\n")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
