using System.Text.Json;
using System.Text.Unicode;

namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// Parses and validates the JSON header. Kept apart from the memory mapping so every rule is in one place; every
/// failure is a <see cref="SafeTensorsFormatException"/>, because the input is untrusted (downloaded checkpoints).
/// </summary>
internal static class SafeTensorsHeader
{
    /// <summary>
    /// Largest header we accept. Real headers are tens of KB (CLIP ViT-L: ~60 KB); the cap bounds the one allocation
    /// whose size the file controls. The reference implementation uses the same 100 MB limit.
    /// </summary>
    internal const long MaxHeaderBytes = 100L * 1024 * 1024;

    internal const string MetadataKey = "__metadata__";

    // Headers are flat (depth 3); a low limit turns "deeply nested garbage" into a quick parse error.
    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        MaxDepth = 16,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    internal sealed record Parsed(Dictionary<string, string> Metadata, List<SafeTensorInfo> Tensors);

    /// <summary>Validates <paramref name="header"/> against a data section of <paramref name="dataLength"/> bytes.</summary>
    internal static Parsed Parse(string path, byte[] header, long dataLength)
    {
        if (!Utf8.IsValid(header))
        {
            throw new SafeTensorsFormatException(path, null, "the header is not valid UTF-8.");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header, ParseOptions);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, null, $"the header is not valid JSON ({e.Message}).", e);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SafeTensorsFormatException(path, null, $"the header must be a JSON object, found {root.ValueKind}.");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafeTensorInfo>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                // AllowDuplicateProperties=false already rejects these; the set keeps the rule local and explicit.
                if (!seen.Add(property.Name))
                {
                    throw new SafeTensorsFormatException(path, property.Name, "the name appears twice in the header.");
                }

                if (property.Name == MetadataKey)
                {
                    ParseMetadata(path, property.Value, metadata);
                }
                else
                {
                    tensors.Add(ParseEntry(path, property.Name, property.Value, dataLength));
                }
            }

            CheckNoOverlap(path, tensors);
            return new Parsed(metadata, tensors);
        }
    }

    private static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsFormatException(path, null, $"\"{MetadataKey}\" must be an object of strings, found {value.ValueKind}.");
        }

        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafeTensorsFormatException(path, null,
                    $"\"{MetadataKey}\" value for key '{item.Name}' must be a string, found {item.Value.ValueKind}.");
            }

            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafeTensorInfo ParseEntry(string path, string name, JsonElement entry, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsFormatException(path, name, $"the entry must be an object with dtype, shape and data_offsets, found {entry.ValueKind}.");
        }

        // dtype
        if (!entry.TryGetProperty("dtype", out JsonElement dtypeElement))
        {
            throw new SafeTensorsFormatException(path, name, "missing \"dtype\".");
        }

        if (dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new SafeTensorsFormatException(path, name, $"\"dtype\" must be a string, found {dtypeElement.ValueKind}.");
        }

        string dtypeText = dtypeElement.GetString()!;
        if (!SafeTensorDTypes.TryParse(dtypeText, out SafeTensorDType dtype))
        {
            throw new SafeTensorsFormatException(path, name,
                $"unknown dtype \"{Truncate(dtypeText)}\" (expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2).");
        }

        // shape
        if (!entry.TryGetProperty("shape", out JsonElement shapeElement))
        {
            throw new SafeTensorsFormatException(path, name, "missing \"shape\".");
        }

        if (shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new SafeTensorsFormatException(path, name, $"\"shape\" must be an array of non-negative integers, found {shapeElement.ValueKind}.");
        }

        var shape = new int[shapeElement.GetArrayLength()];
        int axis = 0;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long value) || value < 0 || value > int.MaxValue)
            {
                throw new SafeTensorsFormatException(path, name,
                    $"shape dimension {axis} is {Truncate(dim.GetRawText())}; expected an integer in [0, {int.MaxValue}].");
            }

            shape[axis++] = (int)value;
        }

        long elementCount = ElementCount(path, name, shape);

        // data_offsets
        if (!entry.TryGetProperty("data_offsets", out JsonElement offsetsElement))
        {
            throw new SafeTensorsFormatException(path, name, "missing \"data_offsets\".");
        }

        if (offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw new SafeTensorsFormatException(path, name, "\"data_offsets\" must be an array of two non-negative integers [begin, end].");
        }

        long begin = ReadOffset(path, name, offsetsElement[0], "begin");
        long end = ReadOffset(path, name, offsetsElement[1], "end");
        if (begin > end)
        {
            throw new SafeTensorsFormatException(path, name, $"data_offsets begin {begin} is after end {end}.");
        }

        int elementSize = dtype.SizeInBytes();
        long expectedBytes;
        try
        {
            expectedBytes = checked(elementCount * elementSize);
        }
        catch (OverflowException)
        {
            throw new SafeTensorsFormatException(path, name, $"shape {ShapeText(shape)} of {dtype.HeaderName()} is too large to address.");
        }

        if (end - begin != expectedBytes)
        {
            throw new SafeTensorsFormatException(path, name,
                $"data_offsets [{begin}, {end}] span {end - begin} bytes; shape {ShapeText(shape)} of {dtype.HeaderName()} needs {expectedBytes}.");
        }

        if (end > dataLength)
        {
            throw new SafeTensorsFormatException(path, name,
                $"data_offsets [{begin}, {end}] run past the data section, which is {dataLength} bytes (file truncated?).");
        }

        return new SafeTensorInfo(name, dtype, shape, begin, end, elementCount);
    }

    private static long ElementCount(string path, string name, int[] shape)
    {
        // A zero dimension makes the tensor empty whatever the others are, so it cannot overflow.
        if (Array.IndexOf(shape, 0) >= 0)
        {
            return 0;
        }

        long count = 1;
        try
        {
            foreach (int dim in shape)
            {
                count = checked(count * dim);
            }
        }
        catch (OverflowException)
        {
            throw new SafeTensorsFormatException(path, name, $"shape {ShapeText(shape)} has more elements than a 64-bit count can hold.");
        }

        return count;
    }

    private static long ReadOffset(string path, string name, JsonElement element, string which)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long value) || value < 0)
        {
            throw new SafeTensorsFormatException(path, name,
                $"data_offsets {which} is {Truncate(element.GetRawText())}; expected a non-negative 64-bit integer.");
        }

        return value;
    }

    /// <summary>Sorts by range and rejects any byte owned by two tensors. Empty tensors own no bytes.</summary>
    private static void CheckNoOverlap(string path, List<SafeTensorInfo> tensors)
    {
        var ranged = tensors.Where(t => t.End > t.Begin).ToArray();
        Array.Sort(ranged, static (a, b) => a.Begin.CompareTo(b.Begin));
        for (int i = 1; i < ranged.Length; i++)
        {
            SafeTensorInfo previous = ranged[i - 1];
            SafeTensorInfo current = ranged[i];
            if (current.Begin < previous.End)
            {
                throw new SafeTensorsFormatException(path, current.Name,
                    $"data_offsets [{current.Begin}, {current.End}] overlap tensor '{previous.Name}' at [{previous.Begin}, {previous.End}].");
            }
        }
    }

    private static string ShapeText(int[] shape) => "[" + string.Join(", ", shape) + "]";

    // Hostile headers can carry megabyte-long tokens; messages quote at most a short prefix.
    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
