using System.Text.Json;

namespace PromptAD.Clip;

/// <summary>Loads model configurations: the built-in ones (embedded Configs/*.json) by name, or any JSON file.</summary>
public static class ClipConfigs
{
    private const string ResourcePrefix = "PromptAD.Clip.Configs.";

    /// <summary>The default backbone (SPEC §1).</summary>
    public const string Default = "ViT-B-16-plus-240";

    /// <summary>Names of the built-in configurations.</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(ClipConfigs).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..^".json".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    public static ClipConfig Load(string name)
    {
        using var stream = typeof(ClipConfigs).Assembly.GetManifestResourceStream(ResourcePrefix + name + ".json")
            ?? throw new ArgumentException($"no built-in CLIP config '{name}'; known: {string.Join(", ", Names)}", nameof(name));
        return Parse(stream, $"built-in config '{name}'");
    }

    public static ClipConfig LoadFile(string path)
    {
        using var stream = new MemoryStream(IO.InputFile.ReadAllBytes(path, "CLIP config file"));
        return Parse(stream, $"'{Path.GetFullPath(path)}'");
    }

    public static ClipConfig Parse(Stream json, string source)
    {
        ClipConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(json, ClipConfigJson.Default.ClipConfig);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"CLIP config {source}: {e.Message}", e);
        }
        if (config is null) throw new InvalidDataException($"CLIP config {source} is null");
        Validate(config, source);
        return config;
    }

    public static string ToJson(ClipConfig config) => JsonSerializer.Serialize(config, ClipConfigJson.Default.ClipConfig);

    private static void Validate(ClipConfig c, string source)
    {
        var problems = new List<string>();
        _ = Try(() => c.UsesQuickGelu, problems);
        var v = c.Vision;
        if (v.PatchSize <= 0 || v.ImageSize % v.PatchSize != 0) problems.Add($"imageSize {v.ImageSize} is not a multiple of patchSize {v.PatchSize}");
        if (v.Heads <= 0 || v.Width % v.Heads != 0) problems.Add($"vision width {v.Width} is not a multiple of heads {v.Heads}");
        if (c.Text.Heads <= 0 || c.Text.Width % c.Text.Heads != 0) problems.Add($"text width {c.Text.Width} is not a multiple of heads {c.Text.Heads}");
        if (v.MidLayers.Length != 2 || v.MidLayers.Any(i => i < 0 || i >= v.Layers))
            problems.Add($"midLayers must be two block indices in [0, {v.Layers}), got [{string.Join(", ", v.MidLayers)}]");
        if (c.EmbedDim <= 0 || v.Layers <= 0 || c.Text.Layers <= 0 || c.Text.ContextLength <= 0 || c.Text.VocabSize < 2)
            problems.Add("sizes must be positive (vocabSize at least 2)");
        if (problems.Count > 0) throw new InvalidDataException($"CLIP config {source}: {string.Join("; ", problems)}");
    }

    private static bool Try(Func<bool> check, List<string> problems)
    {
        try { return check(); }
        catch (InvalidOperationException e) { problems.Add(e.Message); return false; }
    }
}
