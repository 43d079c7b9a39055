#!/usr/bin/env python3
"""train_image.py - the recipe for artr's shipped image model, models/fashion.gguf.

An autoregressive image-token model in the manner of VQ-based generators (LlamaGen,
Lumina-mGPT), at a size that trains on one CPU thread:

  1. Image tokenizer: every 28x28 Fashion-MNIST image is cut into a 7x7 grid of 4x4 patches,
     and each patch is replaced by the nearest of 256 centroids learned by k-means (Lloyd's
     algorithm, k-means++ seeding) on the train split's patches. The decoder is the centroid
     table itself: code -> 16 pixel values, a lookup in C.
  2. Prior: a Llama (RMSNorm, RoPE, SwiGLU, tied embeddings) over [class, c_0 .. c_48], the
     49 codes in raster order, trained with class dropout: 10% of the time the class token
     is replaced by a null class, so one model gives both the conditional and the
     unconditional distribution for classifier-free guidance.
  3. Export: one GGUF (arch "llama", F16 matrices) with the codebook as the extra tensor
     `image.codebook` (F32, n_codes x 16) and the keys image.grid_w, image.grid_h,
     image.patch, image.n_codes, image.class_base, image.n_classes, image.null_class and
     image.class_names.

    ~/venv/bin/python tools/train_image.py          # the defaults make models/fashion.gguf

Why k-means and not a VQ-VAE: for 4x4 grayscale patches, a codebook of 256 centroids already
reconstructs well enough that a classifier trained on real images keeps most of its accuracy
(tools/eval_image.py measures it), it is deterministic and takes about a minute, and its
decoder is a table lookup that a C driver does in three lines. A VQ-VAE would need a
convolutional decoder in the driver and far more CPU time to train; its gain (codes that
see context beyond the patch) matters for larger images than 28x28.

Needs torch, numpy and gguf (gguf-py). Data: Debian's dataset-fashion-mnist
(`apt-get install dataset-fashion-mnist`, files in /usr/share/datasets/fashion-mnist; MIT).
Definitions: the reported loss is the mean cross-entropy (nats) of the 49 codes given the
class (never the null class) over a split, for the EXPORTED (F16-rounded) weights.
The script also writes tests/fixtures/image/nll.txt: a few test sequences and PyTorch's loss
on them, which `artr-image --nll` must reproduce (tests/test_image.sh checks it).
"""

import argparse
import gzip
import math
import os
import subprocess
import sys
import time

try:
    import numpy as np
    import torch
    import gguf  # noqa: F401 (artr_model writes and reads the files with it; fail early without it)
    from artr_model import (ROPE_THETA, RMS_EPS, Llama, add_run_args, adamw, check_logits, init_torch,
                            log, lr_at, mean_loss, n_params, read_gguf, round_f16_, train_step,
                            write_gguf)
except ImportError as e:  # pragma: no cover
    sys.exit(f"train_image.py: {e}; needs torch, numpy and gguf (pip install torch numpy gguf)")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

SIDE, PATCH = 28, 4
GRID = SIDE // PATCH                 # 7 x 7 codes
N_POS = GRID * GRID                  # 49
N_CODES = 256
N_CLASSES = 10
CLASS_BASE = N_CODES                 # token id of class 0
NULL = CLASS_BASE + N_CLASSES        # the null class (unconditional)
VOCAB = NULL + 1                     # 267
CTX = 64                             # n_ctx_train (a sequence is 50 tokens)

PRIOR = dict(dim=192, n_layer=4, n_head=6, n_head_kv=3, n_ff=576)
WARMUP = 100
MIN_LR_FRAC = 0.1
WEIGHT_DECAY = 0.05
CLIP = 1.0
CLASS_DROP = 0.1


# ---------------------------------------------------------------------------------------
# data

def read_idx(path):
    """An IDX file (gzip): uint8 array with the stored shape."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\0\0" or raw[2] != 8:
        sys.exit(f"train_image.py: {path} is not an IDX uint8 file")
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * nd).reshape(dims)


def load_split(data_dir, split):
    """(images uint8 (n, 28, 28), labels int64 (n,)) of 'train' or 't10k'."""
    img = os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz")
    lab = os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz")
    if not (os.path.isfile(img) and os.path.isfile(lab)):
        sys.exit(f"train_image.py: {img} not found: apt-get install dataset-fashion-mnist "
                 "(or pass --data DIR with the four *-ubyte.gz files)")
    return read_idx(img), read_idx(lab).astype(np.int64)


def to_patches(images):
    """uint8 (n, 28, 28) -> float32 (n, 49, 16) in [0, 1], patches in raster order."""
    x = images.astype(np.float32) / 255.0
    n = x.shape[0]
    return x.reshape(n, GRID, PATCH, GRID, PATCH).transpose(0, 1, 3, 2, 4).reshape(n, N_POS, PATCH * PATCH)


def from_patches(p):
    """float (n, 49, 16) -> float (n, 28, 28)."""
    n = p.shape[0]
    return p.reshape(n, GRID, GRID, PATCH, PATCH).transpose(0, 1, 3, 2, 4).reshape(n, SIDE, SIDE)


# ---------------------------------------------------------------------------------------
# codebook: k-means over 4x4 patches

def nearest(x, c, chunk=65536):
    """Index of the nearest row of c (k, d) for each row of x (n, d); ties -> lowest index."""
    c = torch.tensor(np.asarray(c), dtype=torch.float32)   # a copy: c may be a read-only map
    cc = (c * c).sum(1)
    out = np.empty(len(x), np.int64)
    for i in range(0, len(x), chunk):
        xb = torch.as_tensor(x[i:i + chunk], dtype=torch.float32)
        d = cc[None, :] - 2 * xb @ c.T          # |x|^2 is the same for every centroid
        out[i:i + chunk] = d.argmin(1).numpy()
    return out


def kmeans(x, k, iters, seed):
    """Lloyd's algorithm with k-means++ seeding (Arthur & Vassilvitskii 2007); an emptied
    cluster is re-seeded with the point farthest from its centroid."""
    rng = np.random.default_rng(seed)
    xt = torch.as_tensor(x)
    c = np.empty((k, x.shape[1]), np.float32)
    c[0] = x[rng.integers(len(x))]
    d2 = ((xt - torch.as_tensor(c[0])) ** 2).sum(1).numpy().astype(np.float64)
    for j in range(1, k):
        c[j] = x[rng.choice(len(x), p=d2 / d2.sum())]
        d2 = np.minimum(d2, ((xt - torch.as_tensor(c[j])) ** 2).sum(1).numpy())
    for it in range(iters):
        a = nearest(x, c)
        sums = np.zeros_like(c, dtype=np.float64)
        np.add.at(sums, a, x)
        cnt = np.bincount(a, minlength=k)
        err = ((x - c[a]) ** 2).sum(1)
        for j in np.nonzero(cnt == 0)[0]:
            far = int(err.argmax())
            sums[j], cnt[j], err[far] = x[far], 1, 0
        c = (sums / cnt[:, None]).astype(np.float32)
        if it % 5 == 4 or it == iters - 1:
            log(f"  k-means iteration {it + 1}/{iters}: mean squared error per pixel {err.mean() / x.shape[1]:.5f}")
    return c


# ---------------------------------------------------------------------------------------
# the prior (tools/artr_model.py: Llama, rotary embeddings on adjacent pairs, llama.cpp's
# mode 0, tied output; no dropout)

def make_model():
    return Llama(vocab=VOCAB, n_ctx=CTX, theta=ROPE_THETA, eps=RMS_EPS, **PRIOR)


def sequences(codes, labels):
    """[class token, 49 codes] per image: int64 (n, 50)."""
    return np.concatenate([(CLASS_BASE + labels)[:, None], codes], 1).astype(np.int64)


def seq_loss(model, seqs, batch=500):
    """Mean cross-entropy (nats) of the 49 codes of each sequence given its first token."""
    return mean_loss(model, seqs, batch)


def train_prior(train_seqs, val_seqs, steps, batch, lr, minutes, seed, eval_every, stop_after=None):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = make_model()
    opt = adamw(model, lr, WEIGHT_DECAY)
    log(f"prior: {n_params(model):,} parameters, {steps} steps of {batch} images")
    t0 = time.time()
    order = rng.permutation(len(train_seqs))
    pos = 0
    done = 0
    for step in range(steps):
        if pos + batch > len(order):
            order, pos = rng.permutation(len(train_seqs)), 0
        x = train_seqs[order[pos:pos + batch]].copy()
        pos += batch
        drop = rng.random(batch) < CLASS_DROP          # class dropout -> the null class
        x[drop, 0] = NULL
        step_lr = lr_at(step, steps, lr, WARMUP, MIN_LR_FRAC)
        loss = train_step(model, opt, torch.as_tensor(x), step_lr, CLIP)
        done = step + 1
        if step % 50 == 0:
            log(f"  step {step:5d}  loss {loss.item():.4f}  lr {step_lr:.2e}  {time.time() - t0:6.0f} s")
        if eval_every and step % eval_every == eval_every - 1:
            log(f"  step {step:5d}  val loss {seq_loss(model, val_seqs[:2000]):.4f}")
        if stop_after is not None and done >= stop_after:
            log(f"  stopping at step {done} (--stop-after)")
            break
        if time.time() - t0 > minutes * 60:
            log(f"  stopping at step {done}: the --minutes budget is spent (--stop-after {done} repeats this run)")
            break
    return model, done, time.time() - t0


# ---------------------------------------------------------------------------------------
# export and checks

IMAGE_KEYS = (("image.grid_w", GRID), ("image.grid_h", GRID), ("image.patch", PATCH), ("image.n_codes", N_CODES),
              ("image.class_base", CLASS_BASE), ("image.n_classes", N_CLASSES), ("image.null_class", NULL))


def export(path, model, codebook, info, val_loss, params):
    def image_kv(w):
        for k, v in IMAGE_KEYS:
            w.add_uint32(k, v)
        w.add_array("image.class_names", CLASS_NAMES)
    write_gguf(path, model, name="artr Fashion-MNIST image tokens", description=info,
               license="Unlicense OR MIT (weights); data: Fashion-MNIST, MIT (Zalando Research)",
               val_loss=val_loss, params=params, extra_kv=image_kv,
               extra_tensors=[("image.codebook", codebook.astype(np.float32))])   # (n_codes, 16): ne = [16, n_codes]


def verify_file(path, model, codebook, seqs):
    """The file's tensors must be what we trained (names, shapes, values), and an independent
    forward pass over them must give the PyTorch model's logits on a few sequences."""
    r, meta, t = read_gguf(path)
    for name, a in model.gguf_tensors():
        if name not in t or t[name].shape != a.shape or np.abs(t[name].astype(np.float32) - a).max() > 0:
            sys.exit(f"verify {path}: tensor {name} differs from the model's")
    if not np.array_equal(t["image.codebook"], codebook):
        sys.exit(f"verify {path}: image.codebook differs")
    return check_logits(path, model, t, meta, [(f"test sequence {i}, 49 of 50 ids", seqs[i][:-1]) for i in range(2)])


@torch.no_grad()
def write_nll_fixture(path, model, seqs):
    """A few test sequences (one per line: first token's class index, or 'null', then the
    49 codes) and the PyTorch loss of the exported weights on them, for artr-image --nll."""
    loss = seq_loss(model, seqs)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(f"# {len(seqs)} sequences; PyTorch mean loss {loss:.6f} nats/code (tools/train_image.py)\n")
        for s in seqs:
            cls = "null" if s[0] == NULL else str(s[0] - CLASS_BASE)
            f.write(cls + " " + " ".join(str(int(v)) for v in s[1:]) + "\n")
    return loss


def artr_nll(binary, model_path, fixture):
    """artr-image --nll: (mean loss, output line) or None if the binary is missing."""
    if not os.path.isfile(binary):
        return None
    out = subprocess.run([binary, "-m", model_path, "--nll", fixture], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"artr-image --nll failed: {out.stderr.strip()}")
    return float(out.stdout.split("mean loss ")[1].split()[0]), out.stdout.strip()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Train artr's Fashion-MNIST image-token model (k-means "
                                 "patch codebook + Llama prior with class dropout) and export it as GGUF.")
    ap.add_argument("--data", default=DATA, help=f"directory with the Fashion-MNIST *-ubyte.gz files (default {DATA})")
    ap.add_argument("--out", default=os.path.join(REPO, "models", "fashion.gguf"))
    ap.add_argument("--fixture", default=os.path.join(REPO, "tests", "fixtures", "image", "nll.txt"),
                    help="artr --nll fixture to write ('' for none)")
    ap.add_argument("--codebook-cache", default=os.path.join(REPO, "build", "image", "codebook.npz"),
                    help="reuse the codebook and codes from here if present ('' = never)")
    ap.add_argument("--kmeans-sample", type=int, default=400_000, help="patches k-means runs on")
    ap.add_argument("--kmeans-iters", type=int, default=25)
    ap.add_argument("--steps", type=int, default=1700)
    ap.add_argument("--batch", type=int, default=64, help="images per step (50 tokens each)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--stop-after", type=int, default=None,
                    help="stop after this many steps of the --steps schedule (reproduces a run the clock stopped)")
    add_run_args(ap, 18.0, "wall-time budget of the prior", 400, "steps between val-loss prints (0: none)")
    a = ap.parse_args(argv)

    init_torch(a.threads)
    t_start = time.time()
    tr_img, tr_lab = load_split(a.data, "train")
    te_img, te_lab = load_split(a.data, "t10k")
    log(f"data: {len(tr_img):,} train / {len(te_img):,} test images, {N_CLASSES} classes")
    tr_p, te_p = to_patches(tr_img), to_patches(te_img)

    t0 = time.time()
    if a.codebook_cache and os.path.isfile(a.codebook_cache):
        z = np.load(a.codebook_cache)
        codebook, tr_codes, te_codes = z["codebook"], z["train_codes"], z["test_codes"]
        log(f"codebook: loaded {a.codebook_cache}")
    else:
        flat = tr_p.reshape(-1, PATCH * PATCH)
        sample = flat[np.random.default_rng(a.seed).choice(len(flat), min(a.kmeans_sample, len(flat)), replace=False)]
        log(f"codebook: k-means, {N_CODES} centroids, {len(sample):,} of {len(flat):,} train patches")
        codebook = kmeans(sample, N_CODES, a.kmeans_iters, a.seed)
        # sort the codes by brightness so that code 0 is the darkest (background) patch
        codebook = codebook[np.argsort(codebook.sum(1), kind="stable")]
        tr_codes = nearest(flat, codebook).reshape(-1, N_POS)
        te_codes = nearest(te_p.reshape(-1, PATCH * PATCH), codebook).reshape(-1, N_POS)
        if a.codebook_cache:
            os.makedirs(os.path.dirname(a.codebook_cache), exist_ok=True)
            np.savez(a.codebook_cache, codebook=codebook, train_codes=tr_codes, test_codes=te_codes)
    t_codebook = time.time() - t0
    rec = codebook[te_codes]
    mse = float(((rec - te_p) ** 2).mean())
    used = len(np.unique(tr_codes))
    log(f"codebook: {t_codebook:.0f} s; test reconstruction MSE {mse:.5f} per pixel (PSNR {10 * math.log10(1 / mse):.2f} dB), "
        f"{used}/{N_CODES} codes used; code 0 covers {(tr_codes == 0).mean() * 100:.1f}% of train patches")

    tr_seqs, te_seqs = sequences(tr_codes, tr_lab), sequences(te_codes, te_lab)
    model, done, wall = train_prior(tr_seqs, te_seqs, a.steps, a.batch, a.lr, a.minutes, a.seed, a.eval_every,
                                    a.stop_after)
    params = n_params(model)
    round_f16_(model)
    tl = seq_loss(model, tr_seqs[:10000])
    vl = seq_loss(model, te_seqs)
    log(f"prior: {done} steps in {wall / 60:.1f} min; exported (F16) weights: train loss {tl:.4f} "
        f"(first 10k images), test loss {vl:.4f} nats/code ({vl / math.log(2) * N_POS:.1f} bits/image)")
    info = (f"tools/train_image.py: k-means codebook {N_CODES} x {PATCH}x{PATCH} (test MSE {mse:.5f}); "
            f"Llama prior {params:,} params, {done} steps of {a.batch} images, class dropout {CLASS_DROP}, "
            f"seed {a.seed}; test loss {vl:.4f} nats/code (F16 weights)")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    export(a.out, model, codebook, info, vl, params)
    worst = verify_file(a.out, model, codebook, te_seqs)
    log(f"wrote {a.out}: {os.path.getsize(a.out):,} bytes; verified (max logit diff {worst:.2e})")
    if a.fixture:
        fseq = te_seqs[:16].copy()
        fseq[12:, 0] = NULL                     # the unconditional model too
        fl = write_nll_fixture(a.fixture, model, fseq)
        log(f"wrote {a.fixture}: 16 test sequences (4 with the null class), PyTorch loss {fl:.6f}")
        got = artr_nll(os.path.join(REPO, "build", "artr-image"), a.out, a.fixture)
        if got is None:
            log("build/artr-image not built: run `make build/artr-image && build/artr-image "
                f"-m {a.out} --nll {a.fixture}` to compare artr's loss with PyTorch's")
        else:
            log(f"artr: {got[1]}  (PyTorch {fl:.6f}, difference {abs(got[0] - fl):.2e})")
            if abs(got[0] - fl) > 1e-3:
                sys.exit("artr's loss differs from PyTorch's by more than 1e-3")
    log(f"total wall time {(time.time() - t_start) / 60:.1f} min")


if __name__ == "__main__":
    main()
