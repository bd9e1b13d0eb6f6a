using System.Text.Json.Serialization;

namespace PromptAD.Clip;

// Source-generated JSON (NativeAOT: no reflection). Unknown fields are errors so a typo in a config is caught.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true)]
[JsonSerializable(typeof(ClipConfig))]
internal sealed partial class ClipConfigJson : JsonSerializerContext;
