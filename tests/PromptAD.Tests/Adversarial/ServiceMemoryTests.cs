using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using PromptAD.Serving;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// The service's memory under a burst of huge images: eight concurrent POSTs of a small PNG declaring 16384×6000
/// (within the decoder's limits, ~295 MB of pixels each) keep the serving process's peak resident memory at or under
/// 1.5 GB — decoded pixels in flight have a budget — and its resident memory falls back under 600 MB within 15 s of
/// the last answer, round after round. Measured on the real CLI as a child process (/proc/&lt;pid&gt;/status).
/// </summary>
public sealed class ServiceMemoryTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    private const long PeakLimit = 1536L << 20, IdleLimit = 600L << 20;

    [Fact]
    public async Task EightHugePngsAtOnce_PeakUnder1_5GB_AndMemoryReturns()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("reads /proc/<pid>/status (Linux)");
        string model = _h.TrainModel();
        byte[] png = HugePng(16384, 6000);
        using var serve = Hostile.Start("serve", "--model", "m=" + model, "--weights", _h.Weights, "--port", "0", "--size", "32");
        try
        {
            string url = await ListeningUrl(serve);
            using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
            for (int round = 1; round <= 2; round++)
            {
                var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
                {
                    using var content = new ByteArrayContent(png);
                    using var response = await client.PostAsync(url + "score?model=m", content, TestContext.Current.CancellationToken);
                    string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
                    return (response.StatusCode, Answer: JsonSerializer.Deserialize(text, ServiceJsonContext.Default.ScoreAnswer)!);
                }));
                // Every request is answered: scored, or refused as busy (503) with a JSON reason; none fails otherwise.
                Assert.All(answers, a => Assert.True(a.StatusCode == HttpStatusCode.OK ? a.Answer.Score is not null
                    : a.StatusCode == HttpStatusCode.ServiceUnavailable && a.Answer.Error is not null, $"{a.StatusCode}: {a.Answer.Error}"));
                Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.OK);
                long peak = Status(serve.Id, "VmHWM");
                Assert.True(peak <= PeakLimit, $"round {round}: peak RSS {peak >> 20} MB > {PeakLimit >> 20} MB");
                long rss = long.MaxValue;
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(15) && (rss = Status(serve.Id, "VmRSS")) > IdleLimit)
                    await Task.Delay(250, TestContext.Current.CancellationToken);
                Assert.True(rss <= IdleLimit, $"round {round}: RSS {rss >> 20} MB 15 s after the burst > {IdleLimit >> 20} MB");
                TestContext.Current.TestOutputHelper?.WriteLine($"round {round}: peak RSS {peak >> 20} MB, idle {rss >> 20} MB after {clock.Elapsed.TotalSeconds:F1} s");
            }
        }
        finally
        {
            if (!serve.HasExited) serve.Kill(entireProcessTree: true);
            serve.WaitForExit();
        }
    }

    private static async Task<string> ListeningUrl(System.Diagnostics.Process serve)
    {
        var read = Task.Run(() =>
        {
            string? line;
            while ((line = serve.StandardError.ReadLine()) is not null)
                if (System.Text.RegularExpressions.Regex.Match(line, @"ready on (http://\S+/)") is { Success: true } m)
                {
                    _ = serve.StandardError.ReadToEndAsync();
                    return m.Groups[1].Value;
                }
            return null;
        });
        _ = serve.StandardOutput.ReadToEndAsync();
        Assert.True(await Task.WhenAny(read, Task.Delay(TimeSpan.FromMinutes(2))) == read, "serve did not start listening");
        return read.Result ?? throw new InvalidOperationException("serve exited before listening");
    }

    /// <summary>A field of /proc/&lt;pid&gt;/status ("VmRSS:  123456 kB") in bytes.</summary>
    private static long Status(int pid, string field)
    {
        foreach (string line in File.ReadAllLines($"/proc/{pid}/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException($"no {field} in /proc/{pid}/status");
    }

    /// <summary>An 8-bit RGB PNG of <paramref name="width"/>×<paramref name="height"/> flat pixels, written by hand (a few hundred KB).</summary>
    internal static byte[] HugePng(int width, int height)
    {
        var file = new MemoryStream();
        file.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        Chunk(file, "IHDR", ihdr);
        var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[1 + 3 * width];
            for (int x = 1; x < row.Length; x++) row[x] = 128;
            for (int y = 0; y < height; y++) z.Write(row);
        }
        Chunk(file, "IDAT", idat.ToArray());
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, head[4..]);
        s.Write(head);
        s.Write(data);
        Span<byte> c = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(c, HostileImageTests.Crc32([.. head[4..], .. data]));
        s.Write(c);
    }
}
