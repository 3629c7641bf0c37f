"""peft as the reference for an adapter EMLoC Studio wrote for an original-layout InternLM2 InternVL model,
whose attention is one fused wqkv (test_internvl_stages).

Usage: internlm2_fused_peft.py HF_MODEL ORIGINAL_MODEL HF_ADAPTER FUSED_ADAPTER

HF_MODEL and ORIGINAL_MODEL are internvl_make_fixtures.py's internlm2 pair (the same weights in both
layouts); HF_ADAPTER is an adapter for HF_MODEL (q, k and v apart) and FUSED_ADAPTER the same adapter
written for ORIGINAL_MODEL. InternLM2's modelling code is remote code, which is not here, so the original
model is stood in for by a module tree with its tensor names (every matrix an nn.Linear): peft injects
FUSED_ADAPTER into it under its own rules (target_modules, rank_pattern, alpha_pattern) and merges it.
The reference is transformers' HF_MODEL with HF_ADAPTER merged by peft, carried into the original layout
by the fixture script's own conversion (original_tensors). Prints JSON: the modules peft adapted and the
largest difference between the two merged checkpoints.
"""
import glob
import json
import os
import sys

import torch
from peft import LoraConfig, PeftModel, inject_adapter_in_model, set_peft_model_state_dict
from safetensors.torch import load_file
from transformers import InternVLForConditionalGeneration

sys.path.insert(0, os.path.dirname(__file__))
from internvl_make_fixtures import original_tensors  # noqa: E402


def module_tree(tensors):
    """An nn.Module whose submodules carry the checkpoint's names; each matrix an nn.Linear."""
    root = torch.nn.Module()
    for name, value in tensors.items():
        if not name.endswith(".weight") or value.dim() != 2:
            continue
        parent = root
        path = name[: -len(".weight")].split(".")
        for part in path[:-1]:
            if not hasattr(parent, part):
                parent.add_module(part, torch.nn.Module())
            parent = getattr(parent, part)
        linear = torch.nn.Linear(value.shape[1], value.shape[0], bias=False)
        linear.weight.data.copy_(value.float())
        parent.add_module(path[-1], linear)
    return root


def main():
    hf_model, original_model, hf_adapter, fused_adapter = sys.argv[1:5]
    model = InternVLForConditionalGeneration.from_pretrained(hf_model, dtype=torch.float32).eval()
    merged_hf = PeftModel.from_pretrained(model, hf_adapter).merge_and_unload()
    expected = original_tensors({k: v.detach() for k, v in merged_hf.state_dict().items()}, merged_hf.config,
                                "internlm2")

    checkpoint = {}
    for file in glob.glob(os.path.join(original_model, "*.safetensors")):
        if os.path.basename(file) != "reference.safetensors":
            checkpoint.update(load_file(file))
    tree = module_tree(checkpoint)
    with open(os.path.join(fused_adapter, "adapter_config.json")) as f:
        settings = json.load(f)
    config = LoraConfig(**{k: v for k, v in settings.items()
                           if k in ("r", "lora_alpha", "target_modules", "rank_pattern", "alpha_pattern",
                                    "use_rslora", "lora_dropout", "bias")})
    tree = inject_adapter_in_model(config, tree)
    state = load_file(os.path.join(fused_adapter, "adapter_model.safetensors"))
    state = {k.replace("base_model.model.", "", 1): v for k, v in state.items()}
    result = set_peft_model_state_dict(tree, state)
    if getattr(result, "unexpected_keys", None):
        raise SystemExit(f"peft did not place {result.unexpected_keys[:4]}")
    adapted = []
    for name, module in tree.named_modules():
        if hasattr(module, "lora_A") and "default" in module.lora_A:
            module.merge()
            adapted.append(name)
    difference, moved = 0.0, 0.0
    for name, value in checkpoint.items():
        if not name.endswith(".weight") or value.dim() != 2:
            continue
        merged = tree.get_submodule(name[: -len(".weight")]).weight  # a LoRA layer's is its base layer's
        difference = max(difference, float((merged.detach() - expected[name].float()).abs().max()))
        moved = max(moved, float((expected[name].float() - value.float()).abs().max()))
    print(json.dumps({"lora_modules": sorted(adapted), "max_difference": difference, "moved": moved}))


if __name__ == "__main__":
    main()
