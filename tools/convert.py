#!/usr/bin/env python3
"""convert.py: Hugging Face safetensors models and llama2.c checkpoints to GGUF for artr.

    python tools/convert.py MODEL [-o OUT.gguf] [--dtype f32|f16|bf16|q8_0] [options]

MODEL is either
  * a Hugging Face model directory: config.json and model.safetensors (or sharded
    model-0000i-of-0000n.safetensors), with tokenizer.model (SentencePiece) or
    tokenizer.json (BPE) when present. Architectures: LlamaForCausalLM, Qwen2ForCausalLM,
    Qwen3ForCausalLM, Gemma3ForCausalLM (text), Phi3ForCausalLM, GPT2LMHeadModel;
    anything else is refused with a clear error.
  * a llama2.c checkpoint (legacy version-0 export, float32), with its tokenizer.bin
    (--tokenizer, or tokenizer.bin beside the checkpoint) or a tokenizer.model.

The file follows llama.cpp's conventions (convert_hf_to_gguf.py and gguf-py): tensor
names, metadata keys, tokenizer keys, which tensors stay F32, and the Q/K row permutation,
so what this writes loads in llama.cpp, and what llama.cpp's converter writes loads in artr:

  * Llama: Hugging Face stores q_proj/k_proj rows permuted for rotate_half; GGUF keeps
    Meta's interleaved layout, so they are permuted back (k_proj with the kv head count).
    llama2.c checkpoints are already in Meta's layout and are copied as they are.
  * Llama 3.x (rope_type llama3): rope_freqs.weight, the per-dimension divisors of the
    rotation frequencies llama.cpp's converter computes from the rope scaling.
  * Qwen2: no permutation (llama.cpp runs it with NeoX-style rope); q/k/v biases kept.
  * Qwen3: as Qwen2 without biases, plus attn_q_norm / attn_k_norm and key_length.
  * Gemma 3: every *norm.weight gets Gemma's + 1 folded in (Gemma3RMSNorm multiplies by
    1 + w); post_attention_norm, ffn_norm (pre_feedforward), post_ffw_norm; sliding
    window, final softcap, rope.freq_base_swa; query_pre_attn_scalar only when it is not
    the head size (llama.cpp assumes 1/sqrt(head size)).
  * Phi-3: qkv_proj -> attn_qkv and gate_up_proj -> ffn_up stay fused; LongRoPE factors
    -> rope_factors_long / rope_factors_short, rope.scaling.attn_factor and
    rope.scaling.original_context_length.
  * GPT-2: Conv1D weights are stored (in, out) and are transposed; the fused c_attn
    becomes attn_qkv; the tied lm_head is not written (output falls back to token_embd).
  * Types: 1-D tensors, norms, biases and position embeddings stay F32; other weights get
    --dtype (Q8_0 through gguf.quants, falling back to F16 for rows that are not a
    multiple of 32, as llama.cpp does). Q4_0: use build/artr-quantize on the result.

Needs only numpy and gguf (pip install numpy gguf). safetensors files and SentencePiece
tokenizer.model files are parsed here, so neither torch nor sentencepiece is needed.
Memory: tensors are memory-mapped and written one at a time.
"""

import argparse
import json
import math
import os
import re
import struct
import sys

import numpy as np

try:
    import gguf
except ImportError:
    sys.exit("convert.py: needs the gguf package (pip install gguf numpy)")

QT = gguf.GGMLQuantizationType
TT = gguf.TokenType


class ConvertError(Exception):
    """A problem with the input, reported as one line."""


# ---------------------------------------------------------------------------------------
# safetensors: u64 header length, JSON header, raw little-endian tensors

ST_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64}


class SafetensorsFile:
    def __init__(self, path):
        self.path = path
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) != 8:
                raise ConvertError(f"{path}: too short for a safetensors file")
            (n,) = struct.unpack("<Q", head)
            if n > size - 8 or n > 100 << 20:
                raise ConvertError(f"{path}: header length {n} does not fit the file ({size} bytes)")
            try:
                header = json.loads(f.read(n))
            except ValueError as e:
                raise ConvertError(f"{path}: bad safetensors header: {e}") from None
        self.base = 8 + n
        self.data_size = size - self.base
        header.pop("__metadata__", None)
        self.tensors = header
        for name, info in header.items():
            dt = info.get("dtype")
            shape = info.get("shape")
            off = info.get("data_offsets")
            if dt not in ST_DTYPES:
                raise ConvertError(f"{path}: tensor {name!r} has dtype {dt}; F32, F16, BF16 and F64 are supported")
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            nbytes = count * np.dtype(ST_DTYPES[dt]).itemsize
            if (not isinstance(off, list) or len(off) != 2 or not 0 <= off[0] <= off[1] <= self.data_size
                    or off[1] - off[0] != nbytes):
                raise ConvertError(f"{path}: tensor {name!r}: data offsets {off} do not fit shape {shape} "
                                   f"{dt} in {self.data_size} data bytes")

    def load(self, name):
        """The tensor as float32, read through a memory map."""
        info = self.tensors[name]
        dt = ST_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        raw = np.memmap(self.path, dtype=np.uint8, mode="r", offset=self.base + begin, shape=(end - begin,))
        a = raw.view(dt).reshape(info["shape"])
        if info["dtype"] == "BF16":  # bfloat16 is the top half of a float32
            return (a.astype(np.uint32) << 16).view(np.float32)
        return a.astype(np.float32)


class SafetensorsDir:
    """Every model*.safetensors in a directory, as one name -> tensor map."""

    def __init__(self, d):
        files = sorted(f for f in os.listdir(d) if f.startswith("model") and f.endswith(".safetensors"))
        if not files:
            if any(f.startswith("pytorch_model") for f in os.listdir(d)):
                raise ConvertError(f"{d}: only pytorch_model*.bin weights; convert.py reads safetensors "
                                   "(save the model with save_pretrained(..., safe_serialization=True))")
            raise ConvertError(f"{d}: no model*.safetensors files")
        self.where = {}
        for f in files:
            st = SafetensorsFile(os.path.join(d, f))
            for name in st.tensors:
                if name in self.where:
                    raise ConvertError(f"{d}: tensor {name!r} appears in two files")
                self.where[name] = st

    def names(self):
        return list(self.where)

    def load(self, name):
        return self.where[name].load(name)


# ---------------------------------------------------------------------------------------
# SentencePiece tokenizer.model: a protobuf ModelProto, read with a tiny wire-format parser
# (sentencepiece_model.proto: pieces = 1 {piece = 1, score = 2, type = 3},
#  trainer_spec = 2 {unk_id = 40, bos_id = 41, eos_id = 42, pad_id = 43})


def _varint(buf, i):
    v = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ConvertError("tokenizer.model: truncated or malformed protobuf")
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def _pb_fields(buf):
    """(field number, value) for each field: varints as int, fixed32 as 4 bytes,
    fixed64 as 8 bytes, length-delimited as bytes."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ConvertError(f"tokenizer.model: unsupported protobuf wire type {wire}")
        if i > len(buf):
            raise ConvertError("tokenizer.model: truncated protobuf")
        yield field, v


def read_sentencepiece(path):
    """tokens (bytes), scores, types (GGUF token types = SentencePiece piece types), ids."""
    with open(path, "rb") as f:
        buf = f.read()
    tokens, scores, types = [], [], []
    ids = {"unk": 0, "bos": 1, "eos": 2, "pad": -1}
    for field, v in _pb_fields(buf):
        if field == 1:
            piece, score, typ = b"", 0.0, 1
            for f2, v2 in _pb_fields(v):
                if f2 == 1:
                    piece = bytes(v2)
                elif f2 == 2:
                    (score,) = struct.unpack("<f", v2)
                elif f2 == 3:
                    typ = v2
            if typ not in (1, 2, 3, 4, 5, 6):
                raise ConvertError(f"{path}: piece {len(tokens)} has unknown type {typ}")
            tokens.append(piece)
            scores.append(score)
            types.append(typ)
        elif field == 2:
            for f2, v2 in _pb_fields(v):
                if f2 in (40, 41, 42, 43):
                    val = v2 - (1 << 64) if v2 >= 1 << 63 else v2
                    ids[{40: "unk", 41: "bos", 42: "eos", 43: "pad"}[f2]] = val
    if not tokens:
        raise ConvertError(f"{path}: no pieces (is it a SentencePiece model?)")
    return tokens, scores, types, ids


# ---------------------------------------------------------------------------------------
# tokenizers -> tokenizer.ggml.* metadata


class Vocab:
    def __init__(self, model, pre, tokens, types, scores=None):
        self.model, self.pre, self.tokens, self.types, self.scores = model, pre, tokens, types, scores
        self.special = {}      # bos/eos/unk/pad/... -> id
        self.add = {}          # bos/eos -> bool
        self.merges = []
        self.chat_template = None
        self.add_space_prefix = None

    def pad_to(self, n):
        if len(self.tokens) > n:
            raise ConvertError(f"the tokenizer has {len(self.tokens)} tokens but the model's vocabulary is {n}")
        for i in range(len(self.tokens), n):
            self.tokens.append(f"[PAD{i}]".encode())
            self.types.append(TT.UNUSED)
            if self.scores is not None:
                self.scores.append(-10000.0)

    def write(self, w):
        w.add_tokenizer_model(self.model)
        if self.pre:
            w.add_tokenizer_pre(self.pre)
        w.add_token_list(self.tokens)
        if self.scores is not None:
            w.add_token_scores(self.scores)
        w.add_token_types([int(t) for t in self.types])
        if self.merges:
            w.add_token_merges(self.merges)
        for typ in ("bos", "eos", "unk", "sep", "pad", "cls", "mask"):
            if typ in self.special:
                getattr(w, f"add_{typ}_token_id")(self.special[typ])
        for typ in ("bos", "eos", "sep"):
            if typ in self.add:
                getattr(w, f"add_add_{typ}_token")(self.add[typ])
        if self.add_space_prefix is not None:
            w.add_add_space_prefix(self.add_space_prefix)
        if self.chat_template is not None:
            w.add_chat_template(self.chat_template)


def _special_from_hf(v, d, n_vocab, load_merges):
    """bos/eos/... ids, add_* flags, merges and chat template from the Hugging Face json
    files, read by gguf-py's SpecialVocab exactly as llama.cpp's converter reads them."""
    sv = gguf.SpecialVocab(d, load_merges=load_merges, n_vocab=n_vocab)
    v.special.update(sv.special_token_ids)
    v.add.update({k: b for k, b in sv.add_special_token.items() if k in ("bos", "eos", "sep")})
    v.merges = list(sv.merges)
    v.chat_template = sv.chat_template
    cfg = os.path.join(d, "tokenizer_config.json")
    if os.path.isfile(cfg):
        with open(cfg, encoding="utf-8") as f:
            tc = json.load(f)
        if isinstance(tc.get("add_prefix_space"), bool):
            v.add_space_prefix = tc["add_prefix_space"]
        return tc
    return {}


def _looks_special(t):
    """llama.cpp's heuristic for added tokens that should be CONTROL."""
    return (t in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (t.startswith("<|") and t.endswith("|>"))
            or (t.startswith("<\uff5c") and t.endswith("\uff5c>")) or (t.startswith("<unused") and t.endswith(">")))


def vocab_sentencepiece(path, d, n_vocab):
    tokens, scores, types, ids = read_sentencepiece(path)
    if len(tokens) > n_vocab:
        raise ConvertError(f"{path} has {len(tokens)} pieces but the model's vocabulary is {n_vocab}")
    v = Vocab("llama", "default", tokens, [TT(t) for t in types], scores)
    tc = _special_from_hf(v, d, n_vocab, load_merges=False) if d else {}
    # added tokens (tokenizer_config.json added_tokens_decoder), as llama.cpp reads them
    v.pad_to(n_vocab)
    for sid, data in (tc.get("added_tokens_decoder") or {}).items():
        tid, text = int(sid), data.get("content", "")
        if tid >= n_vocab:
            continue
        if data.get("special") or _looks_special(text):
            v.types[tid] = TT.CONTROL
        else:
            text = text.replace("\u2581", " ")
            v.types[tid] = TT.USER_DEFINED
        v.scores[tid] = -1000.0
        v.tokens[tid] = text.encode("utf-8")
    # llama.cpp's SentencePiece defaults, written out when the json files do not say
    for typ in ("unk", "bos", "eos"):
        if typ not in v.special and 0 <= ids[typ] < len(tokens):
            v.special[typ] = ids[typ]
    return v


def vocab_bpe_json(path, d, n_vocab, pre):
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    model = tj.get("model") or {}
    if model.get("type", "BPE") != "BPE":
        raise ConvertError(f"{path}: tokenizer model {model.get('type')!r}; convert.py reads BPE "
                           "tokenizer.json or a SentencePiece tokenizer.model")
    vocab = model.get("vocab") or {}
    added = tj.get("added_tokens") or []
    byid = {}
    for text, tid in vocab.items():
        byid[int(tid)] = (text, TT.NORMAL)
    for a in added:
        text, tid = a.get("content", ""), int(a.get("id", -1))
        typ = TT.CONTROL if a.get("special") or _looks_special(text) else TT.USER_DEFINED
        if typ == TT.USER_DEFINED:
            text = text.replace("\u2581", " ")
        byid[tid] = (text, typ)
    if byid and (min(byid) < 0 or max(byid) >= n_vocab):
        raise ConvertError(f"{path}: token ids run from {min(byid)} to {max(byid)}, "
                           f"outside the model's vocabulary of {n_vocab}")
    tokens, types = [], []
    for i in range(n_vocab):
        text, typ = byid.get(i, (f"[PAD{i}]", TT.UNUSED))
        tokens.append(text.encode("utf-8"))
        types.append(typ)
    v = Vocab("gpt2", pre, tokens, types)
    _special_from_hf(v, d, n_vocab, load_merges=True)
    if not v.merges:
        raise ConvertError(f"{path}: a BPE tokenizer without merges")
    return v


def vocab_llama2c(path, n_vocab):
    """llama2.c tokenizer.bin, its export transforms undone: ' ' -> U+2581,
    '\\n<s>\\n' -> '<s>', '\\n</s>\\n' -> '</s>'. Token 0 is <unk>, 1 <s>, 2 </s>."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 4:
        raise ConvertError(f"{path}: too short for a llama2.c tokenizer.bin")
    pos = 4
    tokens, scores, types = [], [], []
    for i in range(n_vocab):
        if pos + 8 > len(buf):
            raise ConvertError(f"{path}: ends at token {i} of the model's {n_vocab}; is it this model's tokenizer?")
        score, n = struct.unpack_from("<fi", buf, pos)
        pos += 8
        if n < 0 or pos + n > len(buf):
            raise ConvertError(f"{path}: token {i} has a bad length {n}")
        b = buf[pos:pos + n]
        pos += n
        if b == b"\n<s>\n":
            b, typ = b"<s>", TT.CONTROL
        elif b == b"\n</s>\n":
            b, typ = b"</s>", TT.CONTROL
        elif i == 0 and b == b"<unk>":
            typ = TT.UNKNOWN
        elif re.fullmatch(rb"<0x[0-9A-F]{2}>", b):
            typ = TT.BYTE
        else:
            b, typ = b.replace(b" ", "\u2581".encode()), TT.NORMAL
        tokens.append(b)
        scores.append(score)
        types.append(typ)
    if pos != len(buf):
        raise ConvertError(f"{path}: {len(buf) - pos} bytes left after the model's {n_vocab} tokens; "
                           "is it this model's tokenizer?")
    v = Vocab("llama", "default", tokens, types, scores)
    v.special = {"bos": 1, "eos": 2, "unk": 0}
    v.add = {"bos": True, "eos": False}  # llama2.c's run.c always starts with BOS
    return v


# ---------------------------------------------------------------------------------------
# models: hyperparameters, tensor names, transforms


def unpermute(w, n_head):
    """Hugging Face's rotate_half row order back to Meta's interleaved pairs (llama.cpp's
    LlamaModel.permute): within each head, rows [0..h/2) and [h/2..h) interleave."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


class Model:
    """arch, metadata writer, and an ordered list of (gguf name, numpy shape, loader)."""

    arch = ""

    def __init__(self):
        self.tensors = []
        self.n_vocab = 0

    def add(self, name, shape, load):
        self.tensors.append((name, tuple(int(s) for s in shape), load))

    def metadata(self, w):
        raise NotImplementedError


def _need(cfg, *keys, default=None):
    for k in keys:
        if cfg.get(k) is not None:
            return cfg[k]
    if default is not None:
        return default
    raise ConvertError(f"config.json has none of {', '.join(keys)}")


def _rope_params(cfg, which=None):
    """The rope parameters (transformers 5 rope_parameters, older rope_theta / rope_scaling),
    for Gemma 3 the entry of one layer type ("full_attention", "sliding_attention")."""
    rp = dict(cfg.get("rope_parameters") or {})
    if which is not None and which in rp:
        rp = dict(rp[which])
    elif "full_attention" in rp:
        rp = dict(rp["full_attention"])
    rs = cfg.get("rope_scaling") or {}
    for k, v in rs.items():
        rp.setdefault(k, v)
    if "rope_type" not in rp and "type" in rp:
        rp["rope_type"] = rp["type"]
    if rp.get("rope_theta") is None and cfg.get("rope_theta") is not None:
        rp["rope_theta"] = cfg["rope_theta"]
    rp.setdefault("rope_type", "default")
    return rp


def _rope_theta(cfg):
    rp = _rope_params(cfg)
    if rp["rope_type"] not in ("default", "none"):
        raise ConvertError(f"rope scaling {rp['rope_type']!r} is not supported by artr")
    return rp.get("rope_theta")


def llama3_rope_freqs(rp, head_dim, orig_ctx):
    """llama.cpp's LlamaModel.generate_extra_tensors: per-dimension divisors of the rotation
    frequencies from the llama3 rope scaling (HF's _compute_llama3_parameters as divisors)."""
    base = float(rp.get("rope_theta", 10000.0))
    factor = float(rp.get("factor", 8.0))
    low, high = float(rp.get("low_freq_factor", 1.0)), float(rp.get("high_freq_factor", 4.0))
    old = float(rp.get("original_max_position_embeddings") or orig_ctx or 8192)
    freqs = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float32) / head_dim))
    out = []
    for f in freqs.astype(np.float64):
        wavelen = 2 * np.pi / f
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


class HfLlama(Model):
    """LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM and
    Phi3ForCausalLM: llama.cpp's LlamaModel, Qwen2Model, Qwen3Model, Gemma3Model and
    Phi3MiniModel (tensor names, Llama's Q/K permutation, Gemma's 1 + w norms folded into
    the file, Phi-3's fused qkv_proj and gate_up_proj kept fused, Llama 3's rope_freqs)."""

    def __init__(self, d, cfg, st, arch):
        super().__init__()
        self.arch, self.cfg = arch, cfg
        E = _need(cfg, "hidden_size")
        H = _need(cfg, "num_attention_heads")
        Hkv = _need(cfg, "num_key_value_heads", default=H)
        self.n_vocab = _need(cfg, "vocab_size")
        self.n_layer = _need(cfg, "num_hidden_layers")
        hd = cfg.get("head_dim") or E // H
        self.head_dim = hd
        if hd * H != E and arch in ("llama", "qwen2", "phi3"):
            raise ConvertError(f"head_dim {hd} x {H} heads != hidden_size {E}: artr needs head size = hidden / heads for {arch}")
        if cfg.get("mlp_bias") or (arch != "qwen2" and cfg.get("attention_bias")):
            raise ConvertError(f"{arch} with attention_bias or mlp_bias is not supported by artr")
        if arch in ("qwen2", "qwen3") and cfg.get("use_sliding_window"):
            raise ConvertError(f"{arch} with use_sliding_window is not supported by artr")
        if arch == "phi3" and float(cfg.get("partial_rotary_factor", 1.0)) != 1.0:
            raise ConvertError("Phi-3 with partial_rotary_factor != 1 is not supported by artr")
        rp = _rope_params(cfg)
        self.rope_theta = rp.get("rope_theta")
        self.rope_kind = rp["rope_type"]
        self.rope_extra = []  # (gguf name, array) computed tensors
        allowed = {"llama": ("default", "none", "llama3", "linear"), "phi3": ("default", "none", "longrope", "su"),
                   "gemma3": ("default", "none", "linear")}.get(arch, ("default", "none"))
        if self.rope_kind not in allowed:
            raise ConvertError(f"rope scaling {self.rope_kind!r} is not supported by artr for {arch}")
        if self.rope_kind == "llama3":
            self.rope_extra.append(("rope_freqs.weight", llama3_rope_freqs(rp, hd, cfg.get("original_max_position_embeddings"))))
        self.rope_factor = float(rp.get("factor", 1.0)) if self.rope_kind == "linear" else None
        if arch == "phi3" and self.rope_kind in ("longrope", "su"):
            lf, sf = rp.get("long_factor"), rp.get("short_factor")
            if lf is None or sf is None or len(lf) != hd // 2 or len(sf) != hd // 2:
                raise ConvertError(f"LongRoPE needs long_factor and short_factor of {hd // 2} values each")
            self.rope_extra.append(("rope_factors_long.weight", np.array(lf, dtype=np.float32)))
            self.rope_extra.append(("rope_factors_short.weight", np.array(sf, dtype=np.float32)))
        if arch == "gemma3":
            rs = _rope_params(cfg, "sliding_attention")
            if rs["rope_type"] not in ("default", "none"):
                raise ConvertError(f"Gemma 3 sliding-window rope scaling {rs['rope_type']!r} is not supported by artr")
            self.rope_theta_swa = rs.get("rope_theta", cfg.get("rope_local_base_freq", 10000.0))
            if cfg.get("attn_logit_softcapping") is not None:
                raise ConvertError("Gemma 3 with attn_logit_softcapping is not supported by artr")
            if cfg.get("hidden_activation", cfg.get("hidden_act", "gelu_pytorch_tanh")) not in ("gelu_pytorch_tanh", "gelu_tanh"):
                raise ConvertError(f"Gemma 3 hidden_activation {cfg.get('hidden_activation')!r}: artr runs gelu_pytorch_tanh")
            lt = cfg.get("layer_types")
            if lt is not None:
                want = ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(self.n_layer)]
                if cfg.get("sliding_window") and list(lt) != want:
                    raise ConvertError("Gemma 3 layer_types differ from every-6th-layer-global (llama.cpp's pattern)")
        for k in (n for n, _ in self.rope_extra):
            self.add(k, (hd // 2,), (lambda a=dict(self.rope_extra)[k]: a))
        names = set(st.names())
        pre = "model."
        shift = arch == "gemma3"  # Gemma3RMSNorm computes x * (1 + w): fold the 1 in

        def src(n, transform=None):
            if n not in names:
                raise ConvertError(f"{d}: missing tensor {n!r}")
            shape = st.where[n].tensors[n]["shape"]
            if shift and n.endswith("norm.weight"):
                inner = transform
                transform = (lambda w: w + np.float32(1.0)) if inner is None else (lambda w: inner(w) + np.float32(1.0))
            if transform is None:
                return shape, lambda: st.load(n)
            return shape, lambda: transform(st.load(n))

        def put(gname, hname, transform=None, optional=False):
            if optional and hname not in names:
                return
            shape, load = src(hname, transform)
            self.add(gname, shape, load)
            used.add(hname)

        used = set()
        put("token_embd.weight", pre + "embed_tokens.weight")
        put("output_norm.weight", pre + "norm.weight")
        tied = cfg.get("tie_word_embeddings", arch == "gemma3")
        if not tied or "lm_head.weight" in names:
            put("output.weight", "lm_head.weight", optional=tied)
        permute = arch == "llama"
        q_t = (lambda w: unpermute(w, H)) if permute else None
        k_t = (lambda w: unpermute(w, Hkv)) if permute else None
        for i in range(self.n_layer):
            p, b = f"{pre}layers.{i}.", f"blk.{i}."
            put(b + "attn_norm.weight", p + "input_layernorm.weight")
            if arch == "phi3":
                put(b + "attn_qkv.weight", p + "self_attn.qkv_proj.weight")
            else:
                put(b + "attn_q.weight", p + "self_attn.q_proj.weight", q_t)
                put(b + "attn_k.weight", p + "self_attn.k_proj.weight", k_t)
                put(b + "attn_v.weight", p + "self_attn.v_proj.weight")
                put(b + "attn_q.bias", p + "self_attn.q_proj.bias", q_t, optional=True)
                put(b + "attn_k.bias", p + "self_attn.k_proj.bias", k_t, optional=True)
                put(b + "attn_v.bias", p + "self_attn.v_proj.bias", optional=True)
            if arch in ("qwen3", "gemma3"):
                put(b + "attn_q_norm.weight", p + "self_attn.q_norm.weight")
                put(b + "attn_k_norm.weight", p + "self_attn.k_norm.weight")
            put(b + "attn_output.weight", p + "self_attn.o_proj.weight")
            if arch == "gemma3":
                put(b + "post_attention_norm.weight", p + "post_attention_layernorm.weight")
                put(b + "ffn_norm.weight", p + "pre_feedforward_layernorm.weight")
                put(b + "post_ffw_norm.weight", p + "post_feedforward_layernorm.weight")
            else:
                put(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
            if arch == "phi3":
                put(b + "ffn_up.weight", p + "mlp.gate_up_proj.weight")
            else:
                put(b + "ffn_gate.weight", p + "mlp.gate_proj.weight")
                put(b + "ffn_up.weight", p + "mlp.up_proj.weight")
            put(b + "ffn_down.weight", p + "mlp.down_proj.weight")
        extra = sorted(n for n in names - used if not n.endswith("rotary_emb.inv_freq"))
        if extra:
            raise ConvertError(f"{d}: tensors convert.py does not know for {arch}: {', '.join(extra[:5])}"
                               + (" ..." if len(extra) > 5 else ""))

    def metadata(self, w):
        c = self.cfg
        w.add_block_count(self.n_layer)
        n_ctx = c.get("max_position_embeddings")
        if n_ctx is not None:
            w.add_context_length(n_ctx)
        w.add_embedding_length(c["hidden_size"])
        w.add_feed_forward_length(_need(c, "intermediate_size"))
        w.add_head_count(c["num_attention_heads"])
        w.add_head_count_kv(c.get("num_key_value_heads") or c["num_attention_heads"])
        if self.rope_theta is not None:
            w.add_rope_freq_base(float(self.rope_theta))
        w.add_layer_norm_rms_eps(float(_need(c, "rms_norm_eps")))
        if c.get("head_dim") is not None or self.arch == "gemma3":
            w.add_key_length(self.head_dim)
            w.add_value_length(self.head_dim)
        if self.rope_factor is not None:
            w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
            w.add_rope_scaling_factor(self.rope_factor)
        if self.arch == "llama":
            w.add_vocab_size(self.n_vocab)
            w.add_rope_dimension_count(self.head_dim)
        if self.arch == "gemma3":
            if c.get("final_logit_softcapping"):
                w.add_final_logit_softcapping(float(c["final_logit_softcapping"]))
            if c.get("sliding_window"):
                w.add_sliding_window(int(c["sliding_window"]))
            # not written by llama.cpp's converter, read by llama.cpp (freq_base_swa) and artr
            w.add_rope_freq_base_swa(float(self.rope_theta_swa))
            qs = c.get("query_pre_attn_scalar")
            if qs is not None and qs != self.head_dim:  # llama.cpp assumes 1/sqrt(head_dim)
                w.add_float32("gemma3.attention.query_pre_attn_scalar", float(qs))
        if self.arch == "phi3":
            w.add_rope_dimension_count(self.head_dim)
            orig = c.get("original_max_position_embeddings") or _rope_params(c).get("original_max_position_embeddings")
            if orig is not None:
                w.add_rope_scaling_orig_ctx_len(int(orig))
            w.add_sliding_window(int(c.get("sliding_window") or 0))
            if self.rope_kind in ("longrope", "su"):
                scale = n_ctx / orig
                w.add_rope_scaling_attn_factors(math.sqrt(1 + math.log(scale) / math.log(orig)) if scale > 1.0 else 1.0)


class HfGpt2(Model):
    """GPT2LMHeadModel: llama.cpp's GPT2Model."""

    arch = "gpt2"

    def __init__(self, d, cfg, st):
        super().__init__()
        self.cfg = cfg
        self.n_vocab = _need(cfg, "vocab_size")
        self.n_layer = _need(cfg, "n_layer")
        names = set(st.names())
        pre = "transformer." if "transformer.wte.weight" in names else ""
        used = set()

        def put(gname, hname, conv1d=False, optional=False):
            if hname not in names:
                if optional:
                    return
                raise ConvertError(f"{d}: missing tensor {hname!r}")
            shape = st.where[hname].tensors[hname]["shape"]
            if conv1d:  # Conv1D stores (in, out)
                self.add(gname, shape[::-1], lambda: np.ascontiguousarray(st.load(hname).T))
            else:
                self.add(gname, shape, lambda: st.load(hname))
            used.add(hname)

        put("token_embd.weight", pre + "wte.weight")
        put("position_embd.weight", pre + "wpe.weight")
        put("output_norm.weight", pre + "ln_f.weight")
        put("output_norm.bias", pre + "ln_f.bias")
        put("output.weight", "lm_head.weight", optional=True)
        for i in range(self.n_layer):
            p, b = f"{pre}h.{i}.", f"blk.{i}."
            put(b + "attn_norm.weight", p + "ln_1.weight")
            put(b + "attn_norm.bias", p + "ln_1.bias")
            put(b + "attn_qkv.weight", p + "attn.c_attn.weight", conv1d=True)
            put(b + "attn_qkv.bias", p + "attn.c_attn.bias")
            put(b + "attn_output.weight", p + "attn.c_proj.weight", conv1d=True)
            put(b + "attn_output.bias", p + "attn.c_proj.bias")
            put(b + "ffn_norm.weight", p + "ln_2.weight")
            put(b + "ffn_norm.bias", p + "ln_2.bias")
            put(b + "ffn_up.weight", p + "mlp.c_fc.weight", conv1d=True)
            put(b + "ffn_up.bias", p + "mlp.c_fc.bias")
            put(b + "ffn_down.weight", p + "mlp.c_proj.weight", conv1d=True)
            put(b + "ffn_down.bias", p + "mlp.c_proj.bias")
        extra = sorted(n for n in names - used if not n.endswith((".attn.bias", ".attn.masked_bias")))
        if extra:
            raise ConvertError(f"{d}: tensors convert.py does not know for gpt2: {', '.join(extra[:5])}")

    def metadata(self, w):
        c = self.cfg
        w.add_block_count(self.n_layer)
        w.add_context_length(_need(c, "n_positions", "n_ctx"))
        w.add_embedding_length(c["n_embd"])
        w.add_feed_forward_length(c.get("n_inner") or 4 * c["n_embd"])
        w.add_head_count(c["n_head"])
        w.add_layer_norm_eps(float(_need(c, "layer_norm_epsilon")))


class Llama2c(Model):
    """llama2.c legacy checkpoint (export.py legacy_export): 7 int32, float32 weights in
    Meta's layout: no permutation."""

    arch = "llama"

    def __init__(self, path):
        super().__init__()
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(28)
        if len(head) < 28:
            raise ConvertError(f"{path}: too small for a llama2.c checkpoint")
        if head[:4] == b"ak42":
            raise ConvertError(f"{path}: llama2.c version 1/2 export; export with --version 0 (legacy)")
        dim, hidden, n_layer, n_head, n_kv, vocab, seq = struct.unpack("<7i", head)
        shared = vocab > 0
        vocab = abs(vocab)
        if min(dim, hidden, n_layer, n_head, n_kv, vocab, seq) <= 0 or dim % n_head or n_head % n_kv:
            raise ConvertError(f"{path}: not a llama2.c checkpoint (header {dim, hidden, n_layer, n_head, n_kv, vocab, seq})")
        hd = dim // n_head
        kv = n_kv * hd
        per_layer = [("attn_norm", (dim,)), ("attn_q", (dim, dim)), ("attn_k", (kv, dim)), ("attn_v", (kv, dim)),
                     ("attn_output", (dim, dim)), ("ffn_norm", (dim,)), ("ffn_gate", (hidden, dim)),
                     ("ffn_down", (dim, hidden)), ("ffn_up", (hidden, dim))]
        floats = vocab * dim + n_layer * sum(int(np.prod(s)) for _, s in per_layer) + dim + seq * hd
        floats += 0 if shared else vocab * dim
        if 28 + 4 * floats != size:
            raise ConvertError(f"{path}: header (dim {dim}, hidden {hidden}, layers {n_layer}, heads {n_head}, "
                               f"kv heads {n_kv}, vocab {vocab}, seq {seq}) implies {28 + 4 * floats} bytes, "
                               f"the file has {size}")
        self.hp = dict(dim=dim, hidden=hidden, n_layer=n_layer, n_head=n_head, n_kv=n_kv, seq=seq)
        self.n_vocab, self.n_layer = vocab, n_layer
        mm = np.memmap(path, dtype="<f4", mode="r", offset=28)
        at = [0]

        def take(shape):
            n = int(np.prod(shape))
            a = mm[at[0]:at[0] + n]
            at[0] += n
            return lambda: np.array(a, dtype=np.float32).reshape(shape)

        self.add("token_embd.weight", (vocab, dim), take((vocab, dim)))
        layers = {}
        for key, shape in per_layer:
            for i in range(n_layer):
                layers[(i, key)] = (shape, take(shape))
        norm = take((dim,))
        take((seq * hd,))  # freq_cis_real, freq_cis_imag: unused
        self.add("output_norm.weight", (dim,), norm)
        if not shared:
            self.add("output.weight", (vocab, dim), take((vocab, dim)))
        for i in range(n_layer):
            for key, _ in per_layer:
                shape, load = layers[(i, key)]
                self.add(f"blk.{i}.{key}.weight", shape, load)

    def metadata(self, w):
        h = self.hp
        w.add_block_count(h["n_layer"])
        w.add_context_length(h["seq"])
        w.add_embedding_length(h["dim"])
        w.add_feed_forward_length(h["hidden"])
        w.add_head_count(h["n_head"])
        w.add_head_count_kv(h["n_kv"])
        w.add_rope_freq_base(10000.0)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_vocab_size(self.n_vocab)
        w.add_rope_dimension_count(h["dim"] // h["n_head"])


# HF "architectures" -> (gguf arch, BPE pre-tokenizer name llama.cpp uses)
HF_ARCHS = {"LlamaForCausalLM": ("llama", "llama-bpe"), "Qwen2ForCausalLM": ("qwen2", "qwen2"),
            "Qwen3ForCausalLM": ("qwen3", "qwen2"), "Gemma3ForCausalLM": ("gemma3", "default"),
            "Phi3ForCausalLM": ("phi3", "default"), "GPT2LMHeadModel": ("gpt2", "gpt-2")}


def canonical_order(tensors):
    """Global tensors first, then layer by layer in a fixed order, so that two sources of
    the same weights give the same file."""
    order = ["token_embd", "position_embd", "output_norm", "output", "rope_freqs", "rope_factors_long",
             "rope_factors_short", "attn_norm", "attn_q", "attn_k", "attn_v", "attn_qkv", "attn_q_norm",
             "attn_k_norm", "attn_output", "post_attention_norm", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
             "post_ffw_norm"]

    def key(t):
        parts = t[0].split(".")
        blk = int(parts[1]) if parts[0] == "blk" else -1
        base = parts[2] if blk >= 0 else parts[0]
        return (blk, order.index(base) if base in order else len(order), t[0])
    return sorted(tensors, key=key)


def open_model(src, tokenizer, tokenizer_pre):
    """(model, vocab or None) for a Hugging Face directory or a llama2.c checkpoint."""
    if os.path.isdir(src):
        cfg_path = os.path.join(src, "config.json")
        if not os.path.isfile(cfg_path):
            raise ConvertError(f"{src}: no config.json (not a Hugging Face model directory)")
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
        if "text_config" in cfg:
            raise ConvertError(f"{src}: a multimodal model ({cfg.get('architectures')}) is not supported")
        archs = cfg.get("architectures") or []
        hf_arch = archs[0] if archs else None
        if hf_arch not in HF_ARCHS:
            raise ConvertError(f"{src}: architecture {hf_arch!r} is not supported "
                               f"(convert.py converts {', '.join(HF_ARCHS)})")
        arch, pre = HF_ARCHS[hf_arch]
        st = SafetensorsDir(src)
        model = HfGpt2(src, cfg, st) if arch == "gpt2" else HfLlama(src, cfg, st, arch)
        spm = tokenizer if tokenizer and tokenizer.endswith(".model") else os.path.join(src, "tokenizer.model")
        tjs = tokenizer if tokenizer and tokenizer.endswith(".json") else os.path.join(src, "tokenizer.json")
        if arch in ("llama", "gemma3", "phi3") and os.path.isfile(spm):  # llama.cpp's set_vocab choices
            vocab = vocab_sentencepiece(spm, src, model.n_vocab)
            if arch == "gemma3":
                vocab.add_space_prefix = False
        elif os.path.isfile(tjs):
            vocab = vocab_bpe_json(tjs, src, model.n_vocab, tokenizer_pre or pre)
        elif os.path.isfile(spm):
            vocab = vocab_sentencepiece(spm, src, model.n_vocab)
        else:
            print(f"convert.py: warning: {src} has no tokenizer.model or tokenizer.json; "
                  "the GGUF will have no tokenizer", file=sys.stderr)
            vocab = None
        return model, vocab
    if not os.path.isfile(src):
        raise ConvertError(f"{src}: no such file or directory")
    with open(src, "rb") as f:
        if f.read(4) == b"GGUF":
            raise ConvertError(f"{src} is already a GGUF file (artr-quantize changes its types)")
    model = Llama2c(src)
    tok = tokenizer or os.path.join(os.path.dirname(os.path.abspath(src)), "tokenizer.bin")
    if tok.endswith(".model") and os.path.isfile(tok):
        vocab = vocab_sentencepiece(tok, None, model.n_vocab)
        vocab.add.setdefault("bos", True)
        vocab.add.setdefault("eos", False)
    elif os.path.isfile(tok):
        vocab = vocab_llama2c(tok, model.n_vocab)
    else:
        print(f"convert.py: warning: no tokenizer ({tok} not found; pass --tokenizer); "
              "the GGUF will have no tokenizer", file=sys.stderr)
        vocab = None
    return model, vocab


# ---------------------------------------------------------------------------------------
# writing

DTYPES = {"f32": (QT.F32, gguf.LlamaFileType.ALL_F32), "f16": (QT.F16, gguf.LlamaFileType.MOSTLY_F16),
          "bf16": (QT.BF16, gguf.LlamaFileType.MOSTLY_BF16), "q8_0": (QT.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0)}


def tensor_type(name, shape, want):
    """llama.cpp's prepare_tensors rules: 1-D, norms, non-.weight and position embeddings
    stay F32; a row that does not fit Q8_0's blocks falls back to F16."""
    if len(shape) <= 1 or name.endswith("_norm.weight") or not name.endswith(".weight"):
        return QT.F32
    if name == "position_embd.weight":
        return QT.F32
    if want == QT.Q8_0 and shape[-1] % 32:
        return QT.F16
    return want


def tensor_bytes(shape, qt):
    n = int(np.prod(shape))
    if qt == QT.Q8_0:
        return n // 32 * 34
    return n * (4 if qt == QT.F32 else 2)


def encode(a, qt):
    if qt == QT.F32:
        return np.ascontiguousarray(a, dtype=np.float32)
    if qt == QT.F16:
        return np.ascontiguousarray(a, dtype=np.float32).astype(np.float16)
    return gguf.quants.quantize(np.ascontiguousarray(a, dtype=np.float32), qt)


def convert(src, out, dtype="f16", tokenizer=None, name=None, tokenizer_pre=None, quiet=False):
    if dtype not in DTYPES:
        raise ConvertError(f"--dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    want, ftype = DTYPES[dtype]
    model, vocab = open_model(src, tokenizer, tokenizer_pre)
    tensors = canonical_order(model.tensors)
    if vocab is not None:
        vocab.pad_to(model.n_vocab)
    w = gguf.GGUFWriter(out, model.arch)
    try:
        w.add_type(gguf.GGUFType.MODEL)
        w.add_name(name or os.path.splitext(os.path.basename(os.path.normpath(src)))[0])
        model.metadata(w)
        w.add_file_type(ftype)
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
        if vocab is not None:
            vocab.write(w)
        types = []
        for tname, shape, _ in tensors:
            qt = tensor_type(tname, shape, want)
            types.append(qt)
            w.add_tensor_info(tname, shape, np.dtype(np.float32), tensor_bytes(shape, qt), raw_dtype=qt)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        for i, ((tname, shape, load), qt) in enumerate(zip(tensors, types)):
            a = load()
            if tuple(a.shape) != shape:
                raise ConvertError(f"tensor {tname}: shape {a.shape}, expected {shape}")
            w.write_tensor_data(encode(a, qt))
            if not quiet:
                print(f"[{i + 1:3d}/{len(tensors)}] {tname:32s} {qt.name:5s} {list(shape)[::-1]}", file=sys.stderr)
        w.close()
    except BaseException:
        w.close()
        if os.path.exists(out):
            os.remove(out)
        raise
    if not quiet:
        print(f"wrote {out}: {model.arch}, {len(tensors)} tensors, {os.path.getsize(out)} bytes", file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Convert a Hugging Face safetensors model (Llama, Qwen2, Qwen3, Gemma 3, Phi-3, GPT-2) or a llama2.c "
                    "checkpoint to GGUF, following llama.cpp's conventions.")
    ap.add_argument("model", help="Hugging Face model directory or llama2.c checkpoint (.bin)")
    ap.add_argument("-o", "--outfile", help="output .gguf (default: MODEL-DTYPE.gguf beside the input)")
    ap.add_argument("--dtype", default="f16", choices=sorted(DTYPES),
                    help="type of the 2-D weights (default f16; norms and biases stay f32)")
    ap.add_argument("--tokenizer", help="tokenizer.bin (llama2.c), tokenizer.model or tokenizer.json "
                                        "to use instead of the one beside the model")
    ap.add_argument("--tokenizer-pre", help="tokenizer.ggml.pre for a BPE tokenizer (default by "
                                            "architecture: llama-bpe, qwen2 (qwen3 too), gpt-2, default)")
    ap.add_argument("--name", help="general.name (default: the input's name)")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    a = ap.parse_args(argv)
    out = a.outfile or os.path.normpath(a.model).rstrip(os.sep) + f"-{a.dtype}.gguf"
    if out.endswith(".bin-" + a.dtype + ".gguf"):
        out = out[:-len(".bin-" + a.dtype + ".gguf")] + f"-{a.dtype}.gguf"
    try:
        convert(a.model, out, a.dtype, a.tokenizer, a.name, a.tokenizer_pre, a.quiet)
    except ConvertError as e:
        print(f"convert.py: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"convert.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
