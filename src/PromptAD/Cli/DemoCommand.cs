using System.CommandLine;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Jobs;
using PromptAD.Model;

namespace PromptAD.Cli;

/// <summary>
/// `promptad demo`: the whole pipeline in seconds with nothing to download. Generates a synthetic MVTec-layout
/// dataset and a tiny RANDOM-weight CLIP ("tiny-test" backbone: 32×32 input, 64-token vocabulary that the prompt
/// tokens are folded into, see TokenIdMapping), then runs the real train → test → calibrate → predict verbs on them
/// (calibrate on the good training images that were not shots, as a user would on spare good parts). It shows the
/// plumbing and the output files; the scores mean nothing, and the banner says so.
/// </summary>
internal static class DemoCommand
{
    public const string Backbone = "tiny-test";

    /// <summary>Map size of test, calibrate and predict (calibrate's threshold holds at the size it was measured at).</summary>
    private const int MapSize = 192;

    /// <summary>The false-alarm rate the demo calibrates for: its 6 spare good images can promise no rate below 1/7.</summary>
    private const double CalibrationFpr = 0.2;

    public static Command Create()
    {
        var output = new Option<DirectoryInfo?>("--out") { Description = "folder for the demo's data, weights, model and results (default: a new temporary folder)" };
        var epochs = CommonOptions.Epochs(defaultValue: 20);
        var device = BackendChoice.CreateOptions();
        var command = new Command("demo", "Runs train → test → calibrate → predict end to end on a generated dataset with a tiny random-weight model (no downloads; the scores are meaningless).")
        {
            output, epochs,
        };
        device.AddTo(command);
        command.SetAction(p => Run(p.GetValue(output), p.GetValue(epochs), device.Value(p)));
        return command;
    }

    internal static int Run(DirectoryInfo? outDir, int epochs, Pipeline.ComputeDevice device)
    {
        OptionRanges.Check(epochs, "--epochs", OptionRanges.Epochs);
        if (outDir is not null) Files.OutputGuard.NewFolder(outDir.FullName, "--out");
        string root = outDir?.FullName ?? Directory.CreateTempSubdirectory("promptad-demo-").FullName;
        Directory.CreateDirectory(root);
        Banner();
        string data = Path.Combine(root, "data");
        SyntheticDataset.Generate(data);
        string weights = Path.Combine(root, "random-tiny-test.safetensors");
        using (var w = ClipWeights.Random(ClipConfigs.Load(Backbone), Tensors.Cpu.CpuBackend.Instance, seed: 0)) w.SaveSafetensors(weights);
        Console.WriteLine($"generated: dataset {data} (category '{SyntheticDataset.Category}'), random weights {weights}");

        string model = Path.Combine(root, "model.safetensors");
        string test = Path.Combine(root, "test");
        string predict = Path.Combine(root, "predict");
        Step("1/4 train");
        int code = TrainCommand.Run(new TrainArgs
        {
            Weights = new FileInfo(weights), Backbone = Backbone, Data = new DirectoryInfo(data), Category = SyntheticDataset.Category, Shots = 2,
            Options = new TrainOptions { Epochs = epochs }, Out = new FileInfo(model), Device = device,
        });
        if (code != 0) return code;
        Step("2/4 test");
        TestCommand.Evaluate(new TestArgs
        {
            Model = new FileInfo(model), Weights = new FileInfo(weights), Data = new DirectoryInfo(data), Out = new DirectoryInfo(test),
            Strict = true, Size = MapSize, Device = device,
        });

        // The yes/no column's threshold from good parts only, never from the test labels: the training images that
        // were not shots, at the map size predict uses.
        Step("3/4 calibrate");
        string[] shots;
        using (var trained = Model.PromptAdModel.Load(model)) shots = [.. trained.Metadata.ShotFiles.Select(f => Path.GetFullPath(Path.Combine(data, f)))];
        var spareGood = Directory.GetFiles(Path.Combine(data, SyntheticDataset.Category, "train", AnomalyDataset.GoodFolder))
            .Where(f => !shots.Contains(Path.GetFullPath(f))).Order(StringComparer.Ordinal).ToList();
        code = CalibrateCommand.Run(new FileInfo(model), new FileInfo(weights), null, spareGood, new DirectoryInfo(data), CalibrationFpr, null, null,
            MapSize, 8, device);
        if (code != 0) return code;
        Step("4/4 predict");
        string defects = Path.Combine(data, SyntheticDataset.Category, "test", SyntheticDataset.DefectType);
        string goods = Path.Combine(data, SyntheticDataset.Category, "test", AnomalyDataset.GoodFolder);
        code = PredictCommand.Run(new PredictArgs
        {
            Images = [goods, defects], Model = new FileInfo(model), Weights = new FileInfo(weights), Out = new DirectoryInfo(predict),
            Strict = true, Size = MapSize, Device = device,
        });
        if (code != 0) return code;

        Console.WriteLine();
        Banner();
        Console.WriteLine("demo outputs:");
        Console.WriteLine($"  model     {model}");
        Console.WriteLine($"  metrics   {Path.Combine(test, TestRunner.MetricsJson)} (and metrics.csv, scores.csv)");
        Console.WriteLine($"  heatmaps  {Path.Combine(test, "heatmaps")} (image + map | ground truth)");
        Console.WriteLine($"  predict   {Path.Combine(predict, "scores.csv")} and {Path.Combine(predict, "heatmaps")}");
        Console.WriteLine("next: real weights and data — see README (promptad train / test / run).");
        Console.WriteLine();
        Console.WriteLine("open the test report in a browser:");
        ReportCommand.PrintLocation(Path.Combine(test, Results.Report.TestReport.FileName));
        return 0;
    }

    private static void Banner()
    {
        const string line = "##########################################################################";
        Console.WriteLine(line);
        Console.WriteLine("#  DEMO: RANDOM WEIGHTS on a SYNTHETIC dataset. The scores, metrics and  #");
        Console.WriteLine("#  heatmaps MEAN NOTHING; this only shows the pipeline and its outputs.  #");
        Console.WriteLine(line);
    }

    private static void Step(string name)
    {
        Console.WriteLine();
        Console.WriteLine($"== demo {name} ==");
    }
}
