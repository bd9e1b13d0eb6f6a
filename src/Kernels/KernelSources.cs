using System.Reflection;

namespace PromptAD.Kernels;

/// <summary>
/// The CUDA C sources embedded in this assembly (resources named <c>kernels/&lt;file&gt;</c>). <c>.cu</c> files are
/// compilation units; <c>.cuh</c> files are headers handed to NVRTC in memory.
/// </summary>
public static class KernelSources
{
    private const string Prefix = "kernels/";
    private static readonly Assembly Self = typeof(KernelSources).Assembly;

    /// <summary>File names (e.g. "layernorm.cu") of every embedded compilation unit, sorted.</summary>
    public static IReadOnlyList<string> Files { get; } = List(".cu");

    /// <summary>Header name to text, for every embedded .cuh.</summary>
    public static IReadOnlyDictionary<string, string> Headers { get; } = List(".cuh").ToDictionary(h => h, Read, StringComparer.Ordinal);

    /// <summary>The text of an embedded kernel file.</summary>
    public static string Read(string fileName)
    {
        using Stream stream = Self.GetManifestResourceStream(Prefix + fileName)
            ?? throw new FileNotFoundException($"No embedded kernel source '{fileName}'. Embedded: {string.Join(", ", Files)}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string[] List(string extension) =>
        Self.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(extension, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToArray();
}
