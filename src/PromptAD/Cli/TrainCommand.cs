using System.CommandLine;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Files;
using PromptAD.Jobs;
using PromptAD.Model;
using PromptAD.Training;

namespace PromptAD.Cli;

/// <summary>What `promptad train` was asked to do.</summary>
internal sealed record TrainArgs
{
    public required FileInfo Weights { get; init; }
    /// <summary>Null: recognised from the weights file.</summary>
    public required string? Backbone { get; init; }
    public required DirectoryInfo Data { get; init; }
    public required string Category { get; init; }

    /// <summary>k: the number of normal training images.</summary>
    public required int Shots { get; init; }

    /// <summary>The authors' shots file (indices), or null.</summary>
    public string? ShotsFile { get; init; }

    /// <summary>train/good file names to learn from, or null.</summary>
    public IReadOnlyList<string>? ShotNames { get; init; }

    public TrainOptions Options { get; init; } = new();

    /// <summary>A model whose learned vectors to start from, or null.</summary>
    public FileInfo? Init { get; init; }

    /// <summary>prompts.json, or null for the usual places.</summary>
    public string? Prompts { get; init; }

    public required FileInfo Out { get; init; }
    public Pipeline.ComputeDevice Device { get; init; } = Pipeline.ComputeDevice.Cpu;
}

/// <summary>`promptad train`: learns one category's prompts from k normal images and writes the model file.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var weights = CommonOptions.Weights();
        var backbone = CommonOptions.Backbone();
        var renamed = CommonOptions.RenamedModel();
        var data = CommonOptions.Data();
        var category = new Option<string>("--category") { Description = "category folder under --data (e.g. bottle)", Required = true };
        var shots = new Option<int>("--shots") { Description = $"k: number of normal training images ({OptionRanges.Text(OptionRanges.Shots)})", Required = true };
        var seed = new Option<int>("--seed") { Description = "seed of the prompt initialization and, without a shots file, of the shot choice", DefaultValueFactory = _ => 0 };
        var shotsFile = new Option<FileInfo?>("--shots-file") { Description = "the authors' shots file (#k: indices into the name-sorted train/good list)" };
        var shotsDir = new Option<DirectoryInfo?>("--shots-dir") { Description = "folder of shots files, <category>.txt is used (e.g. ../shared/data/fewshot/mvtec)" };
        var shotNames = new Option<string[]>("--shot-names") { Description = "the k train/good file names to learn from (e.g. 131.png)", AllowMultipleArgumentsPerToken = true };
        var epochs = CommonOptions.Epochs();
        var init = new Option<FileInfo?>("--init") { Description = "start from this model's learned vectors (same backbone and prompt sizes)" };
        var logitScale = CommonOptions.LogitScale();
        var midFeatures = AsPublishedOptions.MidFeatures();
        var pixelMargin = AsPublishedOptions.PixelMargin();
        var prompts = CommonOptions.Prompts();
        var output = new Option<FileInfo>("--out") { Description = "model file to write (.safetensors)", Required = true };
        var device = BackendChoice.CreateOptions();
        var command = new Command("train", "Learns PromptAD's prompts for one category from k normal images; writes the model (learned vectors, prototypes, memory banks, metadata).")
        {
            weights, backbone, renamed, data, category, shots, seed, shotsFile, shotsDir, shotNames, epochs, init, logitScale, prompts, output, midFeatures, pixelMargin,
        };
        device.AddTo(command);
        command.SetAction(p =>
        {
            CommonOptions.RejectRenamedModel(p.GetValue(renamed));
            var options = new TrainOptions
            {
                Epochs = p.GetValue(epochs), Seed = p.GetValue(seed),
                LogitScale = CommonOptions.ParseLogitScale(p.GetValue(logitScale)!),
                MidFeatures = midFeatures.Value(p), PixelMargin = pixelMargin.Value(p),
            };
            string? file = p.GetValue(shotsFile)?.FullName;
            if (p.GetValue(shotsDir) is { } dir)
            {
                if (file is not null) throw new ArgumentException("give --shots-file or --shots-dir, not both");
                file = ShotChoice.FileIn(dir.FullName, p.GetValue(category)!);
            }
            return Run(new TrainArgs
            {
                Weights = p.GetValue(weights)!, Backbone = p.GetValue(backbone), Data = p.GetValue(data)!, Category = p.GetValue(category)!,
                Shots = p.GetValue(shots), ShotsFile = file, ShotNames = p.GetValue(shotNames), Options = options, Init = p.GetValue(init),
                Prompts = p.GetValue(prompts), Out = p.GetValue(output)!, Device = device.Value(p),
            });
        });
        return command;
    }

    internal static int Run(TrainArgs args)
    {
        var (weightsFile, category, options, output) = (args.Weights, args.Category, args.Options, args.Out);
        CommonOptions.CheckEpochs(options.Epochs);
        AnomalyDataset.CheckCategoryName(category, "--category");
        CommonOptions.CheckExists(weightsFile, "Weights");
        OutputGuard.File(output.FullName, "--out", new("weights file", weightsFile.FullName), new("dataset", args.Data.FullName),
            new("--init model", args.Init?.FullName), new("prompts file", args.Prompts), new("shots file", args.ShotsFile));
        var dataset = AnomalyDataset.Open(args.Data.FullName, category, allowMissingMasks: true);
        OptionRanges.Check(args.Shots, "--shots", OptionRanges.Shots);
        var (files, how) = ShotChoice.Select(dataset, args.Shots, options.Seed, args.ShotsFile, args.ShotNames);
        var prompts = PromptSource.Resolve(args.Prompts);
        var config = CommonOptions.BackboneFor(args.Backbone, weightsFile);
        using var init = args.Init is null ? null : PromptAdModel.Load(args.Init.FullName);
        using var backend = BackendChoice.Create(args.Device);
        var (hashedWeights, sha) = HashedWeights.Load(weightsFile, config, backend);
        using var weights = hashedWeights;

        Console.WriteLine($"train {category}: {args.Shots} shot(s), {how}: {string.Join(", ", files.Select(Path.GetFileName))}");
        Console.WriteLine($"prompts: {prompts.Describe}");
        TrainOutcome outcome;
        try { outcome = TrainRunner.Train(weights, dataset, files, options, prompts, sha, init); }
        catch (InitModelMismatchException e) { throw new ArgumentException($"--init '{args.Init!.FullName}': {e.Message}", e); }
        using var model = outcome.Model;
        model.Save(output.FullName);
        Console.WriteLine();
        TrainRunner.LossTable(outcome).Write(Console.Out);
        Console.WriteLine($"model: {output.FullName} ({config.Name}, {outcome.Seconds:F1} s)");
        return 0;
    }
}
