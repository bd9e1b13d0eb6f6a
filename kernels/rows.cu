// rows.cu: row movement on row-major [rows, cols] matrices: embedding lookup, splicing learnable prompt tokens into
// token embeddings, and the matching backward passes. Concatenation along rows is a plain cuMemcpyDtoD. All kernels
// are grid-stride; grid any, block 256, no shared memory.
//
// gather_rows(src, idx, dst, n_idx, cols)          dst[i] = src[idx[i]] (dst is [n_idx, cols]).
// scatter_add_rows(src, idx, dst, n_idx, cols)     dst[idx[i]] += src[i], atomically (indices may repeat);
//                                                  gather_rows' backward.
// splice_rows(base, src, src_for_row, dst, rows, cols)
//   dst[r] = src_for_row[r] >= 0 ? src[src_for_row[r]] : base[r]: "copy base, then overwrite the given rows" in one
//   pass with no ordering hazard. dst may alias base.
// splice_rows_backward(dy, src_for_row, dbase, dsrc, rows, cols)
//   dbase[r] = src_for_row[r] >= 0 ? 0 : dy[r] (written); dsrc[src_for_row[r]] += dy[r] (atomic, since one prompt row
//   can feed several destination rows; zero dsrc first). Either output may be 0 (null).
#include "common.cuh"

extern "C" __global__ void gather_rows(const float* src, const int* idx, float* dst, int n_idx, int cols)
{
    GRID_STRIDE(i, (long long)n_idx * cols)
    {
        const long long r = i / cols;
        dst[i] = src[(long long)idx[r] * cols + (i - r * cols)];
    }
}

extern "C" __global__ void scatter_add_rows(const float* src, const int* idx, float* dst, int n_idx, int cols)
{
    GRID_STRIDE(i, (long long)n_idx * cols)
    {
        const long long r = i / cols;
        atomicAdd(dst + (long long)idx[r] * cols + (i - r * cols), src[i]);
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

extern "C" __global__ void splice_rows_backward(const float* dy, const int* src_for_row, float* dbase, float* dsrc, int rows, int cols)
{
    GRID_STRIDE(i, (long long)rows * cols)
    {
        const long long r = i / cols;
        const int s = src_for_row[r];
        if (dbase) dbase[i] = s >= 0 ? 0.0f : dy[i];
        if (dsrc && s >= 0) atomicAdd(dsrc + (long long)s * cols + (i - r * cols), dy[i]);
    }
}

