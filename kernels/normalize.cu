// normalize.cu: L2 row normalization (CLIP features are compared by cosine). Similarity matrices are GEMMs (cuBLAS),
// not here.
//
// l2norm_forward(x, y, norm, rows, cols, eps)
//   grid: (min(rows, 65535)) blocks, rows block-strided; block: multiple of 32 (256); no dynamic shared.
//   y = x / max(||x||, eps); norm[r] = max(||x||, eps) is saved for backward (may be 0/null). y may alias x.
// l2norm_backward(dy, y, norm, dx, rows, cols)
//   same launch. dx = (dy - y * dot(dy, y)) / norm, the exact gradient when ||x|| > eps (the clamp is not
//   differentiated). dx may alias dy.
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

