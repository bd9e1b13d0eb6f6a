namespace PromptAD.Training;

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
    public int Seed { get; init; }

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
