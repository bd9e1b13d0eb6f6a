using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Evaluation;
using PromptAD.Files;
using PromptAD.Jobs;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Results;
using PromptAD.Results.Report;
using PromptAD.Tensors;
using PromptAD.Terminal;

namespace PromptAD.Cli;

/// <summary>
/// `promptad run`: the paper's protocol over categories × shot counts × seeds, as one resumable job. Each run trains
/// (final epoch kept, nothing selected on test data), tests, and writes runs/&lt;category&gt;/k&lt;k&gt;_seed&lt;s&gt;/metrics.json
/// last; a run whose metrics.json exists is skipped, so an interrupted job continues where it stopped. Shots: seed 0
/// uses the category's shots file from --shots-dir when given (the authors' selection); every other seed, and seed 0
/// without --shots-dir, uses the seeded random choice of FewShot.SelectRandom, recorded in each model. Results:
/// results.md and results.csv (category × k, mean ± std over seeds), metrics.csv (every run), report.html (the tables,
/// the seeds' spread, links to each run's report).
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
        var pixelMargin = AsPublishedOptions.PixelMargin();
        var prompts = CommonOptions.Prompts();
        var heatmaps = new Option<bool>("--heatmaps") { Description = "also write every run's heatmaps (slow, large)" };
        var keepModels = new Option<bool>("--keep-models") { Description = "keep every run's model.safetensors" };
        var size = CommonOptions.OutputSize();
        var batch = CommonOptions.Batch();
        var output = new Option<DirectoryInfo>("--out") { Description = "results folder (re-run with the same --out to resume)", Required = true };
        var device = BackendChoice.CreateOptions();
        var cacheLimit = new Option<int>("--cache-limit") { Description = "MiB of host memory for a category's encoded image features (≈ 2.2 MB per image for ViT-B-16-plus-240); above it they go to a temporary file", DefaultValueFactory = _ => 4096 };
        var shard = new Option<string?>("--shard") { Description = "i/N: do only the i-th (0-based) of N disjoint parts of the job, whole categories (category c goes to part c mod N); same results layout" };
        var maxBatch = new Option<int>("--max-batch") { Description = "runs of a category trained together, their prompts in one text-encoder batch per epoch (bounds the activations' memory)", DefaultValueFactory = _ => 4 };
        var merge = new Option<DirectoryInfo[]>("--merge") { Description = "build the tables in --out from finished shards' folders (copies their runs/ into --out); nothing is trained", AllowMultipleArgumentsPerToken = true };
        // Not required with --merge (checked in Run).
        weights.Required = false;
        data.Required = false;
        var command = new Command("run", "The paper's protocol: every category × k × seed trained and tested, results table in the paper's shape; resumes an interrupted job.")
        {
            weights, backbone, renamed, dataset, data, categories, shots, seeds, shotsDir, epochs, logitScale, prompts, heatmaps, keepModels, size, batch, output,
            cacheLimit, maxBatch, shard, merge, pixelMargin,
        };
        device.AddTo(command);
        command.SetAction(p =>
        {
            if (CommonOptions.RejectRenamedModel(p.GetValue(renamed)) is { } renamedError) return renamedError;
            var mergeDirs = p.GetValue(merge) ?? [];
            if (mergeDirs.Length > 0) return Merge(mergeDirs, p.GetValue(output)!);
            var weightsFile = p.GetValue(weights) ?? throw new ArgumentException("run: --weights is required (only --merge goes without it)");
            return Run(new Job(weightsFile, CommonOptions.BackboneFor(p.GetValue(backbone), weightsFile).Name, p.GetValue(data) ?? throw new ArgumentException("run: --data is required (only --merge goes without it)"),
                p.GetValue(categories), ParseList(p.GetValue(shots)!, "--shots"),
                p.GetValue(seeds), p.GetValue(shotsDir), p.GetValue(epochs), CommonOptions.ParseLogitScale(p.GetValue(logitScale)!),
                p.GetValue(prompts), p.GetValue(heatmaps), p.GetValue(keepModels), p.GetValue(size), p.GetValue(batch), p.GetValue(output)!, device.Value(p))
            {
                PixelMargin = pixelMargin.Value(p),
                CacheLimitMiB = p.GetValue(cacheLimit),
                MaxBatch = p.GetValue(maxBatch),
                Shard = p.GetValue(shard) is { } sh ? JobShard.Parse(sh) : null,
            });
        });
        return command;
    }

    internal sealed record Job(FileInfo Weights, string Backbone, DirectoryInfo Data, string? Categories, IReadOnlyList<int> Shots, int Seeds,
        DirectoryInfo? ShotsDir, int Epochs, LogitScaleMode LogitScale, string? Prompts, bool Heatmaps, bool KeepModels, int Size, int Batch,
        DirectoryInfo Out, Pipeline.ComputeDevice Device)
    {
        /// <summary>How the pixel head's margin term is computed (SPEC §5.3): recorded in job.json, since it changes the numbers.</summary>
        public PixelMarginMode PixelMargin { get; init; } = PixelMarginMode.AsPublished;

        /// <summary>Host memory for one category's cached image features before they go to a temporary file.</summary>
        public int CacheLimitMiB { get; init; } = 4096;

        /// <summary>Runs of a category trained together (one text-encoder batch per head and epoch).</summary>
        public int MaxBatch { get; init; } = 4;

        /// <summary>Only this part of the categories (null: all).</summary>
        public JobShard? Shard { get; init; }
    }

    internal static int Run(Job job)
    {
        OptionRanges.Check(job.Seeds, "--seeds", OptionRanges.Seeds);
        OptionRanges.Check(job.Size, "--size", OptionRanges.Size);
        OptionRanges.Check(job.Batch, "--batch", OptionRanges.Batch);
        CommonOptions.CheckPositive(job.MaxBatch, "--max-batch");
        if (job.CacheLimitMiB < 0) throw new ArgumentException($"--cache-limit: {job.CacheLimitMiB} MiB is negative");
        CommonOptions.CheckEpochs(job.Epochs);
        BackendChoice.CheckPrecision(job.Device);
        CommonOptions.CheckExists(job.Weights, "Weights");
        OutputGuard.Folder(job.Out.FullName, "--out", RunJobParameters.Written, new("weights file", job.Weights.FullName), new("dataset", job.Data.FullName),
            new("shots folder", job.ShotsDir?.FullName), new("prompts file", job.Prompts));
        if (!job.Data.Exists) throw new DatasetException($"Dataset root '{job.Data.FullName}' does not exist.");
        var categories = job.Categories is { } list ? ParseNames(list) : DiscoverCategories(job.Data.FullName);
        if (job.Shard is { } part)
        {
            categories = part.Select(categories);
            Console.WriteLine($"shard {part}: {(categories.Count == 0 ? "no category" : string.Join(", ", categories))}");
        }
        // Open every category up front: a layout problem in the last one should not surface hours in.
        var datasets = categories.Select(c => AnomalyDataset.Open(job.Data.FullName, c)).ToList();
        var prompts = PromptSource.Resolve(job.Prompts);
        Console.WriteLine($"prompts: {prompts.Describe}");

        var plan = (from d in datasets from k in job.Shots from s in Enumerable.Range(0, job.Seeds) select (Dataset: d, K: k, Seed: s)).ToList();
        // Every run's shots up front: `--shots 1,1000` must fail before hours of k = 1 training, not after.
        foreach (int k in job.Shots) OptionRanges.Check(k, "--shots", OptionRanges.Shots);
        var shots = plan.Select(r => ShotChoice.Select(r.Dataset, r.K, r.Seed, ShotsFile(job, r.Dataset, r.Seed), null)).ToList();
        using var folder = ResultsFolder.Open(job.Out.FullName, "run");
        ResultsFolder.CheckJob(job.Out.FullName, RunJobParameters.Of(job, prompts, out string jobSha), "metrics.csv",
            RunJobParameters.AbsentMeans, [.. datasets.Select(RunJobParameters.DatasetIdentity)]);
        var all = new List<RunMetrics>();
        var stages = new StageTimes();
        int skipped = 0;
        IBackend? backend = null;
        ClipWeights? weights = null;
        try
        {
            // Category by category: its images are decoded and encoded once, then every (k, seed) run of it trains from
            // its shots' cached features and scores the cached test features.
            foreach (var group in plan.Select((run, index) => (run, index)).GroupBy(r => r.run.Dataset))
            {
                var ds = group.Key;
                var pending = new List<(int Index, int K, int Seed, string Dir, IReadOnlyList<string> Shots, string How)>();
                foreach (var ((_, k, seed), i) in group)
                {
                    string dir = Path.Combine(job.Out.FullName, "runs", ds.Category, $"k{k}_seed{seed}");
                    string metricsFile = Path.Combine(dir, TestRunner.MetricsJson);
                    if (File.Exists(metricsFile))
                    {
                        all.Add(ReadMetrics(metricsFile));
                        skipped++;
                        Console.WriteLine($"{Head(i)}: done earlier, skipped ({metricsFile})");
                        continue;
                    }
                    var (files, how) = shots[i];
                    pending.Add((i, k, seed, dir, files, how));
                }
                if (pending.Count == 0) continue;

                backend ??= BackendChoice.Create(job.Device);
                weights ??= ClipWeights.Load(job.Weights.FullName, ClipConfigs.Load(job.Backbone), backend);
                var paths = pending.SelectMany(r => r.Shots).Concat(ds.TestSamples.Select(t => t.ImagePath)).Distinct().ToList();
                using var cache = BuildCache(weights, ds.Category, paths, job);
                var masks = new MaskCache(job.Size); // decoded, resized and labelled once for all the category's runs
                CachedFeatureSource.CheckMasks(cache, masks, ds.TestSamples);
                stages.Decode += cache.DecodeSeconds;
                stages.Encode += cache.EncodeSeconds;

                foreach (var batch in pending.Chunk(job.MaxBatch))
                {
                    foreach (var run in batch) Console.WriteLine($"{Head(run.Index)}: shots {run.How}: {string.Join(", ", run.Shots.Select(Path.GetFileName))}");
                    var shotFeatures = new List<ImageFeatures>(batch.Length);
                    IReadOnlyList<TrainOutcome> outcomes;
                    try
                    {
                        foreach (var run in batch) shotFeatures.Add(cache.Load(backend, [.. run.Shots.Select(cache.IndexOf)]));
                        outcomes = TrainRunner.TrainTogether(weights, ds, [.. batch.Select((run, j) => (run.Shots,
                            new TrainOptions { Epochs = job.Epochs, Seed = run.Seed, LogitScale = job.LogitScale, PixelMargin = job.PixelMargin }, shotFeatures[j]))], prompts, jobSha);
                    }
                    finally
                    {
                        foreach (var f in shotFeatures) f.Dispose();
                    }
                    stages.Train += outcomes.Sum(o => o.Seconds);
                    foreach (var ((i, _, _, dir, _, _), trained) in batch.Zip(outcomes))
                    {
                        using var model = trained.Model;
                        if (job.KeepModels) model.Save(Path.Combine(dir, "model.safetensors"));
                        using var detector = new Detector(weights, model, job.Size, job.Batch);
                        var source = new CachedFeatureSource(detector, cache);
                        var tested = TestRunner.Run(source, ds, new TestRunOptions { OutDir = dir, Heatmaps = job.Heatmaps, TrainSeconds = trained.Seconds, Masks = masks });
                        // The rest of the test time: masks, metrics, result files (and heatmaps when asked).
                        stages.Score += source.ScoreSeconds;
                        stages.Metrics += tested.Metrics.TestSeconds - source.ScoreSeconds;
                        stages.Runs++;
                        var m = tested.Metrics;
                        Console.WriteLine($"{Head(i)}: image AUROC {Fmt.F(m.Metrics.ImageAuroc * 100, 1)}, pixel AUROC {Fmt.F(m.Metrics.PixelAuroc * 100, 1)}");
                        all.Add(m);
                        WriteTables(job.Out.FullName, all); // after every run, so the tables are current even if the job stops
                    }
                }
            }
        }
        finally
        {
            weights?.Dispose();
            backend?.Dispose(); // after the weights: their device memory belongs to it
        }

        string Head(int i) => $"[{i + 1}/{plan.Count}] {plan[i].Dataset.Category} k={plan[i].K} seed {plan[i].Seed}";

        // A shard's folder may be shared with the other shards': its tables cover every finished run there.
        if (job.Shard is { } finished)
        {
            all = [.. FinishedRuns(job.Out.FullName).Select(ReadMetrics)];
            ResultsFolder.Record(job.Out.FullName, RunJobParameters.ShardPrefix + finished, "done");
        }
        WriteTables(job.Out.FullName, all);
        PrintTable(job.Shots, all);
        Console.WriteLine($"{plan.Count} run(s): {plan.Count - skipped} done now, {skipped} done earlier (resumed)");
        if (plan.Count > skipped) Console.WriteLine($"time per stage: {stages}");
        Console.WriteLine($"results: {Path.Combine(job.Out.FullName, "results.md")}, results.csv, metrics.csv, runs/<category>/k<k>_seed<s>/");
        ReportCommand.PrintLocation(Path.Combine(job.Out.FullName, TestReport.FileName));
        return 0;
    }

    /// <summary>The category's shots and test images decoded and encoded once, with a progress bar.</summary>
    private static FeatureCache BuildCache(ClipWeights weights, string category, List<string> paths, Job job)
    {
        using var bar = new ConsoleProgress($"encode {category}", paths.Count);
        // run trains with the default options' mid-level features; the cache holds the same.
        var cache = FeatureCache.Build(weights, new TrainOptions().MidFeatures, paths, job.Batch, (long)job.CacheLimitMiB << 20, bar.Advance);
        bar.Complete();
        if (cache.OnDisk)
            Console.WriteLine($"{category}: {paths.Count} images' features ({FeatureCache.BytesPerImage(weights.Config) * paths.Count >> 20} MiB) " +
                $"exceed --cache-limit {job.CacheLimitMiB} MiB: kept in a temporary file");
        return cache;
    }

    /// <summary>
    /// `run --merge DIR…`: copies the finished runs (runs/&lt;category&gt;/k&lt;k&gt;_seed&lt;s&gt;/) of shards' folders
    /// into <paramref name="output"/> (a run already there is kept) and writes the tables over every finished run there.
    /// </summary>
    internal static int Merge(IReadOnlyList<DirectoryInfo> shards, DirectoryInfo output)
    {
        string outResolved = Clip.IO.FileKind.Resolved(output.FullName);
        if (shards.FirstOrDefault(s => Clip.IO.FileKind.Resolved(s.FullName) == outResolved || Clip.IO.FileKind.SameFile(s.FullName, output.FullName)) is { } same)
            throw new ArgumentException($"--out '{output.FullName}' is the --merge folder '{same.FullName}'; merge into a new folder (the shards' folders stay as they are)");
        // A shard still being written would give a partial table that looks complete.
        foreach (var shard in shards) ResultsFolderLock.ThrowIfHeld(shard.FullName);
        Directory.CreateDirectory(output.FullName);
        using var folder = ResultsFolder.Open(output.FullName, "run --merge");
        MergeJobFile(shards, output.FullName);
        int copied = 0;
        foreach (var shard in shards)
        {
            string runs = Path.Combine(shard.FullName, "runs");
            if (!Directory.Exists(runs)) throw new DatasetException($"--merge: '{shard.FullName}' has no runs/ folder (not a run's results folder).");
            foreach (string metrics in FinishedRuns(shard.FullName))
            {
                string runDir = Path.GetDirectoryName(metrics)!;
                string target = Path.Combine(output.FullName, Path.GetRelativePath(shard.FullName, runDir));
                if (File.Exists(Path.Combine(target, TestRunner.MetricsJson))) continue;
                CopyRun(runDir, target);
                copied++;
            }
        }
        var all = FinishedRuns(output.FullName).Select(ReadMetrics).ToList();
        if (all.Count == 0) throw new DatasetException($"--merge: no finished run (runs/<category>/<run>/{TestRunner.MetricsJson}) in {string.Join(", ", shards.Select(s => s.FullName))}.");
        WriteTables(output.FullName, all);
        PrintTable([.. all.Select(m => m.Shots).Distinct().Order()], all);
        Console.WriteLine($"{all.Count} run(s) in {output.FullName} ({copied} copied from {shards.Count} folder(s))");
        Console.WriteLine($"results: {Path.Combine(output.FullName, "results.md")}, results.csv, metrics.csv");
        ReportCommand.PrintLocation(Path.Combine(output.FullName, TestReport.FileName));
        return 0;
    }

    /// <summary>
    /// Shards of one job record the same parameters (job.json); the merged folder gets them too, so that rerunning the
    /// job over it resumes instead of refusing a folder whose parameters nothing records. Their dataset identities must
    /// agree where they share a category, and every shard the job was split into must be there and finished: a
    /// missing one would leave its categories out of a table that looks complete.
    /// </summary>
    private static void MergeJobFile(IReadOnlyList<DirectoryInfo> shards, string output)
    {
        Dictionary<string, string>? fixedParameters = null;
        string? from = null;
        var growing = new Dictionary<string, (string Value, string From)>(StringComparer.Ordinal);
        static bool Grows(string key) => key.StartsWith(RunJobParameters.DatasetPrefix, StringComparison.Ordinal) || key.StartsWith(RunJobParameters.ShardPrefix, StringComparison.Ordinal);
        void Collect(Dictionary<string, string> entries, string path)
        {
            var fixedHere = entries.Where(e => !Grows(e.Key)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
            if (fixedParameters is null) (fixedParameters, from) = (fixedHere, path);
            else if (fixedHere.Count != fixedParameters.Count || fixedHere.Any(e => !fixedParameters.TryGetValue(e.Key, out var v) || v != e.Value))
                throw new DatasetException($"--merge: '{path}' records other job parameters than '{from}'; only shards of one job can be merged.");
            foreach (var (key, value) in entries.Where(e => Grows(e.Key)))
            {
                if (growing.TryGetValue(key, out var seen) && seen.Value != value)
                    throw new DatasetException($"--merge: '{path}' and '{seen.From}' were made on other images ({key}); only shards of one job can be merged.");
                growing.TryAdd(key, (value, path));
            }
        }
        foreach (var shard in shards)
        {
            string path = Path.Combine(shard.FullName, ResultsFolder.JobFile);
            if (!File.Exists(path)) throw new DatasetException($"--merge: '{shard.FullName}' has no {ResultsFolder.JobFile} (not the results folder of a run).");
            Collect(ResultsFolder.ReadJob(path), path);
        }
        CheckEveryShard([.. growing.Keys]);
        string target = Path.Combine(output, ResultsFolder.JobFile);
        if (File.Exists(target))
        {
            try { Collect(ResultsFolder.ReadJob(target), target); }
            catch (DatasetException e) { throw new DatasetException($"--merge: --out '{output}' holds results of another job: {e.Message}", e); }
        }
        ResultsFolder.WriteJob(target, [.. fixedParameters!, .. growing.Select(g => new KeyValuePair<string, string>(g.Key, g.Value.Value))]);
    }

    /// <summary>The "shard i/N" entries of the merged folders: one N, and every i of 0 … N−1.</summary>
    private static void CheckEveryShard(IReadOnlyList<string> keys)
    {
        var done = keys.Where(k => k.StartsWith(RunJobParameters.ShardPrefix, StringComparison.Ordinal))
            .Select(k => JobShard.Parse(k[RunJobParameters.ShardPrefix.Length..])).ToList();
        if (done.Count == 0) return; // folders of unsharded jobs
        if (done.Select(s => s.Count).Distinct().Count() > 1)
            throw new DatasetException($"--merge: the folders hold shards of jobs split differently ({string.Join(", ", done.Select(s => s.ToString()).Order(StringComparer.Ordinal))}).");
        int n = done[0].Count;
        var missing = Enumerable.Range(0, n).Where(i => !done.Any(s => s.Index == i)).Select(i => $"{i}/{n}").ToList();
        if (missing.Count > 0)
            throw new DatasetException($"--merge: shard {string.Join(", ", missing)} of the job is missing (its folder not given, or the shard has not finished); "
                + "give every shard's folder once each has finished.");
    }

    /// <summary>metrics.json of every finished run under &lt;dir&gt;/runs/&lt;category&gt;/&lt;run&gt;/, in name order.</summary>
    internal static IEnumerable<string> FinishedRuns(string dir)
    {
        string runs = Path.Combine(dir, "runs");
        if (!Directory.Exists(runs)) return [];
        return Directory.GetDirectories(runs).Order(StringComparer.Ordinal)
            .SelectMany(c => Directory.GetDirectories(c).Order(StringComparer.Ordinal))
            .Select(r => Path.Combine(r, TestRunner.MetricsJson)).Where(File.Exists);
    }

    /// <summary>Copies one run's folder; metrics.json last, so an interrupted merge never leaves a half-copied run
    /// that looks finished.</summary>
    private static void CopyRun(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories).OrderBy(f => Path.GetFileName(f) == TestRunner.MetricsJson))
        {
            string dest = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            string temp = dest + ".partial";
            File.Copy(file, temp, overwrite: true);
            File.Move(temp, dest, overwrite: true);
        }
    }

    private static void PrintTable(IReadOnlyList<int> shots, List<RunMetrics> all)
    {
        Console.WriteLine();
        var table = new SummaryTable(["category", .. shots.SelectMany(k => new[] { $"{k}-shot img", $"{k}-shot pix" })]);
        var img = ResultsTable.Build(all, ResultMetric.ImageAuroc);
        var pix = ResultsTable.Build(all, ResultMetric.PixelAuroc);
        for (int row = 0; row <= img.Categories.Count; row++)
        {
            var cells = new List<string> { row < img.Categories.Count ? img.Categories[row] : ResultsTable.MeanRowName };
            for (int s = 0; s < img.Shots.Count; s++) cells.AddRange([ResultsTable.FormatCell(img[row, s]), ResultsTable.FormatCell(pix[row, s])]);
            table.AddRow([.. cells]);
        }
        table.Write(Console.Out);
    }

    private static string? ShotsFile(Job job, AnomalyDataset ds, int seed) =>
        seed == 0 && job.ShotsDir is not null ? ShotChoice.FileIn(job.ShotsDir.FullName, ds.Category) : null;

    private static void WriteTables(string outDir, List<RunMetrics> all)
    {
        ResultsTable.WriteMarkdown(Path.Combine(outDir, "results.md"), all);
        ResultsTable.WriteCsv(Path.Combine(outDir, "results.csv"), all);
        ResultsWriter.WriteMetricsCsv(Path.Combine(outDir, "metrics.csv"), all);
        RunReport.Write(outDir, all);
    }

    /// <summary>Reads a finished run's metrics.json back (values ×100, null = not computed).</summary>
    internal static RunMetrics ReadMetrics(string path)
    {
        try { return MetricsJson.Parse(Clip.IO.InputFile.ReadAllText(path, "metrics file")); }
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
        foreach (string name in names) AnomalyDataset.CheckCategoryName(name, "--categories");
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
