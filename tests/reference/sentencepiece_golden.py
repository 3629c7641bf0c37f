#!/usr/bin/env python3
"""Golden ids for checkpoints that ship a SentencePiece tokenizer.model and no tokenizer.json (InternLM2's,
Llama 2's originals), as their own slow tokenizers (InternLM2Tokenizer, LlamaTokenizer with legacy
behaviour) encode: the added tokens split out first, each piece of text between them encoded by the
SentencePiece library itself, BOS first.

Usage: sentencepiece_golden.py OUT_DIR

Trains BPE models with byte fallback on tokenizer_golden.py's corpus and writes OUT_DIR/<variant>/
(tokenizer.model, tokenizer_config.json) for two variants, plus OUT_DIR/golden.json:
  - "dummy_prefix": SentencePiece's default space before each piece of text; the chat tokens are
    user-defined symbols of the model and listed in added_tokens_decoder (as InternLM2 ships them);
  - "no_dummy_prefix": no space added; the chat tokens only in added_tokens_decoder, after the model's
    pieces.
And OUT_DIR/unigram/tokenizer.model, a Unigram model the conversion must refuse.
"""
import json
import os
import random
import re
import sys
import tempfile

import sentencepiece as spm

from tokenizer_golden import SPECIAL_FREE_TEXTS, SPECIAL_TEXTS, fuzz_texts, write_corpus_file

CHAT = ["<|im_start|>", "<|im_end|>"]


def train(corpus, prefix, model_type, add_dummy_prefix, user_defined):
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, model_type=model_type, vocab_size=900, byte_fallback=True,
        character_coverage=0.9995, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2,
        normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=add_dummy_prefix, user_defined_symbols=user_defined, allow_whitespace_only_pieces=True,
        split_digits=True)
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


def reference_ids(sp, specials, text):
    """[BOS] + each added token's id or SentencePiece's pieces of the text between them."""
    pattern = "(" + "|".join(re.escape(s) for s in sorted(specials, key=len, reverse=True)) + ")"
    ids = [sp.bos_id()]
    for part in re.split(pattern, text):
        if part in specials:
            ids.append(specials[part])
        elif part:
            ids += sp.encode(part)
    return ids


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(99)
    texts = SPECIAL_FREE_TEXTS + SPECIAL_TEXTS + fuzz_texts(rng, 60)
    golden = {"variants": []}
    with tempfile.TemporaryDirectory() as work:
        corpus = os.path.join(work, "corpus.txt")
        write_corpus_file(corpus)
        for name, dummy_prefix, in_model in (("dummy_prefix", True, True), ("no_dummy_prefix", False, False)):
            folder = os.path.join(out, name)
            os.makedirs(folder, exist_ok=True)
            sp = train(corpus, os.path.join(folder, "tokenizer"), "bpe", dummy_prefix, CHAT if in_model else [])
            size = sp.get_piece_size()
            chat_ids = {t: sp.piece_to_id(t) if in_model else size + i for i, t in enumerate(CHAT)}
            decoder = {str(i): {"content": sp.id_to_piece(i), "special": True, "lstrip": False, "rstrip": False,
                                "normalized": False, "single_word": False} for i in (0, 1, 2)}
            for token, i in chat_ids.items():
                decoder[str(i)] = {"content": token, "special": True, "lstrip": False, "rstrip": False,
                                   "normalized": False, "single_word": False}
            with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
                json.dump({"tokenizer_class": "InternLM2Tokenizer", "add_bos_token": True, "add_eos_token": False,
                           "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                           "added_tokens_decoder": decoder}, f, indent=1)
            specials = dict(chat_ids, **{sp.id_to_piece(i): i for i in (0, 1, 2)})
            cases = []
            for text in texts:
                ids = reference_ids(sp, specials, text)
                plain = [i for i in ids if i not in specials.values()]
                cases.append({"text": text, "ids": ids, "decoded_skip": sp.decode(plain)})
            golden["variants"].append({"name": name, "folder": folder, "pieces": size, "cases": cases})
        unigram = os.path.join(out, "unigram")
        os.makedirs(unigram, exist_ok=True)
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(unigram, "tokenizer"),
                                       model_type="unigram", vocab_size=300, minloglevel=2)
    os.remove(os.path.join(out, "unigram", "tokenizer.vocab"))
    for variant in golden["variants"]:
        os.remove(os.path.join(variant["folder"], "tokenizer.vocab"))
    with open(os.path.join(out, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False)
    print(json.dumps({"variants": [v["name"] for v in golden["variants"]], "texts": len(texts)}))


if __name__ == "__main__":
    main()
