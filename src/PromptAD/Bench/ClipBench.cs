using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench clip`: CLIP encoder throughput with random weights: image encoder (with the V-V path) at batch 1
/// and 8 in images/s, and the text encoder on 54 prompts of PromptAD's shape (4 learned vectors each), forward and
/// forward+backward, in prompts/s.
/// With <see cref="Options.ByOp"/> (CPU only) also where the image encoder's time goes, per op kind, at batch 1 and 8
/// (see <see cref="ImageEncoderByOp"/>).
/// </summary>
public static class ClipBench
{
    private const int Prompts = 54, LearnedPerPrompt = 4, PromptEnd = 12;

    /// <param name="Config">the CLIP configuration (random weights)</param>
    /// <param name="Reps">timed repetitions after one warm-up (the fastest is kept)</param>
    /// <param name="ByOp">also the per-op table of the image encoder on the CPU</param>
    public sealed record Options(string Config, int Reps, bool ByOp);

    public static int Run(Options options, IBackend backend)
    {
        var ours = Measure(options, backend);
        Console.WriteLine();
        Console.WriteLine($"{"measure",-38} {"per second",12}");
        foreach (var (key, value) in ours)
            Console.WriteLine($"{key,-38} {value,12:F2}");
        if (options.ByOp) PrintByOp(options);
        return 0;
    }

    /// <summary>The per-op table for the options' configuration and repetitions, on the CPU backend (the only one that
    /// times each op as it runs; a GPU queues its ops).</summary>
    public static void PrintByOp(Options options)
    {
        var config = ClipConfigs.Load(options.Config);
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, seed: 0);
        int reps = options.Reps;
        var rows = new[] { 1, 8 }.Select(batch => ImageEncoderByOp.Measure(weights, batch, reps)).ToArray();
        Console.WriteLine();
        ImageEncoderByOp.Print(rows, Console.Out);
    }

    /// <summary>Our throughputs (keys like image_b8_images_per_s, text_forward_prompts_per_s, in table order) for
    /// the options' configuration and repetitions on <paramref name="be"/>.</summary>
    public static Dictionary<string, double> Measure(Options options, IBackend be)
    {
        string configName = options.Config;
        int reps = options.Reps;
        var config = ClipConfigs.Load(configName);
        Console.WriteLine($"CLIP bench: {configName}, backend {be.Name}, {Environment.ProcessorCount} cores, {reps} rep(s) after a warm-up");

        var ours = new Dictionary<string, double>();
        using var weights = ClipWeights.Random(config, be, seed: 0);
        var image = new ClipImageEncoder(weights);
        var text = new ClipTextEncoder(weights);
        var rng = new Random(1);
        foreach (int batch in new[] { 1, 8 })
        {
            var pixels = new float[batch * 3 * config.Vision.ImageSize * config.Vision.ImageSize];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)(rng.NextDouble() * 2 - 1);
            ours[$"image_b{batch}_images_per_s"] = batch / Time(reps, () => { using var f = image.EncodeRaw(pixels, batch); be.Synchronize(); });
        }

        var (ids, positions) = BenchPrompts(config);
        var learnedHost = new float[Prompts * LearnedPerPrompt * config.Text.Width];
        for (int i = 0; i < learnedHost.Length; i++) learnedHost[i] = (float)(rng.NextDouble() - 0.5) * 0.04f;
        ours["text_forward_prompts_per_s"] = Prompts / Time(reps, () =>
        {
            using var scope = TensorScope.Open();
            var learned = Tensor.FromArray(be, learnedHost, Prompts * LearnedPerPrompt, config.Text.Width);
            text.Encode(ids, learned, positions);
            be.Synchronize();
        });
        ours["text_forward_backward_prompts_per_s"] = Prompts / Time(reps, () =>
        {
            using var scope = TensorScope.Open();
            var learned = Tensor.FromArray(be, learnedHost, Prompts * LearnedPerPrompt, config.Text.Width);
            learned.RequiresGrad = true;
            Backprop.Backward(Ops.Mean(text.Encode(ids, learned, positions)));
            be.Synchronize();
            learned.ZeroGrad();
        });
        return ours;
    }

    /// <summary>PromptAD-shaped prompts: [SOT, 4 learned slots, 7 ordinary tokens, EOT], end at position 12.</summary>
    private static (int[][] Ids, int[][] Positions) BenchPrompts(ClipConfig config)
    {
        var ids = new int[Prompts][];
        var positions = new int[Prompts][];
        for (int b = 0; b < Prompts; b++)
        {
            ids[b] = new int[config.Text.ContextLength];
            ids[b][0] = config.Text.StartToken;
            for (int i = 1; i < PromptEnd; i++) ids[b][i] = (320 + b + i) % (config.Text.VocabSize - 2);
            ids[b][PromptEnd] = config.Text.EndToken;
            positions[b] = Enumerable.Range(1, LearnedPerPrompt).ToArray();
        }
        return (ids, positions);
    }

    /// <summary>Seconds per call: one warm-up, then the fastest of <paramref name="reps"/> timed calls (the least
    /// disturbed by other processes on a shared machine).</summary>
    private static double Time(int reps, Action work)
    {
        work();
        double best = double.MaxValue;
        for (int i = 0; i < Math.Max(1, reps); i++)
        {
            var sw = Stopwatch.StartNew();
            work();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
