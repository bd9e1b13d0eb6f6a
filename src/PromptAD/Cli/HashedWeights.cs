using PromptAD.Clip;
using PromptAD.Files;
using PromptAD.Tensors;

namespace PromptAD.Cli;

/// <summary>
/// CLIP weights loaded and their file hashed at once. The SHA-256 of a full-size file is about half a second of one
/// core and loading (the mapping and the finite-value scan) is the start's other big wait, so the hash runs on a worker
/// beside the load instead of before it.
/// </summary>
internal static class HashedWeights
{
    /// <param name="check">Sees the hash before the weights are handed out (a model's recorded one compared with it);
    /// when it throws, the weights are disposed.</param>
    public static (ClipWeights Weights, string Sha256) Load(FileInfo file, ClipConfig config, IBackend backend, Action<string>? check = null)
    {
        var hashing = Task.Run(() => FileHash.Sha256(file.FullName));
        ClipWeights weights;
        try
        {
            weights = ClipWeights.Load(file.FullName, config, backend);
        }
        catch
        {
            try { hashing.Wait(); } catch (AggregateException) { } // the load's error is the one to show
            throw;
        }
        try
        {
            string sha = hashing.GetAwaiter().GetResult();
            check?.Invoke(sha);
            return (weights, sha);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }
}
