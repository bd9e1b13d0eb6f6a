namespace PromptAD.Evaluation;

/// <summary>
/// The image-level curves behind <see cref="ImageMetrics"/>, from the same threshold sweep (thinned for drawing):
/// ROC as (FPR, TPR) from (0, 0) to (1, 1), precision–recall as (recall, precision) at every threshold with a true
/// positive, and the score threshold at which F1 reaches its maximum (anomalous when score ≥ it).
/// </summary>
public sealed record ImageCurves(IReadOnlyList<CurvePoint> Roc, IReadOnlyList<CurvePoint> PrecisionRecall, double F1Threshold);
