using System.Text.Json;
using PromptAD.Data;
using PromptAD.Scoring;
using PromptAD.Tensors.Cpu;
using PromptAD.Tensors;
using PromptAD.Tests.Evaluation;

namespace PromptAD.Tests.Scoring;

public class PostProcessingTests
{
    private readonly ITestOutputHelper output;

    public PostProcessingTests(ITestOutputHelper output) => this.output = output;

    [Fact]
    public void GaussianBlurMatchesScipy()
    {
        using JsonDocument doc = MetricsGolden.Open("gaussian_blur.json");
        float worst = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("small").EnumerateArray())
        {
            int h = c.GetProperty("height").GetInt32(), w = c.GetProperty("width").GetInt32();
            float[] input = MetricsGolden.HashMap(c.GetProperty("seed").GetInt32(), h, w);
            float[] expected = MetricsGolden.Floats(c.GetProperty("expected").GetString()!);
            float[] actual = GaussianBlur.Apply(input, w, h);
            for (int i = 0; i < expected.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f * Math.Abs(expected[i]) + 1e-9f,
                    $"{h}x{w} at {i}: scipy {expected[i]:R}, ours {actual[i]:R}");
            }
        }

        foreach (JsonElement c in doc.RootElement.GetProperty("large").EnumerateArray())
        {
            int h = c.GetProperty("height").GetInt32(), w = c.GetProperty("width").GetInt32();
            float[] actual = GaussianBlur.Apply(MetricsGolden.HashMap(c.GetProperty("seed").GetInt32(), h, w), w, h);
            int[] indices = [.. c.GetProperty("indices").EnumerateArray().Select(v => v.GetInt32())];
            double[] values = [.. c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble())];
            for (int k = 0; k < indices.Length; k++)
            {
                worst = Math.Max(worst, Math.Abs((float)values[k] - actual[indices[k]]));
                MetricsGolden.AssertRelative(values[k], actual[indices[k]], 1e-6, $"{h}x{w} at {indices[k]}");
            }

            double sum = 0, sumsq = 0;
            foreach (float v in actual)
            {
                sum += v;
                sumsq += (double)v * v;
            }

            MetricsGolden.AssertRelative(c.GetProperty("sum").GetDouble(), sum, 1e-9, $"{h}x{w} sum");
            MetricsGolden.AssertRelative(c.GetProperty("sumsq").GetDouble(), sumsq, 1e-9, $"{h}x{w} sum of squares");
        }

        output.WriteLine($"max |ours − scipy| = {worst:E2}");
    }

    /// <summary>
    /// The blur's row-wise SIMD layout does exactly SciPy's per-line arithmetic (ni_filters.c: per output, in double,
    /// w₀·x₀ + Σⱼ wⱼ·(x₋ⱼ + x₊ⱼ); the vertical pass rounded to float32 before the horizontal one): the maps are
    /// bit-identical to that loop, written out here one output at a time, on sizes below, at and above the radius.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 4.0)]
    [InlineData(5, 6, 4.0)]
    [InlineData(7, 40, 1.5)]
    [InlineData(33, 17, 4.0)]
    [InlineData(9, 37, 4.0)] // four registers of outputs, then one, then single outputs
    [InlineData(3, 71, 2.0)]
    [InlineData(400, 400, 4.0)]
    public void GaussianBlur_IsBitIdenticalToSciPysLineLoop(int h, int w, double sigma)
    {
        var rng = new Random(h * 1000 + w);
        float[] map = [.. Enumerable.Range(0, h * w).Select(_ => (float)rng.NextDouble())];
        double[] k = GaussianBlur.Kernel(sigma, 4.0);
        double Line(Func<int, double> at, int n, int i)
        {
            double acc = at(i) * k[0];
            for (int j = 1; j < k.Length; j++) acc += (at(GaussianBlur.Reflect(i - j, n)) + at(GaussianBlur.Reflect(i + j, n))) * k[j];
            return acc;
        }
        var vertical = new float[h * w];
        for (int x = 0; x < w; x++)
            for (int y = 0; y < h; y++) vertical[y * w + x] = (float)Line(r => map[r * w + x], h, y);
        var expected = new float[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) expected[y * w + x] = (float)Line(c => vertical[y * w + c], w, x);
        float[] actual = GaussianBlur.Apply(map, w, h, sigma);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{h}x{w} at {i}: {expected[i]:R} vs {actual[i]:R}");
    }

    /// <summary>
    /// The upsampling's row reuse and SIMD lerp do, per pixel, exactly PyTorch's align_corners = false formula in float:
    /// top = r₀[x₀] + (r₀[x₁] − r₀[x₀])·λₓ, the same for the bottom row, then top + (bottom − top)·λᵧ. Bit-identical to
    /// that loop, written out here one pixel at a time, with channels and sizes that cross rows, chunks and SIMD tails.
    /// </summary>
    [Theory]
    [InlineData(2, 15, 15, 400, 400)]
    [InlineData(3, 5, 7, 33, 70)]
    [InlineData(1, 1, 1, 3, 2)]
    [InlineData(4, 24, 24, 240, 241)]
    [InlineData(1, 9, 9, 4, 5)] // downsampling
    public void UpsampleBilinear_IsBitIdenticalToThePerPixelFormula(int ch, int ih, int iw, int oh, int ow)
    {
        var rng = new Random(ch * 7 + ih * 131 + ow);
        float[] x = [.. Enumerable.Range(0, ch * ih * iw).Select(_ => (float)rng.NextDouble() * 2 - 0.5f)];
        static (int I0, int I1, float L) Source(int dst, int inSize, int outSize)
        {
            float src = MathF.Max(0f, (dst + 0.5f) * inSize / outSize - 0.5f);
            int i0 = Math.Min((int)src, inSize - 1);
            return (i0, i0 < inSize - 1 ? i0 + 1 : i0, src - i0);
        }
        var expected = new float[ch * oh * ow];
        for (int c = 0; c < ch; c++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    var (y0, y1, ly) = Source(oy, ih, oh);
                    var (x0, x1, lx) = Source(ox, iw, ow);
                    float At(int y, int xx) => x[(c * ih + y) * iw + xx];
                    float top = At(y0, x0) + (At(y0, x1) - At(y0, x0)) * lx;
                    float bottom = At(y1, x0) + (At(y1, x1) - At(y1, x0)) * lx;
                    expected[(c * oh + oy) * ow + ox] = top + (bottom - top) * ly;
                }

        using var input = Tensor.FromArray(CpuBackend.Instance, x, ch, ih, iw);
        using var up = PromptAD.Tensors.Ops.UpsampleBilinear(input, oh, ow);
        float[] actual = up.ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"at {i}: {expected[i]:R} vs {actual[i]:R}");
    }

    [Fact]
    public void KernelRadiusAndReflection()
    {
        Assert.Equal(17, GaussianBlur.Kernel(4, 4).Length); // radius int(4·4 + 0.5) = 16
        // d c b a | a b c d | d c b a
        int[] expected = [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0];
        for (int i = -4; i < 8; i++)
        {
            Assert.Equal(expected[i + 4], GaussianBlur.Reflect(i, 4));
        }

        float[] constant = [.. Enumerable.Repeat(0.25f, 9 * 4)];
        Assert.All(GaussianBlur.Apply(constant, 9, 4), v => Assert.Equal(0.25f, v, 6));
    }

    [Fact]
    public void HarmonicFusionIsHalfTheHarmonicMean()
    {
        Assert.Equal([1f, 0.5f], HarmonicFusion.Fuse([2f, 1f], [2f, 1f]));
        Assert.Equal(0.75, HarmonicFusion.Fuse(1.0, 3.0), 15);
        Assert.Throws<ArgumentException>(() => HarmonicFusion.Fuse([1f], [1f, 2f]));
    }

    [Fact]
    public void NearestResizeUsesFloorOfScaledIndex()
    {
        // 5 → 2: floor(x·5/2) = 0, 2 (Pillow's centre sampling would pick 1, 3).
        var mask = new BinaryMask(5, 1, [0, 0, 1, 0, 0]);
        Assert.Equal([0, 1], mask.ResizeNearest(2, 1).Pixels);
        // 2 → 5 upsampling: floor(x·2/5) = 0,0,0,1,1.
        var up = new BinaryMask(2, 1, [0, 1]);
        Assert.Equal([0, 0, 0, 1, 1], up.ResizeNearest(5, 1).Pixels);
        Assert.Equal([1, 0, 1], BinaryMask.FromValues(3, 1, [255, 0, 7]).Pixels);
    }
}
