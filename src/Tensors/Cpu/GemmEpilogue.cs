namespace PromptAD.Tensors.Cpu;

/// <summary>
/// What <see cref="CpuGemm"/> does to each tile of C once the tile's last k block is accumulated, while the tile is
/// still in L1: a linear layer's bias and activation (C becomes the pre-activation, the output its activation) or its
/// bias and the residual add that follows it. Per element the arithmetic is that of the separate passes
/// (<see cref="CpuBackend.BiasGeluForward"/>, <see cref="CpuBackend.BiasResidualForward"/>): c + bias, then the same
/// vector activation; residual + (c + bias). So fusing changes no result, only the passes over memory: the separate
/// epilogue read and wrote the whole output again after the GEMM had left it in memory. A plain linear layer's bias is
/// the other way round, a prologue (<see cref="Kind.BiasFirst"/>): written into each tile just before its first k block,
/// which then accumulates onto it, as the GEMM did onto a bias broadcast over the whole output beforehand.
/// </summary>
internal readonly unsafe struct GemmEpilogue
{
    public enum Kind { None, BiasGelu, BiasQuickGelu, BiasResidual, BiasFirst }

    private readonly Kind _kind;
    private readonly float* _bias;      // [n]
    private readonly float* _output;    // activation or residual-add output, row stride _ldo (may be C itself)
    private readonly int _ldo;
    private readonly float* _residual;  // rows [0, _split) of the residual, row stride _ldo
    private readonly float* _below;     // rows [_split, m): a second residual stacked below the first without a copy
    private readonly int _split;
    private readonly int _row0, _col0;  // where the C block a worker sees starts in the whole product

    private GemmEpilogue(Kind kind, float* bias, float* output, int ldo, float* residual, float* below, int split, int row0, int col0)
    {
        _kind = kind;
        _bias = bias;
        _output = output;
        _ldo = ldo;
        _residual = residual;
        _below = below;
        _split = split;
        _row0 = row0;
        _col0 = col0;
    }

    public static GemmEpilogue None => default;

    /// <summary>Whether it runs on each finished tile (false for none and for the bias prologue).</summary>
    public bool IsActive => _kind is not (Kind.None or Kind.BiasFirst);

    /// <summary>Whether each tile starts as the bias (<see cref="Seed"/>) and its first k block accumulates onto it.</summary>
    public bool SeedsBias => _kind == Kind.BiasFirst;

    /// <summary>C = bias (each row) + the product: the bias seeded per tile, then every k block accumulated onto it.</summary>
    public static GemmEpilogue BiasFirst(float* bias) => new(Kind.BiasFirst, bias, null, 0, null, null, 0, 0, 0);

    /// <summary>c += bias (the pre-activation, in place), output = act(c); output may be C itself.</summary>
    public static GemmEpilogue BiasActivation(bool quick, float* bias, float* output, int ldo) =>
        new(quick ? Kind.BiasQuickGelu : Kind.BiasGelu, bias, output, ldo, null, null, 0, 0, 0);

    /// <summary>
    /// output = residual + (c + bias), where row r's residual is <paramref name="residual"/>'s row r for r &lt;
    /// <paramref name="split"/> and <paramref name="below"/>'s row r − split after (both with the output's row stride);
    /// output may be C or a residual.
    /// </summary>
    public static GemmEpilogue BiasResidual(float* bias, float* residual, float* below, int split, float* output, int ldo) =>
        new(Kind.BiasResidual, bias, output, ldo, residual, below, split, 0, 0);

    /// <summary>The same epilogue for the block of C that starts at (<paramref name="row"/>, <paramref name="col"/>).</summary>
    public GemmEpilogue At(int row, int col) =>
        new(_kind, _bias, _output, _ldo, _residual, _below, _split, _row0 + row, _col0 + col);

    /// <summary>Writes the bias into each row of the tile at (row, col) of this block (before its first k block).</summary>
    public void Seed(int col, int rows, int cols, float* c, int ldc)
    {
        var bias = new ReadOnlySpan<float>(_bias + _col0 + col, cols);
        for (int i = 0; i < rows; i++) bias.CopyTo(new Span<float>(c + (long)i * ldc, cols));
    }

    /// <summary>Applies the epilogue to the finished tile at (row, col) of this block, <paramref name="c"/> its first element.</summary>
    public void Apply(int row, int col, int rows, int cols, float* c, int ldc)
    {
        int j = _col0 + col;
        float* bias = _bias + j;
        for (int i = 0; i < rows; i++)
        {
            float* ci = c + (long)i * ldc;
            long g = _row0 + row + i;
            float* y = _output + g * _ldo + j;
            switch (_kind)
            {
                case Kind.BiasResidual:
                    float* r = g < _split ? _residual + g * _ldo + j : _below + (g - _split) * _ldo + j;
                    Simd.AddSum(r, ci, bias, y, cols);
                    break;
                case Kind.BiasGelu:
                    Simd.Axpby(1f, ci, 1f, bias, ci, cols);
                    ActivationLoops.Forward<GeluActivation>(ci, y, cols);
                    break;
                case Kind.BiasQuickGelu:
                    Simd.Axpby(1f, ci, 1f, bias, ci, cols);
                    ActivationLoops.Forward<QuickGeluActivation>(ci, y, cols);
                    break;
            }
        }
    }
}
