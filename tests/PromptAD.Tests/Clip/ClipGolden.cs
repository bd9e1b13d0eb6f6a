using PromptAD.Clip;
using PromptAD.Tensors;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tests.Clip;

/// <summary>
/// One golden case written by tests/reference/clip_reference.py: the weights file, the inputs, and the PyTorch
/// (float64) outputs. Integer inputs are stored as exact float32 values.
/// </summary>
internal sealed class ClipGolden : IDisposable
{
    private readonly SafeTensorsFile _file;

    public ClipGolden(string directory, string configName)
    {
        Config = ClipConfigs.Load(configName);
        WeightsPath = Path.Combine(directory, configName + ".weights.safetensors");
        _file = SafeTensorsFile.Open(Path.Combine(directory, configName + ".golden.safetensors"));
    }

    public ClipConfig Config { get; }
    public string WeightsPath { get; }

    public static string SmallDirectory => Path.Combine(AppContext.BaseDirectory, "Golden", "clip");

    public static string RepoRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "PromptAD.sln"))) return d.FullName;
            throw new DirectoryNotFoundException("no PromptAD.sln above " + AppContext.BaseDirectory);
        }
    }

    public float[] Get(string name) => _file.ReadFloat32(name);

    public int[] Shape(string name) => _file.GetInfo(name).Shape;

    public int[] Ints(string name) => Get(name).Select(v => checked((int)v)).ToArray();

    public int[][] TokenIds()
    {
        var s = Shape("token_ids");
        var flat = Ints("token_ids");
        return Enumerable.Range(0, s[0]).Select(b => flat.AsSpan(b * s[1], s[1]).ToArray()).ToArray();
    }

    public int[][] LearnedPositions()
    {
        var counts = Ints("learned_counts");
        var flat = Ints("learned_positions");
        var result = new int[counts.Length][];
        int at = 0;
        for (int b = 0; b < counts.Length; b++) { result[b] = flat.AsSpan(at, counts[b]).ToArray(); at += counts[b]; }
        return result;
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>Error measures used by the parity tests.</summary>
internal static class Compare
{
    public static double MaxAbs(float[] a, float[] b)
    {
        Assert.Equal(b.Length, a.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (double.IsNaN(d)) return double.PositiveInfinity;
            m = Math.Max(m, d);
        }
        return m;
    }

    /// <summary>max |a − b| / max |b|.</summary>
    public static double Relative(float[] actual, float[] expected) => MaxAbs(actual, expected) / Math.Max(1e-30, expected.Max(v => Math.Abs((double)v)));

    /// <summary>Each row of [rows, cols] divided by its L2 norm, in double.</summary>
    public static float[] NormalizeRows(float[] x, int cols)
    {
        var y = new float[x.Length];
        for (int r = 0; r < x.Length / cols; r++)
        {
            double s = 0;
            for (int c = 0; c < cols; c++) s += (double)x[r * cols + c] * x[r * cols + c];
            double inv = 1 / Math.Max(Math.Sqrt(s), 1e-12);
            for (int c = 0; c < cols; c++) y[r * cols + c] = (float)(x[r * cols + c] * inv);
        }
        return y;
    }
}
