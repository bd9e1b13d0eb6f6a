using PromptAD.Tensors;

namespace PromptAD.Clip;

/// <summary>
/// CLIP's text tower (SPEC §5.2): token embeddings with learned prompt vectors spliced in, + positional embedding,
/// causal transformer, ln_final, the end-token vector, text_projection. Returns RAW (un-normalized) features.
/// Only positions up to each prompt's end are computed, and positions whose whole prefix is shared with another
/// prompt (the start token and learned context vectors of PromptAD's prompts) only once: with the causal mask both
/// are exact (see <see cref="SharedPrefixLayout"/>). Gradients reach the learned vectors (the only
/// tensors that require one); every CLIP weight is frozen.
/// </summary>
public sealed class ClipTextEncoder
{
    private readonly ClipWeights _w;
    private readonly ResidualBlock[] _blocks;

    public ClipTextEncoder(ClipWeights weights)
    {
        _w = weights;
        var t = weights.Config.Text;
        _blocks = Enumerable.Range(0, t.Layers).Select(i => new ResidualBlock(weights, $"transformer.resblocks.{i}.", t.Heads)).ToArray();
    }

    public ClipConfig Config => _w.Config;

    /// <summary>
    /// Encodes prompts given as token ids (each at most contextLength long, e.g. the tokenizer's 77 ids with the end
    /// token the largest id). <paramref name="learned"/> [n, width] holds the vectors that replace token embeddings:
    /// its rows are consumed in order, prompt by prompt, at <paramref name="learnedPositions"/>[b] (positions within
    /// prompt b). To share one learned vector between prompts, build <paramref name="learned"/> with
    /// <see cref="Ops.GatherRows"/> from the parameter tensor (the gradient then accumulates onto it).
    /// Returns raw features [batch, embedDim].
    /// </summary>
    public Tensor Encode(int[][] tokenIds, Tensor? learned = null, int[][]? learnedPositions = null)
    {
        int batch = tokenIds.Length;
        if (batch == 0) throw new ArgumentException("no prompts to encode", nameof(tokenIds));
        var ends = EndPositions(tokenIds);
        int seq = ends.Max() + 1;
        var ids = new int[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < seq; i++)
                ids[b * seq + i] = i < tokenIds[b].Length ? tokenIds[b][i] : 0;
        Require.Indices(ids, Config.Text.VocabSize, "clip_text_encode");

        var embeddings = Ops.GatherRows(_w["token_embedding.weight"], ids);
        if (learned is not null)
        {
            if (learnedPositions is null || learnedPositions.Length != batch)
                throw new ArgumentException($"learned vectors need positions for each of the {batch} prompts", nameof(learnedPositions));
            var flat = new List<int>();
            for (int b = 0; b < batch; b++)
                foreach (int p in learnedPositions[b])
                {
                    if (p <= 0 || p >= ends[b])
                        throw new ArgumentException($"prompt {b}: learned position {p} is not strictly between the start token and the end token at {ends[b]}");
                    flat.Add(b * seq + p);
                }
            if (learned.Rows != flat.Count || learned.Cols != Config.Text.Width)
                throw new ArgumentException($"learned vectors {Shape.Format(learned.Shape)} do not match {flat.Count} positions of width {Config.Text.Width}");
            embeddings = Ops.SpliceRows(embeddings, learned.Rank == 2 ? learned : Ops.Reshape(learned, flat.Count, learned.Cols), flat.ToArray());
        }
        else if (learnedPositions is not null && learnedPositions.Any(p => p.Length > 0))
            throw new ArgumentException("learned positions given without learned vectors", nameof(learnedPositions));
        return EncodeEmbeddings(embeddings, batch, seq, ends);
    }

    /// <summary>
    /// The lower-level entry: <paramref name="embeddings"/> [batch·seq, width] are prompt embeddings (token
    /// embeddings, learned vectors already spliced, no positional embedding), seq ≤ contextLength, and
    /// <paramref name="endPositions"/>[b] &lt; seq the end-token position of prompt b. Returns raw features [batch, embedDim].
    /// </summary>
    public Tensor EncodeEmbeddings(Tensor embeddings, int batch, int seq, int[] endPositions)
    {
        var t = Config.Text;
        if (seq <= 0 || seq > t.ContextLength) throw new ArgumentOutOfRangeException(nameof(seq), $"sequence length {seq} outside [1, {t.ContextLength}]");
        if (embeddings.Rows != batch * seq || embeddings.Cols != t.Width)
            throw new ArgumentException($"embeddings {Shape.Format(embeddings.Shape)} are not [{batch}·{seq}, {t.Width}]", nameof(embeddings));
        if (endPositions.Length != batch) throw new ArgumentException($"{endPositions.Length} end positions for {batch} prompts", nameof(endPositions));
        Require.Indices(endPositions, seq, "clip_text_encode end positions");

        var positions = new int[batch * seq];
        for (int i = 0; i < positions.Length; i++) positions[i] = i % seq;
        var x = Ops.Add(embeddings.Rank == 2 ? embeddings : Ops.Reshape(embeddings, batch * seq, t.Width),
            Ops.GatherRows(_w["positional_embedding"], positions));
        // Per-row work only on the rows that differ: shared prompt prefixes once, nothing after each end token.
        var layout = SharedPrefixLayout.Build(x.ToArray(), batch, seq, t.Width, endPositions);
        var unique = Ops.GatherRows(x, layout.Representatives);
        foreach (var block in _blocks) unique = block.ForwardCausalShared(unique, layout.Expand, layout.Representatives, batch, seq);

        // LayerNorm is per row, so picking the end rows first and normalizing only them is the same as ln_final on all.
        var pooled = Ops.LayerNorm(Ops.GatherRows(unique, layout.EndRows), _w["ln_final.weight"], _w["ln_final.bias"], Config.LayerNormEps);
        return Ops.MatMul(pooled, _w["text_projection"]);
    }

    /// <summary>End-token position of each prompt: the position of its largest id (the first one on ties).</summary>
    public static int[] EndPositions(int[][] tokenIds)
    {
        var ends = new int[tokenIds.Length];
        for (int b = 0; b < tokenIds.Length; b++)
        {
            var ids = tokenIds[b];
            if (ids.Length == 0) throw new ArgumentException($"prompt {b} has no tokens", nameof(tokenIds));
            int best = 0;
            for (int i = 1; i < ids.Length; i++) if (ids[i] > ids[best]) best = i;
            ends[b] = best;
        }
        return ends;
    }
}
