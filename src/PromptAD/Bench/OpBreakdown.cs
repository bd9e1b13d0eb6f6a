using System.Diagnostics;
using PromptAD.Tensors;

namespace PromptAD.Bench;

/// <summary>
/// A trace sink that charges wall time to op kinds: each moment goes to the innermost open range (exclusive time),
/// so a fused linear layer whose epilogue runs as a pass of its own (GPU) counts its GEMM as GEMM and the pass as GELU or
/// residual, while the CPU's epilogues run inside the GEMM's tiles and count as GEMM. Ranges inside
/// <see cref="VVPath"/> count as the V-V path whatever they are. FLOPs reported by the ops (<see cref="Trace.Flops"/>)
/// go with the time, for an effective GFLOP/s per kind. Time outside every range (allocation, scope disposal,
/// dispatch) is what the caller's total leaves over. Only the thread that created the sink is timed (the sink is
/// process-wide; ops of other threads, e.g. a concurrent request, are ignored).
/// </summary>
public sealed class OpBreakdown : ITraceSink, IWorkSink
{
    /// <summary>The range name around the V-V path's work in a dual block.</summary>
    public const string VVPath = "vv_path";

    /// <summary>The kinds in report order.</summary>
    public static readonly string[] Kinds =
    [
        "GEMMs (linear layers)", "attention", "V-V path (attention, out_proj, residual)", "LayerNorm",
        "GELU (bias + activation)", "residuals (bias + add)", "bias broadcast", "copies and gathers",
        "preprocessing", "other ops",
    ];

    private readonly Stack<(string Kind, long Start, bool VV)> _open = new();
    private readonly Dictionary<string, long> _ticks = [];
    private readonly Dictionary<string, double> _flops = [];
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private int _vvDepth;

    public void Push(string name)
    {
        if (Environment.CurrentManagedThreadId != _thread) return;
        long now = Stopwatch.GetTimestamp();
        Charge(now);
        bool vv = name == VVPath;
        if (vv) _vvDepth++;
        _open.Push((_vvDepth > 0 ? Kinds[2] : KindOf(name), now, vv));
    }

    public void Pop()
    {
        if (Environment.CurrentManagedThreadId != _thread) return;
        long now = Stopwatch.GetTimestamp();
        Charge(now);
        if (_open.Pop().VV) _vvDepth--;
        // The enclosing range resumes now (its time while the inner one was open went to the inner one).
        if (_open.Count > 0)
        {
            var (kind, _, vv) = _open.Pop();
            _open.Push((kind, now, vv));
        }
    }

    public void AddFlops(double flops)
    {
        if (Environment.CurrentManagedThreadId != _thread || _open.Count == 0) return;
        string kind = _open.Peek().Kind;
        _flops[kind] = _flops.GetValueOrDefault(kind) + flops;
    }

    /// <summary>Seconds charged to <paramref name="kind"/>.</summary>
    public double Seconds(string kind) => _ticks.GetValueOrDefault(kind) / (double)Stopwatch.Frequency;

    /// <summary>FLOPs reported inside <paramref name="kind"/> (0 for kinds that do not count theirs).</summary>
    public double Flops(string kind) => _flops.GetValueOrDefault(kind);

    // Gives the time since the innermost range's last mark to that range.
    private void Charge(long now)
    {
        if (_open.Count == 0) return;
        var (kind, start, vv) = _open.Pop();
        _ticks[kind] = _ticks.GetValueOrDefault(kind) + (now - start);
        _open.Push((kind, now, vv));
    }

    internal static string KindOf(string op) => op switch
    {
        "gemm" => Kinds[0],
        "attention" or "causal_attention" => Kinds[1],
        "vv_attention" => Kinds[2],
        "layernorm" => Kinds[3],
        "linear_gelu" or "linear_quickgelu" or "gelu" or "quickgelu" => Kinds[4],
        "linear_residual" or "add" => Kinds[5],
        "linear" => Kinds[6],
        "gather_rows" or "concat_rows" or "splice_rows" or "patch_flatten" => Kinds[7],
        "preprocess" => Kinds[8],
        _ => Kinds[9],
    };
}
