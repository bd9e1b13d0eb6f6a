using PromptAD.Clip;
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
        var model = PromptAdModel.Load(modelFile.FullName);
        IBackend? backend = null;
        try
        {
            var config = ClipConfigs.Load(backbone ?? model.Metadata.Backbone);
            model.CheckCompatible(config);
            backend = BackendChoice.Create(device);
            var (weights, _) = HashedWeights.Load(weightsFile, config, backend, sha => model.CheckCompatible(config, sha));
            return new ModelAndWeights(model, weights, backend);
        }
        catch
        {
            backend?.Dispose();
            model.Dispose();
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
