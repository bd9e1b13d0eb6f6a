using PromptAD.Tensors.Checkpoints;
using PromptAD.Tensors.SafeTensors;
using PromptAD.Tests.Clip;

namespace PromptAD.Tests.Tensors;

/// <summary>
/// The torch.save reader against files PyTorch wrote (tests/reference/make_checkpoint_goldens.py): every float tensor
/// bit-equal to the values Python wrote beside it, across F32/F16/BF16, strided views, storage offsets and shared
/// storages, Parameters, 0-d tensors and nested dicts; the same archive deflated reads the same.
/// </summary>
public sealed class TorchCheckpointTests
{
    private static string Golden(string name) => ClipTestPaths.Golden("checkpoints", name);

    public static TheoryData<string> FeatureFiles() => new("features.torch-save.pt", "features.deflated.pt");

    [Theory]
    [MemberData(nameof(FeatureFiles))]
    public void EveryFloatTensor_EqualsWhatPyTorchSaved(string file)
    {
        using var expected = SafeTensorsFile.Open(Golden("features.expected.safetensors"));
        using var source = TensorFiles.Open(Golden(file));
        Assert.Equal("torch.save", source.Format);
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(), source.Tensors.Where(t => t.DType.ConvertsToFloat32()).Select(t => t.Name).Order());
        foreach (var t in expected.Tensors)
        {
            var info = source.GetInfo(t.Name);
            Assert.Equal(t.Shape, info.Shape);
            var actual = new float[info.ElementCount];
            source.ReadFloat32(t.Name, actual);
            Assert.Equal(expected.ReadFloat32(t.Name).Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void DTypesAndNamesAreThoseSaved()
    {
        using var source = TensorFiles.Open(Golden("features.torch-save.pt"));
        Assert.Equal(SafeTensorDType.F16, source.GetInfo("f16").DType);
        Assert.Equal(SafeTensorDType.BF16, source.GetInfo("bf16").DType);
        Assert.Equal(SafeTensorDType.I64, source.GetInfo("ints").DType);
        Assert.Equal([4, 3], source.GetInfo("transposed").Shape);
        Assert.Empty(source.GetInfo("scalar").Shape);
        Assert.True(source.Contains("nested.inner.x"));
        Assert.False(source.Contains("epoch")); // an int, not a tensor
        Assert.Throws<NotSupportedException>(() => source.ReadFloat32("ints", new float[3]));
        var missing = Assert.Throws<KeyNotFoundException>(() => source.GetInfo("f33"));
        Assert.Contains("'f32'", missing.Message);
    }

    [Fact]
    public void TorchScriptArchive_IsRecognisedAndReadsTheModulesTensors()
    {
        using var source = TensorFiles.Open(Golden("tiny-test-quickgelu.torchscript.pt"));
        Assert.Equal("TorchScript", source.Format);
        Assert.True(source.Contains("visual.transformer.resblocks.0.attn.in_proj_weight"));
        Assert.True(source.Contains("transformer.resblocks.2.attn_mask"));
        Assert.Equal(SafeTensorDType.BF16, source.GetInfo("visual.proj").DType);
    }
}
