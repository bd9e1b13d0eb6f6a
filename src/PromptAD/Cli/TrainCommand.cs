using System.CommandLine;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Model;
using PromptAD.Output;
using PromptAD.Training;

namespace PromptAD.Cli;

/// <summary>`promptad train`: learns one category's prompts from k normal images and writes the model file.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var weights = CommonOptions.Weights();
        var backbone = CommonOptions.Backbone();
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
        var prompts = CommonOptions.Prompts();
        var output = new Option<FileInfo>("--out") { Description = "model file to write (.safetensors)", Required = true };
        var device = BackendChoice.CreateOption();
        var command = new Command("train", "Learns PromptAD's prompts for one category from k normal images; writes the model (learned vectors, prototypes, memory banks, metadata).")
        {
            weights, backbone, data, category, shots, seed, shotsFile, shotsDir, shotNames, epochs, init, logitScale, prompts, output, device,
        };
        command.SetAction(p =>
        {
            var options = new TrainOptions
            {
                Epochs = p.GetValue(epochs), Seed = p.GetValue(seed),
                LogitScale = CommonOptions.ParseLogitScale(p.GetValue(logitScale)!),
            };
            string? file = p.GetValue(shotsFile)?.FullName;
            if (p.GetValue(shotsDir) is { } dir)
            {
                if (file is not null) throw new ArgumentException("give --shots-file or --shots-dir, not both");
                file = ShotChoice.FileIn(dir.FullName, p.GetValue(category)!);
            }
            return Run(p.GetValue(weights)!, p.GetValue(backbone)!, p.GetValue(data)!, p.GetValue(category)!, p.GetValue(shots), file,
                p.GetValue(shotNames), options, p.GetValue(init), p.GetValue(prompts), p.GetValue(output)!, p.GetValue(device)!);
        });
        return command;
    }

    internal static int Run(FileInfo weightsFile, string backbone, DirectoryInfo data, string category, int k, string? shotsFile,
        IReadOnlyList<string>? shotNames, TrainOptions options, FileInfo? initFile, string? promptsFile, FileInfo output, string device)
    {
        CommonOptions.CheckEpochs(options.Epochs);
        CommonOptions.CheckExists(weightsFile, "Weights");
        OutputGuard.File(output.FullName, "--out", new("weights file", weightsFile.FullName), new("dataset", data.FullName),
            new("--init model", initFile?.FullName), new("prompts file", promptsFile), new("shots file", shotsFile));
        var dataset = AnomalyDataset.Open(data.FullName, category, allowMissingMasks: true);
        var (files, how) = ShotChoice.Select(dataset, k, options.Seed, shotsFile, shotNames);
        var prompts = PromptSource.Resolve(promptsFile);
        var config = ClipConfigs.Load(backbone);
        string sha = FileHash.Sha256(weightsFile.FullName);
        using var init = initFile is null ? null : PromptAdModel.Load(initFile.FullName);
        using var backend = BackendChoice.Create(device);
        using var weights = ClipWeights.Load(weightsFile.FullName, config, backend);

        Console.WriteLine($"train {category}: {k} shot(s), {how}: {string.Join(", ", files.Select(Path.GetFileName))}");
        Console.WriteLine($"prompts: {prompts.Describe}");
        var outcome = TrainRunner.Train(weights, dataset, files, options, prompts, sha, init);
        using var model = outcome.Model;
        model.Save(output.FullName);
        Console.WriteLine();
        TrainRunner.LossTable(outcome).Write(Console.Out);
        Console.WriteLine($"model: {output.FullName} ({config.Name}, {outcome.Seconds:F1} s)");
        return 0;
    }
}
