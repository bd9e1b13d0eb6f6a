using PromptAD.Clip;
using PromptAD.Data;
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
        var result = Evaluator.Evaluate(detector, dataset, new SyncProgress<EvaluationProgress>(seen.Add), ct);
        Assert.Equal(4, result.Samples.Count);
        Assert.Equal([3, 4], seen.Select(p => p.Done));
        Assert.All(result.Samples, s => Assert.Equal(24 * 24, s.Score.PixelMap.Length));
        var m = result.Metrics;
        foreach (double v in new[] { m.ImageAuroc, m.ImageAupr, m.ImageF1Max, m.PixelAuroc, m.PixelAupro })
            Assert.InRange(v, 0, 100);
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
