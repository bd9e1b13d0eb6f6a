using System.CommandLine;
using PromptAD.Clip;
using PromptAD.Jobs;
using PromptAD.Model;

namespace PromptAD.Cli;

/// <summary>Options several verbs share, so their names and help read the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<FileInfo> Weights() => new("--weights")
    {
        Description = "CLIP weights as published: safetensors, torch.save .bin/.pt/.pth or TorchScript .pt, OpenCLIP or Transformers key names; e.g. ViT-B-16-plus-240 laion400m_e32 (see README)",
        Required = true,
    };

    public static Option<string?> Backbone() => new("--backbone")
    {
        Description = $"CLIP configuration of the weights: {string.Join(", ", ClipConfigs.Names)} (default: recognised from the weights' tensor names and shapes)",
    };

    /// <summary>
    /// The configuration named by --backbone, or else the one the weights file's tensors match (said on stderr, with
    /// the reason when several configurations fit the shapes).
    /// </summary>
    public static ClipConfig BackboneFor(string? name, FileInfo weights)
    {
        if (name is not null) return ClipConfigs.Load(name);
        CheckExists(weights, "Weights");
        using var source = Clip.WeightFiles.ClipWeightFile.Open(weights.FullName);
        var found = Clip.WeightFiles.BackboneRecognition.Recognise(source);
        Console.Error.WriteLine($"backbone {found.Config.Name}, recognised from the weights file"
            + (found.AlsoMatching.Count > 0 ? $" ({found.Reason}; {string.Join(", ", found.AlsoMatching)} has the same shapes: --backbone chooses)" : ""));
        return found.Config;
    }

    /// <summary>
    /// `--model` once named the backbone in train, run and encode; it now names only a trained model file. Verbs that
    /// take a backbone keep this hidden option so the old spelling fails with a message naming the new one.
    /// </summary>
    public static Option<string?> RenamedModel() => new("--model") { Hidden = true };

    /// <summary>Throws (a usage error) when the old spelling was given; returns null otherwise, so a verb's action can
    /// read <c>RejectRenamedModel(…) ?? Run(…)</c>.</summary>
    public static int? RejectRenamedModel(string? value) => value is null ? null
        : throw new ArgumentException($"--model names a trained model file (test, predict); the CLIP configuration is --backbone (--backbone {value})");

    public static Option<string?> BackboneOverride() => new("--backbone")
    {
        Description = "backbone configuration to score with (default: the one recorded in the model)",
    };

    public static Option<DirectoryInfo> Data() => new("--data") { Description = "dataset root: <root>/<category>/{train/good,test/<defect>,ground_truth/<defect>}", Required = true };

    public static Option<string?> Prompts() => new("--prompts")
    {
        Description = $"prompts.json (anomaly states and class words); default: ${PromptSource.Variable}, beside the executable, or shared/data/prompts.json found upwards from here",
    };

    public static Option<int> Epochs(int defaultValue = 100) => new Option<int>("--epochs")
    {
        Description = $"training epochs per head (one SGD step each; {OptionRanges.Text(OptionRanges.Epochs)}); the final epoch is kept",
        DefaultValueFactory = _ => defaultValue,
    }.InRange(OptionRanges.Epochs);

    public static Option<string> LogitScale()
    {
        var o = new Option<string>("--logit-scale")
        {
            Description = "temperature: raw = the checkpoint's stored logit_scale (the authors' code), exp = exp(logit_scale) as CLIP",
            DefaultValueFactory = _ => "raw",
        };
        o.AcceptOnlyFromAmong("raw", "exp");
        return o;
    }

    public static Option<int> Batch(string description = "images per encoder batch") =>
        new Option<int>("--batch") { Description = $"{description} ({OptionRanges.Text(OptionRanges.Batch)})", DefaultValueFactory = _ => 8 }.InRange(OptionRanges.Batch);

    public static Option<string?> RawMaps()
    {
        var o = new Option<string?>("--raw-maps")
        {
            Description = "also write each raw score map at its image's size under maps/: png16 (16-bit grayscale, score = value/65535) or tiff (32-bit float)",
        };
        o.AcceptOnlyFromAmong("png16", "tiff");
        return o;
    }

    /// <summary>`--size`, the side of the anomaly maps, in its one range; benches that compare maps at another default
    /// describe it their way.</summary>
    public static Option<int> OutputSize(string? description = null, int defaultValue = Scoring.AnomalyScorer.DefaultOutputSize) => new Option<int>("--size")
    {
        Description = description
            ?? $"side of the (square) anomaly maps the metrics use ({OptionRanges.Text(OptionRanges.Size)}; the paper's protocol: 400), and the longest side of the heatmaps",
        DefaultValueFactory = _ => defaultValue,
    }.InRange(OptionRanges.Size);

    public static LogitScaleMode ParseLogitScale(string value) => value == "exp" ? LogitScaleMode.Exp : LogitScaleMode.Raw;

    public static void CheckPositive(int value, string name)
    {
        if (value < 1) throw new ArgumentException($"{name} must be at least 1, got {value}");
    }

    public static void CheckEpochs(int epochs) => OptionRanges.Check(epochs, "--epochs", OptionRanges.Epochs);

    /// <summary>
    /// An input file that is missing, a folder, or not a regular file (a FIFO would block the read forever) is one
    /// error naming it (<paramref name="what"/>: "Weights", "Model").
    /// </summary>
    public static void CheckExists(FileInfo file, string what)
    {
        switch (Clip.IO.FileKind.Of(file.FullName))
        {
            case Clip.IO.FileKindType.Missing: throw new FileNotFoundException($"{what} file '{file.FullName}' does not exist.", file.FullName);
            case Clip.IO.FileKindType.Directory: throw new FileNotFoundException($"{what} file '{file.FullName}' is a folder; expected a file.", file.FullName);
            case Clip.IO.FileKindType.Special: throw new IOException($"{what} file '{file.FullName}' is not a regular file (a FIFO, socket or device).");
        }
    }
}
