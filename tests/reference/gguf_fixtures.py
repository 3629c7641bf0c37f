"""Reference side of the GGUF tests: fixtures written with the `gguf` package (llama.cpp's own Python
writer), golden tokenizers from transformers, and checks of files our C++ code wrote.

Usage: gguf_fixtures.py COMMAND ARGS...  (each command prints one JSON line on success)
"""

import json
import sys

import numpy as np


def write_quants(out_dir):
    """quants.gguf holds one tensor per block type; quants_ref.gguf the float32 values gguf.quants
    dequantises them to. Types the package can quantise are quantised from random normal data; the
    K-quants (which it cannot produce) are random block bytes with sane fp16 scale fields."""
    import gguf
    from gguf.quants import dequantize, quantize

    rng = np.random.default_rng(1234)
    T = gguf.GGMLQuantizationType
    rows, cols = 6, 512
    data = gguf.GGUFWriter(f"{out_dir}/quants.gguf", "llama")
    ref = gguf.GGUFWriter(f"{out_dir}/quants_ref.gguf", "llama")
    made = []
    for qtype in [T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1]:
        values = (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)
        values[0, :40] = 0.0  # an all-zero block: scale 0
        raw = quantize(values, qtype) if qtype != T.F32 else values
        made.append((qtype, raw, "quantized"))
    k_layouts = {  # byte offsets of the fp16 fields in each K-quant block
        T.Q2_K: [80, 82],
        T.Q3_K: [108],
        T.Q4_K: [0, 2],
        T.Q5_K: [0, 2],
        T.Q6_K: [208],
    }
    for qtype, half_offsets in k_layouts.items():
        block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
        blocks = rng.integers(0, 256, size=(rows * cols // block_size, type_size), dtype=np.uint8)
        for offset in half_offsets:
            scale = (rng.uniform(1e-4, 1e-2, size=blocks.shape[0])).astype(np.float16)
            blocks[:, offset : offset + 2] = scale.view(np.uint8).reshape(-1, 2)
        raw = blocks.reshape(rows, cols // block_size * type_size)
        made.append((qtype, raw, "random bytes"))
    for qtype, raw, how in made:
        name = f"t.{qtype.name}"
        if qtype == T.F32:
            data.add_tensor(name, raw)
        else:
            data.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qtype)
        ref.add_tensor(name, dequantize(raw, qtype).astype(np.float32).reshape(rows, cols))
    for writer in (data, ref):
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    print(json.dumps({"types": [q.name for q, _, _ in made], "how": {q.name: h for q, _, h in made}}))


def copy_tokenizer_fields(reader, writer, skip=()):
    import gguf

    for key, field in reader.fields.items():
        if not key.startswith("tokenizer.") or key in skip:
            continue
        kind = field.types[0]
        if kind == gguf.GGUFValueType.ARRAY:
            writer.add_array(key, field.contents())
        elif kind == gguf.GGUFValueType.STRING:
            writer.add_string(key, field.contents())
        elif kind == gguf.GGUFValueType.BOOL:
            writer.add_bool(key, field.contents())
        else:
            writer.add_uint32(key, field.contents())


def train_spm_vocab():
    """A tiny SentencePiece-style BPE vocabulary: control tokens, 256 byte tokens, characters and
    greedy merges scored by merge order (as sentencepiece scores pieces)."""
    corpus = ("the quick brown fox jumps over the lazy dog. hello world, hello there! "
              "tokenizers split the text into pieces; the pieces become ids. ") * 3
    words = ["\u2581" + w for w in corpus.split(" ") if w]
    seqs = [list(w) for w in words]
    pieces = sorted({c for w in words for c in w})
    merged = []
    for _ in range(60):
        counts = {}
        for s in seqs:
            for a, b in zip(s, s[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        (a, b), _ = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        merged.append(a + b)
        for s in seqs:
            i = 0
            while i < len(s) - 1:
                if s[i] == a and s[i + 1] == b:
                    s[i : i + 2] = [a + b]
                i += 1
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    types = [2, 3, 3] + [6] * 256
    scores = [0.0, 0.0, 0.0] + [0.0] * 256
    for i, piece in enumerate(merged):
        tokens.append(piece)
        types.append(1)
        scores.append(-float(i))
    for i, piece in enumerate(pieces):
        tokens.append(piece)
        types.append(1)
        scores.append(-1000.0 - i)
    tokens.append("<|user|>")
    types.append(4)
    scores.append(0.0)
    return tokens, scores, types


def write_tokenizer_fixtures(out_dir, smollm):
    """Metadata-only GGUFs: SmolLM2's byte-level vocabulary under other pre-tokenizer names, and a
    small SentencePiece vocabulary."""
    import gguf

    reader = gguf.GGUFReader(smollm)
    written = []
    for pre in ["llama-bpe", "qwen2", "gpt2"]:
        path = f"{out_dir}/tok_{pre}.gguf"
        writer = gguf.GGUFWriter(path, "llama")
        copy_tokenizer_fields(reader, writer, skip=("tokenizer.ggml.pre", "tokenizer.ggml.add_bos_token"))
        writer.add_string("tokenizer.ggml.pre", pre)
        writer.add_bool("tokenizer.ggml.add_bos_token", pre == "llama-bpe")
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        written.append(path)
    tokens, scores, types = train_spm_vocab()
    path = f"{out_dir}/tok_spm.gguf"
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_space_prefix(True)
    writer.add_chat_template("{% for m in messages %}<|user|>{{ m['content'] }}</s>{% endfor %}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    written.append(path)
    print(json.dumps({"written": written}))


def gold_tokenizer(*pairs):
    """What transformers makes of each file's tokenizer (tokenizer.json + tokenizer_config.json),
    for pairs GGUF OUT_DIR."""
    import os

    from transformers import AutoTokenizer

    for gguf_path, out_dir in zip(pairs[0::2], pairs[1::2]):
        tok = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
        tok.save_pretrained(out_dir)
    print(json.dumps({"written": list(pairs[1::2])}))


SAMPLE_TEXTS = [
    "Hello world! How are you today?",
    "  leading spaces and trailing  ",
    "Numbers: 12345 and 3.14159, years 1999-2024.",
    "The quick brown fox jumps over the lazy dog.",
    "Unicode: caf\u00e9, na\u00efve, \u00fcber, \u65e5\u672c\u8a9e, emoji \U0001F600.",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "Don't stop; it's what we'll do. I'm sure they've left.",
    "tabs\tand\nnewlines\n\n  indented code:\n    return x",
    "hello there, the pieces become ids <|user|> ok",
    "",
]


def compare_ids(ours, gold):
    """Encodes sample texts with both tokenizer.json files (Hugging Face `tokenizers`)."""
    from tokenizers import Tokenizer

    a = Tokenizer.from_file(ours)
    b = Tokenizer.from_file(gold)
    mismatches = []
    for text in SAMPLE_TEXTS:
        ia = a.encode(text).ids
        ib = b.encode(text).ids
        if ia != ib:
            mismatches.append({"text": text, "ours": ia, "gold": ib})
        elif a.decode(ia, skip_special_tokens=False) != b.decode(ib, skip_special_tokens=False):
            mismatches.append({"text": text, "decode_ours": a.decode(ia), "decode_gold": b.decode(ib)})
    print(json.dumps({"texts": len(SAMPLE_TEXTS), "mismatches": mismatches}))
    return 1 if mismatches else 0


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "quants":
        write_quants(*args)
    elif command == "tokenizers":
        write_tokenizer_fixtures(*args)
    elif command == "gold":
        gold_tokenizer(*args)
    elif command == "compare_ids":
        return compare_ids(*args)
    else:
        raise SystemExit(f"unknown command {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
