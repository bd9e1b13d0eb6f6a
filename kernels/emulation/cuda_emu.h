// cuda_emu.h: makes our CUDA C kernels compile as ordinary C++20 with g++, so CI runs them on the CPU without a GPU.
// build.sh force-includes it into a generated unit per kernel file. Design (see README.md for what it cannot catch):
//   * One launch at a time, on ONE OS thread. Blocks run one after another; the threads of a block are cooperative
//     fibers (ucontext), switched only at synchronization points (__syncthreads, warp shuffles, __syncwarp).
//   * threadIdx/blockIdx/blockDim/gridDim are plain globals: the scheduler sets threadIdx before resuming a fiber.
//   * __shared__ is `static`: with one block alive at a time, a function-static array is shared by exactly the threads
//     of the running block, as on the GPU. All of them sit in one section that is poisoned (NaN) before each block.
//   * extern __shared__ arrays are rewritten by build.sh into a pointer to the launch's dynamic shared buffer.
//   * Atomics need no locking: fibers never switch in the middle of one.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

struct dim3
{
    unsigned int x = 1, y = 1, z = 1;
};
using uint3 = dim3;

extern dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace emu
{
// Where a warp collective was called: lanes released together must come from the same call site with the same mask.
struct Site
{
    const char* file;
    int line;
    const char* what;
};
#define EMU_SITE_ARGS const char *emu_file = __builtin_FILE(), int emu_line = __builtin_LINE()

// Block-wide barrier: every thread of the block that has not exited must arrive.
void sync_block();
// Warp barrier: every live lane of the calling thread's warp must arrive, from the same call site, each passing the
// mask of exactly the live lanes (checked by the scheduler when the warp is released).
void sync_warp(unsigned mask, Site site);
// The calling thread's linear index in its block, and its warp's exchange slots (32 x 8 bytes).
int linear_thread();
uint64_t* warp_slots();
void* dynamic_shared();
// Fails the launch with a named error (kernel, block, thread and the message); does not return.
[[noreturn]] void fail(int code, const char* message, Site site);
// Whether lane `lane` of the calling thread's warp is a live thread of the block (exists and has not returned).
bool lane_live(int lane);

template <class T> T shuffle(T v, int src_lane, unsigned mask, Site site)
{
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    uint64_t* slots = warp_slots();
    const int lane = linear_thread() & 31;
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    slots[lane] = bits;
    sync_warp(mask, site); // all lanes have published
    if (src_lane != lane && !lane_live(src_lane & 31)) fail(4, "reads a lane that has exited or does not exist", site);
    T r;
    bits = slots[src_lane & 31];
    std::memcpy(&r, &bits, sizeof(T));
    sync_warp(mask, site); // all lanes have read before anyone publishes again
    return r;
}
} // namespace emu

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
// Every static __shared__ array lives in one section, which the scheduler fills with a NaN pattern before each block,
// so a read of shared memory that no thread of the block wrote yields NaN (or -1 as an integer) instead of the
// previous block's values.
#define __shared__ static __attribute__((section("emu_shared")))
#define __restrict__ __restrict
#define __launch_bounds__(...)

inline void __syncthreads() { emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu, EMU_SITE_ARGS) { emu::sync_warp(mask, { emu_file, emu_line, "__syncwarp" }); }
inline void __threadfence() {}
inline void __threadfence_block() {}

template <class T> inline T __shfl_sync(unsigned mask, T v, int src, int width = 32, EMU_SITE_ARGS)
{
    const int lane = emu::linear_thread() & 31;
    return emu::shuffle(v, (lane & ~(width - 1)) + (src & (width - 1)), mask, { emu_file, emu_line, "__shfl_sync" });
}
template <class T> inline T __shfl_xor_sync(unsigned mask, T v, int laneMask, int width = 32, EMU_SITE_ARGS)
{
    const int lane = emu::linear_thread() & 31;
    const int src = lane ^ laneMask;
    // A source outside the caller's segment of `width` lanes returns the caller's own value, as on the GPU.
    return emu::shuffle(v, (src & ~(width - 1)) == (lane & ~(width - 1)) ? src : lane, mask, { emu_file, emu_line, "__shfl_xor_sync" });
}
template <class T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32, EMU_SITE_ARGS)
{
    const int lane = emu::linear_thread() & 31;
    const int src = lane + (int)delta;
    return emu::shuffle(v, (src & ~(width - 1)) == (lane & ~(width - 1)) ? src : lane, mask, { emu_file, emu_line, "__shfl_down_sync" });
}
template <class T> inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, EMU_SITE_ARGS)
{
    const int lane = emu::linear_thread() & 31;
    const int src = lane - (int)delta;
    return emu::shuffle(v, src >= (lane & ~(width - 1)) ? src : lane, mask, { emu_file, emu_line, "__shfl_up_sync" });
}
// Each lane's predicate as one bit of the result, to every lane of the mask.
inline unsigned __ballot_sync(unsigned mask, int predicate, EMU_SITE_ARGS)
{
    const emu::Site site{ emu_file, emu_line, "__ballot_sync" };
    uint64_t* slots = emu::warp_slots();
    slots[emu::linear_thread() & 31] = predicate ? 1 : 0;
    emu::sync_warp(mask, site);
    unsigned r = 0;
    for (int i = 0; i < 32; ++i)
        if (emu::lane_live(i) && slots[i]) r |= 1u << i;
    emu::sync_warp(mask, site);
    return r;
}

// Bit casts and math intrinsics: the fast-math variants are the exact libm functions here.
inline float __int_as_float(int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline int __float_as_int(float f) { int v; std::memcpy(&v, &f, 4); return v; }
inline unsigned __float_as_uint(float f) { unsigned v; std::memcpy(&v, &f, 4); return v; }
inline float __uint_as_float(unsigned v) { float f; std::memcpy(&f, &v, 4); return f; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
// Rounded on their own, never contracted into a fused multiply-add (volatile keeps the compiler from fusing).
inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }
inline float __fadd_rn(float a, float b) { volatile float r = a + b; return r; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }

// Atomics return the old value, like CUDA's.
template <class T> inline T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }
template <class T> inline T atomicSub(T* p, T v) { T old = *p; *p = old - v; return old; }
template <class T> inline T atomicExch(T* p, T v) { T old = *p; *p = v; return old; }
template <class T> inline T atomicMax(T* p, T v) { T old = *p; if (v > old) *p = v; return old; }
template <class T> inline T atomicMin(T* p, T v) { T old = *p; if (v < old) *p = v; return old; }
template <class T> inline T atomicCAS(T* p, T compare, T v) { T old = *p; if (old == compare) *p = v; return old; }
