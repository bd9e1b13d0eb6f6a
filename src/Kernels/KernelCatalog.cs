namespace PromptAD.Kernels;

/// <summary>
/// Every kernel entry point, by file. The backend names kernels through these constants instead of string literals,
/// and the compile test checks that each one exists in the PTX. Launch contracts are in each .cu file's header comment.
/// </summary>
public static class KernelCatalog
{
    public static class LayerNorm
    {
        public const string File = "layernorm.cu";
        public const string Forward = "layernorm_forward", Backward = "layernorm_backward";
    }

    public static class Gelu
    {
        public const string File = "gelu.cu";
        public const string Forward = "gelu_forward", Backward = "gelu_backward";
        public const string QuickForward = "quick_gelu_forward", QuickBackward = "quick_gelu_backward";
        public const string BiasForward = "bias_gelu_forward", BiasQuickForward = "bias_quick_gelu_forward";
    }

    public static class Elementwise
    {
        public const string File = "elementwise.cu";
        public const string BiasAdd = "bias_add", Axpby = "axpby", BiasResidualForward = "bias_residual_forward";
        public const string ReluForward = "relu_forward", ReluBackward = "relu_backward";
        public const string SqDistRowsForward = "sqdist_rows_forward", SqDistRowsBackward = "sqdist_rows_backward";
    }

    public static class Softmax
    {
        public const string File = "softmax.cu";
        public const string Forward = "softmax_forward", Backward = "softmax_backward";
    }

    public static class Attention
    {
        public const string File = "attention.cu";
        public const string QkvSplitHeads = "qkv_split_heads", QkvMergeHeadsBackward = "qkv_merge_heads_backward";
        public const string MergeHeads = "merge_heads", SplitHeads = "split_heads";
        public const string SoftmaxForward = "attention_softmax_forward", SoftmaxBackward = "attention_softmax_backward";
        public const string VvForward = "vv_attention_forward";
        /// <summary>Head dim the fused V-V kernel is compiled for, and its query rows per block.</summary>
        public const int VvHeadDim = 64, VvQueryRowsPerBlock = 16, VvBlockThreads = 128;
        public const string CausalForward = "causal_attention_forward";
        public const string CausalBackwardDq = "causal_attention_backward_dq", CausalBackwardDkv = "causal_attention_backward_dkv";
        /// <summary>The fused causal kernels' limits (larger heads or sequences take the GEMM path), and their launch
        /// shape: query (or key) rows per block, threads per block.</summary>
        public const int CausalMaxHeadDim = 64, CausalMaxSeq = 1024, CausalRowsPerBlock = 16, CausalBlockThreads = 128;
    }

    public static class Normalize
    {
        public const string File = "normalize.cu";
        public const string L2Forward = "l2norm_forward", L2Backward = "l2norm_backward";
    }

    public static class Nearest
    {
        public const string File = "nearest.cu";
        public const string Partial = "nearest_partial", Reduce = "nearest_reduce";
        /// <summary>Queries per block of <see cref="Partial"/>; chunk_rows should be a multiple of <see cref="BankTile"/>.</summary>
        public const int QueryTile = 64, BankTile = 64;
    }

    public static class CrossEntropy
    {
        public const string File = "crossentropy.cu";
        public const string Forward = "cross_entropy_forward";
        public const string BackwardFromProbs = "cross_entropy_backward_probs";
    }

    public static class Rows
    {
        public const string File = "rows.cu";
        public const string Gather = "gather_rows", AddListed = "add_listed_rows";
        public const string Splice = "splice_rows", SpliceBackward = "splice_rows_backward";
    }

    public static class Reduce
    {
        public const string File = "reduce.cu";
        public const string SumRows = "sum_rows", BroadcastRows = "broadcast_rows";
    }

    public static class Upsample
    {
        public const string File = "upsample.cu";
        public const string Bilinear = "upsample_bilinear";
    }

    public static class Scoring
    {
        public const string File = "scoring.cu";
        public const string RowMax = "row_max", AnomalyFuse = "anomaly_fuse", BlurAxis = "gaussian_blur_axis";
    }

    public static class Optimizer
    {
        public const string File = "optimizer.cu";
        public const string SgdStep = "sgd_step", WriteAtStep = "write_at_step", AdvanceStep = "advance_step";
    }

    public static class Convert
    {
        public const string File = "convert.cu";
        public const string F32ToBf16 = "f32_to_bf16";
    }

    /// <summary>File name to its entry points.</summary>
    public static IReadOnlyDictionary<string, string[]> EntriesByFile { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [LayerNorm.File] = [LayerNorm.Forward, LayerNorm.Backward],
        [Gelu.File] = [Gelu.Forward, Gelu.Backward, Gelu.QuickForward, Gelu.QuickBackward, Gelu.BiasForward, Gelu.BiasQuickForward],
        [Elementwise.File] = [Elementwise.BiasAdd, Elementwise.Axpby, Elementwise.BiasResidualForward,
            Elementwise.ReluForward, Elementwise.ReluBackward, Elementwise.SqDistRowsForward, Elementwise.SqDistRowsBackward],
        [Softmax.File] = [Softmax.Forward, Softmax.Backward],
        [Attention.File] = [Attention.QkvSplitHeads, Attention.QkvMergeHeadsBackward, Attention.MergeHeads, Attention.SplitHeads,
            Attention.SoftmaxForward, Attention.SoftmaxBackward, Attention.VvForward,
            Attention.CausalForward, Attention.CausalBackwardDq, Attention.CausalBackwardDkv],
        [Normalize.File] = [Normalize.L2Forward, Normalize.L2Backward],
        [Nearest.File] = [Nearest.Partial, Nearest.Reduce],
        [CrossEntropy.File] = [CrossEntropy.Forward, CrossEntropy.BackwardFromProbs],
        [Rows.File] = [Rows.Gather, Rows.AddListed, Rows.Splice, Rows.SpliceBackward],
        [Reduce.File] = [Reduce.SumRows, Reduce.BroadcastRows],
        [Upsample.File] = [Upsample.Bilinear],
        [Scoring.File] = [Scoring.RowMax, Scoring.AnomalyFuse, Scoring.BlurAxis],
        [Optimizer.File] = [Optimizer.SgdStep, Optimizer.WriteAtStep, Optimizer.AdvanceStep],
        [Convert.File] = [Convert.F32ToBf16],
    };
}
