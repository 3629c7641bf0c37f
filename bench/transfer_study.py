#!/usr/bin/env python3
"""The transfer study of issue 21: why does the adapter trained on the emulator not carry its format and
its stopping to the original model, and what fixes it within the inference budget?

Every variant is chosen on a VALIDATION split carved from the training file (never on the test file):
48 records held out by a seeded shuffle, the other 272 train. Each variant reports, on those 48, exact
match of the stripped answer and the share of answers that stopped by themselves, for the emulator with
its LoRA, the original with the LoRA uncorrected, corrected, and (where run) refined; plus full-model
LoRA as the ceiling. Results are cached per variant under the work folder, so the study resumes and
grows; `--only NAME` runs one variant. Prints a Markdown table and writes study.csv.

Usage: bench/transfer_study.py [--task bookings|reviews] [--work DIR] [--only NAME] [--device cpu]
"""
import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.environ.get("EMLOC_CLI", os.path.join(ROOT, "build", "app", "cli", "emloc"))
MODEL = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct")
TASKS = {"bookings": os.path.join(ROOT, "resources", "demo", "bookings-train.jsonl"),
         "reviews": os.path.join(ROOT, "bench", "tasks", "reviews-train.jsonl")}
MAX_LENGTH = "160"
VALIDATION = 48
EVALUATED = int(os.environ.get("EMLOC_STUDY_EXAMPLES", "48"))  # of the validation records

# name -> settings; the demo's recipe unless a key says otherwise.
BASE = {"ratio": 0.4, "calibration": 64, "dense_last": 0, "steps": 68, "lr": 1e-3, "clamp": 3.0, "refine": 0, "refine_steps": 20,
        "refine_lr": 1e-4, "full": False}
VARIANTS = {
    "full-lora": {"full": True},  # the ceiling: LoRA on the original model (more memory)
    "paper": {},  # the demo's settings, the correction as the paper gives it (L = 3)
    "clamp-1": {"clamp": 1.0},
    "clamp-10": {"clamp": 10.0},
    "no-clamp": {"clamp": 0.0},
    "ratio-0.6": {"ratio": 0.6},
    "calib-16": {"calibration": 16},
    "lr-3e-4": {"lr": 3e-4},
    "steps-136": {"steps": 136},
    "dense-last-2": {"dense_last": 2},  # the last two decoder layers uncompressed in the emulator
    "refine-2": {"refine": 2},
    "refine-2-lr-1e-3": {"refine": 2, "refine_lr": 1e-3, "refine_steps": 30},
    "refine-4-lr-1e-3": {"refine": 4, "refine_lr": 1e-3, "refine_steps": 30},
    "refine-4": {"refine": 4},
    "refine-2-ratio-0.6": {"refine": 2, "ratio": 0.6},
    "refine-8-lr-1e-3": {"refine": 8, "refine_lr": 1e-3, "refine_steps": 30},
    "refine-4-lr-1e-3-60": {"refine": 4, "refine_lr": 1e-3, "refine_steps": 60},
    "refine-4-lr-1e-3-120": {"refine": 4, "refine_lr": 1e-3, "refine_steps": 120},
    "refine-4-lr-1e-3-120-ratio-0.6": {"refine": 4, "refine_lr": 1e-3, "refine_steps": 120, "ratio": 0.6},
    "refine-4-lr-1e-3-ratio-0.6": {"refine": 4, "refine_lr": 1e-3, "refine_steps": 30, "ratio": 0.6},
    # Stage 1 and stage 2 knobs with the product's refinement after them (4 layers, 120 steps, the training lr).
    "calib-16-refined": {"calibration": 16, "refine": 4, "refine_lr": 1e-3, "refine_steps": 120},
    "steps-136-refined": {"steps": 136, "refine": 4, "refine_lr": 1e-3, "refine_steps": 120},
    "lr-3e-4-refined": {"lr": 3e-4, "refine": 4, "refine_lr": 3e-4, "refine_steps": 120},  # refines at the training lr, as a run does
}


def emloc(args, device, log):
    # EMLOC_THREADS=1 when the machine is shared: OpenMP threads that wait on a busy core spin, not sleep.
    threads = ["--threads", os.environ["EMLOC_THREADS"]] if os.environ.get("EMLOC_THREADS") else []
    command = [CLI, "--device", device, "-q", "--json"] + threads + args
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True)
    with open(log, "a") as f:
        f.write("$ %s\n%s\n%s\n" % (" ".join(command), done.stdout[-4000:], done.stderr[-4000:]))
    if done.returncode != 0:
        sys.exit("study: %s failed (%d):\n%s" % (" ".join(command), done.returncode, done.stderr[-3000:]))
    result = json.loads(done.stdout)
    result["wall_seconds"] = time.time() - started
    return result


def split(task, work):
    """272 training and 48 validation records of the task's training file, by a seeded shuffle."""
    fit, val = os.path.join(work, "fit.jsonl"), os.path.join(work, "validation.jsonl")
    if not os.path.exists(val):
        with open(TASKS[task]) as f:
            rows = [line for line in f if line.strip()]
        random.Random(7).shuffle(rows)
        with open(fit, "w") as f:
            f.writelines(rows[VALIDATION:])
        with open(val, "w") as f:
            f.writelines(rows[:VALIDATION])
    return fit, val


def cached(path, make):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    result = make()
    with open(path + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(path + ".tmp", path)
    return result


def rows_of(evaluation):
    return {m["name"]: m for m in evaluation["models"]}


def run_variant(name, settings, task, work, device):
    s = dict(BASE, **settings)
    fit, val = split(task, work)
    log = os.path.join(work, "commands.log")
    recipe = ["--batch", "2", "--grad-accum", "4", "--lr", str(s["lr"]), "--warmup-ratio", "0.05", "--max-length",
              MAX_LENGTH, "--lora-rank", "8", "--lora-alpha", "16", "--lora-dropout", "0.05"]
    evaluate = ["evaluate", "--model", MODEL, "--data", val, "--max-new-tokens", "48", "--max-length", MAX_LENGTH,
                "--skip-original", "--keep-samples", "-1", "--max-examples", str(EVALUATED)]
    out = {"variant": name, "task": task}
    out.update(s)
    if s["full"]:
        adapter = os.path.join(work, "full-lora-%d-%g" % (s["steps"], s["lr"]))
        trained = cached(adapter + ".json", lambda: (shutil.rmtree(adapter, ignore_errors=True), emloc(
            ["train", MODEL, "--data", fit, "--out", adapter, "--steps", str(s["steps"])] + recipe, device, log))[1])
        ev = cached(adapter + ".eval.json", lambda: emloc(evaluate + ["--adapter", adapter], device, log))
        out["train_peak_mib"] = trained["peak_memory_bytes"] / 2**20
        out["train_seconds"] = trained["seconds"]
        out["models"] = {"full-model LoRA": rows_of(ev)["original+lora"]}
        return out
    tag = "%g-%d" % (s["ratio"], s["calibration"]) + ("-dense%d" % s["dense_last"] if s["dense_last"] else "")
    emulator = os.path.join(work, "emulator-" + tag)
    dense = []
    for layer in range(30 - s["dense_last"], 30):  # SmolLM2-135M has 30 decoder layers
        dense += ["--override", "model.layers.%d.*=dense" % layer]
    built = cached(emulator + ".json", lambda: emloc(
        ["build-emulator", MODEL, "--data", fit, "--out", emulator, "--ratio", str(s["ratio"]),
         "--calibration-samples", str(s["calibration"]), "--max-length", MAX_LENGTH, "--overwrite"] + dense,
        device, log))
    adapter = os.path.join(work, "lora-%s-%d-%g" % (tag, s["steps"], s["lr"]))
    trained = cached(adapter + ".json", lambda: (shutil.rmtree(adapter, ignore_errors=True), emloc(
        ["train", emulator, "--data", fit, "--out", adapter, "--steps", str(s["steps"])] + recipe, device, log))[1])
    corrected = adapter + "-clamp-%g" % s["clamp"]
    clamp = ["--no-clamp"] if s["clamp"] == 0 else ["--clamp", str(s["clamp"])]
    cached(corrected + ".json", lambda: emloc(
        ["correct", "--model", MODEL, "--emulator", emulator, "--adapter", adapter, "--out", corrected,
         "--overwrite"] + clamp, device, log))
    ev = cached(adapter + ".eval.json", lambda: emloc(evaluate + ["--emulator", emulator, "--adapter", adapter],
                                                      device, log))
    evc = cached(corrected + ".eval.json", lambda: emloc(evaluate + ["--corrected", corrected], device, log))
    models = {"emulator + LoRA": rows_of(ev)["emulator+lora"], "uncorrected": rows_of(ev)["original+lora"],
              "corrected": rows_of(evc)["original+corrected"]}
    out["stage1_peak_mib"] = built.get("peak_memory_bytes", 0) / 2**20
    out["train_peak_mib"] = trained["peak_memory_bytes"] / 2**20
    out["train_seconds"] = trained["seconds"]
    if s["refine"]:
        refined = corrected + "-refine-%d-%d-%g" % (s["refine"], s["refine_steps"], s["refine_lr"])
        r = cached(refined + ".json", lambda: emloc(
            ["refine", "--model", MODEL, "--adapter", corrected, "--data", fit, "--out", refined, "--layers",
             str(s["refine"]), "--steps", str(s["refine_steps"]), "--lr", str(s["refine_lr"]), "--max-length",
             MAX_LENGTH, "--overwrite"], device, log))
        evr = cached(refined + ".eval.json", lambda: emloc(evaluate + ["--corrected", refined], device, log))
        models["corrected + refined"] = rows_of(evr)["original+corrected"]
        out["refine_peak_mib"] = r["training"]["peak_memory_bytes"] / 2**20
        out["refine_seconds"] = r["training"]["seconds"]
    out["models"] = models
    return out


def percent(m):
    return "%d/%d exact, %d/%d stop, loss %.3f" % (m["matched"], m["generated"], m["stopped"], m["generated"],
                                                   m["loss"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="bookings", choices=sorted(TASKS))
    parser.add_argument("--work", default=None)
    parser.add_argument("--only", action="append", help="variant(s) to run (default: all)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    work = args.work or os.path.join(ROOT, "bench", "results", "study-" + args.task)
    os.makedirs(work, exist_ok=True)
    names = args.only or list(VARIANTS)
    results = []
    for name in names:
        started = time.time()
        result = run_variant(name, VARIANTS[name], args.task, work, args.device)
        results.append(result)
        print("%-22s %s  (%.0f s)" % (name, " | ".join("%s: %s" % (k, percent(m)) for k, m in
                                                         result["models"].items()), time.time() - started),
              flush=True)
    with open(os.path.join(work, "study.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["task", "variant", "model", "exact", "stopped", "n", "loss", "train_peak_mib",
                         "refine_peak_mib"])
        for r in results:
            for model, m in r["models"].items():
                writer.writerow([r["task"], r["variant"], model, m["matched"], m["stopped"], m["generated"],
                                 "%.4f" % m["loss"], "%.0f" % r.get("train_peak_mib", 0),
                                 "%.0f" % r.get("refine_peak_mib", 0)])


if __name__ == "__main__":
    main()
