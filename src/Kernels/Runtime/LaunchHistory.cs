namespace PromptAD.Kernels;

/// <summary>
/// The last ops queued on the stream, so an asynchronous fault, which the driver reports only at a later call
/// (a synchronization, a copy back, a free), names the work that can have caused it. A fault seen where it cannot be
/// thrown (a free on the finalizer thread) is kept and thrown at the next synchronization instead of being dropped.
/// </summary>
public sealed class LaunchHistory
{
    public const int Depth = 16;

    private readonly string[] ops = new string[Depth];
    private long count;
    private CudaException? pending;

    public void Record(string op)
    {
        lock (ops) ops[count++ % Depth] = op;
    }

    /// <summary>The recorded ops, oldest first.</summary>
    public IReadOnlyList<string> Recent()
    {
        lock (ops)
        {
            int n = (int)Math.Min(count, Depth);
            return [.. Enumerable.Range(0, n).Select(i => ops[(count - n + i) % Depth])];
        }
    }

    /// <summary>Keeps a fault that could not be thrown where it was seen.</summary>
    public void Defer(CudaException fault)
    {
        lock (ops) pending ??= fault;
    }

    /// <summary>Throws a kept fault, then the one just seen (if any), naming the recent ops.</summary>
    public void ThrowPending()
    {
        CudaException? fault;
        lock (ops) (fault, pending) = (pending, null);
        if (fault is not null) throw Named(fault);
    }

    /// <summary>The fault with the ops that were queued before it (the last one is the most likely culprit).</summary>
    public InvalidOperationException Named(CudaException fault)
    {
        var recent = Recent();
        string list = recent.Count == 0 ? "none" : string.Join(", ", recent.Reverse());
        return new InvalidOperationException(
            $"asynchronous device fault ({fault.Message.Split('\n')[0]}); ops queued before it, latest first: {list}. " +
            "Set PROMPTAD_CUDA_SYNC=1 to stop at the exact op.", fault);
    }
}
