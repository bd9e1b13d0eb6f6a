// scoring.cu: batched anomaly scoring (SPEC §6) on a whole batch of test images at once.
//
// row_max(x, y, rows, cols, scale, shift)
//   y[r] = scale * max_c x[r,c] + shift. One block per row (blocks stride over rows), block 256; static shared 128 B.
//   With scale -0.5, shift 0.5 on the similarity GEMM of unit rows: the nearest-neighbour distance min (1 - cos)/2.
// anomaly_fuse(sims, d1, d2, y, r, logit_scale)
//   pad = 1/(1 + exp(-s (sims[i,1] - sims[i,0]))), vad = (d1[i] + d2[i]) * 0.5, y[i] = 1/(1/pad + 1/vad), y[r+i] = vad.
//   Grid-stride over r, block 256.
// gaussian_blur_axis(x, y, w, C, H, W, radius, vertical)
//   One pass of scipy.ndimage.gaussian_filter (mode 'reflect'): vertical != 0 correlates along axis 0 (rows), else
//   along axis 1, with the half-kernel w[0..radius] (double, normalized on the host like SciPy's). Accumulates in
//   double as w0*x0 + sum_j wj*(x[-j] + x[+j]) and rounds to float, as SciPy writes each pass to float32.
//   Grid-stride over C*H*W, block 256.
#include "common.cuh"

extern "C" __global__ void row_max(const float* x, float* y, int rows, int cols, float scale, float shift)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* p = x + (long long)row * cols;
        float m = NEG_INF;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, p[c]);
        m = block_max(m, scratch);
        if (threadIdx.x == 0) y[row] = scale * m + shift;
    }
}

extern "C" __global__ void anomaly_fuse(const float* sims, const float* d1, const float* d2, float* y, int r, float logit_scale)
{
    GRID_STRIDE(i, r)
    {
        const float pad = 1.0f / (1.0f + expf(-logit_scale * (sims[2 * i + 1] - sims[2 * i])));
        const float vad = (d1[i] + d2[i]) * 0.5f;
        y[i] = 1.0f / (1.0f / pad + 1.0f / vad);
        y[r + i] = vad;
    }
}

// Half-sample symmetric extension (d c b a | a b c d | d c b a), periodic with period 2n.
static __device__ __forceinline__ int reflect_index(int i, int n)
{
    const int period = 2 * n;
    int m = i % period;
    if (m < 0) m += period;
    return m < n ? m : period - 1 - m;
}

extern "C" __global__ void gaussian_blur_axis(const float* x, float* y, const double* w, int C, int H, int W, int radius, int vertical)
{
    GRID_STRIDE(i, (long long)C * H * W)
    {
        const int col = (int)(i % W);
        const long long rest = i / W;
        const int row = (int)(rest % H);
        const float* plane = x + (rest / H) * H * W;
        const int n = vertical ? H : W, at = vertical ? row : col;
        const long long step = vertical ? W : 1;
        const float* line = vertical ? plane + col : plane + (long long)row * W;
        double acc = (double)line[at * step] * w[0];
        for (int j = 1; j <= radius; ++j)
            acc += ((double)line[reflect_index(at - j, n) * step] + (double)line[reflect_index(at + j, n) * step]) * w[j];
        y[i] = (float)acc;
    }
}
