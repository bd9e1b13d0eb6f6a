// rows.cu: row movement on row-major [rows, cols] matrices: embedding lookup, splicing learnable prompt tokens into
// token embeddings, and the matching backward passes. Concatenation along rows is a plain cuMemcpyDtoD. All kernels
// are grid-stride; grid any, block 256, no shared memory.
//
// gather_rows(src, idx, dst, n_idx, cols)          dst[i] = src[idx[i]] (dst is [n_idx, cols]).
// add_listed_rows(src, table, dst, n_dst, cols)   dst[t] += src[list[j]] for j = offsets[t] .. offsets[t+1]-1, in
//   that order, where table = offsets (n_dst + 1 ints) followed by list: the backward of gather_rows (dst row t
//   collects the source rows i with idx[i] = t) and of splice_rows (source row s collects the rows r with
//   src_for_row[r] = s). One thread per output element sums in list order, so the result is deterministic and
//   independent of the schedule (no atomics), and equals the CPU backend's ascending loop bit for bit.
// splice_rows(base, src, src_for_row, dst, rows, cols)
//   dst[r] = src_for_row[r] >= 0 ? src[src_for_row[r]] : base[r]: "copy base, then overwrite the given rows" in one
//   pass with no ordering hazard. dst may alias base.
// splice_rows_backward(dy, src_for_row, dbase, rows, cols)
//   dbase[r] = src_for_row[r] >= 0 ? 0 : dy[r] (written); the source's gradient is add_listed_rows.
#include "common.cuh"

extern "C" __global__ void gather_rows(const float* src, const int* idx, float* dst, int n_idx, int cols)
{
    GRID_STRIDE(i, (long long)n_idx * cols)
    {
        const long long r = i / cols;
        dst[i] = src[(long long)idx[r] * cols + (i - r * cols)];
    }
}

extern "C" __global__ void add_listed_rows(const float* src, const int* table, float* dst, int n_dst, int cols)
{
    const int* list = table + n_dst + 1;
    GRID_STRIDE(i, (long long)n_dst * cols)
    {
        const long long t = i / cols, c = i - t * cols;
        float acc = dst[i];
        for (int j = table[t]; j < table[t + 1]; ++j) acc += src[(long long)list[j] * cols + c];
        dst[i] = acc;
    }
}

extern "C" __global__ void splice_rows(const float* base, const float* src, const int* src_for_row, float* dst, int rows, int cols)
{
    GRID_STRIDE(i, (long long)rows * cols)
    {
        const long long r = i / cols;
        const int s = src_for_row[r];
        dst[i] = s >= 0 ? src[(long long)s * cols + (i - r * cols)] : base[i];
    }
}

extern "C" __global__ void splice_rows_backward(const float* dy, const int* src_for_row, float* dbase, int rows, int cols)
{
    GRID_STRIDE(i, (long long)rows * cols)
    {
        const long long r = i / cols;
        dbase[i] = src_for_row[r] >= 0 ? 0.0f : dy[i];
    }
}

