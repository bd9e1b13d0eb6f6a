namespace PromptAD.Model;

/// <summary>A model file (or a model) that cannot be used; names the file and, where one is at fault, the tensor or key.</summary>
public sealed class ModelFileException : Exception
{
    public ModelFileException(string? filePath, string? item, string problem, Exception? inner = null)
        : base(Format(filePath, item, problem), inner)
    {
        FilePath = filePath;
        Item = item;
    }

    public string? FilePath { get; }

    /// <summary>The tensor or metadata key at fault, if any.</summary>
    public string? Item { get; }

    private static string Format(string? file, string? item, string problem) =>
        $"model {(file is null ? "" : $"'{file}'")}{(item is null ? "" : $" ({item})")}: {problem}";
}
