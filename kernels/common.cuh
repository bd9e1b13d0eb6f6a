// common.cuh: reduction helpers shared by every kernel file. KernelCompiler hands this file to NVRTC as an in-memory
// header, so kernels #include "common.cuh" without any CUDA header on disk.
#pragma once

#define FULL_MASK 0xffffffffu

// IEEE infinity without <math.h>/<cuda/std/limits>.
#define POS_INF (__int_as_float(0x7f800000))
#define NEG_INF (-__int_as_float(0x7f800000))

// The combining operations of the reductions below.
struct sum_op
{
    __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};

struct max_op
{
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// Butterfly reduction over the 32 lanes of a warp, returned to every lane.
template <typename Op>
static __device__ __forceinline__ float warp_reduce(float v, Op op)
{
    for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(FULL_MASK, v, offset));
    return v;
}

// Block-wide reduction returned to every thread; identity fills the slots of absent warps. blockDim.x must be a
// multiple of 32 (at most 1024); scratch holds 32 floats. The leading barrier lets callers reuse the same scratch for
// consecutive reductions.
template <typename Op>
static __device__ __forceinline__ float block_reduce(float v, float identity, float* scratch, Op op)
{
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_reduce(v, op);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return warp_reduce(lane < warps ? scratch[lane] : identity, op);
}

static __device__ __forceinline__ float warp_sum(float v) { return warp_reduce(v, sum_op()); }

static __device__ __forceinline__ float warp_max(float v) { return warp_reduce(v, max_op()); }

static __device__ __forceinline__ float block_sum(float v, float* scratch) { return block_reduce(v, 0.0f, scratch, sum_op()); }

static __device__ __forceinline__ float block_max(float v, float* scratch) { return block_reduce(v, NEG_INF, scratch, max_op()); }

// Block-wide dot product sum_c a[c] * b[c] over c < n, returned to every thread (the row's threads stride over c).
static __device__ __forceinline__ float block_dot(const float* a, const float* b, int n, float* scratch)
{
    float s = 0.0f;
    for (int c = threadIdx.x; c < n; c += blockDim.x) s += a[c] * b[c];
    return block_sum(s, scratch);
}

// The two reductions of a row softmax over x[0..n) scaled by scale (1 for a plain softmax), returned to every thread:
// max = max_c scale * x[c] and sum = sum_c exp(scale * x[c] - max), so softmax(scale * x)[c] = exp(scale * x[c] - max) / sum.
struct softmax_stats
{
    float max;
    float sum;
};

static __device__ __forceinline__ softmax_stats block_softmax_stats(const float* x, int n, float scale, float* scratch)
{
    float m = NEG_INF;
    for (int c = threadIdx.x; c < n; c += blockDim.x) m = fmaxf(m, scale * x[c]);
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int c = threadIdx.x; c < n; c += blockDim.x) s += expf(scale * x[c] - m);
    return softmax_stats{m, block_sum(s, scratch)};
}

// Grid-stride loop over n elements with a 64-bit index, so sizes near 2^31 do not overflow.
#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); i += (long long)gridDim.x * blockDim.x)

// Row loop for "one block per row" kernels: blocks stride over rows when the grid is smaller than the row count.
#define BLOCK_ROWS(row, rows) for (int row = blockIdx.x; row < (rows); row += gridDim.x)
