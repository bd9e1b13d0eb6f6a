using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PromptAD.Data;
using PromptAD.Serving;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// serve checks its options as the other verbs do (before loading anything), answers a truncated HTTP upload with a
/// 400 and a JSON error, echoes numeric request ids and answers every request line; calibrate and profile check their
/// ranges too; an unknown verb is named.
/// </summary>
[Collection("Console")]
public sealed class ServeRequestsTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();


    private (int Code, string Out, string Err) Serve(string model, string input, params string[] extra)
    {
        var oldIn = Console.In;
        Console.SetIn(new StringReader(input));
        try { return Hostile.Cli(["serve", "--model", "m=" + model, "--weights", _h.Weights, .. extra.Contains("--size") ? extra : ["--size", "32", .. extra]]); }
        finally { Console.SetIn(oldIn); }
    }

    [Fact]
    public void Serve_Calibrate_Profile_OptionsOutOfRange_AreUsageErrors()
    {
        string model = _h.TrainModel();
        string image = Directory.GetFiles(Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder)).First();
        foreach (string t in new[] { "NaN", "nan", "Infinity", "-Infinity", "1e39" })
        {
            var r = Serve(model, image + "\n", "--threshold", t);
            Assert.True(r.Code == 2, $"--threshold {t}: exit {r.Code}: {r.Err}");
            Assert.Contains("--threshold", r.Err);
            Assert.Equal("", r.Out);
        }
        Hostile.Usage(Serve(model, image + "\n", "--size", "30000"), "--size must be between 1 and 4096");
        Hostile.Usage(Serve(model, image + "\n", "--size", "60000"), "--size");
        Hostile.Usage(Serve(model, image + "\n", "--batch", "100000"), "--batch");
        Hostile.Usage(Serve(model, image + "\n", "--port", "0", "--max-body", "99999999999999"), "--max-body");

        string good = Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder);
        Hostile.Usage(Hostile.Cli("calibrate", "--model", model, "--weights", _h.Weights, "--good", good, "--size", "5000"), "--size must be between 1 and 4096");
        Hostile.Usage(Hostile.Cli("calibrate", "--model", model, "--weights", _h.Weights, "--good", good, "--batch", "100000"), "--batch");
        Hostile.Usage(Hostile.Cli("profile", "--device", "emulated", "--emulator", _h.Weights, "--batch", "100000"), "--batch");
    }

    [Fact]
    public void UnknownVerb_IsNamed()
    {
        var r = Hostile.Cli("frobnicate", "--weights", "x");
        Hostile.Usage(r, "unknown command 'frobnicate'");
        Assert.Contains("train", r.Err);
        Assert.DoesNotContain("Required command was not provided", r.Err);
    }

    [Fact]
    public void JsonLines_NumericIds_AreEchoed_AndBlankLinesAnswered()
    {
        string model = _h.TrainModel();
        string image = Directory.GetFiles(Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder)).First();
        string input = $$"""{"path": "{{image}}", "id": 1}""" + "\n" + "   \n" + $$"""{"path": "{{image}}", "id": "two"}""" + "\n";
        var r = Serve(model, input);
        Assert.True(r.Code == 0, r.Err);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            Assert.Equal(1, first.RootElement.GetProperty("id").GetInt32());
            Assert.True(first.RootElement.TryGetProperty("score", out _), lines[0]);
        }
        Assert.Contains("empty", JsonSerializer.Deserialize(lines[1], ServiceJsonContext.Default.ScoreAnswer)!.Error);
        Assert.Equal("two", JsonSerializer.Deserialize(lines[2], ServiceJsonContext.Default.ScoreAnswer)!.Id);
    }

    [Fact]
    public async Task TruncatedUpload_Is400WithAJsonError()
    {
        string model = _h.TrainModel();
        var models = new Dictionary<string, PromptAD.Model.PromptAdModel>(StringComparer.Ordinal) { ["m"] = PromptAD.Model.PromptAdModel.Load(model) };
        using var weights = PromptAD.Clip.ClipWeights.Load(_h.Weights, PromptAD.Clip.ClipConfigs.Load("tiny-test"), PromptAD.Tensors.Cpu.CpuBackend.Instance);
        try
        {
            using var service = new ScoringService(weights, models, 32, 4);
            await using var door = new HttpFrontDoor(service, "127.0.0.1", 0);
            byte[] image = File.ReadAllBytes(Directory.GetFiles(Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder)).First());
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", door.Port, TestContext.Current.CancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /score?model=m HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999\r\nConnection: close\r\n\r\n"),
                TestContext.Current.CancellationToken);
            await stream.WriteAsync(image.AsMemory(0, Math.Min(500, image.Length)), TestContext.Current.CancellationToken);
            client.Client.Shutdown(SocketShutdown.Send); // half-close: the body ends 99499 bytes early
            using var reader = new StreamReader(stream);
            string response = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
            Assert.StartsWith("HTTP/1.1 400", response);
            string body = response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
            var answer = JsonSerializer.Deserialize(body, ServiceJsonContext.Default.ScoreAnswer)!;
            Assert.Null(answer.Score);
            Assert.Contains("99999", answer.Error);
        }
        finally
        {
            foreach (var m in models.Values) m.Dispose();
        }
    }
    /// <summary>
    /// Stopping (what SIGTERM does) answers every request that arrived before it — here four held behind a busy worker —
    /// and refuses one arriving during the drain with a 503 and a JSON reason, never a dropped connection.
    /// </summary>
    [Fact]
    public async Task Stop_AnswersWhatArrivedBefore_AndRefusesWhatCameAfter()
    {
        string model = _h.TrainModel();
        var models = new Dictionary<string, PromptAD.Model.PromptAdModel>(StringComparer.Ordinal) { ["m"] = PromptAD.Model.PromptAdModel.Load(model) };
        using var weights = PromptAD.Clip.ClipWeights.Load(_h.Weights, PromptAD.Clip.ClipConfigs.Load("tiny-test"), PromptAD.Tensors.Cpu.CpuBackend.Instance);
        byte[] image = File.ReadAllBytes(Directory.GetFiles(Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder)).First());
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        async Task<(System.Net.HttpStatusCode Status, ScoreAnswer Answer)> Post(string url)
        {
            using var content = new ByteArrayContent(image);
            using var response = await client.PostAsync(url + "score", content, TestContext.Current.CancellationToken);
            string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            return (response.StatusCode, JsonSerializer.Deserialize(text, ServiceJsonContext.Default.ScoreAnswer)!);
        }
        try
        {
            using var service = new ScoringService(weights, models, 32, 1);
            var door = new HttpFrontDoor(service, "127.0.0.1", 0);
            using var release = new ManualResetEventSlim();
            service.BeforeBatch = _ => release.Wait(TimeSpan.FromMinutes(1), CancellationToken.None);
            var early = Enumerable.Range(0, 4).Select(_ => Post(door.Url)).ToList();
            while (service.Pending < 4) await Task.Delay(10, TestContext.Current.CancellationToken);
            var stopping = door.StopAsync();
            await Task.Delay(200, TestContext.Current.CancellationToken);
            Assert.False(stopping.IsCompleted); // draining: four images are still to be answered
            var late = await Post(door.Url);
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, late.Status);
            Assert.Contains("shutting down", late.Answer.Error);
            release.Set();
            foreach (var (status, answer) in await Task.WhenAll(early))
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, status);
                Assert.NotNull(answer.Score);
            }
            await stopping;
        }
        finally
        {
            foreach (var m in models.Values) m.Dispose();
        }
    }
}
