using PromptAD.Evaluation;
using PromptAD.Tensors;

namespace PromptAD.Scoring;

/// <summary>What the scorer returns for one image: the fused image score and the pixel map at the output size.</summary>
public sealed record ImageScore(float Score, float PromptScore, float VisionMax, float[] PixelMap, int Size);

/// <summary>The features of one image that scoring needs, all L2-normalized per token.</summary>
public sealed record ImageFeatures(Tensor Global, Tensor Local, Tensor Mid1, Tensor Mid2);

/// <summary>
/// PromptAD's anomaly scoring (SPEC §6): prompt-guided (PAD) scores from the two heads' prototypes, vision-guided
/// (VAD) nearest-neighbour distances to the two memory banks, harmonic fusion on the patch grid, bilinear
/// upsampling to the output resolution and a Gaussian blur (σ = 4) for the pixel map; the image score fuses the
/// image-level PAD score with the maximum of the upsampled (unblurred) VAD map.
/// </summary>
public sealed class AnomalyScorer(Prototypes imageHead, Prototypes pixelHead, Tensor bank1, Tensor bank2, float logitScale,
    int grid, int outputSize = AnomalyScorer.DefaultOutputSize)
{
    public const int DefaultOutputSize = 400;

    public int OutputSize { get; } = outputSize;

    public ImageScore Score(ImageFeatures f)
    {
        using var scope = TensorScope.Open();
        var be = f.Global.Backend;
        float imagePad = PromptScores(f.Global, imageHead, be)[0];
        var pixelPad = PromptScores(f.Local, pixelHead, be);
        if (pixelPad.Length != grid * grid)
            throw new ArgumentException($"scoring: {pixelPad.Length} local features do not form a {grid}×{grid} grid");

        var d1 = Ops.NearestNeighbour(f.Mid1, bank1).ToArray();
        var d2 = Ops.NearestNeighbour(f.Mid2, bank2).ToArray();
        var vad = new float[d1.Length];
        for (int i = 0; i < vad.Length; i++) vad[i] = (d1[i] + d2[i]) * 0.5f;

        var fused = HarmonicFusion.Fuse(pixelPad, vad);
        var pixelMap = GaussianBlur.Apply(Upsample(be, fused), OutputSize, OutputSize);
        float vadMax = Upsample(be, vad).Max();
        float score = (float)HarmonicFusion.Fuse(imagePad, vadMax);
        return new ImageScore(score, imagePad, vadMax, pixelMap, OutputSize);
    }

    /// <summary>softmax(s·[f·p_n, f·p_a])[1] per row of normalized features f.</summary>
    private float[] PromptScores(Tensor features, Prototypes head, IBackend be)
    {
        var sims = Ops.MatMul(features.Rank == 1 ? features.View(1, features.Cols) : features, head.ToTensor(be), transB: true).ToArray();
        var scores = new float[sims.Length / 2];
        for (int i = 0; i < scores.Length; i++)
            scores[i] = 1f / (1f + MathF.Exp(-logitScale * (sims[2 * i + 1] - sims[2 * i])));
        return scores;
    }

    private float[] Upsample(IBackend be, float[] map)
    {
        var x = Tensor.FromArray(be, map, 1, grid, grid);
        return Ops.UpsampleBilinear(x, OutputSize, OutputSize).ToArray();
    }
}
