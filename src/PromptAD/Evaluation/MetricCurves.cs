namespace PromptAD.Evaluation;

/// <summary>
/// The curves of a test run, from the sweeps that computed its metrics (thinned for drawing): image ROC and PR with
/// the F1-optimal threshold, pixel ROC and the PRO curve up to <see cref="AuproLimit"/> (null when no pixel is anomalous).
/// </summary>
public sealed record MetricCurves(ImageCurves Image, IReadOnlyList<CurvePoint>? PixelRoc, IReadOnlyList<CurvePoint>? Pro)
{
    /// <summary>The FPR limit of AUPRO (SPEC §7).</summary>
    public const double AuproLimit = 0.3;

    /// <summary>The thinning step: finer than a pixel of any chart drawn from them.</summary>
    public const double Step = 1.0 / 1000;
}
