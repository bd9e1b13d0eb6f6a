using PromptAD.Tensors;

namespace PromptAD.Scoring;

/// <summary>
/// A head's text prototypes after training (SPEC §6): p_n = normalize(mean of the raw normal prompt features),
/// p_a = normalize(mean of the raw anomaly prompt features, manual and learned). Stored host-side: two vectors.
/// </summary>
public sealed record Prototypes(float[] Normal, float[] Anomaly)
{
    public int Dimension => Normal.Length;

    /// <summary>From raw text features (rows) of the normal and anomaly prompts.</summary>
    public static Prototypes FromFeatures(Tensor normal, Tensor anomaly) =>
        new(MeanNormalized(normal), MeanNormalized(anomaly));

    private static float[] MeanNormalized(Tensor features)
    {
        using var scope = TensorScope.Open();
        var mean = Ops.L2Normalize(Ops.Reshape(Ops.MeanRows(features), 1, features.Cols));
        return mean.ToArray();
    }

    /// <summary>As a [2, d] tensor (row 0 normal, row 1 anomaly) on <paramref name="backend"/>.</summary>
    public Tensor ToTensor(IBackend backend) => Tensor.FromArray(backend, [.. Normal, .. Anomaly], 2, Dimension);
}
