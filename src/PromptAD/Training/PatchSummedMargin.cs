using PromptAD.Tensors;

namespace PromptAD.Training;

/// <summary>
/// The pixel head's margin gap as the authors' code computes it (SPEC §5.3, <see cref="PixelMarginMode.AsPublished"/>):
/// for image i and feature dimension c, Σ_p (v[i,p,c] − p_n[c])² − Σ_p (v[i,p,c] − p_a[c])², one value per (i, c).
/// Built from existing differentiable ops so every backend runs it: the features are transposed once (image i's
/// column c becomes row i·width + c, the patches its columns), and each prototype component is spread along its row
/// by a row gather, so a row-wise squared distance sums over the patches. The features are constant during training,
/// so the transposed copy is made once per training and reused by every step.
/// </summary>
public sealed class PatchSummedMargin : IDisposable
{
    private readonly Tensor _transposed;
    private readonly int[] _spread;
    private readonly int _rows, _patches, _width;

    /// <param name="v">Normalized patch features, [k·patches, width], image by image.</param>
    public PatchSummedMargin(Tensor v, int patches)
    {
        if (patches <= 0 || v.Rows % patches != 0)
            throw new ArgumentException($"{v.Rows} patch features are not whole images of {patches} patches", nameof(v));
        (_patches, _width) = (patches, v.Cols);
        int images = v.Rows / patches;
        _rows = images * _width;
        var source = v.ToArray();
        var transposed = new float[source.Length];
        _spread = new int[source.Length];
        for (int i = 0; i < images; i++)
            for (int p = 0; p < patches; p++)
                for (int c = 0; c < _width; c++)
                {
                    int to = ((i * _width) + c) * patches + p;
                    transposed[to] = source[((i * patches) + p) * _width + c];
                    _spread[to] = c;
                }
        _transposed = Tensor.FromArray(v.Backend, transposed, _rows, patches);
    }

    /// <summary>The gap ‖v − p_n‖² − ‖v − p_a‖² with the distance summed over patches: [k·width].</summary>
    public Tensor Gap(Tensor normal, Tensor anomaly) =>
        Ops.Sub(Ops.SquaredDistance(_transposed, Spread(normal)), Ops.SquaredDistance(_transposed, Spread(anomaly)));

    private Tensor Spread(Tensor prototype) =>
        Ops.Reshape(Ops.GatherRows(Ops.Reshape(prototype, _width, 1), _spread), _rows, _patches);

    public void Dispose() => _transposed.Dispose();
}
