#!/usr/bin/python3
"""Golden data for the evaluation tests (tests/PromptAD.Tests/PromptAD/Evaluation).

Run with Debian's python (python3-numpy, python3-scipy, python3-sklearn):
    /usr/bin/python3 tests/reference/metrics_reference.py

Writes (committed, small):
  Golden/metrics/image_metrics.json  scores + labels -> sklearn roc_auc_score, average_precision_score,
                                      F1-max from precision_recall_curve (PromptAD's calculate_max_f1)
  Golden/metrics/pixel_metrics.json  maps (float32, base64) + masks (uint8, base64, null = all normal)
                                      -> sklearn roc_auc_score over all pixels, and AUPRO at several FPR limits
                                      from a plain threshold sweep written from the definition (below)
  Golden/metrics/gaussian_blur.json  scipy.ndimage.gaussian_filter(sigma=4) of hash-generated float32 maps:
                                      full outputs for small maps, sums + sampled values for 400x400

Inputs of the blur cases are not stored: both sides generate them with the integer hash `hash_map`
(splitmix64), whose values are multiples of 2^-24 and so exact in float32.
"""
import base64
import json
import os

import numpy as np
from scipy import ndimage
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "PromptAD.Tests", "Golden", "metrics")
MASK64 = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def hash_map(seed, height, width):
    """value[i] = (splitmix64(seed * 2^32 + i) >> 40) / 2^24, row-major."""
    base = (seed << 32) & MASK64
    vals = [(splitmix64((base + i) & MASK64) >> 40) / float(1 << 24) for i in range(height * width)]
    return np.array(vals, dtype=np.float32).reshape(height, width)


def f1_max(labels, scores):
    precision, recall, _ = precision_recall_curve(labels, scores)
    a = 2 * precision * recall
    b = precision + recall
    f1s = np.divide(a, b, out=np.zeros_like(a), where=b != 0)
    return float(f1s.max())


def image_cases(rng):
    cases = []

    def add(name, scores, labels):
        scores = np.asarray(scores, dtype=np.float64)
        labels = np.asarray(labels, dtype=int)
        cases.append({
            "name": name,
            "scores": [float(s) for s in scores],
            "labels": [int(l) for l in labels],
            "auroc": float(roc_auc_score(labels, scores)),
            "ap": float(average_precision_score(labels, scores)),
            "f1max": f1_max(labels, scores),
        })

    add("hand", [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    add("perfect", [0.1, 0.2, 0.3, 0.9, 0.95], [0, 0, 0, 1, 1])
    add("inverted", [0.9, 0.8, 0.1, 0.05], [0, 0, 1, 1])
    add("all_tied", [0.5] * 7, [0, 1, 0, 1, 1, 0, 0])
    labels = rng.random(83) < 0.75
    add("continuous_83", rng.normal(size=83) + 1.2 * labels, labels)
    labels = rng.random(120) < 0.4
    add("quantized_1dp_120", np.round(rng.random(120) * 0.7 + 0.3 * labels, 1), labels)
    labels = rng.random(200) < 0.5
    add("five_levels_200", rng.integers(0, 5, 200) + labels * rng.integers(0, 2, 200), labels)
    labels = rng.random(60) < 0.1
    add("rare_positive_60", np.round(rng.random(60) + 0.5 * labels, 2), labels)
    labels = rng.random(300) < 0.6
    add("float32_300", (rng.random(300) + 0.3 * labels).astype(np.float32).astype(np.float64), labels)
    return cases


def random_mask(rng, h, w, blobs, max_r):
    m = np.zeros((h, w), dtype=np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(blobs):
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(1, max_r + 1)
        m[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
    return m


def aupro_reference(maps, masks, limit):
    """From the definition: every distinct score t (descending) is a threshold, pred = score >= t;
    PRO(t) = mean over all 8-connected gt regions of |region & pred| / |region|;
    FPR(t) = |normal & pred| / |normal| over all images. Curve starts at (0, 0); trapezoid up to FPR = limit,
    the last point linearly interpolated at the limit; area / limit."""
    regions = []
    for i, m in enumerate(masks):
        if m is None:
            continue
        lab, n = ndimage.label(m, structure=np.ones((3, 3), dtype=int))
        for r in range(1, n + 1):
            regions.append((i, lab == r))
    normal = [np.ones_like(s, dtype=bool) if m is None else m == 0 for s, m in zip(maps, masks)]
    n_normal = sum(int(x.sum()) for x in normal)
    all_scores = np.concatenate([s.ravel() for s in maps])
    fprs, pros = [0.0], [0.0]
    for t in np.unique(all_scores)[::-1]:
        preds = [s >= t for s in maps]
        fp = sum(int((p & nm).sum()) for p, nm in zip(preds, normal))
        fprs.append(fp / n_normal)
        pros.append(float(np.mean([preds[i][reg].mean() for i, reg in regions])))
        if fprs[-1] >= limit:
            break
    fprs, pros = np.array(fprs), np.array(pros)
    k = int(np.searchsorted(fprs, limit))  # first index with fpr >= limit
    pro_at = np.interp(limit, fprs[k - 1:k + 1], pros[k - 1:k + 1])
    xs = np.concatenate([fprs[:k], [limit]])
    ys = np.concatenate([pros[:k], [pro_at]])
    return float(np.trapz(ys, xs) / limit)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def pixel_cases(rng):
    cases = []
    limits = [0.3, 0.05, 1.0]

    def add(name, maps, masks):
        maps = [np.asarray(m, dtype=np.float32) for m in maps]
        labels = np.concatenate([(np.zeros(s.size, dtype=int) if m is None else m.ravel().astype(int))
                                 for s, m in zip(maps, masks)])
        scores = np.concatenate([s.ravel() for s in maps])
        h, w = maps[0].shape
        cases.append({
            "name": name, "width": w, "height": h,
            "maps": [b64(s.astype("<f4")) for s in maps],
            "masks": [None if m is None else b64(m.astype(np.uint8)) for m in masks],
            "auroc": float(roc_auc_score(labels, scores)),
            "aupro": {str(l): aupro_reference(maps, masks, l) for l in limits},
        })

    # Tiny, hand-checkable: one region, one empty-mask ('good') image, ties.
    m = np.zeros((4, 4), dtype=np.uint8)
    m[1:3, 1:3] = 1
    add("tiny_4x4", [np.round(rng.random((4, 4)) + 0.5 * m, 1), np.round(rng.random((4, 4)), 1)], [m, None])

    # Diagonal chain: one region under 8-connectivity, two pixels... four under 4-connectivity.
    d = np.zeros((6, 6), dtype=np.uint8)
    for i in range(4):
        d[i, i] = 1
    d[5, 0] = 1
    add("diagonal_6x6", [rng.random((6, 6)) + 0.3 * d, rng.random((6, 6))], [d, np.zeros((6, 6), np.uint8)])

    # Many regions, quantized scores (heavy ties), some empty masks given as null and as zeros.
    maps, masks = [], []
    for i in range(6):
        mk = random_mask(rng, 32, 32, int(rng.integers(1, 6)), 4) if i % 3 else None
        base = rng.random((32, 32)) + (0 if mk is None else 0.6 * mk)
        maps.append(np.round(ndimage.gaussian_filter(base, 1.5) * 50) / 50)
        masks.append(mk if i != 3 else np.zeros((32, 32), np.uint8))
    add("quantized_many_regions_32", maps, masks)

    # Continuous scores, single large region per anomalous image.
    maps, masks = [], []
    for i in range(5):
        mk = random_mask(rng, 24, 24, 1, 7) if i < 3 else None
        maps.append(ndimage.gaussian_filter(rng.random((24, 24)) + (0 if mk is None else 0.8 * mk), 1.0))
        masks.append(mk)
    add("continuous_single_region_24", maps, masks)

    # Larger maps, 256 levels.
    maps, masks = [], []
    for i in range(4):
        mk = random_mask(rng, 64, 64, 3, 8) if i else None
        maps.append(np.floor(ndimage.gaussian_filter(rng.random((64, 64)) + (0 if mk is None else 0.5 * mk), 2) * 255) / 255)
        masks.append(mk)
    add("levels256_64", maps, masks)
    return cases


def blur_cases():
    cases = []
    for seed, (h, w) in [(1, (5, 7)), (2, (23, 37)), (3, (1, 40)), (4, (40, 3))]:
        x = hash_map(seed, h, w)
        y = ndimage.gaussian_filter(x, sigma=4)
        assert y.dtype == np.float32
        cases.append({"seed": seed, "height": h, "width": w, "expected": b64(y.astype("<f4"))})
    big = []
    for seed, (h, w) in [(7, (400, 400)), (8, (401, 399))]:
        x = hash_map(seed, h, w)
        y = ndimage.gaussian_filter(x, sigma=4)
        idx = np.random.default_rng(seed).choice(h * w, 400, replace=False)
        idx = np.concatenate([idx, [0, w - 1, (h - 1) * w, h * w - 1]])  # corners
        big.append({"seed": seed, "height": h, "width": w,
                    "sum": float(y.astype(np.float64).sum()), "sumsq": float((y.astype(np.float64) ** 2).sum()),
                    "indices": [int(i) for i in idx], "values": [float(v) for v in y.ravel()[idx]]})
    return {"small": cases, "large": big}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240405)
    for name, data in [("image_metrics.json", image_cases(rng)), ("pixel_metrics.json", pixel_cases(rng)),
                       ("gaussian_blur.json", blur_cases())]:
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(data, f, indent=1)
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
