using System.Globalization;
using PromptAD.Bench;

namespace PromptAD.DevBench;

/// <summary>
/// End-to-end PromptAD on MVTec "bottle" with random ViT-B-16-plus-240 weights, 1 shot (131.png), timed by
/// <see cref="EndToEndBench"/>; then the same work in the PyTorch reference (tests/reference/promptad_reference.py
/// --bench, float32, same cores), side by side as ratios. Options: --data DIR (default ../shared/data/mvtec/bottle
/// found upwards), --shot NAME, --epochs N, --test-images N, --device cpu|cuda, --no-torch, --python PATH,
/// --reference PATH.
/// </summary>
internal static class EndToEndComparison
{
    public static int Run(IReadOnlyList<string> args)
    {
        string? data = BenchArgs.String(args, "--data") ?? FindBottle();
        if (data is null)
        {
            Console.Error.WriteLine("e2e: ../shared/data/mvtec/bottle not found; pass --data <bottle folder>");
            return 2;
        }
        string shot = BenchArgs.String(args, "--shot") ?? "131.png";
        int epochs = BenchArgs.Int(args, "--epochs", 100);
        int testImages = BenchArgs.Int(args, "--test-images", int.MaxValue);
        // The default shot here is the reference's.
        Dictionary<string, double> ours;
        using (var backend = Cli.BackendChoice.Create(DevBenchDevice.Of(args)))
            ours = EndToEndBench.Measure(new EndToEndBench.Options(data, shot, BenchArgs.String(args, "--config") ?? Clip.ClipConfigs.Default, epochs, testImages), backend);

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
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"one image at batch 1, as predict and serve score it (decode, preprocess, encode, score; warm): ours {ours["predict_b1_ms"]:F0} ms"));
        return 0;
    }

    private static string? FindBottle() =>
        PyTorchReference.FindUp(Path.Combine("shared", "data", "mvtec", "bottle")) ?? PyTorchReference.FindUp(Path.Combine("..", "shared", "data", "mvtec", "bottle"));
}
