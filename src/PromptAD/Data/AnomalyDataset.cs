namespace PromptAD.Data;

/// <summary>
/// One category of an MVTec-AD–style dataset (MVTec AD, VisA 1-class split, or any folder in that layout):
/// <c>&lt;root&gt;/&lt;category&gt;/train/good/*</c>, <c>test/&lt;defect&gt;/*</c> and
/// <c>ground_truth/&lt;defect&gt;/&lt;name&gt;[_mask].&lt;ext&gt;</c>. Image extensions and mask naming are discovered.
/// </summary>
/// <remarks>
/// Every list is sorted by file name with ordinal comparison, so indices (few-shot files) mean the same on every
/// machine and file system. Only files directly inside each folder count; sub-folders and non-image files are ignored.
/// </remarks>
public sealed class AnomalyDataset
{
    /// <summary>Image extensions recognised (compared case-insensitively).</summary>
    public static readonly IReadOnlyList<string> ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"];

    public const string GoodFolder = "good";

    private AnomalyDataset(string root, string category, string directory, IReadOnlyList<string> train, IReadOnlyList<TestSample> test)
    {
        Root = root;
        Category = category;
        Directory = directory;
        TrainFiles = train;
        TestSamples = test;
    }

    public string Root { get; }

    public string Category { get; }

    /// <summary><c>&lt;root&gt;/&lt;category&gt;</c>.</summary>
    public string Directory { get; }

    /// <summary><c>train/good</c> images, name-sorted (the list few-shot indices point into).</summary>
    public IReadOnlyList<string> TrainFiles { get; }

    /// <summary>Test images, ordered by defect folder name, then file name.</summary>
    public IReadOnlyList<TestSample> TestSamples { get; }

    /// <summary>
    /// A category is the name of a folder directly under the dataset root, never a path: an absolute path or one with
    /// ".." would read a folder outside the dataset root, and run would write its results into that input. A usage error naming
    /// <paramref name="option"/>.
    /// </summary>
    public static void CheckCategoryName(string name, string option)
    {
        if (string.IsNullOrWhiteSpace(name) || name is "." or ".." || name.IndexOfAny(['/', '\\', '\0']) >= 0 || Path.IsPathRooted(name))
            throw new ArgumentException($"{option}: '{name}' is not a category name; give the name of a folder directly under the dataset root (e.g. bottle), not a path");
    }

    /// <param name="allowMissingMasks">When false (default), a defective test image without a mask file is an error.</param>
    public static AnomalyDataset Open(string root, string category, bool allowMissingMasks = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentException.ThrowIfNullOrEmpty(category);
        CheckCategoryName(category, "category");
        string fullRoot = Path.GetFullPath(root);
        if (!System.IO.Directory.Exists(fullRoot))
        {
            throw new DatasetException($"Dataset root '{fullRoot}' does not exist.");
        }

        string dir = Path.Combine(fullRoot, category);
        if (!System.IO.Directory.Exists(dir))
        {
            string[] existing = SortedNames(System.IO.Directory.GetDirectories(fullRoot));
            throw new DatasetException(
                $"Category folder '{dir}' does not exist. Categories under '{fullRoot}': "
                + (existing.Length == 0 ? "(none)" : string.Join(", ", existing)) + ".");
        }

        string trainDir = Path.Combine(dir, "train", GoodFolder);
        List<string> train = ListImages(trainDir, "the normal training images");
        if (train.Count == 0)
        {
            throw new DatasetException($"'{trainDir}' contains no images ({string.Join(", ", ImageExtensions)}).");
        }

        string testDir = Path.Combine(dir, "test");
        if (!System.IO.Directory.Exists(testDir))
        {
            throw new DatasetException($"Test folder '{testDir}' does not exist (expected test/<defect>/ image folders, 'good' for normal images).");
        }

        string[] defectDirs = System.IO.Directory.GetDirectories(testDir);
        Array.Sort(defectDirs, (a, b) => string.CompareOrdinal(Path.GetFileName(a), Path.GetFileName(b)));
        if (defectDirs.Length == 0)
        {
            throw new DatasetException($"Test folder '{testDir}' has no sub-folders (expected test/<defect>/ image folders, 'good' for normal images).");
        }

        var test = new List<TestSample>();
        string groundTruth = Path.Combine(dir, "ground_truth");
        foreach (string defectDir in defectDirs)
        {
            string defect = Path.GetFileName(defectDir);
            List<string> images = ListImages(defectDir, "test images");
            if (images.Count == 0)
            {
                throw new DatasetException($"Test folder '{defectDir}' contains no images ({string.Join(", ", ImageExtensions)}).");
            }

            bool anomalous = defect != GoodFolder;
            Dictionary<string, List<string>>? masksByStem = anomalous ? IndexMasks(Path.Combine(groundTruth, defect)) : null;
            foreach (string image in images)
            {
                string? mask = null;
                if (masksByStem is not null)
                {
                    mask = FindMask(masksByStem, image, Path.Combine(groundTruth, defect));
                    if (mask is null && !allowMissingMasks)
                    {
                        throw new DatasetException(
                            $"No mask for defective test image '{image}': expected '{Path.Combine(groundTruth, defect, Path.GetFileNameWithoutExtension(image))}"
                            + "_mask.png' or the same name without '_mask' (any image extension).");
                    }
                }

                test.Add(new TestSample(image, defect, anomalous, mask));
            }
        }

        return new AnomalyDataset(fullRoot, category, dir, train, test);
    }

    public static bool IsImageFile(string path)
    {
        string ext = Path.GetExtension(path);
        foreach (string e in ImageExtensions)
        {
            if (string.Equals(ext, e, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static List<string> ListImages(string folder, string what)
    {
        if (!System.IO.Directory.Exists(folder))
        {
            throw new DatasetException($"Folder '{folder}' ({what}) does not exist.");
        }

        var files = System.IO.Directory.GetFiles(folder).Where(IsImageFile).ToList();
        files.Sort((a, b) => string.CompareOrdinal(Path.GetFileName(a), Path.GetFileName(b)));
        return files;
    }

    /// <summary>Mask files of one defect folder by stem; a stem ending in "_mask" is indexed under the image's stem too.</summary>
    private static Dictionary<string, List<string>> IndexMasks(string folder)
    {
        var index = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (!System.IO.Directory.Exists(folder))
        {
            return index;
        }

        foreach (string file in System.IO.Directory.GetFiles(folder).Where(IsImageFile))
        {
            string stem = Path.GetFileNameWithoutExtension(file);
            if (!index.TryGetValue(stem, out List<string>? list))
            {
                index[stem] = list = [];
            }

            list.Add(file);
        }

        return index;
    }

    /// <summary>Prefers <c>&lt;stem&gt;_mask.*</c> (MVTec), then <c>&lt;stem&gt;.*</c> (VisA); two extensions for one name is ambiguous.</summary>
    private static string? FindMask(Dictionary<string, List<string>> masks, string image, string folder)
    {
        string stem = Path.GetFileNameWithoutExtension(image);
        foreach (string candidate in (ReadOnlySpan<string>)[stem + "_mask", stem])
        {
            if (masks.TryGetValue(candidate, out List<string>? files))
            {
                if (files.Count > 1)
                {
                    files.Sort(string.CompareOrdinal);
                    throw new DatasetException(
                        $"Ambiguous masks for '{image}' in '{folder}': {string.Join(", ", files.Select(Path.GetFileName))}.");
                }

                return files[0];
            }
        }

        return null;
    }

    private static string[] SortedNames(string[] paths)
    {
        string[] names = [.. paths.Select(Path.GetFileName).OfType<string>()];
        Array.Sort(names, string.CompareOrdinal);
        return names;
    }
}
