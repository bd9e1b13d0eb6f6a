namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// A safetensors file is malformed. The message always names the file and, where one is involved, the tensor, so a
/// bad checkpoint can be identified from a log line alone.
/// </summary>
public sealed class SafeTensorsFormatException : Exception
{
    public SafeTensorsFormatException(string filePath, string? tensorName, string problem)
        : base(Compose(filePath, tensorName, problem))
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    public SafeTensorsFormatException(string filePath, string? tensorName, string problem, Exception inner)
        : base(Compose(filePath, tensorName, problem), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    /// <summary>The file that failed validation.</summary>
    public string FilePath { get; }

    /// <summary>The offending tensor entry, or null when the problem is file-wide.</summary>
    public string? TensorName { get; }

    private static string Compose(string filePath, string? tensorName, string problem) =>
        tensorName is null
            ? $"Invalid safetensors file '{filePath}': {problem}"
            : $"Invalid safetensors file '{filePath}', tensor '{tensorName}': {problem}";
}
