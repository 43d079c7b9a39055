#!/usr/bin/env python3
"""verify_models.py - recompute the shipped models' recorded losses from the files.

Loads each shipped GGUF (models/shakespeare.gguf, etth1.gguf, fashion.gguf) into the model of
tools/artr_model.py, the one the three recipes train, and computes the loss each recipe
recorded in its fixture, on the same windows, by the same definition:

  * tests/fixtures/text_val.bin (tools/train_text.py): the first 4 val windows of 256 ids;
    mean next-token cross-entropy, each window's first token not predicted. artr's C test
    (tests/test_forward.c, test_forward_shipped_perplexity) compares its loss with this one.
  * tests/fixtures/series/val.bin (tools/train_series.py): 4 val windows of 512 + 64 values
    and their token ids; the cross-entropy of the 64 forecast tokens. The ids are also
    recomputed from the values (train_series.tokenize). tests/series_check.c uses it.
  * tests/fixtures/image/nll.txt (tools/train_image.py): 16 test sequences [class, 49 codes];
    the cross-entropy of the 49 codes. tests/test_image.sh compares artr-image --nll with it.

Each loss is computed twice: by the PyTorch model (float32, as the recipes computed the
recorded number) and by the independent float64 numpy forward pass over the file's tensors.
The PyTorch loss must equal the recorded one to within 1e-6 (the text fixture stores a
float32, the image fixture prints 6 decimals), the numpy one to within 1e-4. The files'
keys must be those the recipes write.

With --full, also the artr.train.val_loss key of each file that has its data here: etth1.gguf
(all 161 val forecast windows of ../shared/data/ETTh1.csv) and, when sentencepiece is
installed, both text models (the whole val split of ../shared/data/tinyshakespeare.txt, with
the tokenizer retrained as train_text.py does; also the 182-full-window loss models/README.md
quotes). fashion.gguf's needs Fashion-MNIST and is skipped without it.

    ~/venv/bin/python tools/verify_models.py [--full]

Exits non-zero if any number differs. Needs torch, numpy and gguf.
"""

import argparse
import os
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from artr_model import (gguf_scalar, gguf_strings, load_model, log, loss_sum, numpy_loss_sum,  # noqa: E402
                        stream_loss, windows)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "..", "shared", "data")
TOL_TORCH = 1e-6
TOL_NUMPY = 1e-4

failures = []


def compare(label, want, got_torch, got_numpy=None, tol=TOL_TORCH):
    ok = abs(got_torch - want) <= tol
    msg = f"  {label}: recorded {want:.9f}  torch {got_torch:.9f} (diff {abs(got_torch - want):.1e})"
    if got_numpy is not None:
        ok_np = abs(got_numpy - want) <= TOL_NUMPY
        msg += f"  numpy {got_numpy:.9f} (diff {abs(got_numpy - want):.1e})"
        ok = ok and ok_np
    log(msg + ("  ok" if ok else "  DIFFERS"))
    if not ok:
        failures.append(label)


def check(cond, what):
    if not cond:
        log(f"  {what}: DIFFERS")
        failures.append(what)


def text(full):
    path = os.path.join(REPO, "models", "shakespeare.gguf")
    with open(os.path.join(REPO, "tests", "fixtures", "text_val.bin"), "rb") as f:
        b = f.read()
    magic, n, ctx, want = struct.unpack("<iiif", b[:16])
    ids = np.frombuffer(b, "<i4", offset=16).astype(np.int64)
    check(magic == 0x4C415654 and len(ids) == n * ctx, "text_val.bin header")
    model, (r, meta, t) = load_model(path)
    log(f"{os.path.relpath(path, REPO)} on tests/fixtures/text_val.bin ({n} windows of {ctx} ids):")
    tl = stream_loss(model, ids, ctx)                  # train_text.write_fixture's split_loss
    nl = numpy_loss_sum(t, meta, ids.reshape(n, ctx))
    compare("text fixture loss", want, tl, nl[0] / nl[1])
    if not full:
        return
    try:
        import train_text
    except SystemExit as e:                            # sentencepiece (or gguf) missing
        log(f"  --full: skipping the text models' val loss ({e})")
        return
    train_txt, val_txt = train_text.load_text(os.path.join(DATA, "tinyshakespeare.txt"))
    t0 = time.time()
    sp = train_text.train_tokenizer(train_txt)
    val_ids = np.array(sp.encode(val_txt), dtype=np.int64)
    log(f"  --full: tokenizer retrained in {time.time() - t0:.0f} s; {len(val_ids):,} val tokens")
    check(val_ids[:n * ctx].tolist() == ids.tolist(), "val split ids = text_val.bin's")
    for kind in ("target", "draft"):
        p = os.path.join(REPO, "models", train_text.MODELS[kind]["file"])
        m, (rr, _, _) = load_model(p)
        check([sp.id_to_piece(i) for i in range(train_text.VOCAB)] ==
              gguf_strings(rr, "tokenizer.ggml.tokens"), f"{kind}: token list = the retrained tokenizer's")
        compare(f"{kind} val loss (artr.train.val_loss, float32)", gguf_scalar(rr, "artr.train.val_loss"),
                stream_loss(m, val_ids, ctx), tol=1e-6)
        if kind == "target":
            full_ws = [w for w in windows(val_ids, ctx) if len(w) == ctx]
            s, c = loss_sum(m, full_ws)
            compare(f"target loss over the {len(full_ws)} full val windows (models/README.md)", 3.493789, s / c,
                    tol=5e-7)


def series(full):
    import train_series as ts
    path = os.path.join(REPO, "models", "etth1.gguf")
    fx = os.path.join(REPO, "tests", "fixtures", "series", "val.bin")
    with open(fx, "rb") as f:
        b = f.read()
    magic, n, ctx, pred = struct.unpack("<iiii", b[:16])
    (want,) = struct.unpack("<d", b[16:24])
    seq = ctx + pred
    xs = np.frombuffer(b, "<f8", count=n * seq, offset=24).reshape(n, seq)
    ids = np.frombuffer(b, "<i4", count=n * seq, offset=24 + 8 * n * seq).reshape(n, seq).astype(np.int64)
    check(magic == 0x53524553 and ctx == ts.CTX and pred == ts.PRED, "series/val.bin header")
    model, (r, meta, t) = load_model(path)
    ts.check_series_keys(path, r)
    log(f"{os.path.relpath(path, REPO)} on tests/fixtures/series/val.bin ({n} windows of {ctx} + {pred}):")
    check(all((ts.tokenize(x, ts.scale_of(x[:ctx])) == row).all() for x, row in zip(xs, ids)),
          "train_series.tokenize(values) = the fixture's ids")
    s, c = loss_sum(model, ids, n_pred=pred)           # train_series.forecast_loss
    nl = numpy_loss_sum(t, meta, ids, n_pred=pred)
    compare("series fixture forecast loss", want, s / c, nl[0] / nl[1])
    csv = os.path.join(DATA, "ETTh1.csv")
    if full and os.path.isfile(csv):
        _, data = ts.load_etth1(csv)
        vx = ts.val_windows(data)
        val_ids = np.stack([ts.tokenize(x, ts.scale_of(x[:ctx])) for x in vx])
        compare(f"series val forecast loss over {len(vx)} windows (artr.train.val_loss, float32)",
                gguf_scalar(r, "artr.train.val_loss"), ts.forecast_loss(model, val_ids))
    elif full:
        log(f"  --full: {csv} not found; skipping the series val loss")


def image(full):
    import train_image as ti
    path = os.path.join(REPO, "models", "fashion.gguf")
    fx = os.path.join(REPO, "tests", "fixtures", "image", "nll.txt")
    with open(fx) as f:
        head = f.readline()
        rows = [line.split() for line in f if line.strip()]
    want = float(head.split("mean loss ")[1].split()[0])
    model, (r, meta, t) = load_model(path)
    for k, v in ti.IMAGE_KEYS:
        check(gguf_scalar(r, k) == v, f"{k} = {v}")
    base, null = gguf_scalar(r, "image.class_base"), gguf_scalar(r, "image.null_class")
    seqs = np.array([[null if w[0] == "null" else base + int(w[0])] + [int(v) for v in w[1:]] for w in rows])
    log(f"{os.path.relpath(path, REPO)} on tests/fixtures/image/nll.txt ({len(seqs)} sequences of "
        f"{seqs.shape[1]} tokens, {(seqs[:, 0] == null).sum()} with the null class):")
    s, c = loss_sum(model, seqs, batch=500)            # train_image.seq_loss
    nl = numpy_loss_sum(t, meta, seqs)
    compare("image fixture loss", want, s / c, nl[0] / nl[1])
    if full:
        log("  --full: fashion.gguf's artr.train.val_loss needs Fashion-MNIST's test split; skipped")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Recompute the shipped models' recorded losses with tools/artr_model.py.")
    ap.add_argument("--full", action="store_true", help="also each file's artr.train.val_loss (needs the data)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1, as the recipes)")
    ap.add_argument("--only", choices=("text", "series", "image"), action="append")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    for name, fn in (("text", text), ("series", series), ("image", image)):
        if not a.only or name in a.only:
            fn(a.full)
    if failures:
        sys.exit(f"verify_models.py: {len(failures)} check(s) failed: {', '.join(failures)}")
    log("all recorded losses reproduced")


if __name__ == "__main__":
    main()
