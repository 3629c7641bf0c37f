"""Writes the fuzzers' seed corpora into tests/fuzz/corpus/<target>/ (small, valid files of every kind the
readers accept, made with the reference libraries: safetensors, gguf, tokenizers). Run with the project's
venv: .venv/bin/python tests/fuzz/make_corpus.py. The files are committed; rerun only to change them."""
import json
import pathlib

import numpy as np
import gguf
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers, normalizers

ROOT = pathlib.Path(__file__).parent / "corpus"
SOURCE = pathlib.Path(__file__).parents[2]


def folder(name):
    path = ROOT / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def safetensors_seeds():
    out = folder("fuzz_safetensors")
    save_file({"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}, str(out / "f32.safetensors"))
    save_file({"a": torch.ones(2, 2, dtype=torch.float16), "b": torch.zeros(3, dtype=torch.bfloat16),
               "i": torch.arange(3, dtype=torch.int64)}, str(out / "mixed.safetensors"),
              metadata={"format": "pt"})
    save_file({"empty": torch.zeros(0, 4), "scalar": torch.tensor(1.5, dtype=torch.float64)},
              str(out / "edge.safetensors"))


def gguf_seeds():
    out = folder("fuzz_gguf")
    rng = np.random.default_rng(0)
    for name, types in {"float.gguf": [gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16],
                        "quant.gguf": [gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.Q4_0,
                                       gguf.GGMLQuantizationType.Q4_1]}.items():
        writer = gguf.GGUFWriter(str(out / name), "llama")
        writer.add_block_count(1)
        writer.add_context_length(64)
        writer.add_string("tokenizer.ggml.model", "gpt2")
        writer.add_array("tokenizer.ggml.tokens", ["a", "b", "<s>"])
        for index, kind in enumerate(types):
            values = rng.standard_normal((2, 32)).astype(np.float32)
            if kind == gguf.GGMLQuantizationType.F16:
                writer.add_tensor(f"t{index}", values.astype(np.float16))
            elif kind == gguf.GGMLQuantizationType.F32:
                writer.add_tensor(f"t{index}", values)
            else:
                writer.add_tensor(f"t{index}", gguf.quants.quantize(values, kind), raw_dtype=kind)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()


def tokenizer_seeds():
    out = folder("fuzz_tokenizer")
    text = ["hello world, hello tokens", "你好 世界", "numbers 123 456", "<|im_start|>user hi<|im_end|>"] * 4
    byte_level = Tokenizer(models.BPE())
    byte_level.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    byte_level.decoder = decoders.ByteLevel()
    byte_level.train_from_iterator(text, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    byte_level.save(str(out / "byte_level_bpe.json"))
    metaspace = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>"))
    metaspace.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    metaspace.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    metaspace.train_from_iterator(text, trainers.BpeTrainer(
        vocab_size=120, special_tokens=["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(16)]))
    metaspace.save(str(out / "metaspace_byte_fallback.json"))


def sentencepiece_seeds():
    import os
    import tempfile
    import sentencepiece as spm
    out = folder("fuzz_sentencepiece")
    text = "hello world, hello tokens\n你好 世界\nnumbers 123 456\n" * 20
    with tempfile.TemporaryDirectory() as work:
        corpus = os.path.join(work, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write(text)
        for name, kind, extra in (("bpe_dummy_prefix", "bpe", {}), ("bpe_no_prefix", "bpe", {"add_dummy_prefix": False}),
                                  ("unigram", "unigram", {})):
            spm.SentencePieceTrainer.train(
                input=corpus, model_prefix=os.path.join(work, name), model_type=kind, vocab_size=300 if kind == "bpe" else 30,
                byte_fallback=kind == "bpe", normalization_rule_name="identity", remove_extra_whitespaces=False,
                user_defined_symbols=["<|im_start|>"], minloglevel=2, **extra)
            (out / (name + ".model")).write_bytes(pathlib.Path(work, name + ".model").read_bytes())


def config_seeds():
    out = folder("fuzz_model_config")
    base = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "vocab_size": 300, "max_position_embeddings": 256, "rms_norm_eps": 1e-6,
            "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "float32"}
    llama = dict(base, model_type="llama", architectures=["LlamaForCausalLM"])
    (out / "llama.json").write_text(json.dumps(llama, indent=1))
    llama3 = dict(llama, rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                       "high_freq_factor": 4.0, "original_max_position_embeddings": 128})
    (out / "llama3_rope.json").write_text(json.dumps(llama3, indent=1))
    qwen2 = dict(base, model_type="qwen2", architectures=["Qwen2ForCausalLM"], tie_word_embeddings=True)
    (out / "qwen2.json").write_text(json.dumps(qwen2, indent=1))
    # InternVL in both layouts (the same target reads vision-language configs).
    vision = {"hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64, "num_hidden_layers": 2,
              "image_size": 56, "patch_size": 14, "qkv_bias": True, "qk_normalization": True,
              "norm_type": "rms_norm", "layer_norm_eps": 1e-6, "hidden_act": "gelu"}
    internlm2 = dict(base, model_type="internlm2", architectures=["InternLM2ForCausalLM"], bias=False,
                     rope_scaling={"type": "dynamic", "factor": 2.0})
    original = {"architectures": ["InternVLChatModel"], "model_type": "internvl_chat", "downsample_ratio": 0.5,
                "force_image_size": 56, "ps_version": "v2", "select_layer": -1, "vision_config": vision,
                "llm_config": internlm2}
    (out / "internvl_original.json").write_text(json.dumps(original, indent=1))
    hf_vision = dict(vision, image_size=[56, 56], patch_size=[14, 14], attention_bias=True, use_qk_norm=False,
                     norm_type="layer_norm", model_type="internvl_vision")
    hf = {"architectures": ["InternVLForConditionalGeneration"], "model_type": "internvl", "image_token_id": 250,
          "downsample_ratio": 0.5, "vision_feature_layer": -1, "vision_config": hf_vision, "text_config": qwen2}
    (out / "internvl_hf.json").write_text(json.dumps(hf, indent=1))


def dataset_seeds():
    out = folder("fuzz_dataset")
    selector = {".jsonl": b"\x00", ".json": b"\x01", ".txt": b"\x02", ".csv": b"\x03", ".tsv": b"\x04"}
    for path in sorted((SOURCE / "tests/data/datasets").rglob("*")):
        if path.suffix in selector:
            (out / path.name).write_bytes(selector[path.suffix] + path.read_bytes())


def chat_template_seeds():
    out = folder("fuzz_chat_template")
    config = json.loads((SOURCE / ".cache/models/SmolLM2-135M-Instruct/tokenizer_config.json").read_text())
    (out / "smollm2_chatml.jinja").write_text(config["chat_template"])
    (out / "llama3.jinja").write_text(
        "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
        "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")
    (out / "llama2_raise.jinja").write_text(
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
        "{% else %}{% set loop_messages = messages %}{% endif %}"
        "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('roles must alternate') }}{% endif %}"
        "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}"
        "{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}")


if __name__ == "__main__":
    safetensors_seeds()
    gguf_seeds()
    tokenizer_seeds()
    sentencepiece_seeds()
    config_seeds()
    dataset_seeds()
    chat_template_seeds()
    for target in sorted(ROOT.iterdir()):
        files = list(target.iterdir())
        print(f"{target.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")
