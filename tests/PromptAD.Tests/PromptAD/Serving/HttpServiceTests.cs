using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using PromptAD.Serving;

namespace PromptAD.Tests.Serving;

/// <summary>
/// The HTTP front door through real requests (HttpClient to 127.0.0.1, a free port): scores equal to a detector's
/// own, bad image, oversized body, unknown model, concurrent clients batched together, health, graceful stop.
/// </summary>
public sealed class HttpServiceTests(ServiceFixture fx) : IClassFixture<ServiceFixture>
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromMinutes(2) };

    private sealed class Running : IAsyncDisposable
    {
        public required ScoringService Service { get; init; }
        public required HttpFrontDoor Door { get; init; }
        public required Dictionary<string, global::PromptAD.Model.PromptAdModel> Models { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Door.DisposeAsync();
            Service.Dispose();
        }
    }

    private Running Start(bool both = true, int batch = 8, long maxBody = HttpFrontDoor.DefaultMaxBodyBytes, float? threshold = null)
    {
        var models = fx.LoadModels(both);
        var service = new ScoringService(fx.Weights, models, ServiceFixture.Size, batch, threshold);
        return new Running { Service = service, Door = new HttpFrontDoor(service, "127.0.0.1", 0, maxBody), Models = models };
    }

    private static async Task<(HttpStatusCode Status, ScoreAnswer Answer)> Post(string url, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await Client.PostAsync(url, content, TestContext.Current.CancellationToken);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonSerializer.Deserialize(text, ServiceJsonContext.Default.ScoreAnswer)!);
    }

    private Task<(HttpStatusCode, ScoreAnswer)> PostImage(Running r, int image, string? model) =>
        Post(r.Door.Url + "score" + (model is null ? "" : "?model=" + model), File.ReadAllBytes(fx.Images[image]));

    [Fact]
    public async Task Score_EqualsTheDetectorsOwn_ForEachModel()
    {
        await using var r = Start(threshold: 0.5f);
        for (int i = 0; i < 2; i++)
        {
            var (status, a) = await PostImage(r, i, "a");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Null(a.Error);
            Assert.Equal("a", a.Model);
            Assert.Equal(fx.ScoresA[i], a.Score!.Value, 1e-5f);
            Assert.Equal(0.5f, a.Threshold);
            Assert.Equal(fx.ScoresA[i] >= 0.5f, a.Anomalous);
            Assert.Null(a.Heatmap); // HTTP answers never name files
            (status, a) = await PostImage(r, i, "b");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(fx.ScoresB[i], a.Score!.Value, 1e-5f);
        }
    }

    [Fact]
    public async Task UncalibratedModel_WithoutOverride_HasNoDecision()
    {
        await using var r = Start(both: false);
        var (status, a) = await PostImage(r, 0, null); // one model: the name may be left out
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(a.Threshold);
        Assert.Null(a.Anomalous);
    }

    [Fact]
    public async Task BadImage_Is400_AndTheServiceGoesOn()
    {
        await using var r = Start();
        var (status, a) = await Post(r.Door.Url + "score?model=a", "not an image at all"u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("image", a.Error);
        // A body that is a file path is just bytes that are not an image: nothing is read from this machine.
        (status, a) = await Post(r.Door.Url + "score?model=a", System.Text.Encoding.UTF8.GetBytes(fx.Images[0]));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        (status, a) = await Post(r.Door.Url + "score?model=a", []);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("empty", a.Error);
        (status, a) = await PostImage(r, 0, "a");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(fx.ScoresA[0], a.Score!.Value, 1e-5f);
    }

    [Fact]
    public async Task OversizedBody_Is413_WithOrWithoutContentLength()
    {
        await using var r = Start(maxBody: 1000);
        byte[] image = File.ReadAllBytes(fx.Images[0]);
        Assert.True(image.Length > 1000);
        var (status, a) = await Post(r.Door.Url + "score?model=a", image);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("1000", a.Error);

        // Chunked: no length up front, refused once the limit is passed.
        using var content = new StreamContent(new NoLengthStream(image));
        using var response = await Client.PostAsync(r.Door.Url + "score?model=a", content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);

        var (okStatus, _) = await Post(r.Door.Url + "score?model=a", image[..500]); // under the limit: an (unreadable) image again
        Assert.Equal(HttpStatusCode.BadRequest, okStatus);
        var health = await Client.GetAsync(r.Door.Url + "health", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task UnknownModel_Is404_NamingTheLoadedOnes()
    {
        await using var r = Start();
        var (status, a) = await PostImage(r, 0, "c");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("'c'", a.Error);
        Assert.Contains("a, b", a.Error);
        (status, a) = await PostImage(r, 0, null); // two models: the name is needed
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("a, b", a.Error);
        using var wrong = await Client.GetAsync(r.Door.Url + "score", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrong.StatusCode);
        using var nowhere = await Client.GetAsync(r.Door.Url + "etc/passwd", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, nowhere.StatusCode);
    }

    [Fact]
    public async Task Health_ListsTheModels()
    {
        await using var r = Start(batch: 3);
        using var response = await Client.GetAsync(r.Door.Url + "health", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var h = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), ServiceJsonContext.Default.HealthAnswer)!;
        Assert.Equal("ok", h.Status);
        Assert.Equal(["a", "b"], h.Models);
        Assert.Equal(3, h.Batch);
    }

    /// <summary>
    /// Eight clients at once while the worker is held on an earlier image: once it is free the eight go through as
    /// one batch (= --batch), both models' images grouped, and every answer equals the detector's own score.
    /// </summary>
    [Fact]
    public async Task ConcurrentClients_AreBatchedTogether_AndEachGetsItsOwnScore()
    {
        await using var r = Start(batch: 8);
        var batches = new List<int>();
        using var inside = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        r.Service.BeforeBatch = n =>
        {
            lock (batches) batches.Add(n);
            inside.Set();
            gate.Wait(TimeSpan.FromMinutes(1), CancellationToken.None);
        };
        var first = PostImage(r, 0, "a");
        Assert.True(inside.Wait(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken));
        int count = fx.Images.Count; // 8
        var requests = Enumerable.Range(0, count).Select(i => PostImage(r, i, i % 2 == 0 ? "a" : "b")).ToList();
        while (r.Service.Pending < count + 1) await Task.Delay(10, TestContext.Current.CancellationToken);
        gate.Set();
        Assert.Equal(HttpStatusCode.OK, (await first).Item1);
        var answers = await Task.WhenAll(requests);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(HttpStatusCode.OK, answers[i].Item1);
            var expected = i % 2 == 0 ? fx.ScoresA[i] : fx.ScoresB[i];
            Assert.Equal(expected, answers[i].Item2.Score!.Value, 1e-4f);
        }
        Assert.Equal([1, count], batches);
    }

    /// <summary>Stop while an image is being scored: that image is answered, later requests are refused, stop returns.</summary>
    [Fact]
    public async Task Stop_FinishesTheImageInFlight_AndRefusesNewOnes()
    {
        var r = Start();
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        r.Service.BeforeBatch = _ => { inside.Set(); release.Wait(TimeSpan.FromMinutes(1), CancellationToken.None); };
        var inFlight = PostImage(r, 3, "a");
        Assert.True(inside.Wait(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken));
        var stopping = Task.Run(async () => { await r.Door.StopAsync(); await r.Service.StopAsync(); }, TestContext.Current.CancellationToken);
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.False(stopping.IsCompleted); // waits for the image in flight
        var (refused, why) = await PostImage(r, 0, "a");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.Contains("shutting down", why.Error);
        release.Set();
        var (status, a) = await inFlight;
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(fx.ScoresA[3], a.Score!.Value, 1e-5f);
        await stopping;
        await Assert.ThrowsAsync<ServiceStoppingException>(() => r.Service.ScoreFileAsync("a", fx.Images[0]));
        await Assert.ThrowsAsync<HttpRequestException>(() => PostImage(r, 0, "a")); // nothing listens any more
        await r.DisposeAsync();
    }

    /// <summary>A stream that cannot tell its length, so HttpClient sends the body chunked.</summary>
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
