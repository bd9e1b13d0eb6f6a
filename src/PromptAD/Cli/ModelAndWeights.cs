using PromptAD.Clip;
using PromptAD.Files;
using PromptAD.Model;
using PromptAD.Tensors;

namespace PromptAD.Cli;

/// <summary>
/// A trained model and the CLIP weights to score with, checked to belong together before any image is read: the
/// backbone (the model's own unless --backbone overrides it) and the weights file's SHA-256 against the one recorded
/// at training. Either mismatch is one clear error naming the model file.
/// </summary>
internal sealed class ModelAndWeights : IDisposable
{
    private readonly IBackend _backend;

    private ModelAndWeights(PromptAdModel model, ClipWeights weights, IBackend backend)
    {
        Model = model;
        Weights = weights;
        _backend = backend;
    }

    public PromptAdModel Model { get; }
    public ClipWeights Weights { get; }

    public static ModelAndWeights Open(FileInfo modelFile, FileInfo weightsFile, string? backbone, Pipeline.ComputeDevice device)
    {
        CommonOptions.CheckExists(modelFile, "Model");
        CommonOptions.CheckExists(weightsFile, "Weights");
        // Hashing a full-size weights file is about half a second of one core: it runs beside the model's reading and
        // the weights' loading (mapping and the finite-value scan), which are the start's other big waits, and is
        // checked before the weights are handed out, so nothing is scored with weights that are not the model's.
        var hashing = Task.Run(() => FileHash.Sha256(weightsFile.FullName));
        PromptAdModel? model = null;
        IBackend? backend = null;
        ClipWeights? weights = null;
        try
        {
            model = PromptAdModel.Load(modelFile.FullName);
            var config = ClipConfigs.Load(backbone ?? model.Metadata.Backbone);
            model.CheckCompatible(config);
            backend = BackendChoice.Create(device);
            weights = ClipWeights.Load(weightsFile.FullName, config, backend);
            model.CheckCompatible(config, hashing.GetAwaiter().GetResult());
            return new ModelAndWeights(model, weights, backend);
        }
        catch
        {
            // The hash's own failure (an unreadable file) is the error to show only when nothing failed before it.
            try { hashing.Wait(); } catch (AggregateException) { }
            weights?.Dispose();
            backend?.Dispose();
            model?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Weights.Dispose();
        _backend.Dispose(); // after the weights: their device memory belongs to it (CPU: a no-op)
        Model.Dispose();
    }
}
