using PromptAD.Tensors;

namespace PromptAD.Training;

/// <summary>
/// Gets each step's four losses to the progress callback without a host copy per step: the step itself writes them
/// into a loss history on the backend at its clock's index (<see cref="Record"/>, part of a captured step), and every
/// <see cref="ReadEvery"/> epochs (and at the head's last one) the new rows are read with one queued copy
/// (<see cref="IBackend.ReadLater"/>) and reported once they have arrived, epoch by epoch, in order. Nothing is
/// written or read when nobody listens.
/// </summary>
internal sealed class LossReadback : IDisposable
{
    /// <summary>Epochs per read of a device's history: there the progress line moves in steps of this many epochs.
    /// On the CPU a read is no copy at all, so it reads after every epoch.</summary>
    public const int ReadEvery = 10;

    private const int Terms = 4;
    private readonly PromptHead head;
    private readonly TrainingClock clock;
    private readonly IProgress<TrainProgress>? progress;
    private readonly Tensor? history;
    private readonly Queue<(PendingRead Losses, int First, int Count)> pending = new();
    private readonly int readEvery;
    private int requested;

    public LossReadback(IBackend backend, PromptHead head, TrainingClock clock, IProgress<TrainProgress>? progress)
    {
        this.head = head;
        this.clock = clock;
        this.progress = progress;
        readEvery = backend is Tensors.Cpu.CpuBackend ? 1 : ReadEvery;
        if (progress is null) return;
        history = Tensor.Zeros(backend, clock.Steps, Terms);
        TensorScope.Detach(history);
    }

    /// <summary>Queues the write of this step's losses at the clock's step (inside the step, before the clock advances).</summary>
    public void Record(LossTerms terms)
    {
        if (history is null) return;
        var be = history.Backend;
        be.WriteAtStep(terms.Total, history, clock.Step, Terms, 0);
        be.WriteAtStep(terms.Contrastive, history, clock.Step, Terms, 1);
        be.WriteAtStep(terms.Margin, history, clock.Step, Terms, 2);
        be.WriteAtStep(terms.Alignment, history, clock.Step, Terms, 3);
    }

    /// <summary>After epoch <paramref name="epoch"/> (1-based) is queued: reads the history when due, reports what has arrived.</summary>
    public void AfterStep(int epoch)
    {
        if (history is null || progress is null) return;
        bool last = epoch == clock.Steps;
        if (epoch % readEvery == 0 || last)
        {
            using var rows = history.RowsView(requested, epoch - requested);
            pending.Enqueue((history.Backend.ReadLater([rows]), requested, epoch - requested));
            requested = epoch;
        }
        while (pending.Count > 0 && (last || pending.Peek().Losses.IsReady))
        {
            var (losses, first, count) = pending.Dequeue();
            using (losses)
            {
                var v = losses.Values();
                for (int i = 0; i < count; i++)
                {
                    int step = first + i;
                    progress.Report(new TrainProgress(head, step + 1, clock.Steps, v[i * Terms], v[i * Terms + 1], v[i * Terms + 2],
                        v[i * Terms + 3], clock.LearningRate(step)));
                }
            }
        }
    }

    public void Dispose()
    {
        while (pending.Count > 0) pending.Dequeue().Losses.Dispose();
        history?.Dispose();
    }
}
