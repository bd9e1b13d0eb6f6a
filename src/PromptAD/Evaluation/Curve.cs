namespace PromptAD.Evaluation;

/// <summary>One point of a metric's curve: x and y as fractions (e.g. FPR and TPR).</summary>
public readonly record struct CurvePoint(double X, double Y);

/// <summary>
/// Collects the points a metric's sweep visits, thinned for drawing only: a point is kept when it lies at least
/// <see cref="Step"/> away (in x or y) from the last one kept; the first and the last point offered are always kept.
/// Millions of pixel thresholds become at most a few thousand points, which a chart cannot tell apart from all of them.
/// </summary>
public sealed class CurveRecorder(double step = 1.0 / 1000)
{
    private readonly List<CurvePoint> _points = [];
    private CurvePoint? _pending;

    public double Step { get; } = step > 0 ? step : throw new ArgumentOutOfRangeException(nameof(step), step, "The thinning step must be positive.");

    public void Add(double x, double y)
    {
        var p = new CurvePoint(x, y);
        if (_points.Count == 0 || Math.Abs(x - _points[^1].X) >= Step || Math.Abs(y - _points[^1].Y) >= Step)
        {
            _points.Add(p);
            _pending = null;
        }
        else
        {
            _pending = p;
        }
    }

    /// <summary>The kept points, the last one offered included.</summary>
    public IReadOnlyList<CurvePoint> Points => _pending is { } last ? [.. _points, last] : [.. _points];
}
