using PromptAD.Tensors;

namespace PromptAD.Clip;

/// <summary>
/// CLIP's vision tower with CLIP Surgery's V-V path (SPEC §4). Forward only (the visual encoder is frozen).
/// Input: preprocessed images, float CHW, [batch, 3, imageSize, imageSize] on the host. Tokens are laid out
/// [batch·tokens, width], class token first in each image. <see cref="MidFeatures"/> chooses which original-path state
/// the mid-level features are (SPEC §4 item 3).
/// </summary>
public sealed class ClipImageEncoder
{
    private readonly ClipWeights _w;
    private readonly ResidualBlock[] _blocks;

    public ClipImageEncoder(ClipWeights weights, MidFeatureMode midFeatures = MidFeatureMode.AsPublished)
    {
        _w = weights;
        MidFeatures = midFeatures;
        var v = weights.Config.Vision;
        _blocks = Enumerable.Range(0, v.Layers).Select(i => new ResidualBlock(weights, $"visual.transformer.resblocks.{i}.", v.Heads)).ToArray();
    }

    public ClipConfig Config => _w.Config;

    public MidFeatureMode MidFeatures { get; }

    /// <summary>Raw (un-normalized) global, local and mid-level features.</summary>
    public ImageFeatures EncodeRaw(ReadOnlySpan<float> images, int batch)
    {
        var v = Config.Vision;
        int T = v.Tokens, P = v.Patches, width = v.Width;
        var be = _w.Backend;
        float[] flat;
        using (Trace.Scope("patch_flatten")) flat = PatchFlatten.Flatten(images, batch, v.ImageSize, v.PatchSize);

        using var scope = TensorScope.Open();
        Tensor x;
        using (var setup = TensorScope.Open())
        {
            var patches = Tensor.FromArray(be, flat, batch * P, v.PatchDim);
            using var conv = _w["visual.conv1.weight"].View(width, v.PatchDim);
            var embedded = Ops.Linear(patches, conv);
            // Rows 0..batch·P−1 are patch embeddings, row batch·P the class embedding; one gather lays out the tokens.
            using var cls = _w["visual.class_embedding"].View(1, width);
            var table = Ops.ConcatRows(embedded, cls);
            var order = new int[batch * T];
            var pos = new int[batch * T];
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < T; t++)
                {
                    order[b * T + t] = t == 0 ? batch * P : b * P + t - 1;
                    pos[b * T + t] = t;
                }
            var tokens = Ops.Add(Ops.GatherRows(table, order), Ops.GatherRows(_w["visual.positional_embedding"], pos));
            x = setup.Keep(Ops.LayerNorm(tokens, _w["visual.ln_pre.weight"], _w["visual.ln_pre.bias"], Config.LayerNormEps));
        }

        var patchRows = new int[batch * P];
        var clsRows = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            clsRows[b] = b * T;
            for (int p = 0; p < P; p++) patchRows[b * P + p] = b * T + 1 + p;
        }

        // As published, mid layer k is read inside block k+1 after its attention residual (the authors' hook kept a view
        // that block k+1 updated in place); after the last block nothing updates it, so there it is the block output.
        bool published = MidFeatures == MidFeatureMode.AsPublished;
        var takeAt = v.MidLayers.Select(k => published && k + 1 < _blocks.Length ? k + 1 : k).ToArray();
        var mids = new Tensor?[v.MidLayers.Length];
        Tensor xvv = x; // the V-V path starts equal to the block-0 input
        Tensor? xvvOwner = null; // after block 0, xvv is a row view of the block's stacked output, which owns it
        for (int i = 0; i < _blocks.Length; i++)
        {
            Tensor nx, nvv, stacked;
            using (var block = TensorScope.Open())
            {
                (nx, nvv, var preMlp, stacked) = _blocks[i].ForwardDual(x, xvv, batch, T);
                block.Keep(nx);
                block.Keep(stacked);
                for (int m = 0; m < mids.Length; m++)
                    if (i == takeAt[m]) mids[m] = block.Keep(Ops.GatherRows(takeAt[m] == v.MidLayers[m] ? nx : preMlp, patchRows));
            }
            xvvOwner?.Dispose();
            x.Dispose();
            x = nx;
            xvv = nvv;
            xvvOwner = stacked;
        }

        // SPEC §4 replaces the V-V class token by the original's before ln_post/proj; only the V-V PATCH tokens are
        // output, so that replacement cannot change any result and is skipped.
        var lnW = _w["visual.ln_post.weight"];
        var lnB = _w["visual.ln_post.bias"];
        var proj = _w["visual.proj"];
        var global = Ops.MatMul(Ops.LayerNorm(Ops.GatherRows(x, clsRows), lnW, lnB, Config.LayerNormEps), proj);
        var local = Ops.MatMul(Ops.LayerNorm(Ops.GatherRows(xvv, patchRows), lnW, lnB, Config.LayerNormEps), proj);
        var result = new ImageFeatures(scope.Keep(global), scope.Keep(local), scope.Keep(mids[0]!), scope.Keep(mids[1]!), batch, P, IsNormalized: false);
        return result;
    }

    /// <summary>The features as used downstream: every row L2-normalized.</summary>
    public ImageFeatures EncodeNormalized(ReadOnlySpan<float> images, int batch)
    {
        using var raw = EncodeRaw(images, batch);
        return raw.Normalized();
    }
}
