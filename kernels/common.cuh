// common.cuh: reduction helpers shared by every kernel file. KernelCompiler hands this file to NVRTC as an in-memory
// header, so kernels #include "common.cuh" without any CUDA header on disk.
#pragma once

#define FULL_MASK 0xffffffffu

// IEEE infinity without <math.h>/<cuda/std/limits>.
#define POS_INF (__int_as_float(0x7f800000))
#define NEG_INF (-__int_as_float(0x7f800000))

static __device__ __forceinline__ float warp_sum(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(FULL_MASK, v, offset);
    return v;
}

static __device__ __forceinline__ float warp_max(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, offset));
    return v;
}

// Block-wide sum returned to every thread. blockDim.x must be a multiple of 32 (at most 1024); scratch holds 32
// floats. The leading barrier lets callers reuse the same scratch for consecutive reductions.
static __device__ __forceinline__ float block_sum(float v, float* scratch)
{
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return warp_sum(lane < warps ? scratch[lane] : 0.0f);
}

static __device__ __forceinline__ float block_max(float v, float* scratch)
{
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return warp_max(lane < warps ? scratch[lane] : NEG_INF);
}

// Grid-stride loop over n elements with a 64-bit index, so sizes near 2^31 do not overflow.
#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); i += (long long)gridDim.x * blockDim.x)

// Row loop for "one block per row" kernels: blocks stride over rows when the grid is smaller than the row count.
#define BLOCK_ROWS(row, rows) for (int row = blockIdx.x; row < (rows); row += gridDim.x)
