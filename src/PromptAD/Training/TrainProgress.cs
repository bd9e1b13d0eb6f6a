namespace PromptAD.Training;

/// <summary>Which prompt head a training step belongs to.</summary>
public enum PromptHead
{
    Image,
    Pixel,
}

/// <summary>One finished epoch (one SGD step): the losses computed at that step and the learning rate it used.</summary>
public sealed record TrainProgress(PromptHead Head, int Epoch, int Epochs, float Loss, float Contrastive, float Margin,
    float Alignment, float LearningRate);

/// <summary>A training step just queued (epoch 1-based), with the captured step that ran it when it was replayed.</summary>
internal sealed record TrainStep(PromptHead Head, int Epoch, Tensors.ICapturedStep? Captured);
