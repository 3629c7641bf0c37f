#!/usr/bin/env python3
"""The GPU check (bench/gpu/check.sh runs it after building the CLI): correctness and cost of the CUDA path.

For each model (randomly initialised by transformers from a real configuration, bf16 on disk):
  logits       ours against transformers' on the same tokens (fp32 and bf16): max relative error
  peft         our exported PEFT adapter loaded by PEFT onto transformers' model, against our merged model
  memory/time  peak of inference, EMLoC stages 1, 2, 3 and LoRA on the full model (same batch, sequence)
  step time    fine-tuning on the emulator against LoRA on the full model
  svd          one layer's stage-1 factorization with cuSOLVER against LibTorch's linear algebra
For each InternVL shape (the -hf layout, random weights, a drawn image tiled at 448 pixels):
  generate     `emloc generate --image` against transformers' greedy tokens on the same prompt (fp32 and
               16-bit), with the peak memory and prefill rate of our inference
  memory/time  peak of inference and of EMLoC stages 1, 2, 3 and LoRA on the full model on image records
               (the picture and a question), the vision tower included

Every step is timed and its failure recorded without stopping the others; results.json and results.md
are rewritten after each step, so a run cut short still leaves what it measured.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN = os.path.join(ROOT, "resources", "demo", "bookings-train.jsonl")
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

# Real configurations. The Llama-3-8B shape keeps its layer shapes and vocabulary with fewer layers, so
# per-layer numbers are real while the run fits the script's time limit.
MODELS = {
    "qwen2.5-1.5b": dict(architecture="qwen2", hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                         num_attention_heads=12, num_key_value_heads=2, vocab_size=151936, rope_theta=1e6,
                         rms_norm_eps=1e-6, max_position_embeddings=32768, tie_word_embeddings=True),
    "llama-3-8b-shape-4-layers": dict(architecture="llama", hidden_size=4096, intermediate_size=14336,
                                      num_hidden_layers=4, num_attention_heads=32, num_key_value_heads=8,
                                      vocab_size=128256, rope_theta=500000.0, rms_norm_eps=1e-5,
                                      max_position_embeddings=131072, tie_word_embeddings=False,
                                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                    "high_freq_factor": 4.0,
                                                    "original_max_position_embeddings": 8192}),
}
# InternVL 2.5's 2B and 8B shapes: InternViT-300M and the InternLM2.5 decoder (a Llama one; the -hf layout
# stores it so). The 8B shape keeps its layer shapes and vocabulary with fewer layers, as above.
INTERNVIT_300M = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                      image_size=[448, 448], patch_size=[14, 14], attention_bias=True, use_qk_norm=False,
                      norm_type="layer_norm", layer_norm_eps=1e-6, hidden_act="gelu", use_mean_pooling=True)
VISION_MODELS = {
    "internvl2.5-2b": dict(vision=INTERNVIT_300M, tile=448,
                           text=dict(model_type="llama", hidden_size=2048, intermediate_size=8192,
                                     num_hidden_layers=24, num_attention_heads=16, num_key_value_heads=8,
                                     vocab_size=92553, rope_theta=1e6, rms_norm_eps=1e-5,
                                     max_position_embeddings=32768, tie_word_embeddings=False)),
    "internvl2.5-8b-shape-4-layers": dict(vision=INTERNVIT_300M, tile=448,
                                          text=dict(model_type="llama", hidden_size=4096, intermediate_size=14336,
                                                    num_hidden_layers=4, num_attention_heads=32,
                                                    num_key_value_heads=8, vocab_size=92553, rope_theta=1e6,
                                                    rms_norm_eps=1e-5, max_position_embeddings=32768,
                                                    tie_word_embeddings=False)),
}
# The same architectures in miniature, for a dry run of this script on a CPU.
SMALL = {
    "qwen2-small": dict(MODELS["qwen2.5-1.5b"], hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, vocab_size=2048),
    "llama3-small": dict(MODELS["llama-3-8b-shape-4-layers"], hidden_size=64, intermediate_size=192,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, vocab_size=2048),
}
SMALL_VISION = {
    "internvl-small": dict(vision=dict(INTERNVIT_300M, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                       intermediate_size=128, image_size=[56, 56]), tile=56,
                           text=dict(VISION_MODELS["internvl2.5-2b"]["text"], hidden_size=64, intermediate_size=128,
                                     num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                     vocab_size=2048)),
}
VISION_SPECIAL = ["<img>", "<IMG_CONTEXT>", "</img>"]


class Check:
    def __init__(self, cli, device, out, batch, length, steps):
        self.cli, self.device, self.out = cli, device, out
        self.batch, self.length, self.steps = batch, length, steps
        self.results = {"device": device, "batch": batch, "sequence": length, "steps": steps, "models": {},
                        "started": time.strftime("%Y-%m-%d %H:%M:%S")}

    def emloc(self, *args):
        command = [self.cli, "--device", self.device, "-q", "--json"] + [str(a) for a in args]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(command[4:7]), done.returncode, done.stderr.strip()[-800:]))
        return json.loads(done.stdout)

    def step(self, model, name, body):
        """Runs one measurement; its result or its error goes into the results, and they are saved."""
        started = time.time()
        entry = self.results["models"].setdefault(model, {})
        try:
            entry[name] = body()
        except Exception as error:  # one failure must not cost the rest of a scarce GPU run
            entry[name] = {"error": str(error)}
            traceback.print_exc()
        entry[name]["wall_seconds"] = round(time.time() - started, 2)
        print("check: %-28s %-12s %6.1f s  %s" % (model, name, entry[name]["wall_seconds"],
                                                  "FAILED" if "error" in entry[name] else "ok"), flush=True)
        self.save()

    def save(self):
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(self.results, f, indent=2)
        with open(os.path.join(self.out, "results.md"), "w") as f:
            f.write(markdown(self.results))


def make_tokenizer(folder, vocab, extra_special=()):
    """A byte-level BPE tokenizer trained on the demo data, with ChatML special tokens (and `extra_special`),
    under the model's vocab."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=min(vocab, 2000),
                                  special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + list(extra_special),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    texts = []
    with open(TRAIN) as f:
        for line in f:
            record = json.loads(line)
            texts.append(" ".join(str(v) for v in record.values()))
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"chat_template": CHATML, "eos_token": "<|im_end|>", "bos_token": None,
                   "pad_token": "<|endoftext|>", "tokenizer_class": "PreTrainedTokenizerFast"}, f)


def make_long_text(path, records_per_line=24):
    """Plain text, one long document per line, so every sample fills --max-length tokens: inference,
    construction and both fine-tunings then see the same batch x sequence."""
    with open(TRAIN) as f:
        texts = [" ".join(str(v) for v in json.loads(line).values()) for line in f]
    with open(path, "w") as f:
        for start in range(0, len(texts) - records_per_line + 1, records_per_line):
            f.write(" ".join(texts[start:start + records_per_line]) + "\n")
    return path


def make_model(folder, spec, torch_device):
    """Random weights (seeded) of a real configuration, saved in bf16 as transformers writes them."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM
    if os.path.exists(os.path.join(folder, "config.json")):
        return
    spec = dict(spec)
    architecture = spec.pop("architecture")
    config_class, model_class = (Qwen2Config, Qwen2ForCausalLM) if architecture == "qwen2" else (LlamaConfig,
                                                                                                  LlamaForCausalLM)
    config = config_class(torch_dtype="bfloat16", **spec)
    torch.manual_seed(0)
    with torch.device(torch_device):
        model = model_class(config).to(torch.bfloat16)
    # transformers' default init (std 0.02) makes every layer nearly the identity; a wider spread gives
    # logits with real structure to compare.
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() == 2:
                parameter.normal_(0.0, 1.0 / parameter.shape[1] ** 0.5)
    model.save_pretrained(folder)
    del model
    make_tokenizer(folder, spec["vocab_size"])
    if torch_device.startswith("cuda"):
        torch.cuda.empty_cache()


def transformers_logits(folder, ids, dtype, torch_device, adapter=None):
    import torch
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=dtype).to(torch_device).eval()
    if adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, adapter).eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids], device=torch_device)).logits.float().cpu()
    del model
    if torch_device.startswith("cuda"):
        torch.cuda.empty_cache()
    return logits


def relative_error(ours, reference):
    return float((ours - reference).abs().max() / reference.abs().max())


def our_logits(check, folder, ids, dtype, adapter=None):
    from safetensors.torch import load_file
    path = os.path.join(check.out, "work", "logits.safetensors")
    args = ["bench", "logits", folder, "--ids", ",".join(map(str, ids)), "--dtype", dtype, "--out", path]
    check.emloc(*(args + (["--adapter", adapter] if adapter else [])))
    return load_file(path)["logits"]


def check_model(check, name, spec, torch_device):
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False  # the reference in true fp32
    work = os.path.join(check.out, "work")
    folder = os.path.join(work, name)
    check.step(name, "create", lambda: make_model(folder, spec, torch_device) or {"folder": folder})
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, spec["vocab_size"], (64,), generator=generator).tolist()
    half = "bf16" if check.device.startswith("cuda") else "fp32"

    def logits():
        result = {}
        for dtype, torch_dtype in (("fp32", torch.float32), (half, torch.bfloat16 if half == "bf16" else torch.float32)):
            reference = transformers_logits(folder, ids, torch_dtype, torch_device)
            result[dtype] = relative_error(our_logits(check, folder, ids, dtype), reference)
        return {"max_relative_error": result}
    check.step(name, "logits", logits)

    data = ["--data", make_long_text(os.path.join(work, "long.txt")), "--max-length", check.length]
    train = ["--steps", check.steps, "--batch", check.batch, "--grad-accum", 1, "--lr", "1e-3"] + data
    emulator, lora, corrected, peft = (os.path.join(work, name + suffix) for suffix in
                                       ("-emulator", "-lora", "-corrected", "-peft"))
    for path in (lora, os.path.join(work, name + "-full-lora")):
        shutil.rmtree(path, ignore_errors=True)
    check.step(name, "inference", lambda: check.emloc("evaluate-loss", folder, "--calibration-samples", 16,
                                                      "--batch", check.batch, *data))
    check.step(name, "stage1", lambda: check.emloc("build-emulator", folder, "--out", emulator, "--ratio", 0.4,
                                                   "--calibration-samples", 16, "--overwrite", *data))
    check.step(name, "stage2", lambda: check.emloc("train", emulator, "--out", lora, *train))
    check.step(name, "full_lora", lambda: check.emloc("train", folder, "--out", os.path.join(work, name + "-full-lora"),
                                                      *train))
    adapter = (check.results["models"][name]["stage2"].get("adapter_dir") or os.path.join(lora, "adapter"))
    check.step(name, "stage3", lambda: check.emloc("correct", "--model", folder, "--emulator", emulator, "--adapter",
                                                   adapter, "--out", corrected, "--overwrite"))

    def peft_check():
        check.emloc("export", "--model", folder, "--adapter", corrected, "--format", "peft", "--out", peft,
                    "--overwrite")
        reference = transformers_logits(folder, ids, torch.float32, torch_device, adapter=peft)
        return {"max_relative_error": relative_error(our_logits(check, folder, ids, "fp32", adapter=peft), reference)}
    check.step(name, "peft", peft_check)
    check.step(name, "svd", lambda: check.emloc("bench", "svd", folder, "--layer", 0, "--ratio", 0.4))


def make_vision_model(folder, spec, torch_device):
    """Random weights of an InternVL shape in the -hf layout, its tokenizer with InternVL's image tokens,
    its processor's tile size and statistics, and a drawn image."""
    import numpy as np
    import torch
    from PIL import Image
    from transformers import InternVLConfig, InternVLForConditionalGeneration
    if not os.path.exists(os.path.join(folder, "config.json")):
        os.makedirs(folder, exist_ok=True)
        make_tokenizer(folder, spec["text"]["vocab_size"], VISION_SPECIAL)
        with open(os.path.join(folder, "tokenizer.json")) as f:
            image_token = next(t["id"] for t in json.load(f)["added_tokens"] if t["content"] == "<IMG_CONTEXT>")
        config = InternVLConfig(vision_config=spec["vision"], text_config=spec["text"], image_token_id=image_token,
                                downsample_ratio=0.5, projector_hidden_act="gelu", vision_feature_layer=-1,
                                vision_feature_select_strategy="default", tie_word_embeddings=False)
        torch.manual_seed(0)
        with torch.device(torch_device):
            model = InternVLForConditionalGeneration(config)
        with torch.no_grad():  # transformers zeroes the class token and positions; real checkpoints do not
            for name, parameter in model.named_parameters():
                if "cls_token" in name or "position_embeddings" in name:
                    parameter.normal_(0.0, 0.02)
        model.to(torch.bfloat16).save_pretrained(folder)
        with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
            json.dump({"image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
                       "size": {"height": spec["tile"], "width": spec["tile"]}, "min_patches": 1,
                       "max_patches": 6}, f)
        y, x = np.mgrid[0:300, 0:500]
        picture = np.stack([x * 255 // 499, y * 255 // 299, (x * y) % 256], -1).astype(np.uint8)
        Image.fromarray(picture, "RGB").save(os.path.join(folder, "picture.png"))
    return {"folder": folder}


def vision_prompt(folder, tile, question):
    """The prompt ids and pixel values of one image and a question, as InternVL's chat() builds them."""
    import torch
    from PIL import Image
    from transformers import PreTrainedTokenizerFast
    sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
    from vision_reference import tiles_of  # InternVL's published dynamic_preprocess, restated
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"))
    tokenizer.chat_template = CHATML
    image = Image.open(os.path.join(folder, "picture.png")).convert("RGB")
    _, tiles = tiles_of(image, tile, 1, 6, True)
    text = tokenizer.apply_chat_template([{"role": "user", "content": "<image>\n" + question}], tokenize=False,
                                         add_generation_prompt=True)
    tokens = (tile // 14 // 2) ** 2 * tiles.shape[0]
    text = text.replace("<image>", "<img>" + "<IMG_CONTEXT>" * tokens + "</img>", 1)
    return tokenizer(text, add_special_tokens=False)["input_ids"], torch.from_numpy(tiles)


def check_vision_model(check, name, spec, torch_device):
    import torch
    work = os.path.join(check.out, "work")
    folder = os.path.join(work, name)
    check.step(name, "create", lambda: make_vision_model(folder, spec, torch_device))
    question = "What is shown in the picture?"
    half = "bf16" if check.device.startswith("cuda") else "fp32"

    def generate():
        from transformers import InternVLForConditionalGeneration
        ids, pixels = vision_prompt(folder, spec["tile"], question)
        result = {"prompt_tokens": len(ids), "tiles": int(pixels.shape[0])}
        dtypes = {"fp32": torch.float32, half: torch.bfloat16 if half == "bf16" else torch.float32}
        for dtype, torch_dtype in dtypes.items():
            ours = check.emloc("generate", folder, "--chat", "--image", os.path.join(folder, "picture.png"), "--prompt",
                               question, "--max-new-tokens", 16, "--dtype", dtype)
            model = InternVLForConditionalGeneration.from_pretrained(folder, dtype=torch_dtype).to(torch_device).eval()
            if torch_device != "cpu":
                torch.cuda.reset_peak_memory_stats()
            with torch.no_grad():
                out = model.generate(input_ids=torch.tensor([ids], device=torch_device),
                                     pixel_values=pixels.to(torch_device, torch_dtype), max_new_tokens=16,
                                     do_sample=False, eos_token_id=model.config.get_text_config().eos_token_id,
                                     pad_token_id=0)
            theirs = out[0, len(ids):].tolist()
            same = next((i for i, (a, b) in enumerate(zip(ours["new_tokens"], theirs)) if a != b), len(theirs))
            result[dtype] = {"prompt_tokens_equal": ours["prompt_tokens"] == len(ids),
                             "tokens_equal_before_first_difference": same, "of": len(theirs),
                             "peak_memory_bytes": ours["peak_memory_bytes"],
                             "transformers_peak_memory_bytes":
                                 torch.cuda.max_memory_allocated() if torch_device != "cpu" else None,
                             "prefill_tokens_per_second": ours["prefill_tokens_per_second"]}
            del model
        return result
    check.step(name, "generate", generate)
    check_vision_stages(check, name, folder)


def make_image_dataset(folder, records=16):
    """Questions about the model's drawn picture with short answers (InternVL's JSONL), in its folder."""
    path = os.path.join(folder, "images.jsonl")
    questions = [("What is shown in the picture?", "A colour gradient."), ("Which colour is at the top left?", "Black."),
                 ("Is it a photograph?", "No."), ("Describe it in two words.", "Smooth gradient.")]
    with open(path, "w") as f:
        for i in range(records):
            question, answer = questions[i % len(questions)]
            f.write(json.dumps({"image": "picture.png", "conversations": [
                {"from": "human", "value": "<image>\n" + question}, {"from": "gpt", "value": answer}]}) + "\n")
    return path


def check_vision_stages(check, name, folder):
    """Peak memory of inference and of each EMLoC stage on the image records, beside LoRA on the whole
    model: the paper's claim for InternVL (the stages within inference, LoRA far above it)."""
    work = os.path.join(check.out, "work")
    data = ["--data", make_image_dataset(folder), "--max-length", 2048]
    train = ["--steps", check.steps, "--batch", check.batch, "--grad-accum", 1, "--lr", "1e-3",
             "--validation-fraction", 0] + data
    emulator, lora, full, corrected = (os.path.join(work, name + suffix) for suffix in
                                       ("-emulator", "-lora", "-full-lora", "-corrected"))
    for path in (lora, full):
        shutil.rmtree(path, ignore_errors=True)
    check.step(name, "inference", lambda: {"peak_memory_bytes": check.emloc(
        "evaluate", "--model", folder, "--max-new-tokens", 8, "--batch-size", check.batch, *data)["models"][0][
        "peak_memory_bytes"]})
    # The paper's configuration: the language model and the vision tower both at 0.4, the projector dense.
    check.step(name, "stage1", lambda: check.emloc("build-emulator", folder, "--out", emulator, "--ratio", 0.4,
                                                   "--vision-ratio", 0.4, "--calibration-samples", 16,
                                                   "--overwrite", *data))
    check.step(name, "stage2", lambda: check.emloc("train", emulator, "--out", lora, *train))
    check.step(name, "full_lora", lambda: check.emloc("train", folder, "--out", full, *train))
    adapter = check.results["models"][name]["stage2"].get("adapter_dir") or os.path.join(lora, "adapter")
    check.step(name, "stage3", lambda: check.emloc("correct", "--model", folder, "--emulator", emulator, "--adapter",
                                                   adapter, "--out", corrected, "--overwrite"))


def vision_markdown(results):
    gib = 1.0 / 2**30
    rows = [(n, m) for n, m in results["models"].items() if "generate" in m]
    if not rows:
        return []
    lines = vision_stage_markdown(results) + ["", "| InternVL shape | tiles, prompt tokens | greedy tokens equal, fp32 | 16-bit | peak of our inference"
             " fp32 / 16-bit | transformers 16-bit | prefill tokens/s fp32 |", "|---|---|---|---|---|---|---|"]
    for name, m in rows:
        g = m["generate"]
        if "error" in g:
            lines.append("| %s | failed: %s |  |  |  |  |  |" % (name, g["error"][:200]))
            continue
        dtypes = [k for k in g if isinstance(g[k], dict) and "of" in g[k]]
        fp32 = g.get("fp32", {})
        other = g.get(next((d for d in dtypes if d != "fp32"), "fp32"), {})
        equal = lambda e: "%d of %d" % (e["tokens_equal_before_first_difference"], e["of"]) if e else "-"
        peak = lambda e, key="peak_memory_bytes": "%.2f GiB" % (e[key] * gib) if e and e.get(key) else "-"
        lines.append("| %s | %d, %d | %s | %s | %s / %s | %s | %.0f |" % (
            name, g["tiles"], g["prompt_tokens"], equal(fp32), equal(other), peak(fp32), peak(other),
            peak(other, "transformers_peak_memory_bytes"), fp32.get("prefill_tokens_per_second", 0)))
    return lines


def vision_stage_markdown(results):
    gib = 1.0 / 2**30
    rows = [(n, m) for n, m in results["models"].items() if "generate" in m]
    lines = ["", "| InternVL shape, image records (emulator: language model and tower at 0.4) | inference | stage 1 |"
             " stage 2 | stage 3 | full LoRA |"
             " stage 2 / full LoRA | step: emulator / full |", "|---|---|---|---|---|---|---|---|"]
    for name, m in rows:
        peak = lambda step: cell(m, step, "peak_memory_bytes", scale=gib, fmt="%.2f GiB")
        ratio, steps = "-", "-"
        if "peak_memory_bytes" in m.get("stage2", {}) and "peak_memory_bytes" in m.get("full_lora", {}):
            ratio = "%.2f" % (m["stage2"]["peak_memory_bytes"] / m["full_lora"]["peak_memory_bytes"])
        if "seconds_per_step" in m.get("stage2", {}) and "seconds_per_step" in m.get("full_lora", {}):
            steps = "%.3f / %.3f s" % (m["stage2"]["seconds_per_step"], m["full_lora"]["seconds_per_step"])
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, peak("inference"), peak("stage1"), peak("stage2"), peak("stage3"), peak("full_lora"), ratio, steps))
    return lines if rows else []


def cell(entry, *keys, scale=1.0, fmt="%.3g"):
    value = entry
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return "failed" if isinstance(value, dict) and "error" in value else "-"
        value = value[key]
    return fmt % (value * scale) if isinstance(value, (int, float)) else str(value)


def check_processes(check, name, torch_device):
    """Stages 1 and 2 as two data-parallel processes (Gloo): on two GPUs when the machine has them, as two
    CPU processes in a dry run; otherwise why not."""
    import torch
    gpus = torch.cuda.device_count() if torch_device != "cpu" else 0
    if torch_device != "cpu" and gpus < 2:
        check.results["processes"] = {"skipped": "this machine has %d GPU: two are needed (NCCL is not built in yet; "
                                                 "Gloo would carry the run)" % gpus}
        return
    work = os.path.join(check.out, "work")
    config = {"model": os.path.join(work, name), "output": os.path.join(work, name + "-processes"),
              "device": "cuda" if gpus >= 2 else "cpu",
              "data": {"train": make_long_text(os.path.join(work, "long.txt")), "max_length": check.length,
                       "format": "text"},
              "emulator": {"ratio": 0.4, "calibration_samples": 16},
              "train": {"steps": check.steps, "batch": check.batch, "grad_accum": 2, "lr": 1e-3},
              "correct": {"refine_layers": 0}, "export": []}
    path = os.path.join(work, name + "-processes.json")
    with open(path, "w") as f:
        json.dump(config, f)
    launch = ["--gpus", "0,1"] if gpus >= 2 else ["--nproc", "2"]
    shutil.rmtree(config["output"], ignore_errors=True)

    def stages_of(summary):
        stages = {s["stage"]: s for s in summary["stages"]}
        return {k: {"seconds": stages[k]["seconds"], "rank_peaks": stages[k]["details"].get("rank_peak_memory_bytes")}
                for k in ("emulator", "train") if k in stages}

    def run():
        result = {"launch": " ".join(launch), "stages": stages_of(check.emloc("run", path, *launch))}
        if gpus >= 2:
            # The Studio's way: a device list, this process rank 0 and the other started beside it.
            config["device"] = "cuda:0,1"
            config["output"] += "-list"
            listed = path.replace(".json", "-list.json")
            with open(listed, "w") as f:
                json.dump(config, f)
            shutil.rmtree(config["output"], ignore_errors=True)
            result["device_list"] = stages_of(check.emloc("run", listed))
        return result
    check.step(name, "processes", run)
    check.results["processes"] = check.results["models"][name].pop("processes")


def processes_markdown(results):
    entry = results.get("processes")
    if not entry:
        return []
    if "skipped" in entry or "error" in entry:
        return ["", "Two processes: %s" % entry.get("skipped", entry.get("error"))]
    parts = ["%s %.1f s, peaks %s MiB" % (stage, v["seconds"], " / ".join("%.0f" % (p / 2**20) for p in v["rank_peaks"] or []))
             for stage, v in entry["stages"].items()]
    lines = ["", "Two processes (`emloc run %s`): %s" % (entry["launch"], "; ".join(parts))]
    if "device_list" in entry:
        listed = ["%s %.1f s" % (stage, v["seconds"]) for stage, v in entry["device_list"].items()]
        lines.append("Two GPUs as the Studio runs them (`\"device\": \"cuda:0,1\"`): %s" % "; ".join(listed))
    return lines


def markdown(results):
    gib = 1.0 / 2**30
    lines = ["# GPU check, %s (%s)" % (results["started"], results["device"]), "",
             "Batch %d x sequence %d, %d fine-tuning steps, ratio 0.4." % (results["batch"], results["sequence"],
                                                                       results["steps"]), ""]
    if "environment" in results:
        lines += ["Environment: %s" % results["environment"], ""]
    lines += ["| model | logits fp32 | logits 16-bit | PEFT vs merged | inference | stage 1 | stage 2 | stage 3 |"
              " full LoRA | step: emulator / full | SVD per layer: cuSOLVER / LibTorch |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, m in results["models"].items():
        if "generate" in m:
            continue  # vision-language models: their own table below
        errors = m.get("logits", {}).get("max_relative_error", {})
        sixteen = next((v for k, v in errors.items() if k != "fp32"), None)
        svd = {b["backend"]: b["seconds"] for b in m.get("svd", {}).get("backends", [])}
        steps = "-"
        if "seconds_per_step" in m.get("stage2", {}) and "seconds_per_step" in m.get("full_lora", {}):
            steps = "%.3f / %.3f s (%.2fx)" % (m["stage2"]["seconds_per_step"], m["full_lora"]["seconds_per_step"],
                                               m["stage2"]["seconds_per_step"] / m["full_lora"]["seconds_per_step"])
        svd_text = " / ".join("%s %.2f s" % (k, v) for k, v in svd.items()) or cell(m, "svd", "backends")
        lines.append("| %s | %s | %s | %s | %s GiB | %s GiB | %s GiB | %s GiB | %s GiB | %s | %s |" % (
            name, "%.2e" % errors["fp32"] if "fp32" in errors else cell(m, "logits", "x"),
            "%.2e" % sixteen if sixteen is not None else "-", cell(m, "peft", "max_relative_error", fmt="%.2e"),
            cell(m, "inference", "peak_memory_bytes", scale=gib, fmt="%.2f"),
            cell(m, "stage1", "peak_memory_bytes", scale=gib, fmt="%.2f"),
            cell(m, "stage2", "peak_memory_bytes", scale=gib, fmt="%.2f"),
            cell(m, "stage3", "peak_memory_bytes", scale=gib, fmt="%.2f"),
            cell(m, "full_lora", "peak_memory_bytes", scale=gib, fmt="%.2f"), steps, svd_text))
    lines += vision_markdown(results)
    lines += processes_markdown(results)
    failures = [(n, s, e["error"]) for n, m in results["models"].items() for s, e in m.items()
                if isinstance(e, dict) and "error" in e]
    if failures:
        lines += ["", "Failures:", ""] + ["- %s / %s: %s" % f for f in failures]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--small", action="store_true", help="miniature models: a dry run on a CPU")
    parser.add_argument("--out", required=True)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    os.makedirs(os.path.join(args.out, "work"), exist_ok=True)
    import torch
    torch_device = "cuda:0" if args.device.startswith("cuda") else "cpu"
    if torch_device != "cpu" and not torch.cuda.is_available():
        sys.exit("check: PyTorch sees no CUDA device; pass --device cpu --small for a dry run")
    check = Check(args.cli, args.device, args.out, args.batch, args.length, args.steps)
    import transformers
    check.results["environment"] = "torch %s, transformers %s, %s" % (
        torch.__version__, transformers.__version__,
        torch.cuda.get_device_name(0) if torch_device != "cpu" else "CPU")
    for name, spec in (SMALL if args.small else MODELS).items():
        check_model(check, name, spec, torch_device)
    for name, spec in (SMALL_VISION if args.small else VISION_MODELS).items():
        check_vision_model(check, name, spec, torch_device)
    check_processes(check, next(iter(SMALL if args.small else MODELS)), torch_device)
    check.save()
    print(markdown(check.results))


if __name__ == "__main__":
    main()
