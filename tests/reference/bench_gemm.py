#!/usr/bin/env python3
"""PyTorch (OpenBLAS on CPU) reference timings for the SGEMM shapes used by CLIP; compared against CpuGemm by
`promptad bench gemm`. Prints one JSON object per line: {"m","n","k","trans_b","threads","median_s","gflops"}, and for --attention
{"attention": true,"heads","length","dh","threads","median_s","gflops"}."""
import argparse
import json
import os
import time

torch = None  # imported in main(), after the BLAS thread count is fixed in the environment


def bench(m, n, k, trans_b, min_time):
    x = torch.randn(m, k)
    # CLIP linear layers store the weight [out, in]; the NT case multiplies by its transposed view (no copy).
    w = torch.randn(n, k).t() if trans_b else torch.randn(k, n)
    out = torch.empty(m, n)
    for _ in range(5):
        torch.matmul(x, w, out=out)
    times = []
    start = time.perf_counter()
    while len(times) < 10 or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        torch.matmul(x, w, out=out)
        times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    return med, 2.0 * m * n * k / med / 1e9


def bench_attention(heads, length, dh, min_time):
    # Per-head scores Q K^T read straight from a packed QKV projection [L, 3D] (strided views, no copies).
    d = heads * dh
    qkv = torch.randn(length, 3 * d)
    q = qkv[:, :d].view(length, heads, dh).transpose(0, 1)
    k = qkv[:, d:2 * d].view(length, heads, dh).transpose(0, 1)
    for _ in range(5):
        torch.matmul(q, k.transpose(1, 2))
    times = []
    start = time.perf_counter()
    while len(times) < 10 or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        torch.matmul(q, k.transpose(1, 2))
        times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    return med, 2.0 * heads * length * length * dh / med / 1e9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-time", type=float, default=1.0)
    p.add_argument("--shape", action="append", default=[], help="MxNxK; repeatable")
    p.add_argument("--attention", action="append", default=[], help="HEADSxLxDH: batched Q K^T; repeatable")
    a = p.parse_args()
    # torch.set_num_threads only sizes torch's own pool; an OpenBLAS build spawns its own threads, sized from the
    # environment when the library loads. Pin both, or "1 thread" quietly uses every core.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    global torch
    import torch as _torch
    torch = _torch
    torch.set_num_threads(a.threads)
    shapes = a.shape or ["226x2688x896", "226x3584x896", "77x1920x640"]
    for s in shapes:
        m, n, k = (int(v) for v in s.split("x"))
        for trans_b in (False, True):
            med, gf = bench(m, n, k, trans_b, a.min_time)
            print(json.dumps({"m": m, "n": n, "k": k, "trans_b": trans_b, "threads": torch.get_num_threads(),
                              "median_s": med, "gflops": gf}), flush=True)
    for s in a.attention:
        heads, length, dh = (int(v) for v in s.split("x"))
        med, gf = bench_attention(heads, length, dh, a.min_time)
        print(json.dumps({"attention": True, "heads": heads, "length": length, "dh": dh,
                          "threads": torch.get_num_threads(), "median_s": med, "gflops": gf}), flush=True)


if __name__ == "__main__":
    main()
