#!/usr/bin/env python3
"""gen_quant_fixtures.py: tests/fixtures/dequant_k.gguf, the block types other than
F16/BF16/Q8_0/Q4_0 (those are in dequant.gguf, gen_fixtures.py), checked against gguf-py.

    ~/venv/bin/python tests/gen_quant_fixtures.py     (needs numpy and gguf)

For every type T of Q4_1 Q5_0 Q5_1 IQ4_NL Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_XS the file holds
  "T"        random blocks: random bytes, with the block's halves (d, and m / dmin) set
             to finite values of every kind: normal of both signs, subnormal, zero,
             +-65504; shape [512, 4] (raw bytes, as a GGUF tensor of type T)
  "T.ref"    gguf.quants.dequantize of those bytes, F32 [512, 4]
and for the types gguf-py can quantize (Q4_1 Q5_0 Q5_1), from one float input "x" F32
[512, 4]:
  "T.q"      gguf.quants.quantize(x, T): what artr_quantize_f32 must write bit for bit.
The test (tests/test_kernels.c: test_dequant_k_vs_gguf_py) reads the file with
artr_model_load_file(container = 1) and compares artr_tensor_to_f32 bit for bit.
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "dequant_k.gguf")

# where each type keeps its halves: offsets of d, and of m / dmin (or None)
HALVES = {
    QT.Q4_1: (0, 2), QT.Q5_0: (0, None), QT.Q5_1: (0, 2), QT.IQ4_NL: (0, None),
    QT.Q2_K: (80, 82), QT.Q3_K: (108, None), QT.Q4_K: (0, 2), QT.Q5_K: (0, 2),
    QT.Q6_K: (208, None), QT.IQ4_XS: (0, None),
}
SPECIAL_HALVES = np.array([0.0, -0.0, 6e-8, -6e-8, 3e-5, 65504.0, -65504.0, 1.0, -1.0],
                          dtype=np.float16)


def random_blocks(rng, qt, n_el):
    block, size = gguf.GGML_QUANT_SIZES[qt]
    nb = n_el // block
    raw = rng.integers(0, 256, size=(nb, size), dtype=np.uint8)
    d_off, m_off = HALVES[qt]
    for off in (d_off, m_off):
        if off is None:
            continue
        h = (rng.standard_normal(nb) * 0.05).astype(np.float16)
        k = min(nb, len(SPECIAL_HALVES))
        h[:k] = SPECIAL_HALVES[:k]
        raw[:, off:off + 2] = h.view(np.uint8).reshape(nb, 2)
    return raw


def main():
    rng = np.random.default_rng(20261202)
    rows, cols = 4, 512
    w = gguf.GGUFWriter(OUT, "")
    x = (rng.standard_normal((rows, cols)) * np.where(rng.random((rows, cols)) < 0.05, 8, 1)).astype(np.float32)
    x[0, :32] = 0.0           # an all-zero block
    x[1, :32] = 1.5           # a constant block
    x[2, 32:64] = -np.arange(32, dtype=np.float32)
    w.add_tensor("x", x)
    for qt in HALVES:
        name = qt.name
        raw = random_blocks(rng, qt, rows * cols).reshape(rows, -1)
        ref = gguf.quants.dequantize(raw, qt).astype(np.float32)
        assert ref.shape == (rows, cols)
        w.add_tensor(name, raw, raw_dtype=qt)
        w.add_tensor(name + ".ref", ref)
        if qt in (QT.Q4_1, QT.Q5_0, QT.Q5_1):
            q = gguf.quants.quantize(x, qt)
            w.add_tensor(name + ".q", q, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    sys.exit(main())
