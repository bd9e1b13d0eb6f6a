using PromptAD.Clip.Imaging;
using PromptAD.Tensors;

namespace PromptAD.Clip;

/// <summary>One image file as <see cref="ImageBatchEncoder.Decode"/> leaves it: the photo and its preprocessed CHW
/// floats, or why it could not be read.</summary>
public sealed record DecodedImage(string Path, RgbImage? Image, float[]? Chw, ImageLoadException? Error);

/// <summary>
/// The one path from images to normalized CLIP features, for training, scoring, the feature cache, calibration and
/// the benchmarks: decode (files in parallel) → preprocess (the backbone's input size) → concatenate → encode. Counts
/// the images it encodes (<see cref="ImagesEncoded"/>), so a caller can show that nothing is encoded twice.
/// </summary>
public sealed class ImageBatchEncoder
{
    private readonly ClipImageEncoder _encoder;
    private long _encoded;

    public ImageBatchEncoder(ClipWeights weights, MidFeatureMode midFeatures)
    {
        _encoder = new ClipImageEncoder(weights, midFeatures);
        Preprocessor = new ClipPreprocessor(weights.Config.Vision.ImageSize);
    }

    public ClipConfig Config => _encoder.Config;
    public MidFeatureMode MidFeatures => _encoder.MidFeatures;
    public ClipPreprocessor Preprocessor { get; }

    /// <summary>Length of one preprocessed image: 3 × size × size.</summary>
    public int ImageLength => 3 * Preprocessor.Size * Preprocessor.Size;

    /// <summary>Images encoded so far by this encoder.</summary>
    public long ImagesEncoded => Interlocked.Read(ref _encoded);

    /// <summary>Decodes and preprocesses <paramref name="paths"/> in parallel, in order; an unreadable file keeps its
    /// error instead of failing the others.</summary>
    public DecodedImage[] Decode(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
    {
        var decoded = new DecodedImage[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            try
            {
                var image = ImageLoader.Load(paths[i]);
                decoded[i] = new DecodedImage(paths[i], image, Preprocessor.Preprocess(image), null);
            }
            catch (ImageLoadException e)
            {
                decoded[i] = new DecodedImage(paths[i], null, null, e);
            }
        });
        return decoded;
    }

    /// <summary>Decodes and preprocesses <paramref name="paths"/> in parallel, in order, where every file must be
    /// readable (a model's shots): the first unreadable one is its <see cref="ImageLoadException"/>.</summary>
    public float[][] DecodeAll(IReadOnlyList<string> paths, CancellationToken cancellationToken = default) =>
        [.. Decode(paths, cancellationToken).Select(d => d.Chw ?? throw d.Error!)];

    /// <summary>Normalized features of preprocessed images as one batch on the weights' backend; the caller owns them.</summary>
    public ImageFeatures Encode(IReadOnlyList<float[]> chw)
    {
        var batch = Concatenate(chw);
        Interlocked.Add(ref _encoded, chw.Count);
        return _encoder.EncodeNormalized(batch, chw.Count);
    }

    /// <summary>Preprocessed images one after another, each checked to be 3 × size × size.</summary>
    public float[] Concatenate(IReadOnlyList<float[]> chw)
    {
        int length = ImageLength;
        var all = new float[checked(chw.Count * length)];
        for (int i = 0; i < chw.Count; i++)
        {
            if (chw[i].Length != length)
                throw new ArgumentException($"image {i} has {chw[i].Length} values, expected 3×{Preprocessor.Size}×{Preprocessor.Size} = {length}");
            chw[i].CopyTo(all, i * length);
        }
        return all;
    }
}
