using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PromptAD.Tests.Results.Report;

/// <summary>
/// A headless Chromium driven over the DevTools protocol (one WebSocket, flat sessions): opens a page, records console
/// errors, uncaught exceptions, error log entries (failed resource loads) and every request's URL, evaluates script,
/// takes a screenshot. Started with a fresh profile and everything that would reach the network turned off; every wait
/// is bounded by the token given, and Dispose kills the browser it started.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly Dictionary<int, TaskCompletionSource<JsonObject>> _pending = [];
    private readonly List<TaskCompletionSource<JsonObject>> _loads = [];
    private readonly Task _reader;
    private int _nextId;
    private string? _session;

    /// <summary>Console errors, exceptions and error-level log entries, as text.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Every URL the page requested.</summary>
    public List<string> Requests { get; } = [];

    private HeadlessChromium(Process process, string profile, Uri endpoint, CancellationToken token)
    {
        _process = process;
        _profile = profile;
        _socket.ConnectAsync(endpoint, token).GetAwaiter().GetResult();
        _reader = Task.Run(() => ReadLoop(token), token);
    }

    public static async Task<HeadlessChromium> Start(string binary, CancellationToken token)
    {
        string profile = Directory.CreateTempSubdirectory("promptad-chromium-").FullName;
        var psi = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio", $"--user-data-dir={profile}",
            "--remote-debugging-port=0", "--window-size=1200,900", "about:blank",
        }) psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {binary}");
        try
        {
            _ = process.StandardOutput.ReadToEndAsync(token);
            // The browser says where its DevTools endpoint listens on stderr: "DevTools listening on ws://…".
            Uri? endpoint = null;
            var seen = new StringBuilder();
            while (endpoint is null)
            {
                string? line = await process.StandardError.ReadLineAsync(token);
                if (line is null) throw new InvalidOperationException($"{binary} exited before its DevTools endpoint was up:\n{seen}");
                seen.AppendLine(line);
                int at = line.IndexOf("ws://", StringComparison.Ordinal);
                if (line.Contains("DevTools listening", StringComparison.Ordinal) && at >= 0) endpoint = new Uri(line[at..].Trim());
            }

            _ = process.StandardError.ReadToEndAsync(token); // keep draining, or the browser blocks on a full pipe
            var browser = new HeadlessChromium(process, profile, endpoint, token);
            var target = await browser.Send("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, token);
            var attached = await browser.Send("Target.attachToTarget", new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true }, token);
            browser._session = attached["sessionId"]!.GetValue<string>();
            foreach (string domain in new[] { "Runtime.enable", "Log.enable", "Page.enable", "Network.enable" }) await browser.Send(domain, null, token);
            return browser;
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>Navigates and waits for the load event (every image loaded or failed).</summary>
    public async Task Open(Uri url, CancellationToken token)
    {
        var loaded = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_loads) _loads.Add(loaded);
        var nav = await Send("Page.navigate", new JsonObject { ["url"] = url.AbsoluteUri }, token);
        if (nav["errorText"] is { } error) throw new InvalidOperationException($"navigation to {url} failed: {error}");
        await loaded.Task.WaitAsync(token);
        // A load event of the blank page could arrive late: wait until this very page says it is complete.
        while ((await Evaluate("location.href + ' ' + document.readyState", token))?.GetValue<string>() != url.AbsoluteUri + " complete")
            await Task.Delay(50, token);
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its value (JSON).</summary>
    public async Task<JsonNode?> Evaluate(string expression, CancellationToken token)
    {
        var r = await Send("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true }, token);
        if (r["exceptionDetails"] is { } ex) throw new InvalidOperationException($"script failed: {ex.ToJsonString()}");
        return r["result"]?["value"]?.DeepClone();
    }

    /// <summary>A PNG of the whole page, <paramref name="width"/> CSS pixels wide.</summary>
    public async Task<byte[]> Screenshot(int width, CancellationToken token)
    {
        double height = (await Evaluate("document.documentElement.scrollHeight", token))!.GetValue<double>();
        var r = await Send("Page.captureScreenshot", new JsonObject
        {
            ["format"] = "png", ["captureBeyondViewport"] = true,
            ["clip"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["width"] = width, ["height"] = height, ["scale"] = 1 },
        }, token);
        return Convert.FromBase64String(r["data"]!.GetValue<string>());
    }

    private async Task<JsonObject> Send(string method, JsonObject? parameters, CancellationToken token)
    {
        var done = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        int id;
        lock (_pending)
        {
            id = ++_nextId;
            _pending[id] = done;
        }

        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (_session is not null) message["sessionId"] = _session;
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, token);
        var reply = await done.Task.WaitAsync(token);
        if (reply["error"] is { } error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        return reply["result"]?.AsObject() ?? [];
    }

    private async Task ReadLoop(CancellationToken token)
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var r = await _socket.ReceiveAsync(buffer, token);
                if (r.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                var json = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                Dispatch(json);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }

        lock (_pending)
        {
            foreach (var p in _pending.Values) p.TrySetException(new InvalidOperationException("the browser closed the DevTools connection"));
        }
    }

    private void Dispatch(JsonObject json)
    {
        if (json["id"] is { } id)
        {
            TaskCompletionSource<JsonObject>? waiter;
            lock (_pending)
            {
                _pending.Remove(id.GetValue<int>(), out waiter);
            }

            waiter?.TrySetResult(json);
            return;
        }

        var p = json["params"];
        string? consoleType = p?["type"]?.GetValue<string>();
        string? logLevel = p?["entry"]?["level"]?.GetValue<string>();
        switch (json["method"]?.GetValue<string>())
        {
            case "Runtime.consoleAPICalled" when consoleType is "error" or "assert":
                lock (Errors) Errors.Add("console: " + p?["args"]?.ToJsonString());
                break;
            case "Runtime.exceptionThrown":
                lock (Errors) Errors.Add("exception: " + p?["exceptionDetails"]?.ToJsonString());
                break;
            case "Log.entryAdded" when logLevel == "error":
                lock (Errors) Errors.Add($"log: {p?["entry"]?["text"]} ({p?["entry"]?["url"]})");
                break;
            case "Network.requestWillBeSent":
                lock (Requests) Requests.Add(p?["request"]?["url"]?.GetValue<string>() ?? "");
                break;
            case "Page.loadEventFired":
                lock (_loads)
                {
                    foreach (var l in _loads) l.TrySetResult(json);
                    _loads.Clear();
                }

                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, quick.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }

        Kill(_process);
        _socket.Dispose();
        try { await _reader.WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { /* the reader only ends here */ }
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
    }
}
