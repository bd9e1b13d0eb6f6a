using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Jobs;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Terminal;
using PromptAD.Tensors;
using PromptAD.Training;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench e2e`: PromptAD end to end on one category of a dataset in the MVTec layout, with random CLIP
/// weights and 1 shot: seconds for the image-head training (shot encoding + epochs), the pixel-head training, and
/// scoring the test images (load, preprocess, encode, scores, maps, metrics), and test images per second.
/// </summary>
public static class EndToEndBench
{
    /// <param name="Data">the category folder (train/good, test/&lt;defect&gt;)</param>
    /// <param name="Shot">the shot's file name in train/good (null: the seeded choice)</param>
    /// <param name="Config">the CLIP configuration (random weights)</param>
    /// <param name="Epochs">training epochs per head</param>
    /// <param name="TestImages">most test images scored (both classes kept)</param>
    public sealed record Options(string Data, string? Shot, string Config, int Epochs, int TestImages = int.MaxValue);

    public static int Run(Options options, IBackend backend)
    {
        var ours = Measure(options, backend);
        Console.WriteLine();
        Console.WriteLine($"{"measure",-14} {"seconds",9}");
        foreach (var key in new[] { "image_head_s", "pixel_head_s", "test_s", "total_s" })
            Console.WriteLine($"{key,-14} {ours[key],9:F2}");
        Console.WriteLine($"{ours["test_images"]} test images: {ours["test_images"] / ours["test_s"]:F2} images/s; one image at batch 1 (predict, serve): {ours["predict_b1_ms"]:F0} ms");
        return 0;
    }

    /// <summary>Our seconds (image_head_s, pixel_head_s, test_s, total_s) and test_images on <paramref name="backend"/>.</summary>
    public static Dictionary<string, double> Measure(Options options, IBackend backend)
    {
        string folder = Path.GetFullPath(options.Data).TrimEnd(Path.DirectorySeparatorChar);
        string category = Path.GetFileName(folder);
        var dataset = AnomalyDataset.Open(Path.GetDirectoryName(folder)!, category);
        var config = ClipConfigs.Load(options.Config);
        var shots = BenchShots.OneOf(dataset, options.Shot);
        Console.WriteLine($"e2e bench: {category} 1-shot ({Path.GetFileName(shots.Names[0])}), random {config.Name}, {options.Epochs} epochs, backend {backend.Name}, {Environment.ProcessorCount} cores");

        var ours = new Dictionary<string, double>();
        using (var trained = RandomWeightsModel.Train(backend, config, shots, new TrainOptions { Epochs = options.Epochs }))
        {
            ours["image_head_s"] = trained.ImageHeadSeconds;
            ours["pixel_head_s"] = trained.TrainSeconds - trained.ImageHeadSeconds;
            using var detector = new Detector(trained.Weights, trained.Model);
            string scratch = Directory.CreateTempSubdirectory("promptad-bench-").FullName;
            try
            {
                var tested = TestRunner.Run(detector, dataset, new TestRunOptions
                {
                    OutDir = scratch, Strict = true, Heatmaps = false, TrainSeconds = trained.TrainSeconds, ProgressWriter = TextWriter.Null, MaxImages = options.TestImages,
                });
                ours["test_s"] = tested.Metrics.TestSeconds;
                ours["test_images"] = tested.Images.Count;
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }

            ours["predict_b1_ms"] = SingleImageMilliseconds(trained, dataset);
        }

        ours["total_s"] = ours["image_head_s"] + ours["pixel_head_s"] + ours["test_s"];
        return ours;
    }

    /// <summary>
    /// What one predict or serve request at batch 1 waits for, warm: one test image decoded, preprocessed, encoded and
    /// scored through the path predict uses; the median over five images after one to warm up.
    /// </summary>
    private static double SingleImageMilliseconds(RandomWeightsModel trained, AnomalyDataset dataset)
    {
        using var single = new Detector(trained.Weights, trained.Model, batchSize: 1);
        var source = new DecodedImageSource(single);
        var times = new List<double>();
        foreach (var sample in dataset.TestSamples.Take(6))
        {
            var clock = Stopwatch.StartNew();
            foreach (var _ in source.Score([sample], null, CancellationToken.None)) { }
            single.Backend.Synchronize();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return ServeBench.Percentile([.. times.Skip(1).Order()], 0.5);
    }
}
