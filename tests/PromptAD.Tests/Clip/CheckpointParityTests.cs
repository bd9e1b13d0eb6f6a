using PromptAD.Clip;
using PromptAD.Clip.WeightFiles;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tests.Clip;

/// <summary>
/// The same weights in every published form give the same model. The checkpoints were written by PyTorch from the
/// tiny CLIP goldens' safetensors (tests/reference/make_checkpoint_goldens.py): torch.save of the state dict,
/// torch.jit.save of a module tree holding it, and Transformers' CLIPModel layout written by hand from Transformers'
/// naming (q/k/v split, projections transposed). Each must read to tensors bit-identical to the original's under
/// OpenCLIP's names, be named by `weights info` with its backbone, and give bit-identical `promptad encode` output.
/// </summary>
[Collection("Console")]
public sealed class CheckpointParityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-checkpoints-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>(checkpoint, the safetensors it was made from, its backbone, format, key names).</summary>
    public static TheoryData<string, string, string, string, string> Published() => new()
    {
        { "tiny-test.torch-save.bin", "tiny-test", "tiny-test", "torch.save", "OpenCLIP" },
        { "tiny-test-quickgelu.torchscript.pt", "tiny-test-quickgelu", "tiny-test-quickgelu", "TorchScript", "OpenCLIP" },
        { "tiny-test-quickgelu.transformers.safetensors", "tiny-test-quickgelu", "tiny-test-quickgelu", "safetensors", "Transformers" },
    };

    private static string Checkpoint(string name) => ClipTestPaths.Golden("checkpoints", name);

    private static string Original(string config) => ClipTestPaths.Golden("clip", config + ".weights.safetensors");

    [Theory]
    [MemberData(nameof(Published))]
    public void EveryTensor_IsBitIdenticalToTheOriginal(string file, string original, string config, string format, string layout)
    {
        using var source = ClipWeightFile.Open(Checkpoint(file));
        using var reference = SafeTensorsFile.Open(Original(original));
        Assert.Equal(format, source.Format);
        Assert.Equal(layout, ClipWeightFile.LayoutOf(source));
        Assert.Empty(BackboneRecognition.Differences(source, ClipConfigs.Load(config)));
        foreach (var t in reference.Tensors)
        {
            var actual = new float[source.GetInfo(t.Name).ElementCount];
            source.ReadFloat32(t.Name, actual);
            var expected = reference.ReadFloat32(t.Name);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{file}: tensor '{t.Name}' differs from the original");
        }
    }

    /// <summary>Only a safetensors file under OpenCLIP's names exposes its mapping for in-place use; every other form is read.</summary>
    [Fact]
    public void MappedSafeTensors_OnlyForOpenClipSafetensors()
    {
        using (var original = ClipWeightFile.Open(Original("tiny-test"))) Assert.NotNull(ClipWeightFile.MappedSafeTensors(original));
        foreach (var file in new[] { "tiny-test.torch-save.bin", "tiny-test-quickgelu.torchscript.pt", "tiny-test-quickgelu.transformers.safetensors" })
        {
            using var source = ClipWeightFile.Open(Checkpoint(file));
            Assert.Null(ClipWeightFile.MappedSafeTensors(source));
        }
    }

    [Theory]
    [MemberData(nameof(Published))]
    public void WeightsInfo_NamesFormatLayoutAndBackbone(string file, string original, string config, string format, string layout)
    {
        _ = original;
        var (code, output, err) = ConsoleCapture.Run(() => PromptAD.Program.Main(["weights", "info", Checkpoint(file)]));
        Assert.True(code == 0, err);
        Assert.Contains($"format      {format}", output);
        Assert.Contains($"key names   {layout}", output);
        Assert.Contains($"backbone    {config} (", output);
        Assert.Contains("parameters  101,889 in 98 tensors", output); // tiny configs' parameter count (ClipWeightLayout)
        Assert.Contains("sha256      " + Sha256Of(Checkpoint(file)), output);
    }

    /// <summary>`promptad encode` with no --backbone on each form equals encode of the original with its backbone named.</summary>
    [Theory]
    [MemberData(nameof(Published))]
    public void Encode_IsBitIdenticalToTheOriginal(string file, string original, string config, string format, string layout)
    {
        _ = (format, layout);
        string images = Path.Combine(ClipTestPaths.Shared, "data", "hazelnut_toy", "test", "good");
        string expected = Path.Combine(_dir, "expected.safetensors"), actual = Path.Combine(_dir, "actual.safetensors");
        var a = ConsoleCapture.Run(() => PromptAD.Program.Main(["encode", "--weights", Original(original), "--backbone", config, "--images", images, "--out", expected]));
        Assert.True(a.Code == 0, a.Err);
        var b = ConsoleCapture.Run(() => PromptAD.Program.Main(["encode", "--weights", Checkpoint(file), "--images", images, "--out", actual]));
        Assert.True(b.Code == 0, b.Err);
        Assert.Contains($"backbone {config}, recognised from the weights file", b.Err);
        AssertSameTensors(expected, actual);
    }

    /// <summary>`weights convert` writes our safetensors: F32 exact, and F16/BF16 exact where the source already was.</summary>
    [Theory]
    [InlineData("tiny-test.torch-save.bin", "tiny-test", "f16")]
    [InlineData("tiny-test-quickgelu.torchscript.pt", "tiny-test-quickgelu", "bf16")]
    [InlineData("tiny-test-quickgelu.transformers.safetensors", "tiny-test-quickgelu", "f32")]
    public void Convert_WritesTheSameWeightsUnderOpenClipNames(string file, string config, string dtype)
    {
        string output = Path.Combine(_dir, "converted.safetensors");
        var r = ConsoleCapture.Run(() => PromptAD.Program.Main(["weights", "convert", Checkpoint(file), "--out", output, "--dtype", dtype]));
        Assert.True(r.Code == 0, r.Err);
        using var converted = SafeTensorsFile.Open(output);
        using var reference = SafeTensorsFile.Open(Original(config));
        Assert.Equal(config, converted.Metadata["config"]);
        Assert.Equal(ClipWeightLayout.Expected(ClipConfigs.Load(config)).Select(e => e.Name), converted.Tensors.Select(t => t.Name));
        Assert.All(converted.Tensors, t => Assert.Equal(dtype.ToUpperInvariant(), t.DType.HeaderName()));
        foreach (var t in reference.Tensors)
            Assert.True(reference.ReadFloat32(t.Name).AsSpan().SequenceEqual(converted.ReadFloat32(t.Name)), $"tensor '{t.Name}' changed");
        Assert.Empty(Directory.GetFiles(_dir, "*" + AtomicWrite.TempMarker + "*"));
    }

    /// <summary>The README's real-weights example: train on a published file without --backbone; the model records the recognised one.</summary>
    [Fact]
    public void Train_WithoutBackbone_RecordsTheRecognisedOne()
    {
        using var workspace = new TinyWorkspace("promptad-train-ckpt-", size: 32);
        string model = Path.Combine(_dir, "bottle-1shot.safetensors");
        var r = ConsoleCapture.Run(() => PromptAD.Program.Main(["train", "--weights", Checkpoint("tiny-test.torch-save.bin"), "--data", workspace.Data,
            "--category", PromptAD.Data.SyntheticDataset.Category, "--shots", "1", "--epochs", "1", "--out", model]));
        Assert.True(r.Code == 0, r.Err);
        using var trained = PromptAD.Model.PromptAdModel.Load(model);
        Assert.Equal("tiny-test", trained.Metadata.Backbone);
    }

    [Fact]
    public void Convert_RefusesToOverwriteItsInput()
    {
        string input = Path.Combine(_dir, "in.bin");
        File.Copy(Checkpoint("tiny-test.torch-save.bin"), input);
        byte[] before = File.ReadAllBytes(input);
        var r = ConsoleCapture.Run(() => PromptAD.Program.Main(["weights", "convert", input, "--out", input]));
        Assert.Equal(2, r.Code);
        Assert.Contains("would destroy an input", r.Err);
        Assert.Equal(before, File.ReadAllBytes(input));
    }

    /// <summary>
    /// Opt-in: full-size random weights (ViT-B-16-plus-240 as safetensors, torch.save and TorchScript; ViT-B-16 in the
    /// Transformers layout) from make_checkpoint_goldens.py --large, each reading bit-identical to its safetensors.
    /// </summary>
    [Fact]
    public void LargeModels_ReadBitIdentical()
    {
        if (Environment.GetEnvironmentVariable("PROMPTAD_LARGE_GOLDEN") != "1")
            Assert.Skip("set PROMPTAD_LARGE_GOLDEN=1 after running /usr/bin/python3 tests/reference/make_checkpoint_goldens.py --large");
        string dir = Path.Combine(ClipTestPaths.RepoRoot, "tests", "reference", "large");
        foreach (var (file, original, config) in new[]
                 {
                     ("ViT-B-16-plus-240.torch-save.bin", "ViT-B-16-plus-240.weights.safetensors", "ViT-B-16-plus-240"),
                     ("ViT-B-16-plus-240.torchscript.pt", "ViT-B-16-plus-240.weights.safetensors", "ViT-B-16-plus-240"),
                     ("ViT-B-16.transformers.safetensors", "ViT-B-16.weights.safetensors", "ViT-B-16"),
                 })
        {
            string path = Path.Combine(dir, file);
            Assert.True(File.Exists(path), $"PROMPTAD_LARGE_GOLDEN=1 but {path} is missing; run make_checkpoint_goldens.py --large first");
            using var source = ClipWeightFile.Open(path);
            using var reference = SafeTensorsFile.Open(Path.Combine(dir, original));
            Assert.Equal(config, BackboneRecognition.Recognise(source).Config.Name);
            foreach (var t in reference.Tensors)
            {
                var actual = new float[source.GetInfo(t.Name).ElementCount];
                source.ReadFloat32(t.Name, actual);
                Assert.True(reference.ReadFloat32(t.Name).AsSpan().SequenceEqual(actual), $"{file}: tensor '{t.Name}' differs");
            }
        }
    }

    private static void AssertSameTensors(string expectedPath, string actualPath)
    {
        using var expected = SafeTensorsFile.Open(expectedPath);
        using var actual = SafeTensorsFile.Open(actualPath);
        Assert.Equal(expected.Tensors.Select(t => t.Name), actual.Tensors.Select(t => t.Name));
        foreach (var t in expected.Tensors)
        {
            var e = expected.ReadFloat32(t.Name);
            var a = actual.ReadFloat32(t.Name);
            Assert.True(e.Select(BitConverter.SingleToInt32Bits).SequenceEqual(a.Select(BitConverter.SingleToInt32Bits)), $"encode output '{t.Name}' differs");
        }
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
}
