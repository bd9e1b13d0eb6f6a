using System.CommandLine;
using System.Runtime.InteropServices;
using PromptAD.Clip;
using PromptAD.Serving;

namespace PromptAD.Cli;

/// <summary>
/// `promptad serve`: loads the weights and models once, then scores images as they come — JSON lines on
/// stdin/stdout, or HTTP on 127.0.0.1 with --port. SIGTERM/SIGINT stop it gracefully: no new images, every accepted
/// one answered. Over HTTP it listens before the models load (GET /health answers, GET /ready says 503 until they are
/// loaded and warmed), logs one JSON line per request to stderr, shows /metrics, and reloads the models on SIGHUP or
/// POST /reload without dropping a request.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model")
        {
            Description = "model to serve: name=path, a model file (named after its stem) or a folder of them; repeat for several",
            Required = true, AllowMultipleArgumentsPerToken = false,
        };
        var weights = CommonOptions.Weights();
        var backbone = CommonOptions.BackboneOverride();
        var port = new Option<int?>("--port") { Description = "serve HTTP on this port (0: a free one, printed) instead of stdin/stdout: POST /score?model=name with the image as the body, GET /health" };
        var host = new Option<string>("--host") { Description = "address to bind the HTTP server to (default 127.0.0.1: this machine only)", DefaultValueFactory = _ => "127.0.0.1" };
        var maxBody = new Option<long>("--max-body") { Description = "largest accepted HTTP body in bytes, up to 1 GiB (larger: 413)", DefaultValueFactory = _ => HttpFrontDoor.DefaultMaxBodyBytes };
        var heatmaps = new Option<DirectoryInfo?>("--heatmaps") { Description = "stdin/stdout: write each image's heatmap PNG into this folder and answer its path" };
        var threshold = ThresholdOption.Create("decision threshold for every model (a finite number; default: each model's calibrated threshold, " +
            "refused when calibrated at another --size; none: no decision)");
        var size = CommonOptions.OutputSize();
        var batch = CommonOptions.Batch("most images scored together when requests arrive at the same time");
        var device = BackendChoice.CreateOptions();
        var command = new Command("serve", "Keeps weights and models loaded and scores images as they come: JSON lines on stdin/stdout, or HTTP (--port).")
        {
            models, weights, backbone, port, host, maxBody, heatmaps, threshold, size, batch,
        };
        device.AddTo(command);
        command.SetAction(p => Run(p.GetValue(models) ?? [], p.GetValue(weights)!, p.GetValue(backbone), p.GetValue(port), p.GetValue(host)!,
            p.GetValue(maxBody), p.GetValue(heatmaps), p.GetValue(threshold), p.GetValue(size), p.GetValue(batch), device.Value(p),
            Console.In, Console.Out, Console.Error));
        return command;
    }

    /// <param name="onListening">Called with the HTTP front door once it listens with the models loaded and warmed (tests use its port).</param>
    /// <param name="onStarted">Called with the HTTP front door as soon as it listens, before the models load.</param>
    internal static int Run(IReadOnlyList<string> modelSpecs, FileInfo weightsFile, string? backbone, int? port, string host, long maxBody,
        DirectoryInfo? heatmaps, float? threshold, int size, int batch, Pipeline.ComputeDevice device, TextReader stdin, TextWriter stdout, TextWriter log,
        CancellationToken stop = default, Action<HttpFrontDoor>? onListening = null, Action<HttpFrontDoor>? onStarted = null)
    {
        OptionRanges.Check(size, "--size", OptionRanges.Size);
        OptionRanges.Check(batch, "--batch", OptionRanges.Batch);
        BackendChoice.CheckPrecision(device);
        if (port is < 0 or > 65535) throw new ArgumentException($"--port must be between 0 and 65535, got {port}");
        if (port is not null && host != "localhost" && !System.Net.IPAddress.TryParse(host, out _))
            throw new ArgumentException($"--host must be an IP address of this machine (or localhost), got '{host}'");
        if (maxBody < 1 || maxBody > HttpFrontDoor.MaxMaxBodyBytes)
            throw new ArgumentException($"--max-body must be between 1 and {HttpFrontDoor.MaxMaxBodyBytes} bytes (1 GiB), got {maxBody}");
        if (heatmaps is not null && port is not null) throw new ArgumentException("--heatmaps is for stdin/stdout; HTTP answers never name files");
        CommonOptions.CheckExists(weightsFile, "Weights");
        var paths = ResolveModels(modelSpecs);
        if (heatmaps is not null)
        {
            Files.OutputGuard.Folder(heatmaps.FullName, "--heatmaps", [],
                [new("weights file", weightsFile.FullName), .. paths.Select(p => new Files.GuardedInput($"model file ({p.Key})", p.Value))]);
            Files.OutputGuard.OutsideDatasets(heatmaps.FullName, "--heatmaps");
        }
        // HTTP listens first: a supervisor sees the process alive (/health) and not yet ready (/ready) while it loads.
        HttpFrontDoor? http = null;
        ServiceReloader? reloader = null;
        if (port is { } listenPort)
        {
            http = new HttpFrontDoor(null, host, listenPort, maxBody, new HttpOperations(new ServiceMetrics(), log, () => reloader?.Reload()
                ?? new ReloadOutcome(false, [], "the models are still loading")));
            log.WriteLine($"listening on {http.Url} (POST /score?model=name, GET /health, /ready, /metrics; POST /reload or SIGHUP reloads the models); loading the models");
            onStarted?.Invoke(http);
        }

        Dictionary<string, Model.PromptAdModel> loaded;
        try { loaded = ModelList.Load(paths); }
        catch
        {
            http?.StopAsync().GetAwaiter().GetResult();
            throw;
        }

        try
        {
            var config = ClipConfigs.Load(backbone ?? loaded.Values.First().Metadata.Backbone);
            foreach (var m in loaded.Values) m.CheckCompatible(config);
            using var backend = BackendChoice.Create(device);
            var (hashedWeights, sha) = HashedWeights.Load(weightsFile, config, backend, hash =>
            {
                foreach (var m in loaded.Values) m.CheckCompatible(config, hash);
            });
            using var weights = hashedWeights;
            using var service = new ScoringService(weights, loaded, size, batch, threshold);
            foreach (var (name, path) in paths.OrderBy(p => p.Key, StringComparer.Ordinal))
                log.WriteLine($"model {name}: {path}; {ThresholdOption.Describe(service.ThresholdOf(name))}");

            using var signalled = CancellationTokenSource.CreateLinkedTokenSource(stop);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; signalled.Cancel(); });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; signalled.Cancel(); });
            if (http is not null)
            {
                service.Warm();
                reloader = new ServiceReloader(service, modelSpecs, config, sha, http.Metrics, log);
                http.Attach(service);
                using var hangup = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
                {
                    c.Cancel = true; // reload, not stop
                    _ = Task.Run(reloader.Reload);
                });
                log.WriteLine($"ready on {http.Url} (batch {batch}); SIGTERM or Ctrl+C stops, SIGHUP reloads the models");
                onListening?.Invoke(http);
                try { signalled.Token.WaitHandle.WaitOne(); }
                finally
                {
                    log.WriteLine("stopping: answering the requests in flight");
                    http.StopAsync().GetAwaiter().GetResult();
                    service.StopAsync().GetAwaiter().GetResult();
                }
            }
            else
            {
                log.WriteLine($"reading image paths (or JSON requests) from stdin, one per line; answers are JSON lines on stdout (batch {batch})");
                int n = new StdioFrontDoor(service, stdin, stdout, heatmaps?.FullName).RunAsync(signalled.Token).GetAwaiter().GetResult();
                service.StopAsync().GetAwaiter().GetResult();
                log.WriteLine($"answered {n} request(s)");
            }
            return 0;
        }
        catch
        {
            http?.StopAsync().GetAwaiter().GetResult();
            throw;
        }
        finally
        {
            foreach (var m in loaded.Values) m.Dispose();
        }
    }

    /// <summary>The --model values as name → file; their errors name the option.</summary>
    private static Dictionary<string, string> ResolveModels(IReadOnlyList<string> specs)
    {
        try { return ModelList.Resolve(specs); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"--model: {e.Message}", e.FileName, e); }
        catch (ArgumentException e) { throw new ArgumentException($"--model: {e.Message}", e); }
    }
}
