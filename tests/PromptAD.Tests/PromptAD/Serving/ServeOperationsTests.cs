using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using PromptAD.Cli;
using PromptAD.Serving;

namespace PromptAD.Tests.Serving;

/// <summary>
/// `serve --port` as operations see it, through the verb and real requests: /health alive and /ready 503 while the
/// models load, then 200; /metrics counters moved by exactly the requests sent; one JSON log line per request; a real
/// SIGHUP under load reloads the models (a new file in the folder appears) without dropping or failing a request; a
/// failed reload keeps the old models and says why.
/// </summary>
[Collection("Signals")]
public sealed partial class ServeOperationsTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromMinutes(2) };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Series → value of a Prometheus text page (comments skipped).</summary>
    private static Dictionary<string, double> Parse(string page)
    {
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in page.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            series[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return series;
    }

    private static async Task<Dictionary<string, double>> Scrape(string url)
    {
        using var response = await Client.GetAsync(url + "metrics", Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString());
        return Parse(await response.Content.ReadAsStringAsync(Token));
    }

    private static double Delta(Dictionary<string, double> before, Dictionary<string, double> after, string series) =>
        after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

    private async Task<HttpStatusCode> Post(string url, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        using var response = await Client.PostAsync(url, content, Token);
        return response.StatusCode;
    }

    private async Task<(HttpStatusCode Status, ScoreAnswer Answer)> Score(string url, int image)
    {
        using var content = new ByteArrayContent(File.ReadAllBytes(fx.Images[image]));
        using var response = await Client.PostAsync(url + "score?model=a", content, Token);
        return (response.StatusCode, JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(Token), ServiceJsonContext.Default.ScoreAnswer)!);
    }

    [Fact]
    public async Task Serve_ReadyMetricsLogAndReload()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // POSIX signals
        string models = Directory.CreateTempSubdirectory("promptad-serve-models-").FullName;
        File.Copy(fx.ModelA, Path.Combine(models, "a.safetensors"));
        File.Copy(fx.ModelB, Path.Combine(models, "b.safetensors"));
        HttpFrontDoor? door = null;
        using var ready = new ManualResetEventSlim();
        var log = new StringWriter();
        var before = new List<(HttpStatusCode Status, string Body)>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var serving = Task.Run(() => ServeCommand.Run([models], new FileInfo(fx.WeightsFile), null, 0, "127.0.0.1", HttpFrontDoor.DefaultMaxBodyBytes, null, 0.5f,
            ServiceFixture.Size, 4, global::PromptAD.Pipeline.ComputeDevice.Cpu, TextReader.Null, TextWriter.Null, TextWriter.Synchronized(log), stop.Token,
            onListening: d => { door = d; ready.Set(); },
            onStarted: d =>
            {
                // Listening, models not loaded yet (this callback holds the load back): alive, not ready, no scoring.
                foreach (var (method, path) in new[] { ("GET", "health"), ("GET", "ready"), ("POST", "score") })
                {
                    using var request = new HttpRequestMessage(new HttpMethod(method), d.Url + path);
                    using var response = Client.Send(request, Token);
                    before.Add((response.StatusCode, response.Content.ReadAsStringAsync(Token).GetAwaiter().GetResult()));
                }
            }), Token);
        try
        {
            Assert.True(ready.Wait(TimeSpan.FromMinutes(2), Token), log.ToString());
            Assert.Equal(HttpStatusCode.OK, before[0].Status);
            Assert.Contains("\"loading\"", before[0].Body);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, before[1].Status);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, before[2].Status);
            string url = door!.Url;
            using (var r = await Client.GetAsync(url + "ready", Token)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);

            // Counters move by exactly the requests sent.
            var m0 = await Scrape(url);
            int[] images = [0, 1, 5, 6, 7];
            foreach (int i in images) Assert.Equal(HttpStatusCode.OK, (await Score(url, i)).Status);
            Assert.Equal(HttpStatusCode.BadRequest, await Post(url + "score?model=a", [1, 2, 3]));
            Assert.Equal(HttpStatusCode.BadRequest, await Post(url + "score?model=a", [.. "not an image"u8]));
            Assert.Equal(HttpStatusCode.NotFound, await Post(url + "score?model=zz", File.ReadAllBytes(fx.Images[0])));
            var m1 = await Scrape(url);
            Assert.Equal(5, Delta(m0, m1, "promptad_http_requests_total{endpoint=\"/score\",status=\"200\"}"));
            Assert.Equal(2, Delta(m0, m1, "promptad_http_requests_total{endpoint=\"/score\",status=\"400\"}"));
            Assert.Equal(1, Delta(m0, m1, "promptad_http_requests_total{endpoint=\"/score\",status=\"404\"}"));
            Assert.Equal(1, Delta(m0, m1, "promptad_http_requests_total{endpoint=\"/metrics\",status=\"200\"}")); // the first scrape
            Assert.Equal(5, Delta(m0, m1, "promptad_images_scored_total{model=\"a\"}"));
            Assert.Equal(images.Count(i => fx.ScoresA[i] >= 0.5f), Delta(m0, m1, "promptad_anomalous_total{model=\"a\"}"));
            foreach (string stage in new[] { "decode", "queue", "score" })
                Assert.Equal(5, Delta(m0, m1, $"promptad_{stage}_seconds_count"));
            Assert.Equal(5, Delta(m0, m1, "promptad_request_seconds_count"));
            Assert.Equal(5, Delta(m0, m1, "promptad_batch_size_sum")); // every image in exactly one batch
            Assert.Equal(1, m1["promptad_ready"]);
            Assert.Equal(0, m1["promptad_images_queued"]);
            Assert.True(m1["promptad_resident_memory_bytes"] > 1 << 20);
            Assert.Equal(1, m1["promptad_model_info{model=\"a\",backbone=\"tiny-test\",threshold=\"0.5\"}"]);

            // One JSON line per request.
            var lines = log.ToString().Split('\n').Where(l => l.StartsWith("{\"time\"", StringComparison.Ordinal))
                .Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.TryGetProperty("path", out _)).ToList();
            var scores = lines.Where(e => e.GetProperty("path").GetString() == "/score" && e.GetProperty("status").GetInt32() != 503).ToList();
            Assert.Equal(8, scores.Count);
            foreach (var e in scores.Where(e => e.GetProperty("status").GetInt32() == 200))
            {
                Assert.Equal("a", e.GetProperty("model").GetString());
                Assert.True(e.GetProperty("bytes_in").GetInt64() > 0 && e.GetProperty("bytes_out").GetInt64() > 0);
                Assert.Contains(e.GetProperty("verdict").GetString(), new[] { "anomalous", "normal" });
                foreach (string k in new[] { "decode_ms", "queue_ms", "score_ms", "total_ms" }) Assert.True(e.GetProperty(k).GetDouble() >= 0, k);
            }

            Assert.Equal(lines.Count, lines.Select(e => e.GetProperty("id").GetString()).Distinct().Count());

            // SIGHUP under load: a new model file appears; no request is dropped or fails meanwhile.
            File.Copy(fx.ModelB, Path.Combine(models, "c.safetensors"));
            using var load = CancellationTokenSource.CreateLinkedTokenSource(Token);
            int answered = 0;
            var clients = Enumerable.Range(0, 3).Select(c => Task.Run(async () =>
            {
                var wrong = new List<string>();
                for (int n = 0; n < 200 && (n < 4 || !load.IsCancellationRequested); n++)
                {
                    int i = (c + n) % fx.Images.Count;
                    var (status, answer) = await Score(url, i);
                    if (status != HttpStatusCode.OK || Math.Abs(answer.Score!.Value - fx.ScoresA[i]) > 1e-5f) wrong.Add($"{status} {answer.Error} {answer.Score}");
                    Interlocked.Increment(ref answered);
                }

                return wrong;
            }, Token)).ToList();
            while (Volatile.Read(ref answered) < 3) await Task.Delay(5, Token);
            using (var hup = System.Diagnostics.Process.Start("kill", ["-HUP", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)]))
                await hup.WaitForExitAsync(Token);
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (!log.ToString().Contains("\"event\":\"reloaded\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(20, Token);
            int atReload = Volatile.Read(ref answered);
            while (Volatile.Read(ref answered) < atReload + 3) await Task.Delay(5, Token); // requests keep flowing after the swap
            load.Cancel();
            foreach (var client in clients) Assert.Empty(await client);
            Assert.Contains("\"event\":\"reloaded\",\"models\":[\"a\",\"b\",\"c\"]", log.ToString());
            using (var h = await Client.GetAsync(url + "health", Token)) Assert.Contains("\"c\"", await h.Content.ReadAsStringAsync(Token));

            // A failed reload keeps the models and says why; scoring goes on.
            File.WriteAllText(Path.Combine(models, "d.safetensors"), "not a model");
            using (var r = await Client.PostAsync(url + "reload", null, Token))
            {
                Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
                string body = await r.Content.ReadAsStringAsync(Token);
                Assert.Contains("d.safetensors", body);
                Assert.Contains("kept the previous models", body);
            }

            var (okStatus, okAnswer) = await Score(url, 2);
            Assert.Equal(HttpStatusCode.OK, okStatus);
            Assert.Equal(fx.ScoresA[2], okAnswer.Score!.Value, 1e-5f);
            var m2 = await Scrape(url);
            Assert.Equal(1, m2["promptad_reloads_total{result=\"ok\"}"]);
            Assert.Equal(1, m2["promptad_reloads_total{result=\"failed\"}"]);
            Assert.Equal(1, m2["promptad_model_info{model=\"c\",backbone=\"tiny-test\",threshold=\"0.5\"}"]);
        }
        finally
        {
            stop.Cancel();
            Assert.Equal(0, await serving);
            try { Directory.Delete(models, recursive: true); } catch (IOException) { }
        }
    }
}
