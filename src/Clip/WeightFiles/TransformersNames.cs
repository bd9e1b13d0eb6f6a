using System.Text.RegularExpressions;

namespace PromptAD.Clip.WeightFiles;

/// <summary>
/// Transformers' CLIPModel key names (openai/clip-vit-base-patch16, -patch32) mapped to OpenCLIP's: the separate
/// q/k/v projections stacked into in_proj (q, k, v order, as nn.MultiheadAttention packs them), the projections
/// transposed (nn.Linear weight [embed, width] → OpenCLIP's [width, embed]), LayerNorm and MLP names renamed.
/// Keys it does not know keep their own name, so the weights loader lists them as unexpected.
/// </summary>
internal static partial class TransformersNames
{
    private static readonly (string Ours, string Theirs)[] Fixed =
    [
        ("token_embedding.weight", "text_model.embeddings.token_embedding.weight"),
        ("positional_embedding", "text_model.embeddings.position_embedding.weight"),
        ("ln_final.weight", "text_model.final_layer_norm.weight"),
        ("ln_final.bias", "text_model.final_layer_norm.bias"),
        ("visual.class_embedding", "vision_model.embeddings.class_embedding"),
        ("visual.conv1.weight", "vision_model.embeddings.patch_embedding.weight"),
        ("visual.positional_embedding", "vision_model.embeddings.position_embedding.weight"),
        ("visual.ln_pre.weight", "vision_model.pre_layrnorm.weight"), // sic: Transformers' spelling
        ("visual.ln_pre.bias", "vision_model.pre_layrnorm.bias"),
        ("visual.ln_post.weight", "vision_model.post_layernorm.weight"),
        ("visual.ln_post.bias", "vision_model.post_layernorm.bias"),
        ("logit_scale", "logit_scale"),
    ];

    private static readonly (string Ours, string Theirs)[] Transposed =
    [
        ("visual.proj", "visual_projection.weight"),
        ("text_projection", "text_projection.weight"),
    ];

    private static readonly (string Ours, string Theirs)[] BlockParts =
    [
        ("ln_1.weight", "layer_norm1.weight"), ("ln_1.bias", "layer_norm1.bias"),
        ("attn.out_proj.weight", "self_attn.out_proj.weight"), ("attn.out_proj.bias", "self_attn.out_proj.bias"),
        ("ln_2.weight", "layer_norm2.weight"), ("ln_2.bias", "layer_norm2.bias"),
        ("mlp.c_fc.weight", "mlp.fc1.weight"), ("mlp.c_fc.bias", "mlp.fc1.bias"),
        ("mlp.c_proj.weight", "mlp.fc2.weight"), ("mlp.c_proj.bias", "mlp.fc2.bias"),
    ];

    /// <summary>Recipes for every key of <paramref name="names"/> (each with <paramref name="prefix"/>).</summary>
    public static IEnumerable<(string, Recipe)> Recipes(IReadOnlyList<string> names, string prefix)
    {
        var present = names.ToHashSet(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<(string, Recipe)>();

        void Add(string ours, RecipeKind kind, params string[] theirs)
        {
            var full = theirs.Select(t => prefix + t).ToArray();
            if (!full.All(present.Contains)) return; // missing parts: the loader reports our name as missing
            result.Add((ours, new Recipe(kind, full)));
            used.UnionWith(full);
        }

        foreach (var (ours, theirs) in Fixed) Add(ours, RecipeKind.Same, theirs);
        foreach (var (ours, theirs) in Transposed) Add(ours, RecipeKind.Transpose, theirs);
        foreach (var (tower, ourPrefix) in (ReadOnlySpan<(string, string)>)[("vision_model", "visual.transformer.resblocks"), ("text_model", "transformer.resblocks")])
        {
            var layers = names.Select(n => Layer().Match(n[prefix.Length..])).Where(m => m.Success && m.Groups[1].Value == tower)
                .Select(m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().Order();
            foreach (int i in layers)
            {
                string theirs = $"{tower}.encoder.layers.{i}.", ours = $"{ourPrefix}.{i}.";
                Add(ours + "attn.in_proj_weight", RecipeKind.Concat, theirs + "self_attn.q_proj.weight", theirs + "self_attn.k_proj.weight", theirs + "self_attn.v_proj.weight");
                Add(ours + "attn.in_proj_bias", RecipeKind.Concat, theirs + "self_attn.q_proj.bias", theirs + "self_attn.k_proj.bias", theirs + "self_attn.v_proj.bias");
                foreach (var (o, t) in BlockParts) Add(ours + o, RecipeKind.Same, theirs + t);
            }
        }
        // Anything left keeps its own name: the loader lists it as unexpected, so nothing is dropped silently.
        foreach (var n in names.Where(n => !used.Contains(n))) result.Add((n, new Recipe(RecipeKind.Same, [n])));
        return result;
    }

    [GeneratedRegex(@"^(vision_model|text_model)\.encoder\.layers\.(\d{1,4})\.")]
    private static partial Regex Layer();
}
