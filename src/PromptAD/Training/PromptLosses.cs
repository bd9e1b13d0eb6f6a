using PromptAD.Tensors;

namespace PromptAD.Training;

/// <summary>The three loss terms of one training step (SPEC §5.3), kept apart for logging.</summary>
public sealed record LossTerms(Tensor Total, Tensor Contrastive, Tensor Margin, Tensor Alignment);

/// <summary>
/// PromptAD's losses over the few-shot samples. <c>v</c> holds L2-normalized visual features (one row per sample:
/// global features for the image head, every patch feature for the pixel head); <c>normal</c>, <c>manual</c> and
/// <c>learned</c> are the RAW text features of the normal, manual-anomaly and learnable-anomaly prompts. With
/// <c>patchSummed</c> (the pixel head's margin as published, SPEC §5.3) the margin term's squared distances are summed
/// over each image's patches instead of over the features, and the hinge averaged over k·width.
/// </summary>
public static class PromptLosses
{
    public static LossTerms Compute(Tensor v, Tensor normal, Tensor manual, Tensor learned, float scale,
        float margin = 0f, float alignWeight = 0.001f, PatchSummedMargin? patchSummed = null)
    {
        int d = v.Cols;
        var anomaly = Ops.ConcatRows(manual, learned);
        var pn = Ops.L2Normalize(Ops.Reshape(Ops.MeanRows(normal), 1, d));
        var pa = Ops.L2Normalize(Ops.Reshape(Ops.MeanRows(anomaly), 1, d));

        // Contrastive: class 0 is the normal prototype, then every anomaly prompt on its own; target 0.
        var classes = Ops.ConcatRows(pn, Ops.L2Normalize(anomaly));
        var logits = Ops.Scale(Ops.MatMul(v, classes, transB: true), scale);
        var ce = Ops.SoftmaxCrossEntropy(logits, new int[v.Rows]);

        // Explicit anomaly margin: max(0, ‖v − p_n‖² − ‖v − p_a‖² + m), one squared distance per sample (or per image
        // and feature dimension, summed over the patches).
        var gap = patchSummed?.Gap(pn, pa) ?? Ops.Sub(Ops.SquaredDistance(v, pn), Ops.SquaredDistance(v, pa));
        if (margin != 0f) gap = Ops.Combine(gap, 1f, Tensor.Full(v.Backend, margin, checked((int)gap.Length)), 1f, "add_margin");
        var eam = Ops.Mean(Ops.Relu(gap));

        // Alignment of the learned anomaly prompts with the manual ones.
        var align = Ops.Reshape(Ops.SquaredDistance(
            Ops.Reshape(Ops.MeanRows(Ops.L2Normalize(manual)), 1, d),
            Ops.Reshape(Ops.MeanRows(Ops.L2Normalize(learned)), 1, d)), []);

        var total = Ops.Add(Ops.Add(ce, eam), Ops.Scale(align, alignWeight));
        return new LossTerms(total, ce, eam, align);
    }
}
