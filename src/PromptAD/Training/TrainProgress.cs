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
