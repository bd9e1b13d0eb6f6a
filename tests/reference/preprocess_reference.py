#!/usr/bin/python3
"""Golden data for PreprocessTests: Pillow's CLIP preprocessing, i.e.
    img.convert("RGB").resize((240, 240), Image.BICUBIC)  ->  (x/255 - mean)/std, float32, CHW.

Run with Debian's python (python3-pil, python3-numpy):
    /usr/bin/python3 tests/reference/preprocess_reference.py

Writes (committed, small):
  tests/PromptAD.Tests/Golden/preprocess/synthetic/<name>.<ext>   synthetic inputs (a few KB each)
  tests/PromptAD.Tests/Golden/preprocess/synthetic/<name>.out.png Pillow's 8-bit resized output
  tests/PromptAD.Tests/Golden/preprocess/cases.json               per case: sha256 of the 8-bit
        resized HWC bytes, float64 sum and per-channel mean of the normalized array, sampled values
Writes (git-ignored, on demand): tests/reference/large/preprocess/<name>.f32 — the full normalized
float32 CHW arrays of the real images from ../shared, so the test can report mean/max error.

Deliberate deviations from plain Pillow, mirrored here so the goldens describe our intent:
  * 16-bit grayscale: Pillow 9 clips I;16 to 255 on convert("RGB"); we keep the high byte (v >> 8),
    as Pillow itself does for 16-bit RGB PNGs.
  * EXIF orientation is applied (ImageOps.exif_transpose) before converting.
"""
import hashlib
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
GOLDEN = os.path.join(ROOT, "tests", "PromptAD.Tests", "Golden", "preprocess")
SYN = os.path.join(GOLDEN, "synthetic")
LARGE = os.path.join(ROOT, "tests", "reference", "large", "preprocess")
SIZE = 240
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)

REAL = [
    "mvtec/bottle/test/broken_large/000.png",
    "mvtec/bottle/test/contamination/005.png",
    "mvtec/bottle/test/good/001.png",
    "mvtec/bottle/train/good/000.png",
    "hazelnut_toy/train/good/00.jpg",
    "hazelnut_toy/train/good/01.jpg",
    "hazelnut_toy/test/good/04.jpg",
    "hazelnut_toy/test/colour/01.jpg",
]


def pattern(w, h, seed):
    """Smooth gradients with a few hard edges: exercises the kernel but compresses well as PNG."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(x / max(w, 1) * 6.0 + seed)
    g = 255.0 * y / max(h - 1, 1)
    b = 255.0 * ((x + y) % 17 < 8)
    img = np.stack([r, g, b], axis=-1)
    for _ in range(3):  # a few solid rectangles (sharp edges -> overshoot/clipping in bicubic)
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        img[y0:y0 + h // 4 + 1, x0:x0 + w // 4 + 1] = rng.integers(0, 256, 3)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def write_png16_rgb(path, arr16):
    """48-bit RGB PNG written by hand (Pillow cannot save one)."""
    h, w, _ = arr16.shape
    raw = b"".join(b"\x00" + arr16[i].astype(">u2").tobytes() for i in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def make_synthetic():
    os.makedirs(SYN, exist_ok=True)
    cases = []

    def save(img, name, **kw):
        path = os.path.join(SYN, name)
        img.save(path, **kw)
        cases.append(name)

    save(Image.fromarray(pattern(37, 23, 1)), "rgb_37x23_upscale.png")
    save(Image.fromarray(pattern(100, 60, 2)), "rgb_100x60_upscale.png")
    save(Image.fromarray(pattern(517, 333, 3)), "rgb_517x333_downscale.png")
    save(Image.fromarray(pattern(241, 240, 4)), "rgb_241x240_width_only.png")
    save(Image.fromarray(pattern(240, 250, 5)), "rgb_240x250_height_only.png")
    save(Image.fromarray(pattern(64, 48, 6)[..., 1]), "gray_L_64x48.png")
    save(Image.fromarray(pattern(50, 70, 7)).quantize(colors=32, dither=Image.Dither.NONE), "palette_P_50x70.png")
    rgba = np.dstack([pattern(80, 80, 8), pattern(80, 80, 9)[..., 0]])
    save(Image.fromarray(rgba, "RGBA"), "rgba_80x80.png")
    la = np.dstack([pattern(30, 30, 10)[..., 0], pattern(30, 30, 11)[..., 1]])
    save(Image.fromarray(la, "LA"), "gray_alpha_LA_30x30.png")
    g16 = (pattern(40, 30, 12)[..., 0].astype(np.uint16) * 257 + np.arange(30)[:, None].astype(np.uint16) * 3)
    save(Image.fromarray(g16), "gray16_I16_40x30.png")
    write_png16_rgb(os.path.join(SYN, "rgb48_33x21.png"),
                    pattern(33, 21, 13).astype(np.uint16) * 257 + 97)
    cases.append("rgb48_33x21.png")
    save(Image.fromarray(pattern(45, 35, 14)), "rgb_45x35.bmp")
    save(Image.fromarray(pattern(52, 40, 15)), "rgb_52x40.tif")
    for orientation in (3, 6, 8):
        img = Image.fromarray(pattern(40, 24, 20 + orientation))
        exif = Image.Exif()
        exif[0x0112] = orientation
        save(img, f"exif_orientation{orientation}_40x24.png", exif=exif.tobytes())
    return cases


def load_rgb(path, name):
    img = Image.open(path)
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I"):  # deliberate deviation, see docstring
        img = Image.fromarray((np.asarray(img).astype(np.uint32) >> 8).astype(np.uint8))
    return img.convert("RGB")


def preprocess(rgb):
    resized = rgb.resize((SIZE, SIZE), Image.BICUBIC)
    u8 = np.asarray(resized, dtype=np.uint8)
    x = u8.astype(np.float32) / np.float32(255.0)
    x = (x - MEAN) / STD
    return resized, u8, np.ascontiguousarray(x.transpose(2, 0, 1).astype(np.float32))


def summary(name, kind, u8, chw):
    rng = np.random.default_rng(abs(hash(name)) % (2 ** 32) if False else 1234)
    idx = rng.integers(0, [3, SIZE, SIZE], size=(48, 3))
    idx = np.vstack([idx, [[0, 0, 0], [2, SIZE - 1, SIZE - 1], [1, 0, SIZE - 1], [1, SIZE - 1, 0]]])
    return {
        "name": name,
        "kind": kind,
        "size": SIZE,
        "sha256_u8_hwc": hashlib.sha256(u8.tobytes()).hexdigest(),
        "sum_f64": float(chw.astype(np.float64).sum()),
        "channel_mean": [float(chw[c].astype(np.float64).mean()) for c in range(3)],
        "samples": [[int(c), int(y), int(x), float(chw[c, y, x])] for c, y, x in idx],
    }


def main():
    out = []
    for name in make_synthetic():
        rgb = load_rgb(os.path.join(SYN, name), name)
        resized, u8, chw = preprocess(rgb)
        resized.save(os.path.join(SYN, name + ".out.png"), optimize=True)
        out.append(summary(name, "synthetic", u8, chw))
    os.makedirs(LARGE, exist_ok=True)
    for rel in REAL:
        path = os.path.join(SHARED, "data", rel)
        _, u8, chw = preprocess(load_rgb(path, rel))
        flat = rel.replace("/", "__")
        chw.astype("<f4").tofile(os.path.join(LARGE, flat + ".f32"))
        out.append(summary(rel, "real", u8, chw))
    with open(os.path.join(GOLDEN, "cases.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"{len(out)} cases; synthetic files in {SYN}; full real goldens in {LARGE}")


if __name__ == "__main__":
    main()
