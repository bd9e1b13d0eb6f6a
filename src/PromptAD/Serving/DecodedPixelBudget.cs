namespace PromptAD.Serving;

/// <summary>
/// Bounds the pixels being decoded at once. A decoded image costs about 6–8 bytes per pixel while it is turned into
/// the model's input (the decoder's buffer, our RGB copy), so eight concurrent 16384×6000 uploads — small PNGs within
/// the decoder's limits — would need gigabytes. Each decode first leases its pixel count (read from the header);
/// leases beyond <see cref="Capacity"/> wait in arrival order, and one that cannot start within its wait is refused
/// (<see cref="ServiceBusyException"/>, HTTP 503). When a burst of large decodes has ended (nothing in flight), the
/// freed memory is handed back to the system (<see cref="Trim"/>) so the idle service shrinks again.
/// </summary>
public sealed class DecodedPixelBudget
{
    /// <summary>One image at the decoder's largest size (ImageLoadLimits.MaxPixels), or any number of smaller ones up to it.</summary>
    public const long DefaultCapacity = 100_000_000;

    /// <summary>Pixels decoded since the last trim above which the end of a burst trims (a few photos never do).</summary>
    public const long TrimAfter = 32_000_000;

    /// <summary>
    /// An image this large is collected as soon as it is done, before the next one starts: the garbage collector would
    /// otherwise let several such pixel arrays pile up before its next full collection.
    /// </summary>
    public const long CollectAfter = 8_000_000;

    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private long _inUse, _sinceTrim, _peak;

    public DecodedPixelBudget(long capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public long Capacity { get; }

    /// <summary>The most pixels ever leased at once (tests check the budget held).</summary>
    public long Peak { get { lock (_gate) return _peak; } }

    /// <summary>Called after the memory of a burst was handed back (tests, benchmarks).</summary>
    public Action? Trimmed { get; set; }

    /// <summary>
    /// Leases <paramref name="pixels"/> (clamped to the capacity: one image larger than the budget runs alone); waits
    /// up to <paramref name="wait"/> behind earlier leases, then throws <see cref="ServiceBusyException"/>.
    /// </summary>
    public async Task<IDisposable> AcquireAsync(long pixels, TimeSpan wait)
    {
        pixels = Math.Clamp(pixels, 1, Capacity);
        Waiter waiter;
        lock (_gate)
        {
            if (_waiting.Count == 0 && _inUse + pixels <= Capacity) return Grant(pixels);
            waiter = new Waiter(pixels);
            waiter.Node = _waiting.AddLast(waiter);
        }
        if (wait != Timeout.InfiniteTimeSpan && await Task.WhenAny(waiter.Leased.Task, Task.Delay(wait)).ConfigureAwait(false) != waiter.Leased.Task)
        {
            lock (_gate)
            {
                if (!waiter.Leased.Task.IsCompleted)
                {
                    _waiting.Remove(waiter.Node!);
                    GrantWaiting(); // a large waiter at the head may have held back smaller ones behind it
                    throw new ServiceBusyException(wait);
                }
            }
        }
        return await waiter.Leased.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Hands memory freed by decoders back to the system: ImageSharp's retained buffers, the GC heap compacted and
    /// decommitted, and the C heap's free pages (ImageSharp's large buffers are native memory).
    /// </summary>
    public static void Trim()
    {
        Clip.Imaging.ImageLoader.ReleaseRetainedMemory();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.Trim();
    }

    private Lease Grant(long pixels)
    {
        _inUse += pixels;
        _peak = Math.Max(_peak, _inUse);
        return new Lease(this, pixels);
    }

    private void GrantWaiting()
    {
        while (_waiting.First is { } first && _inUse + first.Value.Pixels <= Capacity)
        {
            _waiting.RemoveFirst();
            first.Value.Leased.TrySetResult(Grant(first.Value.Pixels));
        }
    }

    private void Release(long pixels)
    {
        if (pixels >= CollectAfter) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        bool trim;
        lock (_gate)
        {
            _inUse -= pixels;
            _sinceTrim += pixels;
            GrantWaiting();
            trim = _inUse == 0 && _sinceTrim >= TrimAfter;
            if (trim) _sinceTrim = 0;
        }
        if (trim)
        {
            // Off the request's path: the answer does not wait for the collection.
            _ = Task.Run(() =>
            {
                Trim();
                Trimmed?.Invoke();
            });
        }
    }

    private sealed class Waiter(long pixels)
    {
        public long Pixels { get; } = pixels;
        public TaskCompletionSource<IDisposable> Leased { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node { get; set; }
    }

    private sealed class Lease(DecodedPixelBudget budget, long pixels) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) budget.Release(pixels);
        }
    }
}

/// <summary>Too many pixels are being decoded to start another image within the wait (HTTP 503: retry later).</summary>
public sealed class ServiceBusyException(TimeSpan waited) : Exception(
    $"busy: the images being decoded fill the service's memory budget and this one could not start within {waited.TotalSeconds:0} s; retry later");
