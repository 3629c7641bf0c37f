#!/usr/bin/env python3
"""Reference side of the stage-3 tests (correction exports): transformers + peft and llama.cpp load what
our C++ code exported and must reproduce the logits of our merged model.

Usage: stage3_reference.py COMMAND ARGS...  (each command prints one JSON line; exit 0 on success)
  make_model OUT_DIR                         a small random LlamaForCausalLM (float32, untied) saved there
  peft_logits MODEL_DIR ADAPTER_DIR OURS     PeftModel.from_pretrained on the model; OURS is a safetensors
                                             file with input_ids [1, T] and logits [1, T, V] of our merged model
  llamacpp_logits BASE_GGUF LORA_GGUF OURS [MERGED_GGUF]
                                             llama.cpp with the GGUF LoRA on the base GGUF (and the merged
                                             GGUF alone), same comparison; OURS also holds base_logits
"""

import json
import sys


def make_model(out_dir):
    import torch
    import transformers

    torch.manual_seed(4321)
    config = transformers.LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                                      rms_norm_eps=1e-5, initializer_range=0.2, bos_token_id=1, eos_token_id=2,
                                      pad_token_id=0, tie_word_embeddings=False)
    model = transformers.LlamaForCausalLM(config).to(torch.float32)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.add_(0.2 * torch.randn_like(param))
    model.save_pretrained(out_dir, safe_serialization=True)
    print(json.dumps({"ok": True, "transformers": transformers.__version__}))
    return 0


def peft_logits(model_dir, adapter_dir, ours_path):
    import peft
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    ours = load_file(ours_path)
    ids = ours["input_ids"].long()
    base = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
    with torch.no_grad():
        base_logits = base(ids).logits.double()
    model = peft.PeftModel.from_pretrained(base, adapter_dir)
    model.eval()
    config = model.peft_config["default"]
    with torch.no_grad():
        ref = model(ids).logits.double()
    mine = ours["logits"].double()
    diff = float((mine - ref).abs().max())
    scale = float(ref.abs().max())
    effect = float((ref - base_logits).abs().max())  # the adapter must change something to be tested
    lora_modules = sum(1 for name, _ in model.named_modules() if name.endswith(".lora_A"))
    result = {"peft": peft.__version__, "max_abs_diff": diff, "logit_scale": scale, "adapter_effect": effect,
              "lora_modules": lora_modules, "r": config.r, "lora_alpha": config.lora_alpha,
              "task_type": str(config.task_type)}
    print(json.dumps(result))
    return 0 if (diff < 1e-4 * max(1.0, scale) and effect > 1e-2) else 1


def llamacpp_logits(base_gguf, lora_gguf, ours_path, merged_gguf=None):
    try:
        import llama_cpp
    except ImportError:
        print(json.dumps({"skipped": "llama-cpp-python is not installed"}))
        return 3
    import numpy as np
    from safetensors.numpy import load_file

    ours = load_file(ours_path)
    ids = [int(i) for i in ours["input_ids"].reshape(-1)]
    mine = ours["logits"].reshape(len(ids), -1).astype(np.float64)
    base_only = ours["base_logits"].reshape(len(ids), -1).astype(np.float64)

    def run(lora, path=base_gguf):
        kwargs = dict(model_path=path, n_ctx=128, logits_all=True, n_threads=2, verbose=False, n_gpu_layers=0)
        if lora:
            kwargs["lora_path"] = lora_gguf
        llm = llama_cpp.Llama(**kwargs)
        llm.eval(ids)
        scores = np.asarray(llm.scores[: len(ids)], dtype=np.float64)
        del llm
        return scores

    with_lora = run(True)
    without = run(False)
    diff = float(np.abs(with_lora - mine).max())
    scale = float(np.abs(mine).max())
    effect = float(np.abs(with_lora - without).max())
    base_diff = float(np.abs(without - base_only).max())
    merged_diff = float(np.abs(run(False, merged_gguf) - mine).max()) if merged_gguf else 0.0
    result = {"llama_cpp": llama_cpp.__version__, "tokens": len(ids), "max_abs_diff": diff, "logit_scale": scale,
              "relative": diff / scale, "adapter_effect": effect, "base_max_abs_diff": base_diff, "merged_gguf_max_abs_diff": merged_diff,
              "argmax_equal": bool((with_lora.argmax(-1) == mine.argmax(-1)).all())}
    print(json.dumps(result))
    ok = diff / scale < 2e-3 and merged_diff / scale < 2e-3 and effect > 20 * diff and result["argmax_equal"]
    return 0 if ok else 1


def main():
    command, args = sys.argv[1], sys.argv[2:]
    commands = {"make_model": make_model, "peft_logits": peft_logits, "llamacpp_logits": llamacpp_logits}
    if command not in commands:
        raise SystemExit(f"unknown command {command}")
    return commands[command](*args)


if __name__ == "__main__":
    sys.exit(main())
