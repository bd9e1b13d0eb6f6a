using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tests.Tensors;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string TempPath(string name) => Path.Combine(_dir, name);

    // ---------- helpers ----------

    /// <summary>Builds a file byte by byte: little-endian header length, header text, data.</summary>
    private static byte[] BuildFile(string headerJson, byte[] data, ulong? headerLengthOverride = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, headerLengthOverride ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    private static byte[] HalfBytes(params ushort[] bits)
    {
        var bytes = new byte[bits.Length * 2];
        for (int i = 0; i < bits.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), bits[i]);
        }

        return bytes;
    }

    /// <summary>The fuzz contract: opening either fails with SafeTensorsFormatException or every tensor then reads.</summary>
    private static bool OpensAndReadsOrRejects(string path)
    {
        try
        {
            using SafeTensorsFile file = SafeTensorsFile.Open(path);
            foreach (SafeTensorInfo info in file.Tensors)
            {
                if (info.DType.ConvertsToFloat32())
                {
                    Assert.Equal(info.ElementCount, file.ReadFloat32(info.Name).LongLength);
                }
                else
                {
                    Assert.Equal(info.ByteLength, file.GetBytes(info.Name).Length);
                }
            }

            _ = file.Metadata.Count;
            return true;
        }
        catch (SafeTensorsFormatException)
        {
            return false;
        }
    }

    private static SafeTensorsFormatException AssertRejects(string path) =>
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path).Dispose());

    private static float[] Ramp(int n, float scale = 1f) => Enumerable.Range(0, n).Select(i => (i - n / 2f) * scale).ToArray();

    private string WriteSampleFile()
    {
        string path = TempPath("sample.safetensors");
        SafeTensorsWriter.Write(path,
        [
            new("a.weight", [2, 3], Ramp(6)),
            new("b.bias", [4], Ramp(4, 0.5f)),
            new("scalar", [], new[] { 3.5f }),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        return path;
    }

    // ---------- round trips ----------

    [Fact]
    public void RoundTrip_PreservesShapesValuesMetadataAndOrder()
    {
        string path = TempPath("round.safetensors");
        SafeTensorsWriter.Entry[] entries =
        [
            new("z.matrix", [2, 3], Ramp(6)),
            new("scalar", [], new[] { -7.25f }),
            new("empty.vector", [0], Array.Empty<float>()),
            new("empty.middle", [3, 0, 2], Array.Empty<float>()),
            new("a.tensor4d", [1, 2, 1, 5], Ramp(10, 0.1f)),
            new("specials", [5], new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon }),
            new("unicode.näme+<x>", [1], new[] { 1f }),
        ];
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "quotes \" and \\ and ü" };
        SafeTensorsWriter.Write(path, entries, metadata);

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(entries.Select(e => e.Name), file.Tensors.Select(t => t.Name));
        long previousEnd = 0;
        foreach (SafeTensorsWriter.Entry entry in entries)
        {
            SafeTensorInfo info = file.GetInfo(entry.Name);
            Assert.True(file.Contains(entry.Name));
            Assert.Equal(SafeTensorDType.F32, info.DType);
            Assert.Equal(entry.Shape, info.Shape);
            Assert.Equal(entry.Data.Length, info.ElementCount);
            Assert.Equal(previousEnd, info.Begin); // laid out in the order given, contiguously
            previousEnd = info.End;
            float[] values = file.ReadFloat32(entry.Name);
            Assert.Equal(
                entry.Data.ToArray().Select(BitConverter.SingleToUInt32Bits),
                values.Select(BitConverter.SingleToUInt32Bits));
        }

        Assert.False(file.Contains("missing"));
    }

    [Fact]
    public void Writer_PadsHeaderToEightBytes_AndOmitsEmptyMetadata()
    {
        for (int nameLength = 1; nameLength <= 9; nameLength++)
        {
            string path = TempPath($"pad{nameLength}.safetensors");
            SafeTensorsWriter.Write(path, [new(new string('n', nameLength), [1], new[] { 1f })]);
            byte[] bytes = File.ReadAllBytes(path);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0UL, headerLength % 8);
            Assert.Equal((long)headerLength + 8 + 4, bytes.Length);
            string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
            Assert.DoesNotContain("__metadata__", header);
            Assert.EndsWith("}", header.TrimEnd(' '));

            using SafeTensorsFile file = SafeTensorsFile.Open(path);
            Assert.Empty(file.Metadata);
        }
    }

    [Fact]
    public void Writer_OverwritesAtomically_AndLeavesNoTempFiles()
    {
        string path = TempPath("over.safetensors");
        SafeTensorsWriter.Write(path, [new("x", [2], new[] { 1f, 2f })]);
        SafeTensorsWriter.Write(path, [new("y", [3], new[] { 4f, 5f, 6f })]);
        using (SafeTensorsFile file = SafeTensorsFile.Open(path))
        {
            Assert.Equal(["y"], file.Tensors.Select(t => t.Name));
            Assert.Equal([4f, 5f, 6f], file.ReadFloat32("y"));
        }

        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void Writer_RejectsBadEntries_BeforeTouchingTheFile()
    {
        string path = TempPath("keep.safetensors");
        SafeTensorsWriter.Write(path, [new("keep", [2], new[] { 1f, 2f })]);
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [new("x", [2, 2], new float[3])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [new("x", [1], new float[1]), new("x", [1], new float[1])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [new("x", [-1], new float[0])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [new("__metadata__", [1], new float[1])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [new("", [1], new float[1])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [new("x", [int.MaxValue, int.MaxValue, 2], new float[1])]));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void Writer_FailedRename_DeletesTempFile()
    {
        // The target is a directory, so the final move fails after the temp file was fully written.
        string target = TempPath("is-a-directory");
        Directory.CreateDirectory(target);
        Assert.ThrowsAny<IOException>(() => SafeTensorsWriter.Write(target, [new("x", [1], new[] { 1f })]));
        Assert.Empty(Directory.GetFiles(_dir));
        Assert.True(Directory.Exists(target));
    }

    // ---------- 16-bit conversions from a hand-built file ----------

    [Fact]
    public void HandBuiltFile_ConvertsF16AndBF16Exactly()
    {
        ushort[] f16 = [0x3C00, 0xC100, 0x7BFF, 0x0001, 0x03FF, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x3555, 0x0400];
        ushort[] bf16 = [0x3F80, 0xC020, 0x7F7F, 0x0001, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x4049];
        // Odd-length header so the data section (and thus every tensor) starts unaligned.
        byte[] data = [.. HalfBytes(f16), .. HalfBytes(bf16)];
        string header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[11],\"data_offsets\":[0,22]}," +
                        "\"b\":{\"dtype\":\"BF16\",\"shape\":[3,3],\"data_offsets\":[22,40]}} ";
        Assert.Equal(1, header.Length % 2);
        string path = TempPath("half.safetensors");
        File.WriteAllBytes(path, BuildFile(header, data));

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(SafeTensorDType.F16, file.GetInfo("h").DType);
        Assert.Equal(SafeTensorDType.BF16, file.GetInfo("b").DType);

        float[] h = file.ReadFloat32("h");
        Assert.Equal(1f, h[0]);
        Assert.Equal(-2.5f, h[1]);
        Assert.Equal(65504f, h[2]);
        Assert.Equal(5.9604645e-8f, h[3]);                 // 2^-24, smallest F16 subnormal
        Assert.Equal(1023f / 16777216f, h[4]);             // largest F16 subnormal
        Assert.Equal(0x8000_0000u, BitConverter.SingleToUInt32Bits(h[5])); // -0
        Assert.Equal(float.PositiveInfinity, h[6]);
        Assert.Equal(float.NegativeInfinity, h[7]);
        Assert.True(float.IsNaN(h[8]));
        Assert.Equal(0.333251953125f, h[9]);
        Assert.Equal(6.1035156e-5f, h[10]);                // 2^-14, smallest F16 normal

        float[] b = file.ReadFloat32("b");
        Assert.Equal(1f, b[0]);
        Assert.Equal(-2.5f, b[1]);
        Assert.Equal(0x7F7F_0000u, BitConverter.SingleToUInt32Bits(b[2])); // largest finite BF16, 3.3895314e38
        Assert.Equal(0x0001_0000u, BitConverter.SingleToUInt32Bits(b[3])); // BF16 subnormal
        Assert.Equal(0x8000_0000u, BitConverter.SingleToUInt32Bits(b[4]));
        Assert.Equal(float.PositiveInfinity, b[5]);
        Assert.Equal(float.NegativeInfinity, b[6]);
        Assert.True(float.IsNaN(b[7]));
        Assert.Equal(3.140625f, b[8]);

        // Span overload agrees and checks the destination length.
        var span = new float[9];
        file.ReadFloat32("b", span);
        Assert.Equal(b.Select(BitConverter.SingleToUInt32Bits), span.Select(BitConverter.SingleToUInt32Bits));
        Assert.Throws<ArgumentException>(() => file.ReadFloat32("b", new float[8]));
        Assert.Throws<ArgumentException>(() => file.ReadFloat32("b", new float[10]));
    }

    // ---------- golden file from an independent (Python/numpy) writer ----------

    [Fact]
    public void GoldenFile_FromIndependentWriter_ReadsExpectedValues()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Golden", "safetensors");
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "golden.expected.json")));
        using SafeTensorsFile file = SafeTensorsFile.Open(Path.Combine(dir, "golden.safetensors"));

        Assert.Equal(
            expected.RootElement.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            file.Metadata);

        JsonElement tensors = expected.RootElement.GetProperty("tensors");
        Assert.Equal(tensors.EnumerateObject().Count(), file.Tensors.Count);
        int compared = 0;
        foreach (JsonProperty tensor in tensors.EnumerateObject())
        {
            SafeTensorInfo info = file.GetInfo(tensor.Name);
            Assert.True(SafeTensorDTypes.TryParse(tensor.Value.GetProperty("dtype").GetString(), out SafeTensorDType dtype));
            Assert.Equal(dtype, info.DType);
            Assert.Equal(tensor.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), info.Shape);

            if (!tensor.Value.TryGetProperty("float32_bits", out JsonElement bits))
            {
                Assert.False(info.DType.ConvertsToFloat32());
                Assert.Throws<NotSupportedException>(() => file.ReadFloat32(tensor.Name));
                continue;
            }

            uint[] want = bits.EnumerateArray().Select(e => e.GetUInt32()).ToArray();
            uint[] got = file.ReadFloat32(tensor.Name).Select(BitConverter.SingleToUInt32Bits).ToArray();
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++)
            {
                // NaN payloads are not part of the contract; everything else must match bit for bit.
                if (float.IsNaN(BitConverter.UInt32BitsToSingle(want[i])))
                {
                    Assert.True(float.IsNaN(BitConverter.UInt32BitsToSingle(got[i])), $"{tensor.Name}[{i}]");
                }
                else
                {
                    Assert.True(want[i] == got[i], $"{tensor.Name}[{i}]: want 0x{want[i]:X8}, got 0x{got[i]:X8}");
                }
            }

            compared += want.Length;
        }

        Assert.True(compared > 50);
        // The I64 tensor is exposed as raw bytes.
        Assert.Equal(-2L, BinaryPrimitives.ReadInt64LittleEndian(file.GetBytes("token_ids")[8..]));
    }

    // ---------- lookups and errors ----------

    [Fact]
    public void GetInfo_MissingName_ListsNearNamesAndFile()
    {
        string path = WriteSampleFile();
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        KeyNotFoundException e = Assert.Throws<KeyNotFoundException>(() => file.GetInfo("a.weigth"));
        Assert.Contains("'a.weigth'", e.Message);
        Assert.Contains("'a.weight'", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Throws<KeyNotFoundException>(() => file.ReadFloat32("nope"));
    }

    [Fact]
    public void ReadFloat32_UnsupportedDType_Throws()
    {
        string path = TempPath("u8.safetensors");
        File.WriteAllBytes(path, BuildFile("{\"bytes\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}", [1, 2, 3]));
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Throws<NotSupportedException>(() => file.ReadFloat32("bytes"));
        Assert.Throws<NotSupportedException>(() => file.ReadFloat32("bytes", new float[3]));
        Assert.Equal([1, 2, 3], file.GetBytes("bytes").ToArray());
    }

    [Fact]
    public void Disposed_ReadsThrowObjectDisposed()
    {
        string path = WriteSampleFile();
        SafeTensorsFile file = SafeTensorsFile.Open(path);
        file.Dispose();
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.ReadFloat32("scalar"));
    }

    [Fact]
    public void FormatErrors_NameFileAndTensor()
    {
        string path = TempPath("named.safetensors");
        File.WriteAllBytes(path, BuildFile("{\"enc.w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", new byte[16]));
        SafeTensorsFormatException e = AssertRejects(path);
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
        Assert.Equal("enc.w", e.TensorName);
        Assert.Contains(path, e.Message);
        Assert.Contains("enc.w", e.Message);
        Assert.Contains("16", e.Message); // what was expected: 4 elements × 4 bytes
    }

    // ---------- hostile input ----------

    public static TheoryData<string, string, int> HostileHeaders() => new()
    {
        // header JSON, description, data bytes
        { "", "empty header", 0 },
        { "[]", "array root", 0 },
        { "\"x\"", "string root", 0 },
        { "{", "unterminated", 0 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} trailing", "trailing garbage", 4 },
        { "{\"a\":1}", "entry not object", 0 },
        { "{\"a\":{}}", "empty entry", 0 },
        { "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "missing dtype", 4 },
        { "{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "numeric dtype", 4 },
        { "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "lower-case dtype", 4 },
        { "{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", "unknown dtype", 16 },
        { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "missing shape", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", "shape not array", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "negative dim", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "fractional dim", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", "exponent dim", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", "string dim", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[[1]],\"data_offsets\":[0,4]}}", "nested dim", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483648],\"data_offsets\":[0,4]}}", "dim over int", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999999],\"data_offsets\":[0,4]}}", "dim over long", 4 },
        { "{\"a\":{\"dtype\":\"U8\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}", "count overflow", 4 },
        { "{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,4],\"data_offsets\":[0,4]}}", "byte overflow", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647],\"data_offsets\":[0,4]}}", "huge dims", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "missing offsets", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "one offset", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "three offsets", 8 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"b\":0}}}", "offsets object", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "negative offset", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "begin after end", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", "size mismatch", 8 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "past end of file", 2 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775803,9223372036854775807]}}", "offsets near long max", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551616]}}", "offset over ulong", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", "overlap", 12 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "identical ranges", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "duplicate name", 8 },
        { "{\"__metadata__\":{\"k\":1}}", "metadata number", 0 },
        { "{\"__metadata__\":{\"k\":null}}", "metadata null", 0 },
        { "{\"__metadata__\":[\"k\"]}", "metadata array", 0 },
        { "{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", "metadata nested", 0 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", "trailing comma", 4 },
        { "{/*c*/\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "comment", 4 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} {}", "two roots", 4 },
        { new string('[', 100_000), "deep arrays", 0 },
        { string.Concat(Enumerable.Repeat("{\"a\":", 50_000)) + "1" + new string('}', 50_000), "deep objects", 0 },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":" + new string('[', 5000) + "}}", "deep garbage in entry", 4 },
    };

    [Theory]
    [MemberData(nameof(HostileHeaders))]
    public void HostileHeader_IsRejectedWithFormatException(string header, string description, int dataBytes)
    {
        string path = TempPath("hostile.safetensors");
        File.WriteAllBytes(path, BuildFile(header, new byte[dataBytes]));
        SafeTensorsFormatException e = AssertRejects(path);
        Assert.Contains(path, e.Message);
        Assert.False(string.IsNullOrEmpty(description));
    }

    [Fact]
    public void HostileLengthField_IsRejected()
    {
        string path = TempPath("length.safetensors");
        const string Header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        foreach (ulong length in new ulong[] { 0, (ulong)Header.Length + 5, ulong.MaxValue, 1UL << 63, (ulong)long.MaxValue, 1UL << 40 })
        {
            File.WriteAllBytes(path, BuildFile(Header, new byte[4], length));
            AssertRejects(path);
        }

        // Invalid UTF-8 inside a string.
        byte[] bad = BuildFile("{\"a\xff\":1}", []);
        bad[8 + 3] = 0xFF;
        File.WriteAllBytes(path, bad);
        Assert.Contains("UTF-8", AssertRejects(path).Message);

        for (int size = 0; size < 8; size++)
        {
            File.WriteAllBytes(path, new byte[size]);
            AssertRejects(path);
        }
    }

    [Fact]
    public void HeaderLengthOverCap_IsRejectedWithoutReadingIt()
    {
        // A sparse 200 MB file whose length field claims a 150 MB header: within the file, over the 100 MB cap.
        string path = TempPath("sparse.safetensors");
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, 150UL * 1024 * 1024);
            stream.Write(length);
            stream.SetLength(200L * 1024 * 1024);
        }

        Assert.Contains("limit", AssertRejects(path).Message);
    }

    [Fact]
    public void ValidEdgeCases_Open()
    {
        string path = TempPath("edge.safetensors");
        // Gaps, trailing bytes, unknown extra keys, empty tensors inside another's range, empty header object.
        string header = "{\"__metadata__\":{},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12],\"extra\":[1,{}]}," +
                        "\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[10,10]},\"s\":{\"dtype\":\"BOOL\",\"shape\":[],\"data_offsets\":[0,1]}}";
        File.WriteAllBytes(path, BuildFile(header, new byte[20]));
        Assert.True(OpensAndReadsOrRejects(path));

        File.WriteAllBytes(path, BuildFile("{}   ", []));
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Empty(file.Tensors);
        Assert.Contains("no tensors", Assert.Throws<KeyNotFoundException>(() => file.GetInfo("x")).Message);
    }

    // ---------- fuzzing ----------

    [Fact]
    public void Fuzz_EveryTruncation_OpensOrRejects()
    {
        byte[] valid = File.ReadAllBytes(WriteSampleFile());
        string path = TempPath("truncated.safetensors");
        int opened = 0;
        for (int length = 0; length <= valid.Length; length++)
        {
            File.WriteAllBytes(path, valid.AsSpan(0, length).ToArray());
            opened += OpensAndReadsOrRejects(path) ? 1 : 0;
        }

        Assert.Equal(1, opened); // only the complete file is valid: the last tensor ends at end of file
    }

    [Fact]
    public void Fuzz_RandomMutations_OpenOrReject()
    {
        byte[] valid = File.ReadAllBytes(WriteSampleFile());
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        string path = TempPath("mutated.safetensors");
        var random = new Random(20240611);
        // Bytes that steer mutations into JSON structure and digits rather than only into invalid UTF-8.
        byte[] interesting = "{}[]\",:-0123456789eE.  \\un"u8.ToArray();
        int opened = 0, rejected = 0;
        for (int round = 0; round < 3000; round++)
        {
            byte[] mutated = (byte[])valid.Clone();
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits; e++)
            {
                // Mostly the header (where parsing happens); sometimes the length field or the data.
                int roll = random.Next(10);
                int position = roll == 0 ? random.Next(8)
                    : roll == 1 ? random.Next(headerEnd, mutated.Length)
                    : random.Next(8, headerEnd);
                mutated[position] = random.Next(3) switch
                {
                    0 => (byte)(mutated[position] ^ (1 << random.Next(8))),
                    1 => interesting[random.Next(interesting.Length)],
                    _ => (byte)random.Next(256),
                };
            }

            File.WriteAllBytes(path, mutated);
            if (OpensAndReadsOrRejects(path))
            {
                opened++;
            }
            else
            {
                rejected++;
            }
        }

        // Both outcomes occur: data-only mutations still open, header damage is caught.
        Assert.True(opened > 100, $"opened {opened}");
        Assert.True(rejected > 1000, $"rejected {rejected}");
    }
}
