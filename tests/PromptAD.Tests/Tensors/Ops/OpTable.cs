using PromptAD.Tensors;
using R = PromptAD.Tests.Ops.ScalarReference;
using O = PromptAD.Tensors.Ops;

namespace PromptAD.Tests.Ops;

/// <summary>
/// The op table: every op of the engine at several shapes — odd sizes, single rows, widths that are not a
/// multiple of the SIMD width — each with a scalar reference. Every backend runs this same table.
/// Set PROMPTAD_OPS=name1,name2 to run only cases whose name contains one of the given strings.
/// </summary>
public static class OpTable
{
    public static IReadOnlyList<OpCase> All { get; } = Build();

    public static IEnumerable<string> Names(bool backwardOnly)
    {
        var filter = Environment.GetEnvironmentVariable("PROMPTAD_OPS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return All.Where(c => !backwardOnly || c.HasBackward)
            .Where(c => filter is null || filter.Length == 0 || filter.Any(f => c.Name.Contains(f, StringComparison.OrdinalIgnoreCase)))
            .Select(c => c.Name);
    }

    public static OpCase Get(string name) => All.Single(c => c.Name == name);

    private static OpInput In(params int[] shape) => new(shape);
    private static OpInput Frozen(params int[] shape) => new(shape, Grad: false);

    private static List<OpCase> Build()
    {
        var cases = new List<OpCase>();

        foreach (var (m, n, k) in new[] { (1, 1, 1), (3, 5, 7), (17, 33, 20), (1, 70, 129), (65, 18, 3) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    cases.Add(new("matmul", $"{m}x{k}x{n}{(ta ? "_tA" : "")}{(tb ? "_tB" : "")}",
                        [In(ta ? [k, m] : [m, k]), In(tb ? [n, k] : [k, n])],
                        t => O.MatMul(t[0], t[1], ta, tb),
                        x => R.matmul(x[0], x[1], m, n, k, ta, tb)));

        foreach (var (rows, inF, outF) in new[] { (1, 8, 5), (7, 33, 17), (10, 64, 48) })
        {
            cases.Add(new("linear", $"{rows}x{inF}->{outF}", [In(rows, inF), Frozen(outF, inF), Frozen(outF)],
                t => O.Linear(t[0], t[1], t[2]), x => R.linear(x[0], x[1], x[2], rows, inF, outF)));
            cases.Add(new("linear", $"{rows}x{inF}->{outF}_allgrads", [In(rows, inF), In(outF, inF), In(outF)],
                t => O.Linear(t[0], t[1], t[2]), x => R.linear(x[0], x[1], x[2], rows, inF, outF)));
        }
        cases.Add(new("linear", "3d_nobias", [In(2, 3, 9), Frozen(4, 9)],
            t => O.Linear(t[0], t[1]), x => R.linear(x[0], x[1], null, 6, 9, 4)));

        foreach (var shape in new[] { new[] { 1 }, new[] { 7, 3 }, new[] { 5, 37 } , new[] { 2, 3, 33 } })
        {
            string v = string.Join("x", shape);
            cases.Add(new("add", v, [In(shape), In(shape)], t => O.Add(t[0], t[1]), x => x[0].Zip(x[1], (a, b) => a + b).ToArray()));
            cases.Add(new("sub", v, [In(shape), In(shape)], t => O.Sub(t[0], t[1]), x => x[0].Zip(x[1], (a, b) => a - b).ToArray()));
            cases.Add(new("scale", v, [In(shape)], t => O.Scale(t[0], -0.37f), x => R.map(x[0], a => -0.37 * a)));
            cases.Add(new("gelu", v, [new(shape, Scale: 3)], t => O.Gelu(t[0]), x => R.map(x[0], R.gelu), ForwardTolerance: 5e-6));
            cases.Add(new("quickgelu", v, [new(shape, Scale: 3)], t => O.QuickGelu(t[0]), x => R.map(x[0], R.quickgelu)));
            cases.Add(new("relu", v, [In(shape)], t => O.Relu(t[0]), x => R.map(x[0], R.relu)));
        }
        foreach (var (rows, cols) in new[] { (1, 1), (4, 17), (9, 64), (3, 130) })
        {
            cases.Add(new("add_bias", $"{rows}x{cols}", [In(rows, cols), In(cols)], t => O.AddBias(t[0], t[1]), x => R.add_bias(x[0], x[1], rows, cols)));
            cases.Add(new("layernorm", $"{rows}x{cols}", [new([rows, cols], Scale: 2, Offset: 0.5), Frozen(cols), Frozen(cols)],
                t => O.LayerNorm(t[0], t[1], t[2]), x => R.layernorm_forward(x[0], x[1], x[2], rows, cols, 1e-5), ForwardTolerance: 5e-5));
            cases.Add(new("softmax", $"{rows}x{cols}", [new([rows, cols], Scale: 3)], t => O.Softmax(t[0]), x => R.softmax_forward(x[0], rows, cols, 0)));
            cases.Add(new("l2normalize", $"{rows}x{cols}", [In(rows, cols)], t => O.L2Normalize(t[0]), x => R.l2normalize_forward(x[0], rows, cols)));
            cases.Add(new("sum_rows", $"{rows}x{cols}", [In(rows, cols)], t => O.SumRows(t[0]), x => R.sum_rows(x[0], rows, cols, 1)));
            cases.Add(new("mean_rows", $"{rows}x{cols}", [In(rows, cols)], t => O.MeanRows(t[0]), x => R.sum_rows(x[0], rows, cols, 1.0 / rows)));
            cases.Add(new("mean", $"{rows}x{cols}", [In(rows, cols)], t => O.Mean(t[0]), x => [x[0].Average()]));
            cases.Add(new("squared_distance", $"{rows}x{cols}", [In(rows, cols), In(rows, cols)], t => O.SquaredDistance(t[0], t[1]),
                x => R.squared_distance_forward(x[0], x[1], rows, cols, false)));
            cases.Add(new("squared_distance", $"{rows}x{cols}_broadcast", [In(rows, cols), In(cols)], t => O.SquaredDistance(t[0], t[1]),
                x => R.squared_distance_forward(x[0], x[1], rows, cols, rows != 1)));
        }
        foreach (var (blocks, t) in new[] { (1, 1), (2, 5), (3, 17) })
            cases.Add(new("softmax", $"causal_{blocks}x{t}", [new([blocks * t, t], Scale: 3)], x => O.Softmax(x[0], t),
                x => R.softmax_forward(x[0], blocks * t, t, t)));

        foreach (var (batch, seq, heads, width) in new[] { (1, 1, 1, 4), (2, 5, 2, 8), (1, 9, 3, 24), (3, 7, 1, 16) })
        {
            string v = $"b{batch}_t{seq}_h{heads}_w{width}";
            cases.Add(new("attention", v, [In(batch * seq, 3 * width)], x => O.Attention(x[0], batch, seq, heads, false),
                x => R.attention_forward(x[0], batch, seq, heads, width, false, false)));
            cases.Add(new("attention", v + "_causal", [In(batch * seq, 3 * width)], x => O.Attention(x[0], batch, seq, heads, true),
                x => R.attention_forward(x[0], batch, seq, heads, width, true, false)));
            cases.Add(new("vv_attention", v, [Frozen(batch * seq, 3 * width)], x => O.VVAttention(x[0], batch, seq, heads),
                x => R.attention_forward(x[0], batch, seq, heads, width, false, true)));
            cases.Add(new("dual_attention", v, [Frozen(batch * seq, 3 * width)], x => O.DualAttention(x[0], batch, seq, heads),
                x => [.. R.attention_forward(x[0], batch, seq, heads, width, false, true), .. R.attention_forward(x[0], batch, seq, heads, width, false, false)]));
        }

        AddFusedCases(cases);

        foreach (var (m, n, d) in new[] { (1, 1, 3), (4, 6, 17), (7, 3, 64) })
            cases.Add(new("cosine_similarity", $"{m}x{n}x{d}", [In(m, d), In(n, d)], t => O.CosineSimilarity(t[0], t[1]),
                x => R.cosine_similarity(x[0], x[1], m, n, d)));

        cases.Add(new("gather_rows", "repeats", [In(6, 5)], t => O.GatherRows(t[0], [5, 0, 2, 2]), x => R.gather_rows(x[0], 5, [5, 0, 2, 2])));
        // Row 3 gathered 8 times: its gradient is a sum of 8 rows, whose order would show in the last bits (schedule test).
        cases.Add(new("gather_rows", "many_repeats", [In(4, 7)], t => O.GatherRows(t[0], [3, 1, 3, 3, 0, 3, 3, 3, 1, 3, 3]),
            x => R.gather_rows(x[0], 7, [3, 1, 3, 3, 0, 3, 3, 3, 1, 3, 3])));
        cases.Add(new("gather_rows", "one", [In(1, 19)], t => O.GatherRows(t[0], [0]), x => R.gather_rows(x[0], 19, [0])));
        cases.Add(new("splice_rows", "prompt", [In(2, 9, 6), In(3, 6)], t => O.SpliceRows(t[0], t[1], [1, 2, 11]),
            x => R.splice_rows(x[0], x[1], 6, [1, 2, 11])));
        cases.Add(new("splice_rows", "frozen_base", [Frozen(7, 33), In(2, 33)], t => O.SpliceRows(t[0], t[1], [6, 0]),
            x => R.splice_rows(x[0], x[1], 33, [6, 0])));
        cases.Add(new("concat_rows", "three", [In(2, 5), In(1, 5), In(4, 5)], t => O.ConcatRows(t[0], t[1], t[2]),
            x => [.. x[0], .. x[1], .. x[2]]));
        cases.Add(new("concat_rows", "3d_mixed_grad", [In(1, 2, 3), Frozen(2, 2, 3)], t => O.ConcatRows(t[0], t[1]),
            x => [.. x[0], .. x[1]]));
        cases.Add(new("slice_rows", "middle", [In(6, 7)], t => O.SliceRows(t[0], 2, 3), x => x[0][14..35]));
        cases.Add(new("reshape", "2d_to_3d", [In(6, 4)], t => O.Reshape(t[0], 2, 3, 4), x => x[0]));

        int[] targets5 = [0, 2, 4, 1, 0];
        cases.Add(new("softmax_crossentropy", "5x4", [new([5, 4], Scale: 2)], t => O.SoftmaxCrossEntropy(t[0], [0, 2, 3, 1, 0]),
            x => R.softmax_crossentropy_forward(x[0], 5, 4, [0, 2, 3, 1, 0])));
        cases.Add(new("softmax_crossentropy", "1x1", [In(1, 1)], t => O.SoftmaxCrossEntropy(t[0], [0]), x => R.softmax_crossentropy_forward(x[0], 1, 1, [0])));
        cases.Add(new("softmax_crossentropy", "5x37", [new([5, 37], Scale: 4)], t => O.SoftmaxCrossEntropy(t[0], targets5),
            x => R.softmax_crossentropy_forward(x[0], 5, 37, targets5)));

        foreach (var (nq, nb, d) in new[] { (1, 1, 4), (5, 9, 17), (13, 2500, 33) })
            cases.Add(new("nearest_neighbour", $"{nq}q_{nb}bank_{d}d", [Frozen(nq, d), Frozen(nb, d)], t => O.NearestNeighbour(t[0], t[1]),
                x => R.nearest_neighbour_forward(x[0], x[1], nq, nb, d)));

        foreach (var (c, ih, iw, oh, ow) in new[] { (1, 1, 1, 3, 2), (2, 3, 5, 7, 4), (1, 15, 15, 40, 40), (1, 4, 4, 2, 3) })
            cases.Add(new("upsample_bilinear", $"{c}x{ih}x{iw}->{oh}x{ow}", [Frozen(c, ih, iw)], t => O.UpsampleBilinear(t[0], oh, ow),
                x => R.upsample_bilinear(x[0], c, ih, iw, oh, ow)));

        AddScoringCases(cases);
        return cases;
    }

    /// <summary>
    /// The fused ops of the transformer block: a linear layer with its activation or residual add, and causal attention
    /// without stored scores (seq 1 up to the text tower's 77, past a 32-key tile and a 16-row block; heads 1–3; head
    /// dims 4 to 64). Backward cases are sized so the finite differences stay quick; the widest run forward only (their
    /// gradients are compared with the unfused op in FusedOpTests).
    /// </summary>
    private static void AddFusedCases(List<OpCase> cases)
    {
        foreach (var (rows, inF, outF) in new[] { (1, 8, 5), (7, 33, 17), (10, 64, 48) })
        {
            string v = $"{rows}x{inF}->{outF}";
            foreach (bool quick in new[] { false, true })
            {
                string op = quick ? "linear_quickgelu" : "linear_gelu";
                Func<double, double> act = quick ? R.quickgelu : R.gelu;
                cases.Add(new(op, v, [In(rows, inF), Frozen(outF, inF), Frozen(outF)],
                    t => O.LinearGelu(t[0], t[1], t[2], quick), x => R.map(R.linear(x[0], x[1], x[2], rows, inF, outF), act)));
                cases.Add(new(op, v + "_allgrads", [In(rows, inF), In(outF, inF), In(outF)],
                    t => O.LinearGelu(t[0], t[1], t[2], quick), x => R.map(R.linear(x[0], x[1], x[2], rows, inF, outF), act)));
            }
            cases.Add(new("linear_residual", v, [In(rows, inF), Frozen(outF, inF), Frozen(outF), In(rows, outF)],
                t => O.LinearResidual(t[0], t[1], t[2], t[3]), x => R.linear(x[0], x[1], x[2], rows, inF, outF).Zip(x[3], (a, b) => a + b).ToArray()));
            cases.Add(new("linear_residual", v + "_allgrads", [In(rows, inF), In(outF, inF), In(outF), In(rows, outF)],
                t => O.LinearResidual(t[0], t[1], t[2], t[3]), x => R.linear(x[0], x[1], x[2], rows, inF, outF).Zip(x[3], (a, b) => a + b).ToArray()));
        }
        // Inner sizes past one k block of the CPU GEMM (256) with tail tiles in both directions: the per-tile epilogue
        // must wait for the last k block and find its bias and residual columns in every tile.
        foreach (var (rows, inF, outF) in new[] { (37, 600, 70), (9, 1030, 33) })
        {
            string v = $"{rows}x{inF}->{outF}";
            cases.Add(new("linear", v, [Frozen(rows, inF), Frozen(outF, inF), Frozen(outF)],
                t => O.Linear(t[0], t[1], t[2]), x => R.linear(x[0], x[1], x[2], rows, inF, outF)));
            cases.Add(new("linear_gelu", v, [Frozen(rows, inF), Frozen(outF, inF), Frozen(outF)],
                t => O.LinearGelu(t[0], t[1], t[2]), x => R.map(R.linear(x[0], x[1], x[2], rows, inF, outF), R.gelu)));
            cases.Add(new("linear_residual", v, [Frozen(rows, inF), Frozen(outF, inF), Frozen(outF), Frozen(rows, outF)],
                t => O.LinearResidual(t[0], t[1], t[2], t[3]), x => R.linear(x[0], x[1], x[2], rows, inF, outF).Zip(x[3], (a, b) => a + b).ToArray()));
        }
        foreach (var (top, below, inF, outF) in new[] { (1, 1, 8, 5), (17, 17, 40, 24), (30, 7, 300, 41) })
        {
            int rows = top + below;
            cases.Add(new("linear_residual_stacked", $"{top}+{below}x{inF}->{outF}",
                [Frozen(rows, inF), Frozen(outF, inF), Frozen(outF), Frozen(top, outF), Frozen(below, outF)],
                t => O.LinearResidualStacked(t[0], t[1], t[2], t[3], t[4]),
                x => R.linear(x[0], x[1], x[2], rows, inF, outF).Zip(x[3].Concat(x[4]), (a, b) => a + b).ToArray()));
        }
        cases.Add(new("linear_residual", "3d", [In(2, 3, 9), Frozen(4, 9), Frozen(4), In(2, 3, 4)],
            t => O.LinearResidual(t[0], t[1], t[2], t[3]), x => R.linear(x[0], x[1], x[2], 6, 9, 4).Zip(x[3], (a, b) => a + b).ToArray()));

        foreach (var (batch, seq, heads, width, grad) in new[]
        {
            (1, 1, 1, 4, true), (2, 5, 2, 8, true), (1, 5, 1, 64, true), (1, 17, 3, 48, true), (1, 40, 1, 8, true),
            (1, 77, 2, 8, true), (2, 77, 2, 128, false), (1, 77, 3, 96, false), (3, 33, 1, 20, false),
        })
        {
            OpInput qkv = new([batch * seq, 3 * width], Grad: grad);
            cases.Add(new("causal_attention", $"b{batch}_t{seq}_h{heads}_d{width / heads}", [qkv],
                x => O.CausalAttention(x[0], batch, seq, heads), x => R.attention_forward(x[0], batch, seq, heads, width, true, false)));
        }
    }

    /// <summary>The batched scoring ops (row max of a similarity GEMM, patch fusion, SciPy's Gaussian blur).</summary>
    private static void AddScoringCases(List<OpCase> cases)
    {
        foreach (var (rows, cols, scale, shift) in new[] { (1, 1, 1f, 0f), (5, 17, -0.5f, 0.5f), (13, 1000, -0.5f, 0.5f), (3, 4099, 2f, -1f) })
            cases.Add(new("row_max", $"{rows}x{cols}_{scale}_{shift}", [Frozen(rows, cols)], t => O.RowMax(t[0], scale, shift),
                x => ScoringReference.row_max(x[0], rows, cols, scale, shift)));
        foreach (var (nq, nb, d) in new[] { (1, 1, 4), (7, 30, 17) })
            cases.Add(new("nearest_distance", $"{nq}q_{nb}bank_{d}d", [Frozen(nq, d), Frozen(nb, d)],
                t => O.NearestDistance(O.L2Normalize(t[0]), O.L2Normalize(t[1])), x => R.nearest_neighbour_forward(x[0], x[1], nq, nb, d)));
        foreach (int r in new[] { 1, 9, 450 })
            cases.Add(new("anomaly_fuse", $"{r}", [new([r, 2], Grad: false, Scale: 0.3), new([r], Grad: false, Scale: 0.05, Offset: 0.4),
                new([r], Grad: false, Scale: 0.05, Offset: 0.3)], t => O.AnomalyFuse(t[0], t[1], t[2], 4.6f),
                x => ScoringReference.anomaly_fuse(x[0], x[1], x[2], r, 4.6f)));
        foreach (var (c, h, w, sigma) in new[] { (1, 1, 1, 4.0), (2, 7, 5, 1.5), (3, 40, 33, 4.0), (1, 5, 6, 4.0) })
            cases.Add(new("gaussian_blur", $"{c}x{h}x{w}_s{sigma}", [Frozen(c, h, w)], t => O.GaussianBlur(t[0], sigma),
                x => ScoringReference.gaussian_blur(x[0], c, h, w, sigma, 4.0)));
    }
}
