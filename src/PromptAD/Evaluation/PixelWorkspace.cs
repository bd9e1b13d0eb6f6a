namespace PromptAD.Evaluation;

/// <summary>
/// The working arrays one range is loaded and sorted in: 8 bytes per normal pixel, 16 per anomalous one. The last one
/// returned is kept for the process's next evaluation (`run` evaluates a test set many times; tens of MB of fresh arrays
/// each time are page faults the sort would wait on).
/// </summary>
internal sealed class PixelWorkspace
{
    private static PixelWorkspace? s_idle;

    private PixelWorkspace(int normals, int anomalous)
    {
        NormalKeys = Pinned<uint>(normals);
        NormalScratch = Pinned<uint>(normals);
        AnomalousKeys = Pinned<uint>(anomalous);
        AnomalousScratch = Pinned<uint>(anomalous);
        Regions = Pinned<int>(anomalous);
        RegionScratch = Pinned<int>(anomalous);
    }

    public uint[] NormalKeys { get; }
    public uint[] NormalScratch { get; }
    public uint[] AnomalousKeys { get; }
    public uint[] AnomalousScratch { get; }
    public int[] Regions { get; }
    public int[] RegionScratch { get; }

    /// <summary>A workspace for at least <paramref name="normals"/> normal and <paramref name="anomalous"/> anomalous pixels.</summary>
    public static PixelWorkspace Rent(int normals, int anomalous)
    {
        var idle = Interlocked.Exchange(ref s_idle, null);
        if (idle is not null && idle.NormalKeys.Length >= normals && idle.AnomalousKeys.Length >= anomalous) return idle;
        // None kept, or too small: one as large as both.
        return new PixelWorkspace(Math.Max(normals, idle?.NormalKeys.Length ?? 0), Math.Max(anomalous, idle?.AnomalousKeys.Length ?? 0));
    }

    public static void Return(PixelWorkspace work) => s_idle = work;

    // Pinned: a kept workspace is not copied around by the large-object compaction after each evaluation.
    private static T[] Pinned<T>(int length) => GC.AllocateUninitializedArray<T>(length, pinned: true);
}
