using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Model;
using PromptAD.Scoring;
using PromptAD.Serving;
using PromptAD.Tensors;
using PromptAD.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench serve`: the HTTP service on this machine, with random weights and a 1-shot model of random
/// prompts (scores are meaningless; the work per image is the real one): images/s and p50/p99 latency of
/// <c>POST /score</c>, first one request at a time (batch 1), then <see cref="Options.Clients"/> concurrent clients whose requests the
/// service batches together (up to <see cref="Options.Batch"/>). Requests go through real loopback HTTP (PNG bodies,
/// decode included).
/// </summary>
public static class ServeBench
{
    /// <param name="Config">the CLIP configuration (random weights)</param>
    /// <param name="Requests">requests per phase</param>
    /// <param name="Clients">concurrent clients of the batched phase</param>
    /// <param name="Batch">most images the service scores together</param>
    /// <param name="Size">side of the anomaly maps</param>
    public sealed record Options(string Config, int Requests = 24, int Clients = 8, int Batch = 8, int Size = AnomalyScorer.DefaultOutputSize);

    public static int Run(Options options, IBackend backend)
    {
        var (requests, clients, batch, size) = (options.Requests, options.Clients, options.Batch, options.Size);
        var config = ClipConfigs.Load(options.Config);
        Console.WriteLine($"serve bench: {config.Name} (RANDOM WEIGHTS), backend {backend.Name}, {Environment.ProcessorCount} cores, " +
            $"maps {size}×{size}, {requests} requests per phase, {clients} clients, batches of up to {batch}");

        byte[] png = Png(320, 320, seed: 1);
        using var trained = RandomWeightsModel.Train(backend, config, BenchShots.Encoded("part", ["damaged {}"], png), new TrainOptions { Epochs = 0 });
        using var service = new ScoringService(trained.Weights, new Dictionary<string, PromptAdModel> { ["part"] = trained.Model }, size, batch);
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
