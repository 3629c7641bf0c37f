"""llama.cpp as the reference for an InternVL mmproj GGUF that EMLoC Studio wrote (test_internvl_cli).

Usage: internvl_mmproj_reference.py CHECKPOINT MMPROJ [LM_GGUF IMAGE HF_DIR [ADAPTER_DIR [BASE_GGUF LORA_GGUF]]]

1. The file, against llama.cpp's converter. What `convert_hf_to_gguf.py --mmproj` writes for CHECKPOINT
   (class InternVisionModel: its tensor filter and renames, the fused qkv split in thirds, shapes squeezed,
   vectors and the position embedding as F32), restated here with gguf-py's own TensorNameMap, is compared
   with MMPROJ: the same tensor names, shapes, types and values (bit for bit), and the same keys.
2. The file in llama.cpp. With LM_GGUF (the language model as GGUF) and IMAGE: llama.cpp's multimodal
   library (libmtmd, through llama-cpp-python) loads MMPROJ beside LM_GGUF, encodes IMAGE and reads a chat
   prompt holding it. Its image embeddings, the prompt's last logits and five greedy tokens are compared
   with transformers' InternVLForConditionalGeneration (HF_DIR, with peft's ADAPTER_DIR when given) on the
   same token ids, twice: as transformers computes the model, and with llama.cpp's known deviation (the
   class token after the patches) restated, which must then agree to rounding. IMAGE is one tile exactly
   (tile-sized), so both sides read the same pixels.
3. With BASE_GGUF and LORA_GGUF: the language model unmerged with its GGUF LoRA, as llama.cpp applies an
   adapter at load, against LM_GGUF (merged): the prompt's last logits.

Prints one JSON line: what was compared and the largest differences; the caller judges the tolerances.
"""
import ctypes
import glob
import json
import os
import sys

import gguf
import numpy as np
from safetensors.numpy import load_file

VISION_PREFIXES = ("vision_model", "mlp", "model.vision_tower", "model.multi_modal_projector")
PROJECTOR_RENAMES = {  # the converter's names map for the -hf projector (its "intern-s1" case)
    "model.multi_modal_projector.layer_norm.bias": "mlp1.0.bias",
    "model.multi_modal_projector.layer_norm.weight": "mlp1.0.weight",
    "model.multi_modal_projector.linear_1.bias": "mlp1.1.bias",
    "model.multi_modal_projector.linear_1.weight": "mlp1.1.weight",
    "model.multi_modal_projector.linear_2.bias": "mlp1.3.bias",
    "model.multi_modal_projector.linear_2.weight": "mlp1.3.weight",
}


def checkpoint_tensors(folder):
    tensors = {}
    for file in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        if os.path.basename(file) != "reference.safetensors":
            tensors.update(load_file(file))
    return tensors


def converted_tensors(folder, config):
    """(GGUF name -> float32 array as stored, squeezed) by the converter's InternVisionModel rules."""
    vision = config["vision_config"]
    # The converter's map covers as many numbered entries as the tower has layers, and the projector's
    # last linear is entry 3 (mlp1.3): a test tower of fewer than four layers needs the map widened.
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.MMPROJ, max(4, vision["num_hidden_layers"]))
    out = {}
    for name, data in checkpoint_tensors(folder).items():
        # -hf repositories on the Hub prefix the parts with "model." (transformers 4); transformers 5
        # saves them without it.
        if name.startswith(("vision_tower.", "multi_modal_projector.")):
            name = "model." + name
        name = PROJECTOR_RENAMES.get(name, name)
        if not name.startswith(VISION_PREFIXES):
            continue
        if name.startswith("vision_model"):
            name = "vision_tower." + name
        if (".ls" in name or ".lambda_" in name or "position_embedding" in name) and not name.endswith(".weight"):
            name += ".weight"
        parts = [(name, data)]
        if ".qkv." in name:
            third = data.shape[0] // 3
            parts = [(name.replace("attn.qkv", "self_attn." + p + "_proj"), data[i * third:(i + 1) * third])
                     for i, p in enumerate("qkv")]
        for part_name, part in parts:
            mapped = name_map.get_name(part_name, try_suffixes=(".weight", ".bias"))
            if mapped is None:
                raise SystemExit(f"the converter has no name for {part_name}")
            out[mapped] = np.squeeze(part.astype(np.float32))
    return out


def expected_type(name, array, matrix_type):
    if array.ndim <= 1 or name.endswith("_norm.weight") or ".position_embd." in name:
        return gguf.GGMLQuantizationType.F32
    return matrix_type


def field_value(reader, key):
    field = reader.fields[key]
    return field.contents()


def compare_file(checkpoint, mmproj):
    config = json.load(open(os.path.join(checkpoint, "config.json")))
    preprocessor = json.load(open(os.path.join(checkpoint, "preprocessor_config.json")))
    reader = gguf.GGUFReader(mmproj)
    file_type = field_value(reader, "general.file_type")
    matrix_type = {0: gguf.GGMLQuantizationType.F32, 1: gguf.GGMLQuantizationType.F16,
                   32: gguf.GGMLQuantizationType.BF16}[file_type]
    want = converted_tensors(checkpoint, config)
    got = {t.name: t for t in reader.tensors}
    if set(want) != set(got):
        raise SystemExit(f"tensor names differ: only the converter's {sorted(set(want) - set(got))}, "
                         f"only ours {sorted(set(got) - set(want))}")
    for name, array in want.items():
        tensor = got[name]
        shape = tuple(int(n) for n in reversed(tensor.shape))
        if shape != array.shape:
            raise SystemExit(f"{name}: shape {shape}, the converter's {array.shape}")
        if tensor.tensor_type != expected_type(name, array, matrix_type):
            raise SystemExit(f"{name}: type {tensor.tensor_type.name}, the converter's "
                             f"{expected_type(name, array, matrix_type).name}")
        stored = np.asarray(tensor.data).reshape(shape)
        if tensor.tensor_type == gguf.GGMLQuantizationType.F16:
            reference = array.astype(np.float16)
        elif tensor.tensor_type == gguf.GGMLQuantizationType.BF16:
            raise SystemExit("compare BF16 files by value is not implemented here; write F32 or F16")
        else:
            reference = array
        if not np.array_equal(stored.view(reference.dtype) if stored.dtype != reference.dtype else stored,
                              reference):
            raise SystemExit(f"{name}: values differ from the converter's")

    vision = config["vision_config"]
    text = config.get("llm_config") or config.get("text_config")
    first = lambda value: value[0] if isinstance(value, list) else value  # noqa: E731
    keys = {
        "general.architecture": "clip",
        "clip.has_vision_encoder": True,
        "clip.projector_type": "internvl",
        "clip.vision.projection_dim": text["hidden_size"],
        "clip.vision.image_size": first(vision["image_size"]),
        "clip.vision.patch_size": first(vision["patch_size"]),
        "clip.vision.embedding_length": vision["hidden_size"],
        "clip.vision.feed_forward_length": vision["intermediate_size"],
        "clip.vision.block_count": vision["num_hidden_layers"],
        "clip.vision.attention.head_count": vision["num_attention_heads"],
        "clip.vision.image_mean": preprocessor["image_mean"],
        "clip.vision.image_std": preprocessor["image_std"],
        "clip.vision.attention.layer_norm_epsilon": vision["layer_norm_eps"],
        "clip.use_gelu": True,
        "clip.vision.projector.scale_factor": int(1.0 / config["downsample_ratio"]),
    }
    # The converter writes the tile range when config.json has it (the original layout); we write it from
    # wherever the checkpoint keeps it (the -hf processor's min/max_patches), so llama.cpp tiles the same.
    keys["clip.vision.preproc_min_tiles"] = config.get("min_dynamic_patch", preprocessor.get("min_patches"))
    keys["clip.vision.preproc_max_tiles"] = config.get("max_dynamic_patch", preprocessor.get("max_patches"))
    for key, value in keys.items():
        if key not in reader.fields:
            raise SystemExit(f"missing key {key}")
        stored = field_value(reader, key)
        if isinstance(value, float) or (isinstance(value, list) and isinstance(value[0], float)):
            if not np.allclose(np.asarray(stored, dtype=np.float64), np.asarray(value, dtype=np.float64),
                               rtol=1e-6, atol=0):
                raise SystemExit(f"{key}: {stored}, expected {value}")
        elif stored != value:
            raise SystemExit(f"{key}: {stored!r}, expected {value!r}")
    return {"tensors": len(want), "keys": len(keys), "file_type": int(file_type)}


def run_llama_cpp(mmproj, lm_gguf, image, prompt, steps, lora=None):
    import llama_cpp
    import llama_cpp.mtmd_cpp as mtmd

    llm = llama_cpp.Llama(model_path=lm_gguf, n_ctx=512, n_batch=512, n_threads=2, verbose=False, lora_path=lora)
    params = mtmd.mtmd_context_params_default()
    params.use_gpu = False
    params.n_threads = 2
    params.print_timings = False
    params.warmup = False
    params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
    context = mtmd.mtmd_init_from_file(mmproj.encode(), llm.model, params)
    if not context:
        raise SystemExit(f"libmtmd could not load {mmproj}")
    bitmap = mtmd.mtmd_helper_bitmap_init_from_file(context, image.encode(), False)
    text = mtmd.mtmd_input_text()
    encoded = prompt.replace("<image>", mtmd.mtmd_default_marker().decode()).encode()
    text.text, text.text_len, text.add_special, text.parse_special = encoded, len(encoded), True, True
    chunks = mtmd.mtmd_input_chunks_init()
    bitmaps = (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap)
    if mtmd.mtmd_tokenize(context, chunks, ctypes.byref(text), bitmaps, 1) != 0:
        raise SystemExit("libmtmd could not tokenize the prompt")

    pieces, embeddings = [], None
    n_embd = llama_cpp.llama_model_n_embd(llm.model)
    for i in range(mtmd.mtmd_input_chunks_size(chunks)):
        chunk = mtmd.mtmd_input_chunks_get(chunks, i)
        if mtmd.mtmd_input_chunk_get_type(chunk) == mtmd.MTMD_INPUT_CHUNK_TYPE_TEXT:
            count = ctypes.c_size_t()
            tokens = mtmd.mtmd_input_chunk_get_tokens_text(chunk, ctypes.byref(count))
            pieces.append(("text", [tokens[j] for j in range(count.value)]))
        else:
            count = mtmd.mtmd_input_chunk_get_n_tokens(chunk)
            if mtmd.mtmd_encode_chunk(context, chunk) != 0:
                raise SystemExit("libmtmd could not encode the image")
            pointer = mtmd.mtmd_get_output_embd(context)
            embeddings = np.ctypeslib.as_array(pointer, shape=(count * n_embd,)).reshape(count, n_embd).copy()
            pieces.append(("image", count))
    past = llama_cpp.llama_pos(0)
    if mtmd.mtmd_helper_eval_chunks(context, llm.ctx, chunks, 0, 0, 512, True, ctypes.byref(past)) != 0:
        raise SystemExit("libmtmd could not evaluate the prompt")
    vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(llm.model))

    def last_logits():
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(vocab,)).copy()

    logits = last_logits()
    greedy, position = [], past.value
    current = logits
    for _ in range(steps):
        token = int(np.argmax(current))
        greedy.append(token)
        batch = llama_cpp.llama_batch_get_one((llama_cpp.llama_token * 1)(token), 1)
        if llama_cpp.llama_decode(llm.ctx, batch) != 0:
            raise SystemExit("llama_decode failed")
        position += 1
        current = last_logits()
    mtmd.mtmd_input_chunks_free(chunks)
    mtmd.mtmd_bitmap_free(bitmap)
    mtmd.mtmd_free(context)
    return pieces, embeddings, logits, greedy


def run_transformers(hf_dir, adapter_dir, image, pieces, steps, class_token_last):
    import torch
    from PIL import Image
    from transformers import InternVLForConditionalGeneration

    config = json.load(open(os.path.join(hf_dir, "config.json")))
    preprocessor = json.load(open(os.path.join(hf_dir, "preprocessor_config.json")))
    model = InternVLForConditionalGeneration.from_pretrained(hf_dir, dtype=torch.float32).eval()
    if class_token_last:
        # llama.cpp's graph puts the class token after the patches and adds the position embedding in the
        # file's order (class first), so each patch gets its neighbour's row (llama.cpp issue 25814). The
        # same function here: the rows rotated by one, the class token's row last.
        positions = model.model.vision_tower.embeddings.position_embeddings
        with torch.no_grad():
            positions.copy_(torch.roll(positions, 1, dims=1))
    if adapter_dir:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, adapter_dir).eval()
    pixels = np.asarray(Image.open(image).convert("RGB"), dtype=np.float64) / 255.0
    pixels = (pixels - np.asarray(preprocessor["image_mean"])) / np.asarray(preprocessor["image_std"])
    pixel_values = torch.tensor(pixels.transpose(2, 0, 1)[None], dtype=torch.float32)
    ids = []
    for kind, value in pieces:
        ids += value if kind == "text" else [config["image_token_id"]] * value
    input_ids = torch.tensor([ids])
    base = model.get_base_model() if adapter_dir else model
    with torch.no_grad():
        features = base.model.get_image_features(pixel_values=pixel_values)
        features = features.pooler_output if hasattr(features, "pooler_output") else features
        features = torch.cat(list(features), 0) if isinstance(features, (list, tuple)) else features
        logits = model(input_ids=input_ids, pixel_values=pixel_values).logits[0, -1]
        generated = model.generate(input_ids=input_ids, pixel_values=pixel_values, max_new_tokens=steps,
                                   do_sample=False, eos_token_id=None, pad_token_id=0)
    return ids, features.reshape(-1, features.shape[-1]).numpy(), logits.numpy(), \
        generated[0, input_ids.shape[1]:].tolist()


def main():
    checkpoint, mmproj = sys.argv[1:3]
    summary = {"converter": compare_file(checkpoint, mmproj)}
    if len(sys.argv) > 3:
        lm_gguf, image, hf_dir = sys.argv[3:6]
        adapter_dir = sys.argv[6] if len(sys.argv) > 6 else None
        prompt = "<|im_start|>user\n<image>\nWhat is shown?<|im_end|>\n<|im_start|>assistant\n"
        steps = 5
        pieces, embeddings, logits, greedy = run_llama_cpp(mmproj, lm_gguf, image, prompt, steps)
        for name, class_token_last in (("as_llama_cpp_graph", True), ("transformers", False)):
            ids, features, reference_logits, reference_greedy = run_transformers(
                hf_dir, adapter_dir, image, pieces, steps, class_token_last)
            if embeddings is None or embeddings.shape != features.shape:
                raise SystemExit(f"image embeddings: llama.cpp {None if embeddings is None else embeddings.shape}, "
                                 f"transformers {features.shape}")
            summary[name] = {
                "embedding_max_diff": float(np.abs(embeddings - features).max()),
                "embedding_max": float(np.abs(features).max()),
                "logits_max_diff": float(np.abs(logits - reference_logits).max()),
                "logits_max": float(np.abs(reference_logits).max()),
                "greedy": reference_greedy,
            }
        summary.update({"token_ids": ids, "image_tokens": int(embeddings.shape[0]), "greedy": greedy})
        if len(sys.argv) > 8:
            _, _, lora_logits, lora_greedy = run_llama_cpp(mmproj, sys.argv[7], image, prompt, steps, sys.argv[8])
            summary["gguf_lora"] = {"logits_max_diff_to_merged": float(np.abs(lora_logits - logits).max()),
                                    "greedy": lora_greedy}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
