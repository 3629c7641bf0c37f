#!/usr/bin/env python3
"""A random Llama model of realistic proportions for the stage-1 memory tests, with its own tokenizer.

Usage: stage1_make_model.py OUTPUT_DIR DATA_JSONL [LAYERS HIDDEN INTERMEDIATE]  (default 12 512 1376)

OUTPUT_DIR gets a Hugging Face folder: config.json + model.safetensors (float32, untied head, vocabulary
8192) written by transformers' save_pretrained, a byte-level BPE tokenizer.json trained by `tokenizers`
on the texts of DATA_JSONL (Alpaca records), and a tokenizer_config.json with no chat template.
"""
import json
import os
import sys

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

out, data = sys.argv[1], sys.argv[2]
layers, hidden, intermediate = (int(v) for v in (sys.argv[3:6] if len(sys.argv) >= 6 else (12, 512, 1376)))
os.makedirs(out, exist_ok=True)

texts = []
with open(data, encoding="utf-8") as f:
    for line in f:
        record = json.loads(line)
        texts.append(" ".join(record.get(k, "") for k in ("instruction", "input", "output")))
tokenizer = Tokenizer(models.BPE())
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=2000, special_tokens=["<|endoftext|>", "<s>", "</s>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
tokenizer.train_from_iterator(texts, trainer)
tokenizer.save(os.path.join(out, "tokenizer.json"))
with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
    json.dump({"bos_token": "<s>", "eos_token": "</s>", "model_max_length": 2048}, f)

torch.manual_seed(0)
config = transformers.LlamaConfig(
    vocab_size=8192, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
    num_attention_heads=hidden // 64, num_key_value_heads=2, max_position_embeddings=1024, tie_word_embeddings=False,
    bos_token_id=1, eos_token_id=2, initializer_range=0.05)
model = transformers.LlamaForCausalLM(config).to(torch.float32)
model.save_pretrained(out, safe_serialization=True)
print(json.dumps({"parameters": sum(p.numel() for p in model.parameters()),
                  "tokenizer_vocab": tokenizer.get_vocab_size()}))
