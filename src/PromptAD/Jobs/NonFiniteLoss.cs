using PromptAD.Training;

namespace PromptAD.Jobs;

/// <summary>
/// Training stops at the first epoch whose reported loss is NaN or infinite: every later step would only spread NaN
/// into the learned vectors, and the model written at the end would score every image NaN. Checked on the values the
/// progress reports, so it costs nothing beyond what the progress bar already reads back.
/// </summary>
internal static class NonFiniteLoss
{
    public static void Check(TrainProgress p, string category)
    {
        if (float.IsFinite(p.Loss) && float.IsFinite(p.Contrastive) && float.IsFinite(p.Margin) && float.IsFinite(p.Alignment)) return;
        string head = p.Head == PromptHead.Image ? "image" : "pixel";
        throw new TrainingFailedException($"training {category}: the {head} head's loss became non-finite at epoch {p.Epoch}/{p.Epochs} "
            + $"(loss {p.Loss}, contrastive {p.Contrastive}, margin {p.Margin}, alignment {p.Alignment}); "
            + "check the weights and shots for NaN/Inf or extreme values (the exp logit scale on odd weights can overflow). No model was written.");
    }
}

/// <summary>Training could not produce a usable model (exit 1).</summary>
internal sealed class TrainingFailedException(string message) : Exception(message);
