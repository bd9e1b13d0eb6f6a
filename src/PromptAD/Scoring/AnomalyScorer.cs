using PromptAD.Clip;
using PromptAD.Tensors;

namespace PromptAD.Scoring;

/// <summary>What the scorer returns for one image: the fused image score and the pixel map at the output size.</summary>
public sealed record ImageScore(float Score, float PromptScore, float VisionMax, float[] PixelMap, int Size)
{
    /// <summary>The map came from <see cref="PixelMapPool"/>: whoever is done with it last may hand it back.</summary>
    internal bool MapFromPool { get; init; }
}

/// <summary>
/// PromptAD's anomaly scoring (SPEC §6): prompt-guided (PAD) scores from the two heads' prototypes, vision-guided
/// (VAD) nearest-neighbour distances to the two memory banks, harmonic fusion on the patch grid, bilinear
/// upsampling to the output resolution and a Gaussian blur (σ = 4) for the pixel map; the image score fuses the
/// image-level PAD score with the maximum of the upsampled (unblurred) VAD map.
/// </summary>
/// <remarks>
/// A whole batch is scored at once on the features' backend: PAD as one GEMM of all the batch's local features
/// against the prototypes, each bank's nearest neighbours as one GEMM of all the batch's mid-level features against
/// the (already normalized) bank and a row max, the fusion, upsampling, blur and map maxima as one op each over the
/// batch; the maps, VAD maxima and global similarities land in one buffer and come back in one download. The batch is
/// copied into buffers kept per batch size, so from the second batch of a size on its scoring is one captured step
/// replayed (a CUDA graph on the GPU).
/// Owns its prototype tensors; the banks belong to the caller.
/// </remarks>
public sealed class AnomalyScorer : IDisposable
{
    public const int DefaultOutputSize = 400;

    private readonly Tensor _imagePrototypes, _pixelPrototypes, _bank1, _bank2;
    private readonly float _logitScale;
    private readonly int _grid;

    /// <param name="bank1">Memory bank of the first mid-level layer, rows L2-normalized (as the trainer stores them).</param>
    public AnomalyScorer(Prototypes imageHead, Prototypes pixelHead, Tensor bank1, Tensor bank2, float logitScale, int grid,
        int outputSize = DefaultOutputSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputSize, 1);
        OutputSize = outputSize;
        _bank1 = bank1;
        _bank2 = bank2;
        _logitScale = logitScale;
        _grid = grid;
        _imagePrototypes = imageHead.ToTensor(bank1.Backend);
        _pixelPrototypes = pixelHead.ToTensor(bank1.Backend);
        TensorScope.Detach(_imagePrototypes); // live as long as the scorer
        TensorScope.Detach(_pixelPrototypes);
    }

    public int OutputSize { get; }

    /// <summary>Scores every image of <paramref name="f"/> (normalized features, rows grouped by image).</summary>
    public IReadOnlyList<ImageScore> Score(ImageFeatures f)
    {
        if (!f.IsNormalized) throw new ArgumentException("scoring needs L2-normalized image features (EncodeNormalized)", nameof(f));
        int n = f.Batch, P = f.Patches, O = OutputSize, plane = O * O;
        if (P != _grid * _grid)
            throw new ArgumentException($"scoring: {P} local features per image do not form a {_grid}×{_grid} grid");
        if (n == 0) return [];
        var scores = new ImageScore[n];
        lock (_gate) // the batch buffers (and the host copy) are the scorer's own
        {
            var batch = BatchFor(f);
            if (batch.Step is { } step) step.Replay();
            else if (batch.Runs++ == 0) Compute(batch); // the first batch of a size runs plainly: the pool and index caches fill
            else
            {
                batch.Step = f.Global.Backend.CaptureStep(() => Compute(batch));
                batch.Step.Replay();
            }
            // One download per batch (a device's one copy back), into a host buffer kept for the next batch: a fresh
            // multi-MB array per batch is zero pages the kernel faults in, which cost more than the copy itself.
            if (_host?.Length != batch.Result.Length) _host = GC.AllocateUninitializedArray<float>(checked((int)batch.Result.Length), pinned: true); // not moved by compactions
            var host = _host;
            batch.Result.Backend.Download(batch.Result, host);
            for (int i = 0; i < n; i++)
            {
                float a = host[n * plane + n + 2 * i], b = host[n * plane + n + 2 * i + 1];
                float imagePad = 1f / (1f + MathF.Exp(-_logitScale * (b - a)));
                float vadMax = host[n * plane + i];
                float score = (float)HarmonicFusion.Fuse(imagePad, vadMax);
                var map = PixelMapPool.Rent(plane);
                host.AsSpan(i * plane, plane).CopyTo(map);
                scores[i] = new ImageScore(score, imagePad, vadMax, map, O) { MapFromPool = true };
            }
        }
        return scores;
    }

    /// <summary>The scores of the batch in <paramref name="b"/>'s inputs, into its result buffer: the same work for every
    /// batch of that size, so it is captured once (<see cref="IBackend.CaptureStep"/>: a device graph on CUDA).</summary>
    private void Compute(BatchBuffers b)
    {
        int n = b.Batch, O = OutputSize, plane = O * O;
        using var scope = TensorScope.Open();
        var be = b.Global.Backend;

        var imageSims = Ops.MatMul(b.Global, _imagePrototypes, transB: true); // [n, 2]
        var pixelSims = Ops.MatMul(b.Local, _pixelPrototypes, transB: true); // [n·P, 2]
        var d1 = Ops.NearestDistance(b.Mid1, _bank1);
        var d2 = Ops.NearestDistance(b.Mid2, _bank2);
        var maps = Ops.AnomalyFuse(pixelSims, d1, d2, _logitScale).View(2 * n, _grid, _grid); // [fused maps; VAD maps]
        var up = Ops.UpsampleBilinear(maps, O, O);

        // One result buffer: n blurred maps, n VAD maxima, n×2 global similarities.
        var result = b.Result;
        using (var blurred = result.RowsView(0, n * plane).View(n, O, O))
        using (var fused = up.RowsView(0, n))
            be.GaussianBlur(fused, blurred, GaussianBlur.PromptAdSigma, 4.0);
        using (var vadMax = result.RowsView(n * plane, n))
        using (var vadMaps = up.RowsView(n, n).View(n, plane))
            be.RowMax(vadMaps, vadMax, 1f, 0f);
        using (var sims = result.RowsView(n * plane + n, 2 * n))
        using (var flat = imageSims.View(2 * n))
            be.Copy(flat, sims);
    }

    /// <summary>
    /// The fixed buffers for batches of <paramref name="f"/>'s size, with <paramref name="f"/> copied in (device copies):
    /// a captured batch reads and writes the same addresses on every replay. A batch of another size replaces them.
    /// </summary>
    private BatchBuffers BatchFor(ImageFeatures f)
    {
        if (_batch is null || _batch.Batch != f.Batch || !_batch.Fits(f))
        {
            _batch?.Dispose();
            _batch = null;
            _batch = new BatchBuffers(f, f.Batch * OutputSize * OutputSize + 3 * f.Batch);
        }
        var be = f.Global.Backend;
        be.Copy(f.Global, _batch.Global);
        be.Copy(f.Local, _batch.Local);
        be.Copy(f.Mid1, _batch.Mid1);
        be.Copy(f.Mid2, _batch.Mid2);
        return _batch;
    }

    private BatchBuffers? _batch;
    private float[]? _host;
    private readonly Lock _gate = new();

    private sealed class BatchBuffers : IDisposable
    {
        public BatchBuffers(ImageFeatures f, long resultLength)
        {
            Batch = f.Batch;
            var be = f.Global.Backend;
            Global = Detached(Tensor.Empty(be, f.Global.Shape.ToArray()));
            Local = Detached(Tensor.Empty(be, f.Local.Shape.ToArray()));
            Mid1 = Detached(Tensor.Empty(be, f.Mid1.Shape.ToArray()));
            Mid2 = Detached(Tensor.Empty(be, f.Mid2.Shape.ToArray()));
            Result = Detached(Tensor.Empty(be, checked((int)resultLength)));
        }

        public int Batch { get; }
        public Tensor Global { get; }
        public Tensor Local { get; }
        public Tensor Mid1 { get; }
        public Tensor Mid2 { get; }
        public Tensor Result { get; }
        public int Runs { get; set; }
        public ICapturedStep? Step { get; set; }

        public bool Fits(ImageFeatures f) => ReferenceEquals(f.Global.Backend, Global.Backend) && f.Global.Shape.SequenceEqual(Global.Shape)
            && f.Local.Shape.SequenceEqual(Local.Shape) && f.Mid1.Shape.SequenceEqual(Mid1.Shape) && f.Mid2.Shape.SequenceEqual(Mid2.Shape);

        private static Tensor Detached(Tensor t)
        {
            TensorScope.Detach(t); // lives as long as the scorer keeps batches of this size
            return t;
        }

        public void Dispose()
        {
            Step?.Dispose(); // first: the graph reads and writes the tensors below
            Global.Dispose();
            Local.Dispose();
            Mid1.Dispose();
            Mid2.Dispose();
            Result.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_gate) _batch?.Dispose();
        _imagePrototypes.Dispose();
        _pixelPrototypes.Dispose();
    }
}
