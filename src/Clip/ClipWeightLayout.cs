namespace PromptAD.Clip;

/// <summary>
/// The OpenCLIP state-dict keys a config implies, with their shapes (SPEC §1). The single source of truth for
/// loading, shape checking, random initialization and saving.
/// </summary>
public static class ClipWeightLayout
{
    public static IReadOnlyList<(string Name, int[] Shape)> Expected(ClipConfig c)
    {
        var v = c.Vision;
        var t = c.Text;
        var list = new List<(string, int[])>
        {
            ("visual.conv1.weight", [v.Width, 3, v.PatchSize, v.PatchSize]),
            ("visual.class_embedding", [v.Width]),
            ("visual.positional_embedding", [v.Tokens, v.Width]),
            ("visual.ln_pre.weight", [v.Width]),
            ("visual.ln_pre.bias", [v.Width]),
        };
        for (int i = 0; i < v.Layers; i++) AddBlock(list, $"visual.transformer.resblocks.{i}.", v.Width, v.MlpWidth);
        list.Add(("visual.ln_post.weight", [v.Width]));
        list.Add(("visual.ln_post.bias", [v.Width]));
        list.Add(("visual.proj", [v.Width, c.EmbedDim]));

        list.Add(("token_embedding.weight", [t.VocabSize, t.Width]));
        list.Add(("positional_embedding", [t.ContextLength, t.Width]));
        for (int i = 0; i < t.Layers; i++) AddBlock(list, $"transformer.resblocks.{i}.", t.Width, t.MlpWidth);
        list.Add(("ln_final.weight", [t.Width]));
        list.Add(("ln_final.bias", [t.Width]));
        list.Add(("text_projection", [t.Width, c.EmbedDim]));
        list.Add(("logit_scale", []));
        return list;
    }

    private static void AddBlock(List<(string, int[])> list, string p, int width, int mlp)
    {
        list.Add((p + "ln_1.weight", [width]));
        list.Add((p + "ln_1.bias", [width]));
        list.Add((p + "attn.in_proj_weight", [3 * width, width]));
        list.Add((p + "attn.in_proj_bias", [3 * width]));
        list.Add((p + "attn.out_proj.weight", [width, width]));
        list.Add((p + "attn.out_proj.bias", [width]));
        list.Add((p + "ln_2.weight", [width]));
        list.Add((p + "ln_2.bias", [width]));
        list.Add((p + "mlp.c_fc.weight", [mlp, width]));
        list.Add((p + "mlp.c_fc.bias", [mlp]));
        list.Add((p + "mlp.c_proj.weight", [width, mlp]));
        list.Add((p + "mlp.c_proj.bias", [width]));
    }
}
