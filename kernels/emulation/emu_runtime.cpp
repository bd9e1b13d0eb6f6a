// emu_runtime.cpp: the launch scheduler behind cuda_emu.h, and the C entry points the .NET EmulatedRuntime calls.
// A launch runs its blocks one after another on the calling OS thread, in the order its schedule says (ascending,
// descending or a seeded random permutation). The threads of a block are fibers that run until they reach a sync
// point; each round resumes the runnable threads in the schedule's order, then releases a warp once all its live
// lanes wait at a warp sync, and the block once all its live threads wait at __syncthreads. Exited threads no longer
// count (as on Volta+). If nothing can be released the launch fails with a "divergent sync" error instead of hanging.
//
// It also works as a sanitizer (README.md, "Checks"): shared memory is poisoned before each block and dynamic shared
// memory ends in a canary; warp collectives must be called from one call site with the mask of the live lanes; a
// shuffle from an exited lane, a memory fault (a guard page of a strict allocation, emu_alloc) and a launch whose
// arguments do not fit the kernel's signature fail the launch with a message naming the kernel.
#include "cuda_emu.h"
#include "emu_registry.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <vector>

dim3 threadIdx, blockIdx, blockDim, gridDim;

// The linker's bounds of the section holding every static __shared__ array (cuda_emu.h); weak in case none exists.
extern "C" char __start_emu_shared[] __attribute__((weak, visibility("hidden")));
extern "C" char __stop_emu_shared[] __attribute__((weak, visibility("hidden")));

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
    unsigned mask = 0;      // the mask passed to the warp collective it waits at
    emu::Site site{};       // and where that collective is
};

// How a launch orders threads between barriers and blocks; the layout matches EmulatedRuntime's EmuSchedule.
struct Schedule
{
    int order; // 0 ascending, 1 descending, 2 seeded random
    int reserved;
    uint64_t seed;
};

constexpr size_t StackBytes = 64 * 1024; // kernels keep a few registers' worth of locals; libm calls fit easily
constexpr size_t CanaryBytes = 64;
constexpr unsigned char CanaryByte = 0xA5;

ucontext_t scheduler;
// Switches after a fiber's first entry use _setjmp/_longjmp: swapcontext saves and restores the signal mask with a
// system call on every switch, which made sync-heavy kernels spend most of their time in the kernel.
jmp_buf schedulerJump;
jmp_buf abortJump; // emu::fail and the fault handler leave the launch through here
ucontext_t fiberTemplate;
bool haveTemplate = false;
std::vector<Fiber> fibers;
int current = -1;
std::vector<uint64_t> exchange; // 32 slots per warp
std::vector<char> dynamicShared;
size_t dynamicBytes = 0;
emu::KernelEntry entry = nullptr;
void** entryArgs = nullptr;
const char* kernelName = "";
std::string lastError;
uintptr_t faultAddress = 0;
volatile pid_t launchThread = 0; // the OS thread inside a launch (0: none), for the fault handler
std::mutex launchLock;            // one launch at a time: globals and function-static "shared" memory are per process

uint64_t splitmix(uint64_t& state)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The order 0..n-1 as the schedule wants it (a fresh permutation per call for the random one).
void order(std::vector<int>& v, int n, const Schedule& s, uint64_t& rng)
{
    v.resize(n);
    for (int i = 0; i < n; ++i) v[i] = s.order == 1 ? n - 1 - i : i;
    if (s.order == 2)
        for (int i = n - 1; i > 0; --i) std::swap(v[i], v[(int)(splitmix(rng) % (uint64_t)(i + 1))]);
}

std::string fileName(const char* path)
{
    std::string p = path ? path : "?";
    size_t slash = p.find_last_of('/');
    if (slash != std::string::npos) p = p.substr(slash + 1);
    if (p.size() > 4 && p.compare(p.size() - 4, 4, ".inc") == 0) p.resize(p.size() - 4); // build.sh's copy of the .cu
    return p;
}

std::string where()
{
    char buf[128];
    std::snprintf(buf, sizeof buf, "kernel %s, block (%u,%u,%u)", kernelName, blockIdx.x, blockIdx.y, blockIdx.z);
    return buf;
}

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

std::map<std::string, std::pair<emu::KernelEntry, emu::Signature>>& registry()
{
    static std::map<std::string, std::pair<emu::KernelEntry, emu::Signature>> r;
    return r;
}

// Lanes released together: same call site, each with the mask of exactly the live lanes. Returns an error or "".
std::string checkWarp(int w, int threads, unsigned live)
{
    int first = -1;
    for (int i = w * 32; i < threads && i < w * 32 + 32; ++i)
    {
        const Fiber& f = fibers[i];
        if (f.state != State::AtWarpSync) continue;
        char buf[320];
        if (first < 0) first = i;
        else if (f.site.line != fibers[first].site.line || fileName(f.site.file) != fileName(fibers[first].site.file))
        {
            std::snprintf(buf, sizeof buf, "%s, warp %d: lanes meet at different warp collectives: lane %d at %s %s:%d, lane %d at %s %s:%d",
                          where().c_str(), w, first - w * 32, fibers[first].site.what, fileName(fibers[first].site.file).c_str(),
                          fibers[first].site.line, i - w * 32, f.site.what, fileName(f.site.file).c_str(), f.site.line);
            return buf;
        }
        if (f.mask != live)
        {
            std::snprintf(buf, sizeof buf, "%s, warp %d: %s at %s:%d passes mask 0x%08x, but the live lanes are 0x%08x "
                          "(a lane of the mask has exited or does not exist, or a live lane is missing)",
                          where().c_str(), w, f.site.what, fileName(f.site.file).c_str(), f.site.line, f.mask, live);
            return buf;
        }
    }
    return "";
}

void poisonShared()
{
    if (__start_emu_shared && __stop_emu_shared > __start_emu_shared)
        std::memset(__start_emu_shared, 0xFF, (size_t)(__stop_emu_shared - __start_emu_shared)); // NaN as float, -1 as int
    std::memset(dynamicShared.data(), 0xFF, dynamicBytes);
    std::memset(dynamicShared.data() + dynamicBytes, CanaryByte, CanaryBytes);
}

// Runs one block to completion. Returns 0, or an error code with lastError set.
int runBlock(int threads, const Schedule& schedule, uint64_t rng)
{
    poisonShared();
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
    std::vector<int> turn;
    for (;;)
    {
        order(turn, threads, schedule, rng);
        for (int i : turn)
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
            int atWarp = 0;
            unsigned live = 0;
            for (int i = w * 32; i < threads && i < w * 32 + 32; ++i)
            {
                if (fibers[i].state == State::Exited) continue;
                live |= 1u << (i - w * 32);
                if (fibers[i].state == State::AtWarpSync) ++atWarp;
            }
            if (live != 0 && atWarp == __builtin_popcount(live))
            {
                std::string error = checkWarp(w, threads, live);
                if (!error.empty())
                {
                    lastError = error;
                    return 4;
                }
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
        if (!anyLive) break;
        if (allAtBlock)
        {
            for (int i = 0; i < threads; ++i)
                if (fibers[i].state == State::AtBlockSync) fibers[i].state = State::Runnable;
            continue;
        }
        lastError = where() + ": divergent sync: some threads wait at __syncthreads, others at a warp collective whose warp cannot complete";
        return 3;
    }
    for (size_t i = 0; i < CanaryBytes; ++i)
        if ((unsigned char)dynamicShared[dynamicBytes + i] != CanaryByte)
        {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%zu", dynamicBytes);
            lastError = where() + ": wrote past the end of its dynamic shared memory (" + buf + " bytes; the canary after it changed)";
            return 6;
        }
    return 0;
}

// Faults: inside a launch, on its thread, leave the launch with code 5; anything else goes to the handler that was
// installed before ours (the .NET runtime's, which turns managed null dereferences into exceptions).
struct sigaction previousSegv, previousBus;

void onFault(int sig, siginfo_t* info, void* context)
{
    if (launchThread != 0 && launchThread == (pid_t)syscall(SYS_gettid))
    {
        faultAddress = (uintptr_t)info->si_addr;
        _longjmp(abortJump, 5);
    }
    struct sigaction& previous = sig == SIGSEGV ? previousSegv : previousBus;
    if (previous.sa_flags & SA_SIGINFO) previous.sa_sigaction(sig, info, context);
    else if (previous.sa_handler == SIG_DFL)
    {
        sigaction(sig, &previous, nullptr); // the fault repeats on return and ends the process as it would have
    }
    else if (previous.sa_handler != SIG_IGN) previous.sa_handler(sig);
}

void installFaultHandler()
{
    static bool installed = false;
    if (installed) return;
    installed = true;
    struct sigaction a{};
    a.sa_sigaction = onFault;
    a.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER; // NODEFER: leaving by longjmp must not keep SIGSEGV blocked
    sigemptyset(&a.sa_mask);
    sigaction(SIGSEGV, &a, &previousSegv);
    sigaction(SIGBUS, &a, &previousBus);
}

const size_t PageBytes = (size_t)sysconf(_SC_PAGESIZE);

size_t roundUp(size_t v, size_t to) { return (v + to - 1) / to * to; }
} // namespace

namespace emu
{
void sync_block() { yield(State::AtBlockSync); }
void sync_warp(unsigned mask, Site site)
{
    fibers[current].mask = mask;
    fibers[current].site = site;
    yield(State::AtWarpSync);
}
int linear_thread() { return current; }
uint64_t* warp_slots() { return exchange.data() + (current / 32) * 32; }
void* dynamic_shared() { return dynamicShared.data(); }

bool lane_live(int lane)
{
    const int i = (current / 32) * 32 + lane;
    return i < (int)fibers.size() && fibers[i].state != State::Exited;
}

void fail(int code, const char* message, Site site)
{
    char buf[320];
    const dim3 t = fibers[current].tid;
    std::snprintf(buf, sizeof buf, "%s, thread (%u,%u,%u): %s at %s:%d %s", where().c_str(), t.x, t.y, t.z, site.what,
                  fileName(site.file).c_str(), site.line, message);
    lastError = buf;
    _longjmp(abortJump, code);
}

Registrar::Registrar(const char* name, KernelEntry e, Signature s) { registry()[name] = { e, s }; }
} // namespace emu

#define EMU_EXPORT extern "C" __attribute__((visibility("default")))

EMU_EXPORT const char* emu_last_error() { return lastError.c_str(); }

// The address of the last memory fault inside a launch (code 5).
EMU_EXPORT uintptr_t emu_fault_address() { return faultAddress; }

// A kernel's parameter count, and per parameter 0 (a value) or the alignment its pointee needs. -1: no such kernel.
EMU_EXPORT int emu_signature(const char* name, int* pointeeAlign)
{
    auto it = registry().find(name);
    if (it == registry().end()) return -1;
    for (int i = 0; i < it->second.second.count; ++i) pointeeAlign[i] = it->second.second.pointeeAlign[i];
    return it->second.second.count;
}

// Device memory. Strict: exactly `bytes` (rounded up to 4) ending at a PROT_NONE guard page, with one before it too,
// so the first byte past the end faults; the start keeps the alignment the size allows (4 bytes at least, 256 when
// the size is a multiple of 256). Otherwise 256-byte-aligned heap memory. Null when out of memory.
EMU_EXPORT void* emu_alloc(size_t bytes, int strict)
{
    if (!strict) return std::aligned_alloc(256, roundUp(bytes == 0 ? 4 : bytes, 256));
    const size_t used = roundUp(bytes == 0 ? 4 : bytes, 4), data = roundUp(used, PageBytes);
    char* base = (char*)mmap(nullptr, data + 2 * PageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    mprotect(base, PageBytes, PROT_NONE);
    mprotect(base + PageBytes + data, PageBytes, PROT_NONE);
    return base + PageBytes + data - used;
}

EMU_EXPORT void emu_free(void* p, size_t bytes, int strict)
{
    if (!strict)
    {
        std::free(p);
        return;
    }
    const size_t data = roundUp(roundUp(bytes == 0 ? 4 : bytes, 4), PageBytes);
    char* base = (char*)((uintptr_t)p / PageBytes * PageBytes) - PageBytes;
    munmap(base, data + 2 * PageBytes);
}

// 0 on success; 1 unknown kernel; 2 bad launch shape; 3 divergent sync; 4 warp collective misuse (mask, call site,
// exited source lane); 5 memory fault (emu_fault_address); 6 dynamic shared memory overrun; 7 arguments that do not
// fit the signature. The message is in emu_last_error.
EMU_EXPORT int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                          size_t sharedBytes, void** args, int argCount, const Schedule* schedule)
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
    const emu::Signature& sig = it->second.second;
    if (argCount != sig.count)
    {
        lastError = "kernel " + std::string(name) + " takes " + std::to_string(sig.count) + " arguments, the launch passes " + std::to_string(argCount);
        return 7;
    }
    for (int i = 0; i < sig.count; ++i)
    {
        const uintptr_t p = *(const uintptr_t*)args[i];
        if (sig.pointeeAlign[i] > 1 && p % (uintptr_t)sig.pointeeAlign[i] != 0)
        {
            char buf[200];
            std::snprintf(buf, sizeof buf, "kernel %s: pointer argument %d (0x%llx) is not aligned to its pointee's %d bytes", name, i,
                          (unsigned long long)p, sig.pointeeAlign[i]);
            lastError = buf;
            return 7;
        }
    }
    installFaultHandler();
    entry = it->second.first;
    entryArgs = args;
    kernelName = it->first.c_str();
    fibers.resize(threads);
    for (unsigned i = 0; i < threads; ++i)
    {
        if (fibers[i].stack.size() != StackBytes) fibers[i].stack.assign(StackBytes, 0);
        fibers[i].tid = dim3{ i % bx, (i / bx) % by, (unsigned)(i / ((unsigned long long)bx * by)) };
    }
    exchange.assign(((threads + 31) / 32) * 32, 0);
    dynamicBytes = sharedBytes;
    dynamicShared.resize(sharedBytes + CanaryBytes);
    gridDim = dim3{ gx, gy, gz };
    blockDim = dim3{ bx, by, bz };
    const Schedule plain{ 0, 0, 0 };
    const Schedule& s = schedule ? *schedule : plain;
    // The launch's own random stream: the same launch always gets the same orders, whatever ran before it.
    uint64_t rng = s.seed ^ std::hash<std::string>{}(name) ^ ((uint64_t)gx << 32) ^ ((uint64_t)bx << 16) ^ sharedBytes;
    std::vector<int> blocks;
    const unsigned long long count = (unsigned long long)gx * gy * gz;
    if (count > (1ull << 31))
    {
        lastError = "invalid launch shape for " + std::string(name) + " (too many blocks)";
        return 2;
    }
    order(blocks, (int)count, s, rng);
    faultAddress = 0;
    int rc = _setjmp(abortJump);
    if (rc == 0)
    {
        launchThread = (pid_t)syscall(SYS_gettid);
        for (int b : blocks)
        {
            blockIdx = dim3{ (unsigned)(b % gx), (unsigned)((b / gx) % gy), (unsigned)(b / ((unsigned long long)gx * gy)) };
            rc = runBlock((int)threads, s, splitmix(rng));
            if (rc != 0) break;
        }
    }
    else if (rc == 5)
    {
        char buf[200];
        const dim3 t = current >= 0 ? fibers[current].tid : dim3{};
        std::snprintf(buf, sizeof buf, "%s, thread (%u,%u,%u): memory fault at 0x%llx", where().c_str(), t.x, t.y, t.z,
                      (unsigned long long)faultAddress);
        lastError = buf;
    }
    launchThread = 0;
    current = -1;
    return rc;
}
