using PromptAD.Clip;
using PromptAD.Model;

namespace PromptAD.Cli;

/// <summary>The options that choose between the authors' published computation and the paper's formula.</summary>
internal static class AsPublishedOptions
{
    /// <summary>`--mid-features as-published|block-output` (SPEC §4 item 3), on train and encode.</summary>
    public static ChoiceOption<MidFeatureMode> MidFeatures() => new("--mid-features",
        $"mid-level features behind the memory banks: {MidFeatureModes.AsPublishedName} = what the authors' code stores (block k's " +
        $"output plus block k+1's attention residual; the published numbers), {MidFeatureModes.BlockOutputName} = the plain block output",
        MidFeatureModes.AsPublishedName,
        (MidFeatureModes.AsPublishedName, MidFeatureMode.AsPublished), (MidFeatureModes.BlockOutputName, MidFeatureMode.BlockOutput));

    /// <summary>`--pixel-margin as-published|per-patch` (SPEC §5.3), on train and run.</summary>
    public static ChoiceOption<PixelMarginMode> PixelMargin() => new("--pixel-margin",
        $"the pixel head's margin term: {PixelMarginModes.AsPublishedName} = what the authors' code computes (squared distances " +
        $"summed over each shot's patches, averaged over k × feature width; the published pixel numbers), {PixelMarginModes.PerPatchName} = " +
        "the paper's formula (one squared distance per patch feature)",
        PixelMarginModes.AsPublishedName,
        (PixelMarginModes.AsPublishedName, PixelMarginMode.AsPublished), (PixelMarginModes.PerPatchName, PixelMarginMode.PerPatch));
}
