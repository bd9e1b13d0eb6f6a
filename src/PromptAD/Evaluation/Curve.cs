using System.Runtime.CompilerServices;

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
    private readonly double _step = step > 0 ? step : throw new ArgumentOutOfRangeException(nameof(step), step, "The thinning step must be positive.");
    // The last point kept and the last one offered, in fields: a pixel sweep offers millions of points and keeps a few thousand.
    private double _keptX = double.NaN, _keptY = double.NaN, _pendingX, _pendingY;
    private bool _hasPending;

    public double Step => _step;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called per distinct pixel score: millions of times
    public void Add(double x, double y)
    {
        if (_points.Count == 0 || Math.Abs(x - _keptX) >= _step || Math.Abs(y - _keptY) >= _step)
        {
            _points.Add(new CurvePoint(x, y));
            (_keptX, _keptY, _hasPending) = (x, y, false);
        }
        else
        {
            (_pendingX, _pendingY, _hasPending) = (x, y, true);
        }
    }

    /// <summary>The kept points, the last one offered included.</summary>
    public IReadOnlyList<CurvePoint> Points => _hasPending ? [.. _points, new CurvePoint(_pendingX, _pendingY)] : [.. _points];
}
