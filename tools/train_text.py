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
    import torch.nn as nn
    import torch.nn.functional as F
    import sentencepiece as spm
    import gguf
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
ROPE_THETA = 10000.0
RMS_EPS = 1e-5
WARMUP = 100
MIN_LR_FRAC = 0.1
WEIGHT_DECAY = 0.1
CLIP = 1.0
BOS_FRAC = 0.5          # share of training windows that start with <s> at a line start
FIXTURE_MAGIC = 0x4C415654  # 'TVAL'
FIXTURE_WINDOWS = 4


def log(*a):
    print(*a, flush=True)


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
# the model: Llama with rotary embeddings on adjacent pairs, tied embeddings

def rope_tables(head_dim, n_ctx, theta):
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    ang = torch.outer(torch.arange(n_ctx, dtype=torch.float64), inv)
    return ang.cos().float(), ang.sin().float()          # (n_ctx, head_dim / 2)


def rope(x, cos, sin):
    """x: (B, H, T, hd); rotates pairs (x[2i], x[2i+1]) by pos * theta^(-2i/hd)."""
    T = x.shape[2]
    c, s = cos[:T], sin[:T]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, dim, n_head, n_head_kv, n_ff, dropout):
        super().__init__()
        self.n_head, self.n_head_kv, self.hd, self.dropout = n_head, n_head_kv, dim // n_head, dropout
        self.attn_norm = nn.Parameter(torch.ones(dim))
        self.attn_q = nn.Linear(dim, dim, bias=False)
        self.attn_k = nn.Linear(dim, n_head_kv * self.hd, bias=False)
        self.attn_v = nn.Linear(dim, n_head_kv * self.hd, bias=False)
        self.attn_output = nn.Linear(dim, dim, bias=False)
        self.ffn_norm = nn.Parameter(torch.ones(dim))
        self.ffn_gate = nn.Linear(dim, n_ff, bias=False)
        self.ffn_up = nn.Linear(dim, n_ff, bias=False)
        self.ffn_down = nn.Linear(n_ff, dim, bias=False)

    def forward(self, x, cos, sin):
        B, T, D = x.shape
        h = F.rms_norm(x, (D,), self.attn_norm, RMS_EPS)
        q = self.attn_q(h).view(B, T, self.n_head, self.hd).transpose(1, 2)
        k = self.attn_k(h).view(B, T, self.n_head_kv, self.hd).transpose(1, 2)
        v = self.attn_v(h).view(B, T, self.n_head_kv, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        a = self.attn_output(a.transpose(1, 2).reshape(B, T, D))
        x = x + F.dropout(a, self.dropout, self.training)
        h = F.rms_norm(x, (D,), self.ffn_norm, RMS_EPS)
        m = self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))
        return x + F.dropout(m, self.dropout, self.training)


class Llama(nn.Module):
    def __init__(self, dim, n_layer, n_head, n_head_kv, n_ff, dropout=0.0, **_):
        super().__init__()
        self.dim, self.n_layer, self.n_head, self.n_head_kv, self.n_ff = dim, n_layer, n_head, n_head_kv, n_ff
        self.token_embd = nn.Embedding(VOCAB, dim)
        self.blocks = nn.ModuleList(Block(dim, n_head, n_head_kv, n_ff, dropout) for _ in range(n_layer))
        self.output_norm = nn.Parameter(torch.ones(dim))
        cos, sin = rope_tables(dim // n_head, CTX, ROPE_THETA)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        for name, p in self.named_parameters():       # GPT-2 style: residual outputs scaled
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith(("attn_output.weight", "ffn_down.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        x = self.token_embd(idx)
        for b in self.blocks:
            x = b(x, self.cos, self.sin)
        x = F.rms_norm(x, (self.dim,), self.output_norm, RMS_EPS)
        return x @ self.token_embd.weight.t()         # tied output

    def gguf_tensors(self):
        """(llama.cpp name, float32 numpy array shaped (n_out, n_in) or (n,))."""
        def a(t):
            return t.detach().float().numpy().copy()
        out = [("token_embd.weight", a(self.token_embd.weight))]
        for i, b in enumerate(self.blocks):
            out += [(f"blk.{i}.attn_norm.weight", a(b.attn_norm)),
                    (f"blk.{i}.attn_q.weight", a(b.attn_q.weight)),
                    (f"blk.{i}.attn_k.weight", a(b.attn_k.weight)),
                    (f"blk.{i}.attn_v.weight", a(b.attn_v.weight)),
                    (f"blk.{i}.attn_output.weight", a(b.attn_output.weight)),
                    (f"blk.{i}.ffn_norm.weight", a(b.ffn_norm)),
                    (f"blk.{i}.ffn_gate.weight", a(b.ffn_gate.weight)),
                    (f"blk.{i}.ffn_up.weight", a(b.ffn_up.weight)),
                    (f"blk.{i}.ffn_down.weight", a(b.ffn_down.weight))]
        out.append(("output_norm.weight", a(self.output_norm)))
        return out


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def round_f16_(model):
    """Round every matrix to F16 in place (what the GGUF stores); norms stay float32."""
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.copy_(p.half().float())


# ---------------------------------------------------------------------------------------
# evaluation and training

def windows(ids, n=CTX):
    """Consecutive non-overlapping windows of n ids; a final one shorter if >= 2 ids."""
    out = [ids[i:i + n] for i in range(0, len(ids), n)]
    return [w for w in out if len(w) >= 2]


@torch.no_grad()
def split_loss(model, ids, batch=32):
    """Mean next-token cross-entropy (nats) over the split's windows, see the top."""
    model.eval()
    ws = windows(ids)
    total, count = 0.0, 0
    full = [w for w in ws if len(w) == CTX]
    rest = [w for w in ws if len(w) != CTX]
    for i in range(0, len(full), batch):
        x = torch.tensor(np.stack(full[i:i + batch]), dtype=torch.long)
        lg = model(x[:, :-1])
        total += F.cross_entropy(lg.reshape(-1, VOCAB).double(), x[:, 1:].reshape(-1), reduction="sum").item()
        count += x[:, 1:].numel()
    for w in rest:
        x = torch.tensor(w, dtype=torch.long)[None]
        lg = model(x[:, :-1])
        total += F.cross_entropy(lg.reshape(-1, VOCAB).double(), x[:, 1:].reshape(-1), reduction="sum").item()
        count += x[:, 1:].numel()
    return total / count


def lr_at(step, steps, peak):
    """Linear warmup over WARMUP steps, then cosine from peak to MIN_LR_FRAC * peak."""
    if step < WARMUP:
        return peak * (step + 1) / WARMUP
    t = (step - WARMUP) / max(1, steps - WARMUP)
    return peak * (MIN_LR_FRAC + (1 - MIN_LR_FRAC) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def train(kind, cfg, train_ids, val_ids, line_starts, steps, minutes, seed, eval_every):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Llama(**cfg)
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": other, "weight_decay": 0.0}],
                            lr=cfg["lr"], betas=(0.9, 0.95), eps=1e-8)
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
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, cfg["lr"])
        # windows of CTX + 1 ids: inputs x = w[:-1], targets y = w[1:]. A BOS_FRAC share
        # start with <s> followed by the text from a line start, as a prompt will.
        n_bos = int(rng.binomial(B, BOS_FRAC))
        rows = []
        for s in rng.choice(line_starts, size=n_bos):
            rows.append(torch.cat((torch.tensor([BOS]), ids[s:s + CTX])))
        for s in rng.integers(0, len(ids) - CTX - 1, size=B - n_bos):
            rows.append(ids[s:s + CTX + 1])
        w = torch.stack(rows)
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        done = step + 1
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        if done % eval_every == 0 or done == steps:
            vl = split_loss(model, val_ids)
            model.train()
            log(f"[{kind}] step {done:5d}/{steps}  {time.time() - t0:6.0f}s  lr {g['lr']:.2e}  "
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
    w = gguf.GGUFWriter(path, "llama")
    try:
        w.add_type(gguf.GGUFType.MODEL)
        w.add_name(cfg["name"])
        w.add_description(train_info)
        w.add_license("Unlicense OR MIT (weights); data: Tiny Shakespeare, public domain")
        w.add_context_length(CTX)
        w.add_embedding_length(cfg["dim"])
        w.add_block_count(cfg["n_layer"])
        w.add_feed_forward_length(cfg["n_ff"])
        w.add_head_count(cfg["n_head"])
        w.add_head_count_kv(cfg["n_head_kv"])
        w.add_rope_freq_base(ROPE_THETA)
        w.add_layer_norm_rms_eps(RMS_EPS)
        w.add_rope_dimension_count(cfg["dim"] // cfg["n_head"])
        w.add_vocab_size(VOCAB)
        w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
        # tokenizer, as llama.cpp's _create_vocab_sentencepiece + SpecialVocab write it
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
        w.add_float32("artr.train.val_loss", float(val_loss))
        w.add_uint64("artr.train.params", int(params))
        for name, a in model.gguf_tensors():
            w.add_tensor(name, a.astype(np.float16) if a.ndim == 2 else a.astype(np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
    finally:
        w.close()


# ---------------------------------------------------------------------------------------
# verification: an independent forward pass over the file's own tensors

def gguf_scalar(r, key):
    f = r.fields[key]
    v = f.parts[f.data[0]]
    return v.tobytes().decode("utf-8") if f.types[0] == gguf.GGUFValueType.STRING else v.item()


def gguf_strings(r, key):
    f = r.fields[key]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]


def numpy_forward(t, meta, ids):
    """Llama forward in float64 numpy from GGUF tensors t (name -> array (n_out, n_in)),
    rotary embeddings on adjacent pairs as in llama.cpp's rope for arch llama (mode 0)."""
    E, L, H, Hkv = meta["embd"], meta["layers"], meta["heads"], meta["heads_kv"]
    hd, eps, theta = E // H, meta["eps"], meta["theta"]
    T = len(ids)

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    def rot(x):                                        # x (T, n, hd)
        y = x.copy()
        for p in range(T):
            for i in range(hd // 2):
                a = p * theta ** (-2.0 * i / hd)
                c, s = math.cos(a), math.sin(a)
                x0, x1 = x[p, :, 2 * i], x[p, :, 2 * i + 1]
                y[p, :, 2 * i], y[p, :, 2 * i + 1] = x0 * c - x1 * s, x0 * s + x1 * c
        return y

    x = t["token_embd.weight"][ids]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(L):
        g = lambda n: t[f"blk.{l}.{n}.weight"]      # noqa: E731
        h = rms(x, g("attn_norm"))
        q = rot((h @ g("attn_q").T).reshape(T, H, hd))
        k = rot((h @ g("attn_k").T).reshape(T, Hkv, hd))
        v = (h @ g("attn_v").T).reshape(T, Hkv, hd)
        o = np.zeros((T, H, hd))
        for j in range(H):
            kj = j // (H // Hkv)
            s = q[:, j] @ k[:, kj].T / math.sqrt(hd) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            o[:, j] = (s / s.sum(-1, keepdims=True)) @ v[:, kj]
        x = x + o.reshape(T, E) @ g("attn_output").T
        h = rms(x, g("ffn_norm"))
        gt = h @ g("ffn_gate").T
        x = x + ((gt / (1 + np.exp(-gt))) * (h @ g("ffn_up").T)) @ g("ffn_down").T
    x = rms(x, t["output_norm.weight"])
    return x @ t.get("output.weight", t["token_embd.weight"]).T


def hf_forward(t, meta, ids):
    """The same file through transformers' LlamaForCausalLM (rotate_half rope): Q and K rows
    are permuted back from llama.cpp's order with the inverse of its permute()."""
    from transformers import LlamaConfig, LlamaForCausalLM
    E, L, H, Hkv = meta["embd"], meta["layers"], meta["heads"], meta["heads_kv"]
    cfg = LlamaConfig(vocab_size=VOCAB, hidden_size=E, intermediate_size=meta["ff"],
                      num_hidden_layers=L, num_attention_heads=H, num_key_value_heads=Hkv,
                      max_position_embeddings=meta["ctx"], rms_norm_eps=meta["eps"],
                      rope_theta=meta["theta"], tie_word_embeddings="output.weight" not in t,
                      attention_bias=False, mlp_bias=False)
    m = LlamaForCausalLM(cfg).eval()

    def unpermute(w, n):
        return w.reshape(n, w.shape[0] // n // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
    sd = {"model.embed_tokens.weight": t["token_embd.weight"], "model.norm.weight": t["output_norm.weight"],
          "lm_head.weight": t.get("output.weight", t["token_embd.weight"])}
    for l in range(L):
        p, g = f"model.layers.{l}.", (lambda n: t[f"blk.{l}.{n}.weight"])
        sd.update({p + "input_layernorm.weight": g("attn_norm"),
                   p + "self_attn.q_proj.weight": unpermute(g("attn_q"), H),
                   p + "self_attn.k_proj.weight": unpermute(g("attn_k"), Hkv),
                   p + "self_attn.v_proj.weight": g("attn_v"),
                   p + "self_attn.o_proj.weight": g("attn_output"),
                   p + "post_attention_layernorm.weight": g("ffn_norm"),
                   p + "mlp.gate_proj.weight": g("ffn_gate"),
                   p + "mlp.up_proj.weight": g("ffn_up"),
                   p + "mlp.down_proj.weight": g("ffn_down")})
    m.load_state_dict({k: torch.tensor(np.asarray(v, dtype=np.float32)) for k, v in sd.items()}, strict=False)
    with torch.no_grad():
        return m(torch.tensor([list(ids)])).logits[0].double().numpy()


def verify(path, model, cfg, sp, val_ids, val_loss, params):
    """Read the file back; its metadata must say what we trained, and its tensors, run by
    an independent forward pass, must give the PyTorch model's (F16-rounded) logits."""
    r = gguf.GGUFReader(path)
    meta = dict(arch=gguf_scalar(r, "general.architecture"), ctx=gguf_scalar(r, "llama.context_length"),
                embd=gguf_scalar(r, "llama.embedding_length"), layers=gguf_scalar(r, "llama.block_count"),
                ff=gguf_scalar(r, "llama.feed_forward_length"), heads=gguf_scalar(r, "llama.attention.head_count"),
                heads_kv=gguf_scalar(r, "llama.attention.head_count_kv"),
                theta=gguf_scalar(r, "llama.rope.freq_base"),
                eps=gguf_scalar(r, "llama.attention.layer_norm_rms_epsilon"))
    want = dict(arch="llama", ctx=CTX, embd=cfg["dim"], layers=cfg["n_layer"], ff=cfg["n_ff"],
                heads=cfg["n_head"], heads_kv=cfg["n_head_kv"], theta=ROPE_THETA, eps=RMS_EPS)
    for k, v in want.items():
        if not (meta[k] == v or (isinstance(v, float) and abs(meta[k] - v) <= 1e-6 * abs(v))):
            sys.exit(f"verify {path}: {k} = {meta[k]!r}, expected {v!r}")
    if gguf_strings(r, "tokenizer.ggml.tokens") != [sp.id_to_piece(i) for i in range(VOCAB)]:
        sys.exit(f"verify {path}: token list differs from the tokenizer")
    if gguf_scalar(r, "tokenizer.ggml.model") != "llama" or gguf_scalar(r, "artr.train.params") != params:
        sys.exit(f"verify {path}: tokenizer.ggml.model or artr.train.params wrong")
    if abs(gguf_scalar(r, "artr.train.val_loss") - val_loss) > 1e-6:
        sys.exit(f"verify {path}: artr.train.val_loss wrong")
    t = {}
    for ten in r.tensors:
        a = np.asarray(ten.data)
        want_type = gguf.GGMLQuantizationType.F16 if a.ndim == 2 else gguf.GGMLQuantizationType.F32
        if ten.tensor_type != want_type:
            sys.exit(f"verify {path}: {ten.name} is {ten.tensor_type.name}, expected {want_type.name}")
        t[ten.name] = a.astype(np.float64)
    ref = dict(model.gguf_tensors())
    if set(t) != set(ref) or any(t[n].shape != ref[n].shape for n in ref):
        sys.exit(f"verify {path}: tensor names or shapes differ from the model's")
    # a few windows: two from the val split, one as a prompt would start (<s> + a line)
    ws = windows(val_ids)
    tests = [("val window 0", list(ws[0])), ("val window 1, 64 ids", list(ws[1][:64])),
             ("<s> + val window 2, 48 ids", [BOS] + list(ws[2][:47]))]
    worst = 0.0
    try:
        import transformers  # noqa: F401
        have_hf = True
    except ImportError:
        have_hf = False
        log("verify: transformers not installed; skipping the LlamaForCausalLM cross-check")
    for label, ids in tests:
        with torch.no_grad():
            pt = model(torch.tensor([ids]))[0].double().numpy()
        npl = numpy_forward(t, meta, ids)
        d = float(np.abs(npl - pt).max())
        msg = f"verify {os.path.basename(path)}: {label}: max |numpy(GGUF) - torch| = {d:.2e}"
        if have_hf:
            dh = float(np.abs(hf_forward(t, meta, ids) - pt).max())
            msg += f", max |transformers(GGUF, unpermuted) - torch| = {dh:.2e}"
            d = max(d, dh)
        log(msg)
        worst = max(worst, d)
    if not worst < 1e-3:
        sys.exit(f"verify {path}: logits differ by {worst:.3e} (> 1e-3): the export is wrong")
    return worst


# ---------------------------------------------------------------------------------------

def write_fixture(path, model, val_ids):
    ws = windows(val_ids)[:FIXTURE_WINDOWS]
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
    ap.add_argument("--minutes", type=float, default=60.0,
                    help="wall-time budget per model; stops early (a different model) if reached")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--eval-every", type=int, default=200, help="steps between val-loss prints")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 made the shipped models; another count changes the "
                    "float summation order, so the result differs slightly; 1 also copes best "
                    "with a machine shared with other work)")
    ap.add_argument("--only", choices=("both", "target", "draft"), default="both")
    a = ap.parse_args(argv)

    # denormals (AdamW's early state) make CPU steps ~10x slower; flush them to zero, before
    # the thread pool exists so its threads inherit the setting
    torch.set_flush_denormal(True)
    torch.set_num_threads(a.threads)
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
        f"{len(windows(val_ids))} val windows")
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
