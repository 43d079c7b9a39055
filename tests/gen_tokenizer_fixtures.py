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

Pre-tokenizer families (`python tests/gen_tokenizer_fixtures.py pre` writes only these):
tok_pre_<f>.gguf A byte-level BPE (vocab PRE_VOCAB) trained by `tokenizers` on
                 tinyshakespeare plus MULTI (a multilingual, digit, emoji, CJK,
                 combining-mark and whitespace-heavy corpus written here) with the
                 pre-tokenizer pipeline of that family's tokenizer.json (FAMILIES:
                 Split with the family's regex, Isolated, then ByteLevel without its
                 own regex; StarCoder/SmolLM: Digits(individual_digits) then ByteLevel),
                 written with that family's tokenizer.ggml.pre, its special tokens
                 (CONTROL), eos and eot ids.
tok_pre_cases.bin More test texts (ARTC format): MULTI's lines and pieces of them, random
                 mixes of words, numbers, emoji, marks and whitespace, long runs.
tok_pre_<f>.ref  For every text of tok_cases.bin, then of tok_pre_cases.bin: "ARTH",
                 uint32 count, then per text uint16 id count and uint32 FNV-1a 32 of the
                 ids (little-endian uint32).  tok_pre_dbrx.ref: the llama3 vocabulary
                 with ignore_merges off (artr_model_params.tokenizer_pre = "dbrx").
tok_pre_<f>.words The same format for the pre-tokenizer alone (tokenizers'
                 pre_tokenize_str, no special tokens): count of words and FNV-1a 32 of
                 the byte offsets where they end; also for "gpt2" (ByteLevel's regex).

Gemma-like SentencePiece (`python tests/gen_tokenizer_fixtures.py gemma` writes only these):
tok_gemma.gguf   A SentencePiece BPE model (vocab GEMMA_VOCAB) with Gemma 3's trainer
                 options: byte_fallback, add_dummy_prefix off, remove_extra_whitespaces
                 off, identity normalization, split_digits, whitespace-only pieces,
                 user_defined_symbols GEMMA_USER (<start_of_turn>, <end_of_turn>, ...),
                 control symbols GEMMA_CONTROL, pad 0 eos 1 bos 2 unk 3; trained on
                 tinyshakespeare, MULTI, chat turns and indented lines; written as
                 convert_hf_to_gguf.py writes Gemma 3 (add_space_prefix false, the
                 user-defined symbols USER_DEFINED).
tok_gemma_cases.bin More texts (ARTC format): MULTI, whitespace runs of 1..40, chat
                 turns, user-defined and control symbols among words and spaces.
tok_gemma.ids    sp.encode(text) (ARTI format) for every text of tok_cases.bin, then of
                 tok_gemma_cases.bin.
tok_gemma_special.ids The same texts with ARTR_TOKENIZE_SPECIAL: control, unknown and
                 user-defined symbols cut out whole (leftmost, then longest), sp.encode
                 of the text between; no expectation for texts without control text.

Chat templates (`python tests/gen_tokenizer_fixtures.py chat`, needs jinja2):
chat_cases.bin   CONVERSATIONS rendered by each of CHAT_TEMPLATES (the published
                 templates of the families artr_chat_format writes) with jinja2 set up
                 as transformers' apply_chat_template (sandbox, trim_blocks,
                 lstrip_blocks), bos_token "", with and without add_generation_prompt;
                 a conversation a template refuses (raise_exception) is left out.
                 "ARTK", uint32 count, then per case: name, uint32 add_generation_prompt,
                 uint32 n, n (role, content), the rendering; then uint32 count and
                 (name, template source) pairs; strings as uint32 length and UTF-8
                 bytes.

Training is deterministic (one thread), so a rerun gives the same files.
"""
import io
import os
import random
import struct
import sys

import gguf
import sentencepiece as spm
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

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


def write_bpe_gguf(tok, path, pre="gpt2", eos="<|endoftext|>", eot=None):
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
    w = gguf.GGUFWriter(path, "gpt2")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(vocab[spec["added_tokens"][0]["content"]])  # the first special
    w.add_eos_token_id(vocab[eos])
    if eot:
        w.add_eot_token_id(vocab[eot])
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


# ---- pre-tokenizer families -------------------------------------------------------------

PRE_VOCAB = 1200
GPT2_RE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
# the regexes as the published tokenizer.json files write them (Llama 3, Qwen2, Qwen3.5)
LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
             r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
            r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN35_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}|"
             r" ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def split(rx):
    return pre_tokenizers.Split(Regex(rx), behavior="isolated", invert=False)


def byte_level():
    return pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)


# name: (tokenizer.ggml.pre, pre-tokenizer, ignore_merges, special tokens, eos, eot)
FAMILIES = {
    "llama3": ("llama-bpe", lambda: pre_tokenizers.Sequence([split(LLAMA3_RE), byte_level()]), True,
               ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>"],
               "<|end_of_text|>", "<|eot_id|>"),
    "qwen2": ("qwen2", lambda: pre_tokenizers.Sequence([split(QWEN2_RE), byte_level()]), False,
              ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], "<|im_end|>", None),
    "qwen35": ("qwen35", lambda: pre_tokenizers.Sequence([split(QWEN35_RE), byte_level()]), False,
               ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], "<|endoftext|>", None),
    "smollm": ("smollm", lambda: pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)]), False,
               ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], "<|im_end|>", None),
    # llama.cpp's "default": four regexes, each splitting the words of the one before
    "default": ("default", lambda: pre_tokenizers.Sequence([
        split(r"[\p{P}\$\+<=>\^~\|]+"), split(GPT2_RE[:-len(r"|\s+")]), split(r"\p{N}+"),
        split(r"[0-9][0-9][0-9]"), byte_level()]), False, ["<|endoftext|>"], "<|endoftext|>", None),
}

# Written for these tests: many scripts, combining marks (NFD), digits of several kinds,
# emoji, code, and whitespace of every kind. No U+017F (onig's (?i) folds it to s, so
# "'ſ" is a contraction to tokenizers and not to llama.cpp).
MULTI = [
    "Le cœur a ses raisons que la raison ne connaît point. Où est l'hôtel ? C'est ça !",
    "Fünf Bücher über Äpfel, Öl und Übermut; die Straße heißt Große Allee 17a.",
    "¿Dónde está la biblioteca? ¡Está allí! Mañana comeré piñas y jalapeños.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю. В 1812 году…",
    "Θέλω να πάω στην Αθήνα το 2024· είναι ωραία πόλη!",
    "العربية: مرحبا بالعالم ١٢٣٤٥ وأيضاً ٦٧٨٩٠، شكراً جزيلاً.",
    "עברית: שלום עולם, מה שלומך היום?",
    "हिन्दी: नमस्ते दुनिया, आप कैसे हैं? संख्या १२३४ है।",
    "বাংলা: আমি বাংলায় গান গাই ১২৩৪৫।",
    "ภาษาไทย: สวัสดีครับ วันนี้อากาศดีมาก ๑๒๓",
    "中文：你好，世界！今天是2024年1月31日，气温15℃。我们一起学习吧。",
    "日本語：東京は日本の首都です。カタカナとひらがな、漢字を使います。第３章",
    "한국어: 안녕하세요, 세계! 오늘은 날씨가 좋네요. 123번 버스",
    "Tiếng Việt: Tôi yêu tiếng nước tôi từ khi mới ra đời.",
    "Tie\u0302\u0301ng Vie\u0323\u0302t NFD: to\u0302i ye\u0302u, e\u0301cole, n\u0303, a\u030a, o\u0308",
    "Türkçe: Işık, ılık, İstanbul, ŞĞÜÇÖ şğüçö.",
    "Polski: Zażółć gęślą jaźń. Čeština: Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Emoji: 😀😃😄 👍🏽👍🏿 👨‍👩‍👧‍👦 🇫🇷🇯🇵🇧🇷 ❤️‍🔥 🤖🚀✨ 🎉x🎉",
    "Numbers: 3.14159 2.71828 1,000,000 1.000.000,00 12345678901234567890 007 0x1F 1e-9",
    "Dates 2024-01-31T12:34:56Z, phone +1 (555) 123-4567, 10% off, $19.99, €5, ¥1000",
    "Other digits: ０１２３４５６７８９ ٠١٢٣٤٥٦٧٨٩ ۰۱۲۳ ०१२३ ① ② ③ ⅰⅱⅲ Ⅻ ½ ¾ ² ³ ¹⁰",
    "def f(x, y=2):\n    return x**2 + y  # comment\n\n\tif x >= 10 and y != 3:\n\t\tprint(f'{x:>8}')\n",
    "int main(void) {\r\n    int a[3] = {1, 2, 3};\r\n    return a[0] << 2 | a[1] ^ ~a[2];\r\n}\r\n",
    "SELECT id, name FROM users WHERE age > 21 AND name LIKE '%son' ORDER BY id DESC;",
    "<html><body class=\"x\">a &amp; b &lt; c</body></html> https://example.com/a?b=1&c=2#frag",
    "math: a+b=c, x^2 <= y~z, |v| >= 0, $$\\sum_{i=1}^{n} i = n(n+1)/2$$, 1+1=2",
    "I'm sure you're right, we've seen they'll come, he'd go, it's done, don't!",
    "I'M SURE YOU'RE RIGHT, WE'VE SEEN THEY'LL COME, HE'D GO, IT'S DONE, DON'T!",
    "Mixed: We'Ll, i'M, yOu'Re, 'tis, rock 'n' roll, O'Neil's, ''quoted'', '''triple'''",
    "spaces:  two   three    four     five      six       seven        eight",
    "tabs:\tone\t\ttwo\t\t\tthree \t mixed\t \tend\t",
    "lines\n\nblank\n\n\nthree\r\n\r\nwindows\r\rmac\n \n \n trailing  \n",
    "unicode spaces:\u00a0nbsp\u2003em\u3000ideo\u2009thin\u202fnarrow\u205fmath\u1680ogham\u2028ls\u2029ps\x85nel",
    "   leading spaces and trailing spaces   ",
    "zero\u200bwidth joiner\u200dand\u200cnon-joiner, soft\u00adhyphen, bom\ufeffhere",
    "punctuation!!! ??? ... --- *** ### @@@ ((( ))) [[[ ]]] {{{ }}} «» „“ ‚‘ —– … · • ‽ ¿¡",
    "Ελληνικά: ἀρχὴ ἥμισυ παντός. Ѐ Ѝ ї й ё. Ǆ ǅ ǆ ǈ ß ẞ.",
    "Armenian Հայերեն, Georgian ქართული, Amharic አማርኛ, Tamil தமிழ் ௧௨௩, Sinhala සිංහල.",
    "Marks alone: \u0301\u0302\u0303 after space: a \u0301b, \u20dd\u20de enclosing, \u25cc\u0300 dotted",
    "Mongolian ᠮᠣᠩᠭᠣᠯ, Tibetan བོད་ཡིག, Khmer ភាសាខ្មែរ, Lao ພາສາລາວ, Myanmar မြန်မာ ၁၂၃",
    "CJK ext: 𠀀𠀁𠀂 𪚥 𩸽, kana ｶﾀｶﾅ, symbols ㈱ ㍻ ㎏ ㊙",
    "a1b2c3 x86_64 utf-8 mp3 h2o 3d 4k 1st 2nd 3rd 4th v1.2.3-rc4 sha256:abc123",
    "1 12 123 1234 12345 123456 1234567 12345678 123456789 1234567890",
    " 1  12   123    1234     12345 ",
    "ROMEO: But, soft! what light through yonder window breaks? It is the east, and Juliet is the sun.",
    "JULIET: O Romeo, Romeo! wherefore art thou Romeo? 2B or not 2B: that is the question.",
]

SEP2 = [" ", "", "  ", "\t", "\n", " \n", "\r\n", "\n\n", "   ", ", ", "\u3000", "\u00a0", " \t ",
        "\n  ", "'", "-", "."]


def pre_training_files(text):
    path = os.path.join(ROOT, "build", "pre_corpus.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        for _ in range(30):
            f.write("\n".join(MULTI) + "\n")
    return [path]


def pre_cases(text):
    rng = random.Random(20)
    words = text.split()
    multi_words = " ".join(MULTI).split()
    out = list(MULTI)
    for line in MULTI:  # every line cut at random places
        for _ in range(4):
            a = rng.randrange(len(line))
            out.append(line[a:a + rng.randint(1, 60)])
    for _ in range(1400):
        parts = []
        for _ in range(rng.randint(1, 10)):
            r = rng.random()
            if r < 0.35:
                parts.append(rng.choice(multi_words))
            elif r < 0.55:
                parts.append(rng.choice(POOL))
            elif r < 0.7:
                parts.append(str(rng.randint(0, 10 ** rng.randint(1, 12))))
            else:
                parts.append(rng.choice(words))
            parts.append(rng.choice(SEP2))
        out.append("".join(parts))
    for alphabet in ("0123456789", "12 ", "1a", " \n", "\r\n ", "\t \n", "e\u0301", "a'", "'s",
                     "1.", "😀1", "中1a", " !", "\n\n!", "$+<=>^~|", "a\u0301 "):
        for n in (50, 200):
            out.append("".join(rng.choice(alphabet) for _ in range(n)))
    return out


def fnv32(ids):
    h = 0x811c9dc5
    for b in struct.pack("<%dI" % len(ids), *ids):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def write_hashes(path, all_ids):
    with open(path, "wb") as f:
        f.write(b"ARTH" + struct.pack("<I", len(all_ids)))
        for ids in all_ids:
            assert len(ids) < 65536
            f.write(struct.pack("<HI", len(ids), fnv32(ids)))


def word_ends(pre, text):
    """Byte offsets where the pre-tokenizer's words end (its offsets count characters)."""
    at = [0]
    for ch in text:
        at.append(at[-1] + len(ch.encode("utf-8")))
    return [at[end] for _, (_, end) in pre.pre_tokenize_str(text)]


def train_family(files, spec):
    _, pre, ignore_merges, specials, _, _ = spec
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    tok.pre_tokenizer = pre()
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=PRE_VOCAB, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train(files, trainer)
    return tok


def with_ignore_merges(tok, on):
    import json
    spec = json.loads(tok.to_str())
    spec["model"]["ignore_merges"] = on
    return Tokenizer.from_str(json.dumps(spec))


def with_unmerged_words(tok, texts, n):
    """Add the n most frequent words that are several tokens as tokens of their own,
    without merges: only ignore_merges reaches them."""
    import collections
    import json
    count = collections.Counter()
    for t in texts:
        for w, _ in tok.pre_tokenizer.pre_tokenize_str(t):
            if len(tok.encode(w).ids) > 1 and len(tok.model.tokenize(w)) > 1:
                count[w] += 1
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    for w, _ in count.most_common(n):
        vocab[w] = max(vocab.values()) + 1
    return Tokenizer.from_str(json.dumps(spec))


def main_pre(text):
    base = cases(text)
    extra = pre_cases(text)
    texts = base + extra
    write_cases(os.path.join(OUT, "tok_pre_cases.bin"), extra)
    files = pre_training_files(text)
    for name, spec in FAMILIES.items():
        tok = train_family(files, spec)
        if spec[2]:
            tok = with_unmerged_words(tok, texts, 40)
        path = os.path.join(OUT, "tok_pre_%s.gguf" % name)
        write_bpe_gguf(tok, path, pre=spec[0], eos=spec[4], eot=spec[5])
        ids = [tok.encode(t).ids for t in texts]
        write_hashes(os.path.join(OUT, "tok_pre_%s.ref" % name), ids)
        pre = spec[1]()
        write_hashes(os.path.join(OUT, "tok_pre_%s.words" % name), [word_ends(pre, t) for t in texts])
        if name == "llama3":
            plain = with_ignore_merges(tok, False)
            ids2 = [plain.encode(t).ids for t in texts]
            print("llama3: ignore_merges changes the ids of %d texts" % sum(a != b for a, b in zip(ids, ids2)))
            write_hashes(os.path.join(OUT, "tok_pre_dbrx.ref"), ids2)
    gpt2 = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    write_hashes(os.path.join(OUT, "tok_pre_gpt2.words"), [word_ends(gpt2, t) for t in texts])
    names = ["tok_pre_cases.bin", "tok_pre_dbrx.ref", "tok_pre_gpt2.words"]
    names += ["tok_pre_%s.%s" % (f, e) for f in FAMILIES for e in ("gguf", "ref", "words")]
    for name in names:
        print("%-20s %7d bytes" % (name, os.path.getsize(os.path.join(OUT, name))))
    print("%d texts per family (%d + %d)" % (len(texts), len(base), len(extra)))


# ---- chat templates ---------------------------------------------------------------------

S, U, A = "system", "user", "assistant"

# Published chat templates (tokenizer_config.json "chat_template"), one per artr format.
CHAT_TEMPLATES = {
    # teknium/OpenHermes-2.5-Mistral-7B
    "chatml": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
    # meta-llama/Meta-Llama-3-8B-Instruct
    "llama3": "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
    # google/gemma-3-*-it, its text-only branches
    "gemma": '{{ bos_token }}\n{%- if messages[0][\'role\'] == \'system\' -%}\n    {%- set first_user_prefix = messages[0][\'content\'] + \'\\n\\n\' -%}\n    {%- set loop_messages = messages[1:] -%}\n{%- else -%}\n    {%- set first_user_prefix = "" -%}\n    {%- set loop_messages = messages -%}\n{%- endif -%}\n{%- for message in loop_messages -%}\n    {%- if (message[\'role\'] == \'user\') != (loop.index0 % 2 == 0) -%}\n        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}\n    {%- endif -%}\n    {%- if (message[\'role\'] == \'assistant\') -%}\n        {%- set role = "model" -%}\n    {%- else -%}\n        {%- set role = message[\'role\'] -%}\n    {%- endif -%}\n    {{ \'<start_of_turn>\' + role + \'\\n\' + (first_user_prefix if loop.first else "") }}\n    {%- if message[\'content\'] is string -%}\n        {{ message[\'content\'] | trim }}\n    {%- endif -%}\n    {{ \'<end_of_turn>\\n\' }}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n    {{\'<start_of_turn>model\\n\'}}\n{%- endif -%}\n',
    # microsoft/Phi-3.5-mini-instruct
    "phi3": "{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}",
    # microsoft/phi-4
    "phi4": "{% for message in messages %}{% if (message['role'] == 'system') %}{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif (message['role'] == 'user') %}{{'<|im_start|>user<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif (message['role'] == 'assistant') %}{{'<|im_start|>assistant<|im_sep|>' + message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant<|im_sep|>' }}{% endif %}",
    # HuggingFaceH4/zephyr-7b-beta
    "zephyr": "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
    # mistralai/Mistral-7B-Instruct-v0.2, Mistral's 'v1' template (mistralai/cookbook)
    "mistral-v1": "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] == 'user' %}\n        {%- if loop.first and system_message is defined %}\n            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        {%- else %}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n    {%- endif %}\n{%- endfor %}\n",
    # mistralai/Mistral-Large-Instruct-2411 ('v7')
    "mistral-v7": "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% else %}{{ raise_exception('Only user, system and assistant roles are supported!') }}{% endif %}{% endfor %}",
}
# mistralai/Mistral-Large-Instruct-2407 ('v3') and Mistral-Nemo-Instruct-2407 ('v3-tekken'),
# tools included (artr writes no tools; they only help recognise the template)
CHAT_TEMPLATES["mistral-v3"] = '{%- if messages[0]["role"] == "system" %}\n    {%- set system_message = messages[0]["content"] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}\n\n{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}\n{%- set ns = namespace() %}\n{%- set ns.index = 0 %}\n{%- for message in loop_messages %}\n    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}\n        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}\n            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}\n        {%- endif %}\n        {%- set ns.index = ns.index + 1 %}\n    {%- endif %}\n{%- endfor %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if message["role"] == "user" %}\n        {%- if tools is not none and (message == user_messages[-1]) %}\n            {{- "[AVAILABLE_TOOLS] [" }}\n            {%- for tool in tools %}\n                {%- set tool = tool.function %}\n                {{- \'{"type": "function", "function": {\' }}\n                {%- for key, val in tool.items() if key != "return" %}\n                    {%- if val is string %}\n                        {{- \'"\' + key + \'": "\' + val + \'"\' }}\n                    {%- else %}\n                        {{- \'"\' + key + \'": \' + val|tojson }}\n                    {%- endif %}\n                    {%- if not loop.last %}\n                        {{- ", " }}\n                    {%- endif %}\n                {%- endfor %}\n                {{- "}}" }}\n                {%- if not loop.last %}\n                    {{- ", " }}\n                {%- else %}\n                    {{- "]" }}\n                {%- endif %}\n            {%- endfor %}\n            {{- "[/AVAILABLE_TOOLS]" }}\n            {%- endif %}\n        {%- if loop.last and system_message is defined %}\n            {{- "[INST] " + system_message + "\\n\\n" + message["content"] + "[/INST]" }}\n        {%- else %}\n            {{- "[INST] " + message["content"] + "[/INST]" }}\n        {%- endif %}\n    {%- elif message.tool_calls is defined and message.tool_calls is not none %}\n        {{- "[TOOL_CALLS] [" }}\n        {%- for tool_call in message.tool_calls %}\n            {%- set out = tool_call.function|tojson %}\n            {{- out[:-1] }}\n            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}\n                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}\n            {%- endif %}\n            {{- \', "id": "\' + tool_call.id + \'"}\' }}\n            {%- if not loop.last %}\n                {{- ", " }}\n            {%- else %}\n                {{- "]" + eos_token }}\n            {%- endif %}\n        {%- endfor %}\n    {%- elif message["role"] == "assistant" %}\n        {{- " " + message["content"]|trim + eos_token}}\n    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}\n        {%- if message.content is defined and message.content.content is defined %}\n            {%- set content = message.content.content %}\n        {%- else %}\n            {%- set content = message.content %}\n        {%- endif %}\n        {{- \'[TOOL_RESULTS] {"content": \' + content|string + ", " }}\n        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}\n            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}\n        {%- endif %}\n        {{- \'"call_id": "\' + message.tool_call_id + \'"}[/TOOL_RESULTS]\' }}\n    {%- else %}\n        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}\n    {%- endif %}\n{%- endfor %}\n'
CHAT_TEMPLATES["mistral-v3-tekken"] = '{%- if messages[0]["role"] == "system" %}\n    {%- set system_message = messages[0]["content"] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}\n\n{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}\n{%- set ns = namespace() %}\n{%- set ns.index = 0 %}\n{%- for message in loop_messages %}\n    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}\n        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}\n            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}\n        {%- endif %}\n        {%- set ns.index = ns.index + 1 %}\n    {%- endif %}\n{%- endfor %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n    {%- if message["role"] == "user" %}\n        {%- if tools is not none and (message == user_messages[-1]) %}\n            {{- "[AVAILABLE_TOOLS][" }}\n            {%- for tool in tools %}\n                {%- set tool = tool.function %}\n                {{- \'{"type": "function", "function": {\' }}\n                {%- for key, val in tool.items() if key != "return" %}\n                    {%- if val is string %}\n                        {{- \'"\' + key + \'": "\' + val + \'"\' }}\n                    {%- else %}\n                        {{- \'"\' + key + \'": \' + val|tojson }}\n                    {%- endif %}\n                    {%- if not loop.last %}\n                        {{- ", " }}\n                    {%- endif %}\n                {%- endfor %}\n                {{- "}}" }}\n                {%- if not loop.last %}\n                    {{- ", " }}\n                {%- else %}\n                    {{- "]" }}\n                {%- endif %}\n            {%- endfor %}\n            {{- "[/AVAILABLE_TOOLS]" }}\n            {%- endif %}\n        {%- if loop.last and system_message is defined %}\n            {{- "[INST]" + system_message + "\\n\\n" + message["content"] + "[/INST]" }}\n        {%- else %}\n            {{- "[INST]" + message["content"] + "[/INST]" }}\n        {%- endif %}\n    {%- elif (message.tool_calls is defined and message.tool_calls is not none) %}\n        {{- "[TOOL_CALLS][" }}\n        {%- for tool_call in message.tool_calls %}\n            {%- set out = tool_call.function|tojson %}\n            {{- out[:-1] }}\n            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}\n                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}\n            {%- endif %}\n            {{- \', "id": "\' + tool_call.id + \'"}\' }}\n            {%- if not loop.last %}\n                {{- ", " }}\n            {%- else %}\n                {{- "]" + eos_token }}\n            {%- endif %}\n        {%- endfor %}\n    {%- elif message["role"] == "assistant" %}\n        {{- message["content"] + eos_token}}\n    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}\n        {%- if message.content is defined and message.content.content is defined %}\n            {%- set content = message.content.content %}\n        {%- else %}\n            {%- set content = message.content %}\n        {%- endif %}\n        {{- \'[TOOL_RESULTS]{"content": \' + content|string + ", " }}\n        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}\n            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}\n        {%- endif %}\n        {{- \'"call_id": "\' + message.tool_call_id + \'"}[/TOOL_RESULTS]\' }}\n    {%- else %}\n        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}\n    {%- endif %}\n{%- endfor %}\n'

# mistralai/Mistral-7B-Instruct-v0.2's first template, no system message (llama.cpp's "llama2")
CHAT_TEMPLATES["llama2"] = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
# meta-llama/Llama-2-7b-chat-hf (llama.cpp: "llama2-sys-strip"; artr's llama2-sys)
CHAT_TEMPLATES["llama2-sys"] = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
# deepseek-ai/DeepSeek-V2-Chat (as quoted in llama.cpp's tests/test-chat-template.cpp)
CHAT_TEMPLATES["deepseek2"] = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% elif message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
# deepseek-ai/DeepSeek-R1-Distill-Llama-8B (llama.cpp models/templates/)
CHAT_TEMPLATES["deepseek3"] = "{% if not add_generation_prompt is defined -%}\n  {%- set add_generation_prompt = false -%}\n{%- endif -%}\n{%- set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') -%}\n{%- for message in messages -%}\n  {%- if message['role'] == 'system' -%}\n    {%- set ns.system_prompt = message['content'] -%}\n  {%- endif -%}\n{%- endfor -%}{{bos_token}}{{ns.system_prompt}}\n{%- for message in messages -%}\n  {%- if message['role'] == 'user' -%}\n    {%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}\n  {%- endif -%}\n  {%- if message['role'] == 'assistant' and message['content'] is none -%}\n    {%- set ns.is_tool = false -%}\n    {%- for tool in message['tool_calls']-%}\n      {%- if not ns.is_first -%}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}\n        {%- set ns.is_first = true -%}\n        {%- else -%}{{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}\n      {%- endif -%}\n    {%- endfor -%}\n  {%- endif -%}\n  {%- if message['role'] == 'assistant' and message['content'] is not none -%}\n    {%- if ns.is_tool -%}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}\n      {%- set ns.is_tool = false -%}\n      {%- else -%}\n      {%- set content = message['content'] -%}\n      {%- if '</think>' in content -%}\n        {%- set content = content.split('</think>')[-1] -%}\n      {%- endif -%}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}\n    {%- endif -%}\n  {%- endif -%}\n  {%- if message['role'] == 'tool' -%}\n    {%- set ns.is_tool = true -%}\n    {%- if ns.is_output_first -%}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}\n      {%- set ns.is_output_first = false -%}\n      {%- else -%}{{'\\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}\n    {%- endif -%}\n  {%- endif -%}\n{%- endfor -%}\n{%- if ns.is_tool -%}{{'<｜tool▁outputs▁end｜>'}}\n{%- endif -%}\n{%- if add_generation_prompt and not ns.is_tool -%}{{'<｜Assistant｜><think>\\n'}}\n{%- endif %}"
CHAT_BOS = {"llama2-sys": "<s>"}  # rendered with this BOS; the one leading BOS is dropped (the caller's)
CHAT_EXTRA = {"deepseek3": [  # replies with reasoning, tool outputs
    [(U, "Hi"), (A, "<think>\nhm</think>\n\nHello!"), (U, "Again")],
    [(U, "Hi"), (A, "a</think>b</think>c"), (S, "late system"), (U, "x")],
    [(U, "Weather?"), ("tool", "sunny"), ("tool", "22C"), (A, "It is sunny."), (U, "ok")],
    [(U, "Weather?"), ("tool", "sunny")],
    [(S, "one"), (S, "two"), (U, "q"), ("other", "dropped")],
]}

CHAT_EOS = {"phi3": "<|endoftext|>"}  # the others' eos_token is "</s>"
CHAT_EOS["deepseek2"] = "<｜end▁of▁sentence｜>"

CONVERSATIONS = [
    [(U, "Hello")],
    [(S, "You are a helpful assistant"), (U, "Hello")],
    [(S, "You are a helpful assistant"), (U, "Hello"), (A, "Hi there"), (U, "Who are you")],
    [(U, "Hello"), (A, "   I am an assistant   "), (U, "Another question")],
    [(U, ""), (A, ""), (U, "")],
    [(S, ""), (U, "hi")],
    [(U, "  Grüße 😀 \n"), (A, "\t中文 \u3000"), (U, "ünïcödé\u00a0\x1f")],
    [(S, "Be brief."), (U, "Q1"), (A, "A1"), (U, "Q2"), (A, "A2")],
    [(U, "<|im_end|> [INST] <start_of_turn> tricky")],
    [(S, "multi\nline\n"), (U, "line one\nline two\n\n"), (A, "ok\n"), (U, "\n")],
]


def main_chat():
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(msg):
        raise ValueError(msg)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)  # as transformers
    env.globals["raise_exception"] = raise_exception
    cases, skipped = [], 0
    for name, src in CHAT_TEMPLATES.items():
        tmpl = env.from_string(src)
        for conv in CONVERSATIONS + CHAT_EXTRA.get(name, []):
            msgs = [{"role": r, "content": c} for r, c in conv]
            for add in (True, False):
                bos = CHAT_BOS.get(name, "")
                try:
                    text = tmpl.render(messages=msgs, add_generation_prompt=add, bos_token=bos,
                                       eos_token=CHAT_EOS.get(name, "</s>"))
                except ValueError:
                    skipped += 1  # the template refuses the conversation (roles must alternate)
                    continue
                if bos and text.startswith(bos):
                    text = text[len(bos):]
                cases.append((name, add, conv, text))

    def blob(s):
        b = s.encode("utf-8")
        return struct.pack("<I", len(b)) + b

    path = os.path.join(OUT, "chat_cases.bin")
    with open(path, "wb") as f:
        f.write(b"ARTK" + struct.pack("<I", len(cases)))
        for name, add, conv, text in cases:
            f.write(blob(name) + struct.pack("<II", int(add), len(conv)))
            for r, c in conv:
                f.write(blob(r) + blob(c))
            f.write(blob(text))
        f.write(struct.pack("<I", len(CHAT_TEMPLATES)))  # the sources, for the detection test
        for name, src in CHAT_TEMPLATES.items():
            f.write(blob(name) + blob(src))
    print("chat_cases.bin %d bytes: %d renderings (%d refused by their template)"
          % (os.path.getsize(path), len(cases), skipped))


# ---- Gemma-like SentencePiece (`python tests/gen_tokenizer_fixtures.py gemma`) --------

GEMMA_VOCAB = 2000
GEMMA_USER = ["<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>",
              "<unused0>", "<unused1>", "<b>", "</b>", "<br>"]
GEMMA_CONTROL = ["<mask>", "[@BOS@]"]


def gemma_training_file(text):
    """tinyshakespeare, MULTI, chat turns and whitespace-heavy code, as build/gemma_corpus.txt."""
    path = os.path.join(ROOT, "build", "gemma_corpus.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = random.Random(31)
    lines = [l for l in text.split("\n") if l.strip()]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        for _ in range(30):
            f.write("\n".join(MULTI) + "\n")
        for _ in range(400):
            a, b = rng.choice(lines), rng.choice(lines)
            f.write("<start_of_turn>user\n%s<end_of_turn>\n<start_of_turn>model\n%s<end_of_turn>\n" % (a, b))
            f.write(" " * rng.randint(2, 24) + rng.choice(lines) + "\t" * rng.randint(1, 4) + "\n")
    return path


def train_gemma(path):
    """Gemma's trainer options: byte fallback, no dummy prefix, no whitespace folding,
    identity normalization, split digits, whitespace-only pieces, user-defined symbols;
    Gemma's special ids (pad 0, eos 1, bos 2, unk 3)."""
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        input=path, model_writer=buf, model_type="bpe", vocab_size=GEMMA_VOCAB,
        normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=False, byte_fallback=True, split_digits=True,
        allow_whitespace_only_pieces=True, character_coverage=0.9995,
        user_defined_symbols=GEMMA_USER, control_symbols=GEMMA_CONTROL,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3,
        pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>",
        max_sentence_length=100000, num_threads=1, minloglevel=2)
    return spm.SentencePieceProcessor(model_proto=buf.getvalue())


def write_gemma_gguf(sp, path):
    """As convert_hf_to_gguf.py writes Gemma 3 (_set_vocab_sentencepiece, then
    add_space_prefix false); user-defined symbols get USER_DEFINED as the converter gives
    the added tokens that are not special."""
    w = gguf.GGUFWriter(path, "gemma3")
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        tokens.append(piece.encode("utf-8"))
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
        elif piece in GEMMA_USER:
            t = gguf.TokenType.USER_DEFINED
        types.append(int(t))
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(sp.bos_id())
    w.add_eos_token_id(sp.eos_id())
    w.add_unk_token_id(sp.unk_id())
    w.add_pad_token_id(sp.pad_id())
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    finish(w)


def gemma_cases(text):
    """Texts for the Gemma-like vocabulary: chat turns, user-defined and control symbols
    next to words, spaces and each other, whitespace runs of every length, characters
    the vocabulary lacks (byte fallback)."""
    rng = random.Random(33)
    words = text.split()
    multi_words = " ".join(MULTI).split()
    syms = GEMMA_USER + GEMMA_CONTROL + ["<bos>", "<eos>", "<pad>", "<unk>"]
    out = list(MULTI)
    for n in range(1, 41):
        out += [" " * n, "a" + " " * n + "b", "\t" * n, "\n" * n, " " * n + "x", "x" + " " * n]
    out += ["<start_of_turn>user\nHello!<end_of_turn>\n<start_of_turn>model\n",
            "<start_of_turn>", "<end_of_turn>", "<start_of_turn><end_of_turn>",
            " <start_of_turn> ", "x<start_of_turn>y", "<start_of_turn", "start_of_turn>",
            "<<start_of_turn>>", "<b><br></b>", "<b>bold</b> and <br> break", "<bos>", "<mask>",
            "text<mask>more", "[@BOS@]", "<unused0><unused1><unused2>", "<start_of_image>",
            "\u2581", "\u2581\u2581x", "<0x41>", "\U0001F600\U0001F9EC\u4E2D\uD55C\u0E01"]
    for _ in range(500):
        parts = []
        for _ in range(rng.randint(1, 10)):
            r = rng.random()
            if r < 0.2:
                parts.append(rng.choice(syms))
            elif r < 0.45:
                parts.append(rng.choice(multi_words))
            elif r < 0.6:
                parts.append(rng.choice(POOL))
            elif r < 0.7:
                parts.append(str(rng.randint(0, 10 ** rng.randint(1, 12))))
            else:
                parts.append(rng.choice(words))
            parts.append(rng.choice(SEP2 + [" " * rng.randint(2, 40), "\n" * rng.randint(1, 5)]))
        out.append("".join(parts))
    for alphabet in (" a", "  \t", " \n", "<b> ", "x<br>", "\u00e9\U0001F600 "):
        for n in (100, 300):
            out.append("".join(rng.choice(alphabet) for _ in range(n)))
    return out


def special_split(sp, text):
    """sp.encode of the text between control, unknown and user-defined symbols, each
    cut out whole, longest at the leftmost place first (ARTR_TOKENIZE_SPECIAL)."""
    specials = {}
    for i in range(sp.get_piece_size()):
        p = sp.id_to_piece(i)
        if sp.is_control(i) or sp.is_unknown(i) or p in GEMMA_USER:
            specials.setdefault(p, i)
    ids, i, start = [], 0, 0
    while i < len(text):
        best = max((p for p in specials if text.startswith(p, i)), key=len, default=None)
        if best is None:
            i += 1
            continue
        if i > start:
            ids += sp.encode(text[start:i])
        ids.append(specials[best])
        i += len(best)
        start = i
    if start < len(text):
        ids += sp.encode(text[start:])
    return ids


def main_gemma(text):
    base = cases(text)
    extra = gemma_cases(text)
    texts = base + extra
    write_cases(os.path.join(OUT, "tok_gemma_cases.bin"), extra)
    sp = train_gemma(gemma_training_file(text))
    write_gemma_gguf(sp, os.path.join(OUT, "tok_gemma.gguf"))
    write_ids(os.path.join(OUT, "tok_gemma.ids"), [sp.encode(t) for t in texts])
    controls = [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)]
    write_ids(os.path.join(OUT, "tok_gemma_special.ids"),
              [special_split(sp, t) if any(c in t for c in controls) else None for t in texts])
    for name in ("tok_gemma_cases.bin", "tok_gemma.gguf", "tok_gemma.ids", "tok_gemma_special.ids"):
        print("%-22s %7d bytes" % (name, os.path.getsize(os.path.join(OUT, name))))
    print("%d texts (%d + %d)" % (len(texts), len(base), len(extra)))


# ---- main -----------------------------------------------------------------------------

def main():
    if not os.path.exists(CORPUS):
        sys.exit("need %s" % CORPUS)
    text = shakespeare()
    if sys.argv[1:] == ["pre"]:
        return main_pre(text)
    if sys.argv[1:] == ["chat"]:
        return main_chat()
    if sys.argv[1:] == ["gemma"]:
        return main_gemma(text)
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
