#!/usr/bin/env python3
"""train_series.py - the recipe for artr's shipped time-series model, models/etth1.gguf.

A Llama-architecture model over value tokens in the manner of Chronos (Ansari et al. 2024,
"Chronos: Learning the Language of Time Series"): a window is divided by its context's mean
absolute value and each scaled value is replaced by the nearest of N_BINS uniform bin
centres over [LOW, HIGH]; token id = N_SPECIAL + bin (PAD = 0, EOS = 1 reserved as in
Chronos). Trained on the ETTh1 train split (first 12 months, all 7 columns as univariate
series) mixed with synthetic series (sums of seasonalities, trends and noise, in the spirit of
Chronos' KernelSynth), random windows. Written as an F16 GGUF with the tokenization in
series.* metadata keys; the file is read back and an independent numpy forward pass over its
tensors must give the trained PyTorch model's logits. Also writes tests/fixtures/series/
val.bin, values + PyTorch token ids + PyTorch loss over a few val windows, which artr's C
test (tests/series_check.c) must reproduce.

    ~/venv/bin/python tools/train_series.py        # the defaults make the shipped model

Needs torch, numpy and gguf (gguf-py). CPU, one thread: the defaults took 19.1 minutes on a
2-core machine shared with another training run (600 steps; the step count, not the clock,
decides the result unless the --minutes budget cuts it short).

Why 510 bins over [-10, 10] (Chronos: 4094 over [-15, 15]): a small model learns a smaller
softmax faster, and after mean scaling the ETTh1 columns stay well inside +-10; the bin width,
20/509 = 0.039 of the context's mean |x|, is below the noise of these series (the seasonal-
naive error is about 0.1 to 0.3 of the mean level). Values beyond the range clip to the last bin.

Definitions:
  * split (the Informer split of ETTh1): rows [0, 8640) train, [8640, 11520) val,
    [11520, 14400) test; 12, 4 and 4 months of 30 days.
  * a training window: C context values then P = PRED future values; scale s = mean |context|
    (1 if 0); every value of the window is tokenized with s. The model sees the C + P tokens
    and is trained on next-token cross-entropy at every position (the first excepted).
  * val loss: mean cross-entropy over the P future tokens of fixed val windows (C = CTX,
    every column, stride 128), i.e. the forecast part only.
"""

import argparse
import math
import os
import struct
import sys
import time

try:
    import numpy as np
    import torch
    import gguf  # noqa: F401 (artr_model writes and reads the files with it; fail early without it)
    from artr_model import (ROPE_THETA, RMS_EPS, Llama, add_run_args, adamw, check_logits, check_meta,
                            gguf_scalar, init_torch, log, lr_at, mean_loss, n_params, read_gguf,
                            round_f16_, train_step, write_gguf)
except ImportError as e:  # pragma: no cover
    sys.exit(f"train_series.py: {e}; needs torch, numpy and gguf (pip install torch numpy gguf)")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

N_BINS = 510
N_SPECIAL = 2
PAD, EOS = 0, 1
LOW, HIGH = -10.0, 10.0
VOCAB = N_SPECIAL + N_BINS
CTX = 512                # longest context in training
PRED = 64                # future values in training
SEQ = CTX + PRED         # the model's n_ctx_train
MIN_CTX = 32
TRAIN_ROWS, VAL_ROWS, TEST_ROWS = 12 * 30 * 24, 4 * 30 * 24, 4 * 30 * 24

CFG = dict(dim=128, n_layer=4, n_head=4, n_head_kv=4, n_ff=384, dropout=0.05,
           lr=1.5e-3, batch=24, steps=600)
SYNTH_FRAC = 0.4         # share of training windows that are synthetic
WARMUP = 50
MIN_LR_FRAC = 0.1
WEIGHT_DECAY = 0.1
CLIP = 1.0
FIXTURE_MAGIC = 0x53524553  # 'SERS'
FIXTURE_WINDOWS = 4


# ---------------------------------------------------------------------------------------
# data and tokenization

def load_etth1(path):
    if not os.path.isfile(path):
        sys.exit(f"train_series.py: {path} not found; pass --data ETTh1.csv "
                 "(https://github.com/zhouhaoyi/ETDataset, ETT-small/ETTh1.csv)")
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    vals = np.array([[float(c) for c in r[1:]] for r in rows], dtype=np.float64)
    if vals.shape[0] < TRAIN_ROWS + VAL_ROWS + TEST_ROWS:
        sys.exit(f"train_series.py: {path} has {vals.shape[0]} rows, expected >= 14400")
    return header[1:], vals.T.copy()              # (7, rows)


def scale_of(context):
    """Mean |x| over the context, summed left to right in float64 (the C driver's order);
    1 if it is 0."""
    s = 0.0
    for v in context:
        s += abs(float(v))
    s /= len(context)
    return s if s > 0 else 1.0


def tokenize(values, scale):
    """Nearest bin centre of values / scale; centres LOW + i * width, i = 0 .. N_BINS - 1."""
    width = (HIGH - LOW) / (N_BINS - 1)
    b = np.floor((np.asarray(values, dtype=np.float64) / scale - LOW) / width + 0.5)
    return (np.clip(b, 0, N_BINS - 1) + N_SPECIAL).astype(np.int64)


def tokenize_batch(x, C):
    """x: (B, C + P) float64 windows; scale from the first C. Returns (B, C + P) ids."""
    s = np.abs(x[:, :C]).mean(1, keepdims=True)
    s[s == 0] = 1.0
    width = (HIGH - LOW) / (N_BINS - 1)
    b = np.floor((x / s - LOW) / width + 0.5)
    return (np.clip(b, 0, N_BINS - 1) + N_SPECIAL).astype(np.int64)


def synth_batch(rng, B, L):
    """B synthetic series of length L: level + trend + 1-3 seasonal components (random
    harmonics, periods mostly hourly-data-like) + white and AR(1) noise; some multiplicative,
    some with a level shift. KernelSynth (Chronos) samples GPs with random kernel sums; this
    draws from the same kinds of components directly, which is cheaper."""
    t = np.arange(L, dtype=np.float64)[None, :]
    x = np.zeros((B, L))
    periods = np.array([24, 24, 24, 168, 12, 8, 6, 48, 4, 7, 30])
    for _ in range(3):
        on = rng.random(B) < np.array([1.0, 0.6, 0.3])[_]
        P = np.where(rng.random(B) < 0.7, rng.choice(periods, B), rng.uniform(3, 200, B))[:, None]
        amp = rng.lognormal(0, 0.7, B)[:, None] * on[:, None]
        for h in range(1, 4):
            a = amp * rng.normal(0, 1.0 / h, (B, 1))
            ph = rng.uniform(0, 2 * math.pi, (B, 1))
            x += a * np.sin(2 * math.pi * h * t / P + ph)
    slope = rng.normal(0, 1, (B, 1)) * (rng.random((B, 1)) < 0.5) * rng.lognormal(-1, 1, (B, 1)) / L
    x += slope * t * x.std(1, keepdims=True).clip(0.1) * 3
    # piecewise trend change
    cp = rng.integers(L // 4, L, (B, 1))
    x += (rng.random((B, 1)) < 0.2) * rng.normal(0, 1, (B, 1)) * np.maximum(t - cp, 0) / L * 3
    sd = x.std(1, keepdims=True).clip(0.1)
    noise_w = rng.lognormal(-2, 0.8, (B, 1)) * sd
    x += noise_w * rng.normal(0, 1, (B, L))
    # AR(1) noise
    phi = rng.uniform(0.5, 0.99, (B, 1))
    e = rng.normal(0, 1, (B, L)) * rng.lognormal(-2.5, 0.8, (B, 1)) * sd
    ar = np.zeros((B, L))
    for i in range(1, L):
        ar[:, i] = phi[:, 0] * ar[:, i - 1] + e[:, i]
    x += ar * (rng.random((B, 1)) < 0.5)
    # level shift at a random point
    shift = (rng.random((B, 1)) < 0.1) * rng.normal(0, 2, (B, 1)) * sd
    x += shift * (t >= rng.integers(L // 3, L, (B, 1)))
    # level: from zero-mean to far from zero
    x += rng.normal(0, 1, (B, 1)) * sd * rng.choice([0.0, 1.0, 3.0, 10.0], (B, 1))
    # multiplicative seasonality: positive series times (1 + a small seasonal)
    mult = rng.random(B) < 0.15
    if mult.any():
        base = np.abs(x[mult]) + sd[mult]
        x[mult] = base * (1 + 0.3 * np.sin(2 * math.pi * t / 24 + rng.uniform(0, 6, (mult.sum(), 1))))
    return x * rng.lognormal(0, 2, (B, 1))


def real_batch(rng, series, B, L, lo, hi):
    """B windows of length L from rows [lo, hi) of random columns."""
    cols = rng.integers(0, series.shape[0], B)
    starts = rng.integers(lo, hi - L + 1, B)
    return np.stack([series[c, s:s + L] for c, s in zip(cols, starts)])


def val_windows(series):
    """Fixed val windows: C = CTX, P = PRED, every column, stride 128, inside the val split
    (their context may start in the train split: the forecast part is what is scored)."""
    xs = []
    lo, hi = TRAIN_ROWS, TRAIN_ROWS + VAL_ROWS
    for c in range(series.shape[0]):
        for end in range(lo + PRED, hi + 1, 128):
            xs.append(series[c, end - SEQ:end])
    return np.stack(xs)


# ---------------------------------------------------------------------------------------
# the model (tools/artr_model.py: Llama with rotary embeddings on adjacent pairs, tied
# embeddings) and training

def make_model(cfg):
    return Llama(vocab=VOCAB, n_ctx=SEQ, theta=ROPE_THETA, eps=RMS_EPS, **cfg)


def forecast_loss(model, ids, batch=32):
    """Mean cross-entropy (nats) of the last PRED tokens of each (SEQ,) row of ids."""
    return mean_loss(model, ids, batch, n_pred=PRED)


def train(cfg, series, val_ids, steps, minutes, seed, eval_every):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = make_model(cfg)
    opt = adamw(model, cfg["lr"], WEIGHT_DECAY)
    B = cfg["batch"]
    log(f"{n_params(model):,} parameters; dim {cfg['dim']}, {cfg['n_layer']} layers, {cfg['n_head']} heads, "
        f"ffn {cfg['n_ff']}; {steps} steps of {B} windows (context {MIN_CTX}..{CTX} + {PRED}), "
        f"{SYNTH_FRAC:.0%} synthetic, lr {cfg['lr']}, budget {minutes} min")
    t0 = time.time()
    smooth, done, best = None, 0, (float("inf"), None, 0)
    model.train()
    for step in range(steps):
        if time.time() - t0 > minutes * 60:
            log(f"time budget of {minutes} min reached after {step} of {steps} steps; stopping early")
            break
        lr = lr_at(step, steps, cfg["lr"], WARMUP, MIN_LR_FRAC)
        # one context length per batch (no padding needed); half the batches the longest
        C = CTX if rng.random() < 0.5 else int(rng.integers(MIN_CTX, CTX + 1))
        L = C + PRED
        n_syn = int(rng.binomial(B, SYNTH_FRAC))
        x = np.concatenate([real_batch(rng, series, B - n_syn, L, 0, TRAIN_ROWS), synth_batch(rng, n_syn, L)])
        loss = train_step(model, opt, torch.tensor(tokenize_batch(x, C)), lr, CLIP)
        done = step + 1
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        if done % eval_every == 0 or done == steps:
            vl = forecast_loss(model, val_ids)
            model.train()
            if vl < best[0]:
                best = (vl, {k: v.clone() for k, v in model.state_dict().items()}, done)
            log(f"step {done:5d}/{steps}  {time.time() - t0:6.0f}s  lr {lr:.2e}  "
                f"train (smoothed) {smooth:.4f}  val forecast loss {vl:.4f}")
    wall = time.time() - t0
    if best[1] is not None:
        model.load_state_dict(best[1])
    log(f"trained {done} steps in {wall / 60:.1f} min; keeping step {best[2]} (best val {best[0]:.4f})")
    model.eval()
    return model, done, best[2], wall


# ---------------------------------------------------------------------------------------
# GGUF export and verification

def export(path, model, val_loss, params, info):
    def series_kv(w):
        w.add_uint32("series.n_bins", N_BINS)
        w.add_float32("series.low", LOW)
        w.add_float32("series.high", HIGH)
        w.add_uint32("series.n_special", N_SPECIAL)
        w.add_uint32("series.pad_id", PAD)
        w.add_uint32("series.eos_id", EOS)
        w.add_uint32("series.context_length", CTX)
        w.add_uint32("series.prediction_length", PRED)
        w.add_string("series.scaling", "mean_abs")
    write_gguf(path, model, name="artr ETTh1 series", description=info,
               license="Unlicense OR MIT (weights); data: ETDataset ETTh1, CC BY-ND 4.0",
               val_loss=val_loss, params=params, extra_kv=series_kv)


SERIES_KEYS = (("series.n_bins", N_BINS), ("series.n_special", N_SPECIAL), ("series.low", LOW),
               ("series.high", HIGH), ("series.pad_id", PAD), ("series.eos_id", EOS),
               ("series.context_length", CTX), ("series.prediction_length", PRED))


def check_series_keys(path, r):
    for k, v in SERIES_KEYS:
        if gguf_scalar(r, k) != v:
            sys.exit(f"verify {path}: {k} = {gguf_scalar(r, k)!r}, expected {v!r}")


def verify(path, model, cfg, val_ids):
    r, meta, t = read_gguf(path)
    check_meta(path, meta, dict(ctx=SEQ, embd=cfg["dim"], layers=cfg["n_layer"], heads=cfg["n_head"],
                                heads_kv=cfg["n_head_kv"]))
    check_series_keys(path, r)
    return check_logits(path, model, t, meta, (("val window 0", val_ids[0]),
                                               ("val window 5, 100 ids", val_ids[5][:100])))


def write_fixture(path, model, series):
    """FIXTURE_WINDOWS val windows of SEQ values (C = CTX context): the raw values (float64),
    the token ids tokenize() gives them (scale from the context, summed in order), and the
    PyTorch loss of the exported weights over their last PRED tokens."""
    xs = val_windows(series)[::37][:FIXTURE_WINDOWS]
    ids = np.stack([tokenize(x, scale_of(x[:CTX])) for x in xs])
    loss = forecast_loss(model, ids)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<iiiid", FIXTURE_MAGIC, len(xs), CTX, PRED, loss))
        f.write(np.asarray(xs, dtype="<f8").tobytes())
        f.write(ids.astype("<i4").tobytes())
    return loss


def main(argv=None):
    ap = argparse.ArgumentParser(description="Train artr's example time-series model on ETTh1 "
                                 "(+ synthetic series) and export it as F16 GGUF.")
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "ETTh1.csv"),
                    help="ETTh1.csv (default: ../shared/data/ETTh1.csv from the repo root)")
    ap.add_argument("--out", default=os.path.join(REPO, "models", "etth1.gguf"))
    ap.add_argument("--fixture", default=os.path.join(REPO, "tests", "fixtures", "series", "val.bin"),
                    help="loss fixture for tests/series_check.c ('' for none)")
    ap.add_argument("--steps", type=int, default=CFG["steps"], help="training steps (the LR schedule)")
    add_run_args(ap, 20.0, "wall-time budget; stops early if reached", 100, "steps between val-loss prints")
    a = ap.parse_args(argv)

    init_torch(a.threads)
    t_start = time.time()
    names, series = load_etth1(a.data)
    vx = val_windows(series)
    val_ids = np.stack([tokenize(x, scale_of(x[:CTX])) for x in vx])
    log(f"data: {series.shape[0]} columns ({', '.join(names)}), train rows [0, {TRAIN_ROWS}); "
        f"{len(val_ids)} val windows of {CTX} + {PRED}")
    model, done, kept, wall = train(CFG, series, val_ids, a.steps, a.minutes, a.seed, a.eval_every)
    params = n_params(model)
    round_f16_(model)
    vl = forecast_loss(model, val_ids)
    log(f"exported (F16) weights: val forecast loss {vl:.4f}")
    info = (f"trained by tools/train_series.py: {done} steps of {CFG['batch']} windows, kept step {kept}, "
            f"seed {a.seed}; val forecast loss {vl:.4f} (F16 weights)")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    export(a.out, model, vl, params, info)
    worst = verify(a.out, model, CFG, val_ids)
    log(f"wrote {a.out}: {os.path.getsize(a.out):,} bytes, {params:,} parameters; verified "
        f"(max logit diff {worst:.2e})")
    if a.fixture:
        fl = write_fixture(a.fixture, model, series)
        log(f"wrote {a.fixture}: {FIXTURE_WINDOWS} windows, PyTorch forecast loss {fl:.6f}")
    log(f"total wall time {(time.time() - t_start) / 60:.1f} min (training {wall / 60:.1f} min)")


if __name__ == "__main__":
    main()
