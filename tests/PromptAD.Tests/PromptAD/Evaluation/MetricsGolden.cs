using System.Text.Json;
using PromptAD.Data;
using PromptAD.Tests.Clip;

namespace PromptAD.Tests.Evaluation;

/// <summary>Reads Golden/metrics/*.json written by tests/reference/metrics_reference.py.</summary>
internal static class MetricsGolden
{
    public static JsonDocument Open(string name) => JsonDocument.Parse(File.ReadAllText(ClipTestPaths.Golden("metrics", name)));

    /// <summary>One case of pixel_metrics.json: its maps and masks (null for a 'good' image), as the golden holds them.</summary>
    public static (string Name, List<float[]> Maps, List<BinaryMask?> Masks) PixelCase(JsonElement c)
    {
        int w = c.GetProperty("width").GetInt32(), h = c.GetProperty("height").GetInt32();
        List<float[]> maps = [.. c.GetProperty("maps").EnumerateArray().Select(m => Floats(m.GetString()!))];
        List<BinaryMask?> masks = [.. c.GetProperty("masks").EnumerateArray().Select(m =>
            m.ValueKind == JsonValueKind.Null ? null : new BinaryMask(w, h, Convert.FromBase64String(m.GetString()!)))];
        return (c.GetProperty("name").GetString()!, maps, masks);
    }

    public static float[] Floats(string base64)
    {
        byte[] bytes = Convert.FromBase64String(base64);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    /// <summary>The generator's splitmix64 hash map: value[i] = (splitmix64(seed·2³² + i) ≫ 40) / 2²⁴.</summary>
    public static float[] HashMap(int seed, int height, int width)
    {
        var values = new float[height * width];
        ulong baseValue = (ulong)seed << 32;
        for (int i = 0; i < values.Length; i++)
        {
            ulong x = baseValue + (ulong)i + 0x9E3779B97F4A7C15UL;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            x ^= x >> 31;
            values[i] = (float)((x >> 40) / (double)(1 << 24));
        }

        return values;
    }

    public static void AssertRelative(double expected, double actual, double tolerance, string what)
    {
        double error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(error <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (relative error {error:E2} > {tolerance:E0})");
    }
}
