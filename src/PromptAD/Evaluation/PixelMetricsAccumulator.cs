using System.Runtime.InteropServices;
using PromptAD.Data;

namespace PromptAD.Evaluation;

/// <summary>
/// Pixel AUROC and AUPRO (the definitions of <see cref="PixelMetrics"/>, exactly) over a test set given one map at a
/// time, in memory bounded by a budget whatever the number of images: each pixel is spilled (<see cref="SpillFile"/>:
/// in memory up to the process's spill budget, else a temporary file) as its
/// order-preserving score key and region index (8 bytes), and the metrics are computed from per-distinct-score
/// totals swept from the highest score down.
/// </summary>
/// <remarks>
/// <para>What the sweep needs per distinct score v: the normal pixels at v (FPR and the Mann–Whitney count), the
/// anomalous pixels at v (AUROC), and the sum of 1/area of their regions (the PRO increment). Nothing else, so the
/// pixels can be visited by score range, one range at a time.</para>
/// <para>While pixels arrive, a histogram of the keys' top 16 bits counts them. <see cref="Compute"/> cuts the key
/// space, from the top, into ranges of at most <c>budget</c> pixels, copies each range's pixels into its own file in
/// one pass over the spill, then loads one range at a time, sorts it (radix) and sweeps it. A single 16-bit bucket with
/// more than the budget (many pixels within 1/128 of one value) is swept by direct addressing of its 65,536 keys instead.
/// Memory: 16 bytes per pixel of one range (keys, region indices and the sort's buffers) plus 8 bytes per region.</para>
/// </remarks>
public sealed class PixelMetricsAccumulator : IDisposable
{
    /// <summary>Pixels per range: 4 M (64 MB of working memory), ~25 maps of 400×400.</summary>
    public const int DefaultBudget = 4 << 20;

    private const int BucketBits = 16;

    [StructLayout(LayoutKind.Sequential)]
    private struct Pixel
    {
        public uint Key;
        public int Region; // −1: normal pixel
    }

    private readonly int _budget;
    private readonly long[] _buckets = new long[1 << BucketBits];
    private readonly List<double> _regionWeights = [];
    private SpillFile? _spill;
    private long _positives, _negatives;
    private int _maps;

    public PixelMetricsAccumulator(int budget = DefaultBudget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        _budget = budget;
    }

    /// <summary>Pixels added so far.</summary>
    public long Count => _positives + _negatives;

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
        if (labels is not null)
        {
            int count = scored!.Regions;
            var areas = new long[count + 1];
            foreach (int l in labels) areas[l]++;
            for (int l = 1; l <= count; l++) _regionWeights.Add(1.0 / areas[l]);
        }

        _spill ??= new SpillFile("promptad-pixels");
        string what = $"Anomaly map {_maps}";
        var block = new Pixel[Math.Min(map.Length, 1 << 16)];
        for (int start = 0; start < map.Length; start += block.Length)
        {
            int n = Math.Min(block.Length, map.Length - start);
            for (int i = 0; i < n; i++)
            {
                int j = start + i;
                uint key = FloatKeys.ToKey(map[j], what);
                int region = labels is not null && labels[j] != 0 ? firstRegion + labels[j] : -1;
                block[i] = new Pixel { Key = key, Region = region };
                _buckets[key >> BucketBits]++;
                if (region >= 0) _positives++;
                else _negatives++;
            }

            _spill.Write(MemoryMarshal.AsBytes(block.AsSpan(0, n)));
        }

        _maps++;
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
        var sweep = new Sweep(_positives, _negatives, _regionWeights, fprLimit,
            curveStep is { } step ? new CurveRecorder(step) : null, curveStep is { } s2 ? new CurveRecorder(s2) : null);
        var ranges = CutRanges();
        // One set of working arrays, sized for the largest range, serves every range.
        long largest = ranges.Where(r => r.Count <= _budget).Select(r => r.Count).DefaultIfEmpty(0).Max();
        var work = Workspace.Rent((int)largest);
        try
        {
            return SweepRanges(ranges, sweep, work);
        }
        finally
        {
            Workspace.Return(work);
        }
    }

    private PixelSweep SweepRanges(List<KeyRange> ranges, Sweep sweep, Workspace work)
    {
        if (ranges.Count == 1)
        {
            // Everything in one range: read the spill itself.
            Visit(_spill!, ranges[0], sweep, work);
            return sweep.Result;
        }

        var files = SplitByRange(ranges);
        try
        {
            for (int r = 0; r < ranges.Count; r++)
            {
                Visit(files[r], ranges[r], sweep, work);
                files[r].Dispose();
            }
        }
        finally
        {
            foreach (var f in files) f.Dispose();
        }

        return sweep.Result;
    }

    public void Dispose() => _spill?.Dispose();

    /// <summary>Keys with top bits in [FirstBucket, LastBucket] (inclusive), and how many pixels they hold.</summary>
    private readonly record struct KeyRange(int FirstBucket, int LastBucket, long Count);

    private sealed class Workspace(int length)
    {
        /// <summary>The last one returned, kept for the next evaluation of the process (`run` evaluates a test set many
        /// times; 64 MB of fresh arrays each time are page faults the sort would otherwise wait on).</summary>
        private static Workspace? s_idle;

        // Pinned: a kept workspace is not copied around by the large-object compaction after each evaluation.
        public readonly uint[] Keys = GC.AllocateUninitializedArray<uint>(length, pinned: true), KeyScratch = GC.AllocateUninitializedArray<uint>(length, pinned: true);
        public readonly int[] Regions = GC.AllocateUninitializedArray<int>(length, pinned: true), RegionScratch = GC.AllocateUninitializedArray<int>(length, pinned: true);

        public static Workspace Rent(int length) =>
            Interlocked.Exchange(ref s_idle, null) is { } idle && idle.Keys.Length >= length ? idle : new Workspace(length);

        public static void Return(Workspace work) => s_idle = work;
    }

    /// <summary>The key space cut from the top into ranges of at most the budget (or one oversized 16-bit bucket), descending.</summary>
    private List<KeyRange> CutRanges()
    {
        var ranges = new List<KeyRange>();
        int b = _buckets.Length - 1;
        while (b >= 0)
        {
            if (_buckets[b] == 0)
            {
                b--;
                continue;
            }

            int last = b;
            long count = _buckets[b--];
            if (count <= _budget)
            {
                while (b >= 0 && count + _buckets[b] <= _budget) count += _buckets[b--];
            }

            ranges.Add(new KeyRange(b + 1, last, count));
        }

        return ranges;
    }

    /// <summary>One pass over the spill sends each pixel to its range's own file.</summary>
    private SpillFile[] SplitByRange(List<KeyRange> ranges)
    {
        var rangeOf = new int[_buckets.Length];
        for (int r = 0; r < ranges.Count; r++)
        {
            for (int k = ranges[r].FirstBucket; k <= ranges[r].LastBucket; k++) rangeOf[k] = r;
        }

        var files = new SpillFile[ranges.Count];
        try
        {
            var pending = new Pixel[ranges.Count][];
            var filled = new int[ranges.Count];
            for (int r = 0; r < ranges.Count; r++)
            {
                files[r] = new SpillFile("promptad-pixels-range", writeBuffer: 1);
                pending[r] = new Pixel[8192];
            }

            foreach (var block in ReadBlocks(_spill!))
            {
                foreach (Pixel p in block.Span)
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

            for (int r = 0; r < ranges.Count; r++) files[r].Write(MemoryMarshal.AsBytes(pending[r].AsSpan(0, filled[r])));
            return files;
        }
        catch
        {
            foreach (var f in files) f?.Dispose();
            throw;
        }
    }

    private static IEnumerable<ReadOnlyMemory<Pixel>> ReadBlocks(SpillFile file)
    {
        using var stream = file.OpenRead();
        var block = new Pixel[1 << 16];
        while (true)
        {
            int bytes = stream.ReadAtLeast(MemoryMarshal.AsBytes(block.AsSpan()), 8 * block.Length, throwOnEndOfStream: false);
            if (bytes % 8 != 0) throw new IOException($"Spill file '{file.FilePath}' ends inside a record.");
            if (bytes == 0) yield break;
            yield return block.AsMemory(0, bytes / 8);
            if (bytes < 8 * block.Length) yield break;
        }
    }

    /// <summary>Sweeps one range's distinct keys, descending: loaded and radix-sorted, or by direct addressing when oversized.</summary>
    private void Visit(SpillFile file, KeyRange range, Sweep sweep, Workspace work)
    {
        if (range.Count > _budget)
        {
            VisitByAddress(file, range, sweep);
            return;
        }

        int n = 0;
        uint lo = (uint)range.FirstBucket << BucketBits, hi = ((uint)range.LastBucket << BucketBits) | 0xFFFF;
        foreach (var block in ReadBlocks(file))
        {
            foreach (Pixel p in block.Span)
            {
                if (p.Key < lo || p.Key > hi) continue;
                work.Keys[n] = p.Key;
                work.Regions[n++] = p.Region;
            }
        }

        // Stable: within a tie, pixels keep the order they were added in, as PixelMetrics sums them.
        FloatKeys.Sort(work.Keys, work.Regions, n, work.KeyScratch, work.RegionScratch);
        var keys = work.Keys.AsSpan(0, n);
        var regions = work.Regions.AsSpan(0, n);
        int i = n - 1;
        while (i >= 0)
        {
            uint t = keys[i];
            long normals = 0, anomalous = 0;
            for (; i >= 0 && keys[i] == t; i--)
            {
                if (regions[i] < 0) normals++;
                else
                {
                    anomalous++;
                    sweep.AddRegionPixel(regions[i]);
                }
            }

            sweep.Threshold(normals, anomalous);
        }
    }

    /// <summary>One 16-bit bucket holding more than the budget: totals per key by direct addressing of its low 16 bits.</summary>
    private void VisitByAddress(SpillFile file, KeyRange range, Sweep sweep)
    {
        var normals = new long[1 << BucketBits];
        var anomalous = new long[1 << BucketBits];
        var weight = new double[1 << BucketBits];
        foreach (var block in ReadBlocks(file))
        {
            foreach (Pixel p in block.Span)
            {
                if ((int)(p.Key >> BucketBits) != range.FirstBucket) continue;
                int low = (int)(p.Key & 0xFFFF);
                if (p.Region < 0) normals[low]++;
                else
                {
                    anomalous[low]++;
                    weight[low] += _regionWeights[p.Region];
                }
            }
        }

        for (int low = normals.Length - 1; low >= 0; low--)
        {
            if (normals[low] + anomalous[low] == 0) continue;
            sweep.AddWeight(weight[low]);
            sweep.Threshold(normals[low], anomalous[low]);
        }
    }

    /// <summary>The descending sweep over distinct thresholds (see PixelMetrics.Auroc and Aupro for the definitions).</summary>
    private sealed class Sweep(long positives, long negatives, List<double> regionWeights, double fprLimit, CurveRecorder? roc, CurveRecorder? pro)
    {
        private long _twiceU, _normalsAbove, _anomalousAbove;
        private double _proSum, _area, _prevFpr, _prevPro;
        private bool _auproDone, _started;

        public double Auroc => _twiceU / (2.0 * positives * negatives);

        public double Aupro => _area / fprLimit;

        public PixelSweep Result => new(Auroc, Aupro, roc?.Points, pro?.Points);

        public void AddRegionPixel(int region) => _proSum += regionWeights[region];

        public void AddWeight(double weight) => _proSum += weight;

        /// <summary>Closes one distinct threshold t holding <paramref name="normals"/> normal and <paramref name="anomalous"/>
        /// anomalous pixels (their region weights already added).</summary>
        public void Threshold(long normals, long anomalous)
        {
            if (!_started)
            {
                _started = true;
                roc?.Add(0, 0);
                pro?.Add(0, 0);
            }

            // Each anomalous pixel at t beats the normals below t (×2) and ties with those at t (×1).
            long below = negatives - _normalsAbove - normals;
            _twiceU += anomalous * (2 * below + normals);
            _normalsAbove += normals;
            _anomalousAbove += anomalous;
            double fpr = _normalsAbove / (double)negatives;
            roc?.Add(fpr, _anomalousAbove / (double)positives);
            if (_auproDone) return;
            double proValue = _proSum / regionWeights.Count;
            if (fpr >= fprLimit)
            {
                double proAtLimit = fpr == _prevFpr ? proValue : _prevPro + (proValue - _prevPro) * (fprLimit - _prevFpr) / (fpr - _prevFpr);
                _area += (fprLimit - _prevFpr) * (_prevPro + proAtLimit) / 2;
                pro?.Add(fprLimit, proAtLimit);
                _auproDone = true;
                return;
            }

            _area += (fpr - _prevFpr) * (_prevPro + proValue) / 2;
            pro?.Add(fpr, proValue);
            _prevFpr = fpr;
            _prevPro = proValue;
        }
    }
}

/// <summary>
/// What one pixel sweep yields: AUROC and AUPRO as fractions (NaN when no pixel is anomalous) and, when asked for,
/// the curves it visited (thinned for drawing): ROC as (FPR, TPR), PRO as (FPR, PRO) up to the AUPRO limit.
/// </summary>
public sealed record PixelSweep(double Auroc, double Aupro, IReadOnlyList<CurvePoint>? Roc, IReadOnlyList<CurvePoint>? Pro);
