using System.Globalization;

namespace PromptAD.Model;

/// <summary>
/// The decision threshold `promptad calibrate` stores in a model file, and what it rests on: the target
/// false-alarm rate, the number of good images, how they were obtained (<see cref="Methods"/>), the rank of the
/// order statistic and the map size the scores were computed at. Kept as safetensors string metadata (threshold_* keys).
/// </summary>
public sealed record StoredThreshold(float Threshold, double TargetFpr, int Images, string Method, int Rank, int Size)
{
    public static class Methods
    {
        /// <summary>Held-out good images given with --good.</summary>
        public const string HeldOut = "held-out good images";
        /// <summary>Each shot scored by a model trained on the other shots.</summary>
        public const string LeaveOneOut = "leave-one-out over the shots";
    }

    public void AddTo(IDictionary<string, string> metadata)
    {
        metadata["threshold"] = Threshold.ToString("R", CultureInfo.InvariantCulture);
        metadata["threshold_fpr"] = TargetFpr.ToString("R", CultureInfo.InvariantCulture);
        metadata["threshold_images"] = Images.ToString(CultureInfo.InvariantCulture);
        metadata["threshold_method"] = Method;
        metadata["threshold_rank"] = Rank.ToString(CultureInfo.InvariantCulture);
        metadata["threshold_size"] = Size.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The stored threshold, or null when the model was never calibrated (no "threshold" key).</summary>
    /// <param name="fail">Builds the exception for a malformed key (key, message).</param>
    public static StoredThreshold? Parse(IReadOnlyDictionary<string, string> m, Func<string, string, Exception> fail)
    {
        if (!m.ContainsKey("threshold")) return null;
        string S(string key) => m.TryGetValue(key, out var v) ? v : throw fail(key, "metadata key missing (the model has a threshold)");
        int I(string key) => int.TryParse(S(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0
            ? v : throw fail(key, $"'{S(key)}' is not a count");
        double D(string key) => double.TryParse(S(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v : throw fail(key, $"'{S(key)}' is not a finite number");
        return new StoredThreshold((float)D("threshold"), D("threshold_fpr"), I("threshold_images"), S("threshold_method"),
            I("threshold_rank"), I("threshold_size"));
    }

    public string Describe() =>
        $"{Threshold.ToString("R", CultureInfo.InvariantCulture)} (calibrated for a false-alarm rate of {TargetFpr.ToString("0.####", CultureInfo.InvariantCulture)} " +
        $"on {Images} good image(s), {Method}, maps of {Size} px)";
}
