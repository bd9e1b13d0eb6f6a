using PromptAD.Model;

namespace PromptAD.Training;

/// <summary>
/// What one category's training needs: the class-name word, the anomaly states (generic then the category's own, see
/// <see cref="Prompting.PromptSet.StatesFor"/>), and the k few-shot images preprocessed to CHW floats
/// (ClipPreprocessor). <see cref="ShotFiles"/>, <see cref="WeightsSha256"/> and <see cref="ShotSha256"/> only go into the
/// model's metadata.
/// </summary>
public sealed record TrainingSet(string Category, string ClassName, IReadOnlyList<string> States,
    IReadOnlyList<float[]> Shots, IReadOnlyList<string> ShotFiles, string? WeightsSha256 = null, IReadOnlyList<string>? ShotSha256 = null);

/// <summary>One run of <see cref="Trainer.TrainTogether"/>: its data (class word, states, shot names), its shots'
/// normalized features and its options.</summary>
public sealed record TrainingRun(TrainingSet Data, Clip.ImageFeatures Shots, TrainOptions Options);
