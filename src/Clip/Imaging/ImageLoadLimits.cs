namespace PromptAD.Clip.Imaging;

/// <summary>
/// Upper bounds checked against the header before decoding, so a hostile or broken file that claims
/// huge dimensions is rejected before any pixel buffer is allocated.
/// </summary>
public sealed record ImageLoadLimits(int MaxWidth = 16384, int MaxHeight = 16384, long MaxPixels = 100_000_000)
{
    public static ImageLoadLimits Default { get; } = new();
}
