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
