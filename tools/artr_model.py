"""artr_model.py - the model code that tools/train_text.py, train_series.py and
train_image.py share, and tools/verify_models.py checks the shipped files with.

  * Llama: RMSNorm, rotary embeddings on adjacent pairs (2i, 2i+1) of each head (as artr
    and llama.cpp apply them for arch "llama", mode 0, so Q and K are exported without a
    permutation), grouped-query attention, SwiGLU, tied output; dropout on the two residual
    branches (0 = none). A recipe passes its vocabulary, context and shapes.
  * training pieces: the GPT-2 style init (in Llama), AdamW with weight decay on matrices
    only, the warmup + cosine LR schedule, one optimiser step, rounding to F16.
  * losses: summed / mean next-token cross-entropy over rows of ids, optionally over only
    their last n_pred targets; the loss over a token stream cut into windows.
  * GGUF: writing the llama.cpp keys and tensors (a recipe adds its own keys and tensors),
    reading a file back (metadata, tensors, a Llama with its weights), an independent
    float64 numpy forward pass over a file's tensors, and transformers' LlamaForCausalLM
    over the same tensors (optional).

Needs torch, numpy and gguf (gguf-py); transformers only for hf_forward.
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    import gguf
except ImportError:  # pragma: no cover - the recipes say what to install
    gguf = None

ROPE_THETA = 10000.0
RMS_EPS = 1e-5


def log(*a):
    print(*a, flush=True)


def need_gguf():
    if gguf is None:
        sys.exit("artr_model.py: the gguf package is missing (pip install gguf)")
    return gguf


# ---------------------------------------------------------------------------------------
# the model

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
    def __init__(self, dim, n_head, n_head_kv, n_ff, dropout=0.0, eps=RMS_EPS):
        super().__init__()
        self.n_head, self.n_head_kv, self.hd, self.dropout, self.eps = n_head, n_head_kv, dim // n_head, dropout, eps
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
        h = F.rms_norm(x, (D,), self.attn_norm, self.eps)
        q = self.attn_q(h).view(B, T, self.n_head, self.hd).transpose(1, 2)
        k = self.attn_k(h).view(B, T, self.n_head_kv, self.hd).transpose(1, 2)
        v = self.attn_v(h).view(B, T, self.n_head_kv, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        a = self.attn_output(a.transpose(1, 2).reshape(B, T, D))
        x = x + F.dropout(a, self.dropout, self.training)     # p = 0: x + a, no RNG drawn
        h = F.rms_norm(x, (D,), self.ffn_norm, self.eps)
        m = self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))
        return x + F.dropout(m, self.dropout, self.training)


BLOCK_TENSORS = ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                 "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")


class Llama(nn.Module):
    """vocab, n_ctx (positions the rope tables cover = the file's context length) and the
    shapes; extra keys of a recipe's config dict (lr, steps, ...) are ignored."""

    def __init__(self, vocab, n_ctx, dim, n_layer, n_head, n_head_kv, n_ff, dropout=0.0,
                 theta=ROPE_THETA, eps=RMS_EPS, **_):
        super().__init__()
        self.vocab, self.n_ctx, self.theta, self.eps = vocab, n_ctx, theta, eps
        self.dim, self.n_layer, self.n_head, self.n_head_kv, self.n_ff = dim, n_layer, n_head, n_head_kv, n_ff
        self.token_embd = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(Block(dim, n_head, n_head_kv, n_ff, dropout, eps) for _ in range(n_layer))
        self.output_norm = nn.Parameter(torch.ones(dim))
        cos, sin = rope_tables(dim // n_head, n_ctx, theta)
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
        x = F.rms_norm(x, (self.dim,), self.output_norm, self.eps)
        return x @ self.token_embd.weight.t()         # tied output

    def _named_tensors(self):
        """(llama.cpp name, parameter tensor), in the order the files store them."""
        out = [("token_embd.weight", self.token_embd.weight)]
        for i, b in enumerate(self.blocks):
            for n in BLOCK_TENSORS:
                p = getattr(b, n)
                out.append((f"blk.{i}.{n}.weight", p if isinstance(p, nn.Parameter) else p.weight))
        out.append(("output_norm.weight", self.output_norm))
        return out

    def gguf_tensors(self):
        """(llama.cpp name, float32 numpy array shaped (n_out, n_in) or (n,))."""
        return [(n, p.detach().float().numpy().copy()) for n, p in self._named_tensors()]

    @torch.no_grad()
    def load_tensors_(self, t):
        """Set every parameter from t (llama.cpp name -> array of the parameter's shape)."""
        for n, p in self._named_tensors():
            a = np.asarray(t[n])
            if a.shape != tuple(p.shape):
                raise ValueError(f"{n}: shape {a.shape}, the model has {tuple(p.shape)}")
            p.copy_(torch.from_numpy(a.astype(np.float32)))
        return self


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def round_f16_(model):
    """Round every matrix to F16 in place (what the GGUF stores); norms stay float32."""
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.copy_(p.half().float())


# ---------------------------------------------------------------------------------------
# training

def add_run_args(ap, minutes, minutes_help, eval_every, eval_help=None):
    """The recipes' common options: --minutes, --seed, --eval-every, --threads."""
    ap.add_argument("--minutes", type=float, default=minutes, help=minutes_help)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--eval-every", type=int, default=eval_every, help=eval_help)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 made the shipped models; another count changes the "
                    "float summation order, so the result differs slightly; 1 also copes best "
                    "with a machine shared with other work)")


def init_torch(threads):
    """Denormals (AdamW's early state) make CPU steps ~10x slower: flush them to zero, before
    the thread pool exists so that its threads inherit the setting; then set the threads."""
    torch.set_flush_denormal(True)
    torch.set_num_threads(threads)


def adamw(model, lr, weight_decay):
    """AdamW (betas 0.9 / 0.95, eps 1e-8), weight decay on the matrices only."""
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": other, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def lr_at(step, steps, peak, warmup, min_lr_frac=0.1):
    """Linear warmup over `warmup` steps, then cosine from peak to min_lr_frac * peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return peak * (min_lr_frac + (1 - min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def train_step(model, opt, w, lr, clip):
    """One step on the rows w (B, T + 1): inputs w[:, :-1], next-token targets w[:, 1:],
    every position; the gradient norm clipped to `clip`. Returns the loss tensor."""
    for g in opt.param_groups:
        g["lr"] = lr
    model.train()
    logits = model(w[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss


# ---------------------------------------------------------------------------------------
# losses (nats, summed in float64)

@torch.no_grad()
def loss_sum(model, rows, batch=32, n_pred=None):
    """(summed next-token cross-entropy, count) over rows of ids of one length, `batch` rows
    per forward pass. Each row is run from an empty context; every token but its first is
    predicted, or only its last n_pred."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(rows), batch):
        x = torch.as_tensor(np.asarray(rows[i:i + batch]), dtype=torch.long)
        lg, y = model(x[:, :-1]), x[:, 1:]
        if n_pred is not None:
            lg, y = lg[:, -n_pred:], y[:, -n_pred:]
        total += F.cross_entropy(lg.reshape(-1, lg.shape[-1]).double(), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    return total, count


def mean_loss(model, rows, batch=32, n_pred=None):
    total, count = loss_sum(model, rows, batch, n_pred)
    return total / count


def windows(ids, n):
    """Consecutive non-overlapping windows of n ids; a final one shorter if >= 2 ids."""
    out = [ids[i:i + n] for i in range(0, len(ids), n)]
    return [w for w in out if len(w) >= 2]


def stream_loss(model, ids, n, batch=32):
    """Mean loss over a token stream cut into windows(ids, n): the full windows `batch` at a
    time, the shorter last one on its own."""
    ws = windows(ids, n)
    t1, c1 = loss_sum(model, [w for w in ws if len(w) == n], batch)
    t2, c2 = loss_sum(model, [w for w in ws if len(w) != n], 1)
    return (t1 + t2) / (c1 + c2)


# ---------------------------------------------------------------------------------------
# GGUF

def write_gguf(path, model, *, name, description, license, val_loss, params, extra_kv=None, extra_tensors=()):
    """An F16 GGUF (arch llama): general.* and llama.* keys from the model, then the
    recipe's own keys (extra_kv(writer)), artr.train.val_loss and artr.train.params, the
    model's tensors (matrices F16, norms F32) and then extra_tensors ((name, array) as is)."""
    g = need_gguf()
    w = g.GGUFWriter(path, "llama")
    try:
        w.add_type(g.GGUFType.MODEL)
        w.add_name(name)
        w.add_description(description)
        w.add_license(license)
        w.add_context_length(model.n_ctx)
        w.add_embedding_length(model.dim)
        w.add_block_count(model.n_layer)
        w.add_feed_forward_length(model.n_ff)
        w.add_head_count(model.n_head)
        w.add_head_count_kv(model.n_head_kv)
        w.add_rope_freq_base(model.theta)
        w.add_layer_norm_rms_eps(model.eps)
        w.add_rope_dimension_count(model.dim // model.n_head)
        w.add_vocab_size(model.vocab)
        w.add_file_type(g.LlamaFileType.MOSTLY_F16)
        w.add_quantization_version(g.GGML_QUANT_VERSION)
        if extra_kv is not None:
            extra_kv(w)
        w.add_float32("artr.train.val_loss", float(val_loss))
        w.add_uint64("artr.train.params", int(params))
        for n, a in model.gguf_tensors():
            w.add_tensor(n, a.astype(np.float16) if a.ndim == 2 else a.astype(np.float32))
        for n, a in extra_tensors:
            w.add_tensor(n, a)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
    finally:
        w.close()


def gguf_scalar(r, key):
    g = need_gguf()
    f = r.fields[key]
    v = f.parts[f.data[0]]
    return v.tobytes().decode("utf-8") if f.types[0] == g.GGUFValueType.STRING else v.item()


def gguf_strings(r, key):
    f = r.fields[key]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]


LLAMA_META = dict(arch="general.architecture", ctx="llama.context_length", embd="llama.embedding_length",
                  layers="llama.block_count", ff="llama.feed_forward_length",
                  heads="llama.attention.head_count", heads_kv="llama.attention.head_count_kv",
                  theta="llama.rope.freq_base", eps="llama.attention.layer_norm_rms_epsilon")


def read_gguf(path):
    """(reader, meta, tensors): meta has the LLAMA_META keys; tensors maps each name to its
    stored array (F16 / F32 as in the file)."""
    r = need_gguf().GGUFReader(path)
    meta = {k: gguf_scalar(r, key) for k, key in LLAMA_META.items()}
    return r, meta, {ten.name: np.asarray(ten.data) for ten in r.tensors}


def check_meta(path, meta, want):
    """Exit unless meta[k] == want[k] for every k (floats to a relative 1e-6)."""
    for k, v in want.items():
        if not (meta[k] == v or (isinstance(v, float) and abs(meta[k] - v) <= 1e-6 * abs(v))):
            sys.exit(f"verify {path}: {k} = {meta[k]!r}, expected {v!r}")


def load_model(path, dropout=0.0):
    """A Llama with a GGUF file's weights (eval mode) and the file's (reader, meta, tensors)."""
    r, meta, t = read_gguf(path)
    if meta["arch"] != "llama":
        sys.exit(f"{path}: architecture {meta['arch']!r}, expected 'llama'")
    model = Llama(vocab=t["token_embd.weight"].shape[0], n_ctx=meta["ctx"], dim=meta["embd"],
                  n_layer=meta["layers"], n_head=meta["heads"], n_head_kv=meta["heads_kv"],
                  n_ff=meta["ff"], dropout=dropout, theta=meta["theta"], eps=meta["eps"])
    model.load_tensors_(t).eval()
    return model, (r, meta, t)


def numpy_forward(t, meta, ids):
    """Llama forward in float64 numpy from GGUF tensors t (name -> array (n_out, n_in)),
    rotary embeddings on adjacent pairs as in llama.cpp's rope for arch llama (mode 0)."""
    t = {k: np.asarray(v, dtype=np.float64) for k, v in t.items()}
    E, L, H, Hkv = meta["embd"], meta["layers"], meta["heads"], meta["heads_kv"]
    hd, eps, theta = E // H, meta["eps"], meta["theta"]
    T = len(ids)

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    ang = np.arange(T)[:, None] * theta ** (-2.0 * np.arange(hd // 2) / hd)[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def rot(x):                                        # x (T, n, hd), adjacent pairs
        x0, x1 = x[..., 0::2], x[..., 1::2]
        y = np.empty_like(x)
        y[..., 0::2], y[..., 1::2] = x0 * c - x1 * s, x0 * s + x1 * c
        return y

    x = t["token_embd.weight"][list(ids)]
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
            sc = q[:, j] @ k[:, kj].T / math.sqrt(hd) + mask
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            o[:, j] = (sc / sc.sum(-1, keepdims=True)) @ v[:, kj]
        x = x + o.reshape(T, E) @ g("attn_output").T
        h = rms(x, g("ffn_norm"))
        gt = h @ g("ffn_gate").T
        x = x + ((gt / (1 + np.exp(-gt))) * (h @ g("ffn_up").T)) @ g("ffn_down").T
    x = rms(x, t["output_norm.weight"])
    return x @ t.get("output.weight", t["token_embd.weight"]).T


def numpy_loss_sum(t, meta, rows, n_pred=None):
    """loss_sum() through numpy_forward: (summed cross-entropy, count) in float64."""
    total, count = 0.0, 0
    for row in rows:
        row = np.asarray(row)
        lg, y = numpy_forward(t, meta, row[:-1]), row[1:]
        if n_pred is not None:
            lg, y = lg[-n_pred:], y[-n_pred:]
        m = lg.max(-1, keepdims=True)
        lse = (m[:, 0] + np.log(np.exp(lg - m).sum(-1)))
        total += float((lse - lg[np.arange(len(y)), y]).sum())
        count += len(y)
    return total, count


def hf_forward(t, meta, ids):
    """The same tensors through transformers' LlamaForCausalLM (rotate_half rope): Q and K
    rows are permuted back from llama.cpp's order with the inverse of its permute()."""
    from transformers import LlamaConfig, LlamaForCausalLM
    E, L, H, Hkv = meta["embd"], meta["layers"], meta["heads"], meta["heads_kv"]
    cfg = LlamaConfig(vocab_size=t["token_embd.weight"].shape[0], hidden_size=E, intermediate_size=meta["ff"],
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


def check_logits(path, model, t, meta, tests, hf=False, tol=1e-3):
    """The file's tensors t, run by numpy_forward (and by hf_forward when hf and transformers
    is installed), must give the PyTorch model's logits on each (label, ids) of tests within
    tol; exits otherwise. Returns the largest difference."""
    if hf:
        try:
            import transformers  # noqa: F401
        except ImportError:
            hf = False
            log("verify: transformers not installed; skipping the LlamaForCausalLM cross-check")
    worst = 0.0
    for label, ids in tests:
        ids = [int(i) for i in ids]
        with torch.no_grad():
            pt = model(torch.tensor([ids]))[0].double().numpy()
        d = float(np.abs(numpy_forward(t, meta, ids) - pt).max())
        msg = f"verify {os.path.basename(path)}: {label}: max |numpy(GGUF) - torch| = {d:.2e}"
        if hf:
            dh = float(np.abs(hf_forward(t, meta, ids) - pt).max())
            msg += f", max |transformers(GGUF, unpermuted) - torch| = {dh:.2e}"
            d = max(d, dh)
        log(msg)
        worst = max(worst, d)
    if not worst < tol:
        sys.exit(f"verify {path}: logits differ by {worst:.3e} (> {tol:g}): the export is wrong")
    return worst
