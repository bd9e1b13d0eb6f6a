using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Evaluation;
using PromptAD.Output;
using PromptAD.Pipeline;
using PromptAD.Tensors;
using PromptAD.Training;

namespace PromptAD.Cli;

/// <summary>
/// `promptad run`: the paper's protocol over categories × shot counts × seeds, as one resumable job. Each run trains
/// (final epoch kept, nothing selected on test data), tests, and writes runs/&lt;category&gt;/k&lt;k&gt;_seed&lt;s&gt;/metrics.json
/// last; a run whose metrics.json exists is skipped, so an interrupted job continues where it stopped. Shots: seed 0
/// uses the category's shots file from --shots-dir when given (the authors' selection); every other seed, and seed 0
/// without --shots-dir, uses the seeded random choice of FewShot.SelectRandom, recorded in each model. Results:
/// results.md and results.csv (category × k, mean ± std over seeds), metrics.csv (every run).
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var weights = CommonOptions.Weights();
        var backbone = CommonOptions.Backbone();
        var renamed = CommonOptions.RenamedModel();
        var dataset = new Option<string>("--dataset") { Description = "dataset kind (names the defaults; both use the MVTec layout)", DefaultValueFactory = _ => "mvtec" };
        dataset.AcceptOnlyFromAmong("mvtec", "visa");
        var data = CommonOptions.Data();
        var categories = new Option<string?>("--categories") { Description = "comma-separated categories (default: every folder under --data with train/good)" };
        var shots = new Option<string>("--shots") { Description = $"comma-separated shot counts (each {OptionRanges.Text(OptionRanges.Shots)})", DefaultValueFactory = _ => "1,2,4" };
        var seeds = new Option<int>("--seeds") { Description = $"number of seeds per (category, k): 0 … n−1 ({OptionRanges.Text(OptionRanges.Seeds)})", DefaultValueFactory = _ => 5 };
        var shotsDir = new Option<DirectoryInfo?>("--shots-dir") { Description = "folder of the authors' shots files (<category>.txt), used for seed 0, e.g. ../shared/data/fewshot/mvtec" };
        var epochs = CommonOptions.Epochs();
        var logitScale = CommonOptions.LogitScale();
        var prompts = CommonOptions.Prompts();
        var heatmaps = new Option<bool>("--heatmaps") { Description = "also write every run's heatmaps (slow, large)" };
        var keepModels = new Option<bool>("--keep-models") { Description = "keep every run's model.safetensors" };
        var size = CommonOptions.OutputSize();
        var batch = CommonOptions.Batch();
        var output = new Option<DirectoryInfo>("--out") { Description = "results folder (re-run with the same --out to resume)", Required = true };
        var device = BackendChoice.CreateOption();
        var command = new Command("run", "The paper's protocol: every category × k × seed trained and tested, results table in the paper's shape; resumes an interrupted job.")
        {
            weights, backbone, renamed, dataset, data, categories, shots, seeds, shotsDir, epochs, logitScale, prompts, heatmaps, keepModels, size, batch, output, device,
        };
        command.SetAction(p => CommonOptions.RejectRenamedModel(p.GetValue(renamed)) ?? Run(new Job(p.GetValue(weights)!, p.GetValue(backbone)!, p.GetValue(data)!, p.GetValue(categories), ParseList(p.GetValue(shots)!, "--shots"),
            p.GetValue(seeds), p.GetValue(shotsDir), p.GetValue(epochs), CommonOptions.ParseLogitScale(p.GetValue(logitScale)!),
            p.GetValue(prompts), p.GetValue(heatmaps), p.GetValue(keepModels), p.GetValue(size), p.GetValue(batch), p.GetValue(output)!, p.GetValue(device)!)));
        return command;
    }

    internal sealed record Job(FileInfo Weights, string Backbone, DirectoryInfo Data, string? Categories, IReadOnlyList<int> Shots, int Seeds,
        DirectoryInfo? ShotsDir, int Epochs, LogitScaleMode LogitScale, string? Prompts, bool Heatmaps, bool KeepModels, int Size, int Batch,
        DirectoryInfo Out, string Device);

    internal static int Run(Job job)
    {
        OptionRanges.Check(job.Seeds, "--seeds", OptionRanges.Seeds);
        OptionRanges.Check(job.Size, "--size", OptionRanges.Size);
        OptionRanges.Check(job.Batch, "--batch", OptionRanges.Batch);
        CommonOptions.CheckEpochs(job.Epochs);
        CommonOptions.CheckExists(job.Weights, "Weights");
        OutputGuard.Folder(job.Out.FullName, "--out", RunJobParameters.Written, new("weights file", job.Weights.FullName), new("dataset", job.Data.FullName),
            new("shots folder", job.ShotsDir?.FullName), new("prompts file", job.Prompts));
        if (!job.Data.Exists) throw new DatasetException($"Dataset root '{job.Data.FullName}' does not exist.");
        var categories = job.Categories is { } list ? ParseNames(list) : DiscoverCategories(job.Data.FullName);
        // Open every category up front: a layout problem in the last one should not surface hours in.
        var datasets = categories.Select(c => AnomalyDataset.Open(job.Data.FullName, c)).ToList();
        var prompts = PromptSource.Resolve(job.Prompts);
        Console.WriteLine($"prompts: {prompts.Describe}");

        var plan = (from d in datasets from k in job.Shots from s in Enumerable.Range(0, job.Seeds) select (Dataset: d, K: k, Seed: s)).ToList();
        // Every run's shots up front: `--shots 1,1000` must fail before hours of k = 1 training, not after.
        foreach (var (ds, k, seed) in plan) ShotChoice.Select(ds, k, seed, ShotsFile(job, ds, seed), null);
        using var folder = ResultsFolder.Open(job.Out.FullName, "run");
        ResultsFolder.CheckJob(job.Out.FullName, RunJobParameters.Of(job, prompts, out string jobSha), "metrics.csv");
        var all = new List<RunMetrics>();
        int skipped = 0;
        IBackend? backend = null;
        ClipWeights? weights = null;
        string? sha = jobSha;
        try
        {
            for (int i = 0; i < plan.Count; i++)
            {
                var (ds, k, seed) = plan[i];
                string dir = Path.Combine(job.Out.FullName, "runs", ds.Category, $"k{k}_seed{seed}");
                string metricsFile = Path.Combine(dir, TestRunner.MetricsJson);
                string head = $"[{i + 1}/{plan.Count}] {ds.Category} k={k} seed {seed}";
                if (File.Exists(metricsFile))
                {
                    all.Add(ReadMetrics(metricsFile));
                    skipped++;
                    Console.WriteLine($"{head}: done earlier, skipped ({metricsFile})");
                    continue;
                }
                backend ??= BackendChoice.Create(job.Device);
                weights ??= ClipWeights.Load(job.Weights.FullName, ClipConfigs.Load(job.Backbone), backend);
                var (files, how) = ShotChoice.Select(ds, k, seed, ShotsFile(job, ds, seed), null);
                Console.WriteLine($"{head}: shots {how}: {string.Join(", ", files.Select(Path.GetFileName))}");
                var options = new TrainOptions { Epochs = job.Epochs, Seed = seed, LogitScale = job.LogitScale };
                var trained = TrainRunner.Train(weights, ds, files, options, prompts, sha);
                using var model = trained.Model;
                if (job.KeepModels) model.Save(Path.Combine(dir, "model.safetensors"));
                using var detector = new Detector(weights, model, job.Size, job.Batch);
                var tested = TestRunner.Run(detector, ds, new TestRunOptions { OutDir = dir, Heatmaps = job.Heatmaps, TrainSeconds = trained.Seconds });
                var m = tested.Metrics;
                Console.WriteLine($"{head}: image AUROC {Fmt.F(m.Metrics.ImageAuroc * 100, 1)}, pixel AUROC {Fmt.F(m.Metrics.PixelAuroc * 100, 1)}");
                all.Add(m);
                WriteTables(job.Out.FullName, all); // after every run, so the tables are current even if the job stops
            }
        }
        finally
        {
            weights?.Dispose();
            backend?.Dispose(); // after the weights: their device memory belongs to it
        }

        WriteTables(job.Out.FullName, all);
        Console.WriteLine();
        var table = new SummaryTable(["category", .. job.Shots.SelectMany(k => new[] { $"{k}-shot img", $"{k}-shot pix" })]);
        var img = ResultsTable.Build(all, ResultMetric.ImageAuroc);
        var pix = ResultsTable.Build(all, ResultMetric.PixelAuroc);
        for (int row = 0; row <= img.Categories.Count; row++)
        {
            var cells = new List<string> { row < img.Categories.Count ? img.Categories[row] : ResultsTable.MeanRowName };
            for (int s = 0; s < img.Shots.Count; s++) cells.AddRange([ResultsTable.FormatCell(img[row, s]), ResultsTable.FormatCell(pix[row, s])]);
            table.AddRow([.. cells]);
        }
        table.Write(Console.Out);
        Console.WriteLine($"{plan.Count} run(s): {plan.Count - skipped} done now, {skipped} done earlier (resumed)");
        Console.WriteLine($"results: {Path.Combine(job.Out.FullName, "results.md")}, results.csv, metrics.csv, runs/<category>/k<k>_seed<s>/");
        return 0;
    }

    private static string? ShotsFile(Job job, AnomalyDataset ds, int seed) =>
        seed == 0 && job.ShotsDir is not null ? ShotChoice.FileIn(job.ShotsDir.FullName, ds.Category) : null;

    private static void WriteTables(string outDir, List<RunMetrics> all)
    {
        ResultsTable.WriteMarkdown(Path.Combine(outDir, "results.md"), all);
        ResultsTable.WriteCsv(Path.Combine(outDir, "results.csv"), all);
        ResultsWriter.WriteMetricsCsv(Path.Combine(outDir, "metrics.csv"), all);
    }

    /// <summary>Reads a finished run's metrics.json back (values ×100, null = not computed).</summary>
    internal static RunMetrics ReadMetrics(string path)
    {
        try { return MetricsJson.Parse(File.ReadAllText(path)); }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new DatasetException($"'{path}' is not a metrics file ({e.Message}); delete it to redo that run.", e);
        }
    }

    private static List<string> DiscoverCategories(string root)
    {
        var found = Directory.GetDirectories(root).Where(d => Directory.Exists(Path.Combine(d, "train", AnomalyDataset.GoodFolder)))
            .Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToList();
        if (found.Count == 0) throw new DatasetException($"No category under '{root}' (expected <category>/train/good folders).");
        return found;
    }

    private static List<string> ParseNames(string list)
    {
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        if (names.Count == 0) throw new ArgumentException("--categories is empty");
        return names;
    }

    private static List<int> ParseList(string list, string name)
    {
        var values = new List<int>();
        foreach (var t in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            values.Add(int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : throw new ArgumentException($"{name}: '{t}' is not a positive integer"));
        if (values.Count == 0) throw new ArgumentException($"{name} is empty");
        return [.. values.Distinct().Order()];
    }
}
