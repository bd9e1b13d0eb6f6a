// softmax.cu: row softmax of a row-major [rows, cols] matrix, with an optional causal mask for CLIP's text encoder.
//
// softmax_forward(x, y, rows, cols, causal_t)
//   grid: (min(rows, 65535)) blocks, rows block-strided; block: multiple of 32 (128..256 suggested); no dynamic shared.
//   causal_t = 0: plain softmax. causal_t = T > 0: the matrix is a stack of [T, T] blocks (rows = B*T, cols = T) and
//   row r only sees columns c <= r mod T; masked outputs are written as 0. y may alias x.
// softmax_backward(y, dy, dx, rows, cols)
//   same launch. dx = y * (dy - sum_c(dy * y)). Masked entries have y = 0, so they get dx = 0 without the mask.
//   dx may alias dy.
#include "common.cuh"

extern "C" __global__ void softmax_forward(const float* x, float* y, int rows, int cols, int causal_t)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* xr = x + (long long)row * cols;
        float* yr = y + (long long)row * cols;
        const int visible = causal_t > 0 ? (row % causal_t) + 1 : cols;
        const softmax_stats st = block_softmax_stats(xr, visible, 1.0f, scratch);
        const float inv = 1.0f / st.sum;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = c < visible ? expf(xr[c] - st.max) * inv : 0.0f;
    }
}

extern "C" __global__ void softmax_backward(const float* y, const float* dy, float* dx, int rows, int cols)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* yr = y + (long long)row * cols;
        const float* dyr = dy + (long long)row * cols;
        float* dxr = dx + (long long)row * cols;
        const float s = block_dot(yr, dyr, cols, scratch);
        for (int c = threadIdx.x; c < cols; c += blockDim.x) dxr[c] = yr[c] * (dyr[c] - s);
    }
}
