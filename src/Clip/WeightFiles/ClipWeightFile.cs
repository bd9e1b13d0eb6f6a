using System.Text.RegularExpressions;
using PromptAD.Tensors.Checkpoints;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Clip.WeightFiles;

/// <summary>
/// Opens a CLIP weights file in any published form — safetensors, torch.save zip (.bin/.pt/.pth), TorchScript archive
/// (OpenAI's .pt) — with OpenCLIP's or Transformers' key names, and presents it under OpenCLIP's names
/// (<see cref="ClipWeightLayout"/>). Tensors that are not weights in any layout (position ids, OpenAI's causal masks
/// and stored sizes) are left out; everything else the file holds stays visible, so a mismatch is reported in full.
/// </summary>
public static partial class ClipWeightFile
{
    public const string OpenClipLayout = "OpenCLIP", TransformersLayout = "Transformers";

    public static ITensorSource Open(string path)
    {
        // The input rule first: a FIFO or device as --weights fails at once instead of blocking the mapping.
        IO.InputFile.Check(path, "weights file", IO.InputFile.SafetensorsCap);
        var source = TensorFiles.Open(path);
        try
        {
            var names = source.Tensors.Select(t => t.Name).ToList();
            string prefix = CommonWrapperPrefix(names);
            var kept = names.Where(n => !IsNotAWeight(n[prefix.Length..])).ToList();
            bool transformers = kept.Any(n => n[prefix.Length..].StartsWith("vision_model.", StringComparison.Ordinal)
                                              || n[prefix.Length..].StartsWith("text_model.", StringComparison.Ordinal));
            var recipes = transformers ? TransformersNames.Recipes(kept, prefix) : kept.Select(n => (n[prefix.Length..], new Recipe(RecipeKind.Same, [n])));
            return new ClipTensorView(source, transformers ? TransformersLayout : OpenClipLayout, recipes.ToList());
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The memory-mapped safetensors file behind <paramref name="source"/> when its tensors are the file's own under
    /// the same names (a safetensors file with OpenCLIP names), so callers may use the mapped bytes in place; null for
    /// every other form (PyTorch archives, Transformers' names), which are read through <see cref="ITensorSource.ReadFloat32"/>.
    /// </summary>
    public static SafeTensorsFile? MappedSafeTensors(ITensorSource source) =>
        source is ClipTensorView { Layout: OpenClipLayout, Source: SafeTensorsSource s } view && view.IsIdentity ? s.File : null;

    /// <summary>"OpenCLIP" or "Transformers" for a source from <see cref="Open"/>.</summary>
    public static string LayoutOf(ITensorSource source) => source is ClipTensorView v ? v.Layout : OpenClipLayout;

    /// <summary>
    /// Training checkpoints wrapped in DataParallel ("module.") or a model attribute ("model.") prefix every key; the
    /// prefix is dropped when every key has it.
    /// </summary>
    private static string CommonWrapperPrefix(List<string> names)
    {
        foreach (var prefix in (string[])["module.", "model."])
            if (names.Count > 0 && names.All(n => n.StartsWith(prefix, StringComparison.Ordinal))) return prefix;
        return "";
    }

    /// <summary>Tensors some published files carry beside the weights; none is a parameter of the encoders.</summary>
    private static bool IsNotAWeight(string name) => NotAWeight().IsMatch(name);

    // position_ids: Transformers' [1, tokens] index buffers; attn_mask: OpenAI's causal mask per text block;
    // input_resolution/context_length/vocab_size: sizes OpenAI's TorchScript archives store as tensors.
    [GeneratedRegex(@"(^|\.)(position_ids|attn_mask|input_resolution|context_length|vocab_size)$")]
    private static partial Regex NotAWeight();
}
