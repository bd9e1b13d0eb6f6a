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
/// and <see cref="Dispose"/>. PROMPTAD_CUDA_POOL=0 turns caching off (every block straight back to the driver) and
/// requests exact sizes, which lets compute-sanitizer see each buffer's real bounds; a runtime in strict memory mode
/// (<see cref="IDeviceRuntime.StrictMemory"/>) gets exact sizes too, still cached by exact size.
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
        Exact = !this.caching || runtime.StrictMemory;
    }

    /// <summary>
    /// Blocks are exactly the requested size (not rounded to a size class), and a backend gives each temporary its own
    /// block: with caching off, or when the runtime asks for strict memory, so an overrun reaches the allocation's end.
    /// </summary>
    public bool Exact { get; }

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
        ulong size = Exact ? Math.Max(bytes, 1) : SizeClass(bytes);
        lock (cached)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            ulong p = 0;
            if (capturing is not null && capturing.TryTake(size, out p)) { }
            else if (caching && cached.TryGetValue(size, out var free) && free.Count > 0)
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
            if (capturing is not null) owners[p] = capturing;
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
            if ((owners.GetValueOrDefault(pointer) ?? capturing) is { } graph)
            {
                owners[pointer] = graph;
                graph.Keep(pointer, size);
                return;
            }
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

    /// <summary>Gives every cached block back to the driver (blocks in use stay). Refused while a graph capture is open:
    /// cuMemFree synchronizes the device, which would invalidate the capture.</summary>
    public void Trim()
    {
        lock (cached)
        {
            if (capturing is not null)
                throw new InvalidOperationException("device memory pool: Trim during a graph capture (cuMemFree would synchronize the device and break the capture)");
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
        catch (Exception e) when (e is CudaException or OutOfMemoryException && capturing is not null)
        {
            throw new OutOfMemoryException($"device memory pool: out of device memory for {size} bytes during a graph capture " +
                $"({Mib(inUse)} MiB in use, {cachedBlocks} cached blocks); the cache cannot be given back while capturing, since " +
                "cuMemFree would synchronize the device. Use a smaller batch or free device memory before the capture.", e);
        }
        catch (Exception e) when (e is CudaException or OutOfMemoryException && cachedBlocks > 0)
        {
            Trim();
            return runtime.Allocate(size);
        }
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Frees the cached blocks; blocks still in use go straight to the driver when they come back.</summary>
    public void Dispose()
    {
        lock (cached)
        {
            foreach (var graph in graphs.ToArray()) Release(graph);
            capturing = null;
        }
        Trim();
        lock (cached) disposed = true;
    }

    // Graph pools (PyTorch's private pools): a captured graph writes, on every replay, into the blocks that were rented
    // or returned while it was captured, so those blocks stay reserved to it, in use or not, until it is disposed;
    // otherwise a block returned during the capture could be handed to other code and overwritten by the next replay.
    // A capture takes blocks from its own free lists, then from the shared cache (which the plain warm-up step filled),
    // and from the driver only when both are empty.
    private GraphMemory? capturing;
    private readonly Dictionary<ulong, GraphMemory> owners = [];
    private readonly List<GraphMemory> graphs = [];

    /// <summary>Whether freed blocks are cached (PROMPTAD_CUDA_POOL is not 0); graphs need it.</summary>
    public bool Caching => caching;

    /// <summary>Whether a capture is running (its rents and returns belong to the graph).</summary>
    public bool IsCapturing
    {
        get { lock (cached) return capturing is not null; }
    }

    /// <summary>Blocks reserved to captured graphs and not in use now.</summary>
    public int GraphBlocks
    {
        get { lock (cached) return graphs.Sum(g => g.Count); }
    }

    /// <summary>Routes every rent and return to a new graph's pool until <see cref="EndCapture"/>.</summary>
    public GraphMemory BeginCapture()
    {
        lock (cached)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (capturing is not null) throw new InvalidOperationException("device memory pool: a capture is already running");
            capturing = new GraphMemory();
            graphs.Add(capturing);
            return capturing;
        }
    }

    public void EndCapture()
    {
        lock (cached) capturing = null;
    }

    /// <summary>The graph is gone: its blocks join the shared cache (those still in use when they come back).</summary>
    public void Release(GraphMemory graph)
    {
        lock (cached)
        {
            if (!graphs.Remove(graph)) return;
            if (ReferenceEquals(capturing, graph)) capturing = null;
            foreach (var (p, owner) in owners.ToArray())
                if (ReferenceEquals(owner, graph)) owners.Remove(p);
            foreach (var (p, size) in graph.TakeAll())
            {
                if (caching && !disposed)
                {
                    if (!cached.TryGetValue(size, out var free)) cached[size] = free = new Stack<ulong>();
                    free.Push(p);
                    cachedBlocks++;
                }
                else
                {
                    reserved -= (long)size;
                    runtime.Free(p);
                }
            }
        }
    }

    /// <summary>The free blocks of one captured graph's pool (guarded by the pool's lock).</summary>
    public sealed class GraphMemory
    {
        private readonly Dictionary<ulong, Stack<ulong>> free = [];

        internal int Count { get; private set; }

        internal void Keep(ulong pointer, ulong size)
        {
            if (!free.TryGetValue(size, out var stack)) free[size] = stack = new Stack<ulong>();
            stack.Push(pointer);
            Count++;
        }

        internal bool TryTake(ulong size, out ulong pointer)
        {
            pointer = 0;
            if (!free.TryGetValue(size, out var stack) || !stack.TryPop(out pointer)) return false;
            Count--;
            return true;
        }

        internal IEnumerable<(ulong Pointer, ulong Size)> TakeAll()
        {
            foreach (var (size, stack) in free)
                while (stack.TryPop(out ulong p)) yield return (p, size);
            Count = 0;
        }
    }
}
