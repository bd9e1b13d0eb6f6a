using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Files;
using PromptAD.Model;
using PromptAD.Terminal;
using PromptAD.Training;

namespace PromptAD.Jobs;

/// <summary>Final losses of one head (the last epoch's step) and its wall time.</summary>
internal sealed record HeadSummary(PromptHead Head, int Epochs, float Loss, float Contrastive, float Margin, float Alignment, double Seconds);

internal sealed record TrainOutcome(PromptAdModel Model, IReadOnlyList<HeadSummary> Heads, double Seconds);

/// <summary>
/// Trains one category (shared by train, run and demo): preprocesses the shots, or takes their cached features (an
/// unreadable shot is an error, a model needs all k), trains both heads with a progress bar per head, and returns the
/// model and final losses; <see cref="TrainTogether"/> does several runs of a category at once.
/// </summary>
internal static class TrainRunner
{
    public static TrainOutcome Train(ClipWeights weights, AnomalyDataset dataset, IReadOnlyList<string> shots, TrainOptions options,
        PromptSource prompts, string? weightsSha256, PromptAdModel? init = null, TextWriter? progressWriter = null, ImageFeatures? shotFeatures = null)
    {
        if (options.PairingNotice() is { } pairing) OnceNotice.Write(pairing);
        // With the shots' features given (run's feature cache), their images are neither read nor encoded again.
        List<float[]> images = shotFeatures is null ? [.. new ImageBatchEncoder(weights, options.MidFeatures).DecodeAll(shots)] : [];
        var set = Set(dataset, shots, images, prompts, weightsSha256);
        return Run(dataset, 1, progressWriter, progress => [shotFeatures is null ? Trainer.Train(weights, set, options, init, progress[0])
            : Trainer.Train(weights, set, shotFeatures, options, init, progress[0])])[0];
    }

    /// <summary>
    /// Trains runs of one category together from their shots' features (<see cref="Trainer.TrainTogether"/>): one
    /// progress bar per head for all of them; each run's time is the group's divided among its runs.
    /// </summary>
    public static IReadOnlyList<TrainOutcome> TrainTogether(ClipWeights weights, AnomalyDataset dataset,
        IReadOnlyList<(IReadOnlyList<string> Shots, TrainOptions Options, ImageFeatures Features)> runs, PromptSource prompts, string? weightsSha256,
        TextWriter? progressWriter = null)
    {
        var trainingRuns = runs.Select(r => new TrainingRun(Set(dataset, r.Shots, [], prompts, weightsSha256), r.Features, r.Options)).ToList();
        return Run(dataset, runs.Count, progressWriter, progress => Trainer.TrainTogether(weights, trainingRuns, progress));
    }

    private static TrainingSet Set(AnomalyDataset dataset, IReadOnlyList<string> shots, List<float[]> images, PromptSource prompts, string? weightsSha256) =>
        new(dataset.Category, prompts.ClassName(dataset.Category), prompts.StatesFor(dataset.Category), images,
            [.. shots.Select(f => Path.GetRelativePath(dataset.Root, f).Replace('\\', '/'))], weightsSha256, [.. shots.Select(FileHash.Sha256)]);

    /// <summary>Runs <paramref name="train"/> with a progress bar per head (driven by the first run) and collects each
    /// run's final losses per head and its time.</summary>
    private static List<TrainOutcome> Run(AnomalyDataset dataset, int count, TextWriter? progressWriter,
        Func<IReadOnlyList<IProgress<TrainProgress>?>, IReadOnlyList<PromptAdModel>> train)
    {
        var heads = Enumerable.Range(0, count).Select(_ => new List<HeadSummary>()).ToArray();
        var last = new TrainProgress?[count];
        ConsoleProgress? bar = null;
        var total = Stopwatch.StartNew();
        var headClock = Stopwatch.StartNew();
        void Finish()
        {
            bar?.Complete();
            bar = null;
            for (int r = 0; r < count; r++)
                if (last[r] is { } l) heads[r].Add(new HeadSummary(l.Head, l.Epochs, l.Loss, l.Contrastive, l.Margin, l.Alignment, headClock.Elapsed.TotalSeconds / count));
            Array.Clear(last);
            headClock.Restart();
        }
        var progress = Enumerable.Range(0, count).Select(r => (IProgress<TrainProgress>?)new SyncProgress<TrainProgress>(p =>
        {
            if (r == 0)
            {
                if (last[0] is not null && last[0]!.Head != p.Head) Finish();
                string runs = count == 1 ? "" : $", {count} runs";
                bar ??= new ConsoleProgress($"train {dataset.Category} {(p.Head == PromptHead.Image ? "image head" : "pixel head")}{runs}", p.Epochs, progressWriter);
                bar.Report(p.Epoch);
            }
            last[r] = p;
            NonFiniteLoss.Check(p, dataset.Category);
        })).ToList();
        var trained = train(progress);
        Finish();
        double seconds = total.Elapsed.TotalSeconds / count;
        // The training time travels in the model, so that `test` can report it later.
        return [.. trained.Select((t, r) =>
        {
            var model = t.With(m => m with { TrainSeconds = seconds });
            t.Dispose();
            return new TrainOutcome(model, heads[r], seconds);
        })];
    }

    public static SummaryTable LossTable(TrainOutcome outcome)
    {
        var table = new SummaryTable("head", "epochs", "loss", "contrastive", "margin", "alignment", "seconds");
        foreach (var h in outcome.Heads)
            table.AddRow(h.Head.ToString().ToLowerInvariant(), Fmt.I(h.Epochs), Fmt.F(h.Loss, 4), Fmt.F(h.Contrastive, 4), Fmt.F(h.Margin, 4),
                Fmt.F(h.Alignment, 5), Fmt.F(h.Seconds, 1));
        return table;
    }
}
