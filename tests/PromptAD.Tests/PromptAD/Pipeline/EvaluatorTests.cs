using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Tensors.Cpu;
using PromptAD.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PromptAD.Tests.Pipeline;

/// <summary>
/// End to end on a synthetic MVTec-layout folder (tiny config, random weights): train, save, load, evaluate. Checks the
/// plumbing (every test image scored once, masks at the output size, metrics in range), not detection quality.
/// </summary>
public sealed class EvaluatorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("promptad-eval-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TrainSaveLoadEvaluate_OnASyntheticDataset()
    {
        var ct = TestContext.Current.CancellationToken;
        string cat = Path.Combine(_root, "widget");
        for (int i = 0; i < 3; i++) Png(Path.Combine(cat, "train", "good", $"{i:000}.png"), 40, 40, i, spot: false);
        for (int i = 0; i < 2; i++) Png(Path.Combine(cat, "test", "good", $"{i:000}.png"), 40, 40, 10 + i, spot: false);
        for (int i = 0; i < 2; i++)
        {
            Png(Path.Combine(cat, "test", "spot", $"{i:000}.png"), 40, 40, 20 + i, spot: true);
            Mask(Path.Combine(cat, "ground_truth", "spot", $"{i:000}_mask.png"), 40, 40);
        }
        var dataset = AnomalyDataset.Open(_root, "widget");
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, 4);
        var pre = new global::PromptAD.Clip.Imaging.ClipPreprocessor(config.Vision.ImageSize);
        var shots = dataset.TrainFiles.Take(2).ToList();
        var set = new TrainingSet("widget", "widget", ["damaged {}", "{} with spot"], [.. shots.Select(f => pre.Preprocess(f))], shots);
        using var trained = Trainer.Train(weights, set, new TrainOptions { Epochs = 2 }, cancellationToken: ct);
        string path = Path.Combine(_root, "widget.safetensors");
        trained.Save(path);
        using var model = global::PromptAD.Model.PromptAdModel.Load(path);

        using var detector = new Detector(weights, model, outputSize: 24, batchSize: 3);
        var seen = new List<EvaluationProgress>();
        var result = Evaluator.Evaluate(new DecodedImageSource(detector), dataset.TestSamples,
            new EvaluationOptions { Progress = new SyncProgress<EvaluationProgress>(seen.Add), CancellationToken = ct });
        Assert.Equal(dataset.TestSamples.Select(s => s.ImagePath), result.Images.Select(r => r.ImagePath));
        Assert.Equal([3, 4], seen.Select(p => p.Done));
        var m = result.Metrics;
        foreach (double v in new[] { m.ImageAuroc, m.ImageAupr, m.ImageF1Max, m.PixelAuroc, m.PixelAupro })
            Assert.InRange(v, 0, 1);

        // The streamed metrics equal the metric functions (checked against sklearn/SciPy goldens) applied to every
        // image scored on its own, with every mask loaded and resized (nearest) to the map.
        var pre2 = new global::PromptAD.Clip.Imaging.ClipPreprocessor(config.Vision.ImageSize);
        var one = dataset.TestSamples.Select(s => detector.ScoreImages([pre2.Preprocess(s.ImagePath)])[0]).ToList();
        var masks = dataset.TestSamples.Select(s => s.MaskPath is { } p ? MaskLoader.Load(p, 24, 24) : null).ToList();
        double[] scores = [.. one.Select(x => (double)x.Score)];
        bool[] labels = [.. dataset.TestSamples.Select(s => s.IsAnomalous)];
        Assert.Equal(global::PromptAD.Evaluation.ImageMetrics.Auroc(scores, labels), m.ImageAuroc, 12);
        Assert.Equal(global::PromptAD.Evaluation.ImageMetrics.AveragePrecision(scores, labels), m.ImageAupr, 12);
        Assert.Equal(global::PromptAD.Evaluation.ImageMetrics.F1Max(scores, labels), m.ImageF1Max, 12);
        Assert.Equal(global::PromptAD.Evaluation.PixelMetrics.Auroc([.. one.Select(x => x.PixelMap)], masks), m.PixelAuroc, 12);
        Assert.Equal(global::PromptAD.Evaluation.PixelMetrics.Aupro([.. one.Select(x => x.PixelMap)], masks), m.PixelAupro, 12);
    }

    private static void Png(string path, int w, int h, int seed, bool spot)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var rng = new Random(seed);
        using var img = new Image<Rgb24>(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                byte v = (byte)(100 + rng.Next(20));
                img[x, y] = spot && x > 20 && y > 20 ? new Rgb24(250, 10, 10) : new Rgb24(v, v, v);
            }
        img.SaveAsPng(path);
    }

    private static void Mask(string path, int w, int h)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var img = new Image<L8>(w, h);
        for (int y = 21; y < h; y++)
            for (int x = 21; x < w; x++) img[x, y] = new L8(255);
        img.SaveAsPng(path);
    }
}

internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
