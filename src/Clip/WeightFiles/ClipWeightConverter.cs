using PromptAD.Tensors.Checkpoints;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Clip.WeightFiles;

/// <summary>
/// Rewrites any readable weights file as our safetensors: OpenCLIP key names in layout order, F32 (or F16/BF16),
/// metadata naming the backbone and the source. The tensors pass the same checks as loading them (every name and
/// shape of the config, finite values); the file is written atomically.
/// </summary>
public static class ClipWeightConverter
{
    public static void Convert(ITensorSource source, ClipConfig config, string outPath, SafeTensorDType dtype, string sourceSha256)
    {
        var differences = BackboneRecognition.Differences(source, config);
        if (differences.Count > 0)
        {
            var expected = ClipWeightLayout.Expected(config).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            throw new ClipWeightsException(source.FilePath, config.Name,
                [.. expected.Where(n => !source.Contains(n))],
                [.. source.Tensors.Select(t => t.Name).Where(n => !expected.Contains(n))],
                [.. differences.Where(d => d.Contains(": file ", StringComparison.Ordinal))]);
        }
        var entries = new List<SafeTensorsWriter.Entry>();
        foreach (var (name, shape) in ClipWeightLayout.Expected(config))
        {
            var info = source.GetInfo(name);
            if (!info.DType.ConvertsToFloat32())
                throw new ClipWeightsException(source.FilePath, $"tensor '{name}' is {info.DType.HeaderName()}, not F32, F16 or BF16");
            var data = new float[info.ElementCount];
            source.ReadFloat32(name, data);
            if (IO.FiniteValues.Problem(data) is { } problem)
                throw new ClipWeightsException(source.FilePath, $"tensor '{name}' {problem}");
            entries.Add(new SafeTensorsWriter.Entry(name, shape, data));
        }
        var metadata = new Dictionary<string, string>
        {
            ["config"] = config.Name,
            ["converted_from"] = Path.GetFileName(source.FilePath),
            ["source_format"] = $"{source.Format}, {ClipWeightFile.LayoutOf(source)} key names",
            ["source_sha256"] = sourceSha256,
        };
        SafeTensorsWriter.Write(outPath, entries, metadata, dtype);
    }
}
