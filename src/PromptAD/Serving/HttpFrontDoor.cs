using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PromptAD.Clip.Imaging;

namespace PromptAD.Serving;

/// <summary>
/// The HTTP front door: <c>POST /score?model=name</c> with the image file as the body → a <see cref="ScoreAnswer"/>;
/// <c>GET /health</c> → <see cref="HealthAnswer"/> (alive, also while the models load); <c>GET /ready</c> → 200 once the
/// models are loaded and warmed, 503 before; <c>GET /metrics</c> → Prometheus text; <c>POST /reload</c> (from this
/// machine only) → reloads the models (see <see cref="HttpOperations"/>). Every request is counted and logged as one
/// JSON line when operations are given. Bound to 127.0.0.1 unless told otherwise; bodies above
/// <see cref="MaxBodyBytes"/> are refused (413) before they are read; no request can name a file on this machine.
/// Status codes: 200 scored, 400 unreadable image, empty or cut-short body, 404 unknown model or path, 405 wrong method,
/// 413 body too large, 503 shutting down or busy (too many pixels being decoded), 500 anything else (the service keeps
/// running in every case). Every answer has a JSON body; a 200 always carries a score.
/// Stopping finishes every request that arrived before the signal (those already waiting in the listener's queue
/// included) and refuses with 503 only what arrives after it.
/// </summary>
public sealed class HttpFrontDoor : IAsyncDisposable
{
    private ScoringService? _service; // null while the models load: /score answers 503, /ready 503
    private readonly HttpOperations _ops;
    private long _requestIds;
    private readonly HttpListener _listener = new();
    private readonly Task _accepting;
    private readonly CancellationTokenSource _stop = new();
    private int _inFlight;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="port">0 picks a free port (see <see cref="Port"/>).</param>
    /// <param name="service">The scoring service, or null to listen before the models are loaded (see <see cref="Attach"/>).</param>
    /// <param name="operations">Metrics, request log and reload; null: metrics only.</param>
    public HttpFrontDoor(ScoringService? service, string host = "127.0.0.1", int port = 0, long maxBodyBytes = DefaultMaxBodyBytes,
        HttpOperations? operations = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBodyBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBodyBytes, MaxMaxBodyBytes);
        _service = service;
        _ops = operations ?? new HttpOperations(new ServiceMetrics(), null, null);
        if (service is not null) service.BatchScored = (n, _) => _ops.Metrics.Batch(n);
        MaxBodyBytes = maxBodyBytes;
        Host = host;
        Port = port == 0 ? FreePort(host) : port;
        _listener.Prefixes.Add($"http://{(host.Contains(':') ? $"[{host}]" : host)}:{Port}/");
        try { _listener.Start(); }
        catch (HttpListenerException e) { throw new IOException($"cannot listen on {Url}: {e.Message}", e); }
        _accepting = AcceptLoop();
    }

    public const long DefaultMaxBodyBytes = 32L << 20;

    /// <summary>The largest --max-body: a body is held in memory while it is decoded.</summary>
    public const long MaxMaxBodyBytes = 1L << 30;

    public string Host { get; }
    public int Port { get; }
    public long MaxBodyBytes { get; }
    /// <summary>Requests accepted and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public string Url => $"http://{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}/";

    public ServiceMetrics Metrics => _ops.Metrics;

    /// <summary>Starts scoring with <paramref name="service"/> (loaded while the front door already answered /health).</summary>
    public void Attach(ScoringService service)
    {
        service.BatchScored = (n, _) => _ops.Metrics.Batch(n);
        Volatile.Write(ref _service, service);
    }

    /// <summary>
    /// Stops accepting (requests already queued in the listener are still taken), waits for every accepted request to
    /// be answered, then closes the listener.
    /// </summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        try { await _accepting.ConfigureAwait(false); } catch (ObjectDisposedException) { } catch (HttpListenerException) { }
        if (Volatile.Read(ref _inFlight) == 0) _drained.TrySetResult();
        await _drained.Task.ConfigureAwait(false);
        _listener.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private static int FreePort(string host)
    {
        using var probe = new TcpListener(IPAddress.Parse(host == "localhost" ? "127.0.0.1" : host), 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>
    /// Takes requests until stopped. After the stop signal it still takes those already waiting in the listener's
    /// queue (their GetContext completes at once: they arrived before it), then stops; a request that arrives later
    /// is answered 503.
    /// </summary>
    private async Task AcceptLoop()
    {
        var stopped = Task.Delay(Timeout.Infinite, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        while (true)
        {
            Task<HttpListenerContext> next;
            try { next = _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            if (!next.IsCompleted)
            {
                if (!_stop.IsCancellationRequested) await Task.WhenAny(next, stopped).ConfigureAwait(false);
                if (!next.IsCompleted)
                {
                    _ = RefuseWhenItArrives(next);
                    return;
                }
            }
            HttpListenerContext context;
            try { context = await next.ConfigureAwait(false); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            Dispatch(context, accepted: true);
        }
    }

    /// <summary>A request arriving after the stop signal (before the listener closes) gets a 503, not a dropped connection.</summary>
    private async Task RefuseWhenItArrives(Task<HttpListenerContext> next)
    {
        try { Dispatch(await next.ConfigureAwait(false), accepted: false); }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { }
    }

    private void Dispatch(HttpListenerContext context, bool accepted)
    {
        Interlocked.Increment(ref _inFlight);
        _ = Task.Run(async () =>
        {
            try { await Handle(context, accepted).ConfigureAwait(false); }
            finally
            {
                if (Interlocked.Decrement(ref _inFlight) == 0 && _stop.IsCancellationRequested && _accepting is { IsCompleted: true }) _drained.TrySetResult();
            }
        });
    }

    private async Task Handle(HttpListenerContext context, bool accepted)
    {
        var request = context.Request;
        var response = context.Response;
        string path = request.Url?.AbsolutePath ?? "/";
        string id = request.Headers["X-Request-Id"] is { Length: > 0 and <= 64 } given && given.All(c => c > ' ' && c < 127)
            ? given : Interlocked.Increment(ref _requestIds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var record = new RequestRecord(id, request.HttpMethod, path) { BytesIn = Math.Max(0, request.ContentLength64) };
        try
        {
            response.Headers["X-Request-Id"] = id;
            var service = Volatile.Read(ref _service);
            if (path == "/health")
            {
                if (request.HttpMethod != "GET") await Answer(response, record, 405, new ScoreAnswer { Error = "use GET /health" }).ConfigureAwait(false);
                else if (service is null) await Answer(response, record, 200, new HealthAnswer("loading", [], 0, 0), ServiceJsonContext.Default.HealthAnswer).ConfigureAwait(false);
                else await Answer(response, record, 200, new HealthAnswer(_stop.IsCancellationRequested || service.Stopping ? "stopping" : "ok",
                    [.. service.ModelNames.Order(StringComparer.Ordinal)], service.Pending, service.BatchSize), ServiceJsonContext.Default.HealthAnswer).ConfigureAwait(false);
            }
            else if (path == "/metrics")
            {
                if (request.HttpMethod != "GET") await Answer(response, record, 405, new ScoreAnswer { Error = "use GET /metrics" }).ConfigureAwait(false);
                else await AnswerText(response, record, 200, _ops.Metrics.Render(service, InFlight - 1), Prometheus.ContentType).ConfigureAwait(false);
            }
            else if (path == "/ready")
            {
                bool ready = service is { Warmed: true } && !service.Stopping && !_stop.IsCancellationRequested;
                var answer = ready ? new OperationsAnswer("ready", [.. service!.ModelNames.Order(StringComparer.Ordinal)])
                    : new OperationsAnswer(service is null || !service.Warmed ? "loading" : "stopping");
                if (request.HttpMethod != "GET") await Answer(response, record, 405, new ScoreAnswer { Error = "use GET /ready" }).ConfigureAwait(false);
                else await Answer(response, record, ready ? 200 : 503, answer, OperationsJsonContext.Default.OperationsAnswer).ConfigureAwait(false);
            }
            else if (path == "/reload") await Reload(request, response, record).ConfigureAwait(false);
            else if (!accepted || service is { Stopping: true })
                await Answer(response, record, 503, new ScoreAnswer { Error = "the service is shutting down" }).ConfigureAwait(false);
            else if (path == "/score")
            {
                if (request.HttpMethod != "POST") await Answer(response, record, 405, new ScoreAnswer { Error = "use POST /score with the image as the body" }).ConfigureAwait(false);
                else if (service is null) await Answer(response, record, 503, new ScoreAnswer { Error = "the models are still loading (GET /ready says when they are in)" }).ConfigureAwait(false);
                else await Score(service, request, response, record).ConfigureAwait(false);
            }
            else await Answer(response, record, 404, new ScoreAnswer { Error = $"no such endpoint '{path}' (POST /score?model=name, GET /health, /ready, /metrics; POST /reload)" }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away; nothing to answer.
            record.Error ??= "client went away: " + e.Message;
        }
        catch (InvalidOperationException e) when (record.Status == 0)
        {
            // HttpListener answered the request itself (e.g. 411 for a POST without Content-Length) before we could.
            record.Error = "answered by the HTTP listener: " + e.Message;
        }
        finally
        {
            try { response.Close(); } catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException) { }
            if (record.Status == 0)
            {
                try { record.Status = response.StatusCode; } catch (ObjectDisposedException) { }
            }

            double seconds = record.Seconds;
            _ops.Metrics.Request(record.Endpoint, record.Status);
            if (record.Scored is { } scored) _ops.Metrics.Scored(scored, seconds);
            if (_ops.Log is { } log)
            {
                string line = record.ToJsonLine(seconds);
                lock (log) log.WriteLine(line);
            }
        }
    }

    /// <summary>POST /reload, from this machine only: the models are reloaded (see <see cref="HttpOperations.Reload"/>).</summary>
    private async Task Reload(HttpListenerRequest request, HttpListenerResponse response, RequestRecord record)
    {
        if (request.HttpMethod != "POST") await Answer(response, record, 405, new ScoreAnswer { Error = "use POST /reload" }).ConfigureAwait(false);
        else if (request.RemoteEndPoint is not { } remote || !IPAddress.IsLoopback(remote.Address))
            await Answer(response, record, 403, new ScoreAnswer { Error = "POST /reload is only accepted from this machine (loopback); or send SIGHUP" }).ConfigureAwait(false);
        else if (_ops.Reload is not { } reload)
            await Answer(response, record, 404, new ScoreAnswer { Error = "this service does not reload its models" }).ConfigureAwait(false);
        else
        {
            // Loading and warming take a while: off the listener's threads.
            var outcome = await Task.Run(reload).ConfigureAwait(false);
            await Answer(response, record, outcome.Ok ? 200 : 500, new OperationsAnswer(outcome.Ok ? "reloaded" : "kept the previous models", outcome.Models, outcome.Error),
                OperationsJsonContext.Default.OperationsAnswer).ConfigureAwait(false);
        }
    }

    private async Task Score(ScoringService service, HttpListenerRequest request, HttpListenerResponse response, RequestRecord record)
    {
        string? model = request.QueryString["model"];
        record.Model = model;
        if (request.ContentLength64 > MaxBodyBytes)
        {
            await Answer(response, record, 413, new ScoreAnswer { Model = model, Error = $"body of {request.ContentLength64} bytes is above the limit of {MaxBodyBytes}" }).ConfigureAwait(false);
            return;
        }
        var (body, problem) = await ReadBody(request).ConfigureAwait(false);
        if (body is null)
        {
            await Answer(response, record, problem is null ? 413 : 400, new ScoreAnswer { Model = model, Error = problem ?? $"body is above the limit of {MaxBodyBytes} bytes" })
                .ConfigureAwait(false);
            return;
        }
        record.BytesIn = body.Length;
        if (body.Length == 0)
        {
            await Answer(response, record, 400, new ScoreAnswer { Model = model, Error = "empty body: send the image file (PNG, JPEG, …) as the request body" }).ConfigureAwait(false);
            return;
        }
        int status;
        ScoreAnswer answer;
        try
        {
            var scored = await service.ScoreAsync(model, body, "request body").ConfigureAwait(false);
            record.Scored = scored;
            record.Model = scored.Model;
            (status, answer) = (200, ScoreAnswer.From(scored));
        }
        catch (ImageLoadException e) { (status, answer) = (400, new ScoreAnswer { Model = model, Error = e.Message }); }
        catch (UnknownModelException e) { (status, answer) = (404, new ScoreAnswer { Model = model, Error = e.Message }); }
        catch (ServiceStoppingException e) { (status, answer) = (503, new ScoreAnswer { Model = model, Error = e.Message }); }
        catch (ServiceBusyException e) { (status, answer) = (503, new ScoreAnswer { Model = model, Error = e.Message }); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            (status, answer) = (500, new ScoreAnswer { Model = model, Error = $"scoring failed: {e.Message}" });
        }
        await Answer(response, record, status, answer).ConfigureAwait(false);
    }

    /// <summary>
    /// The body; null with no problem when it turns out larger than the limit (chunked bodies have no length up front),
    /// null with the problem when it ends before the length its Content-Length announced (the upload was cut short).
    /// </summary>
    private async Task<(MemoryStream? Body, string? Problem)> ReadBody(HttpListenerRequest request)
    {
        long announced = request.ContentLength64;
        // The announced length only sizes the first buffer up to a bound: a header is not a promise of bytes.
        var body = new MemoryStream((int)Math.Clamp(announced, 1 << 16, 1 << 20));
        var buffer = new byte[1 << 16];
        var input = request.InputStream;
        try
        {
            int read;
            while ((read = await input.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                if (body.Length + read > MaxBodyBytes) return (null, null);
                body.Write(buffer, 0, read);
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException)
        {
            return (null, CutShort(body.Length, announced));
        }
        if (announced > 0 && body.Length < announced) return (null, CutShort(body.Length, announced));
        body.Position = 0;
        return (body, null);
    }

    private static string CutShort(long received, long announced) => announced > 0
        ? $"the body ended after {received} of the {announced} bytes its Content-Length announced: the upload was cut short; send the whole image"
        : $"the body ended after {received} bytes, before its chunked encoding did: the upload was cut short; send the whole image";

    private static Task Answer(HttpListenerResponse response, RequestRecord record, int status, ScoreAnswer answer) =>
        Answer(response, record, status, answer, ServiceJsonContext.Default.ScoreAnswer);

    private static Task Answer<T>(HttpListenerResponse response, RequestRecord record, int status, T value, JsonTypeInfo<T> type)
    {
        if (value is ScoreAnswer { Error: { } error }) record.Error = error;
        else if (value is OperationsAnswer { Error: { } why }) record.Error = why;
        return Send(response, record, status, JsonSerializer.SerializeToUtf8Bytes(value, type), "application/json");
    }

    private static Task AnswerText(HttpListenerResponse response, RequestRecord record, int status, string text, string contentType) =>
        Send(response, record, status, System.Text.Encoding.UTF8.GetBytes(text), contentType);

    private static async Task Send(HttpListenerResponse response, RequestRecord record, int status, byte[] bytes, string contentType)
    {
        record.Status = status;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        record.BytesOut = bytes.Length;
    }
}
