#!/usr/bin/env python3
"""A random-weight InternVL model (transformers' `-hf` layout, Qwen2 language model) large enough that a
run's memory is the model's and not the process's: its language model holds 25 M parameters (about
100 MB in float32), the vision tower and projector are the suites' small ones. For the whole-run test of
`emloc run` (tests/vision/test_internvl_run.cpp), whose stages are held to the memory of inference.

Beside the model, reference.safetensors holds a prompt with one image tile (input_ids, pixel_values) and
transformers' logits for it, the inputs internvl_peft_logits.py runs.

usage: internvl_make_run_model.py OUT_DIR
"""
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import InternVLConfig, InternVLForConditionalGeneration

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from internvl_make_fixtures import (IMAGE_TOKEN, TILE, make_tokenizer, preprocessor, randomise,  # noqa: E402
                                    text_config, vision_config, write_json, write_tokenizer)


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    text = dict(text_config("qwen2", True), hidden_size=768, intermediate_size=2048, num_hidden_layers=24,
                num_attention_heads=12, num_key_value_heads=4)
    config = InternVLConfig(vision_config=vision_config(False, "layer_norm", TILE), text_config=text,
                            image_token_id=IMAGE_TOKEN, downsample_ratio=0.5, projector_hidden_act="gelu",
                            vision_feature_layer=-1, vision_feature_select_strategy="default",
                            tie_word_embeddings=True)
    model = InternVLForConditionalGeneration(config).eval()
    randomise(model, torch.Generator().manual_seed(7))
    model.tie_weights()
    model.save_pretrained(out, safe_serialization=True)
    write_json(os.path.join(out, "preprocessor_config.json"), preprocessor(True))
    write_tokenizer(make_tokenizer(), out)
    per_tile = 4  # (56 / 14)^2 patches, 0.5 pixel-unshuffle
    ids = torch.tensor([[1, 17, 33, IMAGE_TOKEN - 1] + [IMAGE_TOKEN] * per_tile + [IMAGE_TOKEN + 1, 40, 41]])
    pixels = torch.randn(1, 3, TILE, TILE, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        logits = model(input_ids=ids, pixel_values=pixels).logits.float()
    save_file({"input_ids": ids, "pixel_values": pixels, "logits": logits.contiguous()},
              os.path.join(out, "reference.safetensors"))


if __name__ == "__main__":
    main()
