using System.CommandLine;
using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Clip.Text;
using PromptAD.Data;
using PromptAD.Tensors;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Cli;

/// <summary>
/// `promptad encode`: CLIP features of images and prompts into one safetensors file, so anyone can inspect a
/// model or check our numbers against theirs. Tensor names are documented in the README.
/// </summary>
internal static class EncodeCommand
{
    public static Command Create()
    {
        var weights = CommonOptions.Weights();
        var backbone = CommonOptions.Backbone();
        var renamed = CommonOptions.RenamedModel();
        var images = new Option<string[]>("--images") { Description = "image files and/or folders (every image inside, name-sorted)", AllowMultipleArgumentsPerToken = true };
        var prompts = new Option<string[]>("--prompts") { Description = "prompt texts to encode", AllowMultipleArgumentsPerToken = true };
        var output = new Option<FileInfo>("--out") { Description = "output .safetensors file", Required = true };
        var normalized = new Option<bool>("--normalized") { Description = "L2-normalize every feature vector (as PromptAD uses them)" };
        var batch = CommonOptions.Batch();
        var midFeatures = AsPublishedOptions.MidFeatures();
        var device = BackendChoice.CreateOptions();
        var command = new Command("encode", "Writes CLIP features: per image the global, local (patch) and both mid-level features, per prompt the text feature.")
        {
            weights, backbone, renamed, images, prompts, output, normalized, batch, midFeatures,
        };
        device.AddTo(command);
        command.SetAction(parse => CommonOptions.RejectRenamedModel(parse.GetValue(renamed)) ?? Run(parse.GetValue(weights)!, parse.GetValue(backbone), parse.GetValue(images) ?? [],
            parse.GetValue(prompts) ?? [], parse.GetValue(output)!, parse.GetValue(normalized), parse.GetValue(batch), device.Value(parse),
            midFeatures.Value(parse)));
        return command;
    }

    private static int Run(FileInfo weightsFile, string? backboneName, string[] imageArgs, string[] promptTexts, FileInfo output,
        bool normalized, int batchSize, Pipeline.ComputeDevice device, MidFeatureMode midFeatures)
    {
        if (imageArgs.Length == 0 && promptTexts.Length == 0)
            throw new ArgumentException("encode: nothing to encode; give --images and/or --prompts");
        OptionRanges.Check(batchSize, "--batch", OptionRanges.Batch);
        CommonOptions.CheckExists(weightsFile, "Weights");
        Files.OutputGuard.File(output.FullName, "--out", [new("weights file", weightsFile.FullName), .. imageArgs.Select(a => new Files.GuardedInput("image input", a))]);
        var config = CommonOptions.BackboneFor(backboneName, weightsFile);
        var files = ImageFiles.Expand(imageArgs);
        using var backend = BackendChoice.Create(device);
        using var clip = ClipWeights.Load(weightsFile.FullName, config, backend);

        var entries = new List<SafeTensorsWriter.Entry>();
        var meta = new Dictionary<string, string>
        {
            ["backbone"] = config.Name,
            ["weights"] = weightsFile.Name,
            ["normalized"] = normalized ? "true" : "false",
            ["mid_features"] = midFeatures.Name(),
            ["images"] = string.Join("\n", files),
            ["prompts"] = string.Join("\n", promptTexts),
        };
        if (files.Count > 0) EncodeImages(clip, files, normalized, batchSize, midFeatures, entries);
        if (promptTexts.Length > 0) EncodePrompts(clip, promptTexts, normalized, entries);
        SafeTensorsWriter.Write(output.FullName, entries, meta);
        Console.WriteLine($"wrote {output.FullName}: {files.Count} image(s), {promptTexts.Length} prompt(s), backbone {config.Name}");
        return 0;
    }

    private static void EncodeImages(ClipWeights clip, IReadOnlyList<string> files, bool normalized, int batchSize, MidFeatureMode midFeatures,
        List<SafeTensorsWriter.Entry> entries)
    {
        var v = clip.Config.Vision;
        var encoder = new ClipImageEncoder(clip, midFeatures);
        var images = new ImageBatchEncoder(clip, midFeatures);
        int n = files.Count, p = v.Patches, e = clip.Config.EmbedDim, w = v.Width;
        var global = new float[n * e];
        var local = new float[(long)n * p * e];
        var mid1 = new float[(long)n * p * w];
        var mid2 = new float[(long)n * p * w];
        for (int start = 0; start < n; start += batchSize)
        {
            int count = Math.Min(batchSize, n - start);
            var chw = images.Concatenate(images.DecodeAll([.. files.Skip(start).Take(count)]));
            using var scope = TensorScope.Open();
            using var f = normalized ? encoder.EncodeNormalized(chw, count) : encoder.EncodeRaw(chw, count);
            f.Global.ToArray().CopyTo(global, start * e);
            f.Local.ToArray().CopyTo(local, (long)start * p * e);
            f.Mid1.ToArray().CopyTo(mid1, (long)start * p * w);
            f.Mid2.ToArray().CopyTo(mid2, (long)start * p * w);
            Console.Error.WriteLine($"encode: {start + count}/{n} images");
        }
        entries.Add(new("images.global", [n, e], global));
        entries.Add(new("images.local", [n, p, e], local));
        entries.Add(new("images.mid1", [n, p, w], mid1));
        entries.Add(new("images.mid2", [n, p, w], mid2));
    }

    private static void EncodePrompts(ClipWeights clip, string[] texts, bool normalized, List<SafeTensorsWriter.Entry> entries)
    {
        var t = clip.Config.Text;
        if (t.VocabSize != ClipTokenizer.VocabularySize)
            throw new ArgumentException($"--prompts: backbone {clip.Config.Name} has a {t.VocabSize}-token vocabulary, not CLIP's {ClipTokenizer.VocabularySize}; its prompts cannot be tokenized");
        var ids = texts.Select(s => ClipTokenizer.Default.Tokenize(s, t.ContextLength)).ToArray();
        using var scope = TensorScope.Open();
        var features = new ClipTextEncoder(clip).Encode(ids);
        if (normalized) features = Ops.L2Normalize(features);
        entries.Add(new("text.features", [texts.Length, clip.Config.EmbedDim], features.ToArray()));
        entries.Add(new("text.tokens", [texts.Length, t.ContextLength], ids.SelectMany(r => r.Select(x => (float)x)).ToArray()));
    }
}
