using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Devices;
using PromptAD.Jobs;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Terminal;
using PromptAD.Training;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench e2e`: PromptAD end to end on one category of a dataset in the MVTec layout, with random CLIP
/// weights and 1 shot: seconds for the image-head training (shot encoding + epochs), the pixel-head training, and
/// scoring the test images (load, preprocess, encode, scores, maps, metrics), and test images per second.
/// Options: --data DIR (the category folder, required), --shot NAME (default: a seeded choice from train/good),
/// --config NAME (default ViT-B-16-plus-240), --epochs N (default 100), --test-images N (default: all),
/// --device cpu|cuda, --precision fp32|tf32|bf16 (cuda).
/// </summary>
public static class EndToEndBench
{
    private static readonly string[] Valued = ["--data", "--shot", "--config", "--epochs", "--test-images", "--device", "--precision"];

    public static int Run(IReadOnlyList<string> args)
    {
        if (BenchArgs.Unknown(args, Valued, []) is { } unknown)
        {
            Console.Error.WriteLine($"bench e2e: unknown option '{unknown}'");
            return 2;
        }
        if (BenchArgs.String(args, "--data") is not { } data)
        {
            Console.Error.WriteLine("bench e2e: --data <category folder> is required (a folder with train/good and test/<defect>, e.g. mvtec/bottle)");
            return 2;
        }
        var ours = Measure(data, args);
        Console.WriteLine();
        Console.WriteLine($"{"measure",-14} {"seconds",9}");
        foreach (var key in new[] { "image_head_s", "pixel_head_s", "test_s", "total_s" })
            Console.WriteLine($"{key,-14} {ours[key],9:F2}");
        Console.WriteLine($"{ours["test_images"]} test images: {ours["test_images"] / ours["test_s"]:F2} images/s");
        return 0;
    }

    /// <summary>Our seconds (image_head_s, pixel_head_s, test_s, total_s) and test_images on the category folder
    /// <paramref name="data"/>, for the suite's options --shot, --config, --epochs, --test-images and --device.</summary>
    public static Dictionary<string, double> Measure(string data, IReadOnlyList<string> args)
    {
        string? shot = BenchArgs.String(args, "--shot");
        int epochs = BenchArgs.Int(args, "--epochs", 100);
        int testImages = BenchArgs.Int(args, "--test-images", int.MaxValue);
        string device = BenchArgs.String(args, "--device") ?? "cpu";
        string precision = BenchArgs.String(args, "--precision") ?? "fp32";
        string root = Path.GetDirectoryName(Path.GetFullPath(data).TrimEnd(Path.DirectorySeparatorChar))!;
        string category = Path.GetFileName(Path.GetFullPath(data).TrimEnd(Path.DirectorySeparatorChar));
        var dataset = AnomalyDataset.Open(root, category);
        var config = ClipConfigs.Load(BenchArgs.String(args, "--config") ?? ClipConfigs.Default);
        using var backend = BackendChoice.Create(device, precision);

        var ours = new Dictionary<string, double>();
        using (var weights = ClipWeights.Random(config, backend, seed: 0))
        {
            var prompts = PromptSource.Resolve(null);
            var (files, _) = ShotChoice.Select(dataset, 1, 0, null, shot is null ? null : [shot]);
            Console.WriteLine($"e2e bench: {category} 1-shot ({Path.GetFileName(files[0])}), random {config.Name}, {epochs} epochs, backend {backend.Name}, {Environment.ProcessorCount} cores");
            var pre = new Clip.Imaging.ClipPreprocessor(config.Vision.ImageSize);
            var set = new TrainingSet(category, prompts.ClassName(category), prompts.StatesFor(category), [.. files.Select(f => pre.Preprocess(f))], files);
            var clock = Stopwatch.StartNew();
            double imageEnd = 0;
            var progress = new SyncProgress<TrainProgress>(p => { if (p.Head == PromptHead.Image && p.Epoch == p.Epochs) imageEnd = clock.Elapsed.TotalSeconds; });
            using var model = Trainer.Train(weights, set, new TrainOptions { Epochs = epochs }, progress: progress);
            backend.Synchronize();
            double trainEnd = clock.Elapsed.TotalSeconds;
            ours["image_head_s"] = imageEnd;
            ours["pixel_head_s"] = trainEnd - imageEnd;
            using var detector = new Detector(weights, model);
            string scratch = Directory.CreateTempSubdirectory("promptad-bench-").FullName;
            try
            {
                var tested = TestRunner.Run(detector, dataset, new TestRunOptions
                {
                    OutDir = scratch, Strict = true, Heatmaps = false, TrainSeconds = trainEnd, ProgressWriter = TextWriter.Null, MaxImages = testImages,
                });
                ours["test_s"] = tested.Metrics.TestSeconds;
                ours["test_images"] = tested.Images.Count;
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        ours["total_s"] = ours["image_head_s"] + ours["pixel_head_s"] + ours["test_s"];
        return ours;
    }
}
