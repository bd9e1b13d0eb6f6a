using PromptAD.Tensors.Cpu;

namespace PromptAD.Scoring;

/// <summary>
/// <c>scipy.ndimage.gaussian_filter(map, sigma)</c> on one float32 map, SciPy's arithmetic exactly
/// (<see cref="ScipyGaussian"/>; batched on a backend: <c>Ops.GaussianBlur</c>).
/// </summary>
public static class GaussianBlur
{
    /// <summary>The PromptAD post-processing blur (SPEC §6): σ = 4 pixels.</summary>
    public const double PromptAdSigma = 4.0;

    public static float[] Apply(ReadOnlySpan<float> map, int width, int height, double sigma = PromptAdSigma, double truncate = 4.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (map.Length != (long)width * height)
            throw new ArgumentException($"Expected {(long)width * height} values for {width}x{height}, got {map.Length}.", nameof(map));
        var result = new float[map.Length];
        ScipyGaussian.Filter(map, result, width, height, Kernel(sigma, truncate));
        return result;
    }

    /// <summary>SciPy's <c>_gaussian_kernel1d(sigma, 0, radius)</c> half-kernel: weights[j] for offsets 0..radius.</summary>
    public static double[] Kernel(double sigma, double truncate) => ScipyGaussian.Kernel(sigma, truncate);

    /// <summary>Half-sample symmetric extension, periodic with period 2n.</summary>
    public static int Reflect(int i, int n) => ScipyGaussian.Reflect(i, n);
}
