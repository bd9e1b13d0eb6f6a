using System.Text.Json;
using PromptAD.Cli;
using PromptAD.Serving;

namespace PromptAD.Tests.Serving;

/// <summary>
/// The stdin/stdout front door and the `serve` verb: answers in request order, errors answered without stopping,
/// heatmaps written; HTTP through the verb, and a real SIGTERM stopping it gracefully.
/// </summary>
[Collection("Signals")] // signals reach every handler in the process: one signal test at a time
public sealed class StdioServiceTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
{
    private static List<ScoreAnswer> Parse(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize(l, ServiceJsonContext.Default.ScoreAnswer)!)];

    [Fact]
    public async Task Lines_AreAnsweredInOrder_ErrorsIncluded()
    {
        string corrupt = Path.Combine(fx.Dir, "corrupt.png");
        File.WriteAllText(corrupt, "not a png");
        string heatmaps = Path.Combine(fx.Dir, "stdio-heatmaps");
        var input = string.Join('\n',
            fx.Images[0],
            $$"""{"path": "{{fx.Images[1]}}", "model": "b", "id": "cam1-0001"}""",
            $$"""{"path": "{{corrupt}}", "model": "a"}""",
            $$"""{"path": "{{Path.Combine(fx.Dir, "missing.png")}}", "model": "a"}""",
            $$"""{"path": "{{fx.Images[2]}}", "model": "c"}""",
            "{not json",
            "",
            $$"""{"path": "{{fx.Images[2]}}", "model": "a"}""") + "\n";
        var models = fx.LoadModels();
        using var service = new ScoringService(fx.Weights, models, ServiceFixture.Size, 4, thresholdOverride: 0.5f);
        var output = new StringWriter();
        int n = await new StdioFrontDoor(service, new StringReader(input), output, heatmaps).RunAsync(TestContext.Current.CancellationToken);
        var answers = Parse(output.ToString());
        Assert.Equal(8, n); // the blank line too: answers pair up with request lines
        Assert.Equal(8, answers.Count);

        Assert.Contains("several models", answers[0].Error); // two models loaded, a bare path names none
        Assert.Equal("cam1-0001", answers[1].Id);
        Assert.Equal("b", answers[1].Model);
        Assert.Equal(fx.ScoresB[1], answers[1].Score!.Value, 1e-5f);
        Assert.Equal(fx.ScoresB[1] >= 0.5f, answers[1].Anomalous);
        Assert.True(File.Exists(answers[1].Heatmap), answers[1].Heatmap);
        Assert.Contains(corrupt, answers[2].Error);
        Assert.Contains("missing.png", answers[3].Error);
        Assert.Contains("'c'", answers[4].Error);
        Assert.Contains("JSON", answers[5].Error);
        Assert.Contains("empty request line", answers[6].Error);
        Assert.Equal(fx.ScoresA[2], answers[7].Score!.Value, 1e-5f);
        Assert.Equal(fx.Images[2], answers[7].Path);
        Assert.Equal(2, Directory.GetFiles(heatmaps, "*.png").Length);
    }

    [Fact]
    public void ServeVerb_StdinToStdout_WithOneModel()
    {
        var input = new StringReader(string.Join('\n', fx.Images.Take(3)) + "\n");
        var (output, log) = (new StringWriter(), new StringWriter());
        int code = ServeCommand.Run(["a=" + fx.ModelA], new FileInfo(fx.WeightsFile), null, null, "127.0.0.1", 1000, null, null, ServiceFixture.Size, 2,
            global::PromptAD.Pipeline.ComputeDevice.Cpu, input, output, log, TestContext.Current.CancellationToken);
        Assert.True(code == 0, log.ToString());
        var answers = Parse(output.ToString());
        Assert.Equal(3, answers.Count);
        for (int i = 0; i < 3; i++) Assert.Equal(fx.ScoresA[i], answers[i].Score!.Value, 1e-4f);
        Assert.Contains("no threshold", log.ToString());
        Assert.Contains("answered 3", log.ToString());
    }

    [Fact]
    public void ServeVerb_RefusesUnknownFilesAndDuplicateNames()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ModelList.Resolve(["x=" + Path.Combine(fx.Dir, "nope.safetensors")]));
        Assert.Contains("nope.safetensors", e.Message);
        var d = Assert.Throws<ArgumentException>(() => ModelList.Resolve(["a=" + fx.ModelA, "a=" + fx.ModelB]));
        Assert.Contains("'a'", d.Message);
        var h = Assert.Throws<ArgumentException>(() => ServeCommand.Run([fx.ModelA], new FileInfo(fx.WeightsFile), null, 0, "example.com",
            1000, null, null, ServiceFixture.Size, 1, global::PromptAD.Pipeline.ComputeDevice.Cpu, TextReader.Null, TextWriter.Null, TextWriter.Null, TestContext.Current.CancellationToken));
        Assert.Contains("--host", h.Message);
        var folder = ModelList.Resolve([Path.GetDirectoryName(fx.ModelA)!]);
        Assert.Equal(["a", "b"], folder.Keys.Order());
    }

    /// <summary>The verb over HTTP, stopped by a real SIGTERM sent to this process while an image is being scored.</summary>
    [Fact]
    public async Task ServeVerb_Http_StopsGracefullyOnSigterm()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // POSIX signals
        HttpFrontDoor? door = null;
        using var listening = new ManualResetEventSlim();
        var log = new StringWriter();
        var serving = Task.Run(() => ServeCommand.Run([Path.GetDirectoryName(fx.ModelA)!], new FileInfo(fx.WeightsFile), null, 0, "127.0.0.1",
            HttpFrontDoor.DefaultMaxBodyBytes, null, 0.5f, ServiceFixture.Size, 4, global::PromptAD.Pipeline.ComputeDevice.Cpu, TextReader.Null, TextWriter.Null, TextWriter.Synchronized(log),
            TestContext.Current.CancellationToken, onListening: d => { door = d; listening.Set(); }), TestContext.Current.CancellationToken);
        Assert.True(listening.Wait(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken), log.ToString());
        using var client = new HttpClient();
        using var content = new ByteArrayContent(File.ReadAllBytes(fx.Images[5]));
        var request = client.PostAsync(door!.Url + "score?model=b", content, TestContext.Current.CancellationToken);
        while (door.InFlight == 0 && !request.IsCompleted) await Task.Delay(5, TestContext.Current.CancellationToken);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        int code = await serving;
        Assert.Equal(0, code);
        Assert.Contains("stopping", log.ToString());
        using var response = await request; // accepted before the signal, or refused with 503 after it: never dropped
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var answer = JsonSerializer.Deserialize(text, ServiceJsonContext.Default.ScoreAnswer)!;
        if (response.IsSuccessStatusCode) Assert.Equal(fx.ScoresB[5], answer.Score!.Value, 1e-5f);
        else Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }
}
