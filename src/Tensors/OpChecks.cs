namespace PromptAD.Tensors;

/// <summary>
/// The argument checks of every <see cref="IBackend"/> op, written once so the CPU and CUDA backends reject exactly the
/// same misuse with exactly the same message (op name, tensor names, shapes). A backend calls the method named after the
/// op first, then does only what is its own: pointer extraction (which checks the tensor's backend and lifetime),
/// early returns for empty work, and the computation or launches. Op names are those of the CUDA kernels
/// (<see cref="Names"/>). Index bounds are checked here too, so a kernel never sees an out-of-range host index.
/// </summary>
public static class OpChecks
{
    /// <summary>The op names used in messages (and by the backends for their own pointer checks).</summary>
    public static class Names
    {
        public const string Upload = "upload", Download = "download", Copy = "copy", Fill = "fill", Gemm = "gemm";
        public const string Axpby = "axpby", AddBias = "add_bias";
        public const string GeluForward = "gelu_forward", GeluBackward = "gelu_backward";
        public const string QuickGeluForward = "quick_gelu_forward", QuickGeluBackward = "quick_gelu_backward";
        public const string ReluForward = "relu_forward", ReluBackward = "relu_backward";
        public const string LayerNormForward = "layernorm_forward", LayerNormBackward = "layernorm_backward";
        public const string SoftmaxForward = "softmax_forward", SoftmaxBackward = "softmax_backward";
        public const string AttentionForward = "attention_forward", AttentionBackward = "attention_backward";
        public const string VVAttentionForward = "vv_attention_forward";
        public const string CausalAttentionForward = "causal_attention_forward", CausalAttentionBackward = "causal_attention_backward";
        public const string BiasGeluForward = "bias_gelu_forward", BiasQuickGeluForward = "bias_quick_gelu_forward";
        public const string BiasResidualForward = "bias_residual_forward";
        public const string LinearForward = "linear_forward";
        public const string LinearGeluForward = "linear_gelu_forward", LinearQuickGeluForward = "linear_quick_gelu_forward";
        public const string LinearResidualForward = "linear_residual_forward";
        public const string L2NormalizeForward = "l2normalize_forward", L2NormalizeBackward = "l2normalize_backward";
        public const string SumRows = "sum_rows", BroadcastRows = "broadcast_rows";
        public const string GatherRows = "gather_rows", ScatterAddRows = "scatter_add_rows";
        public const string SpliceRows = "splice_rows", SpliceRowsBackward = "splice_rows_backward";
        public const string SoftmaxCrossEntropyForward = "softmax_crossentropy_forward";
        public const string SoftmaxCrossEntropyBackward = "softmax_crossentropy_backward";
        public const string SquaredDistanceForward = "squared_distance_forward", SquaredDistanceBackward = "squared_distance_backward";
        public const string NearestNeighbourForward = "nearest_neighbour_forward";
        public const string RowMax = "row_max", AnomalyFuse = "anomaly_fuse", GaussianBlur = "gaussian_blur";
        public const string UpsampleBilinear = "upsample_bilinear";
    }

    public static void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"upload of {source.Length} values into {destination}");
    }

    public static void Download(Tensor source, Span<float> destination)
    {
        if (destination.Length != source.Length) throw new ArgumentException($"download of {source} into {destination.Length} values");
    }

    public static void Copy(Tensor source, Tensor destination) =>
        Require.SameLength(source, destination, Names.Copy, "source", "destination");

    public static void Axpby(Tensor a, Tensor b, Tensor y)
    {
        Require.SameLength(a, b, Names.Axpby, "a", "b");
        Require.SameLength(a, y, Names.Axpby, "a", "y");
    }

    public static void AddBias(Tensor x, Tensor bias, Tensor y)
    {
        Require.Length(bias, x.Cols, Names.AddBias, "bias");
        Require.SameLength(x, y, Names.AddBias, "x", "y");
    }

    /// <summary>Checks of the elementwise activations' forward (gelu, quick_gelu, relu): y = f(x).</summary>
    public static void Unary(Tensor x, Tensor y, string op) => Require.SameLength(x, y, op, "x", "y");

    /// <summary>Checks of the elementwise activations' backward: dx = dy·f'(x).</summary>
    public static void UnaryBackward(Tensor x, Tensor dy, Tensor dx, string op)
    {
        Require.SameLength(x, dy, op, "x", "dy");
        Require.SameLength(x, dx, op, "x", "dx");
    }

    public static void LayerNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd)
    {
        const string op = Names.LayerNormForward;
        int rows = x.Rows, cols = x.Cols;
        Require.Length(gamma, cols, op, "gamma");
        Require.Length(beta, cols, op, "beta");
        Require.SameLength(x, y, op, "x", "y");
        Require.Length(mean, rows, op, "mean");
        Require.Length(rstd, rows, op, "rstd");
    }

    public static void LayerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx)
    {
        const string op = Names.LayerNormBackward;
        int rows = x.Rows, cols = x.Cols;
        Require.SameLength(x, dy, op, "x", "dy");
        Require.SameLength(x, dx, op, "x", "dx");
        Require.Length(gamma, cols, op, "gamma");
        Require.Length(mean, rows, op, "mean");
        Require.Length(rstd, rows, op, "rstd");
    }

    /// <summary>A negative length is rejected, and a causal mask needs square [T, T] score blocks (cols = T), so
    /// that no row's visible prefix runs past its columns.</summary>
    public static void SoftmaxForward(Tensor x, Tensor y, int causalSeqLen)
    {
        const string op = Names.SoftmaxForward;
        Require.SameLength(x, y, op, "x", "y");
        if (causalSeqLen < 0)
            throw new ArgumentOutOfRangeException(nameof(causalSeqLen), causalSeqLen, $"{op}: the causal sequence length must not be negative");
        if (causalSeqLen > 0 && x.Cols != causalSeqLen)
            throw new ArgumentException($"{op}: causal mask over {causalSeqLen} positions needs {causalSeqLen} columns, got {x.Cols}");
    }

    public static void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        const string op = Names.SoftmaxBackward;
        Require.SameLength(y, dy, op, "y", "dy");
        Require.SameLength(y, dx, op, "y", "dx");
    }

    /// <summary>The packed-qkv checks shared by the attention ops; gives the model width and the head width.</summary>
    public static void Attention(Tensor qkv, int batch, int seq, int heads, string op, out int width, out int headDim)
    {
        if (batch <= 0 || seq <= 0 || heads <= 0) throw new ArgumentException($"{op}: batch {batch}, seq {seq}, heads {heads} must be positive");
        if (qkv.Cols % 3 != 0) throw new ArgumentException($"{op}: qkv has {qkv.Cols} columns, not 3·width");
        width = qkv.Cols / 3;
        if (width % heads != 0) throw new ArgumentException($"{op}: width {width} is not divisible by {heads} heads");
        headDim = width / heads;
        Require.Matrix(qkv, batch * seq, 3 * width, op, "qkv");
    }

    public static void AttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output, Tensor probs, out int width, out int headDim)
    {
        const string op = Names.AttentionForward;
        Attention(qkv, batch, seq, heads, op, out width, out headDim);
        Require.Matrix(output, batch * seq, width, op, "output");
        Require.Length(probs, (long)batch * heads * seq * seq, op, "probs");
    }

    public static void AttentionBackward(Tensor qkv, Tensor probs, Tensor dOutput, int batch, int seq, int heads, Tensor dqkv,
        out int width, out int headDim)
    {
        const string op = Names.AttentionBackward;
        Attention(qkv, batch, seq, heads, op, out width, out headDim);
        Require.Length(probs, (long)batch * heads * seq * seq, op, "probs");
        Require.Matrix(dOutput, batch * seq, width, op, "doutput");
        Require.SameLength(qkv, dqkv, op, "qkv", "dqkv");
    }

    public static void VVAttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output, out int width, out int headDim)
    {
        const string op = Names.VVAttentionForward;
        Attention(qkv, batch, seq, heads, op, out width, out headDim);
        Require.Matrix(output, batch * seq, width, op, "output");
    }

    public static void CausalAttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output, Tensor lse,
        out int width, out int headDim)
    {
        const string op = Names.CausalAttentionForward;
        Attention(qkv, batch, seq, heads, op, out width, out headDim);
        Require.Matrix(output, batch * seq, width, op, "output");
        Require.Length(lse, (long)batch * heads * seq, op, "lse");
    }

    public static void CausalAttentionBackward(Tensor qkv, Tensor output, Tensor lse, Tensor dOutput, int batch, int seq, int heads,
        Tensor dqkv, out int width, out int headDim)
    {
        const string op = Names.CausalAttentionBackward;
        Attention(qkv, batch, seq, heads, op, out width, out headDim);
        Require.Matrix(output, batch * seq, width, op, "output");
        Require.Length(lse, (long)batch * heads * seq, op, "lse");
        Require.Matrix(dOutput, batch * seq, width, op, "doutput");
        Require.SameLength(qkv, dqkv, op, "qkv", "dqkv");
    }

    /// <summary>Checks of the bias + activation epilogues: pre and y have h's length, bias h's columns.</summary>
    public static void BiasActivationForward(Tensor h, Tensor bias, Tensor pre, Tensor y, string op)
    {
        Require.Length(bias, h.Cols, op, "bias");
        Require.SameLength(h, pre, op, "h", "pre");
        Require.SameLength(h, y, op, "h", "y");
    }

    public static void BiasResidualForward(Tensor h, Tensor bias, Tensor residual, Tensor y)
    {
        const string op = Names.BiasResidualForward;
        Require.Length(bias, h.Cols, op, "bias");
        Require.SameLength(h, residual, op, "h", "residual");
        Require.SameLength(h, y, op, "h", "y");
    }

    /// <summary>Checks of a linear layer: weight [out, in] takes x's columns, bias [out], y [rows, out].</summary>
    public static void LinearForward(Tensor x, Tensor weight, Tensor bias, Tensor y)
    {
        Linear(x, weight, bias, Names.LinearForward);
        Require.Matrix(y, x.Rows, weight.Rows, Names.LinearForward, "y");
    }

    /// <summary>Checks of a linear layer with its activation: weight [out, in] takes x's columns, bias [out], pre and y
    /// [rows, out].</summary>
    public static void LinearGeluForward(Tensor x, Tensor weight, Tensor bias, Tensor pre, Tensor y, bool quick)
    {
        string op = quick ? Names.LinearQuickGeluForward : Names.LinearGeluForward;
        Linear(x, weight, bias, op);
        Require.Matrix(pre, x.Rows, weight.Rows, op, "pre");
        Require.Matrix(y, x.Rows, weight.Rows, op, "y");
    }

    /// <summary>Checks of a linear layer with the residual add: y [rows, out], the residual(s) y's columns and, stacked,
    /// y's rows.</summary>
    public static void LinearResidualForward(Tensor x, Tensor weight, Tensor bias, Tensor residual, Tensor? below, Tensor y)
    {
        const string op = Names.LinearResidualForward;
        Linear(x, weight, bias, op);
        Require.Matrix(y, x.Rows, weight.Rows, op, "y");
        int belowRows = below?.Rows ?? 0;
        Require.Matrix(residual, x.Rows - belowRows, weight.Rows, op, "residual");
        if (below is not null) Require.Matrix(below, belowRows, weight.Rows, op, "below");
    }

    private static void Linear(Tensor x, Tensor weight, Tensor bias, string op)
    {
        if (weight.Cols != x.Cols)
            throw new ArgumentException($"{op}: weight {Shape.Format(weight.Shape)} does not take {x.Cols} input features of x {Shape.Format(x.Shape)}");
        Require.Length(bias, weight.Rows, op, "bias");
    }

    public static void L2NormalizeForward(Tensor x, Tensor y, Tensor norms)
    {
        const string op = Names.L2NormalizeForward;
        Require.SameLength(x, y, op, "x", "y");
        Require.Length(norms, x.Rows, op, "norms");
    }

    public static void L2NormalizeBackward(Tensor y, Tensor norms, Tensor dy, Tensor dx)
    {
        const string op = Names.L2NormalizeBackward;
        Require.SameLength(y, dy, op, "y", "dy");
        Require.SameLength(y, dx, op, "y", "dx");
        Require.Length(norms, y.Rows, op, "norms");
    }

    public static void SumRows(Tensor x, Tensor y) => Require.Length(y, x.Cols, Names.SumRows, "y");

    public static void BroadcastRows(Tensor x, Tensor y) => Require.Length(x, y.Cols, Names.BroadcastRows, "x");

    public static void GatherRows(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        Require.Indices(indices, x.Rows, Names.GatherRows);
        Require.Matrix(y, indices.Length, x.Cols, Names.GatherRows, "y");
    }

    public static void ScatterAddRows(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        Require.Indices(indices, y.Rows, Names.ScatterAddRows);
        Require.Matrix(x, indices.Length, y.Cols, Names.ScatterAddRows, "x");
    }

    public static void SpliceRows(Tensor baseRows, Tensor source, ReadOnlySpan<int> sourceForRow, Tensor y)
    {
        SourceMap(sourceForRow.Length, baseRows.Rows, Names.SpliceRows);
        SourceRows(sourceForRow, source.Rows, Names.SpliceRows);
        Require.Matrix(source, source.Rows, baseRows.Cols, Names.SpliceRows, "source");
        Require.Matrix(y, baseRows.Rows, baseRows.Cols, Names.SpliceRows, "y");
    }

    public static void SpliceRowsBackward(Tensor dy, ReadOnlySpan<int> sourceForRow, Tensor? dBase, Tensor? dSource)
    {
        SourceMap(sourceForRow.Length, dy.Rows, Names.SpliceRowsBackward);
        if (dBase is not null) Require.Matrix(dBase, dy.Rows, dy.Cols, Names.SpliceRowsBackward, "dbase");
        if (dSource is not null)
        {
            SourceRows(sourceForRow, dSource.Rows, Names.SpliceRowsBackward);
            Require.Matrix(dSource, dSource.Rows, dy.Cols, Names.SpliceRowsBackward, "dsource");
        }
    }

    private static void SourceMap(int length, int rows, string op)
    {
        if (length != rows) throw new ArgumentException($"{op}: {length} source indices for {rows} rows");
    }

    private static void SourceRows(ReadOnlySpan<int> sourceForRow, int sourceRows, string op)
    {
        foreach (int s in sourceForRow)
            if (s >= sourceRows) throw new ArgumentOutOfRangeException(nameof(sourceForRow), $"{op}: source row {s} outside [0, {sourceRows})");
    }

    public static void SoftmaxCrossEntropyForward(Tensor logits, ReadOnlySpan<int> targets, Tensor losses, Tensor probs)
    {
        const string op = Names.SoftmaxCrossEntropyForward;
        CrossEntropyTargets(targets, logits, "logits", op);
        Require.Length(losses, logits.Rows, op, "losses");
        Require.SameLength(logits, probs, op, "logits", "probs");
    }

    public static void SoftmaxCrossEntropyBackward(Tensor probs, ReadOnlySpan<int> targets, Tensor dLosses, Tensor dLogits)
    {
        const string op = Names.SoftmaxCrossEntropyBackward;
        CrossEntropyTargets(targets, probs, "probs", op);
        Require.Length(dLosses, probs.Rows, op, "dlosses");
        Require.SameLength(probs, dLogits, op, "probs", "dlogits");
    }

    /// <summary>One target per row of <paramref name="matrix"/>, each a valid class (column) index.</summary>
    private static void CrossEntropyTargets(ReadOnlySpan<int> targets, Tensor matrix, string name, string op)
    {
        if (targets.Length != matrix.Rows) throw new ArgumentException($"{op}: {targets.Length} targets for {matrix.Rows} rows of {name}");
        Require.Indices(targets, matrix.Cols, op);
    }

    /// <summary>The operand check of the squared-distance ops: b has a's columns and either a's rows or one row.
    /// True when b is one row broadcast over a's rows (false when a has one row too: row by row is the same).</summary>
    public static bool SquaredDistance(Tensor a, Tensor b, string op)
    {
        if (b.Cols != a.Cols || (b.Rows != a.Rows && b.Rows != 1))
            throw new ArgumentException($"{op}: b {Shape.Format(b.Shape)} must have a's {a.Cols} columns and {a.Rows} rows or one row");
        return b.Rows == 1 && a.Rows != 1;
    }

    public static bool SquaredDistanceForward(Tensor a, Tensor b, Tensor y)
    {
        bool broadcast = SquaredDistance(a, b, Names.SquaredDistanceForward);
        Require.Length(y, a.Rows, Names.SquaredDistanceForward, "y");
        return broadcast;
    }

    public static bool SquaredDistanceBackward(Tensor a, Tensor b, Tensor dy, Tensor da)
    {
        const string op = Names.SquaredDistanceBackward;
        bool broadcast = SquaredDistance(a, b, op);
        Require.Length(dy, a.Rows, op, "dy");
        Require.SameLength(a, da, op, "a", "da");
        return broadcast;
    }

    public static void NearestNeighbourForward(Tensor query, Tensor bank, Tensor y)
    {
        const string op = Names.NearestNeighbourForward;
        if (bank.Cols != query.Cols) throw new ArgumentException($"{op}: bank rows have {bank.Cols} features, queries {query.Cols}");
        if (bank.Rows == 0) throw new ArgumentException($"{op}: the memory bank is empty");
        Require.Length(y, query.Rows, op, "y");
    }

    public static void UpsampleBilinear(Tensor x, Tensor y)
    {
        const string op = Names.UpsampleBilinear;
        if (x.Rank != 3 || y.Rank != 3 || x.Dim(0) != y.Dim(0))
            throw new ArgumentException($"{op}: x {Shape.Format(x.Shape)} and y {Shape.Format(y.Shape)} must be [channels, h, w] with equal channels");
        if (x.Dim(1) == 0 || x.Dim(2) == 0) throw new ArgumentException($"{op}: empty input {Shape.Format(x.Shape)}");
    }

    public static void RowMax(Tensor x, Tensor y)
    {
        const string op = Names.RowMax;
        if (x.Rank != 2 || x.Cols == 0) throw new ArgumentException($"{op}: x {Shape.Format(x.Shape)} must be [rows, cols] with cols ≥ 1");
        Require.Length(y, x.Rows, op, "y");
    }

    public static void AnomalyFuse(Tensor sims, Tensor d1, Tensor d2, Tensor y)
    {
        const string op = Names.AnomalyFuse;
        if (sims.Rank != 2 || sims.Cols != 2) throw new ArgumentException($"{op}: sims {Shape.Format(sims.Shape)} must be [patches, 2] (normal, anomaly)");
        Require.Length(d1, sims.Rows, op, "d1");
        Require.Length(d2, sims.Rows, op, "d2");
        Require.Length(y, 2L * sims.Rows, op, "y");
    }

    public static void GaussianBlur(Tensor x, Tensor y, double sigma, double truncate)
    {
        const string op = Names.GaussianBlur;
        if (x.Rank != 3 || !x.Shape.SequenceEqual(y.Shape))
            throw new ArgumentException($"{op}: x {Shape.Format(x.Shape)} and y {Shape.Format(y.Shape)} must both be [channels, h, w]");
        if (!(sigma > 0) || !(truncate >= 0)) throw new ArgumentOutOfRangeException(nameof(sigma), $"{op}: need sigma > 0 and truncate ≥ 0 (got {sigma}, {truncate})");
    }
}
