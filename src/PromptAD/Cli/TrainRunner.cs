using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Model;
using PromptAD.Output;
using PromptAD.Training;

namespace PromptAD.Cli;

/// <summary>Final losses of one head (the last epoch's step) and its wall time.</summary>
internal sealed record HeadSummary(PromptHead Head, int Epochs, float Loss, float Contrastive, float Margin, float Alignment, double Seconds);

internal sealed record TrainOutcome(PromptAdModel Model, IReadOnlyList<HeadSummary> Heads, double Seconds);

/// <summary>
/// Trains one category (shared by train, run and demo): preprocesses the shots (or takes their cached features) (an unreadable shot is an error, a
/// model needs all k), trains both heads with a progress bar per head, and returns the model and final losses.
/// </summary>
internal static class TrainRunner
{
    public static TrainOutcome Train(ClipWeights weights, AnomalyDataset dataset, IReadOnlyList<string> shots, TrainOptions options,
        PromptSource prompts, string? weightsSha256, PromptAdModel? init = null, TextWriter? progressWriter = null, ImageFeatures? shotFeatures = null)
    {
        var pre = new ClipPreprocessor(weights.Config.Vision.ImageSize);
        // With the shots' features given (run's feature cache), their images are neither read nor encoded again.
        List<float[]> images = shotFeatures is null ? [.. shots.Select(f => pre.Preprocess(f))] : [];
        var set = new TrainingSet(dataset.Category, prompts.ClassName(dataset.Category), prompts.StatesFor(dataset.Category), images,
            [.. shots.Select(f => Path.GetRelativePath(dataset.Root, f).Replace('\\', '/'))], weightsSha256);

        var heads = new List<HeadSummary>();
        ConsoleProgress? bar = null;
        TrainProgress? last = null;
        var total = Stopwatch.StartNew();
        var headClock = Stopwatch.StartNew();
        void Finish()
        {
            bar?.Complete();
            if (last is { } l) heads.Add(new HeadSummary(l.Head, l.Epochs, l.Loss, l.Contrastive, l.Margin, l.Alignment, headClock.Elapsed.TotalSeconds));
            headClock.Restart();
        }
        var progress = new SyncProgress<TrainProgress>(p =>
        {
            if (last is not null && last.Head != p.Head) { Finish(); bar = null; }
            bar ??= new ConsoleProgress($"train {dataset.Category} {(p.Head == PromptHead.Image ? "image head" : "pixel head")}", p.Epochs, progressWriter);
            bar.Report(p.Epoch);
            last = p;
        });
        var trained = shotFeatures is null ? Trainer.Train(weights, set, options, init, progress)
            : Trainer.Train(weights, set, shotFeatures, options, init, progress);
        Finish();
        double seconds = total.Elapsed.TotalSeconds;
        // The training time travels in the model, so that `test` can report it later.
        var model = new PromptAdModel(trained.Metadata with { TrainSeconds = seconds }, trained.Image, trained.Pixel,
            trained.ImagePrototypes, trained.PixelPrototypes, trained.Mid1, trained.Mid2);
        trained.Dispose();
        return new TrainOutcome(model, heads, seconds);
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
