// gelu.cu: activations of CLIP's MLP blocks. OpenAI CLIP uses QuickGELU (x * sigmoid(1.702 x)); open_clip models use
// exact GELU (x * Phi(x) with erf), so both are here. All are elementwise over n floats.
//
// Launch (every kernel): grid-stride; grid: any (e.g. min(ceil(n/256), 65535)), block: 256, no shared memory.
// gelu_forward(x, y, n)            y = x * 0.5 * (1 + erf(x / sqrt(2))); y may alias x.
// gelu_backward(x, dy, dx, n)      dx = dy * (Phi(x) + x * phi(x)); dx may alias dy.
// quick_gelu_forward(x, y, n)      y = x * sigmoid(1.702 x).
// quick_gelu_backward(x, dy, dx, n) dx = dy * (s + 1.702 x s (1 - s)), s = sigmoid(1.702 x).
//
// Epilogues of the MLP's first linear layer, whose GEMM writes h = x W^T without its bias (n = rows*cols):
// bias_gelu_forward(h, bias, pre, y, rows, cols)        pre = h + bias[c] (kept for the backward), y = gelu(pre);
// bias_quick_gelu_forward(h, bias, pre, y, rows, cols)  the same with QuickGELU. pre may alias h; y must not alias pre.
//   The backward needs no fused kernel: dpre = dy * act'(pre) is gelu_backward / quick_gelu_backward on pre.
#include "common.cuh"

#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f
#define QUICK_GELU_ALPHA 1.702f

extern "C" __global__ void gelu_forward(const float* x, float* y, int n)
{
    GRID_STRIDE(i, n)
    {
        const float v = x[i];
        y[i] = 0.5f * v * (1.0f + erff(v * INV_SQRT2));
    }
}

extern "C" __global__ void gelu_backward(const float* x, const float* dy, float* dx, int n)
{
    GRID_STRIDE(i, n)
    {
        const float v = x[i];
        const float cdf = 0.5f * (1.0f + erff(v * INV_SQRT2));
        const float pdf = INV_SQRT_2PI * expf(-0.5f * v * v);
        dx[i] = dy[i] * (cdf + v * pdf);
    }
}

extern "C" __global__ void quick_gelu_forward(const float* x, float* y, int n)
{
    GRID_STRIDE(i, n)
    {
        const float v = x[i];
        y[i] = v / (1.0f + expf(-QUICK_GELU_ALPHA * v));
    }
}

extern "C" __global__ void quick_gelu_backward(const float* x, const float* dy, float* dx, int n)
{
    GRID_STRIDE(i, n)
    {
        const float v = x[i];
        const float s = 1.0f / (1.0f + expf(-QUICK_GELU_ALPHA * v));
        dx[i] = dy[i] * (s + QUICK_GELU_ALPHA * v * s * (1.0f - s));
    }
}

extern "C" __global__ void bias_gelu_forward(const float* h, const float* bias, float* pre, float* y, int rows, int cols)
{
    GRID_STRIDE(i, (long long)rows * cols)
    {
        const float v = h[i] + bias[i % cols];
        pre[i] = v;
        y[i] = 0.5f * v * (1.0f + erff(v * INV_SQRT2));
    }
}

extern "C" __global__ void bias_quick_gelu_forward(const float* h, const float* bias, float* pre, float* y, int rows, int cols)
{
    GRID_STRIDE(i, (long long)rows * cols)
    {
        const float v = h[i] + bias[i % cols];
        pre[i] = v;
        y[i] = v / (1.0f + expf(-QUICK_GELU_ALPHA * v));
    }
}
