using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Devices;
using PromptAD.Evaluation;
using PromptAD.Jobs;
using PromptAD.Kernels;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Scoring;
using PromptAD.Training;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench precision`: what a reduced GEMM precision changes end to end. One category is trained (1 shot, both
/// heads) and scored twice on the same device from the same random CLIP weights, once in FP32 and once in the chosen
/// precision; printed: the largest and mean image-score difference, the Spearman rank correlation of all pixel maps,
/// the image AUROC both ways, and each run's seconds.
/// Options: --data DIR (the category folder, required), --device cuda|emulated (default cuda), --emulator LIB (for
/// emulated), --precision tf32|bf16 (default bf16), --config NAME (default ViT-B-16-plus-240), --epochs N (default
/// 100), --test-images N (default all), --size S (pixel-map side, default 240), --shot NAME.
/// </summary>
public static class PrecisionBench
{
    private static readonly string[] Valued = ["--data", "--device", "--emulator", "--precision", "--config", "--epochs", "--test-images", "--size", "--shot"];

    /// <summary>One precision's outcome: per test image its score and pixel map, and the seconds spent.</summary>
    private sealed record Outcome(double[] Scores, float[] Pixels, double TrainSeconds, double ScoreSeconds);

    public static int Run(IReadOnlyList<string> args)
    {
        if (BenchArgs.Unknown(args, Valued, []) is { } unknown)
            throw new ArgumentException($"bench precision: unknown option '{unknown}'");
        string data = BenchArgs.String(args, "--data")
            ?? throw new ArgumentException("bench precision: --data <category folder> is required (a folder with train/good and test/<defect>, e.g. mvtec/bottle)");
        string device = BenchArgs.String(args, "--device") ?? "cuda";
        if (device is not ("cuda" or "emulated")) throw new ArgumentException($"bench precision: --device must be cuda or emulated, got '{device}'");
        var precision = GemmPrecisions.Parse(BenchArgs.String(args, "--precision") ?? "bf16");
        if (precision == GemmPrecision.Fp32) throw new ArgumentException("bench precision: --precision must be tf32 or bf16 (it is compared with fp32)");
        string? emulatorPath = BenchArgs.String(args, "--emulator");
        var emulator = emulatorPath is null ? null : new FileInfo(emulatorPath);
        int epochs = BenchArgs.Int(args, "--epochs", 100);
        int testImages = BenchArgs.Int(args, "--test-images", int.MaxValue);
        int size = BenchArgs.Int(args, "--size", 240);
        var config = ClipConfigs.Load(BenchArgs.String(args, "--config") ?? ClipConfigs.Default);
        string folder = Path.GetFullPath(data).TrimEnd(Path.DirectorySeparatorChar);
        string category = Path.GetFileName(folder);
        var dataset = AnomalyDataset.Open(Path.GetDirectoryName(folder)!, category);
        string? shot = BenchArgs.String(args, "--shot");
        var (shots, _) = ShotChoice.Select(dataset, 1, 0, null, shot is null ? null : [shot]);
        var samples = TestRunner.Subsample(dataset.TestSamples, testImages);
        var pre = new Clip.Imaging.ClipPreprocessor(config.Vision.ImageSize);
        var images = samples.Select(s => pre.Preprocess(s.ImagePath)).ToList();
        var labels = samples.Select(s => s.IsAnomalous).ToArray();
        Console.WriteLine($"precision bench: {category} 1-shot ({Path.GetFileName(shots[0])}), random {config.Name}, {epochs} epochs, "
            + $"{samples.Count} test images, maps {size}×{size}, {device}: fp32 against {precision.Name()}");

        var reference = Measure(GemmPrecision.Fp32);
        var reduced = Measure(precision);

        double largest = 0, sum = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            double d = Math.Abs(reference.Scores[i] - reduced.Scores[i]);
            largest = Math.Max(largest, d);
            sum += d;
        }
        double spearman = RankCorrelation.Spearman(reference.Pixels, reduced.Pixels);
        Console.WriteLine();
        Console.WriteLine($"{"",-34} {"fp32",10} {precision.Name(),10}");
        Console.WriteLine($"{"train seconds",-34} {reference.TrainSeconds,10:F2} {reduced.TrainSeconds,10:F2}");
        Console.WriteLine($"{"score seconds",-34} {reference.ScoreSeconds,10:F2} {reduced.ScoreSeconds,10:F2}");
        Console.WriteLine($"{"image AUROC %",-34} {Auroc(reference.Scores, labels),10:F2} {Auroc(reduced.Scores, labels),10:F2}");
        Console.WriteLine($"{"image score range",-34} {reference.Scores.Min(),10:F4} {reference.Scores.Max(),10:F4}");
        Console.WriteLine($"largest image-score difference     {largest:E3}");
        Console.WriteLine($"mean image-score difference        {sum / samples.Count:E3}");
        Console.WriteLine($"pixel-map Spearman correlation     {spearman:F6} ({reference.Pixels.Length} pixels)");
        return 0;

        Outcome Measure(GemmPrecision p)
        {
            using var backend = BackendChoice.CreateGpu(device, emulator, p);
            using var weights = ClipWeights.Random(config, backend, seed: 0);
            var prompts = PromptSource.Resolve(null);
            var set = new TrainingSet(category, prompts.ClassName(category), prompts.StatesFor(category), [.. shots.Select(f => pre.Preprocess(f))], shots);
            var clock = Stopwatch.StartNew();
            using var model = Trainer.Train(weights, set, new TrainOptions { Epochs = epochs });
            backend.Synchronize();
            double train = clock.Elapsed.TotalSeconds;
            clock.Restart();
            using var detector = new Detector(weights, model, size, batchSize: 8);
            var scored = detector.ScoreImages(images);
            double score = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"  {p.Name()}: trained in {train:F1} s, scored in {score:F1} s");
            return new([.. scored.Select(s => (double)s.Score)], [.. scored.SelectMany(s => s.PixelMap)], train, score);
        }
    }

    private static double Auroc(double[] scores, bool[] labels) =>
        labels.Distinct().Count() < 2 ? double.NaN : 100 * ImageMetrics.Auroc(scores, labels);
}
