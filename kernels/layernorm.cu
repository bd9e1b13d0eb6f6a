// layernorm.cu: LayerNorm over the last dimension of a row-major [rows, cols] matrix (CLIP's ln_1/ln_2/ln_post).
// gamma/beta are frozen in PromptAD, so the backward pass produces dx only.
//
// layernorm_forward(x, gamma, beta, y, mean, rstd, rows, cols, eps)
//   grid: (min(rows, 65535)) blocks, rows are block-strided; block: 32..1024 threads, multiple of 32 (256 suggested);
//   shared: none dynamic. y = (x - mean) * rstd * gamma + beta. mean/rstd ([rows]) are saved for backward and may be 0
//   (null) for inference. Two-pass variance (mean first, then squared deviations) for accuracy. y may alias x.
// layernorm_backward(dy, x, gamma, mean, rstd, dx, rows, cols)
//   same launch. dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma, xhat = (x - mean) * rstd.
//   dx is written (not accumulated); dx may alias dy.
#include "common.cuh"

extern "C" __global__ void layernorm_forward(const float* x, const float* gamma, const float* beta, float* y,
                                             float* mean, float* rstd, int rows, int cols, float eps)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* xr = x + (long long)row * cols;
        float* yr = y + (long long)row * cols;
        float s = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) s += xr[c];
        const float mu = block_sum(s, scratch) / cols;
        float v = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float d = xr[c] - mu;
            v += d * d;
        }
        const float r = rsqrtf(block_sum(v, scratch) / cols + eps);
        for (int c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = (xr[c] - mu) * r * gamma[c] + beta[c];
        if (threadIdx.x == 0)
        {
            if (mean) mean[row] = mu;
            if (rstd) rstd[row] = r;
        }
    }
}

extern "C" __global__ void layernorm_backward(const float* dy, const float* x, const float* gamma, const float* mean,
                                              const float* rstd, float* dx, int rows, int cols)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* dyr = dy + (long long)row * cols;
        const float* xr = x + (long long)row * cols;
        float* dxr = dx + (long long)row * cols;
        const float mu = mean[row], r = rstd[row];
        float sg = 0.0f, sgx = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float g = dyr[c] * gamma[c];
            sg += g;
            sgx += g * (xr[c] - mu) * r;
        }
        const float mg = block_sum(sg, scratch) / cols;
        const float mgx = block_sum(sgx, scratch) / cols;
        for (int c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float xhat = (xr[c] - mu) * r;
            dxr[c] = r * (dyr[c] * gamma[c] - mg - xhat * mgx);
        }
    }
}
