namespace PromptAD.Clip;

/// <summary>Which original-path state the image encoder returns as the mid-level features (SPEC §4 item 3).</summary>
public enum MidFeatureMode
{
    /// <summary>
    /// What the authors' code stores, and so what the published numbers come from: its hook keeps a view of block k's
    /// output that block k+1 then updates in place with its attention residual, so the feature is
    /// x_k + Attn_{k+1}(LN1_{k+1}(x_k)), the pre-MLP state of block k+1. The default.
    /// </summary>
    AsPublished,

    /// <summary>The plain output of block k (what the paper describes; models written before the option existed).</summary>
    BlockOutput,
}

/// <summary>The names of <see cref="MidFeatureMode"/> on the command line and in model/feature file metadata.</summary>
public static class MidFeatureModes
{
    public const string AsPublishedName = "as-published", BlockOutputName = "block-output";

    public static string Name(this MidFeatureMode mode) => mode switch
    {
        MidFeatureMode.AsPublished => AsPublishedName,
        MidFeatureMode.BlockOutput => BlockOutputName,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static bool TryParse(string? text, out MidFeatureMode mode)
    {
        switch (text)
        {
            case AsPublishedName: mode = MidFeatureMode.AsPublished; return true;
            case BlockOutputName: mode = MidFeatureMode.BlockOutput; return true;
            default: mode = default; return false;
        }
    }
}
