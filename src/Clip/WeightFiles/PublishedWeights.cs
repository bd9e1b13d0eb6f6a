namespace PromptAD.Clip.WeightFiles;

/// <summary>
/// The publisher's name for a weights file: exact for OpenAI's TorchScript checkpoints (their download addresses carry
/// the file's SHA-256, which clip.load verifies), otherwise what the layout and backbone correspond to among the
/// published forms (the README lists their addresses).
/// </summary>
public static class PublishedWeights
{
    public static readonly IReadOnlyDictionary<string, string> OpenAiSha256 = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f"] = "OpenAI CLIP ViT-B/16 (ViT-B-16.pt, the published file: SHA-256 matches)",
        ["40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"] = "OpenAI CLIP ViT-B/32 (ViT-B-32.pt, the published file: SHA-256 matches)",
    };

    public static string Describe(string sha256, string format, string layout, string? backbone)
    {
        if (OpenAiSha256.TryGetValue(sha256, out var exact)) return exact;
        string? like = (layout, backbone) switch
        {
            (ClipWeightFile.TransformersLayout, "ViT-B-16") => "Transformers CLIPModel, as openai/clip-vit-base-patch16",
            (ClipWeightFile.TransformersLayout, "ViT-B-32") => "Transformers CLIPModel, as openai/clip-vit-base-patch32",
            (ClipWeightFile.OpenClipLayout, "ViT-B-16-plus-240") => "OpenCLIP ViT-B-16-plus-240, as timm/vit_base_patch16_plus_clip_240.laion400m_e32",
            (ClipWeightFile.OpenClipLayout, "ViT-B-16") when format == "TorchScript" => "OpenAI CLIP ViT-B/16 layout (ViT-B-16.pt), but not the published file",
            (ClipWeightFile.OpenClipLayout, "ViT-B-32") when format == "TorchScript" => "OpenAI CLIP ViT-B/32 layout (ViT-B-32.pt), but not the published file",
            (ClipWeightFile.OpenClipLayout, "ViT-B-16") => "OpenCLIP ViT-B-16, as timm/vit_base_patch16_clip_224.openai",
            (ClipWeightFile.OpenClipLayout, "ViT-B-32") => "OpenCLIP ViT-B-32, as timm/vit_base_patch32_clip_224.openai",
            _ => null,
        };
        return like is null ? "not recognised (no published file has this layout and backbone)" : $"{like} (by layout and shapes; the SHA-256 is not checked against a published one)";
    }
}
