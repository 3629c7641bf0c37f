#!/usr/bin/env python3
"""Small random Llama-family models written with transformers, plus reference outputs.

Usage: model_make_fixtures.py OUTPUT_DIR

For each variant, OUTPUT_DIR/<name>/ holds a Hugging Face model folder (save_pretrained, safetensors,
float32) and reference.safetensors with input_ids / attention_mask / positions / logits of a batch with
a full row, a left-padded row and a right-padded row (float32 forward with attention_mask, positions as
transformers' generate() computes them). OUTPUT_DIR/<name>/greedy.json holds greedy generations
(do_sample=False) of two prompts. The C++ test compares its engine against these files.
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import save_file

VOCAB = 160
COMMON = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    intermediate_size=160,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=128,
    rms_norm_eps=1e-5,
    initializer_range=0.15,
    bos_token_id=1,
    eos_token_id=2,
    pad_token_id=0,
)

VARIANTS = {
    "llama_untied": (transformers.LlamaConfig, dict(tie_word_embeddings=False, rope_theta=10000.0)),
    # llama3 rope scaling with a short original context so every frequency band is exercised; head_dim
    # larger than hidden / heads checks that it is read from the config.
    "llama3_tied": (
        transformers.LlamaConfig,
        dict(
            tie_word_embeddings=True,
            head_dim=32,
            rope_scaling=dict(rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0,
                              high_freq_factor=4.0, original_max_position_embeddings=16),
        ),
    ),
    "llama_linear_rope": (
        transformers.LlamaConfig,
        dict(tie_word_embeddings=False, rope_scaling=dict(rope_type="linear", rope_theta=10000.0, factor=4.0)),
    ),
    # A window shorter than the reference batch so the sliding-window mask matters.
    "mistral_window": (transformers.MistralConfig, dict(tie_word_embeddings=False, sliding_window=5, head_dim=16)),
    "qwen2_bias": (transformers.Qwen2Config, dict(tie_word_embeddings=True, use_sliding_window=False)),
    "qwen3_qknorm": (transformers.Qwen3Config, dict(tie_word_embeddings=False, head_dim=16, attention_bias=False)),
}

SEQUENCE = 12
PROMPTS = [[1, 17, 42, 99, 5, 63, 120], [1, 150, 3, 77, 77, 8, 31, 64, 12, 9]]
NEW_TOKENS = 12


def build(name, config_class, extra, out_dir):
    torch.manual_seed(1234 + sum(map(ord, name)))
    config = config_class(**COMMON, **extra)
    model = transformers.AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    model.eval()
    # Norm weights start at one and biases at zero: randomise them so a mistake in using them shows.
    with torch.no_grad():
        for pname, param in model.named_parameters():
            if "norm" in pname or pname.endswith(".bias"):
                param.add_(0.2 * torch.randn_like(param))
    folder = os.path.join(out_dir, name)
    model.save_pretrained(folder, safe_serialization=True)

    generator = torch.Generator().manual_seed(7)
    ids = torch.randint(3, VOCAB, (3, SEQUENCE), generator=generator)
    mask = torch.ones(3, SEQUENCE, dtype=torch.int64)
    mask[1, :4] = 0  # left padding
    mask[2, -3:] = 0  # right padding
    ids = ids.masked_fill(mask == 0, 0)
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        # The unpadded left-padded row, alone: equal logits prove the padding is invisible.
        alone = model(input_ids=ids[1:2, 4:]).logits
    assert torch.allclose(alone[0], logits[1, 4:], atol=1e-4), name + ": padding changes the logits"
    save_file(
        {
            "input_ids": ids.contiguous(),
            "attention_mask": mask.contiguous(),
            "positions": positions.contiguous(),
            "logits": logits.float().contiguous(),
        },
        os.path.join(folder, "reference.safetensors"),
    )

    generations = []
    for prompt in PROMPTS:
        prompt_ids = torch.tensor([prompt])
        with torch.no_grad():
            out = model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=False,
                                 max_new_tokens=NEW_TOKENS, eos_token_id=COMMON["eos_token_id"], pad_token_id=0)
            # The smallest top-1 / top-2 gap along the way: ties would make the comparison meaningless.
            steps = model(out[:, :-1]).logits[0, len(prompt) - 1:]
            top2 = steps.topk(2, dim=-1).values
            margin = float((top2[:, 0] - top2[:, 1]).min())
        generations.append({"prompt": prompt, "new_tokens": out[0, len(prompt):].tolist(), "min_margin": margin})
    with open(os.path.join(folder, "greedy.json"), "w") as handle:
        json.dump({"eos_token_id": COMMON["eos_token_id"], "max_new_tokens": NEW_TOKENS,
                   "generations": generations}, handle, indent=1)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name, (config_class, extra) in VARIANTS.items():
        build(name, config_class, extra, out_dir)
    print(json.dumps(sorted(VARIANTS)))


if __name__ == "__main__":
    main()
