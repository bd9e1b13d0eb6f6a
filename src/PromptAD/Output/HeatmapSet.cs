using PromptAD.Clip.Imaging;
using PromptAD.Data;

namespace PromptAD.Output;

/// <summary>
/// Writes the heatmaps of a set of images (a test split, or predict's images) with one colour range over the whole
/// set, so that colours compare across images (see <see cref="HeatmapRenderer"/>). Images are given one at a time.
/// </summary>
/// <param name="directory">Folder the relative names are under.</param>
/// <param name="maskPanel">False for images without ground truth at all (predict): the overlay and colorbar only.</param>
public sealed class HeatmapSet(string directory, int size, bool maskPanel)
{
    private readonly List<(string Name, RgbImage Thumb, float[] Map, BinaryMask? Mask)> _pending = [];

    /// <param name="relativeName">File name under the folder, e.g. "broken/000.png".</param>
    /// <param name="photo">The image at its own resolution.</param>
    /// <param name="map">Its size×size anomaly map.</param>
    /// <param name="mask">Ground truth at the image's resolution, or null for "no mask".</param>
    public void Add(string relativeName, RgbImage photo, float[] map, BinaryMask? mask)
    {
        ArgumentNullException.ThrowIfNull(photo);
        _pending.Add((relativeName, PillowBicubic.Resize(photo, size, size), map, mask?.ResizeNearest(size, size)));
    }

    /// <summary>Writes every heatmap; <paramref name="progress"/> advances once per file.</summary>
    public void Finish(TextWriter? progressWriter = null)
    {
        var (min, max) = HeatmapRenderer.RangeOf(_pending.Select(p => p.Map));
        using var bar = new ConsoleProgress("heatmaps", _pending.Count, progressWriter);
        Parallel.For(0, _pending.Count, i =>
        {
            var (name, thumb, map, mask) = _pending[i];
            HeatmapRenderer.Write(Path.Combine(directory, name), thumb, map, size, mask, min, max, maskPanel);
            bar.Advance();
        });
        _pending.Clear();
    }
}
