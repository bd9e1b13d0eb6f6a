using System.Text.Json;
using System.Threading.Channels;
using PromptAD.Clip.Imaging;
using PromptAD.Output;

namespace PromptAD.Serving;

/// <summary>
/// The stdin/stdout front door: one request per input line — an image path, or a JSON object
/// <c>{"path": "...", "model": "name", "id": "..."}</c> — and one JSON answer line per request, in the order asked
/// (<see cref="ScoreAnswer"/>). Lines are read ahead, so a client that writes many paths at once gets them scored in
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
                await output.WriteLineAsync(JsonSerializer.Serialize(answer, ServiceJsonContext.Default.ScoreAnswer)).ConfigureAwait(false);
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
                if (string.IsNullOrWhiteSpace(line)) continue;
                await answers.Writer.WriteAsync(Answer(line)).ConfigureAwait(false);
            }
        }
        finally
        {
            answers.Writer.TryComplete();
        }
        return await writer.ConfigureAwait(false);
    }

    private async Task<ScoreAnswer> Answer(string line)
    {
        ScoreRequest? request;
        string trimmed = line.Trim();
        if (trimmed.StartsWith('{'))
        {
            try { request = JsonSerializer.Deserialize(trimmed, ServiceJsonContext.Default.ScoreRequest); }
            catch (JsonException e) { return new ScoreAnswer { Error = $"not a JSON request object: {e.Message}" }; }
            if (request?.Path is null or "") return new ScoreAnswer { Id = request?.Id, Model = request?.Model, Error = "the request has no \"path\"" };
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
            return ScoreAnswer.From(scored, request.Id, request.Path, heatmap);
        }
        catch (Exception e) when (e is ImageLoadException or UnknownModelException or ServiceStoppingException or IOException or UnauthorizedAccessException)
        {
            return new ScoreAnswer { Id = request.Id, Path = request.Path, Model = request.Model, Error = e.Message };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new ScoreAnswer { Id = request.Id, Path = request.Path, Model = request.Model, Error = $"scoring failed: {e.Message}" };
        }
    }

    private int _heatmaps;

    /// <summary>heatmaps/&lt;stem&gt;_&lt;n&gt;.png: numbered, so that the same file asked twice, or two files of one name, never share a heatmap.</summary>
    private string HeatmapPath(string imagePath)
    {
        int n = Interlocked.Increment(ref _heatmaps);
        return Path.GetFullPath(Path.Combine(heatmapFolder!, $"{Path.GetFileNameWithoutExtension(imagePath)}_{n}.png"));
    }
}
