"""Reference token ids and assistant masks for a conversation dataset, from transformers alone.

Usage: dataset_masking_reference.py MODEL.gguf DATA.jsonl OUT_DIR

Writes OUT_DIR/tokenizer.json (the GGUF's tokenizer as transformers rebuilds it) and OUT_DIR/expected.json:
{"chat_template", "bos_token", "eos_token", "records": [{"text", "input_ids", "labels"}]}.
A token is trained when its characters overlap an assistant turn: the text between the conversation rendered
up to that turn with the generation prompt and the conversation rendered through that turn (apply_chat_template),
located with the tokenizer's offset mapping - an independent route to the same mask.
"""
import json
import os
import sys

from transformers import AutoTokenizer

IGNORE = -100


def main(gguf_path, data_path, out_dir):
    tokenizer = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
    tokenizer.save_pretrained(out_dir)
    template = tokenizer.chat_template
    records = []
    with open(data_path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            messages = json.loads(line)["messages"]
            text = tokenizer.apply_chat_template(messages, tokenize=False)
            encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            ids = encoding["input_ids"]
            spans = []
            for k, message in enumerate(messages):
                if message["role"] != "assistant":
                    continue
                prefix = tokenizer.apply_chat_template(messages[:k], tokenize=False, add_generation_prompt=True)
                through = tokenizer.apply_chat_template(messages[: k + 1], tokenize=False)
                assert text.startswith(prefix) and text.startswith(through)
                spans.append((len(prefix), len(through)))
            labels = []
            for token, (start, end) in zip(ids, encoding["offset_mapping"]):
                trained = any(end > a and start < b for a, b in spans)
                labels.append(token if trained else IGNORE)
            records.append({"text": text, "input_ids": ids, "labels": labels})
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"chat_template": template, "bos_token": tokenizer.bos_token, "eos_token": tokenizer.eos_token,
                   "records": records}, f, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
