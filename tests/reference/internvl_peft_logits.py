"""peft's logits for an InternVL model with an adapter EMLoC Studio wrote (test_internvl_stages).

Usage: internvl_peft_logits.py MODEL_DIR ADAPTER_DIR OUT.safetensors [MERGED_DIR]

MODEL_DIR is a -hf fixture of internvl_make_fixtures.py (transformers' InternVLForConditionalGeneration);
its reference.safetensors holds the prompt with two images. The adapter is loaded by peft as a user
would load it; the logits of the prompt are saved under "logits". Prints a JSON summary: the modules peft
put LoRA on, which must be the language model's projections only. With MERGED_DIR (a merged model EMLoC
Studio exported), transformers loads it too and its logits of the same prompt are saved as "merged_logits".
"""
import json
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file, save_file
from transformers import InternVLForConditionalGeneration


def main():
    model_dir, adapter_dir, out = sys.argv[1:4]
    model = InternVLForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32).eval()
    model = PeftModel.from_pretrained(model, adapter_dir).eval()
    reference = load_file(model_dir + "/reference.safetensors")
    with torch.no_grad():
        logits = model(input_ids=reference["input_ids"], pixel_values=reference["pixel_values"]).logits
    saved = {"logits": logits.float().contiguous()}
    if len(sys.argv) > 4:
        merged = InternVLForConditionalGeneration.from_pretrained(sys.argv[4], dtype=torch.float32).eval()
        with torch.no_grad():
            saved["merged_logits"] = merged(input_ids=reference["input_ids"],
                                            pixel_values=reference["pixel_values"]).logits.float().contiguous()
    save_file(saved, out)
    adapted = sorted(name for name, module in model.named_modules() if hasattr(module, "lora_A")
                     and "default" in getattr(module, "lora_A", {}))
    print(json.dumps({"lora_modules": adapted}))


if __name__ == "__main__":
    main()
