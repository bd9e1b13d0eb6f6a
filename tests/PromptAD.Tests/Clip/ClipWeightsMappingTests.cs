using System.Buffers.Binary;
using System.Text;
using PromptAD.Clip;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tests.Clip;

/// <summary>
/// Weights used where they lie: on the CPU, an F32 safetensors file's tensors are read-only views of its memory mapping
/// (no copy) holding exactly the saved values; BF16 files and misaligned F32 tensors are converted into memory as before.
/// </summary>
public sealed class ClipWeightsMappingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-mapping-").FullName;
    private readonly ClipConfig _config = ClipConfigs.Load("tiny-test");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void F32WeightsOnTheCpuAreViewsOfTheFileWithTheSavedValues()
    {
        string path = Path.Combine(_dir, "w.safetensors");
        using var original = ClipWeights.Random(_config, CpuBackend.Instance, seed: 4);
        original.SaveSafetensors(path);

        using var loaded = ClipWeights.Load(path, _config, CpuBackend.Instance);
        foreach (var (name, tensor) in original.Tensors)
        {
            var view = loaded[name];
            Assert.True(view.Storage is CpuStorage { IsBorrowed: true }, $"{name} was copied");
            Assert.True(view.Storage.IsFrozen);
            Assert.Equal(tensor.ToArray(), view.ToArray());
        }
        var ex = Assert.Throws<InvalidOperationException>(() => loaded["logit_scale"].CopyFrom([1f]));
        Assert.Contains("read-only", ex.Message);
        Assert.Throws<InvalidOperationException>(() => CpuBackend.Instance.Fill(loaded["visual.proj"], 0f));

        // The encoder reads them like any tensor: the same features, bit for bit, as from the weights in memory.
        var images = new float[3 * 32 * 32];
        for (int i = 0; i < images.Length; i++) images[i] = MathF.Sin(i * 0.37f);
        using var a = new ClipImageEncoder(original).EncodeRaw(images, 1);
        using var b = new ClipImageEncoder(loaded).EncodeRaw(images, 1);
        Assert.Equal(a.Local.ToArray(), b.Local.ToArray());
        Assert.Equal(a.Global.ToArray(), b.Global.ToArray());
    }

    [Fact]
    public void Bf16WeightsAreConvertedIntoMemory()
    {
        string path = Path.Combine(_dir, "bf16.safetensors");
        using var original = ClipWeights.Random(_config, CpuBackend.Instance, seed: 5);
        var expected = WriteBf16(path, original);

        using var loaded = ClipWeights.Load(path, _config, CpuBackend.Instance);
        foreach (var (name, values) in expected)
        {
            Assert.True(loaded[name].Storage is CpuStorage { IsBorrowed: false }, $"{name} should be a converted copy");
            Assert.Equal(values, loaded[name].ToArray());
        }
    }

    [Fact]
    public void OnlyAlignedF32TensorsHaveAnAddress()
    {
        // An F16 scalar first puts the F32 tensor f at byte 2 of the data section (not float-aligned); g, after a second
        // F16 scalar, lies at byte 12.
        string header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[2,10]},"
            + "\"p\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[10,12]},\"g\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}";
        header += new string(' ', (8 - Encoding.UTF8.GetByteCount(header) % 8) % 8);
        var data = new byte[16];
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(2), 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(6), -2f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(12), 7f);
        string path = Path.Combine(_dir, "mixed.safetensors");
        File.WriteAllBytes(path, Build(header, data));

        using var file = SafeTensorsFile.Open(path);
        Assert.False(file.TryGetFloat32Address("h", out _)); // not F32
        Assert.False(file.TryGetFloat32Address("f", out _)); // misaligned
        Assert.Equal([1.5f, -2f], file.ReadFloat32("f"));
        Assert.True(file.TryGetFloat32Address("g", out IntPtr g));
        unsafe { Assert.Equal(7f, *(float*)g); }
    }

    // Every tensor as BF16 (round toward zero: the top 16 bits); returns the float32 values those bits mean.
    private Dictionary<string, float[]> WriteBf16(string path, ClipWeights weights)
    {
        var expected = new Dictionary<string, float[]>();
        var json = new StringBuilder("{");
        var data = new List<byte>();
        foreach (var (name, shape) in ClipWeightLayout.Expected(_config))
        {
            var values = weights[name].ToArray();
            var truncated = new float[values.Length];
            int begin = data.Count;
            for (int i = 0; i < values.Length; i++)
            {
                ushort bits = (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16);
                truncated[i] = BitConverter.UInt32BitsToSingle((uint)bits << 16);
                data.Add((byte)bits);
                data.Add((byte)(bits >> 8));
            }
            expected[name] = truncated;
            if (json.Length > 1) json.Append(',');
            json.Append($"\"{name}\":{{\"dtype\":\"BF16\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{data.Count}]}}");
        }
        json.Append('}');
        string header = json.ToString();
        header += new string(' ', (8 - Encoding.UTF8.GetByteCount(header) % 8) % 8);
        File.WriteAllBytes(path, Build(header, [.. data]));
        return expected;
    }

    private static byte[] Build(string header, byte[] data)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        data.CopyTo(file, 8 + h.Length);
        return file;
    }
}
