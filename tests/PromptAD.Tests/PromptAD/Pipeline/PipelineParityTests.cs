using PromptAD.Clip;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Prompting;
using PromptAD.Scoring;
using PromptAD.Tensors.Cpu;
using PromptAD.Tensors.SafeTensors;
using PromptAD.Tests.Clip;
using PromptAD.Training;

namespace PromptAD.Tests.Pipeline;

/// <summary>
/// The whole pipeline against tests/reference/promptad_reference.py (PyTorch, float64, from the SPEC): tiny-test
/// weights, fixed initial vectors, 2 few-shot and 3 test images; 10 SGD steps of each head on a 10-epoch cosine
/// schedule (Epochs = 10); scores at a 32×32 output size. Tolerances (our fp32 vs float64): losses relative 1e-4
/// (of max(|expected|, 1e-2), since a margin term can be exactly 0); learned vectors, prototypes and memory banks
/// absolute 1e-5; image scores and every pixel of the maps absolute 1e-5.
/// </summary>
public class PipelineParityTests(ITestOutputHelper output)
{
    internal static readonly string[] States =
    [
        "damaged {}", "flawed {}", "abnormal {}", "imperfect {}", "blemished {}", "{} with flaw", "{} with defect",
        "{} with damage", "{} with large breakage", "{} with small breakage", "{} with contamination",
    ];

    private const double LossRel = 1e-4, VectorAbs = 1e-5, ScoreAbs = 1e-5;

    /// <summary>Both mid-feature modes (SPEC §4 item 3) and both pixel margins (SPEC §5.3): the reference writes the
    /// plain block output's banks, scores and maps with a ".block_output" suffix, the per-patch pixel margin's losses,
    /// pixel vectors and prototypes, and the scores and maps made with them, with a ".per_patch" suffix. Training does
    /// not depend on the mid mode; the image head does not depend on the pixel margin.</summary>
    [Theory]
    [InlineData(MidFeatureMode.AsPublished, PixelMarginMode.AsPublished)]
    [InlineData(MidFeatureMode.BlockOutput, PixelMarginMode.AsPublished)]
    [InlineData(MidFeatureMode.AsPublished, PixelMarginMode.PerPatch)]
    public void TrainingAndScoring_MatchPyTorch(MidFeatureMode mid, PixelMarginMode margin)
    {
        string bankSuffix = mid == MidFeatureMode.BlockOutput ? ".block_output" : "";
        string pixelSuffix = margin == PixelMarginMode.PerPatch ? ".per_patch" : "";
        string suffix = bankSuffix + pixelSuffix;
        using var g = SafeTensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Golden", "promptad", "tiny-test.promptad.safetensors"));
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Load(Path.Combine(ClipGolden.SmallDirectory, "tiny-test.weights.safetensors"), config, CpuBackend.Instance);

        // Prompt token ids (tokenizer + tiny-vocabulary mapping) agree with the reference's.
        CheckTokens(g, "image.token_ids", PromptSet.Create(config, "bottle", States, 3, 4, 4, 1));
        CheckTokens(g, "pixel.token_ids", PromptSet.Create(config, "bottle", States, 1, 4, 4, 1));

        int size = config.Vision.ImageSize, len = 3 * size * size;
        var shots = Split(g.ReadFloat32("shots"), len);
        using var init = TestModels.Create(config, shots.Count,
            new HeadVectors(g.ReadFloat32("image.ctx"), g.ReadFloat32("image.ctx_ab"), config.Text.Width),
            new HeadVectors(g.ReadFloat32("pixel.ctx"), g.ReadFloat32("pixel.ctx_ab"), config.Text.Width));
        var log = new ListProgress();
        var options = new TrainOptions { Epochs = 10, MidFeatures = mid, PixelMargin = margin };
        using var model = Trainer.Train(weights, new TrainingSet("bottle", "bottle", States, shots, ["s0.png", "s1.png"]), options, init, log, TestContext.Current.CancellationToken);

        Assert.Equal(20, log.Items.Count);
        double lossErr = 0;
        foreach (var (head, name) in new[] { (PromptHead.Image, "image.losses"), (PromptHead.Pixel, "pixel.losses" + pixelSuffix) })
        {
            var expected = g.ReadFloat32(name);
            var steps = log.Items.Where(p => p.Head == head).ToList();
            for (int e = 0; e < steps.Count; e++)
            {
                float[] actual = [steps[e].Loss, steps[e].Contrastive, steps[e].Margin, steps[e].Alignment];
                for (int t = 0; t < 4; t++)
                    lossErr = Math.Max(lossErr, Math.Abs(actual[t] - expected[e * 4 + t]) / Math.Max(Math.Abs(expected[e * 4 + t]), 1e-2));
            }
        }

        double vecErr = Max(
            Compare.MaxAbs(model.Image.Ctx, g.ReadFloat32("image.ctx.trained")),
            Compare.MaxAbs(model.Image.CtxAb, g.ReadFloat32("image.ctx_ab.trained")),
            Compare.MaxAbs(model.Pixel.Ctx, g.ReadFloat32("pixel.ctx.trained" + pixelSuffix)),
            Compare.MaxAbs(model.Pixel.CtxAb, g.ReadFloat32("pixel.ctx_ab.trained" + pixelSuffix)));
        double moved = Max(Compare.MaxAbs(model.Image.Ctx, g.ReadFloat32("image.ctx")), Compare.MaxAbs(model.Pixel.CtxAb, g.ReadFloat32("pixel.ctx_ab")));
        double protoErr = Max(
            Compare.MaxAbs([.. model.ImagePrototypes.Normal, .. model.ImagePrototypes.Anomaly], g.ReadFloat32("image.prototypes")),
            Compare.MaxAbs([.. model.PixelPrototypes.Normal, .. model.PixelPrototypes.Anomaly], g.ReadFloat32("pixel.prototypes" + pixelSuffix)));
        double bankErr = Max(Compare.MaxAbs(model.Mid1.Data, g.ReadFloat32("bank.mid1" + bankSuffix)),
            Compare.MaxAbs(model.Mid2.Data, g.ReadFloat32("bank.mid2" + bankSuffix)));

        using var detector = new Detector(weights, model, outputSize: 32, batchSize: 2);
        var results = detector.ScoreImages(Split(g.ReadFloat32("tests"), len));
        Assert.Equal(mid, model.Metadata.Options.MidFeatures); // the detector scores with the model's mode
        var scores = g.ReadFloat32("scores" + suffix);
        var maps = g.ReadFloat32("maps" + suffix);
        double scoreErr = 0, mapErr = 0;
        for (int i = 0; i < results.Count; i++)
        {
            scoreErr = Max(scoreErr, Math.Abs(results[i].Score - scores[3 * i]), Math.Abs(results[i].PromptScore - scores[3 * i + 1]),
                Math.Abs(results[i].VisionMax - scores[3 * i + 2]));
            mapErr = Max(mapErr, Compare.MaxAbs(results[i].PixelMap, maps.AsSpan(i * 32 * 32, 32 * 32).ToArray()));
        }
        output.WriteLine($"{mid.Name()}, pixel margin {margin.Name()}: max errors: loss rel {lossErr:E2}, vectors {vecErr:E2} (vectors moved {moved:E2}), prototypes {protoErr:E2}, " +
            $"banks {bankErr:E2}, image scores {scoreErr:E2}, pixel maps {mapErr:E2}");
        Assert.True(lossErr <= LossRel, $"loss rel error {lossErr}");
        Assert.True(vecErr <= VectorAbs, $"vector error {vecErr}");
        Assert.True(protoErr <= VectorAbs, $"prototype error {protoErr}");
        Assert.True(bankErr <= VectorAbs, $"bank error {bankErr}");
        Assert.True(scoreErr <= ScoreAbs, $"score error {scoreErr}");
        Assert.True(mapErr <= ScoreAbs, $"map error {mapErr}");
    }

    private static void CheckTokens(SafeTensorsFile g, string name, PromptSet set)
    {
        var expected = g.ReadFloat32(name).Select(v => (int)v).ToArray();
        var actual = set.TokenIds.SelectMany(r => r).ToArray();
        Assert.Equal(expected, actual);
    }

    private static List<float[]> Split(float[] flat, int len) =>
        [.. Enumerable.Range(0, flat.Length / len).Select(i => flat.AsSpan(i * len, len).ToArray())];

    private static double Max(params double[] v) => v.Max();
}

/// <summary>Collects progress synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class ListProgress : IProgress<TrainProgress>
{
    public List<TrainProgress> Items { get; } = [];
    public void Report(TrainProgress value) => Items.Add(value);
}

/// <summary>Models built in memory for tests.</summary>
internal static class TestModels
{
    public static PromptAdModel Create(ClipConfig config, int shots, HeadVectors? image = null, HeadVectors? pixel = null, int seed = 1)
    {
        var rng = new Random(seed);
        float[] R(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f)];
        int w = config.Text.Width, e = config.EmbedDim, rows = shots * config.Vision.Patches, vw = config.Vision.Width;
        var meta = new ModelMetadata
        {
            Backbone = config.Name, Category = "bottle", ClassName = "bottle", Shots = shots,
            ShotFiles = [.. Enumerable.Range(0, shots).Select(i => $"shot{i}.png")], Options = new TrainOptions { Seed = 7 },
            LogitScaleValue = 2.5f, WeightsSha256 = "ab12",
        };
        return new PromptAdModel(meta,
            image ?? new HeadVectors(R(12 * w), R(4 * w), w), pixel ?? new HeadVectors(R(4 * w), R(4 * w), w),
            new Prototypes(R(e), R(e)), new Prototypes(R(e), R(e)),
            new MemoryBank(R(rows * vw), rows, vw), new MemoryBank(R(rows * vw), rows, vw));
    }
}
