namespace PromptAD.Tensors;

// Losses and the forward-only scoring ops.
public static partial class Ops
{
    /// <summary>Mean over rows of −log softmax(logits[r])[targets[r]], as a scalar.</summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, int[] targets)
    {
        using var trace = Trace.Scope("softmax_crossentropy");
        var be = logits.Backend;
        int rows = logits.Rows;
        var losses = Tensor.Empty(be, rows);
        var probs = Like(logits);
        be.SoftmaxCrossEntropyForward(logits, targets, losses, probs);
        var loss = Tensor.Empty(be);
        using (var column = losses.View(rows, 1)) be.SumRows(column, loss, 1f / rows);
        losses.Dispose();
        if (!logits.RequiresGrad)
        {
            probs.Dispose();
            return loss;
        }
        return Track(loss, "softmax_crossentropy", [logits], (dLoss, sink) =>
        {
            using var dLosses = Tensor.Empty(be, rows);
            using (var column = dLosses.View(rows, 1)) be.BroadcastRows(dLoss, column, 1f / rows);
            var dLogits = Like(logits);
            be.SoftmaxCrossEntropyBackward(probs, targets, dLosses, dLogits);
            sink.Add(logits, dLogits);
        });
    }

    /// <summary>For each query row, min over the bank of (1 − cos)/2. Forward only.</summary>
    public static Tensor NearestNeighbour(Tensor query, Tensor bank)
    {
        using var trace = Trace.Scope("nearest_neighbour");
        NoGrad("nearest_neighbour", query, bank);
        var y = Tensor.Empty(SameBackend("nearest_neighbour", query, bank), query.Rows);
        query.Backend.NearestNeighbourForward(query, bank, y);
        return y;
    }

    /// <summary>Bilinear resize (align_corners = false) of [channels, h, w] maps. Forward only.</summary>
    public static Tensor UpsampleBilinear(Tensor x, int height, int width)
    {
        using var trace = Trace.Scope("upsample_bilinear");
        NoGrad("upsample_bilinear", x);
        var y = Tensor.Empty(x.Backend, x.Dim(0), height, width);
        x.Backend.UpsampleBilinear(x, y);
        return y;
    }
}
