// upsample.cu: bilinear resize of [C, H, W] maps (patch-grid anomaly maps to image size), matching PyTorch's
// F.interpolate(mode="bilinear", align_corners=False): src = (dst + 0.5) * in/out - 0.5, clamped below at 0.
//
// upsample_bilinear(x, y, C, H, W, OH, OW)
//   x [C, H, W] -> y [C, OH, OW]. Grid-stride over C*OH*OW outputs; grid any, block 256, no shared memory.
#include "common.cuh"

extern "C" __global__ void upsample_bilinear(const float* x, float* y, int C, int H, int W, int OH, int OW)
{
    const float sh = (float)H / OH, sw = (float)W / OW;
    GRID_STRIDE(i, (long long)C * OH * OW)
    {
        const int ox = (int)(i % OW);
        const long long rest = i / OW;
        const int oy = (int)(rest % OH);
        const long long c = rest / OH;
        const float fy = fmaxf((oy + 0.5f) * sh - 0.5f, 0.0f);
        const float fx = fmaxf((ox + 0.5f) * sw - 0.5f, 0.0f);
        const int y0 = (int)fy, x0 = (int)fx;
        const int y1 = y0 < H - 1 ? y0 + 1 : y0, x1 = x0 < W - 1 ? x0 + 1 : x0;
        const float ly = fy - y0, lx = fx - x0;
        const float* p = x + c * H * W;
        y[i] = (1.0f - ly) * ((1.0f - lx) * p[y0 * W + x0] + lx * p[y0 * W + x1])
             + ly * ((1.0f - lx) * p[y1 * W + x0] + lx * p[y1 * W + x1]);
    }
}
