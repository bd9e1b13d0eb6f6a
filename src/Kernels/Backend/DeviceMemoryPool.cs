namespace PromptAD.Kernels;

/// <summary>The pool's bytes: handed out now, held from the driver now, and the highest of each so far.</summary>
public readonly record struct DeviceMemoryStats(long InUseBytes, long ReservedBytes, long PeakInUseBytes, long PeakReservedBytes, int CachedBlocks)
{
    public override string ToString() =>
        $"in use {Mib(InUseBytes)} MiB (peak {Mib(PeakInUseBytes)}), reserved {Mib(ReservedBytes)} MiB (peak {Mib(PeakReservedBytes)}), {CachedBlocks} blocks cached";

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// A caching allocator in front of the runtime: freed blocks go to a free list per size class and the next request of
/// that class takes one back, so once a training step or scoring batch has run once, the same shapes make no driver
/// allocation (cuMemAlloc) or free (cuMemFree, which synchronizes the device) at all. Reuse needs no event: every
/// kernel, copy and GEMM is on the runtime's one stream, so work queued on a reused block runs after the work that
/// used it before. Memory goes back to the driver on <see cref="Trim"/> (also tried once when an allocation fails)
/// and <see cref="Dispose"/>. PROMPTAD_CUDA_POOL=0 turns caching off (every block straight back to the driver), which
/// lets compute-sanitizer see each buffer's real bounds.
/// </summary>
public sealed class DeviceMemoryPool : IDisposable
{
    private readonly IDeviceRuntime runtime;
    private readonly bool caching;
    private readonly Dictionary<ulong, Stack<ulong>> cached = [];
    private readonly Dictionary<ulong, ulong> sizes = [];
    private long inUse, reserved, peakInUse, peakReserved;
    private int cachedBlocks;
    private bool disposed;

    public DeviceMemoryPool(IDeviceRuntime runtime, bool? caching = null)
    {
        this.runtime = runtime;
        this.caching = caching ?? Environment.GetEnvironmentVariable("PROMPTAD_CUDA_POOL") != "0";
    }

    public DeviceMemoryStats Stats
    {
        get { lock (cached) return new(inUse, reserved, peakInUse, peakReserved, cachedBlocks); }
    }

    /// <summary>
    /// Rounds a request up to its size class: 512-byte steps up to 1 MiB, then sixteen classes per power of two (at
    /// most 1/16 wasted), so repeated shapes land in the same class while varying ones share classes.
    /// </summary>
    public static ulong SizeClass(ulong bytes)
    {
        bytes = Math.Max(bytes, 1);
        if (bytes <= 1 << 20) return (bytes + 511) & ~511UL;
        ulong step = (1UL << (64 - (int)ulong.LeadingZeroCount(bytes - 1))) / 16; // 1/16 of the next power of two
        return (bytes + step - 1) / step * step;
    }

    public ulong Rent(ulong bytes)
    {
        ulong size = SizeClass(bytes);
        lock (cached)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            ulong p;
            if (caching && cached.TryGetValue(size, out var free) && free.Count > 0)
            {
                p = free.Pop();
                cachedBlocks--;
            }
            else
            {
                p = AllocateFromDriver(size);
                reserved += (long)size;
                peakReserved = Math.Max(peakReserved, reserved);
            }
            sizes[p] = size;
            inUse += (long)size;
            peakInUse = Math.Max(peakInUse, inUse);
            return p;
        }
    }

    public void Return(ulong pointer)
    {
        lock (cached)
        {
            if (!sizes.Remove(pointer, out ulong size))
                throw new InvalidOperationException($"device memory pool: return of unknown pointer 0x{pointer:x}");
            inUse -= (long)size;
            if (caching && !disposed)
            {
                if (!cached.TryGetValue(size, out var free)) cached[size] = free = new Stack<ulong>();
                free.Push(pointer);
                cachedBlocks++;
                return;
            }
            reserved -= (long)size;
            runtime.Free(pointer);
        }
    }

    /// <summary>Gives every cached block back to the driver (blocks in use stay).</summary>
    public void Trim()
    {
        lock (cached)
        {
            foreach (var (size, free) in cached)
                while (free.TryPop(out ulong p))
                {
                    reserved -= (long)size;
                    cachedBlocks--;
                    runtime.Free(p);
                }
        }
    }

    private ulong AllocateFromDriver(ulong size)
    {
        try { return runtime.Allocate(size); }
        catch (Exception e) when (e is CudaException or OutOfMemoryException && cachedBlocks > 0)
        {
            Trim();
            return runtime.Allocate(size);
        }
    }

    /// <summary>Frees the cached blocks; blocks still in use go straight to the driver when they come back.</summary>
    public void Dispose()
    {
        Trim();
        lock (cached) disposed = true;
    }
}
