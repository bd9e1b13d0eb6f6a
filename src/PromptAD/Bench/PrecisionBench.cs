using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Evaluation;
using PromptAD.Jobs;
using PromptAD.Kernels;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Scoring;
using PromptAD.Tensors;
using PromptAD.Training;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench precision`: what a reduced GEMM precision changes end to end. One category is trained (1 shot, both
/// heads) and scored twice on the same device from the same random CLIP weights, once in FP32 and once in the chosen
/// precision; printed: the largest and mean image-score difference, the Spearman rank correlation of all pixel maps,
/// the image AUROC both ways, and each run's seconds.
/// </summary>
public static class PrecisionBench
{
    /// <param name="Data">the category folder (train/good, test/&lt;defect&gt;)</param>
    /// <param name="Precision">the reduced precision compared with fp32 (tf32 or bf16)</param>
    /// <param name="Config">the CLIP configuration (random weights)</param>
    /// <param name="Epochs">training epochs per head</param>
    /// <param name="TestImages">most test images scored (both classes kept)</param>
    /// <param name="Size">side of the pixel maps compared</param>
    /// <param name="Shot">the shot's file name in train/good (null: the seeded choice)</param>
    public sealed record Options(string Data, GemmPrecision Precision, string Config, int Epochs, int TestImages, int Size, string? Shot);

    /// <summary>One precision's outcome: per test image its score and pixel map, and the seconds spent.</summary>
    private sealed record Outcome(double[] Scores, float[] Pixels, double TrainSeconds, double ScoreSeconds);

    /// <param name="device">the device's name, for the heading</param>
    /// <param name="open">the GPU backend in a precision (the caller's device; disposed here)</param>
    public static int Run(Options options, string device, Func<GemmPrecision, IBackend> open)
    {
        var precision = options.Precision;
        if (precision == GemmPrecision.Fp32) throw new ArgumentException("the precision compared with fp32 must be tf32 or bf16");
        var config = ClipConfigs.Load(options.Config);
        string folder = Path.GetFullPath(options.Data).TrimEnd(Path.DirectorySeparatorChar);
        string category = Path.GetFileName(folder);
        var dataset = AnomalyDataset.Open(Path.GetDirectoryName(folder)!, category);
        var shots = BenchShots.OneOf(dataset, options.Shot);
        var samples = TestRunner.Subsample(dataset.TestSamples, options.TestImages);
        var labels = samples.Select(s => s.IsAnomalous).ToArray();
        Console.WriteLine($"precision bench: {category} 1-shot ({Path.GetFileName(shots.Names[0])}), random {config.Name}, {options.Epochs} epochs, "
            + $"{samples.Count} test images, maps {options.Size}×{options.Size}, {device}: fp32 against {precision.Name()}");

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
            using var backend = open(p);
            using var trained = RandomWeightsModel.Train(backend, config, shots, new TrainOptions { Epochs = options.Epochs });
            var images = trained.Images.DecodeAll([.. samples.Select(s => s.ImagePath)]);
            var clock = Stopwatch.StartNew();
            using var detector = new Detector(trained.Weights, trained.Model, options.Size, batchSize: 8);
            var scored = detector.ScoreImages(images);
            double score = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"  {p.Name()}: trained in {trained.TrainSeconds:F1} s, scored in {score:F1} s");
            return new([.. scored.Select(s => (double)s.Score)], [.. scored.SelectMany(s => s.PixelMap)], trained.TrainSeconds, score);
        }
    }

    private static double Auroc(double[] scores, bool[] labels) =>
        labels.Distinct().Count() < 2 ? double.NaN : 100 * ImageMetrics.Auroc(scores, labels);
}
