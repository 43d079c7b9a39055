#!/usr/bin/env python3
"""Generate artr's tokenizer fixtures in tests/fixtures/ from outside references.

Requirements (written against sentencepiece 0.2, tokenizers 0.23, gguf-py 0.19):
    pip install sentencepiece tokenizers gguf numpy
Run from the repository root, with ../shared/data/tinyshakespeare.txt present
(and, for the llama2.c expectations, ../shared/models/llama2-tokenizer.bin):

    python tests/gen_tokenizer_fixtures.py

Files
-----
tok_spm.gguf     A SentencePiece BPE model (vocab 1500, byte_fallback, identity
                 normalization, dummy prefix, no whitespace folding, split digits,
                 whitespace-only pieces: the options of Llama's tokenizer.model)
                 trained by the `sentencepiece` package on tinyshakespeare, written
                 as llama.cpp's converter does (convert_hf_to_gguf.py
                 _create_vocab_sentencepiece): tokenizer.ggml.model "llama", tokens
                 from IdToPiece, scores from GetScore, token types NORMAL / UNKNOWN /
                 CONTROL / UNUSED / BYTE from IsUnknown/IsControl/IsUnused/IsByte,
                 bos/eos/unk ids, add_bos_token, add_space_prefix.  No tensors
                 (load it with artr_model_params.container = 1).
tok_bpe.gguf     A byte-level BPE (vocab 1500) trained by Hugging Face `tokenizers`
                 on tinyshakespeare: models.BPE, pre_tokenizers.ByteLevel(
                 add_prefix_space=False) (the GPT-2 regex), all 256 byte characters
                 in the alphabet, special token <|endoftext|>.  Written as llama.cpp's
                 converter does (get_vocab_base): tokenizer.ggml.model "gpt2", pre
                 "gpt2", tokens by id, merges as "left right" strings, token types
                 NORMAL, special added tokens CONTROL; bos = eos = <|endoftext|>.
tok_cases.bin    The test texts: "ARTC", uint32 count, then per text uint32 length
                 and the UTF-8 bytes.  2,000 lines of tinyshakespeare (every k-th
                 non-empty line), 60 multi-line paragraphs, and synthetic lines:
                 accents and other scripts, emoji (ZWJ, flags, skin tones), digits,
                 whitespace runs (tabs, CR LF, NBSP, U+3000, U+2028, long runs),
                 contractions, punctuation runs, NUL bytes, special-token text, and
                 long random runs (129-700 characters over small alphabets) that no
                 token boundary splits.
tok_spm.ids      sp.encode(text) for each text: "ARTI", uint32 count, then per text
                 uint32 n and n uint16 ids (n = 0xffffffff: no expectation).
tok_bpe.ids      tokenizers' Tokenizer.encode(text).ids, same format (special tokens
                 in the text are matched, as tokenizers always does).
tok_llama2c.ids  llama2.c run.c encode(text, bos=1, eos=0) with the 32000-token
                 Llama 2 tokenizer.bin, computed by a direct Python transcription of
                 run.c's documented algorithm (best-scoring pair first, rescanning);
                 texts with a NUL byte have no expectation (run.c stops at NUL).
                 Written only when ../shared/models/llama2-tokenizer.bin exists.
tok_corpus.ref   For all of tinyshakespeare as one text: "spm" and "bpe" lines with the
                 reference's id count and FNV-1a 64 of its ids (little-endian uint32).

Training is deterministic (one thread), so a rerun gives the same files.
"""
import io
import os
import random
import struct
import sys

import gguf
import sentencepiece as spm
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures")
SHARED = os.path.join(ROOT, "..", "shared")
CORPUS = os.path.join(SHARED, "data", "tinyshakespeare.txt")
LLAMA2_BIN = os.path.join(SHARED, "models", "llama2-tokenizer.bin")
VOCAB = 1500
SKIP = 0xFFFFFFFF


# ---- SentencePiece ------------------------------------------------------------------

def train_spm():
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        input=CORPUS, model_writer=buf, model_type="bpe", vocab_size=VOCAB,
        normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=True, byte_fallback=True, split_digits=True,
        allow_whitespace_only_pieces=True, character_coverage=1.0,
        max_sentence_length=100000, num_threads=1, minloglevel=2)
    return spm.SentencePieceProcessor(model_proto=buf.getvalue())


def write_spm_gguf(sp, path):
    w = gguf.GGUFWriter(path, "llama")
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i).encode("utf-8"))
        scores.append(sp.get_score(i))
        t = gguf.TokenType.NORMAL
        if sp.is_unknown(i):
            t = gguf.TokenType.UNKNOWN
        elif sp.is_control(i):
            t = gguf.TokenType.CONTROL
        elif sp.is_unused(i):
            t = gguf.TokenType.UNUSED
        elif sp.is_byte(i):
            t = gguf.TokenType.BYTE
        types.append(int(t))
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(sp.bos_id())
    w.add_eos_token_id(sp.eos_id())
    w.add_unk_token_id(sp.unk_id())
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(True)  # the normalizer's add_dummy_prefix, set in training
    finish(w)


# ---- byte-level BPE -----------------------------------------------------------------

def train_bpe():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train([CORPUS], trainer)
    return tok


def write_bpe_gguf(tok, path):
    import json
    spec = json.loads(tok.to_str())
    vocab = tok.get_vocab(with_added_tokens=True)
    rev = {i: t for t, i in vocab.items()}
    added = {a["id"]: a for a in spec["added_tokens"]}
    tokens, types = [], []
    for i in range(tok.get_vocab_size(with_added_tokens=True)):
        if i not in rev:
            tokens.append(("[PAD%d]" % i).encode())
            types.append(int(gguf.TokenType.UNUSED))
        elif i in added:
            tokens.append(rev[i].encode("utf-8"))
            types.append(int(gguf.TokenType.CONTROL if added[i]["special"] else gguf.TokenType.USER_DEFINED))
        else:
            tokens.append(rev[i].encode("utf-8"))
            types.append(int(gguf.TokenType.NORMAL))
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    eot = vocab["<|endoftext|>"]
    w = gguf.GGUFWriter(path, "gpt2")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(eot)
    w.add_eos_token_id(eot)
    finish(w)


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---- test texts ---------------------------------------------------------------------

POOL = [
    "café naïve résumé", "Grüße aus der Straße", "Ελληνικά κείμενα", "Русский текст, ёлка",
    "中文文本测试", "日本語のテキストです", "한국어 텍스트", "العربية لغة", "हिन्दी भाषा", "ภาษาไทย",
    "e\u0301cole", "ＡＢＣ１２３", "ﬁnance", "Ⅻ ① ② ³ ²", "٣٤٥ ١٢", "১২৩", "∑∫√∞ ≠ ≤",
    "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🤖 robots", "🎉🎉🎉",
    "3.14159", "1,000,000", "2024-01-31", "0x1F", "+1 (555) 123-4567", "10%", "1st 2nd 3rd",
    "12345678901234567890", "x1y2z3",
    "I'm", "you're", "we've", "they'll", "he'd", "it's", "don't", "CAN'T", "'S", "O'Neil",
    "rock 'n' roll", "''", "'''", "'tis", "'ll", "''s",
    "!!!", "?!", "...", "---", "***", "<<>>", "@#$%^&*()", "~`|\\", "«quotes»", "“curly” ‘single’",
    "a  b", "a   b", "a\t\tb", " leading", "trailing ", "   ", "\n\n\n", " \n ", "x \t y",
    "\r\n", "line\r\nbreak", "nb\u00a0sp", "ideo\u3000space", "sep\u2028line", "\x0b\x0c", "nel\x85x",
    "zero\u200bwidth", "\ufeffbom",
    "a\x00b", "\x00", "nul\x00\x00end",
    "<s>", "</s>", "<unk>", "<|endoftext|>", "text<|endoftext|>more", "<0x41>",
]
SEPS = [" ", "", "  ", "\t", "\n", " \n", "   ", ", "]


def shakespeare():
    with open(CORPUS, encoding="utf-8") as f:
        return f.read()


def cases(text):
    lines = [l for l in text.split("\n") if l.strip()]
    step = len(lines) // 2000
    out = [lines[i * step] for i in range(2000)]
    paras = text.split("\n\n")
    out += [paras[i * (len(paras) // 60)] for i in range(60)]
    out += list(POOL)
    rng = random.Random(7)
    words = text.split()
    for _ in range(600):
        parts = []
        for _ in range(rng.randint(1, 8)):
            parts.append(rng.choice(POOL) if rng.random() < 0.5 else rng.choice(words))
            parts.append(rng.choice(SEPS))
        out.append("".join(parts))
    out += [" " * 40, " " * 127, " " * 300, "a" * 500, "ab" * 300, "\n" * 200,
            "word " * 100, "!" * 300, "1" * 300, "😀" * 100, "ééé" * 60,
            "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(1000)),
            "", " "]
    # long runs with no safe boundary, for the sliding window (artr__run_slide)
    for alphabet in ("ab", "abc", "ab ", "th e", " \t", "01", "eé", "aA!", "  a", "日本語"):
        for n in (129, 257, 700):
            out.append("".join(rng.choice(alphabet) for _ in range(n)))
    return out


def write_cases(path, texts):
    with open(path, "wb") as f:
        f.write(b"ARTC" + struct.pack("<I", len(texts)))
        for t in texts:
            b = t.encode("utf-8")
            f.write(struct.pack("<I", len(b)) + b)


def write_ids(path, all_ids):
    with open(path, "wb") as f:
        f.write(b"ARTI" + struct.pack("<I", len(all_ids)))
        for ids in all_ids:
            if ids is None:
                f.write(struct.pack("<I", SKIP))
                continue
            assert all(0 <= i < 65536 for i in ids)
            f.write(struct.pack("<I", len(ids)) + struct.pack("<%dH" % len(ids), *ids))


def fnv64(ids):
    h = 0xcbf29ce484222325
    for b in struct.pack("<%dI" % len(ids), *ids):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


# ---- llama2.c run.c encode, transcribed -----------------------------------------------

def read_llama2_bin(path, n_vocab=32000):
    with open(path, "rb") as f:
        data = f.read()
    pos = 4
    vocab, scores = [], []
    for _ in range(n_vocab):
        score, n = struct.unpack_from("<fi", data, pos)
        pos += 8
        vocab.append(data[pos:pos + n])
        scores.append(score)
        pos += n
    return vocab, scores


def llama2c_encode(vocab, scores, lookup, text):
    """run.c encode(t, text, bos=1, eos=0): BOS, the " " dummy prefix if text is not
    empty, each UTF-8 character (a byte and up to 3 continuation bytes) or its bytes
    + 3, then merge the best-scoring adjacent pair (first on ties) until none."""
    tokens = [1]
    if text:
        tokens.append(lookup[b" "])
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and j - i < 4 and (text[j] & 0xC0) == 0x80:
            j += 1
        ch = text[i:j]
        if ch in lookup:
            tokens.append(lookup[ch])
        else:
            tokens.extend(b + 3 for b in ch)
        i = j
    while True:
        best, best_id, best_idx = -1e10, -1, -1
        for k in range(len(tokens) - 1):
            t = lookup.get(vocab[tokens[k]] + vocab[tokens[k + 1]])
            if t is not None and scores[t] > best:
                best, best_id, best_idx = scores[t], t, k
        if best_idx < 0:
            return tokens
        tokens[best_idx:best_idx + 2] = [best_id]


# ---- main -----------------------------------------------------------------------------

def main():
    if not os.path.exists(CORPUS):
        sys.exit("need %s" % CORPUS)
    text = shakespeare()
    texts = cases(text)
    write_cases(os.path.join(OUT, "tok_cases.bin"), texts)

    sp = train_spm()
    write_spm_gguf(sp, os.path.join(OUT, "tok_spm.gguf"))
    write_ids(os.path.join(OUT, "tok_spm.ids"), [sp.encode(t) for t in texts])

    bpe = train_bpe()
    write_bpe_gguf(bpe, os.path.join(OUT, "tok_bpe.gguf"))
    write_ids(os.path.join(OUT, "tok_bpe.ids"), [bpe.encode(t).ids for t in texts])

    # the whole corpus as one text: only a digest is kept (count and FNV-1a 64 of the ids
    # as little-endian uint32), compared by test_tok_corpus when ../shared is present
    with open(os.path.join(OUT, "tok_corpus.ref"), "w") as f:
        for name, ids in (("spm", sp.encode(text)), ("bpe", bpe.encode(text).ids)):
            f.write("%s %d %016x\n" % (name, len(ids), fnv64(ids)))

    if os.path.exists(LLAMA2_BIN):
        vocab, scores = read_llama2_bin(LLAMA2_BIN)
        lookup = {}
        for i, v in enumerate(vocab):
            lookup.setdefault(v, i)
        exp = []
        for t in texts:
            b = t.encode("utf-8")
            exp.append(None if b"\x00" in b else llama2c_encode(vocab, scores, lookup, b))
        write_ids(os.path.join(OUT, "tok_llama2c.ids"), exp)
    else:
        print("skipped tok_llama2c.ids: %s not found" % LLAMA2_BIN)

    for name in ("tok_cases.bin", "tok_spm.gguf", "tok_spm.ids", "tok_bpe.gguf", "tok_bpe.ids",
                 "tok_llama2c.ids", "tok_corpus.ref"):
        p = os.path.join(OUT, name)
        if os.path.exists(p):
            print("%-16s %7d bytes" % (name, os.path.getsize(p)))
    print("%d texts" % len(texts))
    for path in ("tok_spm.gguf", "tok_bpe.gguf"):  # read back
        r = gguf.GGUFReader(os.path.join(OUT, path))
        assert len(r.fields["tokenizer.ggml.tokens"].data) == VOCAB


if __name__ == "__main__":
    main()
