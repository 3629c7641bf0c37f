#!/usr/bin/env python3
"""Reference images for the vision suites, made and read by Pillow (which InternVL's preprocessing runs
on): for each image, the RGB pixels Pillow decodes, and the tiles of InternVL's dynamic resolution as
its published `dynamic_preprocess` + `build_transform` define them (restated here: the grid closest in
aspect ratio between min and max tiles, ties to more tiles when the image fills more than half of them;
bicubic resize; crop; a thumbnail when there are several tiles; ToTensor then Normalize in float32).

The -hf checkpoints' own processor, transformers' GotOcr2ImageProcessor (its Pillow backend, which it uses
without torchvision), is checked to give these same tiles bit for bit, so the engine's tiles (compared with
these by test_image_reference) are also what transformers feeds an -hf model.

usage: vision_reference.py OUT_DIR   (writes images, raw pixels and manifest.json there)
"""
import json
import os
import sys

import numpy as np
from PIL import Image

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def grid_for(width, height, tile, min_tiles, max_tiles):
    grids = sorted({(i, j) for n in range(min_tiles, max_tiles + 1) for i in range(1, n + 1)
                    for j in range(1, n + 1) if min_tiles <= i * j <= max_tiles},
                   key=lambda g: (g[0] * g[1], g))
    aspect = width / height
    best, best_diff = (1, 1), float("inf")
    for g in grids:
        diff = abs(aspect - g[0] / g[1])
        if diff < best_diff:
            best, best_diff = g, diff
        elif diff == best_diff and width * height > 0.5 * tile * tile * g[0] * g[1]:
            best = g
    return best


def tiles_of(image, tile, min_tiles, max_tiles, thumbnail):
    cols, rows = grid_for(image.width, image.height, tile, min_tiles, max_tiles)
    resized = image.resize((cols * tile, rows * tile), Image.BICUBIC)
    tiles = [resized.crop((c * tile, r * tile, (c + 1) * tile, (r + 1) * tile))
             for r in range(rows) for c in range(cols)]
    if thumbnail and len(tiles) != 1:
        tiles.append(image.resize((tile, tile), Image.BICUBIC))
    mean = np.array(MEAN, dtype=np.float32).reshape(3, 1, 1)
    std = np.array(STD, dtype=np.float32).reshape(3, 1, 1)
    values = [((np.asarray(t, dtype=np.uint8).transpose(2, 0, 1).astype(np.float32) / np.float32(255)) - mean) / std
              for t in tiles]
    return (cols, rows), np.stack(values).astype(np.float32)


def hf_processor(tile):
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil
    return GotOcr2ImageProcessorPil(size={"height": tile, "width": tile}, image_mean=list(MEAN), image_std=list(STD))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)

    def picture(width, height):
        # Smooth gradients plus noise: resampling errors show in both.
        y, x = np.mgrid[0:height, 0:width]
        base = np.stack([x * 255 / max(width - 1, 1), y * 255 / max(height - 1, 1), (x + y) % 256], -1)
        noisy = base + rng.normal(0, 20, base.shape)
        return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")

    cases = []

    def add(name, image, save, tile=32, min_tiles=1, max_tiles=12, thumbnail=True):
        path = os.path.join(out, name)
        save(image, path)
        decoded = Image.open(path).convert("RGB")
        with open(path + ".rgb", "wb") as f:
            f.write(decoded.tobytes())
        grid, values = tiles_of(decoded, tile, min_tiles, max_tiles, thumbnail)
        values.tofile(path + ".tiles")
        if thumbnail:  # GotOcr2's crop_to_patches always adds the thumbnail
            given = hf_processor(tile)(images=[decoded], crop_to_patches=True, min_patches=min_tiles,
                                       max_patches=max_tiles, return_tensors="np")["pixel_values"]
            if not np.array_equal(np.asarray(given), values):
                raise SystemExit(f"{name}: transformers' -hf processor gives other tiles than InternVL's rule")
        cases.append({"file": name, "width": decoded.width, "height": decoded.height, "tile": tile,
                      "min_tiles": min_tiles, "max_tiles": max_tiles, "thumbnail": thumbnail,
                      "grid": list(grid), "tiles": int(values.shape[0])})

    png = lambda im, p: im.save(p, format="PNG")
    add("wide.png", picture(200, 70), png)
    add("tall.png", picture(45, 170), png)
    add("square.png", picture(64, 64), png)
    add("tiny.png", picture(9, 5), png)  # upsampled
    add("exact.png", picture(96, 64), png, min_tiles=1, max_tiles=6)
    add("one_tile.png", picture(120, 90), png, max_tiles=1)
    add("no_thumbnail.png", picture(150, 100), png, thumbnail=False)
    add("min_four.png", picture(80, 80), png, min_tiles=4, max_tiles=9)
    add("rgba.png", picture(77, 51).convert("RGBA"), png)
    add("palette.png", picture(60, 41).convert("P"), png)
    add("gray.png", picture(50, 33).convert("L"), png)
    add("photo.jpg", picture(130, 95), lambda im, p: im.save(p, format="JPEG", quality=90))
    add("photo444.jpg", picture(70, 130), lambda im, p: im.save(p, format="JPEG", quality=95, subsampling=0))
    add("progressive.jpg", picture(101, 77), lambda im, p: im.save(p, format="JPEG", progressive=True))
    add("gray.jpg", picture(66, 40).convert("L"), lambda im, p: im.save(p, format="JPEG"))
    add("lossless.webp", picture(88, 60), lambda im, p: im.save(p, format="WEBP", lossless=True))
    add("lossy.webp", picture(88, 60), lambda im, p: im.save(p, format="WEBP", quality=80))

    # Pillow's resize alone, in every direction, on one picture.
    source = picture(53, 37)
    source.save(os.path.join(out, "resize_source.png"))
    resizes = []
    # Both pass orders (Pillow 13 resizes vertically first when the height shrinks by more than twice the
    # pixels the width does) and the boundary between them: (37, 4) is vertical-first, (37, 5) is not.
    for width, height in [(53, 37), (100, 37), (53, 80), (20, 11), (120, 15), (7, 90), (1, 1), (37, 4),
                          (37, 5), (60, 36), (52, 40), (47, 23), (47, 24)]:
        name = "resize_%dx%d.rgb" % (width, height)
        with open(os.path.join(out, name), "wb") as f:
            f.write(source.resize((width, height), Image.BICUBIC).tobytes())
        resizes.append({"file": name, "width": width, "height": height})

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"cases": cases, "resize_source": "resize_source.png", "resizes": resizes,
                   "mean": MEAN, "std": STD}, f, indent=1)


if __name__ == "__main__":
    main()
