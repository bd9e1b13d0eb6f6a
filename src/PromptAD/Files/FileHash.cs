using System.Security.Cryptography;

namespace PromptAD.Files;

/// <summary>SHA-256 of a weights file, recorded in a model so that scoring with other weights is caught.</summary>
internal static class FileHash
{
    public static string Sha256(string path)
    {
        Clip.IO.InputFile.Check(path, "file", Clip.IO.InputFile.SafetensorsCap); // never a FIFO or device
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
