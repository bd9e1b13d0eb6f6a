using PromptAD.Tensors.SafeTensors;
using PromptAD.Tests.Clip;

namespace PromptAD.Tests.Tensors;

/// <summary>
/// `weights convert --dtype f16|bf16` rounds as PyTorch's .half() and .bfloat16() do: random values, exact ties
/// (to even), subnormals and values near each format's limits, against PyTorch's own roundings
/// (Golden/checkpoints/rounding.safetensors, tests/reference/make_checkpoint_goldens.py). A finite value that would
/// become infinite is refused naming its tensor instead.
/// </summary>
public sealed class SafeTensorsNarrowingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-narrowing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(SafeTensorDType.F16, "as_f16")]
    [InlineData(SafeTensorDType.BF16, "as_bf16")]
    public void Rounding_MatchesPyTorch(SafeTensorDType dtype, string expectedName)
    {
        using var golden = SafeTensorsFile.Open(ClipTestPaths.Golden("checkpoints", "rounding.safetensors"));
        float[] values = golden.ReadFloat32("values"), expected = golden.ReadFloat32(expectedName);
        var keep = Enumerable.Range(0, values.Length).Where(i => float.IsFinite(expected[i])).ToArray(); // overflow: next test
        Assert.True(keep.Length > 250);
        string path = Path.Combine(_dir, "narrow.safetensors");
        SafeTensorsWriter.Write(path, [new SafeTensorsWriter.Entry("v", [keep.Length], keep.Select(i => values[i]).ToArray())], null, dtype);
        using var written = SafeTensorsFile.Open(path);
        Assert.Equal(dtype, written.GetInfo("v").DType);
        var actual = written.ReadFloat32("v");
        for (int j = 0; j < keep.Length; j++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[keep[j]]) == BitConverter.SingleToInt32Bits(actual[j]),
                $"{values[keep[j]]:R} (0x{BitConverter.SingleToUInt32Bits(values[keep[j]]):X8}) → {actual[j]:R}, PyTorch {expected[keep[j]]:R}");
    }

    [Fact]
    public void FiniteValueBeyondF16_IsRefusedNamingTheTensor()
    {
        string path = Path.Combine(_dir, "big.safetensors");
        var ex = Assert.Throws<ArgumentException>(() =>
            SafeTensorsWriter.Write(path, [new SafeTensorsWriter.Entry("token_embedding.weight", [2], new[] { 1f, 70000f })], null, SafeTensorDType.F16));
        Assert.Contains("'token_embedding.weight'", ex.Message);
        Assert.Contains("index 1", ex.Message);
        Assert.False(File.Exists(path));
    }
}
