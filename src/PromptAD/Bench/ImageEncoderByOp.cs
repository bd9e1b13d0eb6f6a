using Stopwatch = System.Diagnostics.Stopwatch;
using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Tensors;

namespace PromptAD.Bench;

/// <summary>One batch size's per-op-kind profile of the image encoder: seconds and FLOPs per image for each kind.</summary>
public sealed record ByOpProfile(int Batch, double SecondsPerImage, IReadOnlyDictionary<string, (double Seconds, double Flops)> PerImage)
{
    /// <summary>Seconds per image outside every traced op (allocation, scope disposal, dispatch).</summary>
    public double Untraced => SecondsPerImage - PerImage.Values.Sum(v => v.Seconds);

    /// <summary>The encoder alone (without preprocessing): seconds per image.</summary>
    public double EncoderSeconds => SecondsPerImage - PerImage[OpBreakdown.Kinds[8]].Seconds;

    /// <summary>Every counted FLOP of the encoder per image (GEMMs, attention, the V-V path).</summary>
    public double EncoderFlops => PerImage.Values.Sum(v => v.Flops);

    /// <summary>Effective GFLOP/s of the GEMMs alone in this run: the rate the encoder is measured against.</summary>
    public double GemmGflops => Gflops(PerImage[OpBreakdown.Kinds[0]]);

    internal static double Gflops((double Seconds, double Flops) v) => v.Seconds > 0 ? v.Flops / v.Seconds / 1e9 : 0;
}

/// <summary>
/// `promptad bench clip --by-op`: where the image encoder's time goes. Each image is preprocessed from a synthetic
/// 900×900 picture (MVTec's size: Pillow-exact bicubic resize and normalisation), then the batch is encoded with both
/// paths; a trace sink (<see cref="OpBreakdown"/>) charges the time to op kinds. The per-op timestamps cost a few
/// microseconds per op, so the total is a little above the plain throughput run's.
/// </summary>
public static class ImageEncoderByOp
{
    private const int SourceSize = 900;

    public static ByOpProfile Measure(ClipWeights weights, int batch, int reps)
    {
        var v = weights.Config.Vision;
        var encoder = new ClipImageEncoder(weights);
        var preprocessor = new ImageBatchEncoder(weights, MidFeatureMode.AsPublished).Preprocessor;
        var rng = new Random(2);
        var source = new byte[SourceSize * SourceSize * 3];
        rng.NextBytes(source);
        var picture = new RgbImage(SourceSize, SourceSize, source);
        int length = 3 * v.ImageSize * v.ImageSize;
        var pixels = new float[batch * length];
        void Run()
        {
            using (Trace.Scope("preprocess"))
                for (int b = 0; b < batch; b++)
                    preprocessor.Preprocess(picture).CopyTo(pixels, b * length);
            using var features = encoder.EncodeRaw(pixels, batch);
            weights.Backend.Synchronize();
        }

        Run(); // warm-up: pack buffers, pools, JIT
        var sink = new OpBreakdown();
        var previous = Trace.Sink;
        Trace.Sink = sink;
        long start = Stopwatch.GetTimestamp();
        try
        {
            for (int i = 0; i < reps; i++) Run();
        }
        finally
        {
            Trace.Sink = previous;
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double images = (double)batch * reps;
        var perImage = OpBreakdown.Kinds.ToDictionary(k => k, k => (sink.Seconds(k) / images, sink.Flops(k) / images));
        return new ByOpProfile(batch, seconds / images, perImage);
    }

    public static void Print(IReadOnlyList<ByOpProfile> profiles, TextWriter output)
    {
        output.WriteLine("Image encoder by op kind (time per image; share of the total; effective GFLOP/s where the op counts its FLOPs):");
        string header = $"{"op kind",-42}";
        foreach (var p in profiles) header += $" {$"b{p.Batch} ms/img",11} {"share",6} {"GFLOP/s",8}";
        output.WriteLine(header);
        foreach (string kind in OpBreakdown.Kinds)
        {
            string line = $"{kind,-42}";
            foreach (var p in profiles)
            {
                var k = p.PerImage[kind];
                string rate = k.Flops > 0 ? ByOpProfile.Gflops(k).ToString("F0") : "-";
                line += $" {k.Seconds * 1e3,11:F1} {k.Seconds / p.SecondsPerImage,6:P0} {rate,8}";
            }
            output.WriteLine(line);
        }
        string untraced = $"{"untraced (allocation, dispatch)",-42}";
        string total = $"{"total",-42}";
        foreach (var p in profiles)
        {
            untraced += $" {p.Untraced * 1e3,11:F1} {p.Untraced / p.SecondsPerImage,6:P0} {"-",8}";
            total += $" {p.SecondsPerImage * 1e3,11:F1} {1,6:P0} {"-",8}";
        }
        output.WriteLine(untraced);
        output.WriteLine(total);
        foreach (var p in profiles)
        {
            double rate = p.EncoderFlops / p.EncoderSeconds / 1e9;
            output.WriteLine($"batch {p.Batch}: encoder {p.EncoderFlops / 1e9:F1} GFLOP/image in {p.EncoderSeconds * 1e3:F0} ms = {rate:F0} GFLOP/s, "
                + $"{rate / p.GemmGflops:P0} of its own GEMMs' {p.GemmGflops:F0} GFLOP/s ({1 / p.EncoderSeconds:F2} img/s without preprocessing)");
        }
    }
}
