"""Reference fixtures for the core I/O tests (tests/io), made with the real Python packages.

  safetensors OUT        files written by the `safetensors` package (+ OUT/expected.json)
  check FILE EXPECTED    reads FILE (written by our C++ writer) with `safetensors`; compares to EXPECTED
  configs OUT            config.json files written by transformers' save_pretrained (+ expected.json each)
  describe DIR...        what transformers reads from config folders (written by us), as JSON on stdout
  model OUT              a tiny random LlamaForCausalLM saved single-file and sharded (+ expected.json)

Values go through JSON as float64 (exact for every stored dtype) so the C++ side can compare exactly.
"""

import json
import os
import struct
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file

DTYPE_NAMES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def describe(tensor):
    values = tensor.flatten()
    if tensor.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool):
        values = values.to(torch.int64).tolist()
    else:
        values = values.to(torch.float64).tolist()
    return {"dtype": DTYPE_NAMES[tensor.dtype], "shape": list(tensor.shape), "values": values}


def mixed_tensors():
    g = torch.Generator().manual_seed(1234)
    return {
        "f32.weight": torch.randn(3, 4, generator=g),
        "f16.values": torch.randn(5, generator=g).to(torch.float16),
        "bf16.block": torch.randn(2, 3, 2, generator=g).to(torch.bfloat16),
        "f64.exact": torch.tensor([1.0 / 3.0, -2.5e-300, 1e300, 0.0], dtype=torch.float64),
        "i64.big": torch.tensor([-(2 ** 62), 0, 2 ** 53 + 1], dtype=torch.int64),
        "i32.ids": torch.tensor([[1, -2], [2 ** 31 - 1, -(2 ** 31)]], dtype=torch.int32),
        "i16.small": torch.tensor([-32768, 7, 32767], dtype=torch.int16),
        "i8.bytes": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8.bytes": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "bool.mask": torch.tensor([True, False, True, True]),
        "empty.rows": torch.zeros(0, 3),
        "scalar": torch.tensor(2.75),
    }


def make_safetensors(out):
    os.makedirs(out, exist_ok=True)
    tensors = mixed_tensors()
    save_file(tensors, os.path.join(out, "mixed.safetensors"), metadata={"format": "pt", "note": "hello"})
    expected = {"mixed": {name: describe(t) for name, t in tensors.items()},
                "metadata": {"format": "pt", "note": "hello"}}

    sharded = os.path.join(out, "sharded")
    os.makedirs(sharded, exist_ok=True)
    g = torch.Generator().manual_seed(99)
    shards = [
        {"model.embed_tokens.weight": torch.randn(8, 4, generator=g).to(torch.bfloat16),
         "model.layers.0.mlp.up_proj.weight": torch.randn(6, 4, generator=g)},
        {"model.layers.1.mlp.up_proj.weight": torch.randn(6, 4, generator=g).to(torch.float16),
         "lm_head.weight": torch.randn(8, 4, generator=g)},
    ]
    weight_map = {}
    total = 0
    for index, shard in enumerate(shards):
        file_name = f"model-{index + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, os.path.join(sharded, file_name), metadata={"format": "pt"})
        for name, tensor in shard.items():
            weight_map[name] = file_name
            total += tensor.numel() * tensor.element_size()
    with open(os.path.join(sharded, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    expected["sharded"] = {name: describe(t) for shard in shards for name, t in shard.items()}
    expected["sharded_total_bytes"] = total
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


def check(path, expected_path):
    with open(expected_path) as f:
        expected = json.load(f)
    problems = []
    with open(path, "rb") as f:
        header_size = struct.unpack("<Q", f.read(8))[0]
        header = f.read(header_size)
    if (8 + header_size) % 8 != 0:
        problems.append(f"data section starts at {8 + header_size}, not 8-byte aligned")
    if header.rstrip(b" ") != header.rstrip():
        problems.append("header padding is not spaces")
    with safe_open(path, framework="pt") as f:
        if f.metadata() != expected.get("metadata", {}):
            problems.append(f"metadata {f.metadata()} != {expected.get('metadata')}")
        names = set(f.keys())
        if names != set(expected["tensors"]):
            problems.append(f"names {sorted(names)} != {sorted(expected['tensors'])}")
        for name, want in expected["tensors"].items():
            if name not in names:
                continue
            got = describe(f.get_tensor(name))
            for key in ("dtype", "shape", "values"):
                if got[key] != want[key]:
                    problems.append(f"{name}: {key} {got[key]} != {want[key]}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("OK")


def parameter_count(config):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())  # tied weights are counted once


def sliding_window_of(config):
    window = getattr(config, "sliding_window", None) or 0
    if config.model_type == "mistral":
        return window
    layer_types = getattr(config, "layer_types", None) or []
    if getattr(config, "use_sliding_window", False) and layer_types and \
            all(t == "sliding_attention" for t in layer_types):
        return window
    return 0


def expected_of(config):
    """The fields our ModelConfig holds, as transformers understands the config."""
    rope = config.rope_parameters or {}
    eos = config.eos_token_id
    return {
        "model_type": config.model_type, "vocab_size": config.vocab_size, "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size, "num_layers": config.num_hidden_layers,
        "num_heads": config.num_attention_heads, "num_kv_heads": config.num_key_value_heads,
        "head_dim": getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads,
        "max_position_embeddings": config.max_position_embeddings, "rms_norm_eps": config.rms_norm_eps,
        "rope_theta": rope.get("rope_theta", 10000.0),
        "rope_type": "" if rope.get("rope_type", "default") == "default" else rope["rope_type"],
        "rope_factor": rope.get("factor", 1.0), "low_freq_factor": rope.get("low_freq_factor", 1.0),
        "high_freq_factor": rope.get("high_freq_factor", 4.0),
        "original_max_position_embeddings": rope.get("original_max_position_embeddings", 8192),
        "tie_word_embeddings": config.tie_word_embeddings,
        "sliding_window": sliding_window_of(config),
        "bos_token_id": -1 if config.bos_token_id is None else config.bos_token_id,
        "eos_token_ids": [] if eos is None else (list(eos) if isinstance(eos, (list, tuple)) else [eos]),
        "dtype": str(config.dtype).replace("torch.", "") if config.dtype is not None else "float32",
        "parameters": parameter_count(config),
    }


def describe_configs(folders):
    """Reads config folders (ours) with transformers and prints what it understood, as JSON."""
    from transformers import AutoConfig
    print(json.dumps({folder: expected_of(AutoConfig.from_pretrained(folder)) for folder in folders}))


def make_configs(out):
    from transformers import LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config

    common = dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=16384)
    configs = {
        "llama3": LlamaConfig(**common, rms_norm_eps=1e-5, tie_word_embeddings=True, bos_token_id=5,
                              eos_token_id=[6, 7], dtype="bfloat16",
                              rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192,
                                            "rope_theta": 500000.0}),
        "mistral": MistralConfig(**common, sliding_window=4096, rope_theta=1000000.0, bos_token_id=1,
                                 eos_token_id=2),
        "mistral_nowindow": MistralConfig(**common, sliding_window=None),
        "qwen2": Qwen2Config(**common, tie_word_embeddings=True, eos_token_id=9, dtype="float16"),
        "qwen2_sliding": Qwen2Config(**common, use_sliding_window=True, sliding_window=512, max_window_layers=0),
        "qwen3": Qwen3Config(**{**common, "head_dim": 24}, rms_norm_eps=1e-6, eos_token_id=3),
    }
    for name, config in configs.items():
        folder = os.path.join(out, name)
        config.save_pretrained(folder)
        with open(os.path.join(folder, "expected.json"), "w") as f:
            json.dump(expected_of(config), f, indent=1)

    # The spelling of transformers 4.x (top-level rope_theta, rope_scaling with "type"), written by hand
    # because transformers 5 always writes rope_parameters.
    legacy = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], **common,
              "rope_theta": 250000.0, "rope_scaling": {"type": "linear", "factor": 4.0},
              "torch_dtype": "float16", "bos_token_id": 1, "eos_token_id": 2}
    os.makedirs(os.path.join(out, "llama_legacy"), exist_ok=True)
    with open(os.path.join(out, "llama_legacy", "config.json"), "w") as f:
        json.dump(legacy, f, indent=1)
    # What transformers understands from it is the expectation.
    reread = LlamaConfig.from_pretrained(os.path.join(out, "llama_legacy"))
    with open(os.path.join(out, "llama_legacy", "expected.json"), "w") as f:
        json.dump(expected_of(reread), f, indent=1)


def make_model(out):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                         bos_token_id=1, eos_token_id=2)
    model = LlamaForCausalLM(config)
    model.save_pretrained(os.path.join(out, "single"))
    model.save_pretrained(os.path.join(out, "sharded"), max_shard_size="20KB")
    expected = {name: describe(t.detach()) for name, t in model.state_dict().items()}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


def main():
    command = sys.argv[1]
    if command == "safetensors":
        make_safetensors(sys.argv[2])
    elif command == "check":
        check(sys.argv[2], sys.argv[3])
    elif command == "configs":
        make_configs(sys.argv[2])
    elif command == "describe":
        describe_configs(sys.argv[2:])
    elif command == "model":
        make_model(sys.argv[2])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
