using System.Runtime.InteropServices;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Evaluation;
using PromptAD.Terminal;

namespace PromptAD.Heatmaps;

/// <summary>
/// Writes the heatmaps of a set of images (a test split, or predict's images) given one image at a time, in memory
/// that does not grow with the number of images, with one colour range over the whole set so that colours compare
/// across images (see <see cref="HeatmapRenderer"/>): heatmaps/&lt;name&gt;.png, and on request the raw score maps at
/// each image's own size, maps/&lt;name&gt;.png (16-bit) or .tiff (float).
/// </summary>
/// <remarks>
/// <para>Each overlay has the image's own proportions, longest side <c>size</c>
/// (<see cref="HeatmapRenderer.OverlaySize"/>): the size×size map, computed on the square input, is resized back
/// (bilinear, <see cref="MapResize"/>) to the overlay's size, the photo (Pillow's bicubic) and the mask (nearest) too.</para>
/// <para>The colour range (min and max over every map of the set, as before) is only known once the last image is
/// scored, so <see cref="Add"/> spills each overlay's inputs (photo, resized map, mask: 8 bytes a pixel, ~1.3 MB at
/// 400×400) to a temporary file, and <see cref="Finish"/> renders them in a second pass, a few at a time. Raw maps do
/// not depend on the range and are written at once.</para>
/// </remarks>
/// <param name="outDir">Folder that receives heatmaps/ (and maps/).</param>
/// <param name="size">Longest side of each overlay (the map's side).</param>
/// <param name="maskPanel">False for images without ground truth at all (predict): the overlay and colorbar only.</param>
/// <param name="overlays">False to write only the raw maps.</param>
public sealed class HeatmapSet(string outDir, int size, bool maskPanel, RawMapFormat rawMaps = RawMapFormat.None, bool overlays = true) : IDisposable
{
    private sealed record Entry(string Name, int Width, int Height, bool HasMask, long Offset);

    private readonly List<Entry> _entries = [];
    private SpillFile? _spill;
    private long _written;
    private float _min = float.PositiveInfinity, _max = float.NegativeInfinity;

    public string HeatmapDirectory { get; } = Path.Combine(outDir, "heatmaps");

    public string RawMapDirectory { get; } = Path.Combine(outDir, "maps");

    /// <param name="relativeName">File name under heatmaps/, e.g. "broken/000.png".</param>
    /// <param name="photo">The image at its own resolution.</param>
    /// <param name="map">Its size×size anomaly map.</param>
    /// <param name="mask">Ground truth at the image's resolution, or null for "no mask".</param>
    public void Add(string relativeName, RgbImage photo, float[] map, BinaryMask? mask)
    {
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(map);
        if (map.LongLength != (long)size * size)
        {
            throw new ArgumentException($"Expected a {size}×{size} map, got {map.LongLength} values.", nameof(map));
        }

        foreach (float v in map)
        {
            if (float.IsNaN(v)) continue;
            _min = Math.Min(_min, v);
            _max = Math.Max(_max, v);
        }

        if (rawMaps != RawMapFormat.None)
        {
            RawMapWriter.Write(Path.Combine(RawMapDirectory, Path.ChangeExtension(relativeName, RawMapWriter.Extension(rawMaps))),
                MapResize.Bilinear(map, size, size, photo.Width, photo.Height), photo.Width, photo.Height, rawMaps);
        }

        if (!overlays) return;
        var (w, h) = HeatmapRenderer.OverlaySize(photo.Width, photo.Height, size);
        var thumb = photo.Width == w && photo.Height == h ? photo : PillowBicubic.Resize(photo, w, h);
        var overlay = MapResize.Bilinear(map, size, size, w, h);
        _spill ??= new SpillFile("promptad-heatmaps");
        long offset = _written;
        Write(thumb.Pixels);
        Write(MemoryMarshal.AsBytes(overlay.AsSpan()));
        if (mask is not null) Write(mask.ResizeNearest(w, h).Pixels);
        _entries.Add(new Entry(relativeName, w, h, mask is not null, offset));
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        _spill!.Write(bytes);
        _written += bytes.Length;
    }

    /// <summary>The colour range: min and max over every map added, ignoring NaN; (0, 1) when there are none.</summary>
    public (float Min, float Max) Range => float.IsFinite(_min) && float.IsFinite(_max) ? (_min, _max) : (0f, 1f);

    /// <summary>Renders and writes every heatmap (the second pass); progress advances once per file.</summary>
    public void Finish(TextWriter? progressWriter = null)
    {
        if (_entries.Count == 0) return;
        var (min, max) = Range;
        using var bar = new ConsoleProgress("heatmaps", _entries.Count, progressWriter);
        using var reader = _spill!.OpenRead();
        // A few images at a time: reading is sequential, rendering and PNG encoding run in parallel.
        int group = 2 * Environment.ProcessorCount;
        for (int start = 0; start < _entries.Count; start += group)
        {
            var batch = _entries.Skip(start).Take(group).Select(e => (Entry: e, Data: Read(reader, e))).ToList();
            Parallel.ForEach(batch, item =>
            {
                var (e, (thumb, overlay, mask)) = item;
                HeatmapRenderer.Write(Path.Combine(HeatmapDirectory, e.Name), thumb, overlay, e.Width, e.Height, mask, min, max, maskPanel);
                bar.Advance();
            });
        }

        _entries.Clear();
    }

    private static (RgbImage Thumb, float[] Overlay, BinaryMask? Mask) Read(Stream reader, Entry e)
    {
        int pixels = e.Width * e.Height;
        reader.Position = e.Offset;
        var rgb = new byte[3 * pixels];
        reader.ReadExactly(rgb);
        var overlay = new float[pixels];
        reader.ReadExactly(MemoryMarshal.AsBytes(overlay.AsSpan()));
        BinaryMask? mask = null;
        if (e.HasMask)
        {
            var bits = new byte[pixels];
            reader.ReadExactly(bits);
            mask = new BinaryMask(e.Width, e.Height, bits);
        }

        return (new RgbImage(e.Width, e.Height, rgb), overlay, mask);
    }

    public void Dispose() => _spill?.Dispose();
}
