using PromptAD.Tensors;

namespace PromptAD.Training;

/// <summary>
/// Gets each step's four losses to the progress callback without stalling the device: the read is queued behind the
/// step (<see cref="IBackend.ReadLater"/>) and reported once it has arrived, at a later step or at the head's last
/// epoch, in epoch order. Nothing is read when nobody listens.
/// </summary>
internal sealed class LossReadback(PromptHead head, int epochs, IProgress<TrainProgress>? progress) : IDisposable
{
    private readonly Queue<(PendingRead Losses, int Epoch, float LearningRate)> pending = new();

    /// <summary>Queues the read of one step's losses (call inside the step's scope) and reports every read that has arrived.</summary>
    public void Read(LossTerms terms, int epoch, float learningRate)
    {
        if (progress is null) return;
        pending.Enqueue((terms.Total.Backend.ReadLater([terms.Total, terms.Contrastive, terms.Margin, terms.Alignment]), epoch, learningRate));
        while (pending.Count > 0 && (pending.Peek().Losses.IsReady || epoch == epochs))
        {
            var (losses, e, lr) = pending.Dequeue();
            using (losses)
            {
                var v = losses.Values();
                progress.Report(new TrainProgress(head, e, epochs, v[0], v[1], v[2], v[3], lr));
            }
        }
    }

    public void Dispose()
    {
        while (pending.Count > 0) pending.Dequeue().Losses.Dispose();
    }
}
