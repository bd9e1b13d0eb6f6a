using System.Runtime.CompilerServices;

namespace PromptAD.Evaluation;

/// <summary>Keys with top 16 bits in [FirstBucket, LastBucket] (inclusive), and how many normal and anomalous pixels they hold.</summary>
internal readonly record struct KeyRange(int FirstBucket, int LastBucket, long Normals, long Anomalous)
{
    public long Count => Normals + Anomalous;
}

/// <summary>One key range's pixels made ready for the sweep, which visits its distinct keys from the highest down.</summary>
internal abstract class LoadedRange
{
    public abstract void SweepInto(PixelThresholdSweep sweep);
}

/// <summary>
/// A range's keys sorted ascending in a workspace: the normal pixels' keys, and the anomalous pixels' keys with their
/// regions (ties in the order the pixels were added).
/// </summary>
internal sealed class SortedRange(PixelWorkspace work, int normals, int anomalous) : LoadedRange
{
    /// <summary>The two sorted runs merged from the top; a tie's anomalous pixels are visited last-added first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot loop the first evaluation of a process runs too
    public override void SweepInto(PixelThresholdSweep sweep)
    {
        var normalKeys = work.NormalKeys.AsSpan(0, normals);
        var anomalousKeys = work.AnomalousKeys.AsSpan(0, anomalous);
        var regions = work.Regions.AsSpan(0, anomalous);
        int i = normals - 1, j = anomalous - 1;
        while (i >= 0 || j >= 0)
        {
            uint t = i < 0 ? anomalousKeys[j] : j < 0 ? normalKeys[i] : Math.Max(normalKeys[i], anomalousKeys[j]);
            long n = 0, a = 0;
            for (; i >= 0 && normalKeys[i] == t; i--) n++;
            for (; j >= 0 && anomalousKeys[j] == t; j--)
            {
                a++;
                sweep.AddRegionPixel(regions[j]);
            }

            sweep.Threshold(n, a);
        }
    }
}

/// <summary>
/// One 16-bit bucket holding more pixels than a range may (many pixels within 1/128 of one value): per-key totals by
/// direct addressing of the keys' low 16 bits, each key's region weights summed in the order the pixels were added.
/// </summary>
internal sealed class AddressedRange(long[] normals, long[] anomalous, double[] weights) : LoadedRange
{
    public override void SweepInto(PixelThresholdSweep sweep)
    {
        for (int low = normals.Length - 1; low >= 0; low--)
        {
            if (normals[low] + anomalous[low] == 0) continue;
            sweep.AddWeight(weights[low]);
            sweep.Threshold(normals[low], anomalous[low]);
        }
    }
}

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
