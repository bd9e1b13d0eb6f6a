// emu_runtime.cpp: the launch scheduler behind cuda_emu.h, and the one C entry point the .NET EmulatedRuntime calls.
// A launch runs its blocks in order on the calling OS thread. The threads of a block are ucontext fibers that run
// until they reach a sync point; the scheduler then releases a warp once all its live lanes wait at a warp sync, and
// the block once all its live threads wait at __syncthreads. Exited threads no longer count (as on Volta+). If nothing
// can be released, the threads wait at mismatched sync points: the launch fails with a "divergent sync" error
// instead of hanging.
#include "cuda_emu.h"
#include "emu_registry.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <setjmp.h>
#include <ucontext.h>
#include <vector>

dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace
{
enum class State { Runnable, AtBlockSync, AtWarpSync, Exited };

struct Fiber
{
    ucontext_t context;
    jmp_buf jump; // where the fiber waits at a sync point
    bool started = false;
    std::vector<char> stack;
    State state = State::Runnable;
    dim3 tid;
};

constexpr size_t StackBytes = 64 * 1024; // kernels keep a few registers' worth of locals; libm calls fit easily

ucontext_t scheduler;
// Switches after a fiber's first entry use _setjmp/_longjmp: swapcontext saves and restores the signal mask with a
// system call on every switch, which made sync-heavy kernels spend most of their time in the kernel.
jmp_buf schedulerJump;
ucontext_t fiberTemplate;
bool haveTemplate = false;
std::vector<Fiber> fibers;
int current = -1;
std::vector<uint64_t> exchange; // 32 slots per warp
std::vector<char> dynamicShared;
emu::KernelEntry entry = nullptr;
void** entryArgs = nullptr;
std::string lastError;
std::mutex launchLock; // one launch at a time: globals and function-static "shared" memory are per process

void yield(State s)
{
    Fiber& f = fibers[current];
    f.state = s;
    if (_setjmp(f.jump) == 0) _longjmp(schedulerJump, 1);
}

void fiberMain()
{
    entry(entryArgs);
    fibers[current].state = State::Exited;
    _longjmp(schedulerJump, 1); // back into the scheduler's loop (uc_link is not used)
}

std::map<std::string, emu::KernelEntry>& registry()
{
    static std::map<std::string, emu::KernelEntry> r;
    return r;
}

// Runs one block to completion. Returns false (with lastError set) on mismatched sync points.
bool runBlock(int threads)
{
    for (int i = 0; i < threads; ++i)
    {
        Fiber& f = fibers[i];
        if (!haveTemplate)
        {
            getcontext(&fiberTemplate); // once: makecontext needs an initialized context, copying it costs no system call
            haveTemplate = true;
        }
        f.context = fiberTemplate;
        f.started = false;
        f.context.uc_stack.ss_sp = f.stack.data();
        f.context.uc_stack.ss_size = f.stack.size();
        f.context.uc_link = &scheduler;
        makecontext(&f.context, fiberMain, 0);
        f.state = State::Runnable;
    }
    const int warps = (threads + 31) / 32;
    for (;;)
    {
        for (int i = 0; i < threads; ++i)
            if (fibers[i].state == State::Runnable)
            {
                current = i;
                threadIdx = fibers[i].tid;
                if (_setjmp(schedulerJump) == 0)
                {
                    if (!fibers[i].started)
                    {
                        fibers[i].started = true;
                        swapcontext(&scheduler, &fibers[i].context); // first entry: onto the fiber's own stack
                    }
                    else
                        _longjmp(fibers[i].jump, 1);
                }
            }
        bool released = false, anyLive = false, allAtBlock = true;
        for (int w = 0; w < warps; ++w)
        {
            int live = 0, atWarp = 0;
            for (int i = w * 32; i < threads && i < w * 32 + 32; ++i)
            {
                if (fibers[i].state == State::Exited) continue;
                ++live;
                if (fibers[i].state == State::AtWarpSync) ++atWarp;
            }
            if (live > 0 && atWarp == live)
            {
                for (int i = w * 32; i < threads && i < w * 32 + 32; ++i)
                    if (fibers[i].state == State::AtWarpSync) fibers[i].state = State::Runnable;
                released = true;
            }
        }
        if (released) continue;
        for (int i = 0; i < threads; ++i)
        {
            if (fibers[i].state == State::Exited) continue;
            anyLive = true;
            if (fibers[i].state != State::AtBlockSync) allAtBlock = false;
        }
        if (!anyLive) return true;
        if (allAtBlock)
        {
            for (int i = 0; i < threads; ++i)
                if (fibers[i].state == State::AtBlockSync) fibers[i].state = State::Runnable;
            continue;
        }
        char buf[160];
        std::snprintf(buf, sizeof buf, "divergent sync in block (%u,%u,%u): some threads wait at __syncthreads, others at a warp "
                      "shuffle/__syncwarp whose warp cannot complete", blockIdx.x, blockIdx.y, blockIdx.z);
        lastError = buf;
        return false;
    }
}
} // namespace

namespace emu
{
void sync_block() { yield(State::AtBlockSync); }
void sync_warp() { yield(State::AtWarpSync); }
int linear_thread() { return current; }
uint64_t* warp_slots() { return exchange.data() + (current / 32) * 32; }
void* dynamic_shared() { return dynamicShared.data(); }

Registrar::Registrar(const char* name, KernelEntry e) { registry()[name] = e; }
} // namespace emu

extern "C" __attribute__((visibility("default"))) const char* emu_last_error() { return lastError.c_str(); }

// 0 on success; 1 unknown kernel; 2 bad launch shape; 3 divergent sync (message in emu_last_error).
extern "C" __attribute__((visibility("default"))) int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz,
                                                                 unsigned bx, unsigned by, unsigned bz, size_t sharedBytes, void** args)
{
    std::lock_guard<std::mutex> lock(launchLock);
    auto it = registry().find(name);
    if (it == registry().end())
    {
        lastError = std::string("no emulated kernel named ") + name;
        return 1;
    }
    const unsigned long long threads = (unsigned long long)bx * by * bz;
    if (gx == 0 || gy == 0 || gz == 0 || threads == 0 || threads > 1024 || bz > 64 || gy > 65535 || gz > 65535)
    {
        lastError = "invalid launch shape for " + std::string(name);
        return 2;
    }
    entry = it->second;
    entryArgs = args;
    fibers.resize(threads);
    for (unsigned i = 0; i < threads; ++i)
    {
        if (fibers[i].stack.size() != StackBytes) fibers[i].stack.assign(StackBytes, 0);
        fibers[i].tid = dim3{ i % bx, (i / bx) % by, (unsigned)(i / ((unsigned long long)bx * by)) };
    }
    exchange.assign(((threads + 31) / 32) * 32, 0);
    dynamicShared.assign(sharedBytes + 16, 0);
    gridDim = dim3{ gx, gy, gz };
    blockDim = dim3{ bx, by, bz };
    for (unsigned z = 0; z < gz; ++z)
        for (unsigned y = 0; y < gy; ++y)
            for (unsigned x = 0; x < gx; ++x)
            {
                blockIdx = dim3{ x, y, z };
                if (!runBlock((int)threads)) return 3;
            }
    current = -1;
    return 0;
}
