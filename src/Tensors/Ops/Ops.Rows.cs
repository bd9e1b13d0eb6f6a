namespace PromptAD.Tensors;

// Row selection, splicing, concatenation, reshaping and reductions.
public static partial class Ops
{
    /// <summary>Rows [start, start+count) of the first dimension (a view; its gradient lands in that range).</summary>
    public static Tensor SliceRows(Tensor x, int start, int count)
    {
        var y = x.RowsView(start, count);
        return Track(y, "slice_rows", [x], (dy, sink) =>
        {
            var dx = Tensor.Zeros(x.Backend, x.Shape.ToArray());
            using (var range = dx.RowsView(start, count)) x.Backend.Copy(dy, range);
            sink.Add(x, dx);
        });
    }

    /// <summary>The same elements under another shape (a view).</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var y = x.View(shape);
        return Track(y, "reshape", [x], (dy, sink) =>
        {
            var dx = Like(x);
            x.Backend.Copy(dy, dx);
            sink.Add(x, dx);
        });
    }

    /// <summary>Rows of x picked by index (end-token pooling): [indices.Length, cols].</summary>
    public static Tensor GatherRows(Tensor x, int[] indices)
    {
        using var trace = Trace.Scope("gather_rows");
        var be = x.Backend;
        var y = Tensor.Empty(be, indices.Length, x.Cols);
        be.GatherRows(x, indices, y);
        return Track(y, "gather_rows", [x], (dy, sink) =>
        {
            var dx = Tensor.Zeros(be, x.Shape.ToArray());
            be.ScatterAddRows(dy, indices, dx);
            sink.Add(x, dx);
        });
    }

    /// <summary>
    /// A copy of <paramref name="baseRows"/> whose rows at <paramref name="positions"/> are replaced by the rows
    /// of <paramref name="source"/> — how learned prompt vectors are put into a prompt's token embeddings.
    /// </summary>
    public static Tensor SpliceRows(Tensor baseRows, Tensor source, int[] positions)
    {
        using var trace = Trace.Scope("splice_rows");
        var be = SameBackend("splice_rows", baseRows, source);
        if (source.Cols != baseRows.Cols || source.Rows != positions.Length)
            throw new ArgumentException($"splice_rows: {positions.Length} positions need source [{positions.Length}, {baseRows.Cols}], got {Shape.Format(source.Shape)}");
        Require.Indices(positions, baseRows.Rows, "splice_rows");
        if (positions.Distinct().Count() != positions.Length) throw new ArgumentException("splice_rows: a position appears twice");
        var sourceForRow = new int[baseRows.Rows];
        Array.Fill(sourceForRow, -1);
        for (int i = 0; i < positions.Length; i++) sourceForRow[positions[i]] = i;
        var y = Like(baseRows);
        using (var src = source.View(positions.Length, source.Cols))
        using (var baseMatrix = baseRows.View(baseRows.Rows, baseRows.Cols))
        using (var rows = y.View(y.Rows, y.Cols))
            be.SpliceRows(baseMatrix, src, sourceForRow, rows);
        return Track(y, "splice_rows", [baseRows, source], (dy, sink) =>
        {
            var ds = sink.Wants(source) ? Tensor.Zeros(be, source.Shape.ToArray()) : null;
            var db = sink.Wants(baseRows) ? Like(baseRows) : null;
            using (var dym = dy.View(dy.Rows, dy.Cols))
            using (var dsm = ds?.View(positions.Length, source.Cols))
            using (var dbm = db?.View(db.Rows, db.Cols))
                be.SpliceRowsBackward(dym, sourceForRow, dbm, dsm);
            if (ds is not null) sink.Add(source, ds);
            if (db is not null) sink.Add(baseRows, db);
        });
    }

    /// <summary>Concatenation along the first dimension; trailing dimensions must agree.</summary>
    public static Tensor ConcatRows(params Tensor[] parts)
    {
        using var trace = Trace.Scope("concat_rows");
        if (parts.Length == 0) throw new ArgumentException("concat_rows: nothing to concatenate");
        var be = SameBackend("concat_rows", parts);
        var tail = parts[0].Rank == 0 ? [] : parts[0].Shape[1..].ToArray();
        int total = 0;
        foreach (var p in parts)
        {
            if (p.Rank == 0 || !Shape.Equal(p.Shape[1..], tail))
                throw new ArgumentException($"concat_rows: {Shape.Format(p.Shape)} does not match trailing dimensions {Shape.Format(tail)}");
            total += p.Dim(0);
        }
        var y = Tensor.Empty(be, [total, .. tail]);
        int at = 0;
        foreach (var p in parts)
        {
            using (var dst = y.RowsView(at, p.Dim(0))) be.Copy(p, dst);
            at += p.Dim(0);
        }
        return Track(y, "concat_rows", parts, (dy, sink) =>
        {
            int offset = 0;
            foreach (var p in parts)
            {
                if (sink.Wants(p))
                {
                    var dp = Like(p);
                    using (var src = dy.RowsView(offset, p.Dim(0))) be.Copy(src, dp);
                    sink.Add(p, dp);
                }
                offset += p.Dim(0);
            }
        });
    }

    /// <summary>Sum over rows: [rows, cols] → [cols].</summary>
    public static Tensor SumRows(Tensor x) => ReduceRows(x, 1f, "sum_rows");

    /// <summary>Mean over rows: [rows, cols] → [cols].</summary>
    public static Tensor MeanRows(Tensor x) => ReduceRows(x, 1f / Math.Max(1, x.Rows), "mean_rows");

    private static Tensor ReduceRows(Tensor x, float scale, string op)
    {
        using var trace = Trace.Scope(op);
        var be = x.Backend;
        var y = Tensor.Empty(be, x.Cols);
        be.SumRows(x, y, scale);
        return Track(y, op, [x], (dy, sink) =>
        {
            var dx = Like(x);
            be.BroadcastRows(dy, dx, scale);
            sink.Add(x, dx);
        });
    }

    /// <summary>Mean of all elements, as a scalar (shape []).</summary>
    public static Tensor Mean(Tensor x)
    {
        using var trace = Trace.Scope("mean");
        var be = x.Backend;
        float scale = 1f / Math.Max(1, x.Length);
        var y = Tensor.Empty(be);
        using (var column = x.View(checked((int)x.Length), 1)) be.SumRows(column, y, scale);
        return Track(y, "mean", [x], (dy, sink) =>
        {
            var dx = Like(x);
            using (var column = dx.View(checked((int)x.Length), 1)) be.BroadcastRows(dy, column, scale);
            sink.Add(x, dx);
        });
    }
}
