namespace PromptAD.Scoring;

/// <summary>
/// PromptAD's fusion of the prompt-guided and vision-guided scores: 1/(1/a + 1/b) elementwise (SPEC §6). That is
/// half the harmonic mean; the constant factor changes no ranking metric, and keeping the authors' form keeps
/// scores comparable with theirs.
/// </summary>
public static class HarmonicFusion
{
    /// <summary>Float32 arithmetic in the same order as numpy/torch on float32 arrays (reciprocals, sum, reciprocal).</summary>
    public static void Fuse(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination)
    {
        if (a.Length != b.Length || destination.Length != a.Length)
        {
            throw new ArgumentException($"Length mismatch: a {a.Length}, b {b.Length}, destination {destination.Length}.");
        }

        for (int i = 0; i < a.Length; i++)
        {
            destination[i] = 1f / (1f / a[i] + 1f / b[i]);
        }
    }

    public static float[] Fuse(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var result = new float[a.Length];
        Fuse(a, b, result);
        return result;
    }

    public static double Fuse(double a, double b) => 1.0 / (1.0 / a + 1.0 / b);
}
