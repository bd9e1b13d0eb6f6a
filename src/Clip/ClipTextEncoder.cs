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
    /// <see cref="Ops.GatherRows"/> from the parameter tensor (the gradient then accumulates onto it) and pass the
    /// gather's indices as <paramref name="learnedKeys"/> (rows with equal keys hold the same vector): the shared-prefix
    /// layout then follows from the prompts' structure, is built once for these arrays and reused by later calls with
    /// the same contents, and no values are read back. Without keys it is found from the values (one download).
    /// Returns raw features [batch, embedDim].
    /// </summary>
    public Tensor Encode(int[][] tokenIds, Tensor? learned = null, int[][]? learnedPositions = null, int[]? learnedKeys = null)
    {
        if (tokenIds.Length == 0) throw new ArgumentException("no prompts to encode", nameof(tokenIds));
        if (learned is null && learnedPositions is not null && learnedPositions.Any(p => p.Length > 0))
            throw new ArgumentException("learned positions given without learned vectors", nameof(learnedPositions));
        if (learned is not null && (learnedPositions is null || learnedPositions.Length != tokenIds.Length))
            throw new ArgumentException($"learned vectors need positions for each of the {tokenIds.Length} prompts", nameof(learnedPositions));
        var layout = Layout(tokenIds, learned is null ? null : learnedPositions, learned is null ? null : learnedKeys);
        int batch = tokenIds.Length, seq = layout.Seq;

        var embeddings = Ops.GatherRows(_w["token_embedding.weight"], layout.Ids);
        if (learned is not null)
        {
            int n = layout.Splice.Length;
            if (learned.Rows != n || learned.Cols != Config.Text.Width)
                throw new ArgumentException($"learned vectors {Shape.Format(learned.Shape)} do not match {n} positions of width {Config.Text.Width}");
            embeddings = Ops.SpliceRows(embeddings, learned.Rank == 2 ? learned : Ops.Reshape(learned, n, learned.Cols), layout.Splice);
        }
        return EncodeEmbeddings(embeddings, batch, seq, layout.Ends, layout.Shared);
    }

    /// <summary>
    /// Everything about a prompt batch that its token structure fixes: padded ids, end positions, splice positions,
    /// and (when known from keys) the shared-prefix layout. Kept for the last arrays seen and reused when the next
    /// call's arrays have the same contents (a training loop encodes the same prompt set every step).
    /// </summary>
    private sealed record TextLayout(int[][] TokenIds, int[][]? Positions, int[]? Keys, int Seq, int[] Ends, int[] Ids,
        int[] Splice, SharedPrefixLayout? Shared)
    {
        public bool Matches(int[][] tokenIds, int[][]? positions, int[]? keys) =>
            Same(TokenIds, tokenIds) && (Positions is null ? positions is null : positions is not null && Same(Positions, positions))
            && (Keys is null ? keys is null : keys is not null && Keys.AsSpan().SequenceEqual(keys));

        private static bool Same(int[][] a, int[][] b) =>
            a.Length == b.Length && a.Zip(b).All(p => p.First.AsSpan().SequenceEqual(p.Second));
    }

    private TextLayout? _layout;

    private TextLayout Layout(int[][] tokenIds, int[][]? learnedPositions, int[]? learnedKeys)
    {
        var cached = _layout;
        if (cached is not null && cached.Matches(tokenIds, learnedPositions, learnedKeys)) return cached;

        int batch = tokenIds.Length;
        var ends = EndPositions(tokenIds);
        int seq = ends.Max() + 1;
        var ids = new int[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < seq; i++)
                ids[b * seq + i] = i < tokenIds[b].Length ? tokenIds[b][i] : 0;
        Require.Indices(ids, Config.Text.VocabSize, "clip_text_encode");

        var splice = new List<int>();
        if (learnedPositions is not null)
            for (int b = 0; b < batch; b++)
                foreach (int p in learnedPositions[b])
                {
                    if (p <= 0 || p >= ends[b])
                        throw new ArgumentException($"prompt {b}: learned position {p} is not strictly between the start token and the end token at {ends[b]}");
                    splice.Add(b * seq + p);
                }

        SharedPrefixLayout? shared = null;
        if (learnedPositions is null || learnedKeys is not null)
        {
            var keys = (int[])ids.Clone();
            if (learnedKeys is not null)
            {
                if (learnedKeys.Length != splice.Count)
                    throw new ArgumentException($"{learnedKeys.Length} learned keys for {splice.Count} learned positions", nameof(learnedKeys));
                for (int k = 0; k < splice.Count; k++)
                {
                    if (learnedKeys[k] < 0) throw new ArgumentException($"learned key {k} is negative ({learnedKeys[k]})", nameof(learnedKeys));
                    keys[splice[k]] = -1 - learnedKeys[k];
                }
            }
            shared = SharedPrefixLayout.FromKeys(keys, batch, seq, ends);
        }
        var layout = new TextLayout([.. tokenIds.Select(t => (int[])t.Clone())], learnedPositions?.Select(p => (int[])p.Clone()).ToArray(),
            (int[]?)learnedKeys?.Clone(), seq, ends, ids, [.. splice], shared);
        _layout = layout;
        return layout;
    }

    /// <summary>
    /// The lower-level entry: <paramref name="embeddings"/> [batch·seq, width] are prompt embeddings (token
    /// embeddings, learned vectors already spliced, no positional embedding), seq ≤ contextLength, and
    /// <paramref name="endPositions"/>[b] &lt; seq the end-token position of prompt b. Returns raw features [batch, embedDim].
    /// The shared-prefix layout is found from the values (one download).
    /// </summary>
    public Tensor EncodeEmbeddings(Tensor embeddings, int batch, int seq, int[] endPositions) =>
        EncodeEmbeddings(embeddings, batch, seq, endPositions, null);

    private Tensor EncodeEmbeddings(Tensor embeddings, int batch, int seq, int[] endPositions, SharedPrefixLayout? layout)
    {
        var t = Config.Text;
        if (seq <= 0 || seq > t.ContextLength) throw new ArgumentOutOfRangeException(nameof(seq), $"sequence length {seq} outside [1, {t.ContextLength}]");
        if (embeddings.Rows != batch * seq || embeddings.Cols != t.Width)
            throw new ArgumentException($"embeddings {Shape.Format(embeddings.Shape)} are not [{batch}·{seq}, {t.Width}]", nameof(embeddings));
        if (endPositions.Length != batch) throw new ArgumentException($"{endPositions.Length} end positions for {batch} prompts", nameof(endPositions));
        Require.Indices(endPositions, seq, "clip_text_encode end positions");

        var positions = new int[batch * seq]; // same contents every step, so the device keeps one copy (index cache)
        for (int i = 0; i < positions.Length; i++) positions[i] = i % seq;
        var x = Ops.Add(embeddings.Rank == 2 ? embeddings : Ops.Reshape(embeddings, batch * seq, t.Width),
            Ops.GatherRows(_w["positional_embedding"], positions));
        // Per-row work only on the rows that differ: shared prompt prefixes once, nothing after each end token.
        layout ??= SharedPrefixLayout.Build(x.ToArray(), batch, seq, t.Width, endPositions);
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
