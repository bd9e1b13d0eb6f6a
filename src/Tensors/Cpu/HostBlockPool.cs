using System.Runtime.InteropServices;

namespace PromptAD.Tensors.Cpu;

/// <summary>
/// Freed large host blocks kept for the next request of the same size. A transformer forward asks for the same few
/// activation sizes over and over; without reuse, blocks of several MB come from fresh mmap'd pages that the kernel
/// faults in and zeroes on first touch (at batch 8 that cost more system time than the GELU and attention themselves).
/// Bounded: at most <see cref="MaxCachedBytes"/> are kept idle, the least recently freed blocks going first, so when
/// the work changes (the image encoder's batch-8 sizes, then the text encoder's) the new sizes take over the pool.
/// Contents of a reused block are whatever it last held, as with any fresh allocation.
/// </summary>
internal static unsafe class HostBlockPool
{
    /// <summary>Smaller blocks come from the allocator's heap, which reuses them cheaply already.</summary>
    private const nuint MinPooledBytes = 1 << 20;

    /// <summary>The most memory kept idle for reuse.</summary>
    internal const long MaxCachedBytes = 256L << 20;

    private sealed class Block(nuint bytes, IntPtr pointer)
    {
        public readonly nuint Bytes = bytes;
        public readonly IntPtr Pointer = pointer;
        public LinkedListNode<Block>? InAge, InSize;
    }

    private static readonly LinkedList<Block> s_byAge = new(); // oldest first
    private static readonly Dictionary<nuint, LinkedList<Block>> s_bySize = [];
    private static long s_cached;

    public static float* Rent(nuint bytes)
    {
        if (bytes >= MinPooledBytes)
            lock (s_byAge)
                if (s_bySize.TryGetValue(bytes, out var blocks) && blocks.Last is { } newest)
                {
                    var block = newest.Value;
                    Remove(block);
                    return (float*)block.Pointer;
                }
        return (float*)NativeMemory.AlignedAlloc(bytes, 64);
    }

    public static void Return(float* pointer, nuint bytes)
    {
        if (bytes < MinPooledBytes || (long)bytes > MaxCachedBytes)
        {
            NativeMemory.AlignedFree(pointer);
            return;
        }
        lock (s_byAge)
        {
            var block = new Block(bytes, (IntPtr)pointer);
            if (!s_bySize.TryGetValue(bytes, out var blocks)) s_bySize[bytes] = blocks = new LinkedList<Block>();
            block.InSize = blocks.AddLast(block);
            block.InAge = s_byAge.AddLast(block);
            s_cached += (long)bytes;
            while (s_cached > MaxCachedBytes && s_byAge.First is { } oldest)
            {
                Remove(oldest.Value);
                NativeMemory.AlignedFree((void*)oldest.Value.Pointer);
            }
        }
    }

    // Takes a block out of both lists; the caller holds the lock.
    private static void Remove(Block block)
    {
        s_byAge.Remove(block.InAge!);
        s_bySize[block.Bytes].Remove(block.InSize!);
        s_cached -= (long)block.Bytes;
    }

    /// <summary>Bytes held idle now.</summary>
    internal static long CachedBytes
    {
        get { lock (s_byAge) return s_cached; }
    }

    /// <summary>Frees every idle block (e.g. before a long idle period).</summary>
    public static void Trim()
    {
        lock (s_byAge)
        {
            foreach (var block in s_byAge) NativeMemory.AlignedFree((void*)block.Pointer);
            s_byAge.Clear();
            s_bySize.Clear();
            s_cached = 0;
        }
    }
}
