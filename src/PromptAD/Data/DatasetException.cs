namespace PromptAD.Data;

/// <summary>A dataset folder, shots file or prompts file is missing or not in the expected layout. The message names the path.</summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string message)
        : base(message)
    {
    }

    public DatasetException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
