using PromptAD.Clip;
using PromptAD.Scoring;
using PromptAD.Tensors;

namespace PromptAD.Prompting;

/// <summary>Raw text features of one head's prompts, split by kind (rows in <see cref="PromptSet"/> order).</summary>
public sealed record PromptFeatures(Tensor Normal, Tensor Manual, Tensor Learned);

/// <summary>
/// The learned vectors of one head: ctx [nPro·nCtx, width] (the c_i) and ctx_ab [nProAb·nCtxAb, width] (the a_j),
/// leaves that require a gradient, owned by this object (outside every scope). <see cref="Encode"/> runs all of the
/// head's prompts through the text encoder as one batch.
/// </summary>
public sealed class PromptLearner : IDisposable
{
    private readonly ClipTextEncoder _encoder;

    public PromptLearner(ClipWeights weights, PromptSet prompts, float[] ctx, float[] ctxAb)
    {
        _encoder = new ClipTextEncoder(weights);
        var encoder = _encoder;
        Prompts = prompts;
        int width = encoder.Config.Text.Width;
        if (ctx.Length != prompts.CtxRows * width)
            throw new ArgumentException($"ctx has {ctx.Length} values, expected [{prompts.CtxRows}, {width}]", nameof(ctx));
        if (ctxAb.Length != prompts.CtxAbRows * width)
            throw new ArgumentException($"ctx_ab has {ctxAb.Length} values, expected [{prompts.CtxAbRows}, {width}]", nameof(ctxAb));
        var be = weights.Backend;
        Ctx = Leaf(be, ctx, prompts.CtxRows, width);
        CtxAb = Leaf(be, ctxAb, prompts.CtxAbRows, width);
    }

    public PromptSet Prompts { get; }
    public Tensor Ctx { get; }
    public Tensor CtxAb { get; }

    /// <summary>N(0, 0.02²) values (SPEC §5.1) from <paramref name="rng"/> (Box–Muller, so a seed fixes them).</summary>
    public static float[] InitialVectors(int count, Random rng)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            v[i] = (float)(0.02 * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return v;
    }

    /// <summary>Raw features of every prompt, in the caller's scope; gradients flow to <see cref="Ctx"/>/<see cref="CtxAb"/>.</summary>
    public PromptFeatures Encode() => EncodeTogether([this])[0];

    /// <summary>
    /// <see cref="Encode"/> for several learners of one prompt structure (one head of several runs) as one text
    /// encoder batch: their prompts one learner after another, each learner's features sliced back out.
    /// </summary>
    public static IReadOnlyList<PromptFeatures> EncodeTogether(IReadOnlyList<PromptLearner> learners)
    {
        if (learners.Count == 0) return [];
        var p = learners[0].Prompts;
        foreach (var l in learners)
        {
            if (!l.Prompts.TokenIds.SelectMany(t => t).SequenceEqual(p.TokenIds.SelectMany(t => t)) || l.Prompts.LearnedRows.Length != p.LearnedRows.Length)
                throw new ArgumentException("learners encoded together must share one prompt structure", nameof(learners));
        }
        var perLearner = learners.Select(l => Ops.GatherRows(Ops.ConcatRows(l.Ctx, l.CtxAb), l.Prompts.LearnedRows)).ToArray();
        var learned = perLearner.Length == 1 ? perLearner[0] : Ops.ConcatRows(perLearner);
        int[][] tokenIds = [.. learners.SelectMany(_ => p.TokenIds)];
        int[][] positions = [.. learners.SelectMany(_ => p.LearnedPositions)];
        // Rows holding the same learned vector share their prefix computation; each learner's vectors are its own.
        int perLearnerRows = p.CtxRows + p.CtxAbRows;
        int[] keys = [.. learners.SelectMany((_, r) => p.LearnedRows.Select(row => r * perLearnerRows + row))];
        var f = learners[0]._encoder.Encode(tokenIds, learned, positions, keys);
        int n = p.TokenIds.Length;
        return [.. learners.Select((_, r) => new PromptFeatures(
            Ops.SliceRows(f, r * n, p.NormalCount),
            Ops.SliceRows(f, r * n + p.NormalCount, p.ManualCount),
            Ops.SliceRows(f, r * n + p.NormalCount + p.ManualCount, p.LearnedCount)))];
    }

    /// <summary>The head's prototypes from the current vectors (SPEC §6).</summary>
    public Prototypes Prototypes()
    {
        using var scope = TensorScope.Open();
        var f = Encode();
        return Scoring.Prototypes.FromFeatures(f.Normal, Ops.ConcatRows(f.Manual, f.Learned));
    }

    private static Tensor Leaf(IBackend be, float[] data, int rows, int width)
    {
        var t = Tensor.FromArray(be, data, rows, width);
        TensorScope.Detach(t); // parameters live as long as the learner, not any step's scope
        t.RequiresGrad = true;
        return t;
    }

    public void Dispose()
    {
        Ctx.Dispose();
        CtxAb.Dispose();
    }
}
