using PromptAD.Clip;

namespace PromptAD.Tests.Clip;

public class ClipConfigTests
{
    [Fact]
    public void BuiltInConfigs_LoadAndDescribeSpecBackbone()
    {
        Assert.Contains("ViT-B-16-plus-240", ClipConfigs.Names);
        Assert.Contains("ViT-B-16", ClipConfigs.Names);
        Assert.Contains("ViT-B-32", ClipConfigs.Names);
        var c = ClipConfigs.Load(ClipConfigs.Default);
        Assert.Equal((240, 16, 896, 12, 14), (c.Vision.ImageSize, c.Vision.PatchSize, c.Vision.Width, c.Vision.Layers, c.Vision.Heads));
        Assert.Equal(226, c.Vision.Tokens);
        Assert.Equal([2, 7], c.Vision.MidLayers);
        Assert.Equal((77, 49408, 640, 10, 12), (c.Text.ContextLength, c.Text.VocabSize, c.Text.Width, c.Text.Heads, c.Text.Layers));
        Assert.Equal((49406, 49407), (c.Text.StartToken, c.Text.EndToken));
        Assert.Equal(640, c.EmbedDim);
        Assert.False(c.UsesQuickGelu);
        Assert.True(ClipConfigs.Load("ViT-B-16").UsesQuickGelu);
        Assert.Equal(49, ClipConfigs.Load("ViT-B-32").Vision.Patches);
        // 5 vision stem + 12 per block + 3 vision head + 2 text stem + 12 per block + 3 text head + logit_scale.
        Assert.Equal(5 + 12 * 12 + 3 + 2 + 12 * 12 + 3 + 1, ClipWeightLayout.Expected(c).Count);
    }

    [Fact]
    public void UnknownOrInvalidConfig_IsRejectedWithTheReason()
    {
        Assert.Contains("known:", Assert.Throws<ArgumentException>(() => ClipConfigs.Load("nope")).Message);
        string json = ClipConfigs.ToJson(ClipConfigs.Load("tiny-test")).Replace("\"gelu\"", "\"relu\"");
        using var s = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        Assert.Contains("relu", Assert.Throws<InvalidDataException>(() => ClipConfigs.Parse(s, "test")).Message);
    }
}
