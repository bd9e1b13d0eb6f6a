namespace PromptAD.Clip.Imaging;

/// <summary>An image file could not be read: missing, corrupt, truncated, unsupported or too large.</summary>
public sealed class ImageLoadException : Exception
{
    public ImageLoadException(string path, string reason, Exception? inner = null)
        : base($"Cannot load image '{path}': {reason}", inner)
    {
        ImagePath = path;
    }

    /// <summary>The file (or stream name) that failed.</summary>
    public string ImagePath { get; }
}
