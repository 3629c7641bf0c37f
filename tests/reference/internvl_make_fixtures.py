#!/usr/bin/env python3
"""Random-weight InternVL models for the vision-language suites, with transformers' logits and greedy
generations as the reference.

Each variant is one transformers `InternVLForConditionalGeneration` (the `-hf` layout), saved with
save_pretrained, and the same weights written again in the original `InternVLChatModel` layout that
OpenGVLab publishes (`vision_model` with a fused qkv, `mlp1`, `language_model`). The original layout's
tensors are derived here from the transformers model:
  - InternViT's `attn.qkv` is q, k and v stacked by rows (the reference code reshapes its output to
    (3, heads, head_dim) in that order);
  - an InternLM2 language model's `attention.wqkv` groups the rows per key/value head: for each of the
    kv heads, its `heads / kv_heads` query heads, then its key head, then its value head (InternLM2's
    modeling code rearranges "(h gs d)" with gs = groups + 2). transformers has no InternLM2 class; the
    same decoder is a Llama one, which is what the reference runs.
The original layout has no image token id in its config: the id of "<IMG_CONTEXT>" comes from the
tokenizer. Both folders get the same small byte-level BPE tokenizer (trained here) with InternVL's
special tokens and a ChatML template.

Beyond the model's logits, an end-to-end reference for `emloc generate --image`: images drawn here,
tiled as InternVL's published preprocessing does (vision_reference.py), the prompt rendered with the
chat template and its <image> placeholder expanded after it as InternVL's chat() does, tokenized by
the Hugging Face tokenizer, and greedily continued by transformers.

usage: internvl_make_fixtures.py OUT_DIR
Prints a JSON summary (variants and their folders) as its last line.
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import InternVLConfig, InternVLForConditionalGeneration, PreTrainedTokenizerFast

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vision_reference import tiles_of  # noqa: E402  (InternVL's dynamic_preprocess, restated)

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "<IMG_CONTEXT>", "</img>"]
IMAGE_TOKEN = SPECIAL.index("<IMG_CONTEXT>")
VOCAB = 320
CHAT_TEMPLATE = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
                 "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
TILE = 56  # 4 x 4 patches of 14 pixels; after the 0.5 pixel-unshuffle, 4 tokens per tile


def vision_config(qk_norm, norm_type, image_size=TILE):
    return {"hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 64,
            "image_size": [image_size, image_size], "patch_size": [14, 14], "attention_bias": True,
            "use_qk_norm": qk_norm, "norm_type": norm_type, "layer_norm_eps": 1e-6, "hidden_act": "gelu",
            "use_mean_pooling": True, "layer_scale_init_value": 0.1}


def text_config(family, tied):
    common = {"vocab_size": VOCAB, "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2,
              "num_attention_heads": 6, "num_key_value_heads": 2, "max_position_embeddings": 512,
              "rms_norm_eps": 1e-6, "tie_word_embeddings": tied, "bos_token_id": 1,
              "eos_token_id": SPECIAL.index("<|im_end|>")}
    if family == "qwen2":
        return dict(common, model_type="qwen2", rope_theta=1000000.0)
    return dict(common, model_type="llama", rope_theta=50000.0)


# (name, language family, tied, vision qk norm, vision norm, vision feature layer, position grid of the
# checkpoint when it differs from the tile's)
VARIANTS = [
    ("qwen2", "qwen2", True, False, "layer_norm", -1, None),
    ("internlm2", "internlm2", False, True, "rms_norm", -1, None),
    ("qwen2_interpolated", "qwen2", False, False, "layer_norm", -2, 42),
]


def randomise(model, generator):
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if name.endswith("norm.weight") or "layernorm" in name or "layer_norm.weight" in name:
                parameter.copy_(1.0 + 0.1 * noise)
            else:
                parameter.copy_(0.08 * noise)


def original_tensors(state, cfg, family):
    """The transformers model's tensors under the original InternVLChatModel names."""
    out = {}
    vision_layers = cfg.vision_config.num_hidden_layers
    v = "model.vision_tower."
    out["vision_model.embeddings.class_embedding"] = state[v + "embeddings.cls_token"]
    out["vision_model.embeddings.patch_embedding.weight"] = state[v + "embeddings.patch_embeddings.projection.weight"]
    out["vision_model.embeddings.patch_embedding.bias"] = state[v + "embeddings.patch_embeddings.projection.bias"]
    out["vision_model.embeddings.position_embedding"] = state[v + "embeddings.position_embeddings"]
    for i in range(vision_layers):
        s, o = f"{v}encoder.layer.{i}.", f"vision_model.encoder.layers.{i}."
        att = s + "attention."
        out[o + "attn.qkv.weight"] = torch.cat([state[att + p + "_proj.weight"] for p in "qkv"], 0)
        out[o + "attn.qkv.bias"] = torch.cat([state[att + p + "_proj.bias"] for p in "qkv"], 0)
        if att + "q_norm.weight" in state:
            out[o + "attn.q_norm.weight"] = state[att + "q_norm.weight"]
            out[o + "attn.k_norm.weight"] = state[att + "k_norm.weight"]
        out[o + "attn.proj.weight"] = state[att + "projection_layer.weight"]
        out[o + "attn.proj.bias"] = state[att + "projection_layer.bias"]
        for p in ("fc1", "fc2"):
            out[o + f"mlp.{p}.weight"] = state[s + f"mlp.{p}.weight"]
            out[o + f"mlp.{p}.bias"] = state[s + f"mlp.{p}.bias"]
        for ours, theirs in (("norm1", "layernorm_before"), ("norm2", "layernorm_after")):
            out[o + ours + ".weight"] = state[s + theirs + ".weight"]
            if s + theirs + ".bias" in state:
                out[o + ours + ".bias"] = state[s + theirs + ".bias"]
        out[o + "ls1"] = state[s + "lambda_1"]
        out[o + "ls2"] = state[s + "lambda_2"]
    p = "model.multi_modal_projector."
    for ours, theirs in (("0", "layer_norm"), ("1", "linear_1"), ("3", "linear_2")):
        out[f"mlp1.{ours}.weight"] = state[p + theirs + ".weight"]
        out[f"mlp1.{ours}.bias"] = state[p + theirs + ".bias"]

    t = "model.language_model."
    lm_head = state.get("lm_head.weight", state[t + "embed_tokens.weight"])
    if family != "internlm2":
        for name, value in state.items():
            if name.startswith(t):
                out["language_model.model." + name[len(t):]] = value
        if not cfg.tie_word_embeddings:
            out["language_model.lm_head.weight"] = state["lm_head.weight"]
        return out

    text = cfg.text_config
    heads, kv_heads = text.num_attention_heads, text.num_key_value_heads
    head_dim = text.hidden_size // heads
    groups = heads // kv_heads
    out["language_model.model.tok_embeddings.weight"] = state[t + "embed_tokens.weight"]
    out["language_model.model.norm.weight"] = state[t + "norm.weight"]
    out["language_model.output.weight"] = lm_head
    for i in range(text.num_hidden_layers):
        s, o = f"{t}layers.{i}.", f"language_model.model.layers.{i}."
        q = state[s + "self_attn.q_proj.weight"].reshape(kv_heads, groups, head_dim, -1)
        k = state[s + "self_attn.k_proj.weight"].reshape(kv_heads, 1, head_dim, -1)
        vv = state[s + "self_attn.v_proj.weight"].reshape(kv_heads, 1, head_dim, -1)
        out[o + "attention.wqkv.weight"] = torch.cat([q, k, vv], 1).reshape(-1, text.hidden_size)
        out[o + "attention.wo.weight"] = state[s + "self_attn.o_proj.weight"]
        out[o + "feed_forward.w1.weight"] = state[s + "mlp.gate_proj.weight"]
        out[o + "feed_forward.w3.weight"] = state[s + "mlp.up_proj.weight"]
        out[o + "feed_forward.w2.weight"] = state[s + "mlp.down_proj.weight"]
        out[o + "attention_norm.weight"] = state[s + "input_layernorm.weight"]
        out[o + "ffn_norm.weight"] = state[s + "post_attention_layernorm.weight"]
    return out


def original_config(cfg, family, tile, select_layer):
    vc, tc = cfg.vision_config, cfg.text_config
    vision = {"architectures": ["InternVisionModel"], "model_type": "intern_vit_6b",
              "hidden_size": vc.hidden_size, "num_attention_heads": vc.num_attention_heads,
              "intermediate_size": vc.intermediate_size, "num_hidden_layers": vc.num_hidden_layers,
              "image_size": vc.image_size[0], "patch_size": vc.patch_size[0], "qkv_bias": True,
              "qk_normalization": vc.use_qk_norm, "norm_type": vc.norm_type, "layer_norm_eps": vc.layer_norm_eps,
              "hidden_act": "gelu", "initializer_factor": 0.1, "num_channels": 3, "drop_path_rate": 0.0,
              "use_flash_attn": False}
    if family == "internlm2":
        llm = {"architectures": ["InternLM2ForCausalLM"], "model_type": "internlm2", "bias": False,
               "hidden_act": "silu", "hidden_size": tc.hidden_size, "intermediate_size": tc.intermediate_size,
               "num_attention_heads": tc.num_attention_heads, "num_key_value_heads": tc.num_key_value_heads,
               "num_hidden_layers": tc.num_hidden_layers, "rms_norm_eps": tc.rms_norm_eps,
               "rope_theta": tc.rope_parameters["rope_theta"], "rope_scaling": {"type": "dynamic", "factor": 2.0},
               "vocab_size": tc.vocab_size, "max_position_embeddings": tc.max_position_embeddings,
               "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": SPECIAL.index("<|im_end|>"),
               "attn_implementation": "eager"}
    else:
        llm = dict(tc.to_dict(), architectures=["Qwen2ForCausalLM"])
    return {"architectures": ["InternVLChatModel"], "model_type": "internvl_chat", "downsample_ratio": 0.5,
            "dynamic_image_size": True, "force_image_size": tile, "max_dynamic_patch": 6, "min_dynamic_patch": 1,
            "ps_version": "v2", "select_layer": select_layer, "template": "internvl2_5", "use_thumbnail": True,
            "torch_dtype": "float32", "vision_config": vision, "llm_config": llm}


def make_tokenizer():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    corpus = ["What is shown in the picture? Describe the image.", "Compare the two images, then answer.",
              "the cat sat on the mat; a red square and a blue circle"] * 20
    tokenizer.train_from_iterator(corpus, trainer)
    assert tokenizer.get_vocab_size() <= VOCAB and tokenizer.token_to_id("<IMG_CONTEXT>") == IMAGE_TOKEN
    return tokenizer


def write_tokenizer(tokenizer, folder):
    tokenizer.save(os.path.join(folder, "tokenizer.json"))
    write_json(os.path.join(folder, "tokenizer_config.json"),
               {"tokenizer_class": "PreTrainedTokenizerFast", "chat_template": CHAT_TEMPLATE,
                "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "bos_token": None,
                "model_max_length": 512})


def picture(width, height, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / (width - 1), y * 255 / (height - 1), (x * y) % 256], -1)
    return Image.fromarray(np.clip(base + rng.normal(0, 15, base.shape), 0, 255).astype(np.uint8), "RGB")


def image_generation_reference(model, folder, images):
    """transformers' greedy continuation of two prompts with images, built as InternVL's chat() builds
    them; the cases are what `emloc generate --image` is asked (see test_internvl_reference)."""
    hf_tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"))
    hf_tokenizer.chat_template = CHAT_TEMPLATE
    cases = []
    for name, files, prompt, chat in (("chat_one_image", ["wide.png"], "What is shown in the picture?", True),
                                      ("two_images", ["wide.png", "tall.png"], "Compare the two images.", False)):
        tiles = []
        for file in files:
            _, values = tiles_of(images[file], TILE, 1, 6, True)
            tiles.append(torch.from_numpy(values))
        text = (f"Image-1: <image>\nImage-2: <image>\n{prompt}" if len(files) > 1 else f"<image>\n{prompt}")
        if chat:
            text = hf_tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                                    add_generation_prompt=True)
        for t in tiles:
            text = text.replace("<image>", "<img>" + "<IMG_CONTEXT>" * (t.shape[0] * 4) + "</img>", 1)
        ids = hf_tokenizer(text, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            out = model.generate(input_ids=torch.tensor([ids]), pixel_values=torch.cat(tiles), max_new_tokens=8,
                                 do_sample=False, eos_token_id=SPECIAL.index("<|im_end|>"), pad_token_id=0)
        cases.append({"name": name, "files": files, "prompt": prompt, "chat": chat,
                      "tiles": [int(t.shape[0]) for t in tiles], "prompt_ids": ids,
                      "new_tokens": out[0, len(ids):].tolist()})
    return cases


def preprocessor(hf_layout):
    values = {"image_mean": MEAN, "image_std": STD}
    if hf_layout:  # GotOcr2ImageProcessor's keys, as the -hf repositories write them
        values.update({"size": {"height": TILE, "width": TILE}, "min_patches": 1, "max_patches": 6,
                       "crop_to_patches": False, "image_processor_type": "GotOcr2ImageProcessorFast"})
    return values


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1234)
    summary = {}
    tokenizer = make_tokenizer()
    # tile.png is one tile exactly: what llama.cpp and transformers read of it is the same pixels.
    images = {"wide.png": picture(100, 60, 1), "tall.png": picture(40, 90, 2), "tile.png": picture(TILE, TILE, 3)}
    for file, image in images.items():
        image.save(os.path.join(out, file), format="PNG")
    for name, family, tied, qk_norm, norm_type, feature_layer, grid_size in VARIANTS:
        text_family = "qwen2" if family == "qwen2" else "llama"
        config = InternVLConfig(
            vision_config=vision_config(qk_norm, norm_type, grid_size or TILE),
            text_config=text_config(text_family, tied), image_token_id=IMAGE_TOKEN, downsample_ratio=0.5,
            projector_hidden_act="gelu", vision_feature_layer=feature_layer,
            vision_feature_select_strategy="default", tie_word_embeddings=tied)
        model = InternVLForConditionalGeneration(config).eval()
        randomise(model, generator)
        if tied:
            model.tie_weights()

        hf_dir = os.path.join(out, name + "_hf")
        model.save_pretrained(hf_dir, safe_serialization=True)
        write_json(os.path.join(hf_dir, "preprocessor_config.json"), preprocessor(True))

        orig_dir = os.path.join(out, name + "_original")
        os.makedirs(orig_dir, exist_ok=True)
        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        save_file(original_tensors(state, config, family), os.path.join(orig_dir, "model.safetensors"),
                  metadata={"format": "pt"})
        write_json(os.path.join(orig_dir, "config.json"), original_config(config, family, TILE, feature_layer))
        write_json(os.path.join(orig_dir, "preprocessor_config.json"), preprocessor(False))
        for folder in (hf_dir, orig_dir):
            write_tokenizer(tokenizer, folder)

        # Two images in one conversation: 3 tiles (2 + thumbnail) and 1 tile; 4 tokens per tile.
        tiles = [3, 1]
        per_tile = 4
        pixels = torch.randn(sum(tiles), 3, TILE, TILE, generator=generator)
        ids = [1, 17, 33]
        for count in tiles:
            ids += [IMAGE_TOKEN - 1] + [IMAGE_TOKEN] * (count * per_tile) + [IMAGE_TOKEN + 1, 40, 41]
        ids += [60, 61, 62]
        input_ids = torch.tensor([ids])
        with torch.no_grad():
            logits = model(input_ids=input_ids, pixel_values=pixels).logits
            single = model(input_ids=torch.tensor([ids[: 3 + 2 + 3 * per_tile] + [70]]),
                           pixel_values=pixels[:3]).logits
            text_only = model(input_ids=torch.tensor([[1, 5, 9, 13, 200]])).logits
            generated = model.generate(input_ids=input_ids, pixel_values=pixels, max_new_tokens=6,
                                       do_sample=False, eos_token_id=None, pad_token_id=0)
        reference = {"pixel_values": pixels, "input_ids": input_ids, "logits": logits.float(),
                     "single_logits": single.float(), "text_logits": text_only.float(),
                     "generated": generated[:, input_ids.shape[1]:].contiguous()}
        for folder in (hf_dir, orig_dir):
            save_file({k: v.contiguous() for k, v in reference.items()}, os.path.join(folder, "reference.safetensors"))
        cases = image_generation_reference(model, hf_dir, {k: Image.open(os.path.join(out, k)).convert("RGB")
                                                            for k in images})
        for folder in (hf_dir, orig_dir):
            write_json(os.path.join(folder, "image_generation.json"), cases)
        summary[name] = {"family": family, "tied": tied, "tiles": tiles, "tokens_per_tile": per_tile,
                         "image_token": IMAGE_TOKEN}
    # The shipped image dataset's tiles at these models' tiling, by InternVL's published rule.
    shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "datasets", "vision")
    tiles = []
    with open(os.path.join(shipped, "internvl.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            files = record.get("image", [])
            for file in [files] if isinstance(files, str) else files:
                image = Image.open(os.path.join(shipped, file)).convert("RGB")
                tiles.append(int(tiles_of(image, TILE, 1, 6, True)[1].shape[0]))
    summary["_internvl_jsonl_tiles"] = tiles
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
