#!/usr/bin/env python3
"""EMLoC's benchmark: the paper's comparison reproduced on the demo, side by side in one run.

Usage: bench/run.sh [--quick] [--device cpu|cuda] [--steps N] [--out bench/results]

Every number comes from the `emloc` CLI's own meters (`--json`), except the references it is compared
with (llama.cpp's generation speed, transformers' forward speed), which are measured in the same run.
Writes bench/results/{throughput,memory,quality,scaling}.csv, bench/results/bench.png and prints tables:

  throughput  the machine's matmul rate; forward throughput of a ~100M-parameter model at sequence 512 as a
              fraction of it (and transformers' on the same model); generation tokens/s against llama.cpp
              on the same f32 GGUF and transformers on the same weights; one layer's stage-1 factorization
              time per linear-algebra backend
  memory      peak of inference of the full model; EMLoC stages 1, 2, 3; LoRA on the full model
  time        construction; fine-tuning per step and in all (and its FLOP rate against the matmul rate);
              correction; full-model LoRA per step
  quality     held-out exact match, the share of answers that stopped by themselves, and loss at ratios
              0.3 / 0.4 / 0.6: no fine-tuning; LoRA on the full model; EMLoC as it ships (corrected, then the
              last 4 layers refined on the original); corrected only; the same emulator uncorrected;
              plain-SVD emulator corrected; a layer-drop emulator of about the same parameter count
              (Offsite-tuning style)
  scaling     time and peak of stages 1-3 at several sequence lengths and calibration sizes

--quick runs one ratio, fewer steps and fewer held-out examples (a smoke run of a few minutes).
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "app", "cli", "emloc")
MODEL = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct")
TRAIN = os.path.join(ROOT, "resources", "demo", "bookings-train.jsonl")
TEST = os.path.join(ROOT, "resources", "demo", "bookings-test.jsonl")
MAX_LENGTH = "160"
# The demo's recipe (resources/demo/demo-run.json): batch 2 x 4, lr 1e-3, LoRA r 8 / alpha 16.
RECIPE = ["--batch", "2", "--grad-accum", "4", "--lr", "0.001", "--warmup-ratio", "0.05", "--max-length", MAX_LENGTH,
          "--lora-rank", "8", "--lora-alpha", "16", "--lora-dropout", "0.05"]


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


def model_row(evaluation, name):
    for m in evaluation.get("models", []):
        if m["name"] == name:
            return m
    return None


def evaluate(device, examples, adapter=None, corrected=None, original=False):
    args = ["evaluate", "--model", MODEL, "--data", TEST, "--max-examples", str(examples), "--max-new-tokens", "32",
            "--max-length", MAX_LENGTH, "--metric", "exact"]
    if adapter:
        args += ["--adapter", adapter]
    if corrected:
        args += ["--corrected", corrected]
    if not original:
        args += ["--skip-original"]
    return emloc(args, device)


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


# --- throughput -------------------------------------------------------------------------------------

def make_forward_model(path):
    """A randomly initialised ~100M-parameter Llama (12 layers, hidden 768) written by transformers."""
    if os.path.exists(os.path.join(path, "config.json")):
        return
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=32000, hidden_size=768, intermediate_size=2048, num_hidden_layers=12,
                         num_attention_heads=12, num_key_value_heads=4, max_position_embeddings=2048,
                         tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(path)


def transformers_forward_rate(path, length, threads):
    """transformers' forward on the same model, same threads: tokens/s (an independent yardstick)."""
    import torch
    from transformers import LlamaForCausalLM
    torch.set_num_threads(threads)
    model = LlamaForCausalLM.from_pretrained(path, torch_dtype=torch.float32).eval()
    ids = torch.randint(0, model.config.vocab_size, (1, length), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model(ids)
        started = time.time()
        for _ in range(3):
            model(ids)
    return length * 3 / (time.time() - started)


def transformers_generation(folder, prompt, tokens, threads):
    """transformers' greedy decode on the same weights (its Hugging Face folder): tokens/s, prefill excluded."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    ids = AutoTokenizer.from_pretrained(folder)(prompt, return_tensors="pt").input_ids

    def timed(n):
        started = time.time()
        model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False)
        return time.time() - started

    with torch.no_grad():
        timed(4)  # warm-up
        first = timed(1)
        total = timed(tokens)
    return (tokens - 1) / (total - first)


def llama_cpp_generation(gguf, prompt, tokens, threads):
    """llama.cpp (llama-cpp-python) on the same GGUF: greedy decode tokens/s, prefill excluded."""
    from llama_cpp import Llama
    llm = Llama(model_path=gguf, n_ctx=512, n_threads=threads, n_threads_batch=threads, verbose=False, seed=0)

    def timed(n):
        llm.reset()
        started = time.time()
        out = llm.create_completion(prompt, max_tokens=n, temperature=0.0, top_k=1)
        return time.time() - started, out["usage"]["completion_tokens"]

    timed(tokens)  # warm-up
    first, _ = timed(1)
    total, made = timed(tokens)
    return (made - 1) / max(total - first, 1e-9), made


def throughput(args, work):
    rows = []
    threads = os.cpu_count() if args.device == "cpu" else 1
    matmul = emloc(["bench", "matmul", "--seconds", "3"], args.device)
    rate = matmul["flops_per_second"]
    rows.append({"what": "matmul %dx%d %s" % (matmul["size"], matmul["size"], matmul["dtype"]),
                 "value": rate / 1e9, "unit": "GFLOP/s", "note": "%d threads" % matmul["threads"]})

    forward_model = os.path.join(work, "llama-100m")
    make_forward_model(forward_model)
    length = 128 if args.quick else 512
    forward = emloc(["bench", "forward", forward_model, "--seq-len", str(length), "--repeat", "3"], args.device)
    # This machine's rate drifts by tens of percent over minutes (a shared VM): the forward is compared with
    # the matmul rate measured right after it in the same process, and the step rates below with the best
    # rate seen in the run.
    rate = max(rate, forward["matmul_flops_per_second"])
    rows.append({"what": "forward, ~100M model, sequence %d" % length, "value": forward["tokens_per_second"],
                 "unit": "tokens/s",
                 "note": "%.1f GFLOP/s = %.0f%% of matmul measured with it (%.1f GFLOP/s)" % (
                     forward["flops_per_second"] / 1e9, 100 * forward["fraction_of_matmul"],
                     forward["matmul_flops_per_second"] / 1e9)})
    if args.device == "cpu":
        reference = transformers_forward_rate(forward_model, length, threads)
        rows.append({"what": "transformers forward, same model", "value": reference, "unit": "tokens/s",
                     "note": "ours is %.2fx" % (forward["tokens_per_second"] / reference)})

    gguf = os.path.join(work, "smollm2-f32.gguf")
    if not os.path.exists(gguf):
        emloc(["export-gguf", MODEL, gguf, "--dtype", "F32"], args.device)
    prompt = "The history of the bicycle begins"
    new_tokens = 32 if args.quick else 128
    ours = emloc(["generate", gguf, "--prompt", prompt, "--max-new-tokens", str(new_tokens)], args.device)
    rows.append({"what": "generation, SmolLM2 f32 GGUF (ours)", "value": ours["decode_tokens_per_second"],
                 "unit": "tokens/s", "note": "%d new tokens, prefill %.0f tokens/s" % (
                     len(ours["new_tokens"]), ours["prefill_tokens_per_second"])})
    if args.device == "cpu":
        theirs, made = llama_cpp_generation(gguf, prompt, new_tokens, threads)
        rows.append({"what": "generation, same GGUF (llama.cpp)", "value": theirs, "unit": "tokens/s",
                     "note": "%d new tokens; ours is %.2fx" % (made, ours["decode_tokens_per_second"] / theirs)})
        reference = transformers_generation(MODEL, prompt, new_tokens, threads)
        rows.append({"what": "generation, transformers (same weights)", "value": reference, "unit": "tokens/s",
                     "note": "%d new tokens; ours is %.2fx" % (new_tokens, ours["decode_tokens_per_second"] / reference)})

    for name, path in (("SmolLM2-135M", MODEL), ("~100M model", forward_model)):
        svd = emloc(["bench", "svd", path, "--layer", "0", "--ratio", "0.4"], args.device)
        for backend in svd["backends"]:
            rows.append({"what": "stage-1 factorization of one layer, %s (%s)" % (name, backend["backend"]),
                         "value": backend["seconds"], "unit": "s",
                         "note": "whitening %.3f s, SVDs %.3f s" % (backend["whitening_seconds"],
                                                                  backend["factorization_seconds"])})
    return rows, rate


# --- the comparison ---------------------------------------------------------------------------------

def train(device, model, out, steps, extra=()):
    shutil.rmtree(out, ignore_errors=True)  # a fresh run, never a resume of an older one
    return emloc(["train", model, "--data", TRAIN, "--out", out, "--steps", str(steps)] + RECIPE + list(extra),
                 device)


def build_emulator(device, out, ratio, samples=64, max_length=MAX_LENGTH, plain=False):
    args = ["build-emulator", MODEL, "--data", TRAIN, "--out", out, "--ratio", str(ratio), "--calibration-samples",
            str(samples), "--max-length", str(max_length), "--overwrite"]
    return emloc(args + (["--plain-svd"] if plain else []), device)


def correct(device, emulator, adapter, out):
    return emloc(["correct", "--model", MODEL, "--emulator", emulator, "--adapter", adapter, "--out", out,
                  "--overwrite"], device)


def refine(device, corrected, out):
    """The product's step after the correction, with `emloc refine`'s defaults (those of `emloc run`: 4 layers,
    120 steps, lr 1e-3 = the recipe's)."""
    return emloc(["refine", "--model", MODEL, "--adapter", corrected, "--data", TRAIN, "--out", out, "--max-length",
                  MAX_LENGTH, "--overwrite"], device)


def planned(device, stage, ratio=0.4, samples=64, max_length=MAX_LENGTH):
    """The planner's predicted peak of one stage (`emloc plan --json`: "inference", "construction", "fine_tuning",
    "correction", "refinement", "full_lora") for the recipe's batch and these settings: printed beside the measured
    peak, because a budget is held to it."""
    plan = emloc(["plan", MODEL, "--ratio", str(ratio), "--calibration-samples", str(samples), "--max-length",
                  str(max_length), "--batch", "2", "--lora-rank", "8"], device)
    return plan[stage]["total_bytes"]


def resting_rss():
    """RSS high-water mark of an `emloc` process that only loads its libraries (LibTorch with CUDA) and lists
    the devices: the floor under every CPU peak below, paid before any tensor exists."""
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code, CLI, "devices"], capture_output=True, text=True, check=True)
    return int(done.stdout) * 1024


def flop_fraction(trained, matmul_rate):
    return trained["flops_per_step"] / trained["seconds_per_step"] / matmul_rate


def comparison(args, work, matmul_rate):
    ratios = [0.4] if args.quick else [0.3, 0.4, 0.6]
    steps = args.steps or (8 if args.quick else 40)
    examples = 12 if args.quick else 48
    with open(os.path.join(MODEL, "config.json")) as f:
        model_config = json.load(f)

    # Inference of the full model: the budget EMLoC promises to stay within.
    # Sequences per forward as in the recipe's training batch (and the plan's), so the two compare.
    inference = emloc(["evaluate-loss", MODEL, "--data", TRAIN, "--calibration-samples", "64",
                       "--max-length", MAX_LENGTH, "--batch", "2"], args.device)
    memory = [{"what": "inference of the full model", "peak_bytes": inference["peak_memory_bytes"],
               "planned_bytes": planned(args.device, "inference"), "seconds": inference["seconds"]}]
    if args.device == "cpu":
        memory.append({"what": "emloc at rest (libraries loaded)", "peak_bytes": resting_rss(), "seconds": 0})
    full = train(args.device, MODEL, os.path.join(work, "full-lora"), steps)
    memory.append({"what": "LoRA on the full model", "peak_bytes": full["peak_memory_bytes"],
                   "planned_bytes": planned(args.device, "full_lora"), "seconds": full["seconds"], "seconds_per_step": full["seconds_per_step"],
                   "flop_fraction": flop_fraction(full, matmul_rate)})
    full_eval = evaluate(args.device, examples, adapter=full["adapter_dir"], original=True)
    quality = []
    for ratio in ratios:
        tag = "%.1f" % ratio
        emulator = os.path.join(work, "emulator-" + tag)
        built = build_emulator(args.device, emulator, ratio)
        trained = train(args.device, emulator, os.path.join(work, "lora-" + tag), steps)
        adapter = trained["adapter_dir"]
        corrected_dir = os.path.join(work, "corrected-" + tag)
        corrected = correct(args.device, emulator, adapter, corrected_dir)
        emloc_eval = evaluate(args.device, examples, adapter=adapter, corrected=corrected_dir)
        refined_dir = os.path.join(work, "refined-" + tag)
        refined = refine(args.device, corrected_dir, refined_dir)
        shipped_eval = evaluate(args.device, examples, corrected=refined_dir)

        plain = os.path.join(work, "plain-" + tag)
        build_emulator(args.device, plain, ratio, plain=True)
        plain_lora = train(args.device, plain, os.path.join(work, "plain-lora-" + tag), steps)
        correct(args.device, plain, plain_lora["adapter_dir"], plain + "-corrected")
        plain_eval = evaluate(args.device, examples, adapter=plain + "-corrected")

        stride, kept = layer_drop_stride(model_config, built["parameters"]["emulator"])
        drop = os.path.join(work, "layer-drop-" + tag)
        dropped = train(args.device, MODEL, drop, steps, ["--layer-drop", str(stride)])
        drop_eval = evaluate(args.device, examples, adapter=dropped["adapter_dir"])

        rows = [("no fine-tuning", model_row(full_eval, "original")),
                ("LoRA on the full model", model_row(full_eval, "original+lora")),
                ("EMLoC as shipped (corrected + refined)", model_row(shipped_eval, "original+corrected")),
                ("EMLoC, corrected only", model_row(emloc_eval, "original+corrected")),
                ("same emulator, uncorrected", model_row(emloc_eval, "original+lora")),
                ("plain-SVD emulator, corrected", model_row(plain_eval, "original+lora")),
                ("layer drop (same size), plugged back", model_row(drop_eval, "original+lora"))]
        for method, row in rows:
            quality.append({"ratio": ratio, "method": method, "match_rate": row["match_rate"],
                            "stop_rate": row.get("stop_rate"), "loss": row["loss"],
                            # one name per method across ratios keeps the plot's groups aligned
                            "detail": "%d of %d blocks kept" % (kept, model_config["num_hidden_layers"])
                            if method.startswith("layer drop") else ""})
        memory.append({"what": "EMLoC stage 1 (ratio %s)" % tag, "peak_bytes": built["peak_memory_bytes"],
                       "planned_bytes": planned(args.device, "construction", ratio), "seconds": built["seconds"]})
        memory.append({"what": "EMLoC stage 2 (ratio %s)" % tag, "peak_bytes": trained["peak_memory_bytes"],
                       "planned_bytes": planned(args.device, "fine_tuning", ratio), "seconds": trained["seconds"], "seconds_per_step": trained["seconds_per_step"],
                       "flop_fraction": flop_fraction(trained, matmul_rate)})
        memory.append({"what": "EMLoC stage 3 (ratio %s)" % tag, "peak_bytes": corrected["peak_memory_bytes"],
                       "planned_bytes": planned(args.device, "correction", ratio), "seconds": corrected["seconds"]})
        memory.append({"what": "EMLoC refinement, 4 layers (ratio %s)" % tag,
                       "peak_bytes": refined["training"]["peak_memory_bytes"],
                       "planned_bytes": planned(args.device, "refinement", ratio),
                       "seconds": refined["training"]["seconds"]})
    return memory, quality, steps


def scaling(args, work):
    rows = []
    lengths = [96, 160] if args.quick else [96, 160, 256]
    samples = [16, 64]
    for length in lengths:
        for count in samples:
            tag = "%d-%d" % (length, count)
            emulator = os.path.join(work, "scaling-emulator-" + tag)
            built = build_emulator(args.device, emulator, 0.4, samples=count, max_length=length)
            shutil.rmtree(os.path.join(work, "scaling-lora-" + tag), ignore_errors=True)
            trained = emloc(["train", emulator, "--data", TRAIN, "--out", os.path.join(work, "scaling-lora-" + tag),
                             "--steps", "3", "--batch", "2", "--grad-accum", "4", "--max-length", str(length)],
                            args.device)
            corrected = correct(args.device, emulator, trained["adapter_dir"], os.path.join(work, "scaling-corrected-" + tag))
            for name, result, stage in (("emulator", built, "construction"), ("train", trained, "fine_tuning"),
                                        ("correct", corrected, "correction")):
                row = {"max_length": length, "calibration_samples": count, "stage": name,
                       "seconds": result["seconds"], "peak_bytes": result["peak_memory_bytes"],
                       "planned_bytes": planned(args.device, stage, 0.4, count, length)}
                if name == "train":
                    row["seconds_per_step"] = result["seconds_per_step"]
                rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=0, help="optimizer steps per fine-tuning (default 40; 8 quick)")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = parser.parse_args()
    for path in (CLI, os.path.join(MODEL, "model.safetensors")):
        if not os.path.exists(path):
            sys.exit("bench: %s is missing: run scripts/setup.sh first" % path)
    os.makedirs(args.out, exist_ok=True)
    work = os.path.join(args.out, "work")
    os.makedirs(work, exist_ok=True)
    started = time.time()

    speed, matmul_rate = throughput(args, work)
    write_csv(os.path.join(args.out, "throughput.csv"), speed)
    print_throughput(speed)
    memory, quality, steps = comparison(args, work, matmul_rate)
    write_csv(os.path.join(args.out, "memory.csv"), memory)
    write_csv(os.path.join(args.out, "quality.csv"), quality)
    print_comparison(memory, quality, steps)
    growth = scaling(args, work)
    write_csv(os.path.join(args.out, "scaling.csv"), growth)
    print_scaling(growth)
    plot(os.path.join(args.out, "bench.png"), memory, quality)
    print("\nbench: done in %.0f s; CSV files and bench.png in %s" % (time.time() - started, args.out))


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


def print_throughput(rows):
    print("\n%-58s %12s  %s" % ("Throughput", "value", "note"))
    for row in rows:
        print("%-58s %8.3g %-9s %s" % (row["what"], row["value"], row["unit"], row["note"]))


def of_plan(row):
    """Measured peak / the planner's prediction: at most 1.00 where the planner is conservative, as a budget needs."""
    return "%.2f" % (row["peak_bytes"] / row["planned_bytes"]) if row.get("planned_bytes") else "-"


def print_comparison(memory, quality, steps):
    print("\n%-36s %10s %10s %7s %9s %8s %9s" % ("Peak memory and time (%d steps)" % steps, "peak", "planned",
                                                 "of plan", "seconds", "s/step", "FLOP rate"))
    for row in memory:
        per_step = row.get("seconds_per_step")
        fraction = row.get("flop_fraction")
        print("%-36s %10s %10s %7s %9.1f %8s %9s" % (row["what"], mib(row["peak_bytes"]),
                                                     mib(row.get("planned_bytes")), of_plan(row), row["seconds"],
                                                     "%.2f" % per_step if per_step else "-",
                                                     "%.0f%%" % (100 * fraction) if fraction else "-"))
    inference = memory[0]["peak_bytes"]
    full = next(r for r in memory if r["what"] == "LoRA on the full model")
    rest = next((r["peak_bytes"] for r in memory if r["what"].startswith("emloc at rest")), 0)
    for row in memory:
        if row["what"].startswith("EMLoC stage 2"):
            print("  %s: %.2fx the full-model LoRA step time, %.2fx its peak (%.2fx above the resting process), "
                  "%.2fx inference's peak" % (
                      row["what"], row["seconds_per_step"] / full["seconds_per_step"],
                      row["peak_bytes"] / full["peak_bytes"],
                      (row["peak_bytes"] - rest) / (full["peak_bytes"] - rest), row["peak_bytes"] / inference))
    print("\n%-6s %-44s %8s %8s %8s" % ("ratio", "method", "exact", "stopped", "loss"))
    for row in quality:
        method = row["method"] + (" (%s)" % row["detail"] if row.get("detail") else "")
        print("%-6.1f %-44s %8s %8s %8.4f" % (row["ratio"], method, percent(row["match_rate"]),
                                              percent(row.get("stop_rate")), row["loss"]))


def percent(rate):
    return "%.0f%%" % (100 * rate) if rate is not None and rate >= 0 else "-"


def print_scaling(rows):
    print("\n%-8s %-8s %-9s %9s %10s %10s %7s" % ("length", "samples", "stage", "seconds", "peak", "planned",
                                                 "of plan"))
    for row in rows:
        print("%-8d %-8d %-9s %9.1f %10s %10s %7s" % (row["max_length"], row["calibration_samples"], row["stage"],
                                                     row["seconds"], mib(row["peak_bytes"]),
                                                     mib(row["planned_bytes"]), of_plan(row)))


def plot(path, memory, quality):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: matplotlib is missing (bench/run.sh installs it); no plot written")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 6.5))
    names = [row["what"] for row in memory]
    left.barh(names, [row["peak_bytes"] / 2**20 for row in memory], color="#4c72b0")
    left.axvline(memory[0]["peak_bytes"] / 2**20, color="#c44e52", linestyle="--", label="inference of the full model")
    left.set_xlabel("peak memory (MiB)")
    left.legend(fontsize=8, loc="lower right")
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
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print("bench: wrote", path)


if __name__ == "__main__":
    main()
