using System.CommandLine;
using System.Globalization;
using PromptAD.Calibration;
using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Files;
using PromptAD.Jobs;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Terminal;

namespace PromptAD.Cli;

/// <summary>
/// `promptad calibrate`: a decision threshold for a target false-alarm rate from good parts only (held-out good
/// images, or leave-one-out over the model's shots), stored in the model file for predict and serve.
/// </summary>
internal static class CalibrateCommand
{
    public const double DefaultFpr = 0.01;

    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "model file written by `promptad train` (rewritten in place unless --out is given)", Required = true };
        var weights = CommonOptions.Weights();
        var backbone = CommonOptions.BackboneOverride();
        var good = new Option<string[]>("--good")
        {
            Description = "good-part images (files and/or folders) not used as shots; without it, leave-one-out over the model's shots (needs --data)",
            AllowMultipleArgumentsPerToken = true,
        };
        var data = new Option<DirectoryInfo?>("--data") { Description = "dataset root the model's shots were taken from (their recorded paths are relative to it): leave-one-out retrains on it" };
        var fpr = new Option<double>("--fpr")
        {
            Description = $"target false-alarm rate α on good parts (default {DefaultFpr}). Rule: with n good scores sorted, anomalous above the " +
                "⌈(n+1)(1−α)⌉-th (conservative empirical quantile); n images can promise no rate below 1/(n+1), a warning says so",
            DefaultValueFactory = _ => DefaultFpr,
        }.AsRate();
        var prompts = CommonOptions.Prompts();
        var output = new Option<FileInfo?>("--out") { Description = "write the calibrated model here instead of rewriting --model" };
        var size = CommonOptions.OutputSize();
        var batch = CommonOptions.Batch();
        var device = BackendChoice.CreateOptions();
        var command = new Command("calibrate", "Stores in a model a decision threshold for a target false-alarm rate, estimated from good parts only.")
        {
            model, weights, backbone, good, data, fpr, prompts, output, size, batch,
        };
        device.AddTo(command);
        command.SetAction(p => Run(p.GetValue(model)!, p.GetValue(weights)!, p.GetValue(backbone), p.GetValue(good), p.GetValue(data),
            p.GetValue(fpr), p.GetValue(prompts), p.GetValue(output), p.GetValue(size), p.GetValue(batch), device.Value(p)));
        return command;
    }

    internal static int Run(FileInfo modelFile, FileInfo weightsFile, string? backbone, IReadOnlyList<string>? good, DirectoryInfo? data,
        double fpr, string? promptsFile, FileInfo? output, int size, int batch, Pipeline.ComputeDevice device)
    {
        // Every check before anything is loaded or written: a failed calibrate leaves the model as it was.
        OptionRanges.Check(size, "--size", OptionRanges.Size);
        OptionRanges.Check(batch, "--batch", OptionRanges.Batch);
        GoodScoreThreshold.CheckRate(fpr);
        bool heldOut = good is { Count: > 0 };
        if (!heldOut && data is null)
            throw new ArgumentException("give --good (good-part images not used as shots) or --data (the dataset root of the model's shots, for leave-one-out)");
        CommonOptions.CheckExists(modelFile, "Model");
        string target = (output ?? modelFile).FullName;
        // In place (no --out) the model itself is the one input meant to be replaced.
        OutputGuard.File(target, output is null ? "--model" : "--out",
        [
            new("weights file", weightsFile.FullName), new("prompts file", promptsFile), new("dataset", output is null ? null : data?.FullName),
            .. (good ?? []).Select(g => new GuardedInput("good image input", g)),
        ]);
        var goodFiles = heldOut ? ImageFiles.Expand(good!) : [];
        var goodHashes = goodFiles.Select(FileHash.Sha256).ToList();
        CalibrationSet.CheckDistinct(goodFiles, goodHashes);

        using var mw = ModelAndWeights.Open(modelFile, weightsFile, backbone, device);
        var meta = mw.Model.Metadata;
        var shotPaths = data is null ? [] : ShotPaths(meta, data.FullName, modelFile.FullName, required: !heldOut);
        if (heldOut) CalibrationSet.CheckNoShots(meta, shotPaths, goodFiles, goodHashes);
        else CalibrationSet.CheckShotsAreTheModels(meta, shotPaths, data!.FullName);
        IReadOnlyList<float> scores;
        string method;
        if (heldOut)
        {
            using var detector = new Detector(mw.Weights, mw.Model, size, batch);
            using var bar = new ConsoleProgress("calibrate: score good parts", goodFiles.Count);
            var goodScores = new List<float>(goodFiles.Count);
            foreach (var chunk in new DecodedImageSource(detector).Score([.. goodFiles.Select(f => new TestSample(f, "good", false, null))], null, default))
            {
                goodScores.AddRange(chunk.Select(c => c.Score.Score));
                bar.Advance(chunk.Count);
            }
            scores = goodScores;
            method = StoredThreshold.Methods.HeldOut;
        }
        else
        {
            if (meta.Shots < 2)
                throw new ArgumentException($"leave-one-out needs a model of at least 2 shots (this one has {meta.Shots}): give held-out good images with --good");
            var prompts = PromptSource.Resolve(promptsFile);
            var decoded = new ImageBatchEncoder(mw.Weights, meta.Options.MidFeatures).DecodeAll(shotPaths);
            LeaveOneOutScores loo;
            using (var bar = new ConsoleProgress($"calibrate: leave-one-out over {decoded.Length} shots", decoded.Length))
                loo = LeaveOneOut.Scores(mw.Weights, mw.Model, decoded, prompts.StatesFor(meta.Category), size, bar.Report);
            Console.WriteLine($"leave-one-out: {decoded.Length} folds, {loo.ImagesEncoded} shot image(s) encoded (each once)");
            scores = loo.Scores;
            method = StoredThreshold.Methods.LeaveOneOut;
        }

        var estimate = GoodScoreThreshold.Estimate(scores, fpr);
        var stored = new StoredThreshold(estimate.Threshold, fpr, estimate.Images, method, estimate.Rank, size);
        string? warning = estimate.TooFew ? TooFewWarning(estimate) : null;
        var sorted = scores.Order().ToList();
        var table = new SummaryTable("good images", "min", "median", "max", "rank", "threshold", "promised rate");
        table.AddRow(Fmt.I(estimate.Images), Fmt.F(sorted[0], 4), Fmt.F(Median(sorted), 4), Fmt.F(sorted[^1], 4),
            $"{estimate.Rank} of {estimate.Images}", estimate.Threshold.ToString("R", CultureInfo.InvariantCulture), Fmt.F(estimate.ExpectedRate, 4));
        using var calibrated = mw.Model.With(m => m with { Threshold = stored });
        calibrated.Save(target);

        Console.WriteLine();
        table.Write(Console.Out);
        if (warning is not null) Console.Error.WriteLine("promptad: warning: " + warning);
        Console.WriteLine($"threshold: {stored.Describe()}");
        Console.WriteLine($"model: {target}");
        return 0;
    }

    internal static string TooFewWarning(ThresholdEstimate e) =>
        $"{e.Images} good image(s) cannot support a false-alarm rate of {e.TargetFpr.ToString("0.####", CultureInfo.InvariantCulture)}: " +
        $"the threshold is above the highest good score, which promises only 1/(n+1) = {GoodScoreThreshold.SmallestRate(e.Images).ToString("0.####", CultureInfo.InvariantCulture)}; " +
        $"{GoodScoreThreshold.ImagesNeeded(e.TargetFpr)} good images are needed for that rate";

    /// <summary>The model's shots as files under <paramref name="dataRoot"/> (the model records them relative to its dataset root).</summary>
    private static List<string> ShotPaths(ModelMetadata meta, string dataRoot, string modelFile, bool required)
    {
        var paths = meta.ShotFiles.Select(f => Path.GetFullPath(Path.Combine(dataRoot, f))).ToList();
        if (!required) return paths;
        if (paths.Count != meta.Shots)
            throw new ModelFileException(modelFile, "shot_files", $"lists {paths.Count} file(s) for {meta.Shots} shot(s); leave-one-out needs every shot");
        if (paths.FirstOrDefault(p => !File.Exists(p)) is { } missing)
            throw new FileNotFoundException($"shot '{missing}' recorded in '{modelFile}' does not exist under --data '{dataRoot}'", missing);
        return paths;
    }

    private static double Median(IReadOnlyList<float> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : 0.5 * (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]);
}
