// normalize.cu: L2 row normalization (CLIP features are compared by cosine) and row dot products, which are the
// cosine similarity of rows that are already normalized. Full similarity matrices are GEMMs (cuBLAS), not here.
//
// l2norm_forward(x, y, norm, rows, cols, eps)
//   grid: (min(rows, 65535)) blocks, rows block-strided; block: multiple of 32 (256); no dynamic shared.
//   y = x / max(||x||, eps); norm[r] = max(||x||, eps) is saved for backward (may be 0/null). y may alias x.
// l2norm_backward(dy, y, norm, dx, rows, cols)
//   same launch. dx = (dy - y * dot(dy, y)) / norm, the exact gradient when ||x|| > eps (the clamp is not
//   differentiated). dx may alias dy.
// row_dot_forward(a, b, out, rows, cols, b_stride)
//   same launch. out[r] = sum_c a[r,c] * b[r*b_stride + c]; b_stride = cols row-by-row, 0 to broadcast one row of b.
// row_dot_backward(a, b, dout, da, db, rows, cols, b_stride)
//   grid-stride over rows*cols, block 256. da = dout[r] * b, db = dout[r] * a; either output may be 0 (null).
//   With b_stride = 0, db is accumulated atomically into its single row (zero it first).
#include "common.cuh"

extern "C" __global__ void l2norm_forward(const float* x, float* y, float* norm, int rows, int cols, float eps)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* xr = x + (long long)row * cols;
        float* yr = y + (long long)row * cols;
        const float n = fmaxf(sqrtf(block_dot(xr, xr, cols, scratch)), eps);
        const float inv = 1.0f / n;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = xr[c] * inv;
        if (threadIdx.x == 0 && norm) norm[row] = n;
    }
}

extern "C" __global__ void l2norm_backward(const float* dy, const float* y, const float* norm, float* dx, int rows, int cols)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* dyr = dy + (long long)row * cols;
        const float* yr = y + (long long)row * cols;
        float* dxr = dx + (long long)row * cols;
        const float s = block_dot(dyr, yr, cols, scratch);
        const float inv = 1.0f / norm[row];
        for (int c = threadIdx.x; c < cols; c += blockDim.x) dxr[c] = (dyr[c] - yr[c] * s) * inv;
    }
}

extern "C" __global__ void row_dot_forward(const float* a, const float* b, float* out, int rows, int cols, int b_stride)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* ar = a + (long long)row * cols;
        const float* br = b + (long long)row * b_stride;
        const float s = block_dot(ar, br, cols, scratch);
        if (threadIdx.x == 0) out[row] = s;
    }
}

extern "C" __global__ void row_dot_backward(const float* a, const float* b, const float* dout, float* da, float* db,
                                            int rows, int cols, int b_stride)
{
    GRID_STRIDE(i, (long long)rows * cols)
    {
        const long long row = i / cols;
        const int c = (int)(i - row * cols);
        const long long bi = row * b_stride + c;
        const float g = dout[row];
        if (da) da[i] = g * b[bi];
        if (db)
        {
            if (b_stride == 0) atomicAdd(db + c, g * a[i]);
            else db[bi] = g * a[i];
        }
    }
}
