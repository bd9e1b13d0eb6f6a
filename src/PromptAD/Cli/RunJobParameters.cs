using System.Security.Cryptography;
using System.Text;
using PromptAD.Files;
using PromptAD.Jobs;
using PromptAD.Model;
using PromptAD.Terminal;
using PromptAD.Kernels;

namespace PromptAD.Cli;

/// <summary>
/// What decides `run`'s results, recorded in the results folder's job.json: a resumed job must use the same backbone,
/// weights (SHA-256), epochs, map size, logit scale, pixel margin, prompt words and shots files, or its finished runs would answer a
/// different question. Categories, shot counts and seeds may grow between resumptions (each run is one cell of the
/// table); batch size, device and --heatmaps do not change the numbers, the GEMM precision (--precision) does.
/// </summary>
internal static class RunJobParameters
{
    /// <summary>What run writes into --out (no input may be there).</summary>
    public static readonly string[] Written = ["results.md", "results.csv", "metrics.csv", Results.Report.TestReport.FileName, ResultsFolder.JobFile, "runs/"];

    /// <summary>Parameters that job files written before them lack, with the value those jobs ran under.</summary>
    public static readonly IReadOnlyDictionary<string, string> AbsentMeans = new Dictionary<string, string>
    {
        ["precision"] = "fp32", // the only precision before --precision existed
        ["pixel_margin"] = PixelMarginModes.PerPatchName, // how the pixel head was trained before --pixel-margin existed
    };

    public static List<KeyValuePair<string, string>> Of(RunCommand.Job job, PromptSource prompts, out string weightsSha256)
    {
        weightsSha256 = FileHash.Sha256(job.Weights.FullName);
        return
        [
            new("backbone", job.Backbone),
            new("weights_sha256", weightsSha256),
            new("epochs", Fmt.I(job.Epochs)),
            new("size", Fmt.I(job.Size)),
            new("logit_scale", job.LogitScale.ToString().ToLowerInvariant()),
            new("prompts", prompts.Path is { } p ? "sha256:" + FileHash.Sha256(p) : "built-in generic states"),
            new("shots_files", job.ShotsDir is { } d ? "sha256:" + FolderHash(d.FullName) : "none (seeded random choice)"),
            new("precision", job.Device.Precision.Name()),
            new("pixel_margin", job.PixelMargin.Name()),
        ];
    }

    /// <summary>job.json entries of a category's dataset identity start so; they grow with the job's categories.</summary>
    public const string DatasetPrefix = "dataset:";

    /// <summary>job.json entries saying a shard finished ("shard 1/4": "done"); --merge checks every shard of the job is there.</summary>
    public const string ShardPrefix = "shard ";

    /// <summary>
    /// Which images a category's runs were made on, as a job.json entry: SHA-256 over every train, test and mask file's
    /// path (relative to the category) and content. Another --data with the same category names but other images is
    /// another job, whose finished runs must not be taken for this one's.
    /// </summary>
    public static KeyValuePair<string, string> DatasetIdentity(Data.AnomalyDataset dataset)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var files = dataset.TrainFiles.Concat(dataset.TestSamples.SelectMany(t => t.MaskPath is { } mask ? new[] { t.ImagePath, mask } : [t.ImagePath]));
        var buffer = new byte[1 << 20];
        foreach (string f in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(dataset.Directory, f).Replace('\\', '/') + "\n"));
            // A FIFO or device among the images is skipped when scored (never opened); here it counts by its name.
            if (Clip.IO.FileKind.Of(f) != Clip.IO.FileKindType.Regular) continue;
            using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) sha.AppendData(buffer, 0, read);
        }
        return new(DatasetPrefix + dataset.Category, "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    /// <summary>SHA-256 over the shots folder's *.txt names and contents, in name order.</summary>
    private static string FolderHash(string folder)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (Directory.Exists(folder))
            foreach (string f in Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal))
            {
                sha.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(f) + "\n"));
                sha.AppendData(Clip.IO.InputFile.ReadAllBytes(f, "shots file"));
            }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
