#!/usr/bin/python3
"""Writes a small safetensors golden file WITHOUT the safetensors package (Debian's python lacks it), so the C#
reader is checked against an independent writer: header via json.dumps, tensor bytes via numpy.

Outputs (beside each other, committed):
  tests/PromptAD.Tests/Golden/safetensors/golden.safetensors
  tests/PromptAD.Tests/Golden/safetensors/golden.expected.json
The expected file stores each tensor's float32 values as uint32 bit patterns, which is exact and keeps NaN/inf
inside strict JSON. Run: /usr/bin/python3 tests/reference/make_safetensors_golden.py
"""
import json
import os

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "PromptAD.Tests", "Golden", "safetensors")


def to_bf16_bits(values_f32):
    """float32 -> bfloat16 bits with round-to-nearest-even (what torch does); NaN kept quiet."""
    bits = values_f32.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(values_f32)
    rounded[nan] = (bits[nan] >> 16) | 0x40  # keep sign/exponent, force a quiet-NaN mantissa bit
    return rounded.astype(np.uint16)


def bf16_bits_to_f32(bits_u16):
    return (bits_u16.astype(np.uint32) << 16).view(np.float32)


def main():
    rng = np.random.default_rng(20240611)
    tensors = []  # (name, dtype string, shape, raw bytes, float32 values as read back)

    # F32: a 2x3 matrix with exact values plus random ones.
    f32 = np.array([[0.0, -1.5, 3.25], [1e-30, -7e20, 0.1]], dtype=np.float32)
    tensors.append(("encoder.weight", "F32", list(f32.shape), f32.astype("<f4").tobytes(), f32))

    # F32 random 3-D tensor.
    f32r = rng.standard_normal((2, 3, 4)).astype(np.float32)
    tensors.append(("encoder.block.0.attn", "F32", list(f32r.shape), f32r.astype("<f4").tobytes(), f32r))

    # F16 with specials: 1, -2.5, max, smallest subnormal, largest subnormal, -0, inf, -inf, NaN, plus randoms.
    f16 = np.array([1.0, -2.5, 65504.0, 2.0 ** -24, 1023 * 2.0 ** -24, -0.0, np.inf, -np.inf, np.nan], dtype=np.float16)
    f16 = np.concatenate([f16, rng.standard_normal(7).astype(np.float16)]).reshape(4, 4)
    tensors.append(("proj.half", "F16", list(f16.shape), f16.astype("<f2").tobytes(), f16.astype(np.float32)))

    # BF16 from float32 via rounding, with specials.
    src = np.concatenate([
        np.array([1.0, -2.5, 3.3895314e38, 9.183549615799121e-41, np.inf, -np.inf, np.nan, -0.0], dtype=np.float32),
        rng.standard_normal(4).astype(np.float32) * 100,
    ])
    bf_bits = to_bf16_bits(src).reshape(3, 4)
    tensors.append(("proj.bf16", "BF16", list(bf_bits.shape), bf_bits.astype("<u2").tobytes(), bf16_bits_to_f32(bf_bits)))

    # Scalar and empty tensors.
    scalar = np.array(42.5, dtype=np.float32)
    tensors.append(("logit_scale", "F32", [], scalar.astype("<f4").tobytes(), scalar.reshape(())))
    empty = np.zeros((0, 5), dtype=np.float16)
    tensors.append(("empty.half", "F16", [0, 5], empty.tobytes(), empty.astype(np.float32)))

    # An I64 tensor: parsed and range-checked, but not convertible to float32.
    ids = np.array([1, -2, 3], dtype="<i8")
    tensors.append(("token_ids", "I64", [3], ids.tobytes(), None))

    # Lay data out in a different order from the header (the header is written sorted by name below), so the
    # reader cannot assume header order == data order.
    layout = sorted(tensors, key=lambda t: len(t[3]), reverse=True)
    header = {"__metadata__": {"format": "pt", "source": "make_safetensors_golden.py"}}
    offset = 0
    blobs = []
    for name, dtype, shape, raw, _ in layout:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header = dict(sorted(header.items()))
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)

    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "golden.safetensors"), "wb") as f:
        f.write(np.uint64(len(header_bytes)).astype("<u8").tobytes())
        f.write(header_bytes)
        for raw in blobs:
            f.write(raw)

    expected = {"metadata": header["__metadata__"], "tensors": {}}
    for name, dtype, shape, raw, values in tensors:
        item = {"dtype": dtype, "shape": shape}
        if values is not None:
            item["float32_bits"] = [int(b) for b in np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32)]
        expected["tensors"][name] = item
    with open(os.path.join(OUT_DIR, "golden.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
