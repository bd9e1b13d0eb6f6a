using PromptAD.Tensors;
using PromptAD.Tensors.Checkpoints;

namespace PromptAD.Clip.WeightFiles;

/// <summary>What <see cref="BackboneRecognition"/> found.</summary>
/// <param name="Config">The built-in configuration the file's tensors match.</param>
/// <param name="AlsoMatching">Other configurations with the same names and shapes (they differ only in what a file
/// does not record, the activation); empty when the match is unique.</param>
/// <param name="Reason">Why <paramref name="Config"/> was preferred among several ("" when unique).</param>
public sealed record RecognisedBackbone(ClipConfig Config, IReadOnlyList<string> AlsoMatching, string Reason);

/// <summary>
/// The backbone a weights file holds, from its tensors' names and shapes alone (under OpenCLIP's names, see
/// <see cref="ClipWeightFile"/>): the built-in configuration whose every expected tensor is present with its shape and
/// nothing else. Configurations that differ only in the activation (GELU or QuickGELU, which no file records) tie;
/// the tie is broken by the configuration the file names in its metadata, else by its publisher's convention: OpenAI's
/// TorchScript archives and Transformers' CLIP use QuickGELU, OpenCLIP's own state dicts GELU.
/// A file that matches none is refused naming the closest configuration and what differs.
/// </summary>
public static class BackboneRecognition
{
    public static RecognisedBackbone Recognise(ITensorSource source)
    {
        var scored = ClipConfigs.Names.Select(ClipConfigs.Load).Select(c => (Config: c, Diff: Differences(source, c))).ToList();
        var exact = scored.Where(s => s.Diff.Count == 0).Select(s => s.Config).ToList();
        if (exact.Count == 0)
        {
            var (closest, diff) = scored.MinBy(s => s.Diff.Count);
            throw new ClipWeightsException(source.FilePath,
                $"the tensors match no built-in backbone ({string.Join(", ", ClipConfigs.Names)}); the closest is {closest.Name}, "
                + $"with {diff.Count} difference(s): {string.Join("; ", diff.Take(ClipWeightsException.NamesShown))}{(diff.Count > ClipWeightsException.NamesShown ? $"; … and {diff.Count - ClipWeightsException.NamesShown} more" : "")}");
        }
        if (exact.Count == 1) return new RecognisedBackbone(exact[0], [], "");

        string? named = source.Metadata.TryGetValue("config", out var c) ? c : source.Metadata.TryGetValue("backbone", out var b) ? b : null;
        bool quick = source.Format == "TorchScript" || ClipWeightFile.LayoutOf(source) == ClipWeightFile.TransformersLayout;
        var ranked = exact.OrderByDescending(x => x.Name == named).ThenByDescending(x => x.UsesQuickGelu == quick).ToList();
        string reason = ranked[0].Name == named
            ? $"the file's metadata names {named}"
            : $"{(quick ? "QuickGELU" : "GELU")}, the activation of {(quick ? (source.Format == "TorchScript" ? "OpenAI's TorchScript archives" : "Transformers' CLIP") : "OpenCLIP's own state dicts")}; the file does not record it";
        return new RecognisedBackbone(ranked[0], ranked.Skip(1).Select(x => x.Name).ToList(), reason);
    }

    /// <summary>Every way the file differs from <paramref name="config"/>: missing, unexpected and mis-shaped tensors.</summary>
    public static List<string> Differences(ITensorSource source, ClipConfig config)
    {
        var diff = new List<string>();
        var expected = ClipWeightLayout.Expected(config);
        var names = expected.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, shape) in expected)
        {
            if (!source.Contains(name)) diff.Add($"{name} missing");
            else if (!source.GetInfo(name).Shape.AsSpan().SequenceEqual(shape))
                diff.Add($"{name}: file {source.GetInfo(name).ShapeText}, {config.Name} {Shape.Format(shape)}");
        }
        diff.AddRange(source.Tensors.Where(t => !names.Contains(t.Name)).Select(t => $"{t.Name} unexpected"));
        return diff;
    }

    /// <summary>Opens <paramref name="path"/> and recognises its backbone (for verbs given no --backbone).</summary>
    public static ClipConfig FromFile(string path)
    {
        using var source = ClipWeightFile.Open(path);
        return Recognise(source).Config;
    }
}
