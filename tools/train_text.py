#!/usr/bin/env python3
"""train_text.py - the recipe for artr's shipped example text models.

Trains, on Tiny Shakespeare, a SentencePiece BPE tokenizer (1024 pieces) and two Llama
models that share it: a target (~4.7M parameters) and a draft for speculative decoding
(~0.5M, about a tenth of the target). Writes them as F16 GGUF files with llama.cpp's tensor
names, metadata keys and SentencePiece tokenizer keys, then reads each file back and checks
that an independent numpy forward pass over the file's tensors (and, when transformers is
installed, Hugging Face's LlamaForCausalLM with the Q/K rows permuted back) gives the same
logits as the trained PyTorch model. Also writes tests/fixtures/text_val.bin, the perplexity
fixture for artr's C tests.

    ~/venv/bin/python tools/train_text.py          # the defaults make the shipped models

Needs torch, numpy, sentencepiece and gguf (gguf-py); transformers is optional (an extra
check). CPU is enough: the defaults took 23 minutes on one thread of a shared 2-core machine
(target 18.5 min, draft 3.1 min); step counts, not the clock, decide the result.

Definitions used throughout (printed losses, the GGUF key artr.train.val_loss, the fixture):
  * split: the first 90% of the file's characters are train, the last 10% val; each split is
    encoded as one string with SentencePiece (one dummy-prefix space at its very start).
  * loss over a split: the ids are cut into consecutive non-overlapping windows of 256 tokens
    (the last one shorter, if at least 2 tokens); each window is run from an empty context,
    and every token of it except its first is predicted from the tokens before it in the same
    window. The loss is the mean natural-log cross-entropy over all predicted tokens (windows
    of 256 contribute 255 each); perplexity = exp(loss).
  * the reported losses are those of the EXPORTED weights: matrices rounded to F16 (as
    stored) and computed in float32.

Rotary embeddings are applied to adjacent pairs (2i, 2i+1) of each head, as artr and
llama.cpp do for arch "llama", so Q and K are written without any permutation.
"""

import argparse
import io
import math
import os
import struct
import sys
import time

try:
    import numpy as np
    import torch
    import sentencepiece as spm
    import gguf
    from artr_model import (ROPE_THETA, RMS_EPS, Llama, add_run_args, adamw, check_logits, check_meta,
                            gguf_scalar, gguf_strings, init_torch, log, lr_at, n_params, read_gguf,
                            round_f16_, stream_loss, train_step, windows, write_gguf)
except ImportError as e:  # pragma: no cover
    sys.exit(f"train_text.py: {e}; needs torch, numpy, sentencepiece and gguf "
             "(pip install torch numpy sentencepiece gguf)")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

VOCAB = 1024
CTX = 256
BOS, EOS, UNK = 1, 2, 0

# Step counts: on this data (~395k train tokens) the target's val loss bottoms out after about
# 3 million training tokens; a longer run (1200 steps) ended at val 3.58 instead of 3.49.
MODELS = {
    "target": dict(dim=256, n_layer=6, n_head=8, n_head_kv=4, n_ff=704, dropout=0.1,
                   lr=1e-3, steps=800, batch=16, file="shakespeare.gguf",
                   name="artr Shakespeare 4.7M"),
    "draft": dict(dim=128, n_layer=2, n_head=4, n_head_kv=2, n_ff=352, dropout=0.0,
                  lr=2e-3, steps=1000, batch=16, file="shakespeare-draft.gguf",
                  name="artr Shakespeare draft 0.5M"),
}
WARMUP = 100
MIN_LR_FRAC = 0.1
WEIGHT_DECAY = 0.1
CLIP = 1.0
BOS_FRAC = 0.5          # share of training windows that start with <s> at a line start
FIXTURE_MAGIC = 0x4C415654  # 'TVAL'
FIXTURE_WINDOWS = 4


# ---------------------------------------------------------------------------------------
# data and tokenizer

def load_text(path):
    if not os.path.isfile(path):
        sys.exit(f"train_text.py: {path} not found. Put Tiny Shakespeare there "
                 "(https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                 "tinyshakespeare/input.txt) or pass --data FILE")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    n = int(len(text) * 0.9)
    return text[:n], text[n:]


def train_tokenizer(train_text):
    """SentencePiece BPE on the train split. The trainer reads "sentences"; it gets the
    split as ~4000-character chunks cut at blank lines, newlines included, so its pieces
    (':\\n', '\\n\\n', ...) are those that encoding the split as one string uses."""
    paras = train_text.split("\n\n")
    chunks, cur = [], ""
    for i, p in enumerate(paras):
        p = p + ("\n\n" if i < len(paras) - 1 else "")
        if cur and len(cur) + len(p) > 4000:
            chunks.append(cur)
            cur = ""
        cur += p
    if cur:
        chunks.append(cur)
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(chunks), model_writer=proto, vocab_size=VOCAB, model_type="bpe",
        byte_fallback=True, character_coverage=1.0, split_digits=True,
        pad_id=-1, unk_id=UNK, bos_id=BOS, eos_id=EOS,
        add_dummy_prefix=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, allow_whitespace_only_pieces=True,
        max_sentence_length=1 << 16, num_threads=1, minloglevel=2)
    return spm.SentencePieceProcessor(model_proto=proto.getvalue())


# ---------------------------------------------------------------------------------------
# the model (tools/artr_model.py: Llama with rotary embeddings on adjacent pairs, tied
# embeddings), evaluation and training

def make_model(cfg):
    return Llama(vocab=VOCAB, n_ctx=CTX, theta=ROPE_THETA, eps=RMS_EPS, **cfg)


def split_loss(model, ids, batch=32):
    """Mean next-token cross-entropy (nats) over the split's windows, see the top."""
    return stream_loss(model, ids, CTX, batch)


def train(kind, cfg, train_ids, val_ids, line_starts, steps, minutes, seed, eval_every):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = make_model(cfg)
    opt = adamw(model, cfg["lr"], WEIGHT_DECAY)
    ids = torch.tensor(train_ids, dtype=torch.long)
    B = cfg["batch"]
    log(f"[{kind}] {n_params(model):,} parameters; dim {cfg['dim']}, {cfg['n_layer']} layers, "
        f"{cfg['n_head']} heads ({cfg['n_head_kv']} kv), ffn {cfg['n_ff']}; {steps} steps of "
        f"{B} x {CTX} tokens, lr {cfg['lr']}, dropout {cfg['dropout']}, budget {minutes} min")
    t0 = time.time()
    smooth = None
    done = 0
    model.train()
    for step in range(steps):
        if time.time() - t0 > minutes * 60:
            log(f"[{kind}] time budget of {minutes} min reached after {step} of {steps} steps; "
                "stopping early (the result differs from a full run)")
            break
        lr = lr_at(step, steps, cfg["lr"], WARMUP, MIN_LR_FRAC)
        # windows of CTX + 1 ids: inputs x = w[:-1], targets y = w[1:]. A BOS_FRAC share
        # start with <s> followed by the text from a line start, as a prompt will.
        n_bos = int(rng.binomial(B, BOS_FRAC))
        rows = []
        for s in rng.choice(line_starts, size=n_bos):
            rows.append(torch.cat((torch.tensor([BOS]), ids[s:s + CTX])))
        for s in rng.integers(0, len(ids) - CTX - 1, size=B - n_bos):
            rows.append(ids[s:s + CTX + 1])
        loss = train_step(model, opt, torch.stack(rows), lr, CLIP)
        done = step + 1
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        if done % eval_every == 0 or done == steps:
            vl = split_loss(model, val_ids)
            model.train()
            log(f"[{kind}] step {done:5d}/{steps}  {time.time() - t0:6.0f}s  lr {lr:.2e}  "
                f"train (batch, smoothed) {smooth:.4f}  val {vl:.4f}")
    wall = time.time() - t0
    log(f"[{kind}] trained {done} steps in {wall / 60:.1f} min; keeping the last checkpoint")
    model.eval()
    return model, done, wall


# ---------------------------------------------------------------------------------------
# GGUF export

def token_type(sp, i):
    if sp.is_unknown(i):
        return gguf.TokenType.UNKNOWN
    if sp.is_control(i):
        return gguf.TokenType.CONTROL
    if sp.is_unused(i):
        return gguf.TokenType.UNUSED
    if sp.is_byte(i):
        return gguf.TokenType.BYTE
    return gguf.TokenType.NORMAL


def export(path, model, cfg, sp, val_loss, params, train_info):
    def tokenizer_kv(w):
        # as llama.cpp's _create_vocab_sentencepiece + SpecialVocab write it
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list([sp.id_to_piece(i).encode("utf-8") for i in range(VOCAB)])
        w.add_token_scores([float(sp.get_score(i)) for i in range(VOCAB)])
        w.add_token_types([int(token_type(sp, i)) for i in range(VOCAB)])
        w.add_bos_token_id(sp.bos_id())
        w.add_eos_token_id(sp.eos_id())
        w.add_unk_token_id(sp.unk_id())
        w.add_add_bos_token(True)
        w.add_add_eos_token(False)
        w.add_add_space_prefix(True)
    write_gguf(path, model, name=cfg["name"], description=train_info,
               license="Unlicense OR MIT (weights); data: Tiny Shakespeare, public domain",
               val_loss=val_loss, params=params, extra_kv=tokenizer_kv)


# ---------------------------------------------------------------------------------------
# verification: an independent forward pass over the file's own tensors

def verify(path, model, cfg, sp, val_ids, val_loss, params):
    """Read the file back; its metadata must say what we trained, and its tensors, run by
    an independent forward pass, must give the PyTorch model's (F16-rounded) logits."""
    r, meta, t = read_gguf(path)
    check_meta(path, meta, dict(arch="llama", ctx=CTX, embd=cfg["dim"], layers=cfg["n_layer"], ff=cfg["n_ff"],
                                heads=cfg["n_head"], heads_kv=cfg["n_head_kv"], theta=ROPE_THETA, eps=RMS_EPS))
    if gguf_strings(r, "tokenizer.ggml.tokens") != [sp.id_to_piece(i) for i in range(VOCAB)]:
        sys.exit(f"verify {path}: token list differs from the tokenizer")
    if gguf_scalar(r, "tokenizer.ggml.model") != "llama" or gguf_scalar(r, "artr.train.params") != params:
        sys.exit(f"verify {path}: tokenizer.ggml.model or artr.train.params wrong")
    if abs(gguf_scalar(r, "artr.train.val_loss") - val_loss) > 1e-6:
        sys.exit(f"verify {path}: artr.train.val_loss wrong")
    for ten in r.tensors:
        want_type = gguf.GGMLQuantizationType.F16 if t[ten.name].ndim == 2 else gguf.GGMLQuantizationType.F32
        if ten.tensor_type != want_type:
            sys.exit(f"verify {path}: {ten.name} is {ten.tensor_type.name}, expected {want_type.name}")
    ref = dict(model.gguf_tensors())
    if set(t) != set(ref) or any(t[n].shape != ref[n].shape for n in ref):
        sys.exit(f"verify {path}: tensor names or shapes differ from the model's")
    # a few windows: two from the val split, one as a prompt would start (<s> + a line)
    ws = windows(val_ids, CTX)
    tests = [("val window 0", list(ws[0])), ("val window 1, 64 ids", list(ws[1][:64])),
             ("<s> + val window 2, 48 ids", [BOS] + list(ws[2][:47]))]
    return check_logits(path, model, t, meta, tests, hf=True)


# ---------------------------------------------------------------------------------------

def write_fixture(path, model, val_ids):
    ws = windows(val_ids, CTX)[:FIXTURE_WINDOWS]
    assert all(len(w) == CTX for w in ws)
    ids = np.concatenate(ws).astype("<i4")
    loss = split_loss(model, ids)       # the same definition over exactly these windows
    with open(path, "wb") as f:
        f.write(struct.pack("<iiif", FIXTURE_MAGIC, len(ws), CTX, loss))
        f.write(ids.tobytes())
    return loss, ids


@torch.no_grad()
def greedy(model, sp, prompt, n_chars):
    ids = [BOS] + sp.encode(prompt)
    n0 = len(ids)
    while len(sp.decode(ids[n0:])) < n_chars and len(ids) < CTX:
        ids.append(int(model(torch.tensor([ids]))[0, -1].argmax()))
    return ids, sp.decode(ids[1:])


def main(argv=None):
    ap = argparse.ArgumentParser(description="Train artr's example text models (target + draft) "
                                 "on Tiny Shakespeare and export them as F16 GGUF.")
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "tinyshakespeare.txt"),
                    help="Tiny Shakespeare text (default: ../shared/data/tinyshakespeare.txt from the repo root)")
    ap.add_argument("--out-dir", default=os.path.join(REPO, "models"), help="where the GGUF files go")
    ap.add_argument("--fixture", default=os.path.join(REPO, "tests", "fixtures", "text_val.bin"),
                    help="perplexity fixture to write ('' for none)")
    ap.add_argument("--steps", type=int, default=MODELS["target"]["steps"],
                    help="training steps (the LR schedule's length) for the target")
    ap.add_argument("--draft-steps", type=int, default=MODELS["draft"]["steps"],
                    help="training steps for the draft")
    add_run_args(ap, 60.0, "wall-time budget per model; stops early (a different model) if reached",
                 200, "steps between val-loss prints")
    ap.add_argument("--only", choices=("both", "target", "draft"), default="both")
    a = ap.parse_args(argv)

    init_torch(a.threads)
    t_start = time.time()
    train_text, val_text = load_text(a.data)
    sp = train_tokenizer(train_text)
    train_ids = np.array(sp.encode(train_text), dtype=np.int64)
    val_ids = np.array(sp.encode(val_text), dtype=np.int64)
    assert sp.decode(val_ids.tolist()) == val_text, "tokenizer round trip failed"
    # positions just after a newline: where <s> windows start
    nl = np.array([sp.id_to_piece(i).endswith("\n") or sp.id_to_piece(i) == "<0x0A>" for i in range(VOCAB)])
    line_starts = np.nonzero(nl[train_ids[:-CTX - 1]])[0] + 1
    log(f"data: {len(train_text):,} train / {len(val_text):,} val characters -> "
        f"{len(train_ids):,} / {len(val_ids):,} tokens ({len(train_text) / len(train_ids):.2f} chars/token); "
        f"{len(windows(val_ids, CTX))} val windows")
    os.makedirs(a.out_dir, exist_ok=True)

    results = {}
    for kind in ("target", "draft"):
        if a.only not in ("both", kind):
            continue
        cfg = MODELS[kind]
        steps = a.steps if kind == "target" else a.draft_steps
        model, done, wall = train(kind, cfg, train_ids, val_ids, line_starts, steps, a.minutes,
                                  a.seed, a.eval_every)
        params = n_params(model)
        round_f16_(model)               # from here on: the exported weights
        vl = split_loss(model, val_ids)
        tl = split_loss(model, train_ids)
        log(f"[{kind}] exported (F16) weights: train loss {tl:.4f}, val loss {vl:.4f}, "
            f"val perplexity {math.exp(vl):.3f}")
        info = (f"{kind} model trained by tools/train_text.py: {done} steps of {cfg['batch']}x{CTX} "
                f"tokens, seed {a.seed}; val loss {vl:.4f} (F16 weights)")
        path = os.path.join(a.out_dir, cfg["file"])
        export(path, model, cfg, sp, vl, params, info)
        worst = verify(path, model, cfg, sp, val_ids, vl, params)
        log(f"[{kind}] wrote {path}: {os.path.getsize(path):,} bytes; verified (max logit diff {worst:.2e})")
        results[kind] = dict(model=model, params=params, steps=done, wall=wall, train=tl, val=vl,
                             size=os.path.getsize(path), diff=worst)
        if kind == "target" and a.fixture:
            fl, fids = write_fixture(a.fixture, model, val_ids)
            log(f"[target] wrote {a.fixture}: {FIXTURE_WINDOWS} windows x {CTX} ids, loss {fl:.6f} "
                f"(perplexity {math.exp(fl):.4f}), first ids {fids[:8].tolist()}")
        _, text = greedy(model, sp, "ROMEO:", 300)
        log(f"[{kind}] greedy from '<s>ROMEO:' (PyTorch, F16 weights):\n{text}\n")

    log("summary:")
    for kind, r in results.items():
        log(f"  {kind:6s} {r['params']:>9,} params  {r['steps']} steps  {r['wall'] / 60:5.1f} min  "
            f"train {r['train']:.4f}  val {r['val']:.4f}  ppl {math.exp(r['val']):7.3f}  "
            f"{r['size']:>10,} bytes  verify {r['diff']:.1e}")
    if "target" in results and "draft" in results:
        log(f"  draft/target parameters: {results['draft']['params'] / results['target']['params']:.3f}")
    log(f"total wall time {(time.time() - t_start) / 60:.1f} min")


if __name__ == "__main__":
    main()
