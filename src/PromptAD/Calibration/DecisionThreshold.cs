using PromptAD.Model;

namespace PromptAD.Calibration;

/// <summary>
/// The threshold an image score is decided against, and where it came from: given by the user
/// (<see cref="Calibrated"/> null) or the one `calibrate` stored in the model. The one place that resolves it
/// (<see cref="Resolve"/>) and the one place that decides (<see cref="IsAnomalous"/>), for predict and serve alike.
/// </summary>
public sealed record DecisionThreshold(float Value, StoredThreshold? Calibrated)
{
    /// <summary>Anomalous when the image score is at or above the threshold.</summary>
    public bool IsAnomalous(float score) => score >= Value;

    /// <summary>
    /// The given threshold when there is one (it must be finite), else the model's stored threshold, else null (no
    /// decision). A stored threshold is the (1 − α) quantile of good images' scores at the map size it was measured at;
    /// the image score is the maximum of the map, so at another size it no longer means its false-alarm rate, and is
    /// refused naming both sizes rather than silently applied.
    /// </summary>
    /// <param name="model">Names the model in the message (its file or its served name).</param>
    public static DecisionThreshold? Resolve(float? given, StoredThreshold? stored, int mapSize, string model)
    {
        if (given is { } value)
            return float.IsFinite(value) ? new DecisionThreshold(value, null)
                : throw new ArgumentException($"the decision threshold must be a finite number, got {value}");
        if (stored is null) return null;
        if (stored.Size != mapSize)
            throw new ThresholdSizeException(model, stored.Size, mapSize);
        return new DecisionThreshold(stored.Threshold, stored);
    }
}

/// <summary>A stored threshold asked to decide at another map size than it was calibrated at.</summary>
public sealed class ThresholdSizeException(string model, int calibratedSize, int mapSize) : ArgumentException(
    $"{model}: its threshold was calibrated on {calibratedSize} px maps and does not keep its false-alarm rate on {mapSize} px maps " +
    $"(the image score is the map's maximum); score at size {calibratedSize}, calibrate again at size {mapSize}, or give a threshold")
{
    public int CalibratedSize { get; } = calibratedSize;
    public int MapSize { get; } = mapSize;
}
