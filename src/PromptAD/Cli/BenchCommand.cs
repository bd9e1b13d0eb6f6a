using System.CommandLine;
using PromptAD.Bench;
using PromptAD.Clip;
using PromptAD.Pipeline;
using PromptAD.Scoring;

namespace PromptAD.Cli;

/// <summary>
/// `promptad bench SUITE`: how fast this machine runs the engine: GFLOP/s and images/s, against the machine's peak
/// where it is known (measured FMA peak on the CPU, the device's theoretical peaks on a GPU). Each suite is a
/// subcommand whose options are defined here once, so `promptad bench SUITE --help` lists them and the parser refuses
/// any other; the suites themselves (<c>PromptAD.Bench</c>) take the typed values.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks this machine: GFLOP/s and images/s of the engine, against the machine's peak where known. "
            + "Without a suite: gemm and clip at their defaults; `promptad bench SUITE --help` lists a suite's options.")
        {
            Gemm(), Clip(), Gpu(), EndToEnd(), Precision(), Serve(), All(),
        };
        command.SetAction(_ => RunAll());
        return command;
    }

    /// <summary>`bench all` and `bench` alone: the CPU suites at their defaults.</summary>
    private static int RunAll() => Math.Max(GemmBench.Run(Environment.ProcessorCount, 1.0, 1), RunClip(new ClipBench.Options(ClipConfigs.Default, 1, false), ComputeDevice.Cpu));

    private static Command All()
    {
        var command = new Command("all", "gemm and clip at their defaults, on the CPU");
        command.SetAction(_ => RunAll());
        return command;
    }

    private static Command Gemm()
    {
        var threads = Count("--threads", "threads of the GEMMs and of the peak measurement", Environment.ProcessorCount);
        var minTime = new Option<double>("--min-time") { Description = "seconds spent per shape (0 or more)", DefaultValueFactory = _ => 1.0 };
        minTime.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is var v && !(v >= 0 && double.IsFinite(v))) r.AddError($"--min-time must be a finite number of seconds, 0 or more, got {v}");
        });
        var rounds = Count("--rounds", "rounds over all shapes; each shape's best round is kept (for shared machines)", 1);
        var command = new Command("gemm", "CPU SGEMM at CLIP's linear-layer and attention shapes: GFLOP/s and share of this CPU's measured FP32 peak.")
        {
            threads, minTime, rounds,
        };
        command.SetAction(p => GemmBench.Run(p.GetValue(threads), p.GetValue(minTime), p.GetValue(rounds)));
        return command;
    }

    private static Command Clip()
    {
        var config = Config();
        var reps = Count("--reps", "timed repetitions after one warm-up (the fastest is kept)", 1);
        var byOp = new Option<bool>("--by-op")
        {
            Description = "also where the image encoder's time goes on the CPU, per op kind at batch 1 and 8 (milliseconds per image, share, GFLOP/s)",
        };
        var device = BackendChoice.CreateOptions();
        var command = new Command("clip", "Random-weight CLIP encoders: images/s at batch 1 and 8, text prompts/s forward and forward+backward.")
        {
            config, reps, byOp,
        };
        device.AddTo(command);
        command.Validators.Add(r =>
        {
            if (r.GetValue(byOp) && device.Device.NameIn(r) != DeviceKind.Cpu.Name())
                r.AddError("--by-op times each op as it runs, which only the CPU backend does (a GPU queues its ops): drop --device, or use `promptad profile` on a GPU");
        });
        command.SetAction(p => RunClip(new ClipBench.Options(p.GetValue(config)!, p.GetValue(reps), p.GetValue(byOp)), device.Value(p)));
        return command;
    }

    private static int RunClip(ClipBench.Options options, ComputeDevice device) => OnBackend(device, backend => ClipBench.Run(options, backend));

    /// <summary>Runs a suite on the device's backend, disposed after it.</summary>
    private static int OnBackend(ComputeDevice device, Func<Tensors.IBackend, int> suite)
    {
        using var backend = BackendChoice.Create(device);
        return suite(backend);
    }

    private static Command Gpu()
    {
        var reps = Count("--reps", "timed repetitions per op", 20);
        var command = new Command("gpu", "CUDA kernels' GB/s and TFLOP/s against the device's theoretical peaks; one ViT-B-16-plus-240 block at batch 1 and 32 "
            + "(skipped without a CUDA device).")
        {
            reps,
        };
        command.SetAction(p => GpuBench.Run(p.GetValue(reps)));
        return command;
    }

    private static Command EndToEnd()
    {
        var data = CategoryFolder();
        var shot = Shot();
        var config = Config();
        var epochs = CommonOptions.Epochs();
        var testImages = TestImages();
        var device = BackendChoice.CreateOptions();
        var command = new Command("e2e", "PromptAD end to end on one category, random CLIP weights, 1 shot: seconds of image-head training, pixel-head "
            + "training and testing, and test images/s.")
        {
            data, shot, config, epochs, testImages,
        };
        device.AddTo(command);
        command.SetAction(p => OnBackend(device.Value(p), backend => EndToEndBench.Run(new EndToEndBench.Options(p.GetValue(data)!.FullName,
            p.GetValue(shot), p.GetValue(config)!, p.GetValue(epochs), p.GetValue(testImages) ?? int.MaxValue), backend)));
        return command;
    }

    private static Command Precision()
    {
        var data = CategoryFolder();
        var device = BackendChoice.CreateGpuOptions(defaultPrecision: "bf16", reducedOnly: true);
        var config = Config();
        var epochs = CommonOptions.Epochs();
        var testImages = TestImages();
        var size = CommonOptions.OutputSize($"side of the pixel maps compared ({OptionRanges.Text(OptionRanges.Size)})", 240);
        var shot = Shot();
        var command = new Command("precision", "fp32 against tf32 or bf16 GEMMs end to end on one category, same random weights and device: largest "
            + "image-score difference, pixel-map rank correlation, image AUROC both ways.")
        {
            data, config, epochs, testImages, size, shot,
        };
        device.AddTo(command);
        command.SetAction(p =>
        {
            var chosen = device.Value(p);
            return PrecisionBench.Run(new PrecisionBench.Options(p.GetValue(data)!.FullName, chosen.Precision, p.GetValue(config)!, p.GetValue(epochs),
                p.GetValue(testImages) ?? int.MaxValue, p.GetValue(size), p.GetValue(shot)), chosen.Name, precision => BackendChoice.CreateGpu(chosen with { Precision = precision }));
        });
        return command;
    }

    private static Command Serve()
    {
        var config = Config();
        var requests = Count("--requests", "requests per phase", 24);
        var clients = Count("--clients", "concurrent clients of the batched phase", 8);
        var batch = CommonOptions.Batch("most images the service scores together");
        var size = CommonOptions.OutputSize($"side of the anomaly maps ({OptionRanges.Text(OptionRanges.Size)})", AnomalyScorer.DefaultOutputSize);
        var device = BackendChoice.CreateOptions();
        var command = new Command("serve", "The HTTP scoring service over loopback (random weights): images/s and p50/p99 latency at batch 1 and with "
            + "concurrent clients batched.")
        {
            config, requests, clients, batch, size,
        };
        device.AddTo(command);
        command.SetAction(p => OnBackend(device.Value(p), backend => Bench.ServeBench.Run(new Bench.ServeBench.Options(p.GetValue(config)!,
            p.GetValue(requests), p.GetValue(clients), p.GetValue(batch), p.GetValue(size)), backend)));
        return command;
    }

    private static Option<string> Config()
    {
        var option = new Option<string>("--config")
        {
            Description = "CLIP configuration, with random weights",
            DefaultValueFactory = _ => ClipConfigs.Default,
        };
        option.AcceptOnlyFromAmong([.. ClipConfigs.Names]);
        return option;
    }

    private static Option<int> Count(string name, string description, int defaultValue) =>
        new Option<int>(name) { Description = $"{description} (1–100000)", DefaultValueFactory = _ => defaultValue }.InRange((1, 100_000));

    private static Option<DirectoryInfo> CategoryFolder() => new("--data")
    {
        Description = "the category folder: train/good and test/<defect>, e.g. ../shared/data/mvtec/bottle",
        Required = true,
    };

    private static Option<string?> Shot() => new("--shot") { Description = "the shot's file name in train/good (default: a seeded choice)" };

    private static Option<int?> TestImages() =>
        new Option<int?>("--test-images") { Description = "score at most this many test images, both classes kept (default: all)" }.InRange((1, int.MaxValue));
}
