namespace PromptAD.Model;

/// <summary>How the pixel head's explicit anomaly margin is computed (SPEC §5.3).</summary>
public enum PixelMarginMode
{
    /// <summary>
    /// What the authors' pixel-head code computes, and so what the published pixel numbers come from: on the
    /// [k, patches, width] feature tensor the squared distance to each prototype is summed over the patches (not the
    /// feature dimensions), and the hinge is averaged over k·width. The default.
    /// </summary>
    AsPublished,

    /// <summary>The paper's formula: one squared distance per patch feature, averaged over k·patches (models written
    /// before the option existed).</summary>
    PerPatch,
}

/// <summary>The names of <see cref="PixelMarginMode"/> on the command line, in model metadata and in job.json.</summary>
public static class PixelMarginModes
{
    public const string AsPublishedName = "as-published", PerPatchName = "per-patch";

    public static string Name(this PixelMarginMode mode) => mode switch
    {
        PixelMarginMode.AsPublished => AsPublishedName,
        PixelMarginMode.PerPatch => PerPatchName,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static bool TryParse(string? text, out PixelMarginMode mode)
    {
        switch (text)
        {
            case AsPublishedName: mode = PixelMarginMode.AsPublished; return true;
            case PerPatchName: mode = PixelMarginMode.PerPatch; return true;
            default: mode = default; return false;
        }
    }
}
