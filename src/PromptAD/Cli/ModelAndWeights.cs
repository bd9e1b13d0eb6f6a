using PromptAD.Clip;
using PromptAD.Model;

namespace PromptAD.Cli;

/// <summary>
/// A trained model and the CLIP weights to score with, checked to belong together before any image is read: the
/// backbone (the model's own unless --backbone overrides it) and the weights file's SHA-256 against the one recorded
/// at training. Either mismatch is one clear error naming the model file.
/// </summary>
internal sealed class ModelAndWeights : IDisposable
{
    private ModelAndWeights(PromptAdModel model, ClipWeights weights)
    {
        Model = model;
        Weights = weights;
    }

    public PromptAdModel Model { get; }
    public ClipWeights Weights { get; }

    public static ModelAndWeights Open(FileInfo modelFile, FileInfo weightsFile, string? backbone, string device)
    {
        if (!modelFile.Exists) throw new FileNotFoundException($"Model file '{modelFile.FullName}' does not exist.", modelFile.FullName);
        if (!weightsFile.Exists) throw new FileNotFoundException($"Weights file '{weightsFile.FullName}' does not exist.", weightsFile.FullName);
        var model = PromptAdModel.Load(modelFile.FullName);
        try
        {
            var config = ClipConfigs.Load(backbone ?? model.Metadata.Backbone);
            model.CheckCompatible(config, FileHash.Sha256(weightsFile.FullName));
            var weights = ClipWeights.Load(weightsFile.FullName, config, BackendChoice.Create(device));
            return new ModelAndWeights(model, weights);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Weights.Dispose();
        Model.Dispose();
    }
}
