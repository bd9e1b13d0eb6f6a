using System.Globalization;
using System.Text;
using System.Text.Json;
using PromptAD.Clip;

namespace PromptAD.Model;

/// <summary>
/// Everything recorded about how a model was made, stored as the safetensors string metadata (one key each; the shot
/// file list as a JSON array). <see cref="ToDictionary"/>/<see cref="Parse"/> are inverse.
/// </summary>
public sealed record ModelMetadata
{
    /// <summary>Bump when the file layout changes; loading refuses any other version.</summary>
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public required string Backbone { get; init; }
    public string? WeightsSha256 { get; init; }
    public required string Category { get; init; }
    /// <summary>The class word the prompts were built with (prompts.json's class_names entry, else the folder name's words).</summary>
    public required string ClassName { get; init; }

    /// <summary>
    /// The anomaly-state templates the manual anomaly prompts were built with, in order (generic, then the category's
    /// own): with <see cref="ClassName"/> they make the model explainable and reproducible without the prompts file.
    /// Empty for model files written before they were recorded.
    /// </summary>
    public IReadOnlyList<string> AnomalyStates { get; init; } = [];
    public required int Shots { get; init; }
    public IReadOnlyList<string> ShotFiles { get; init; } = [];

    /// <summary>
    /// SHA-256 of each shot's file, in <see cref="ShotFiles"/>' order: calibrate tells the model's own shots (copied,
    /// renamed, or another dataset's images under the same names) from new good parts. Empty in older model files.
    /// </summary>
    public IReadOnlyList<string> ShotSha256 { get; init; } = [];
    public required TrainOptions Options { get; init; }

    /// <summary>The temperature s actually used (after <see cref="TrainOptions.LogitScale"/> was applied).</summary>
    public required float LogitScaleValue { get; init; }
    public string EngineVersion { get; init; } = typeof(ModelMetadata).Assembly.GetName().Version?.ToString() ?? "unknown";
    public DateTimeOffset CreatedUtc { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// True when the file had no mid_features key (written before the option existed) and
    /// <see cref="TrainOptions.MidFeatures"/> was taken as <see cref="MidFeatureMode.BlockOutput"/>, how it was computed.
    /// </summary>
    public bool MidFeaturesAssumed { get; init; }

    /// <summary>
    /// True when the file had no pixel_margin key (written before the option existed) and
    /// <see cref="TrainOptions.PixelMargin"/> was taken as <see cref="PixelMarginMode.PerPatch"/>, how it was trained.
    /// </summary>
    public bool PixelMarginAssumed { get; init; }

    /// <summary>The one-time notice for model files without a recorded pixel margin.</summary>
    public const string PixelMarginAssumedNotice =
        "model file(s) without a recorded pixel margin were written before the option existed; their pixel head was trained " +
        "with the per-patch margin, and is recorded as such (retrain with this version for the as-published margin, SPEC §5.3)";

    /// <summary>The one-time notice for model files without a recorded mid-feature mode.</summary>
    public const string MidFeaturesAssumedNotice =
        "model file(s) without a recorded mid-feature mode were written before the option existed; their memory banks are " +
        "plain block outputs, so test images are scored with block-output mid features too (retrain with this version for the " +
        "as-published features, SPEC §4 item 3)";
    /// <summary>The decision threshold `promptad calibrate` stored (threshold_* keys), or null when never calibrated.</summary>
    public StoredThreshold? Threshold { get; init; }

    /// <summary>Wall time of the training (both heads), seconds; null in files written before it was recorded.</summary>
    public double? TrainSeconds { get; init; }

    public Dictionary<string, string> ToDictionary()
    {
        var o = Options;
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format_version"] = I(FormatVersion),
            ["backbone"] = Backbone,
            ["category"] = Category,
            ["class_name"] = ClassName,
            ["shots"] = I(Shots),
            ["shot_files"] = JsonArray(ShotFiles),
            ["anomaly_states"] = JsonArray(AnomalyStates),
            ["mid_features"] = o.MidFeatures.Name(),
            ["pixel_margin"] = o.PixelMargin.Name(),
            ["seed"] = I(o.Seed),
            ["epochs"] = I(o.Epochs),
            ["learning_rate"] = F(o.LearningRate),
            ["min_learning_rate"] = F(o.MinLearningRate),
            ["momentum"] = F(o.Momentum),
            ["weight_decay"] = F(o.WeightDecay),
            ["n_ctx"] = I(o.NCtx),
            ["n_pro_image"] = I(o.NProImage),
            ["n_pro_pixel"] = I(o.NProPixel),
            ["n_ctx_ab"] = I(o.NCtxAb),
            ["n_pro_ab"] = I(o.NProAb),
            ["align_weight"] = F(o.AlignWeight),
            ["margin"] = F(o.Margin),
            ["logit_scale_mode"] = o.LogitScale.ToString().ToLowerInvariant(),
            ["logit_scale"] = F(LogitScaleValue),
            ["engine_version"] = EngineVersion,
            ["created_utc"] = CreatedUtc.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        };
        if (WeightsSha256 is not null) d["weights_sha256"] = WeightsSha256;
        if (ShotSha256.Count > 0) d["shot_sha256"] = JsonArray(ShotSha256);
        Threshold?.AddTo(d);
        if (TrainSeconds is { } seconds) d["train_seconds"] = seconds.ToString("R", CultureInfo.InvariantCulture);
        return d;
    }

    /// <summary>Reads the metadata of <paramref name="file"/>; a missing or malformed key throws naming it.</summary>
    public static ModelMetadata Parse(IReadOnlyDictionary<string, string> m, string file)
    {
        string S(string key) => m.TryGetValue(key, out var v) ? v : throw new ModelFileException(file, key, "metadata key missing");
        int Int(string key) => int.TryParse(S(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v : throw new ModelFileException(file, key, $"'{S(key)}' is not an integer");
        float Flt(string key) => float.TryParse(S(key), NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v)
            ? v : throw new ModelFileException(file, key, $"'{S(key)}' is not a finite number");

        if (!m.ContainsKey("format_version"))
            throw new ModelFileException(file, "format_version", "not a PromptAD model file (no format_version in its metadata)");
        int version = Int("format_version");
        if (version != CurrentFormatVersion)
            throw new ModelFileException(file, "format_version", $"format version {version} is not supported (this engine reads version {CurrentFormatVersion})");
        var mode = S("logit_scale_mode") switch
        {
            "raw" => LogitScaleMode.Raw,
            "exp" => LogitScaleMode.Exp,
            var x => throw new ModelFileException(file, "logit_scale_mode", $"'{x}' is neither 'raw' nor 'exp'"),
        };
        // Modes recorded since a later version: a file without the key was computed the older way, said once.
        T Mode<T>(string key, TryParseMode<T> parse, string[] names, T before, string notice, out bool assumed)
        {
            assumed = !m.TryGetValue(key, out var text);
            if (assumed)
            {
                OnceNotice.Write(notice);
                return before;
            }
            return parse(text, out var value) ? value
                : throw new ModelFileException(file, key, $"'{text}' is neither '{names[0]}' nor '{names[1]}'");
        }
        var midFeatures = Mode<MidFeatureMode>("mid_features", MidFeatureModes.TryParse, [MidFeatureModes.AsPublishedName, MidFeatureModes.BlockOutputName],
            MidFeatureMode.BlockOutput, MidFeaturesAssumedNotice, out bool midAssumed);
        var pixelMargin = Mode<PixelMarginMode>("pixel_margin", PixelMarginModes.TryParse, [PixelMarginModes.AsPublishedName, PixelMarginModes.PerPatchName],
            PixelMarginMode.PerPatch, PixelMarginAssumedNotice, out bool marginAssumed);
        var options = new TrainOptions
        {
            Seed = Int("seed"), Epochs = Int("epochs"), LearningRate = Flt("learning_rate"), MinLearningRate = Flt("min_learning_rate"),
            Momentum = Flt("momentum"), WeightDecay = Flt("weight_decay"), NCtx = Int("n_ctx"), NProImage = Int("n_pro_image"),
            NProPixel = Int("n_pro_pixel"), NCtxAb = Int("n_ctx_ab"), NProAb = Int("n_pro_ab"), AlignWeight = Flt("align_weight"),
            Margin = Flt("margin"), LogitScale = mode, MidFeatures = midFeatures, PixelMargin = pixelMargin,
        };
        if (!DateTimeOffset.TryParse(S("created_utc"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created))
            throw new ModelFileException(file, "created_utc", $"'{S("created_utc")}' is not a date");
        List<string> Strings(string key)
        {
            try
            {
                using var doc = JsonDocument.Parse(S(key));
                return [.. doc.RootElement.EnumerateArray().Select(e => e.GetString() ?? "")];
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new ModelFileException(file, key, "not a JSON array of strings", e);
            }
        }
        double? trainSeconds = null;
        if (m.TryGetValue("train_seconds", out var ts))
        {
            trainSeconds = double.TryParse(ts, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && v >= 0
                ? v : throw new ModelFileException(file, "train_seconds", $"'{ts}' is not a number of seconds");
        }
        return new ModelMetadata
        {
            FormatVersion = version, Backbone = S("backbone"), WeightsSha256 = m.TryGetValue("weights_sha256", out var h) ? h : null,
            Category = S("category"), ClassName = S("class_name"), Shots = Int("shots"), ShotFiles = Strings("shot_files"),
            ShotSha256 = m.ContainsKey("shot_sha256") ? Strings("shot_sha256") : [],
            AnomalyStates = m.ContainsKey("anomaly_states") ? Strings("anomaly_states") : [], Options = options,
            LogitScaleValue = Flt("logit_scale"), EngineVersion = S("engine_version"), CreatedUtc = created,
            MidFeaturesAssumed = midAssumed, PixelMarginAssumed = marginAssumed,
            Threshold = StoredThreshold.Parse(m, (key, message) => new ModelFileException(file, key, message)),
            TrainSeconds = trainSeconds,
        };
    }

    private delegate bool TryParseMode<T>(string? text, out T value);

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string JsonArray(IReadOnlyList<string> items)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartArray();
            foreach (var s in items) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
