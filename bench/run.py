#!/usr/bin/env python3
"""EMLoC's benchmark: the paper's comparison reproduced on the demo, side by side in one run.

Usage: bench/run.sh [--quick] [--device cpu|cuda] [--out bench/results]

Measures with the `emloc` CLI (every number comes from the engine's own meters) and writes
bench/results/{memory,quality,scaling}.csv, bench/results/bench.png and a printed table:

  memory   peak of inference of the full model; EMLoC stages 1, 2, 3; LoRA on the full model
  time     construction; fine-tuning per step and in all; correction; full-model LoRA per step
  quality  held-out contains-match and loss at ratios 0.3 / 0.4 / 0.6: no fine-tuning; LoRA on the full model;
           EMLoC (activation-aware, corrected); the same emulator uncorrected; plain-SVD emulator corrected;
           a layer-drop emulator of about the same parameter count (Offsite-tuning style)
  scaling  time and peak of stages 1-3 at several sequence lengths and calibration sizes

--quick runs one ratio, fewer steps and fewer held-out examples (a smoke run, minutes instead of an hour).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "app", "cli", "emloc")
MODEL = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct")
TRAIN = os.path.join(ROOT, "resources", "demo", "bookings-train.jsonl")
TEST = os.path.join(ROOT, "resources", "demo", "bookings-test.jsonl")


def emloc(args, device):
    """Runs the CLI with --json and returns its JSON result."""
    command = [CLI, "--device", device, "-q", "--json"] + args
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("bench: %s failed (%d):\n%s" % (" ".join(command), done.returncode, done.stderr[-3000:]))
    result = json.loads(done.stdout)
    result.setdefault("wall_seconds", time.time() - started)
    return result


def run_pipeline(name, settings, device, out):
    """`emloc run` on a configuration derived from the demo's; returns summary.json."""
    config = {
        "model": MODEL, "output": os.path.join(out, name), "device": device,
        "data": {"train": TRAIN, "test": TEST, "max_length": settings["max_length"]},
        "emulator": {"ratio": settings["ratio"], "calibration_samples": settings["samples"],
                     "plain_svd": settings.get("plain_svd", False)},
        "train": {"steps": settings["steps"], "batch": 2, "grad_accum": 4, "lr": 0.001, "warmup_ratio": 0.05,
                  "lora": {"rank": 8, "alpha": 16, "dropout": 0.05}},
        "evaluate": {"metric": "contains", "max_new_tokens": 32, "max_examples": settings["examples"],
                     "generation": settings.get("generation", True)},
        "export": [],
    }
    path = os.path.join(out, name + ".json")
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return emloc(["run", path], device)


def stage(summary, name):
    for s in summary["stages"]:
        if s["stage"] == name:
            return s
    return {}


def model_row(summary, name):
    for m in (summary.get("evaluation") or {}).get("models", []):
        if m["name"] == name:
            return m
    return None


def layer_drop_stride(config, target_parameters):
    """The smallest stride (keep first, last and every k-th middle block) within the parameter target."""
    layers = config["num_hidden_layers"]
    hidden, inter = config["hidden_size"], config["intermediate_size"]
    heads, kv = config["num_attention_heads"], config.get("num_key_value_heads", config["num_attention_heads"])
    head_dim = config.get("head_dim", hidden // heads)
    per_layer = hidden * heads * head_dim * 2 + hidden * kv * head_dim * 2 + 3 * hidden * inter + 2 * hidden
    fixed = config["vocab_size"] * hidden * (1 if config.get("tie_word_embeddings", False) else 2) + hidden
    for stride in range(2, layers):
        kept = 2 + len(range(1, layers - 1, stride))
        if fixed + kept * per_layer <= target_parameters:
            return stride, kept
    return layers - 2, 3


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = parser.parse_args()
    for path in (CLI, os.path.join(MODEL, "model.safetensors")):
        if not os.path.exists(path):
            sys.exit("bench: %s is missing: run scripts/setup.sh first" % path)
    os.makedirs(args.out, exist_ok=True)
    work = os.path.join(args.out, "work")
    os.makedirs(work, exist_ok=True)
    ratios = [0.4] if args.quick else [0.3, 0.4, 0.6]
    steps = 10 if args.quick else 80
    examples = 12 if args.quick else 48
    base = {"max_length": 160, "samples": 64, "steps": steps, "examples": examples}
    with open(os.path.join(MODEL, "config.json")) as f:
        model_config = json.load(f)

    # Inference of the full model: the budget EMLoC promises to stay within.
    inference = emloc(["evaluate-loss", MODEL, "--data", TRAIN, "--calibration-samples", "64",
                       "--max-length", "160"], args.device)

    quality, memory = [], []
    full_dir = os.path.join(work, "full-lora")
    full = emloc(["train", MODEL, "--data", TRAIN, "--out", full_dir, "--steps", str(steps), "--batch", "2",
                  "--grad-accum", "4", "--lr", "0.001", "--warmup-ratio", "0.05", "--max-length", "160"],
                 args.device)
    full_eval = emloc(["evaluate", "--model", MODEL, "--adapter", full_dir, "--data", TEST, "--max-examples",
                       str(examples), "--max-new-tokens", "32", "--max-length", "160", "--metric", "contains"], args.device)
    original = model_row({"evaluation": full_eval}, "original")
    full_row = model_row({"evaluation": full_eval}, "original+lora")
    memory.append({"what": "inference of the full model", "peak_bytes": inference["peak_memory_bytes"],
                   "seconds": inference["seconds"]})
    memory.append({"what": "LoRA on the full model", "peak_bytes": full["peak_memory_bytes"],
                   "seconds": full["seconds"], "seconds_per_step": full["seconds_per_step"]})

    for ratio in ratios:
        emloc_run = run_pipeline("emloc-%.1f" % ratio, dict(base, ratio=ratio), args.device, work)
        plain = run_pipeline("plain-svd-%.1f" % ratio, dict(base, ratio=ratio, plain_svd=True), args.device, work)
        build = stage(emloc_run, "emulator")
        stride, kept = layer_drop_stride(model_config, build["details"]["emulator_parameters"])
        drop_dir = os.path.join(work, "layer-drop-%.1f" % ratio)
        emloc(["train", MODEL, "--data", TRAIN, "--out", drop_dir, "--steps", str(steps), "--batch", "2",
               "--grad-accum", "4", "--lr", "0.001", "--warmup-ratio", "0.05", "--max-length", "160",
               "--layer-drop", str(stride)], args.device)
        drop_eval = emloc(["evaluate", "--model", MODEL, "--adapter", drop_dir, "--data", TEST, "--max-examples",
                           str(examples), "--max-new-tokens", "32", "--max-length", "160", "--metric", "contains"], args.device)
        rows = [("no fine-tuning", original), ("LoRA on the full model", full_row),
                ("EMLoC (activation-aware, corrected)", model_row(emloc_run, "original+corrected")),
                ("same emulator, uncorrected", model_row(emloc_run, "original+lora")),
                ("plain-SVD emulator, corrected", model_row(plain, "original+corrected")),
                ("layer drop (%d blocks), plugged back" % kept, model_row({"evaluation": drop_eval}, "original+lora"))]
        for method, row in rows:
            quality.append({"ratio": ratio, "method": method, "match_rate": row["match_rate"], "loss": row["loss"]})
        for name in ("emulator", "train", "correct"):
            s = stage(emloc_run, name)
            entry = {"what": "EMLoC %s (ratio %.1f)" % (name, ratio), "peak_bytes": s["peak_memory_bytes"],
                     "seconds": s["seconds"]}
            if name == "train":
                entry["seconds_per_step"] = s["details"].get("seconds_per_step")
            memory.append(entry)

    scaling = []
    lengths = [96, 160] if args.quick else [96, 160, 256]
    samples = [16, 64] if args.quick else [16, 64, 128]
    for length in lengths:
        for count in samples:
            run = run_pipeline("scaling-%d-%d" % (length, count),
                               dict(base, ratio=0.4, max_length=length, samples=count, steps=5, examples=4,
                                    generation=False), args.device, work)
            for name in ("emulator", "train", "correct"):
                s = stage(run, name)
                scaling.append({"max_length": length, "calibration_samples": count, "stage": name,
                                "seconds": s["seconds"], "peak_bytes": s["peak_memory_bytes"]})

    write_csv(os.path.join(args.out, "memory.csv"), memory)
    write_csv(os.path.join(args.out, "quality.csv"), quality)
    write_csv(os.path.join(args.out, "scaling.csv"), scaling)
    print_tables(memory, quality)
    plot(os.path.join(args.out, "bench.png"), memory, quality)


def write_csv(path, rows):
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


def mib(value):
    return "%.0f MiB" % (value / 2**20) if value and value > 0 else "-"


def print_tables(memory, quality):
    print("\n%-40s %12s %10s %10s" % ("Peak memory and time", "peak", "seconds", "s/step"))
    for row in memory:
        per_step = row.get("seconds_per_step")
        print("%-40s %12s %10.1f %10s" % (row["what"], mib(row["peak_bytes"]), row["seconds"],
                                          "%.2f" % per_step if per_step else "-"))
    print("\n%-6s %-42s %8s %8s" % ("ratio", "method", "match", "loss"))
    for row in quality:
        rate = row["match_rate"]
        print("%-6.1f %-42s %8s %8.4f" % (row["ratio"], row["method"],
                                          "%.0f%%" % (100 * rate) if rate is not None else "-", row["loss"]))


def plot(path, memory, quality):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: matplotlib is missing (bench/run.sh installs it); no plot written")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    names = [row["what"] for row in memory]
    left.barh(names, [row["peak_bytes"] / 2**20 for row in memory], color="#4c72b0")
    left.set_xlabel("peak memory (MiB)")
    left.invert_yaxis()
    methods = []
    for row in quality:
        if row["method"] not in methods:
            methods.append(row["method"])
    ratios = sorted({row["ratio"] for row in quality})
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        values = [next((r["loss"] for r in quality if r["ratio"] == ratio and r["method"] == method), 0)
                  for ratio in ratios]
        right.bar([k + i * width for k in range(len(ratios))], values, width, label=method)
    right.set_xticks([k + 0.4 - width / 2 for k in range(len(ratios))])
    right.set_xticklabels(["ratio %.1f" % r for r in ratios])
    right.set_ylabel("held-out loss per answer token (lower is better)")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print("bench: wrote", path)


if __name__ == "__main__":
    main()
