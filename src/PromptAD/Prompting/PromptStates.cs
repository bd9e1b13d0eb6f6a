using System.Text.Json;
using PromptAD.Data;

namespace PromptAD.Prompting;

/// <summary>
/// The anomaly-state templates and class-name words of <c>data/prompts.json</c>: <c>generic_states</c> (SPEC §5.1,
/// e.g. "damaged {}"), <c>category_states</c> (per category, e.g. bottle: "{} with large breakage") and
/// <c>class_names</c> (folder name → words, e.g. metal_nut → "metal nut"). Read with JsonDocument (AOT-safe).
/// </summary>
public sealed class PromptStates
{
    private PromptStates(
        IReadOnlyList<string> generic, IReadOnlyDictionary<string, IReadOnlyList<string>> categoryStates, IReadOnlyDictionary<string, string> classNames)
    {
        GenericStates = generic;
        CategoryStates = categoryStates;
        ClassNames = classNames;
    }

    public IReadOnlyList<string> GenericStates { get; }

    public IReadOnlyDictionary<string, IReadOnlyList<string>> CategoryStates { get; }

    public IReadOnlyDictionary<string, string> ClassNames { get; }

    public static PromptStates Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new DatasetException($"Prompts file '{path}' does not exist.");
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(Clip.IO.InputFile.ReadAllBytes(path, "prompts file"));
            JsonElement root = doc.RootElement;
            List<string> generic = Strings(Property(root, "generic_states", path), path, "generic_states");
            var states = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (JsonProperty p in Property(root, "category_states", path).EnumerateObject())
            {
                states[p.Name] = Strings(p.Value, path, "category_states." + p.Name);
            }

            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty p in Property(root, "class_names", path).EnumerateObject())
            {
                names[p.Name] = p.Value.ValueKind == JsonValueKind.String
                    ? p.Value.GetString()!
                    : throw new DatasetException($"Prompts file '{path}': class_names.{p.Name} must be a string.");
            }

            return new PromptStates(generic, states, names);
        }
        catch (JsonException e)
        {
            throw new DatasetException($"Prompts file '{path}' is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new DatasetException($"Prompts file '{path}' does not have the expected structure: {e.Message}", e);
        }
    }

    /// <summary>The words used for a category in prompts: the class_names entry, else <see cref="FolderWords"/>.</summary>
    public string ClassName(string category)
        => ClassNames.TryGetValue(category, out string? name) ? name : FolderWords(category);

    /// <summary>
    /// The class word of a category prompts.json does not name: its folder name with '_' and '-' read as spaces
    /// (magnetic_tile → "magnetic tile", wood-plank → "wood plank"), so the text encoder sees words, not one odd token.
    /// </summary>
    public static string FolderWords(string category)
    {
        string words = string.Join(' ', category.Split(['_', '-'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return words.Length > 0 ? words : category;
    }

    /// <summary>The category's own anomaly states; empty for a category the file does not know (a custom dataset).</summary>
    public IReadOnlyList<string> StatesFor(string category)
        => CategoryStates.TryGetValue(category, out IReadOnlyList<string>? states) ? states : [];

    private static JsonElement Property(JsonElement root, string name, string path)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(name, out JsonElement value))
        {
            throw new DatasetException($"Prompts file '{path}' has no '{name}' entry.");
        }

        return value;
    }

    private static List<string> Strings(JsonElement array, string path, string what)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new DatasetException($"Prompts file '{path}': '{what}' must be an array of strings.");
        }

        var list = new List<string>();
        foreach (JsonElement e in array.EnumerateArray())
        {
            string s = e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new DatasetException($"Prompts file '{path}': '{what}' must contain strings.");
            if (!s.Contains("{}", StringComparison.Ordinal))
            {
                throw new DatasetException($"Prompts file '{path}': state '{s}' in '{what}' has no '{{}}' placeholder for the class name.");
            }

            list.Add(s);
        }

        return list;
    }
}
