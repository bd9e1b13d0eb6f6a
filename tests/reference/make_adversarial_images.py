"""Writes the images of the adversarial suite that our own encoder cannot make: a CMYK JPEG (Adobe inverted
CMYK, as Photoshop and Pillow write it), with the RGB Pillow decodes it to, as the expected result.

Run: /usr/bin/python3 tests/reference/make_adversarial_images.py
"""
from pathlib import Path
from PIL import Image

out = Path(__file__).resolve().parents[1] / "PromptAD.Tests" / "Golden" / "adversarial"
out.mkdir(parents=True, exist_ok=True)
img = Image.new("CMYK", (16, 8), (0, 200, 40, 30))
img.save(out / "cmyk.jpg", quality=95)
back = Image.open(out / "cmyk.jpg")
assert back.mode == "CMYK"
r, g, b = back.convert("RGB").getpixel((8, 4))
(out / "cmyk.expected.txt").write_text(f"{r} {g} {b}\n")
print("wrote", out / "cmyk.jpg", (r, g, b))

# Animated WebP: the loader decodes the first frame only (as for TIFF and GIF). Pillow's first frame is the expected
# result, as raw RGB bytes: one lossless file (VP8L frames, exact) and one lossy file with alpha (ALPH + VP8 frames).
def frames(n):
    out = []
    for f in range(n):
        im = Image.new("RGBA", (12, 8))
        im.putdata([((x * 20 + f * 50) % 256, (y * 30 + 7) % 256, (x * y * 9 + f * 90) % 256, 255 if (x + y) % 3 else 128)
                    for y in range(8) for x in range(12)])
        out.append(im)
    return out

for name, lossless in (("anim_lossless.webp", True), ("anim_lossy_alpha.webp", False)):
    fs = frames(3)
    fs[0].save(out / name, save_all=True, append_images=fs[1:], duration=100, loop=0, lossless=lossless, quality=90)
    back = Image.open(out / name)
    assert back.is_animated and back.n_frames == 3
    back.seek(0)
    (out / (name + ".rgb")).write_bytes(back.convert("RGB").tobytes())
    print("wrote", out / name)
