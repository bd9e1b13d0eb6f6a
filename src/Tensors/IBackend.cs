namespace PromptAD.Tensors;

/// <summary>
/// The op set every backend implements. Ops take preallocated tensors of this backend and never allocate
/// their outputs, so the autograd layer (<see cref="Ops"/>) decides lifetimes and the CUDA backend can
/// implement exactly the same contract. All tensors are contiguous row-major float32; "rows × cols" means
/// the tensor viewed as a matrix whose cols is its last dimension. Index arrays are host spans.
/// Names match the CUDA kernels (LayerNormForward ↔ layernorm_forward).
/// </summary>
public interface IBackend : IDisposable
{
    string Name { get; }

    /// <summary>Uninitialized storage of <paramref name="length"/> float32 elements.</summary>
    Storage Allocate(long length);

    void Upload(ReadOnlySpan<float> source, Tensor destination);
    void Download(Tensor source, Span<float> destination);
    void Copy(Tensor source, Tensor destination);
    void Fill(Tensor destination, float value);

    /// <summary>Waits for queued work (a no-op on the CPU).</summary>
    void Synchronize();

    /// <summary>
    /// Starts reading the tensors' values (concatenated) to the host without waiting for queued work, e.g. a training
    /// step's losses for its progress line; the sources may be disposed once this returns.
    /// </summary>
    PendingRead ReadLater(ReadOnlySpan<Tensor> sources);

    /// <summary>
    /// Row-major strided-batched GEMM: for i &lt; batch, C_i = alpha·op(A_i)·op(B_i) + beta·C_i with
    /// op(A_i) [m,k], op(B_i) [k,n], C_i [m,n]. Offsets and strides are in elements, relative to each
    /// tensor's start; lda/ldb/ldc are row strides of the stored (untransposed) matrices. beta = 0 ignores C.
    /// </summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, long aOffset, int lda, long strideA,
        Tensor b, long bOffset, int ldb, long strideB, float beta,
        Tensor c, long cOffset, int ldc, long strideC, int batch);

    /// <summary>y = alpha·a + beta·b, elementwise over equal lengths (y may alias a or b).</summary>
    void Axpby(float alpha, Tensor a, float beta, Tensor b, Tensor y);

    /// <summary>y[r,c] = x[r,c] + bias[c] (y may alias x).</summary>
    void AddBias(Tensor x, Tensor bias, Tensor y);

    void GeluForward(Tensor x, Tensor y);
    void GeluBackward(Tensor x, Tensor dy, Tensor dx);
    void QuickGeluForward(Tensor x, Tensor y);
    void QuickGeluBackward(Tensor x, Tensor dy, Tensor dx);
    void ReluForward(Tensor x, Tensor y);
    void ReluBackward(Tensor x, Tensor dy, Tensor dx);

    // Fused epilogues of a linear layer whose GEMM wrote h = x·Wᵀ without its bias (one pass instead of three).

    /// <summary>pre = h + bias[c] (kept for the backward: dpre = dy·gelu'(pre) is <see cref="GeluBackward"/> on it),
    /// y = gelu(pre); pre may alias h, y must not alias pre.</summary>
    void BiasGeluForward(Tensor h, Tensor bias, Tensor pre, Tensor y);

    /// <summary>As <see cref="BiasGeluForward"/> with QuickGELU (OpenAI CLIP's activation).</summary>
    void BiasQuickGeluForward(Tensor h, Tensor bias, Tensor pre, Tensor y);

    /// <summary>y[r,c] = residual[r,c] + (h[r,c] + bias[c]): a linear layer's bias and the residual add that follows
    /// it (y may alias h or residual).</summary>
    void BiasResidualForward(Tensor h, Tensor bias, Tensor residual, Tensor y);

    // A whole linear layer with its epilogue, y from x [rows, in], weight [out, in] (PyTorch's layout), bias [out]. The
    // defaults are the GEMM then the epilogue above; the CPU applies the epilogue per tile inside its GEMM instead.

    /// <summary>y = x·Wᵀ + bias, with the bias in y before the product accumulates onto it (the rounding of a GEMM with
    /// beta = 1 onto the broadcast bias).</summary>
    void LinearForward(Tensor x, Tensor weight, Tensor bias, Tensor y)
    {
        OpChecks.LinearForward(x, weight, bias, y);
        BroadcastRows(bias, y, 1f);
        Gemm(false, true, x.Rows, weight.Rows, x.Cols, 1f, x, 0, x.Cols, 0, weight, 0, weight.Cols, 0, 1f, y, 0, weight.Rows, 0, 1);
    }

    /// <summary>pre = x·Wᵀ + bias, y = gelu(pre) (QuickGELU when <paramref name="quick"/>); y may be pre itself.</summary>
    void LinearGeluForward(Tensor x, Tensor weight, Tensor bias, bool quick, Tensor pre, Tensor y)
    {
        OpChecks.LinearGeluForward(x, weight, bias, pre, y, quick);
        Gemm(false, true, x.Rows, weight.Rows, x.Cols, 1f, x, 0, x.Cols, 0, weight, 0, weight.Cols, 0, 0f, pre, 0, weight.Rows, 0, 1);
        if (quick) BiasQuickGeluForward(pre, bias, pre, y);
        else BiasGeluForward(pre, bias, pre, y);
    }

    /// <summary>
    /// y = residual + (x·Wᵀ + bias), where the residual is <paramref name="residual"/>'s rows followed by those of
    /// <paramref name="below"/> when given (two residuals stacked without a copy, for a layer run once over two stacked
    /// inputs); y may not alias a residual.
    /// </summary>
    void LinearResidualForward(Tensor x, Tensor weight, Tensor bias, Tensor residual, Tensor? below, Tensor y)
    {
        OpChecks.LinearResidualForward(x, weight, bias, residual, below, y);
        Gemm(false, true, x.Rows, weight.Rows, x.Cols, 1f, x, 0, x.Cols, 0, weight, 0, weight.Cols, 0, 0f, y, 0, weight.Rows, 0, 1);
        if (below is null)
        {
            BiasResidualForward(y, bias, residual, y);
            return;
        }
        var flat = y.View(y.Rows, y.Cols);
        BiasResidualForward(flat.RowsView(0, residual.Rows), bias, residual, flat.RowsView(0, residual.Rows));
        BiasResidualForward(flat.RowsView(residual.Rows, below.Rows), bias, below, flat.RowsView(residual.Rows, below.Rows));
    }

    /// <summary>Per row: y = (x − mean)·rstd·gamma + beta; saves mean and rstd ([rows]) for the backward.</summary>
    void LayerNormForward(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor y, Tensor mean, Tensor rstd);

    /// <summary>dx only: LayerNorm weights are frozen CLIP weights and get no gradient.</summary>
    void LayerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx);

    /// <summary>Row softmax. causalSeqLen &gt; 0 masks, in row r, the columns c &gt; r mod causalSeqLen
    /// (rows are query positions of [.., T, T] score blocks).</summary>
    void SoftmaxForward(Tensor x, Tensor y, int causalSeqLen);
    void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx);

    /// <summary>
    /// Multi-head scaled dot-product attention on a packed qkv [batch·seq, 3·width] (q | k | v, heads of
    /// width/heads columns each). Writes out [batch·seq, width] and saves the probabilities
    /// probs [batch·heads·seq, seq] for the backward.
    /// </summary>
    void AttentionForward(Tensor qkv, int batch, int seq, int heads, bool causal, Tensor output, Tensor probs);

    /// <summary>Gradient of <see cref="AttentionForward"/> with respect to qkv (overwrites dqkv).</summary>
    void AttentionBackward(Tensor qkv, Tensor probs, Tensor dOutput, int batch, int seq, int heads, Tensor dqkv);

    /// <summary>
    /// Causal multi-head attention that never stores the [seq, seq] scores: writes out [batch·seq, width] and the
    /// log-sum-exp of each query row's scaled scores, lse [batch·heads·seq], all its backward needs besides out.
    /// </summary>
    void CausalAttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output, Tensor lse);

    /// <summary>Gradient of <see cref="CausalAttentionForward"/> with respect to qkv (overwrites dqkv), recomputing
    /// the probabilities from qkv and lse; deterministic (no atomics).</summary>
    void CausalAttentionBackward(Tensor qkv, Tensor output, Tensor lse, Tensor dOutput, int batch, int seq, int heads, Tensor dqkv);

    /// <summary>Whether causal attention of this shape should take <see cref="CausalAttentionForward"/> on this backend
    /// (the CPU keeps its cache-blocked <see cref="AttentionForward"/>; the GPU fuses within its kernels' limits).</summary>
    bool PrefersFusedCausalAttention(int seq, int headDim);

    /// <summary>CLIP Surgery V-V attention: softmax(v·vᵀ/√d)·v per head, v taken from the packed qkv.</summary>
    void VVAttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output);

    /// <summary>y = x / max(‖x‖, 1e-12) per row; saves the clamped norms [rows].</summary>
    void L2NormalizeForward(Tensor x, Tensor y, Tensor norms);
    void L2NormalizeBackward(Tensor y, Tensor norms, Tensor dy, Tensor dx);

    /// <summary>y[c] = scale · Σ_r x[r,c].</summary>
    void SumRows(Tensor x, Tensor y, float scale);

    /// <summary>y[r,c] = scale · x[c] (the backward of <see cref="SumRows"/>).</summary>
    void BroadcastRows(Tensor x, Tensor y, float scale);

    /// <summary>y[i] = x[indices[i]] (rows).</summary>
    void GatherRows(Tensor x, ReadOnlySpan<int> indices, Tensor y);

    /// <summary>y[indices[i]] += x[i] (rows; the backward of <see cref="GatherRows"/>).</summary>
    void ScatterAddRows(Tensor x, ReadOnlySpan<int> indices, Tensor y);

    /// <summary>
    /// y[r] = sourceForRow[r] ≥ 0 ? source[sourceForRow[r]] : baseRows[r]: learned vectors put into token embeddings in
    /// one pass (y may be baseRows itself).
    /// </summary>
    void SpliceRows(Tensor baseRows, Tensor source, ReadOnlySpan<int> sourceForRow, Tensor y);

    /// <summary>
    /// The backward of <see cref="SpliceRows"/>: dBase[r] = sourceForRow[r] ≥ 0 ? 0 : dy[r] (written) and
    /// dSource[sourceForRow[r]] += dy[r] (accumulated; zero it first); either output may be null.
    /// </summary>
    void SpliceRowsBackward(Tensor dy, ReadOnlySpan<int> sourceForRow, Tensor? dBase, Tensor? dSource);

    /// <summary>Per row: losses[r] = −log softmax(logits[r])[targets[r]]; saves probs [rows, classes].</summary>
    void SoftmaxCrossEntropyForward(Tensor logits, ReadOnlySpan<int> targets, Tensor losses, Tensor probs);

    /// <summary>dlogits[r] = dlosses[r]·(probs[r] − onehot(targets[r])).</summary>
    void SoftmaxCrossEntropyBackward(Tensor probs, ReadOnlySpan<int> targets, Tensor dLosses, Tensor dLogits);

    /// <summary>y[r] = ‖a[r] − b[r or 0]‖² (b has as many rows as a, or one row broadcast).</summary>
    void SquaredDistanceForward(Tensor a, Tensor b, Tensor y);

    /// <summary>da[r] = 2·dy[r]·(a[r] − b[r or 0]); the gradient to b is −da (summed when b broadcasts).</summary>
    void SquaredDistanceBackward(Tensor a, Tensor b, Tensor dy, Tensor da);

    /// <summary>
    /// Memory-bank nearest neighbour, forward only: y[q] = min over bank rows of (1 − cos(query[q], bank[j]))/2.
    /// Works through the bank in tiles so no query×bank distance matrix is ever held.
    /// </summary>
    void NearestNeighbourForward(Tensor query, Tensor bank, Tensor y);

    /// <summary>Bilinear resize (align_corners = false) of maps x [channels, h, w] to y [channels, outH, outW].</summary>
    void UpsampleBilinear(Tensor x, Tensor y);

    // Batched scoring (SPEC §6), forward only: a batch's patch similarities and maps stay on the backend.

    /// <summary>y[r] = scale·max_c x[r, c] + shift over the rows of x [rows, cols] (cols ≥ 1). With scale −½, shift ½ on
    /// cosine similarities of unit rows: the nearest-neighbour distance min (1 − cos)/2.</summary>
    void RowMax(Tensor x, Tensor y, float scale, float shift);

    /// <summary>
    /// PromptAD's patch fusion over r patches: pad = σ(logitScale·(sims[r,1] − sims[r,0])) (the softmax's anomaly
    /// probability), vad = (d1 + d2)·½, y[0..r) = 1/(1/pad + 1/vad) (fused), y[r..2r) = vad.
    /// </summary>
    void AnomalyFuse(Tensor sims, Tensor d1, Tensor d2, float logitScale, Tensor y);

    /// <summary>
    /// SciPy's gaussian_filter on each map of x [channels, h, w] into y (same shape): mode 'reflect', radius
    /// int(truncate·σ + 0.5), rows (axis 0) first rounded to float32, each output accumulated in double.
    /// </summary>
    void GaussianBlur(Tensor x, Tensor y, double sigma, double truncate);

    // The training clock (StepOps): per-step values live on the backend, so one captured step replays every epoch.

    /// <summary>
    /// torch.optim.SGD (dampening 0, no Nesterov) on one parameter with lr = learningRates[step[0]]: g = grad + wd·p
    /// (written back into gradient), buf = first ? g : momentum·buf + g, p = p − lr·buf; no fused multiply-adds.
    /// </summary>
    void SgdStep(Tensor parameter, Tensor gradient, Tensor momentumBuffer, Tensor learningRates, Tensor step,
        float momentum, float weightDecay, bool first);

    /// <summary>history[step[0]·stride + offset + i] = source[i]: a step's values into a per-step table.</summary>
    void WriteAtStep(Tensor source, Tensor history, Tensor step, int stride, int offset);

    /// <summary>step[0] += 1.</summary>
    void AdvanceStep(Tensor step);

    /// <summary>
    /// Captures <paramref name="step"/> (without running it) for replays: a device graph where the backend has them,
    /// else the code run again on each replay. The step must allocate only what it frees again or keeps, and read no
    /// value back to the host.
    /// </summary>
    ICapturedStep CaptureStep(Action step);
}
