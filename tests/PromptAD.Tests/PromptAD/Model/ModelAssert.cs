using PromptAD.Model;

namespace PromptAD.Tests.Model;

/// <summary>Two models compared tensor by tensor: the one way the tests say "the same model".</summary>
internal static class ModelAssert
{
    /// <summary>
    /// Every tensor a model holds is bit-identical: both heads' learnable context vectors, both heads' prototypes and
    /// both memory banks (with their shapes). The metadata is the caller's to compare: times and paths legitimately differ.
    /// </summary>
    public static void SameTensors(PromptAdModel expected, PromptAdModel actual)
    {
        Same("image head ctx", expected.Image.Ctx, actual.Image.Ctx);
        Same("image head ctx_ab", expected.Image.CtxAb, actual.Image.CtxAb);
        Same("pixel head ctx", expected.Pixel.Ctx, actual.Pixel.Ctx);
        Same("pixel head ctx_ab", expected.Pixel.CtxAb, actual.Pixel.CtxAb);
        Assert.Equal((expected.Image.Width, expected.Pixel.Width), (actual.Image.Width, actual.Pixel.Width));
        Same("image normal prototypes", expected.ImagePrototypes.Normal, actual.ImagePrototypes.Normal);
        Same("image anomaly prototypes", expected.ImagePrototypes.Anomaly, actual.ImagePrototypes.Anomaly);
        Same("pixel normal prototypes", expected.PixelPrototypes.Normal, actual.PixelPrototypes.Normal);
        Same("pixel anomaly prototypes", expected.PixelPrototypes.Anomaly, actual.PixelPrototypes.Anomaly);
        Assert.Equal((expected.Mid1.Rows, expected.Mid1.Width), (actual.Mid1.Rows, actual.Mid1.Width));
        Same("memory bank mid1", expected.Mid1.Data, actual.Mid1.Data);
        Assert.Equal((expected.Mid2.Rows, expected.Mid2.Width), (actual.Mid2.Rows, actual.Mid2.Width));
        Same("memory bank mid2", expected.Mid2.Data, actual.Mid2.Data);
    }

    private static void Same(string what, float[] expected, float[] actual)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: {actual[i]:R}, expected {expected[i]:R} (the first of the values that differ)");
    }
}
