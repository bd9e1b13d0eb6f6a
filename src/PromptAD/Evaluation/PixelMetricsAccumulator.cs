using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PromptAD.Data;

namespace PromptAD.Evaluation;

/// <summary>
/// Pixel AUROC and AUPRO (the definitions of <see cref="PixelMetrics"/>, exactly) over a test set given one map at a
/// time, in memory bounded by a budget whatever the number of images: each pixel is spilled (<see cref="SpillFile"/>:
/// in memory up to the process's spill budget, else a temporary file) as its order-preserving score key, a normal
/// pixel's alone (4 bytes), an anomalous one's with its region index (8 bytes), and the metrics are computed from
/// per-distinct-score totals swept from the highest score down.
/// </summary>
/// <remarks>
/// <para>What the sweep needs per distinct score v: the normal pixels at v (FPR and the Mann–Whitney count), the
/// anomalous pixels at v (AUROC), and the sum of 1/area of their regions (the PRO increment), added in a fixed order.
/// Nothing else, so the pixels can be visited by score range, one range at a time, and the normal pixels (nearly all of
/// them) need no region.</para>
/// <para>While pixels arrive, histograms of the keys' top 16 bits count them. <see cref="Compute"/> cuts the key space,
/// from the top, into ranges of at most <c>budget</c> pixels (a spill moved to disk is first copied into one file per
/// range, in one pass), then loads one range at a time straight into its 16-bit buckets (their sizes are known), sorts each
/// bucket, small enough to stay in cache, on the keys' low 16 bits (radix), and sweeps the range, merging its normal and
/// anomalous pixels. A single 16-bit bucket with more than the budget (many pixels within 1/128 of one value) is swept
/// by direct addressing of its 65,536 keys instead. Memory: 8 bytes per normal pixel and 16 per anomalous pixel of one
/// range (keys, region indices and the sort's buffers) plus 8 bytes per region.</para>
/// </remarks>
public sealed class PixelMetricsAccumulator : IDisposable
{
    /// <summary>Pixels per range: 4 M (at most 64 MB of working memory), ~25 maps of 400×400.</summary>
    public const int DefaultBudget = 4 << 20;

    private const int BucketBits = 16;
    private const int BlockLength = 1 << 16;

    /// <summary>A spilled record: its key first.</summary>
    private interface IKeyed
    {
        uint Key { get; }
    }

    /// <summary>A normal pixel: its key alone.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct NormalPixel(uint Key) : IKeyed;

    /// <summary>An anomalous pixel: its key and the index of its region in <see cref="_regionWeights"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct AnomalousPixel(uint Key, int Region) : IKeyed;

    private readonly int _budget;
    private readonly long[] _normalBuckets = new long[1 << BucketBits], _anomalousBuckets = new long[1 << BucketBits];
    private readonly List<double> _regionWeights = [];
    private SpillFile? _normals, _anomalous;
    private NormalPixel[]? _normalBlock; // a map's pixels on their way to the spills
    private AnomalousPixel[]? _anomalousBlock;
    private long _positives, _negatives;
    private int _maps;

    public PixelMetricsAccumulator(int budget = DefaultBudget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        _budget = budget;
    }

    /// <summary>Pixels added so far.</summary>
    public long Count => _positives + _negatives;

    /// <summary>Both spills still in memory (none moved to a temporary file).</summary>
    internal bool SpillsInMemory => (_normals?.InMemory ?? true) && (_anomalous?.InMemory ?? true);

    /// <param name="map">The image's anomaly map (row-major, the mask's size).</param>
    /// <param name="mask">Its ground truth at the map's size, or null for an all-normal image.</param>
    public void Add(float[] map, BinaryMask? mask) => Add(map, mask is null ? null : ScoredMask.Of(mask, mask.Width, mask.Height));

    /// <param name="mask">Its ground truth at the map's size with its regions labelled (e.g. from a <see cref="MaskCache"/>),
    /// or null for an all-normal image.</param>
    public void Add(float[] map, ScoredMask? scored)
    {
        var mask = scored?.Mask;
        ArgumentNullException.ThrowIfNull(map);
        if (mask is not null && map.Length != mask.Pixels.Length)
        {
            throw new ArgumentException(
                $"Map {_maps} has {map.Length} values but its mask is {mask.Width}x{mask.Height}; resize the mask to the map first.");
        }

        int[]? labels = scored?.Labels;
        int firstRegion = _regionWeights.Count - 1; // label l → region index firstRegion + l
        long anomalous = 0;
        if (labels is not null)
        {
            var areas = scored!.Areas;
            for (int l = 1; l < areas.Length; l++)
            {
                _regionWeights.Add(1.0 / areas[l]);
                anomalous += areas[l];
            }
        }

        _normals ??= new SpillFile("promptad-pixels");
        _anomalous ??= new SpillFile("promptad-pixels-anomalous");
        _normalBlock ??= new NormalPixel[BlockLength];
        _anomalousBlock ??= new AnomalousPixel[BlockLength];
        if (labels is null) AddNormal(map);
        else AddLabelled(map, labels, firstRegion);
        _positives += anomalous;
        _negatives += map.Length - anomalous;
        _maps++;
    }

    /// <summary>An image without defects: every pixel normal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot loop the first evaluation of a process runs too
    private void AddNormal(float[] map)
    {
        var block = _normalBlock!;
        // Neighbouring pixels mostly share a 16-bit bucket: counted per run of one bucket, not one increment each.
        uint bucket = 0;
        long run = 0;
        for (int start = 0; start < map.Length; start += block.Length)
        {
            var values = map.AsSpan(start, Math.Min(block.Length, map.Length - start));
            for (int i = 0; i < values.Length; i++)
            {
                uint key = KeyOf(values[i]);
                block[i] = new NormalPixel(key);
                uint b = key >> BucketBits;
                if (b != bucket)
                {
                    _normalBuckets[bucket] += run;
                    bucket = b;
                    run = 0;
                }
                run++;
            }

            _normals!.Write(MemoryMarshal.AsBytes(block.AsSpan(0, values.Length)));
        }

        _normalBuckets[bucket] += run;
    }

    /// <summary>An image with a mask: each pixel to the normal or the anomalous spill, in the order of the map.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddLabelled(float[] map, int[] labels, int firstRegion)
    {
        NormalPixel[] normals = _normalBlock!;
        AnomalousPixel[] anomalous = _anomalousBlock!;
        int n = 0, a = 0;
        for (int j = 0; j < map.Length; j++)
        {
            uint key = KeyOf(map[j]);
            if (labels[j] == 0)
            {
                normals[n++] = new NormalPixel(key);
                _normalBuckets[key >> BucketBits]++;
                if (n == normals.Length)
                {
                    _normals!.Write(MemoryMarshal.AsBytes(normals.AsSpan()));
                    n = 0;
                }
            }
            else
            {
                anomalous[a++] = new AnomalousPixel(key, firstRegion + labels[j]);
                _anomalousBuckets[key >> BucketBits]++;
                if (a == anomalous.Length)
                {
                    _anomalous!.Write(MemoryMarshal.AsBytes(anomalous.AsSpan()));
                    a = 0;
                }
            }
        }

        _normals!.Write(MemoryMarshal.AsBytes(normals.AsSpan(0, n)));
        _anomalous!.Write(MemoryMarshal.AsBytes(anomalous.AsSpan(0, a)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint KeyOf(float value)
    {
        if (float.IsNaN(value)) FloatKeys.ToKey(value, $"Anomaly map {_maps}"); // throws, naming the map
        return FloatKeys.KeyOf(value);
    }

    /// <summary>
    /// (AUROC, AUPRO up to <paramref name="fprLimit"/>) as fractions; both NaN when no pixel is anomalous. May be called
    /// again (another limit). Throws <see cref="ArgumentException"/> when there is no normal pixel, as PixelMetrics does.
    /// </summary>
    public (double Auroc, double Aupro) Compute(double fprLimit = 0.3)
    {
        var result = Compute(fprLimit, curveStep: null);
        return (result.Auroc, result.Aupro);
    }

    /// <summary>
    /// <see cref="Compute(double)"/> with the curves its sweep visits, thinned for drawing by <paramref name="curveStep"/>
    /// (null: no curves): the pixel ROC as (FPR, TPR) and the PRO curve as (FPR, PRO) up to the limit, its last point
    /// interpolated at exactly the limit as the area is. No curves when no pixel is anomalous.
    /// </summary>
    public PixelSweep Compute(double fprLimit, double? curveStep)
    {
        if (!(fprLimit > 0 && fprLimit <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fprLimit), fprLimit, "The FPR limit must be in (0, 1].");
        }

        if (_positives == 0)
        {
            return new PixelSweep(double.NaN, double.NaN, null, null);
        }

        ImageMetrics.RequireBothClasses(_positives, _negatives);
        var sweep = new PixelThresholdSweep(_positives, _negatives, _regionWeights, fprLimit,
            curveStep is { } step ? new CurveRecorder(step) : null, curveStep is { } s2 ? new CurveRecorder(s2) : null);
        var ranges = CutRanges();
        // Working arrays sized for the largest range that is sorted (an oversized bucket is addressed directly instead).
        var sorted = ranges.Where(r => r.Count <= _budget).ToList();
        int normals = (int)sorted.Select(r => r.Normals).DefaultIfEmpty(0).Max(), anomalous = (int)sorted.Select(r => r.Anomalous).DefaultIfEmpty(0).Max();
        var work = PixelWorkspace.Rent(normals, anomalous);
        try
        {
            if (ranges.Count == 1 || SpillsInMemory)
            {
                // Each range read from the spills themselves, a pass over them per range: in memory that costs less than
                // copying every range out first (which also touches as much fresh memory again); on disk each range gets
                // its own file below, so the disk is read twice, not once per range.
                foreach (var range in ranges) Visit(_normals!, _anomalous!, range, sweep, work);
                return sweep.Result;
            }

            var rangeOf = new int[1 << BucketBits];
            for (int r = 0; r < ranges.Count; r++)
            {
                for (int k = ranges[r].FirstBucket; k <= ranges[r].LastBucket; k++) rangeOf[k] = r;
            }

            var normalFiles = SplitByRange<NormalPixel>(_normals!, ranges.Count, rangeOf, "promptad-pixels-range");
            SpillFile[] anomalousFiles = [];
            try
            {
                anomalousFiles = SplitByRange<AnomalousPixel>(_anomalous!, ranges.Count, rangeOf, "promptad-pixels-anomalous-range");
                for (int r = 0; r < ranges.Count; r++)
                {
                    Visit(normalFiles[r], anomalousFiles[r], ranges[r], sweep, work);
                    normalFiles[r].Dispose();
                    anomalousFiles[r].Dispose();
                }
            }
            finally
            {
                foreach (var f in normalFiles) f.Dispose();
                foreach (var f in anomalousFiles) f.Dispose();
            }

            return sweep.Result;
        }
        finally
        {
            PixelWorkspace.Return(work);
        }
    }

    public void Dispose()
    {
        _normals?.Dispose();
        _anomalous?.Dispose();
    }

    /// <summary>Keys with top 16 bits in [FirstBucket, LastBucket] (inclusive), and how many normal and anomalous pixels they hold.</summary>
    private readonly record struct KeyRange(int FirstBucket, int LastBucket, long Normals, long Anomalous)
    {
        public long Count => Normals + Anomalous;
    }

    /// <summary>The key space cut from the top into ranges of at most the budget (or one oversized 16-bit bucket), descending.</summary>
    private List<KeyRange> CutRanges()
    {
        var ranges = new List<KeyRange>();
        long InBucket(int bucket) => _normalBuckets[bucket] + _anomalousBuckets[bucket];
        int b = _normalBuckets.Length - 1;
        while (b >= 0)
        {
            if (InBucket(b) == 0)
            {
                b--;
                continue;
            }

            int last = b;
            long count = InBucket(b--);
            if (count <= _budget)
            {
                while (b >= 0 && count + InBucket(b) <= _budget) count += InBucket(b--);
            }

            long normals = 0;
            for (int k = b + 1; k <= last; k++) normals += _normalBuckets[k];
            ranges.Add(new KeyRange(b + 1, last, normals, count - normals));
        }

        return ranges;
    }

    /// <summary>One pass over a spill sends each record to its range's own file.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static SpillFile[] SplitByRange<T>(SpillFile source, int ranges, int[] rangeOf, string prefix) where T : unmanaged, IKeyed
    {
        var files = new SpillFile[ranges];
        try
        {
            var pending = new T[ranges][];
            var filled = new int[ranges];
            for (int r = 0; r < ranges; r++)
            {
                files[r] = new SpillFile(prefix, writeBuffer: 1);
                pending[r] = new T[8192];
            }

            foreach (var block in source.Blocks(Unsafe.SizeOf<T>()))
            {
                foreach (T p in MemoryMarshal.Cast<byte, T>(block.Span))
                {
                    int r = rangeOf[p.Key >> BucketBits];
                    pending[r][filled[r]++] = p;
                    if (filled[r] == pending[r].Length)
                    {
                        files[r].Write(MemoryMarshal.AsBytes(pending[r].AsSpan()));
                        filled[r] = 0;
                    }
                }
            }

            for (int r = 0; r < ranges; r++) files[r].Write(MemoryMarshal.AsBytes(pending[r].AsSpan(0, filled[r])));
            return files;
        }
        catch
        {
            foreach (var f in files) f?.Dispose();
            throw;
        }
    }

    /// <summary>Sweeps one range's distinct keys, descending: loaded into its buckets and sorted, or by direct addressing when oversized.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot loop the first evaluation of a process runs too
    private void Visit(SpillFile normalsFile, SpillFile anomalousFile, KeyRange range, PixelThresholdSweep sweep, PixelWorkspace work)
    {
        if (range.Count > _budget)
        {
            VisitByAddress(normalsFile, anomalousFile, range, sweep);
            return;
        }

        // Each bucket's pixels land at its next slot in the order they were added, then each bucket is sorted on the
        // low 16 bits. Both steps are stable, so this is the permutation a stable sort of the whole keys gives: within a
        // tie, anomalous pixels keep the order they were added in, as PixelMetrics sums their region weights.
        var normalBounds = Bounds(_normalBuckets, range);
        int[] normalNext = normalBounds[..^1];
        foreach (var block in normalsFile.Blocks(Unsafe.SizeOf<NormalPixel>()))
        {
            Scatter(MemoryMarshal.Cast<byte, uint>(block.Span), range.FirstBucket, normalNext, work.NormalKeys);
        }

        FloatKeys.SortLowBitsOfSegments(work.NormalKeys, null, normalBounds, work.NormalScratch, null);

        var anomalousBounds = Bounds(_anomalousBuckets, range);
        int[] next = anomalousBounds[..^1];
        foreach (var block in anomalousFile.Blocks(Unsafe.SizeOf<AnomalousPixel>()))
        {
            foreach (var p in MemoryMarshal.Cast<byte, AnomalousPixel>(block.Span))
            {
                uint b = (p.Key >> BucketBits) - (uint)range.FirstBucket;
                if (b >= (uint)next.Length) continue;
                int slot = next[b]++;
                work.AnomalousKeys[slot] = p.Key;
                work.Regions[slot] = p.Region;
            }
        }

        FloatKeys.SortLowBitsOfSegments(work.AnomalousKeys, work.Regions, anomalousBounds, work.AnomalousScratch, work.RegionScratch);
        int n = normalBounds[^1], a = anomalousBounds[^1];
        sweep.SweepSorted(work.NormalKeys.AsSpan(0, n), work.AnomalousKeys.AsSpan(0, a), work.Regions.AsSpan(0, a));
    }

    /// <summary>Where each of the range's buckets starts in its workspace array, and (last) where the range ends.</summary>
    private static int[] Bounds(long[] buckets, KeyRange range)
    {
        int count = range.LastBucket - range.FirstBucket + 1;
        var bounds = new int[count + 1];
        for (int b = 0; b < count; b++) bounds[b + 1] = checked(bounds[b] + (int)buckets[range.FirstBucket + b]);
        return bounds;
    }

    /// <summary>Drops the keys of the buckets first … first + next.Length − 1 at their buckets' next slots (advancing them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scatter(ReadOnlySpan<uint> keys, int first, int[] next, uint[] into)
    {
        uint buckets = (uint)next.Length;
        foreach (uint key in keys)
        {
            uint b = (key >> BucketBits) - (uint)first;
            if (b >= buckets) continue;
            into[next[b]++] = key;
        }
    }

    /// <summary>One 16-bit bucket holding more than the budget: totals per key by direct addressing of its low 16 bits,
    /// each key's region weights summed in the order the pixels were added.</summary>
    private void VisitByAddress(SpillFile normalsFile, SpillFile anomalousFile, KeyRange range, PixelThresholdSweep sweep)
    {
        var normals = new long[1 << BucketBits];
        var anomalous = new long[1 << BucketBits];
        var weights = new double[1 << BucketBits];
        foreach (var block in normalsFile.Blocks(Unsafe.SizeOf<NormalPixel>()))
        {
            foreach (uint key in MemoryMarshal.Cast<byte, uint>(block.Span))
            {
                if ((int)(key >> BucketBits) == range.FirstBucket) normals[key & 0xFFFF]++;
            }
        }

        foreach (var block in anomalousFile.Blocks(Unsafe.SizeOf<AnomalousPixel>()))
        {
            foreach (var p in MemoryMarshal.Cast<byte, AnomalousPixel>(block.Span))
            {
                if ((int)(p.Key >> BucketBits) != range.FirstBucket) continue;
                int low = (int)(p.Key & 0xFFFF);
                anomalous[low]++;
                weights[low] += _regionWeights[p.Region];
            }
        }

        sweep.SweepAddressed(normals, anomalous, weights);
    }
}
