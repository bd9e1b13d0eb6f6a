namespace PromptAD.Heatmaps;

/// <summary>
/// Heatmap file names, given one image at a time: named after the image; a name already taken (same file name in two
/// folders, or a.png beside a.jpg) gets the first free suffix _2, _3, …, never one an earlier image holds (a_2.png
/// given as an image too). Case-insensitive, so no two names fall on one file on Windows or macOS.
/// </summary>
public sealed class HeatmapNames
{
    private readonly HashSet<string> _taken = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The PNG name for the next image.</summary>
    public string Next(string imagePath)
    {
        string stem = Path.GetFileNameWithoutExtension(imagePath), name = stem + ".png";
        for (int n = 2; !_taken.Add(name); n++) name = $"{stem}_{n}.png";
        return name;
    }

    /// <summary>Names for a whole list at once, in order.</summary>
    public static List<string> For(IEnumerable<string> imagePaths)
    {
        var names = new HeatmapNames();
        return [.. imagePaths.Select(names.Next)];
    }
}
