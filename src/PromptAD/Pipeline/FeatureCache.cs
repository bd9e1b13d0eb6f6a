using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Tensors;

namespace PromptAD.Pipeline;

/// <summary>
/// A category's images encoded once (issue: the protocol's 15 runs per category share every test image and many
/// shots): each image is decoded and preprocessed (in parallel), encoded by the frozen image encoder in batches, and
/// its normalized features (global, local, both mid-level layers) kept host-side in float32 — for
/// ViT-B-16-plus-240 640 + 225·640 + 2·225·896 floats ≈ 2.2 MB per image (<see cref="BytesPerImage"/>). Above
/// <c>limitBytes</c> the features go to a temporary file instead and are read back a batch at a time, so memory
/// stays bounded by one batch. An unreadable image is recorded and reported where it is used.
/// </summary>
public sealed class FeatureCache : IDisposable
{
    private readonly Dictionary<string, int> _index;
    private readonly float[]?[] _memory;
    private readonly FileStream? _file;
    private readonly (int Width, int Height)[] _sizes;
    private readonly ImageLoadException?[] _unreadable;
    private readonly int _global, _local, _mid, _patches;

    private FeatureCache(ClipConfig config, IReadOnlyList<string> paths, bool onDisk)
    {
        var v = config.Vision;
        _patches = v.Patches;
        _global = config.EmbedDim;
        _local = v.Patches * config.EmbedDim;
        _mid = v.Patches * v.Width;
        Paths = paths;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < paths.Count; i++) _index.TryAdd(paths[i], i);
        _memory = new float[]?[onDisk ? 0 : paths.Count];
        _sizes = new (int, int)[paths.Count];
        _unreadable = new ImageLoadException?[paths.Count];
        if (onDisk)
            _file = new FileStream(Path.Combine(Path.GetTempPath(), $"promptad-features-{Guid.NewGuid():N}.bin"), FileMode.CreateNew,
                FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.RandomAccess);
    }

    /// <summary>Which mid-level features the cache holds; a model scores from it only when it was trained with the same.</summary>
    public MidFeatureMode MidFeatures { get; private init; }

    /// <summary>The cached images, in the order given to <see cref="Build"/>.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>Whether the features live in a temporary file (the category exceeded the memory limit).</summary>
    public bool OnDisk => _file is not null;

    /// <summary>Seconds spent decoding and preprocessing, and encoding (for the job's per-stage times).</summary>
    public double DecodeSeconds { get; private set; }
    public double EncodeSeconds { get; private set; }

    private int FloatsPerImage => _global + _local + 2 * _mid;

    /// <summary>Host memory one image's features take (float32).</summary>
    public static long BytesPerImage(ClipConfig config) =>
        4L * (config.EmbedDim + config.Vision.Patches * (long)config.EmbedDim + 2L * config.Vision.Patches * config.Vision.Width);

    /// <summary>
    /// Decodes, preprocesses and encodes <paramref name="paths"/> (duplicates are encoded once) in batches of
    /// <paramref name="batchSize"/>. Features stay in memory when all of them fit in <paramref name="limitBytes"/>.
    /// </summary>
    public static FeatureCache Build(ClipWeights weights, MidFeatureMode midFeatures, IReadOnlyList<string> paths, int batchSize, long limitBytes,
        Action<int>? onBatchDone = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var distinct = paths.Distinct(StringComparer.Ordinal).ToList();
        var config = weights.Config;
        var cache = new FeatureCache(config, distinct, BytesPerImage(config) * distinct.Count > limitBytes) { MidFeatures = midFeatures };
        try
        {
            cache.Fill(new ImageBatchEncoder(weights, midFeatures), batchSize, onBatchDone, cancellationToken);
            return cache;
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    private void Fill(ImageBatchEncoder encoder, int batchSize, Action<int>? onBatchDone, CancellationToken ct)
    {
        var decode = new Stopwatch();
        var encode = new Stopwatch();
        for (int start = 0; start < Paths.Count; start += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            int n = Math.Min(batchSize, Paths.Count - start);
            decode.Start();
            var images = encoder.Decode([.. Paths.Skip(start).Take(n)], ct);
            for (int i = 0; i < n; i++)
            {
                if (images[i].Image is { } image) _sizes[start + i] = (image.Width, image.Height);
                else _unreadable[start + i] = images[i].Error;
            }
            decode.Stop();

            var readable = Enumerable.Range(0, n).Where(i => images[i].Chw is not null).ToList();
            if (readable.Count > 0)
            {
                encode.Start();
                using var f = encoder.Encode([.. readable.Select(i => images[i].Chw!)]);
                float[] g = f.Global.ToArray(), l = f.Local.ToArray(), m1 = f.Mid1.ToArray(), m2 = f.Mid2.ToArray();
                for (int j = 0; j < readable.Count; j++)
                {
                    var record = new float[FloatsPerImage];
                    g.AsSpan(j * _global, _global).CopyTo(record);
                    l.AsSpan(j * _local, _local).CopyTo(record.AsSpan(_global));
                    m1.AsSpan(j * _mid, _mid).CopyTo(record.AsSpan(_global + _local));
                    m2.AsSpan(j * _mid, _mid).CopyTo(record.AsSpan(_global + _local + _mid));
                    Store(start + readable[j], record);
                }
                encode.Stop();
            }
            onBatchDone?.Invoke(n);
        }
        DecodeSeconds = decode.Elapsed.TotalSeconds;
        EncodeSeconds = encode.Elapsed.TotalSeconds;
    }

    private void Store(int index, float[] record)
    {
        if (_file is null)
        {
            _memory[index] = record;
            return;
        }
        RandomAccess.Write(_file.SafeFileHandle, System.Runtime.InteropServices.MemoryMarshal.AsBytes(record.AsSpan()), Offset(index));
    }

    private long Offset(int index) => 4L * FloatsPerImage * index;

    private void Read(int index, Span<float> record)
    {
        if (_file is null)
        {
            _memory[index].AsSpan().CopyTo(record);
            return;
        }
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(record);
        int read = 0;
        while (read < bytes.Length)
        {
            int got = RandomAccess.Read(_file.SafeFileHandle, bytes[read..], Offset(index) + read);
            if (got <= 0) throw new IOException($"feature cache file '{_file.Name}' ended early (image {index})");
            read += got;
        }
    }

    /// <summary>The position of <paramref name="path"/> in <see cref="Paths"/>, or −1.</summary>
    public int IndexOf(string path) => _index.TryGetValue(path, out int i) ? i : -1;

    /// <summary>The image's size as decoded; throws its load error when it could not be read.</summary>
    public (int Width, int Height) SizeOf(int index) => _unreadable[index] is { } e ? throw e : _sizes[index];

    /// <summary>The load error of an image that could not be read (null when it was).</summary>
    public ImageLoadException? ErrorOf(int index) => _unreadable[index];

    /// <summary>
    /// The normalized features of the given images as one batch on <paramref name="backend"/> (rows grouped by image,
    /// in the given order); the caller owns them. An unreadable image throws its load error.
    /// </summary>
    public ImageFeatures Load(IBackend backend, IReadOnlyList<int> indices)
    {
        int n = indices.Count;
        var g = new float[n * _global];
        var l = new float[n * _local];
        var m1 = new float[n * _mid];
        var m2 = new float[n * _mid];
        var record = new float[FloatsPerImage];
        for (int j = 0; j < n; j++)
        {
            int i = indices[j];
            if (_unreadable[i] is { } e) throw e;
            Read(i, record);
            record.AsSpan(0, _global).CopyTo(g.AsSpan(j * _global));
            record.AsSpan(_global, _local).CopyTo(l.AsSpan(j * _local));
            record.AsSpan(_global + _local, _mid).CopyTo(m1.AsSpan(j * _mid));
            record.AsSpan(_global + _local + _mid, _mid).CopyTo(m2.AsSpan(j * _mid));
        }
        int width = _mid / _patches;
        using var scope = TensorScope.Open();
        var f = new ImageFeatures(Tensor.FromArray(backend, g, n, _global), Tensor.FromArray(backend, l, n * _patches, _global),
            Tensor.FromArray(backend, m1, n * _patches, width), Tensor.FromArray(backend, m2, n * _patches, width), n, _patches, IsNormalized: true);
        scope.Keep(f.Global); scope.Keep(f.Local); scope.Keep(f.Mid1); scope.Keep(f.Mid2);
        return f;
    }

    public void Dispose() => _file?.Dispose();
}
