namespace PromptAD.Clip.Imaging;

/// <summary>
/// CLIP image preprocessing as PromptAD uses it: squash to Size×Size with Pillow-exact bicubic,
/// (the centre crop of Size is then a no-op), scale to [0, 1] and normalise per channel with CLIP's
/// mean/std, giving a float[3*Size*Size] CHW buffer.
/// </summary>
public sealed class ClipPreprocessor
{
    public static readonly float[] ClipMean = [0.48145466f, 0.4578275f, 0.40821073f];
    public static readonly float[] ClipStd = [0.26862954f, 0.26130258f, 0.27577711f];

    private readonly float[] _mean;
    private readonly float[] _std;

    public ClipPreprocessor(int size = 240, float[]? mean = null, float[]? std = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _mean = mean ?? ClipMean;
        _std = std ?? ClipStd;
        if (_mean.Length != 3 || _std.Length != 3)
        {
            throw new ArgumentException("mean and std need three channels.");
        }

        Size = size;
    }

    /// <summary>Output height and width.</summary>
    public int Size { get; }

    /// <summary>Loads, resizes and normalises an image file.</summary>
    public float[] Preprocess(string path, ImageLoadLimits? limits = null)
        => Preprocess(ImageLoader.Load(path, limits));

    public float[] Preprocess(RgbImage image)
        => Normalize(Resize(image));

    /// <summary>The 8-bit Size×Size image before normalisation (what Pillow's resize returns).</summary>
    public RgbImage Resize(RgbImage image) => PillowBicubic.Resize(image, Size, Size);

    /// <summary>(byte/255 − mean)/std in float32, CHW — the same float operations as torchvision.</summary>
    public float[] Normalize(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int n = image.Width * image.Height;
        var result = new float[3 * n];
        byte[] px = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            float m = _mean[c], s = _std[c];
            int o = c * n;
            for (int i = 0; i < n; i++)
            {
                result[o + i] = (px[3 * i + c] / 255f - m) / s;
            }
        }

        return result;
    }
}
