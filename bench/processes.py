#!/usr/bin/env python3
"""Stages 1 and 2 of the demo's job as 1 and 2 processes (`emloc run --nproc N`, Gloo over the loopback
address), on this machine: time, stage 2's throughput and each process's peak memory, beside the
planner's prediction for one process of that many (`emloc plan --processes N`).

Usage: bench/processes.sh [--processes 1,2] [--steps 16] [--out bench/results]
Each process gets the machine's usable cores divided by the processes (as `emloc run` does by default).
Writes processes.csv into --out and prints the table. Stage 3 and the evaluation run on rank 0 alone and
are left out (no held-out data, no exports).
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "app", "cli", "emloc")
MODEL = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct")
TRAIN = os.path.join(ROOT, "resources", "demo", "bookings-train.jsonl")


def mib(value):
    return "%.0f" % (value / 2**20) if value and value > 0 else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = parser.parse_args()
    if not os.path.isdir(MODEL) or not os.path.exists(CLI):
        sys.exit("bench: run scripts/setup.sh first (it builds emloc and converts the demo model)")
    work = tempfile.mkdtemp(prefix="emloc-processes-")
    config = {
        "model": MODEL, "output": os.path.join(work, "unused"), "device": "cpu",
        "data": {"train": TRAIN, "max_length": 160},
        "emulator": {"ratio": 0.4, "calibration_samples": 64},
        # The demo's recipe: batch 2 x 4 (4 micro-batches per step: 2 per process at 2 processes).
        "train": {"steps": args.steps, "batch": 2, "grad_accum": 4, "lr": 0.001, "warmup_ratio": 0.05,
                  "lora": {"rank": 8, "alpha": 16, "dropout": 0.05}},
        "correct": {"refine_layers": 0}, "export": []}
    config_path = os.path.join(work, "run.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    rows = []
    for processes in [int(p) for p in args.processes.split(",")]:
        plan = json.loads(subprocess.run([CLI, "--json", "plan", MODEL, "--ratio", "0.4", "--batch", "2", "--grad-accum",
                                          "4", "--max-length", "160", "--lora-rank", "8", "--calibration-samples", "64",
                                          "--processes", str(processes)],
                                         capture_output=True, text=True, check=True).stdout)
        planned = {"emulator": plan["construction"]["total_bytes"], "train": plan["fine_tuning"]["total_bytes"]}
        out = os.path.join(work, "n%d" % processes)
        command = [CLI, "-q", "run", config_path, "--output", out]
        if processes > 1:
            command += ["--nproc", str(processes)]
        started = time.time()
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit("bench: %s failed:\n%s" % (" ".join(command), done.stderr[-3000:]))
        wall = time.time() - started
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        stages = {s["stage"]: s for s in summary["stages"]}
        train = stages["train"]["details"]
        tokens, count = 0, 0
        with open(os.path.join(out, "train", "metrics.jsonl")) as f:
            for line in f:
                sample = json.loads(line)
                if sample.get("stage") == "train" and sample.get("tokens_per_s", -1) > 0:
                    tokens += sample["tokens_per_s"]
                    count = sample["step"]
        for key in ("emulator", "train"):
            details = stages[key]["details"]
            peaks = details.get("rank_peak_memory_bytes", [stages[key].get("peak_memory_bytes", -1)])
            rows.append({"processes": processes, "stage": key, "seconds": round(stages[key]["seconds"], 1),
                         "tokens_per_second": round(tokens / max(1, count), 1) if key == "train" else "",
                         "seconds_per_step": round(train.get("seconds_per_step", 0), 2) if key == "train" else "",
                         "exchange_seconds_per_step": round(train.get("gradient_exchange_seconds", 0) / max(1, train.get("steps", 1)), 3)
                         if key == "train" else "",
                         "peak_mib_per_process": " ".join(mib(p) for p in peaks),
                         "planned_mib_per_process": mib(planned[key]),
                         "wall_seconds": round(wall, 1)})
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "processes.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    print("| processes | stage | time (s) | s/step | of which gradient exchange | tokens/s | peak per process (MiB) |"
          " planned per process (MiB) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
            r["processes"], r["stage"], r["seconds"], r["seconds_per_step"], r["exchange_seconds_per_step"],
            r["tokens_per_second"], r["peak_mib_per_process"], r["planned_mib_per_process"]))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
