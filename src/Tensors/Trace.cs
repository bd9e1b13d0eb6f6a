namespace PromptAD.Tensors;

/// <summary>Receives named ranges (a profiler's markers, e.g. NVTX for Nsight).</summary>
public interface ITraceSink
{
    void Push(string name);
    void Pop();
}

/// <summary>A sink that also counts the arithmetic done inside the current range (a per-op profile's GFLOP/s).</summary>
public interface IWorkSink
{
    void AddFlops(double flops);
}

/// <summary>
/// Named, nested ranges around ops and model stages ("visual.block3" › "attention"), so a profiler trace reads like
/// the model. Free when no sink is installed (the common case): one null check.
/// </summary>
public static class Trace
{
    /// <summary>The active sink; the CUDA backend installs NVTX here when libnvToolsExt is present.</summary>
    public static ITraceSink? Sink { get; set; }

    public static Range Scope(string name)
    {
        var sink = Sink;
        sink?.Push(name);
        return new Range(sink);
    }

    /// <summary>Charges <paramref name="flops"/> (multiply and add counted apart) to the innermost open range when
    /// the sink counts work; otherwise one type check.</summary>
    public static void Flops(double flops)
    {
        if (Sink is IWorkSink work) work.AddFlops(flops);
    }

    public readonly struct Range(ITraceSink? sink) : IDisposable
    {
        public void Dispose() => sink?.Pop();
    }
}
