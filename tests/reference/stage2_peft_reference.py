#!/usr/bin/env python3
"""Reference for stage 2: our PEFT adapters on transformers + peft.

Usage:
  stage2_peft_reference.py make OUT_DIR
      Writes a small random LlamaForCausalLM (float32, untied head, randomised norms) to OUT_DIR with
      save_pretrained.
  stage2_peft_reference.py check BASE_DIR ADAPTER_DIR CASE.safetensors
      Loads BASE_DIR with transformers and ADAPTER_DIR with peft.PeftModel.from_pretrained, runs input_ids
      (and attention_mask) from CASE.safetensors and prints JSON: the max abs difference of the logits to
      CASE's `logits` (ours, with LoRA), and to the plain base model (the adapter must matter).
"""
import json
import sys

import torch


def make(out_dir):
    import transformers

    torch.manual_seed(2024)
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=64, intermediate_size=144, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-5, initializer_range=0.15,
        bos_token_id=1, eos_token_id=2, pad_token_id=0, tie_word_embeddings=False, rope_theta=10000.0)
    model = transformers.LlamaForCausalLM(config).to(torch.float32).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.add_(0.2 * torch.randn_like(param))
    model.save_pretrained(out_dir, safe_serialization=True)


def check(base_dir, adapter_dir, case_path):
    import peft
    import transformers
    from safetensors.torch import load_file

    case = load_file(case_path)
    model = transformers.AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
    ids = case["input_ids"]
    mask = case.get("attention_mask")
    with torch.no_grad():
        base_logits = model(input_ids=ids, attention_mask=mask).logits
    peft_model = peft.PeftModel.from_pretrained(model, adapter_dir).eval()
    with torch.no_grad():
        logits = peft_model(input_ids=ids, attention_mask=mask).logits
    ours = case["logits"]
    valid = mask.bool() if mask is not None else torch.ones(ids.shape, dtype=torch.bool)
    lora_modules = sum(1 for name, _ in peft_model.named_modules() if name.endswith("lora_A"))
    print(json.dumps({
        "max_abs_diff": (logits - ours)[valid].abs().max().item(),
        "max_abs_logit": ours[valid].abs().max().item(),
        "adapter_effect": (logits - base_logits)[valid].abs().max().item(),
        "lora_modules": lora_modules,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + sys.argv[1])
