"""Independent checks of files our C++ GGUF code wrote, with llama.cpp's `gguf` package, transformers
and (when installed) llama-cpp-python.

Usage: gguf_check.py COMMAND ARGS...  Prints one JSON line; exit 0 = pass, 1 = mismatch, 3 = missing
optional package.
"""

import json
import sys

import numpy as np

PROMPT = "<|im_start|>user\nWhat is the capital of France? Answer briefly.<|im_end|>\n<|im_start|>assistant\n"


def field_value(field):
    import gguf

    if field.types and field.types[0] == gguf.GGUFValueType.ARRAY:
        return list(field.contents())
    return field.contents()


def check_written(path, expect_path):
    """Our GgufWriter's output read by gguf.GGUFReader: every key with its type and value, every
    tensor with its type, GGUF dims and values."""
    import gguf

    expect = json.load(open(expect_path))
    reader = gguf.GGUFReader(path)
    problems = []
    keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    if keys != [k["key"] for k in expect["keys"]]:
        problems.append({"keys": keys})
    for entry in expect["keys"]:
        field = reader.fields.get(entry["key"])
        if field is None:
            continue
        types = [t.name for t in field.types]
        if types != entry["types"]:
            problems.append({"key": entry["key"], "types": types, "expected": entry["types"]})
        value = field_value(field)
        want = entry["value"]
        if isinstance(want, float) or (isinstance(want, list) and want and isinstance(want[0], float)):
            ok = np.allclose(np.asarray(value, dtype=np.float64), np.asarray(want, dtype=np.float64), rtol=1e-7)
        else:
            ok = value == want
        if not ok:
            problems.append({"key": entry["key"], "value": str(value)[:200], "expected": str(want)[:200]})
    tensors = {t.name: t for t in reader.tensors}
    for entry in expect["tensors"]:
        tensor = tensors.get(entry["name"])
        if tensor is None:
            problems.append({"tensor": entry["name"], "missing": True})
            continue
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float64).reshape(-1)
        diff = float(np.abs(values - np.asarray(entry["values"], dtype=np.float64)).max())
        if tensor.tensor_type.name != entry["type"] or list(map(int, tensor.shape)) != entry["dims"] or diff > entry["tol"]:
            problems.append({"tensor": entry["name"], "type": tensor.tensor_type.name,
                             "dims": list(map(int, tensor.shape)), "max_abs_diff": diff})
    if reader.alignment != expect["alignment"]:
        problems.append({"alignment": reader.alignment})
    print(json.dumps({"keys": len(keys), "tensors": len(reader.tensors), "problems": problems}))
    return 1 if problems else 0


def compare_export(original_path, ours_path):
    """Our export (F32) of a GGUF against the original: same tokenizer and hyperparameter metadata,
    same tensor names, shapes, and values equal to the original's dequantised values."""
    import gguf

    original = gguf.GGUFReader(original_path)
    ours = gguf.GGUFReader(ours_path)
    problems = []
    arch = field_value(original.fields["general.architecture"])
    if field_value(ours.fields["general.architecture"]) != arch:
        problems.append("architecture")
    compared = 0
    for key, field in original.fields.items():
        if not (key.startswith("tokenizer.") or key.startswith(arch + ".")):
            continue
        if key not in ours.fields:
            problems.append({"missing_key": key})
            continue
        a, b = field_value(field), field_value(ours.fields[key])
        if isinstance(a, float):
            ok = abs(a - b) <= 1e-6 * max(1.0, abs(a))
        else:
            ok = a == b
        compared += 1
        if not ok:
            problems.append({"key": key, "original": str(a)[:120], "ours": str(b)[:120]})
    theirs = {t.name: t for t in original.tensors}
    mine = {t.name: t for t in ours.tensors}
    if set(theirs) != set(mine):
        problems.append({"tensor_names_only_original": sorted(set(theirs) - set(mine))[:5],
                         "only_ours": sorted(set(mine) - set(theirs))[:5]})
    worst = 0.0
    for name in sorted(set(theirs) & set(mine)):
        a = gguf.quants.dequantize(theirs[name].data, theirs[name].tensor_type)
        b = gguf.quants.dequantize(mine[name].data, mine[name].tensor_type)
        if mine[name].tensor_type.name != "F32":
            problems.append({"tensor": name, "type": mine[name].tensor_type.name})
        if list(theirs[name].shape) != list(mine[name].shape):
            problems.append({"tensor": name, "shape": [list(map(int, theirs[name].shape)), list(map(int, mine[name].shape))]})
            continue
        worst = max(worst, float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()))
    if worst != 0.0:
        problems.append({"max_abs_tensor_diff": worst})
    print(json.dumps({"keys_compared": compared, "tensors": len(mine), "max_abs_tensor_diff": worst,
                      "problems": problems}))
    return 1 if problems else 0


def hf_logits(folder, ids):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].double()


def convert_logits(folder, gguf_path):
    """The converted folder in transformers (model + tokenizer) against transformers loading the GGUF
    itself (it dequantises): same token ids for a chat prompt, logits within 1e-4."""
    import os

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    gguf_dir, gguf_name = os.path.dirname(gguf_path), os.path.basename(gguf_path)
    ref_tok = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
    our_tok = AutoTokenizer.from_pretrained(folder)
    ids = ref_tok(PROMPT)["input_ids"]
    our_ids = our_tok(PROMPT)["input_ids"]
    reference = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32)
    reference.eval()
    with torch.no_grad():
        ref = reference(torch.tensor([ids])).logits[0].double()
    ours = hf_logits(folder, ids)
    diff = float((ours - ref).abs().max())
    scale = float(ref.abs().max())
    rendered = our_tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False)
    result = {"tokens": len(ids), "ids_equal": ids == our_ids, "max_abs_diff": diff, "logit_scale": scale,
              "argmax_equal": bool((ours.argmax(-1) == ref.argmax(-1)).all()), "chat_template_ok": "<|im_start|>user" in rendered}
    print(json.dumps(result))
    return 0 if (result["ids_equal"] and diff < 1e-4 and result["argmax_equal"] and result["chat_template_ok"]) else 1


def llamacpp_logits(gguf_path, folder):
    """llama.cpp running our GGUF against transformers running the Hugging Face folder: next-token
    logits for every prompt position, max abs difference below 1e-2 of the logit scale."""
    try:
        import llama_cpp
    except ImportError:
        print(json.dumps({"skipped": "llama-cpp-python is not installed"}))
        return 3
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    ids = tok(PROMPT)["input_ids"]
    llm = llama_cpp.Llama(model_path=gguf_path, n_ctx=256, logits_all=True, n_threads=2, verbose=False,
                          n_gpu_layers=0)
    llm.eval(ids)
    ours = np.asarray(llm.scores[: len(ids)], dtype=np.float64)
    ref = hf_logits(folder, ids).numpy()
    diff = float(np.abs(ours - ref).max())
    scale = float(np.abs(ref).max())
    # llama.cpp's own tokenizer on the same text (special tokens parsed) must give the same ids.
    cpp_ids = llm.tokenize(PROMPT.encode(), add_bos=False, special=True)
    result = {"llama_cpp": llama_cpp.__version__, "tokens": len(ids), "max_abs_diff": diff, "logit_scale": scale,
              "relative": diff / scale, "argmax_equal": bool((ours.argmax(-1) == ref.argmax(-1)).all()),
              "tokenizer_ids_equal": list(cpp_ids) == list(ids)}
    print(json.dumps(result))
    return 0 if (diff / scale < 1e-2 and result["argmax_equal"] and result["tokenizer_ids_equal"]) else 1


def main():
    command, args = sys.argv[1], sys.argv[2:]
    commands = {"check_written": check_written, "compare_export": compare_export, "convert_logits": convert_logits,
                "llamacpp_logits": llamacpp_logits}
    if command not in commands:
        raise SystemExit(f"unknown command {command}")
    return commands[command](*args)


if __name__ == "__main__":
    sys.exit(main())
