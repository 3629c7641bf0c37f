#!/usr/bin/env python3
"""Golden data for the C++ tokenizer: tokenizer.json files of the BPE families and the ids / texts
that the Hugging Face `tokenizers` library produces for a varied corpus.

Usage: tokenizer_golden.py OUT_DIR DEMO_GGUF

Writes OUT_DIR/<name>.json (tokenizer files), OUT_DIR/golden.json and OUT_DIR/big.txt (~1 MB).
Nothing is downloaded: the byte-level vocabulary comes from the demo GGUF (via transformers), the
others are trained here on text written by this script.
"""

import json
import os
import random
import sys
import tempfile

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE
from tokenizers.trainers import BpeTrainer

LLAMA3_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)

PROSE = (
    "The quick brown fox jumps over the lazy dog. It's a well-known pangram; they've used it, "
    "we'll use it and you'd use it too. Don't you think so? I'M SURE THEY'LL AGREE. "
    "Fine-tuning a large language model on a low-rank emulator saves memory: the emulator keeps "
    "the directions that matter for the data, and the LoRA learned on it is corrected afterwards.\n"
)
CODE = (
    "def merge(pairs, ranks):\n"
    "    for i in range(len(pairs) - 1):\n"
    "        if (pairs[i], pairs[i + 1]) in ranks:\n"
    "\t\treturn ranks[(pairs[i], pairs[i + 1])]  # tab-indented\n"
    "    return None\n\n\n"
    "int main() { std::vector<int> v{1, 2, 3}; return v.size() > 2 ? 0 : -1; }\r\n"
)
SPECIAL_FREE_TEXTS = [
    PROSE,
    CODE,
    "",
    " ",
    "  ",
    "a",
    "Hello world",
    " Hello world",
    "Hello   world    with     runs      of spaces   ",
    "tabs\tand\t\tnewlines\n\nmixed \t \n \r\n end\n",
    "   leading and trailing spaces   ",
    "\n\n\n",
    "Numbers: 0 7 42 123 1234 12345 3.14159 1,000,000 99999999999999999999 2024-06-01",
    "Phone +1 (555) 010-9999, hex 0xDEADBEEF, version v1.2.3",
    "日本語のテキストです。東京は日本の首都です。中文测试：我们在这里。한국어 문장입니다.",
    "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇫🇷 and text",
    "Combining marks: e\u0301 a\u0308 n\u0303 Z\u0335\u0321a\u0337l\u0336g\u0334o\u0338",
    "Accented NFD: Cafe\u0301 nai\u0308ve Pe\u0301rez fian\u0303ce",
    "Accented NFC: Café naïve Pérez fiançé Ærøskøbing",
    "Привет, мир! Ελληνικά κείμενα. עברית. العربية ٣٤٥. हिन्दी पाठ.",
    "Contractions: it's IT'S we're WE'RE I've i'd you'll She'S",
    "Long s and Kelvin: ſtraße \u212a 100 \u017f",
    "Case-folded contractions: it'\u017f THEY'\u212aL he'S",
    "Unicode spaces: a\u00a0b\u2003c\u3000d\u2009e\u200bf\u180eg",
    "Numerics: Ⅻ ½ x² ٣٤٥ ۱۲۳ ０１２",
    "İstanbul ΣΑΣ ΟΔΟΣ ǅemal ß ẞ",
    "zzzq zzzq'zzzq",
    "Punctuation!!! ??? ... --- *** ((( ))) [[[ ]]] {{{ }}} <<< >>> ''' \"\"\"",
    "The end.",
    "\u00ad soft hyphen \ufeff BOM \u2028 line sep \u2029 para sep \u0085 NEL",
    "Mathematical 𝐀𝐁𝐂 𝟏𝟐𝟑 and ﬁ ligature",
    "url https://example.com/path?query=1&x=y#frag email a.b@c.de",
]
SPECIAL_TEXTS = [
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|><|im_end|><|endoftext|>",
    "text<|im_end|>text <|im_end|> text",
    "<s>Hello</s> <s> world </s>",
    "<s><s></s>",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<tool>call</tool> x<tool> <tool>y",
    "<sys> hello <sys>world<sys>",
    "a <mark> b <mark>c d<mark> e",
    "[MASK] [MASK]x x[MASK] [MASK].",
    "<|endoftext|>",
    "<|im_start",
]
FUZZ_POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list(" \t\n\r.,;:!?'\"()[]{}<>|-_=+*/\\@#$%^&~`")
    + list("éèàçñüößÆøåÉ")
    + ["e\u0301", "\u0308", "\u0303"]
    + list("日本語中文한국어")
    + ["😀", "👍🏽", "👨‍👩‍👧", "\u200d", "\ufe0f"]
    + ["  ", "   ", "\n\n", "'s", "'LL", "123", "4567"]
    + ["<|im_start|>", "<|im_end|>", "<s>", "</s>", "<tool>", "<mark>"]
)


def write_corpus_file(path):
    rng = random.Random(7)
    parts = [PROSE * 3, CODE * 3] + SPECIAL_FREE_TEXTS * 2
    for _ in range(300):
        parts.append("".join(rng.choice(FUZZ_POOL) for _ in range(rng.randint(5, 60))))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


def smollm2(gguf_path, work):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
    out = os.path.join(work, "smollm2")
    tok.save_pretrained(out)
    return Tokenizer.from_file(os.path.join(out, "tokenizer.json"))


def smollm2_variant(smol):
    """The real SmolLM2 vocabulary run through other components: NFKC + Lowercase, Digits + ByteLevel
    with a prefix space, a Roberta-style post-processor, added tokens with lstrip/rstrip/single_word."""
    data = json.loads(smol.to_str())
    tok = Tokenizer.from_str(json.dumps(data))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=True)]
    )
    tok.post_processor = processors.RobertaProcessing(("<|im_end|>", 2), ("<|im_start|>", 1))
    tok.add_tokens([AddedToken("<mark>", lstrip=True, rstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("[mask]", single_word=True, normalized=True)])
    tok.add_special_tokens([AddedToken("<tool>", normalized=False, lstrip=True)])
    return tok


def train_byte_level(corpus_path, regex, specials, vocab_size):
    tok = Tokenizer(BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(regex), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train([corpus_path], trainer)
    tok.decoder = decoders.ByteLevel()
    return tok


def llama3_style(corpus_path):
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    tok = train_byte_level(corpus_path, LLAMA3_REGEX, specials, 1500)
    data = json.loads(tok.to_str())
    # A word reachable only through ignore_merges: whole-word vocab lookup comes before merging.
    data["model"]["ignore_merges"] = True
    data["model"]["vocab"]["Ġzzzq"] = len(data["model"]["vocab"])
    tok = Tokenizer.from_str(json.dumps(data))
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single="<|begin_of_text|> $A",
                pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                special_tokens=[("<|begin_of_text|>", bos)],
            ),
        ]
    )
    return tok


def qwen2_style(corpus_path):
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = train_byte_level(corpus_path, QWEN2_REGEX, specials, 1500)
    data = json.loads(tok.to_str())
    # Pair form of the merges, as recent tokenizers versions write them.
    data["model"]["merges"] = [m.split(" ") if isinstance(m, str) else m for m in data["model"]["merges"]]
    tok = Tokenizer.from_str(json.dumps(data))
    tok.normalizer = normalizers.NFC()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_tokens([AddedToken("<tool>", normalized=False, special=False), AddedToken("</tool>", normalized=False)])
    return tok


def sentencepiece_bpe(corpus_path, work):
    """A SentencePiece BPE model with byte fallback, as Llama 2 / Mistral / TinyLlama ship them."""
    import sentencepiece as spm
    from transformers.tokenization_utils_base import generate_merges

    prefix = os.path.join(work, "spm")
    spm.SentencePieceTrainer.train(
        input=corpus_path,
        model_prefix=prefix,
        model_type="bpe",
        vocab_size=1200,
        byte_fallback=True,
        character_coverage=0.9995,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    scores = {sp.id_to_piece(i): sp.get_score(i) for i in range(sp.get_piece_size())}
    merges = generate_merges(vocab, scores)
    return vocab, merges, sp


def llama2_legacy(vocab, merges):
    tok = Tokenizer(BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    tok.add_special_tokens(
        [AddedToken(t, normalized=False, special=True) for t in ("<unk>", "<s>", "</s>")]
    )
    # Normalized added tokens: the pattern (and the decoded form) is the normalized content ("▁<tool>"),
    # so the normalized special token "<sys>" is not skipped when decoding.
    tok.add_tokens([AddedToken("<tool>", normalized=True)])
    tok.add_special_tokens([AddedToken("<sys>", normalized=True)])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", 1)]
    )
    return tok


def llama2_metaspace(vocab, merges):
    tok = Tokenizer(BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    tok.add_special_tokens(
        [AddedToken(t, normalized=False, special=True) for t in ("<unk>", "<s>", "</s>")]
    )
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B", special_tokens=[("<s>", 1), ("</s>", 2)]
    )
    return tok


def metaspace_split(vocab, merges):
    """Older SentencePiece conversions: Metaspace split on every ▁, prepended always, Metaspace decoder,
    no byte fallback (unknown characters become a fused <unk>)."""
    tok = Tokenizer(BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Strip()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ("<unk>", "<s>", "</s>")])
    return tok


def fuzz_texts(rng, count):
    return ["".join(rng.choice(FUZZ_POOL) for _ in range(rng.randint(0, 80))) for _ in range(count)]


def big_text(rng):
    parts = []
    size = 0
    while size < 1_000_000:
        choice = rng.random()
        if choice < 0.5:
            piece = PROSE
        elif choice < 0.7:
            piece = CODE
        elif choice < 0.85:
            piece = rng.choice(SPECIAL_FREE_TEXTS)
        else:
            piece = "".join(rng.choice(FUZZ_POOL[:-6]) for _ in range(rng.randint(10, 200)))
        parts.append(piece)
        size += len(piece.encode("utf-8"))
    return "".join(parts)


def main():
    out_dir, gguf_path = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(1234)
    with tempfile.TemporaryDirectory() as work:
        corpus_path = os.path.join(work, "corpus.txt")
        write_corpus_file(corpus_path)
        smol = smollm2(gguf_path, work)
        vocab, merges, _ = sentencepiece_bpe(corpus_path, work)
        tokenizers = {
            "smollm2": smol,
            "smollm2_variant": smollm2_variant(smol),
            "llama3_style": llama3_style(corpus_path),
            "qwen2_style": qwen2_style(corpus_path),
            "llama2_legacy": llama2_legacy(vocab, merges),
            "llama2_metaspace": llama2_metaspace(vocab, merges),
            "metaspace_split": metaspace_split(vocab, merges),
        }

    texts = SPECIAL_FREE_TEXTS + SPECIAL_TEXTS + fuzz_texts(rng, 60)
    big = big_text(rng)
    with open(os.path.join(out_dir, "big.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(big)

    golden = {"tokenizers": []}
    for name, tok in tokenizers.items():
        path = os.path.join(out_dir, name + ".json")
        tok.save(path)
        tok = Tokenizer.from_file(path)  # golden data from the file exactly as written
        cases = []
        for text in texts:
            ids = tok.encode(text, add_special_tokens=False).ids
            with_special = tok.encode(text, add_special_tokens=True).ids
            cases.append(
                {
                    "text": text,
                    "ids": ids,
                    "ids_special": with_special,
                    "decoded": tok.decode(with_special, skip_special_tokens=False),
                    "decoded_skip": tok.decode(with_special, skip_special_tokens=True),
                }
            )
        # Arbitrary id sequences: partial UTF-8, byte tokens out of order, special tokens anywhere.
        size = tok.get_vocab_size(with_added_tokens=True)
        decode_cases = []
        for _ in range(40):
            ids = [rng.randrange(size) for _ in range(rng.randint(1, 25))]
            decode_cases.append(
                {
                    "ids": ids,
                    "decoded": tok.decode(ids, skip_special_tokens=False),
                    "decoded_skip": tok.decode(ids, skip_special_tokens=True),
                }
            )
        entry = {"name": name, "file": path, "cases": cases, "decode_cases": decode_cases,
                 "id_limit": max(tok.get_vocab(with_added_tokens=True).values()) + 1, "lossless": name in ("smollm2", "llama3_style")}
        if entry["lossless"]:  # byte-level without a normalizer: decode(encode(x)) == x
            bad = [c["text"] for c in cases if tok.decode(c["ids"], skip_special_tokens=False) != c["text"]]
            assert not bad, f"{name}: tokenizers itself does not round-trip {bad[:3]!r}"
        if name in ("smollm2", "llama3_style", "llama2_legacy"):
            entry["big_ids"] = tok.encode(big, add_special_tokens=False).ids
        golden["tokenizers"].append(entry)

    with open(os.path.join(out_dir, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False)
    print("wrote", len(tokenizers), "tokenizers,", len(texts), "texts")


if __name__ == "__main__":
    main()
