using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PromptAD.Clip.Imaging;

namespace PromptAD.Serving;

/// <summary>
/// The HTTP front door: <c>POST /score?model=name</c> with the image file as the body → a <see cref="ScoreAnswer"/>;
/// <c>GET /health</c> → <see cref="HealthAnswer"/>. Bound to 127.0.0.1 unless told otherwise; bodies above
/// <see cref="MaxBodyBytes"/> are refused (413) before they are read; no request can name a file on this machine.
/// Status codes: 200 scored, 400 unreadable image, empty or cut-short body, 404 unknown model or path, 405 wrong method,
/// 413 body too large, 503 shutting down or busy (too many pixels being decoded), 500 anything else (the service keeps
/// running in every case). Every answer has a JSON body; a 200 always carries a score.
/// Stopping finishes every request that arrived before the signal (those already waiting in the listener's queue
/// included) and refuses with 503 only what arrives after it.
/// </summary>
public sealed class HttpFrontDoor : IAsyncDisposable
{
    private readonly ScoringService _service;
    private readonly HttpListener _listener = new();
    private readonly Task _accepting;
    private readonly CancellationTokenSource _stop = new();
    private int _inFlight;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="port">0 picks a free port (see <see cref="Port"/>).</param>
    public HttpFrontDoor(ScoringService service, string host = "127.0.0.1", int port = 0, long maxBodyBytes = DefaultMaxBodyBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBodyBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBodyBytes, MaxMaxBodyBytes);
        _service = service;
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
        try
        {
            string path = request.Url?.AbsolutePath ?? "/";
            if (!accepted || _service.Stopping)
                await Answer(response, 503, new ScoreAnswer { Error = "the service is shutting down" }).ConfigureAwait(false);
            else if (path == "/health")
            {
                if (request.HttpMethod != "GET") await Answer(response, 405, new ScoreAnswer { Error = "use GET /health" }).ConfigureAwait(false);
                else await Answer(response, 200, new HealthAnswer("ok", [.. _service.ModelNames.Order(StringComparer.Ordinal)], _service.Pending, _service.BatchSize),
                    ServiceJsonContext.Default.HealthAnswer).ConfigureAwait(false);
            }
            else if (path == "/score")
            {
                if (request.HttpMethod != "POST") await Answer(response, 405, new ScoreAnswer { Error = "use POST /score with the image as the body" }).ConfigureAwait(false);
                else await Score(request, response).ConfigureAwait(false);
            }
            else await Answer(response, 404, new ScoreAnswer { Error = $"no such endpoint '{path}' (POST /score?model=name, GET /health)" }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away; nothing to answer.
        }
        finally
        {
            try { response.Close(); } catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException) { }
        }
    }

    private async Task Score(HttpListenerRequest request, HttpListenerResponse response)
    {
        string? model = request.QueryString["model"];
        if (request.ContentLength64 > MaxBodyBytes)
        {
            await Answer(response, 413, new ScoreAnswer { Model = model, Error = $"body of {request.ContentLength64} bytes is above the limit of {MaxBodyBytes}" }).ConfigureAwait(false);
            return;
        }
        var (body, problem) = await ReadBody(request).ConfigureAwait(false);
        if (body is null)
        {
            await Answer(response, problem is null ? 413 : 400, new ScoreAnswer { Model = model, Error = problem ?? $"body is above the limit of {MaxBodyBytes} bytes" })
                .ConfigureAwait(false);
            return;
        }
        if (body.Length == 0)
        {
            await Answer(response, 400, new ScoreAnswer { Model = model, Error = "empty body: send the image file (PNG, JPEG, …) as the request body" }).ConfigureAwait(false);
            return;
        }
        int status;
        ScoreAnswer answer;
        try
        {
            var scored = await _service.ScoreAsync(model, body, "request body").ConfigureAwait(false);
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
        await Answer(response, status, answer).ConfigureAwait(false);
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

    private static Task Answer(HttpListenerResponse response, int status, ScoreAnswer answer) =>
        Answer(response, status, answer, ServiceJsonContext.Default.ScoreAnswer);

    private static async Task Answer<T>(HttpListenerResponse response, int status, T value, JsonTypeInfo<T> type)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(value, type);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
    }
}
