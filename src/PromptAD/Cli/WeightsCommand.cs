using System.CommandLine;
using System.Globalization;
using PromptAD.Clip;
using PromptAD.Clip.WeightFiles;
using PromptAD.Files;
using PromptAD.Tensors.Checkpoints;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Cli;

/// <summary>
/// `promptad weights info FILE`: what a downloaded weights file is (format, key layout, backbone, dtypes, parameter
/// count, SHA-256, the publisher's name) without loading it; `promptad weights convert FILE --out X.safetensors`:
/// the same weights as our safetensors (OpenCLIP names, F32 or --dtype f16|bf16), written atomically;
/// `promptad weights random --backbone NAME --out X.safetensors`: seeded random weights of a backbone's full shapes, so
/// benchmarks and device checks can run at full size where no published weights file is at hand (not a model).
/// </summary>
internal static class WeightsCommand
{
    public static Command Create()
    {
        var infoFile = new Argument<FileInfo>("file") { Description = "weights file: safetensors, torch.save .bin/.pt/.pth or TorchScript .pt" };
        var info = new Command("info", "Describes a weights file: format, key layout, backbone, dtypes, parameters, SHA-256, publisher.") { infoFile };
        info.SetAction(p => Info(p.GetValue(infoFile)!));

        var convertFile = new Argument<FileInfo>("file") { Description = "weights file to convert" };
        var output = new Option<FileInfo>("--out") { Description = "output .safetensors file (written atomically; never one of the inputs)", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "stored precision: f32 (exact), f16 or bf16 (rounded to nearest even)", DefaultValueFactory = _ => "f32" };
        dtype.AcceptOnlyFromAmong("f32", "f16", "bf16");
        var backbone = CommonOptions.Backbone();
        var convert = new Command("convert", "Writes the weights as safetensors with OpenCLIP key names, the form every verb loads fastest.")
        {
            convertFile, output, dtype, backbone,
        };
        convert.SetAction(p => Convert(p.GetValue(convertFile)!, p.GetValue(output)!, p.GetValue(dtype)!, p.GetValue(backbone)));

        var randomBackbone = new Option<string>("--backbone") { Description = $"CLIP configuration whose shapes to fill: {string.Join(", ", ClipConfigs.Names)}", Required = true };
        var randomOutput = new Option<FileInfo>("--out") { Description = "output .safetensors file (F32, OpenCLIP key names; written atomically)", Required = true };
        var seed = new Option<int>("--seed") { Description = "random seed: the same seed writes the same bytes", DefaultValueFactory = _ => 0 };
        var random = new Command("random", "Writes seeded random weights of a backbone's shapes, for benchmarks and checks at full size. "
            + "Not a model: anomaly scores from them mean nothing.")
        {
            randomBackbone, randomOutput, seed,
        };
        random.SetAction(p => Random(p.GetValue(randomBackbone)!, p.GetValue(randomOutput)!, p.GetValue(seed)));

        return new Command("weights", "Inspects or converts CLIP weights files as their publishers ship them (no Python needed), or writes random ones for benchmarks.")
        {
            info, convert, random,
        };
    }

    private static int Info(FileInfo file)
    {
        CommonOptions.CheckExists(file, "Weights");
        using var source = ClipWeightFile.Open(file.FullName);
        string sha = FileHash.Sha256(file.FullName);
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"file        {file.FullName}");
        Console.WriteLine($"size        {file.Length.ToString("N0", inv)} bytes");
        Console.WriteLine($"format      {source.Format}");
        Console.WriteLine($"key names   {ClipWeightFile.LayoutOf(source)}");
        Console.WriteLine($"dtype       {string.Join(", ", source.Tensors.GroupBy(t => t.DType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key.HeaderName()} ({g.Count()} tensor{(g.Count() == 1 ? "" : "s")})"))}");
        Console.WriteLine($"parameters  {source.Tensors.Sum(t => t.ElementCount).ToString("N0", inv)} in {source.Tensors.Count} tensors");
        Console.WriteLine($"sha256      {sha}");
        RecognisedBackbone? found = null;
        ClipWeightsException? mismatch = null;
        try { found = BackboneRecognition.Recognise(source); }
        catch (ClipWeightsException e) { mismatch = e; }
        Console.WriteLine($"publisher   {PublishedWeights.Describe(sha, source.Format, ClipWeightFile.LayoutOf(source), found?.Config.Name)}");
        if (found is not null)
        {
            Console.WriteLine($"backbone    {found.Config.Name}" + (found.AlsoMatching.Count > 0
                ? $" ({found.Reason}; {string.Join(", ", found.AlsoMatching)} has the same shapes: --backbone chooses)" : ""));
            return 0;
        }
        Console.WriteLine("backbone    none");
        throw mismatch!;
    }

    private static int Convert(FileInfo file, FileInfo output, string dtypeName, string? backbone)
    {
        CommonOptions.CheckExists(file, "Weights");
        Files.OutputGuard.File(output.FullName, "--out", new Files.GuardedInput("weights file", file.FullName));
        var dtype = dtypeName switch { "f16" => SafeTensorDType.F16, "bf16" => SafeTensorDType.BF16, _ => SafeTensorDType.F32 };
        var config = CommonOptions.BackboneFor(backbone, file);
        string sha = FileHash.Sha256(file.FullName);
        using (var source = ClipWeightFile.Open(file.FullName))
            ClipWeightConverter.Convert(source, config, output.FullName, dtype, sha);
        Console.WriteLine($"wrote {output.FullName}: {config.Name}, {dtype.HeaderName()}, OpenCLIP key names (from {file.Name})");
        return 0;
    }

    private static int Random(string backbone, FileInfo output, int seed)
    {
        var config = ClipConfigs.Load(backbone);
        Files.OutputGuard.File(output.FullName, "--out");
        Files.OutputGuard.OutsideDatasets(output.FullName, "--out");
        using (var weights = ClipWeights.Random(config, Tensors.Cpu.CpuBackend.Instance, seed))
            weights.SaveSafetensors(output.FullName);
        long parameters = ClipWeightLayout.Expected(config).Sum(e => Tensors.Shape.Elements(e.Shape));
        Console.WriteLine($"wrote {output.FullName}: random {config.Name} weights (seed {seed}, "
            + $"{parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters, F32); for benchmarks and checks, not a model");
        return 0;
    }
}
