using System.Text.Json;
using System.Threading.Channels;
using PromptAD.Clip.Imaging;
using PromptAD.Heatmaps;

namespace PromptAD.Serving;

/// <summary>
/// The stdin/stdout front door: one request per input line — an image path, or a JSON object
/// <c>{"path": "...", "model": "name", "id": "..."}</c> (the id a string or a number, echoed as given) — and one JSON
/// answer line per request, in the order asked (<see cref="ScoreAnswer"/>); a blank line is answered with an error too,
/// so answers and requests always pair up line by line. Heatmaps never replace a file already in the folder. Lines are read ahead, so a client that writes many paths at once gets them scored in
/// batches. A bad line or image gets an answer with "error" and the loop goes on. Ends at the end of input or when
/// <paramref name="stop"/> fires (after answering every line already read).
/// </summary>
public sealed class StdioFrontDoor(ScoringService service, TextReader input, TextWriter output, string? heatmapFolder = null)
{
    /// <summary>Runs until the end of input or <paramref name="stop"/>; returns the number of requests answered.</summary>
    public async Task<int> RunAsync(CancellationToken stop = default)
    {
        // Answers in request order; bounded so that a huge input does not queue every image at once.
        var answers = Channel.CreateBounded<Task<ScoreAnswer>>(new BoundedChannelOptions(Math.Max(4, 4 * service.BatchSize)) { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(async () =>
        {
            int n = 0;
            await foreach (var pending in answers.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                var answer = await pending.ConfigureAwait(false);
                await output.WriteLineAsync(Line(answer)).ConfigureAwait(false);
                await output.FlushAsync().ConfigureAwait(false);
                n++;
            }
            return n;
        });
        var stopped = Task.Delay(Timeout.Infinite, stop);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var read = input.ReadLineAsync(stop).AsTask();
                if (await Task.WhenAny(read, stopped).ConfigureAwait(false) != read) break;
                string? line;
                try { line = await read.ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                if (line is null) break;
                await answers.Writer.WriteAsync(Answer(line)).ConfigureAwait(false);
            }
        }
        finally
        {
            answers.Writer.TryComplete();
        }
        return await writer.ConfigureAwait(false);
    }

    /// <summary>The answer's JSON line; a numeric request id goes back as the number it was.</summary>
    private static string Line(ScoreAnswer answer)
    {
        if (!answer.IdIsNumber || answer.Id is null) return JsonSerializer.Serialize(answer, ServiceJsonContext.Default.ScoreAnswer);
        string rest = JsonSerializer.Serialize(answer with { Id = null }, ServiceJsonContext.Default.ScoreAnswer);
        return "{\"id\":" + answer.Id + (rest == "{}" ? "}" : "," + rest[1..]);
    }

    private async Task<ScoreAnswer> Answer(string line)
    {
        string trimmed = line.Trim();
        if (trimmed.Length == 0) return new ScoreAnswer { Error = "empty request line: give an image path or a JSON request object" };
        ScoreRequest request;
        if (trimmed.StartsWith('{'))
        {
            if (ParseRequest(trimmed, out string? problem) is not { } parsed) return new ScoreAnswer { Error = problem };
            request = parsed;
            if (request.Path is null or "") return new ScoreAnswer { Id = request.Id, IdIsNumber = request.IdIsNumber, Model = request.Model, Error = "the request has no \"path\"" };
        }
        else request = new ScoreRequest { Path = trimmed };

        try
        {
            var scored = await service.ScoreFileAsync(request.Model, request.Path!, keepThumbnail: heatmapFolder is not null).ConfigureAwait(false);
            string? heatmap = null;
            if (heatmapFolder is not null)
            {
                heatmap = HeatmapPath(request.Path!);
                var (min, max) = HeatmapRenderer.RangeOf([scored.Score.PixelMap]);
                HeatmapRenderer.Write(heatmap, scored.Thumbnail!, scored.Score.PixelMap, scored.Score.Size, null, min, max, maskPanel: false);
            }
            return ScoreAnswer.From(scored, request.Id, request.Path, heatmap) with { IdIsNumber = request.IdIsNumber };
        }
        catch (Exception e) when (e is ImageLoadException or UnknownModelException or ServiceStoppingException or IOException or UnauthorizedAccessException)
        {
            return new ScoreAnswer { Id = request.Id, IdIsNumber = request.IdIsNumber, Path = request.Path, Model = request.Model, Error = e.Message };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new ScoreAnswer { Id = request.Id, IdIsNumber = request.IdIsNumber, Path = request.Path, Model = request.Model, Error = $"scoring failed: {e.Message}" };
        }
    }

    private int _heatmaps;

    /// <summary>
    /// heatmaps/&lt;stem&gt;_&lt;n&gt;.png: numbered, so that the same file asked twice, or two files of one name, never
    /// share a heatmap; numbers already taken in the folder (an earlier run's heatmaps) are skipped, never overwritten.
    /// </summary>
    private string HeatmapPath(string imagePath)
    {
        while (true)
        {
            int n = Interlocked.Increment(ref _heatmaps);
            string path = Path.GetFullPath(Path.Combine(heatmapFolder!, $"{Path.GetFileNameWithoutExtension(imagePath)}_{n}.png"));
            if (!Path.Exists(path)) return path;
        }
    }

    /// <summary>A request object: "path" and "model" strings, "id" a string or a number; null and the problem otherwise.</summary>
    private static ScoreRequest? ParseRequest(string json, out string? problem)
    {
        problem = null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { problem = "not a JSON request object"; return null; }
            string? Text(string name)
            {
                if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
                return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new FormatException($"\"{name}\" must be a string");
            }
            string? id = null;
            bool numeric = false;
            if (root.TryGetProperty("id", out var idValue))
            {
                (id, numeric) = idValue.ValueKind switch
                {
                    JsonValueKind.String => (idValue.GetString(), false),
                    JsonValueKind.Number => (idValue.GetRawText(), true),
                    JsonValueKind.Null => ((string?)null, false),
                    _ => throw new FormatException("\"id\" must be a string or a number"),
                };
            }
            return new ScoreRequest { Path = Text("path"), Model = Text("model"), Id = id, IdIsNumber = numeric };
        }
        catch (JsonException e) { problem = $"not a JSON request object: {e.Message}"; }
        catch (FormatException e) { problem = e.Message; }
        return null;
    }
}
