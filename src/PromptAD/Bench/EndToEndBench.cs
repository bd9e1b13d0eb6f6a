using System.Diagnostics;
using System.Globalization;
using PromptAD.Cli;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Pipeline;
using PromptAD.Training;

namespace PromptAD.Bench;

/// <summary>
/// End-to-end PromptAD on MVTec "bottle" with random ViT-B-16-plus-240 weights, 1 shot (131.png): seconds for the
/// image-head training (shot encoding + epochs), the pixel-head training, and scoring the test images (load,
/// preprocess, encode, scores, 400×400 maps, metrics); then the same work in the PyTorch reference
/// (tests/reference/promptad_reference.py --bench, float32, same cores), side by side as ratios.
/// Full command: <c>promptad bench e2e</c> (100 epochs, all 83 test images); options: --data DIR (default
/// ../shared/data/mvtec/bottle found upwards), --shot NAME, --epochs N, --test-images N, --device cpu|cuda,
/// --no-torch, --python PATH, --reference PATH (the script); see <see cref="PyTorchReference"/>.
/// </summary>
public static class EndToEndBench
{
    public static int Run(IReadOnlyList<string> args)
    {
        string data = BenchArgs.String(args, "--data") ?? FindBottle() ?? throw new DatasetException("bench e2e: ../shared/data/mvtec/bottle not found; pass --data <bottle folder>");
        string shot = BenchArgs.String(args, "--shot") ?? "131.png";
        int epochs = BenchArgs.Int(args, "--epochs", 100);
        int testImages = BenchArgs.Int(args, "--test-images", int.MaxValue);
        string device = BenchArgs.String(args, "--device") ?? "cpu";
        string root = Path.GetDirectoryName(Path.GetFullPath(data).TrimEnd(Path.DirectorySeparatorChar))!;
        string category = Path.GetFileName(Path.GetFullPath(data).TrimEnd(Path.DirectorySeparatorChar));
        var dataset = AnomalyDataset.Open(root, category);
        var config = ClipConfigs.Load(ClipConfigs.Default);
        using var backend = BackendChoice.Create(device);
        Console.WriteLine($"e2e bench: {category} 1-shot ({shot}), random {config.Name}, {epochs} epochs, backend {backend.Name}, {Environment.ProcessorCount} cores");

        var ours = new Dictionary<string, double>();
        using (var weights = ClipWeights.Random(config, backend, seed: 0))
        {
            var prompts = PromptSource.Resolve(null);
            var (files, _) = ShotChoice.Select(dataset, 1, 0, null, [shot]);
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
        // Two references: the SPEC's pipeline (shot features once, text up to the last end token — what we compute),
        // and the published method's costs (all 77 text positions, shot features recomputed every epoch).
        string[] common = ["--bench", "--data", data, "--shot", shot, "--epochs", epochs.ToString(CultureInfo.InvariantCulture),
            "--test-images", (testImages == int.MaxValue ? 0 : testImages).ToString(CultureInfo.InvariantCulture)];
        Dictionary<string, double>? spec = null, published = null;
        if (!BenchArgs.Flag(args, "--no-torch"))
        {
            if (!PyTorchReference.TryRun("promptad_reference.py", common, args, out spec, out string why)) PyTorchReference.ReportUnavailable(why);
            else if (!PyTorchReference.TryRun("promptad_reference.py", [.. common, "--as-published"], args, out published, out why)) PyTorchReference.ReportUnavailable(why);
        }
        foreach (var r in new[] { spec, published })
            if (r is not null) r["total_s"] = r.GetValueOrDefault("image_head_s") + r.GetValueOrDefault("pixel_head_s") + r.GetValueOrDefault("test_s");

        Console.WriteLine();
        Console.WriteLine($"{"measure",-14} {"ours",9} {"pytorch",9} {"ratio",7} {"pytorch as published",21} {"ratio",7}");
        foreach (var key in new[] { "image_head_s", "pixel_head_s", "test_s", "total_s" })
        {
            static (string Value, string Ratio) Column(Dictionary<string, double>? r, string key, double ours) =>
                r is not null && r.TryGetValue(key, out double t)
                    ? (t.ToString("F2", CultureInfo.InvariantCulture), (t / ours).ToString("F2", CultureInfo.InvariantCulture) + "x")
                    : ("-", "-");
            var (specValue, specRatio) = Column(spec, key, ours[key]);
            var (pubValue, pubRatio) = Column(published, key, ours[key]);
            Console.WriteLine($"{key,-14} {ours[key],9:F2} {specValue,9} {specRatio,7} {pubValue,21} {pubRatio,7}");
        }
        Console.WriteLine($"(seconds; {ours["test_images"]} test images; ratio = pytorch/ours, > 1 means we are faster. \"as published\":");
        Console.WriteLine(" all 77 text positions and shot features recomputed every epoch, as the authors' code, minus per-epoch testing)");
        return 0;
    }

    private static string? FindBottle() =>
        PyTorchReference.FindUp(Path.Combine("shared", "data", "mvtec", "bottle")) ?? PyTorchReference.FindUp(Path.Combine("..", "shared", "data", "mvtec", "bottle"));
}
