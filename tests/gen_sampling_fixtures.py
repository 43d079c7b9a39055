"""Reference distributions for artr's samplers, from Hugging Face transformers' own
logits processors.

For random logit vectors and a grid of settings, applies, in llama.cpp's default order
(the order artr documents): RepetitionPenaltyLogitsProcessor over a token history,
TopKLogitsWarper, TopPLogitsWarper, MinPLogitsWarper, TemperatureLogitsWarper, then a
softmax, all in float32 on the CPU. A knob at its "off" value (artr's zero) is left out.

Writes tests/fixtures/sampling.ref (little-endian):
  int32 magic 'ASMP' (0x504d5341), int32 version 1, int32 n_cases, int32 n_vocab,
  int32 max_hist, then per case:
    float32 temperature, int32 top_k, float32 top_p, float32 min_p,
    float32 repeat_penalty, int32 n_hist, int32 hist[max_hist] (first n_hist used),
    float32 logits[n_vocab], float32 probs[n_vocab]

Run from the repository root: python tests/gen_sampling_fixtures.py
Needs: pip install torch transformers numpy
"""
import itertools
import struct

import numpy as np
import torch
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

N_VOCAB = 50
MAX_HIST = 16
OUT = "tests/fixtures/sampling.ref"


def reference(logits, hist, temperature, top_k, top_p, min_p, penalty):
    ids = torch.tensor([hist], dtype=torch.long)
    scores = torch.tensor(logits, dtype=torch.float32)[None]
    chain = []
    if penalty > 0 and penalty != 1.0:
        chain.append(RepetitionPenaltyLogitsProcessor(penalty))
    if top_k > 0:
        chain.append(TopKLogitsWarper(min(top_k, N_VOCAB)))
    if 0 < top_p < 1:
        chain.append(TopPLogitsWarper(top_p))
    if min_p > 0:
        chain.append(MinPLogitsWarper(min_p))
    chain.append(TemperatureLogitsWarper(temperature))
    for proc in chain:
        scores = proc(ids, scores)
    return torch.softmax(scores, dim=-1)[0].numpy().astype(np.float32)


def main():
    rng = np.random.default_rng(5)
    grid = list(itertools.product([0.5, 1.0, 1.7], [0, 1, 5, 60], [0.0, 0.5, 0.9, 1.0],
                                  [0.0, 0.05, 0.2], [0.0, 1.3]))
    out = bytearray(struct.pack("<iiiii", 0x504D5341, 1, len(grid), N_VOCAB, MAX_HIST))
    for temperature, top_k, top_p, min_p, penalty in grid:
        logits = (rng.standard_normal(N_VOCAB) * 2.0).astype(np.float32)
        n_hist = int(rng.integers(0, MAX_HIST + 1))
        hist = [int(x) for x in rng.integers(0, N_VOCAB, n_hist)]
        probs = reference(logits, hist if hist else [0], temperature, top_k, top_p, min_p,
                          penalty if hist else 0.0)
        out += struct.pack("<fiff f i", temperature, top_k, top_p, min_p,
                           penalty if hist else 0.0, n_hist)
        out += struct.pack("<%di" % MAX_HIST, *(hist + [0] * (MAX_HIST - n_hist)))
        out += logits.tobytes() + probs.tobytes()
    with open(OUT, "wb") as f:
        f.write(out)
    print("wrote %s: %d cases, vocab %d, %d bytes" % (OUT, len(grid), N_VOCAB, len(out)))


if __name__ == "__main__":
    main()
