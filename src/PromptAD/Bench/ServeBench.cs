using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Model;
using PromptAD.Scoring;
using PromptAD.Serving;
using PromptAD.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench serve`: the HTTP service on this machine, with random weights and a 1-shot model of random
/// prompts (scores are meaningless; the work per image is the real one): images/s and p50/p99 latency of
/// <c>POST /score</c>, first one request at a time (batch 1), then --clients concurrent clients whose requests the
/// service batches together (up to --batch). Requests go through real loopback HTTP (PNG bodies, decode included).
/// Options: --config NAME (default ViT-B-16-plus-240), --requests N per phase (default 24), --clients C (default 8),
/// --batch B (default 8), --size S (map side, default 400), --device cpu|cuda, --precision fp32|tf32|bf16 (cuda).
/// </summary>
public static class ServeBench
{
    public static int Run(IReadOnlyList<string> args)
    {
        string? unknown = BenchArgs.Unknown(args, ["--config", "--requests", "--clients", "--batch", "--size", "--device", "--precision"], []);
        if (unknown is not null) throw new ArgumentException($"bench serve: unknown option '{unknown}'");
        string configName = BenchArgs.String(args, "--config") ?? ClipConfigs.Default;
        int requests = BenchArgs.Int(args, "--requests", 24), clients = BenchArgs.Int(args, "--clients", 8);
        int batch = BenchArgs.Int(args, "--batch", 8), size = BenchArgs.Int(args, "--size", AnomalyScorer.DefaultOutputSize);
        var config = ClipConfigs.Load(configName);
        using var backend = Devices.BackendChoice.Create(BenchArgs.String(args, "--device") ?? "cpu", BenchArgs.String(args, "--precision") ?? "fp32");
        Console.WriteLine($"serve bench: {configName} (RANDOM WEIGHTS), backend {backend.Name}, {Environment.ProcessorCount} cores, " +
            $"maps {size}×{size}, {requests} requests per phase, {clients} clients, --batch {batch}");

        using var weights = ClipWeights.Random(config, backend, seed: 0);
        byte[] png = Png(320, 320, seed: 1);
        var pre = new Clip.Imaging.ClipPreprocessor(config.Vision.ImageSize);
        using var shotImage = new MemoryStream(png);
        var shot = pre.Preprocess(Clip.Imaging.ImageLoader.Load(shotImage, "bench image"));
        var set = new TrainingSet("part", "part", ["damaged {}"], [shot], ["bench.png"]);
        using var model = Trainer.Train(weights, set, new TrainOptions { Epochs = 0 });
        using var service = new ScoringService(weights, new Dictionary<string, PromptAdModel> { ["part"] = model }, size, batch);
        var batches = new List<int>();
        service.BeforeBatch = n => { lock (batches) batches.Add(n); };
        var door = new HttpFrontDoor(service);
        byte[] head = System.Text.Encoding.ASCII.GetBytes(
            $"POST /score?model=part HTTP/1.1\r\nHost: 127.0.0.1:{door.Port}\r\nContent-Type: image/png\r\nContent-Length: {png.Length}\r\nConnection: close\r\n\r\n");

        // A minimal HTTP/1.1 client (one connection per request): HttpClient would add megabytes to the executable.
        async Task<double> Post()
        {
            var clock = Stopwatch.StartNew();
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync(System.Net.IPAddress.Loopback, door.Port).ConfigureAwait(false);
            var stream = tcp.GetStream();
            await stream.WriteAsync(head).ConfigureAwait(false);
            await stream.WriteAsync(png).ConfigureAwait(false);
            using var answer = new MemoryStream();
            await stream.CopyToAsync(answer).ConfigureAwait(false);
            string text = System.Text.Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)answer.Length);
            if (!text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
                throw new IOException($"bench serve: the service answered {text.Split('\n')[0].Trim()}: {text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]}");
            return clock.Elapsed.TotalMilliseconds;
        }

        try
        {
            Post().GetAwaiter().GetResult(); // warm-up: first-use costs (packing, kernels) out of the figures
            var rows = new List<(string Phase, double PerSecond, double P50, double P99, double MeanBatch)>();
            foreach (int c in new[] { 1, clients })
            {
                lock (batches) batches.Clear();
                var latencies = new List<double>();
                var wall = Stopwatch.StartNew();
                var workers = Enumerable.Range(0, c).Select(w => Task.Run(async () =>
                {
                    for (int i = w; i < requests; i += c)
                    {
                        double ms = await Post().ConfigureAwait(false);
                        lock (latencies) latencies.Add(ms);
                    }
                })).ToArray();
                Task.WaitAll(workers);
                double seconds = wall.Elapsed.TotalSeconds;
                latencies.Sort();
                double meanBatch;
                lock (batches) meanBatch = batches.Count == 0 ? 0 : batches.Average();
                rows.Add((c == 1 ? "1 client (batch 1)" : $"{c} clients (batched ≤ {batch})", requests / seconds,
                    Percentile(latencies, 0.50), Percentile(latencies, 0.99), meanBatch));
            }
            Console.WriteLine();
            Console.WriteLine($"{"phase",-28} {"images/s",9} {"p50 ms",9} {"p99 ms",9} {"mean batch",11}");
            foreach (var r in rows)
                Console.WriteLine($"{r.Phase,-28} {r.PerSecond,9:F2} {r.P50,9:F0} {r.P99,9:F0} {r.MeanBatch,11:F1}");
            Console.WriteLine($"batched / batch 1: {rows[1].PerSecond / rows[0].PerSecond:F2}× images/s");
        }
        finally
        {
            door.StopAsync().GetAwaiter().GetResult();
        }
        return 0;
    }

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    internal static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static byte[] Png(int w, int h, int seed)
    {
        var rng = new Random(seed);
        using var image = new Image<Rgb24>(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                image[x, y] = new Rgb24((byte)(100 + rng.Next(40)), (byte)(120 + rng.Next(40)), (byte)(90 + rng.Next(40)));
        using var ms = new MemoryStream();
        image.SaveAsPng(ms);
        return ms.ToArray();
    }
}
