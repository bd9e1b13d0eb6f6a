using System.Runtime.InteropServices;

namespace PromptAD.Tensors.Cpu;

/// <summary>
/// Freed large host blocks kept for the next request of the same size. A transformer forward asks for the same few
/// activation sizes over and over; without reuse, blocks of several MB come from fresh mmap'd pages that the kernel
/// faults in and zeroes on first touch (at batch 8 that cost more system time than the GELU and attention themselves).
/// Bounded: at most <see cref="MaxCachedBytes"/> are kept; a block that would exceed it is freed. Contents of a reused
/// block are whatever it last held, as with any fresh allocation.
/// </summary>
internal static unsafe class HostBlockPool
{
    /// <summary>Smaller blocks come from the allocator's heap, which reuses them cheaply already.</summary>
    private const nuint MinPooledBytes = 1 << 20;

    /// <summary>The most memory kept idle for reuse.</summary>
    internal const long MaxCachedBytes = 256L << 20;

    private static readonly Dictionary<nuint, Stack<IntPtr>> s_free = [];
    private static long s_cached;

    public static float* Rent(nuint bytes)
    {
        if (bytes >= MinPooledBytes)
            lock (s_free)
                if (s_free.TryGetValue(bytes, out var stack) && stack.Count > 0)
                {
                    s_cached -= (long)bytes;
                    return (float*)stack.Pop();
                }
        return (float*)NativeMemory.AlignedAlloc(bytes, 64);
    }

    public static void Return(float* block, nuint bytes)
    {
        if (bytes >= MinPooledBytes)
            lock (s_free)
                if (s_cached + (long)bytes <= MaxCachedBytes)
                {
                    if (!s_free.TryGetValue(bytes, out var stack)) s_free[bytes] = stack = new Stack<IntPtr>();
                    stack.Push((IntPtr)block);
                    s_cached += (long)bytes;
                    return;
                }
        NativeMemory.AlignedFree(block);
    }

    /// <summary>Bytes held idle now.</summary>
    internal static long CachedBytes
    {
        get { lock (s_free) return s_cached; }
    }

    /// <summary>Frees every idle block (e.g. before a long idle period).</summary>
    public static void Trim()
    {
        lock (s_free)
        {
            foreach (var stack in s_free.Values)
                while (stack.Count > 0) NativeMemory.AlignedFree((void*)stack.Pop());
            s_free.Clear();
            s_cached = 0;
        }
    }
}
