namespace PromptAD.Data;

/// <summary>Expands command-line image arguments (files and folders) into a list of image paths.</summary>
internal static class ImageFiles
{
    public static IReadOnlyList<string> Expand(IEnumerable<string> arguments)
    {
        var files = new List<string>();
        foreach (var arg in arguments)
        {
            if (Directory.Exists(arg))
            {
                var inside = Directory.EnumerateFiles(arg).Where(AnomalyDataset.IsImageFile).Order(StringComparer.Ordinal).ToList();
                if (inside.Count == 0) throw new ArgumentException($"{arg}: the folder holds no image ({string.Join(", ", AnomalyDataset.ImageExtensions)})");
                files.AddRange(inside);
            }
            else if (File.Exists(arg)) files.Add(Path.GetFullPath(arg));
            else throw new FileNotFoundException($"{arg}: no such image file or folder", arg);
        }
        return files;
    }
}
