using PromptAD.Clip;
using PromptAD.Clip.WeightFiles;
using PromptAD.Tensors.Checkpoints;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tests.Clip;

/// <summary>
/// The backbone from the tensors' names and shapes. Sources here list names and shapes only (recognition reads no
/// values), written out from the published architectures' sizes below, not from the configs' JSON, so a wrong
/// config or layout is caught: ViT-B-16-plus-240 (240 px, patch 16, width 896, embed 640), ViT-B-16 (224, 16, 768,
/// 512), ViT-B-32 (224, 32, 768, 512), all with 12+12 layers and a 49 408-token vocabulary.
/// </summary>
[Collection("Console")]
public sealed class BackboneRecognitionTests
{
    private sealed class ShapesOnly(IEnumerable<(string Name, int[] Shape)> tensors, string format = "safetensors",
        Dictionary<string, string>? metadata = null) : ITensorSource
    {
        public string FilePath => "/weights/test.safetensors";
        public string Format => format;
        public IReadOnlyDictionary<string, string> Metadata { get; } = metadata ?? [];
        public IReadOnlyList<TensorEntry> Tensors { get; } = tensors.Select(t => new TensorEntry(t.Name, SafeTensorDType.F16, t.Shape)).ToArray();
        public bool Contains(string name) => Tensors.Any(t => t.Name == name);
        public TensorEntry GetInfo(string name) => Tensors.First(t => t.Name == name);
        public void ReadFloat32(string name, Span<float> destination) => throw new InvalidOperationException("recognition must not read values");
        public void Dispose() { }
    }

    /// <summary>OpenCLIP's names and shapes for a ViT CLIP, from its published sizes.</summary>
    private static List<(string, int[])> OpenClip(int image, int patch, int width, int embed, int textWidth, int vocab = 49408, int layers = 12, int textLayers = 12)
    {
        int tokens = (image / patch) * (image / patch) + 1;
        var list = new List<(string, int[])> { ("visual.conv1.weight", [width, 3, patch, patch]), ("visual.class_embedding", [width]),
            ("visual.positional_embedding", [tokens, width]), ("visual.ln_pre.weight", [width]), ("visual.ln_pre.bias", [width]) };
        void Block(string p, int w)
        {
            foreach (var (n, s) in new (string, int[])[]
                     {
                         ("ln_1.weight", [w]), ("ln_1.bias", [w]), ("attn.in_proj_weight", [3 * w, w]), ("attn.in_proj_bias", [3 * w]),
                         ("attn.out_proj.weight", [w, w]), ("attn.out_proj.bias", [w]), ("ln_2.weight", [w]), ("ln_2.bias", [w]),
                         ("mlp.c_fc.weight", [4 * w, w]), ("mlp.c_fc.bias", [4 * w]), ("mlp.c_proj.weight", [w, 4 * w]), ("mlp.c_proj.bias", [w]),
                     })
                list.Add((p + n, s));
        }
        for (int i = 0; i < layers; i++) Block($"visual.transformer.resblocks.{i}.", width);
        list.AddRange([("visual.ln_post.weight", [width]), ("visual.ln_post.bias", [width]), ("visual.proj", [width, embed]),
            ("token_embedding.weight", [vocab, textWidth]), ("positional_embedding", [77, textWidth])]);
        for (int i = 0; i < textLayers; i++) Block($"transformer.resblocks.{i}.", textWidth);
        list.AddRange([("ln_final.weight", [textWidth]), ("ln_final.bias", [textWidth]), ("text_projection", [textWidth, embed]), ("logit_scale", [])]);
        return list;
    }

    public static TheoryData<string, int, int, int, int, int> Published() => new()
    {
        { "ViT-B-16-plus-240", 240, 16, 896, 640, 640 },
        { "ViT-B-16", 224, 16, 768, 512, 512 },
        { "ViT-B-32", 224, 32, 768, 512, 512 },
    };

    [Theory]
    [MemberData(nameof(Published))]
    public void PublishedArchitectures_AreRecognisedUniquely(string name, int image, int patch, int width, int embed, int textWidth)
    {
        var found = BackboneRecognition.Recognise(new ShapesOnly(OpenClip(image, patch, width, embed, textWidth)));
        Assert.Equal(name, found.Config.Name);
        Assert.Empty(found.AlsoMatching);
    }

    /// <summary>The tiny configs differ only in the activation: metadata decides, else the publisher's convention.</summary>
    [Theory]
    [InlineData("safetensors", null, "tiny-test")]
    [InlineData("torch.save", null, "tiny-test")]
    [InlineData("TorchScript", null, "tiny-test-quickgelu")]
    [InlineData("safetensors", "tiny-test-quickgelu", "tiny-test-quickgelu")]
    [InlineData("TorchScript", "tiny-test", "tiny-test")]
    public void SameShapes_TieBrokenByMetadataThenPublisher(string format, string? metadataConfig, string expected)
    {
        var tiny = OpenClip(32, 8, 32, 24, 32, vocab: 64, layers: 4, textLayers: 3);
        var found = BackboneRecognition.Recognise(new ShapesOnly(tiny, format, metadataConfig is null ? null : new() { ["config"] = metadataConfig }));
        Assert.Equal(expected, found.Config.Name);
        Assert.Single(found.AlsoMatching);
        Assert.NotEqual(expected, found.AlsoMatching[0]);
    }

    [Fact]
    public void NoMatch_NamesTheClosestConfigAndWhatDiffers()
    {
        // ViT-B-16 at 336 px (a fine-tuned variant we have no config for): only the positional embedding differs.
        var tensors = OpenClip(336, 16, 768, 512, 512);
        var ex = Assert.Throws<ClipWeightsException>(() => BackboneRecognition.Recognise(new ShapesOnly(tensors)));
        Assert.Contains("the closest is ViT-B-16, with 1 difference(s): visual.positional_embedding: file [442, 768], ViT-B-16 [197, 768]", ex.Message);

        // An 11-layer vision tower: the twelfth block's tensors are missing.
        var shallow = OpenClip(224, 32, 768, 512, 512, layers: 11);
        var ex2 = Assert.Throws<ClipWeightsException>(() => BackboneRecognition.Recognise(new ShapesOnly(shallow)));
        Assert.Contains("the closest is ViT-B-32, with 12 difference(s): visual.transformer.resblocks.11.ln_1.weight missing", ex2.Message);
    }

    /// <summary>`train` without --backbone on weights that match none fails with that message, before reading any image.</summary>
    [Fact]
    public void Cli_WithoutBackbone_OnUnrecognisedWeights_FailsNamingTheClosest()
    {
        string dir = Directory.CreateTempSubdirectory("promptad-recognise-").FullName;
        try
        {
            string weights = Path.Combine(dir, "odd.safetensors");
            var config = ClipConfigs.Load("tiny-test");
            var entries = ClipWeightLayout.Expected(config).Where(e => e.Name != "logit_scale")
                .Select(e => new SafeTensorsWriter.Entry(e.Name, e.Shape, new float[e.Shape.Aggregate(1, (a, b) => a * b)]));
            SafeTensorsWriter.Write(weights, entries);
            var (code, _, err) = ConsoleCapture.Run(() => PromptAD.Program.Main(["encode", "--weights", weights, "--images", Path.Combine(dir, "images"), "--out", Path.Combine(dir, "f.safetensors")]));
            Assert.Equal(1, code);
            Assert.Contains("match no built-in backbone", err);
            Assert.Contains("the closest is tiny-test, with 1 difference(s): logit_scale missing", err);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
