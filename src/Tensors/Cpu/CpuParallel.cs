namespace PromptAD.Tensors.Cpu;

/// <summary>
/// Splits a loop over independent items into a few contiguous ranges, one per core. Small loops run inline:
/// a thread hand-off costs microseconds, more than many of our row ops take.
/// </summary>
internal static class CpuParallel
{
    /// <summary>Below this much work (roughly, flops or bytes touched) a loop is not worth splitting.</summary>
    private const long MinParallelWork = 1 << 15;

    public static int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>Runs body(start, end) over [0, count) in ranges; workPerItem estimates one item's cost.</summary>
    public static void For(int count, long workPerItem, Action<int, int> body)
    {
        if (count <= 0) return;
        int threads = Math.Min(Threads, count);
        if (threads <= 1 || count * Math.Max(1, workPerItem) < MinParallelWork)
        {
            body(0, count);
            return;
        }
        // A few more chunks than threads evens out uneven items (e.g. causal rows).
        int chunks = Math.Min(count, threads * 4);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            int start = (int)((long)count * c / chunks);
            int end = (int)((long)count * (c + 1) / chunks);
            if (end > start) body(start, end);
        });
    }
}
