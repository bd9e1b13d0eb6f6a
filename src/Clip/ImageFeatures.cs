using PromptAD.Tensors;

namespace PromptAD.Clip;

/// <summary>
/// The image encoder's outputs for a batch of images (SPEC §4), rows grouped by image:
/// <see cref="Global"/> [batch, embed], <see cref="Local"/> [batch·patches, embed] (V-V path),
/// <see cref="Mid1"/>/<see cref="Mid2"/> [batch·patches, width] (original path after blocks midLayers[0]/[1]).
/// <see cref="IsNormalized"/> says whether every row is L2-normalized. Owns its tensors.
/// </summary>
public sealed record ImageFeatures(Tensor Global, Tensor Local, Tensor Mid1, Tensor Mid2, int Batch, int Patches, bool IsNormalized) : IDisposable
{
    /// <summary>A new set with every row L2-normalized (how the features are used; SPEC §4).</summary>
    public ImageFeatures Normalized()
    {
        using var scope = TensorScope.Open();
        var n = new ImageFeatures(Ops.L2Normalize(Global), Ops.L2Normalize(Local), Ops.L2Normalize(Mid1), Ops.L2Normalize(Mid2), Batch, Patches, true);
        scope.Keep(n.Global); scope.Keep(n.Local); scope.Keep(n.Mid1); scope.Keep(n.Mid2);
        return n;
    }

    /// <summary>The features of the given images (indices into this batch, in the given order) as a new batch; exact
    /// copies of their rows.</summary>
    public ImageFeatures Select(IReadOnlyList<int> images)
    {
        int[] Rows(int perImage) => [.. images.SelectMany(i => Enumerable.Range(i * perImage, perImage))];
        foreach (int i in images)
            if (i < 0 || i >= Batch) throw new ArgumentOutOfRangeException(nameof(images), i, $"not an image of this batch of {Batch}");
        using var scope = TensorScope.Open();
        var s = new ImageFeatures(Ops.GatherRows(Global, Rows(1)), Ops.GatherRows(Local, Rows(Patches)), Ops.GatherRows(Mid1, Rows(Patches)),
            Ops.GatherRows(Mid2, Rows(Patches)), images.Count, Patches, IsNormalized);
        scope.Keep(s.Global); scope.Keep(s.Local); scope.Keep(s.Mid1); scope.Keep(s.Mid2);
        return s;
    }

    public void Dispose()
    {
        Global.Dispose();
        Local.Dispose();
        Mid1.Dispose();
        Mid2.Dispose();
    }
}
