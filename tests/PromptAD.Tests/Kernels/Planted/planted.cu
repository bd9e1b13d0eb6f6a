// planted.cu: test-only kernels, each with one bug that a real GPU would show and the emulated GPU's checks must
// catch by name (EmulatedSanitizerTests). Never part of the product: built by the tests into their own library.
#include "common.cuh"

// Missing __syncthreads: each thread reads the value its lower neighbour wrote. In ascending order the neighbour has
// always run first (the bug hides); in descending order it has not, and the read sees poisoned shared memory.
extern "C" __global__ void planted_missing_barrier(float* out)
{
    __shared__ float s[64];
    const int t = threadIdx.x;
    s[t] = (float)t;
    // __syncthreads() belongs here
    out[t] = t > 0 ? s[t - 1] : 0.0f;
}

// The same with the barrier: every schedule agrees.
extern "C" __global__ void planted_with_barrier(float* out)
{
    __shared__ float s[64];
    const int t = threadIdx.x;
    s[t] = (float)t;
    __syncthreads();
    out[t] = t > 0 ? s[t - 1] : 0.0f;
}

// Reads shared memory no thread of this block wrote (only the even slots are written).
extern "C" __global__ void planted_uninitialized_shared(float* out)
{
    __shared__ float s[64];
    const int t = threadIdx.x;
    if (t % 2 == 0) s[t] = 1.0f;
    __syncthreads();
    out[t] = s[t];
}

// Writes one float past its dynamic shared memory (n floats).
extern "C" __global__ void planted_dynamic_shared_overrun(float* out, int n)
{
    extern __shared__ float d[];
    const int t = threadIdx.x;
    d[t + 1] = 1.0f; // thread n-1 writes d[n]
    __syncthreads();
    out[t] = d[t];
    (void)n;
}

// FULL_MASK in a block of 16 threads: lanes 16..31 do not exist.
extern "C" __global__ void planted_full_mask_partial_warp(float* out)
{
    const int t = threadIdx.x;
    out[t] = __shfl_xor_sync(FULL_MASK, (float)t, 1);
}

// The lanes of one warp meet at two different shuffles.
extern "C" __global__ void planted_divergent_shuffle(float* out)
{
    const int t = threadIdx.x;
    float v = (float)t;
    if (t < 16) v = __shfl_xor_sync(FULL_MASK, v, 1);
    else v = __shfl_xor_sync(FULL_MASK, v, 2);
    out[t] = v;
}

// Lanes 16..31 return; the others read from them with the right mask for the live lanes.
extern "C" __global__ void planted_shuffle_from_exited(float* out)
{
    const int t = threadIdx.x;
    if (t >= 16) return;
    out[t] = __shfl_sync(0x0000ffffu, (float)t, t + 16);
}

// Writes out[n]: one element past an allocation of n floats.
extern "C" __global__ void planted_overrun_by_one(float* out, int n)
{
    const int t = threadIdx.x;
    if (t <= n) out[t] = 1.0f; // should be t < n
}

// A correct kernel with three parameters, launched with a wrong count or a misaligned pointer by the tests.
extern "C" __global__ void planted_three_params(const float* x, float* y, int n)
{
    const int t = threadIdx.x;
    if (t < n) y[t] = x[t];
}

// 96 live accumulators: well over 64 registers per thread, so a block of 1024 threads exceeds the 65,536 registers
// of a block (KernelResourceLimitTests); at 256 threads it fits.
extern "C" __global__ void planted_register_heavy(const float* x, float* y, int n)
{
    float acc[96];
#pragma unroll
    for (int j = 0; j < 96; ++j) acc[j] = x[j * n + threadIdx.x];
    for (int it = 0; it < n; ++it)
    {
#pragma unroll
        for (int j = 0; j < 96; ++j) acc[j] = acc[j] * acc[(j + 1) % 96] + x[it];
    }
    float s = 0.0f;
#pragma unroll
    for (int j = 0; j < 96; ++j) s += acc[j];
    y[threadIdx.x] = s;
}
