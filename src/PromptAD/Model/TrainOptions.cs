using PromptAD.Clip;

namespace PromptAD.Model;

/// <summary>How the cosine similarities are scaled (SPEC §5.5).</summary>
public enum LogitScaleMode
{
    /// <summary>The checkpoint's stored logit_scale value itself (≈ 4.6): the authors' code, the default.</summary>
    Raw,

    /// <summary>exp(logit_scale) (≈ 100), as CLIP itself uses it.</summary>
    Exp,
}

/// <summary>PromptAD's hyper-parameters (SPEC §5); the defaults are the paper's.</summary>
public sealed record TrainOptions
{
    public int Epochs { get; init; } = 100;
    public float LearningRate { get; init; } = 0.002f;
    public float MinLearningRate { get; init; } = 1e-5f;
    public float Momentum { get; init; } = 0.9f;
    public float WeightDecay { get; init; } = 5e-4f;
    public int NCtx { get; init; } = 4;
    public int NProImage { get; init; } = 3;
    public int NProPixel { get; init; } = 1;
    public int NCtxAb { get; init; } = 1;
    public int NProAb { get; init; } = 4;
    public float AlignWeight { get; init; } = 0.001f;
    public float Margin { get; init; }
    public LogitScaleMode LogitScale { get; init; } = LogitScaleMode.Raw;

    /// <summary>Which mid-level features fill the memory banks and score test images (SPEC §4 item 3).</summary>
    public MidFeatureMode MidFeatures { get; init; } = MidFeatureMode.AsPublished;

    /// <summary>How the pixel head's margin term is computed (SPEC §5.3).</summary>
    public PixelMarginMode PixelMargin { get; init; } = PixelMarginMode.AsPublished;
    public int Seed { get; init; }

    /// <summary>
    /// SPEC §5.1: the authors' code pairs learnable-anomaly row r with c_{r mod n_pro} and a_{r mod n_pro_ab}; that is the
    /// full product this engine trains only when the two sizes are coprime. Null when they are (the defaults 3 / 1 and 4
    /// are), else one line naming the head(s) whose pairs would differ from the authors'.
    /// </summary>
    public string? PairingNotice()
    {
        var heads = new List<string>();
        foreach (var (head, nPro) in new[] { ("image", NProImage), ("pixel", NProPixel) })
        {
            int g = Gcd(nPro, NProAb);
            if (g == 1) continue;
            int product = nPro * NProAb;
            heads.Add($"{head} head n_pro {nPro} and n_pro_ab {NProAb} are not coprime: the authors' code (row r pairs c_(r mod {nPro}) " +
                $"with a_(r mod {NProAb})) would use only {product / g} of the {product} pairs, each {g} times; all {product} are trained");
        }
        return heads.Count == 0 ? null : string.Join("; ", heads);
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Epochs);
        ArgumentOutOfRangeException.ThrowIfLessThan(NCtx, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(NProImage, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(NProPixel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(NCtxAb, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(NProAb, 1);
        if (!(LearningRate > 0) || MinLearningRate < 0 || MinLearningRate > LearningRate)
            throw new ArgumentOutOfRangeException(nameof(LearningRate), $"need 0 ≤ MinLearningRate ({MinLearningRate}) ≤ LearningRate ({LearningRate}), LearningRate > 0");
    }
}
