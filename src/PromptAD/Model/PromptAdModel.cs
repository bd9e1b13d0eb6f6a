using PromptAD.Clip;
using PromptAD.Scoring;
using PromptAD.Tensors;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Model;

/// <summary>
/// A trained PromptAD model: both heads' learned vectors, their text prototypes (so scoring needs no text encoder)
/// and the two memory banks, all on the host, plus <see cref="ModelMetadata"/>. One .safetensors file holds it:
/// image.ctx, image.ctx_ab, pixel.ctx, pixel.ctx_ab, image.prototypes, pixel.prototypes ([2, embed]: row 0 normal,
/// row 1 anomaly), bank.mid1, bank.mid2 ([shots·patches, width]). Holds no native memory today; IDisposable so that
/// callers already dispose it when it caches device copies.
/// </summary>
public sealed class PromptAdModel(ModelMetadata metadata, HeadVectors image, HeadVectors pixel,
    Prototypes imagePrototypes, Prototypes pixelPrototypes, MemoryBank mid1, MemoryBank mid2) : IDisposable
{
    public ModelMetadata Metadata { get; } = metadata;
    public HeadVectors Image { get; } = image;
    public HeadVectors Pixel { get; } = pixel;
    public Prototypes ImagePrototypes { get; } = imagePrototypes;
    public Prototypes PixelPrototypes { get; } = pixelPrototypes;
    public MemoryBank Mid1 { get; } = mid1;
    public MemoryBank Mid2 { get; } = mid2;

    /// <summary>
    /// The same learned tensors under changed metadata (a calibrated threshold, the training time): the one way the
    /// application amends a model. The tensors are shared, not copied (they are never written after training).
    /// </summary>
    public PromptAdModel With(Func<ModelMetadata, ModelMetadata> change) =>
        new(change(Metadata), Image, Pixel, ImagePrototypes, PixelPrototypes, Mid1, Mid2) { SourcePath = SourcePath };

    /// <summary>The file this model was loaded from (null when made in memory).</summary>
    public string? SourcePath { get; private init; }

    /// <summary>Writes the model atomically (a temporary file renamed over <paramref name="path"/>).</summary>
    public void Save(string path)
    {
        SafeTensorsWriter.Entry E(string name, float[] data, int rows, int cols) => new(name, [rows, cols], data);
        int e = ImagePrototypes.Dimension;
        SafeTensorsWriter.Write(path,
        [
            E("image.ctx", Image.Ctx, Image.CtxRows, Image.Width),
            E("image.ctx_ab", Image.CtxAb, Image.CtxAbRows, Image.Width),
            E("pixel.ctx", Pixel.Ctx, Pixel.CtxRows, Pixel.Width),
            E("pixel.ctx_ab", Pixel.CtxAb, Pixel.CtxAbRows, Pixel.Width),
            E("image.prototypes", [.. ImagePrototypes.Normal, .. ImagePrototypes.Anomaly], 2, e),
            E("pixel.prototypes", [.. PixelPrototypes.Normal, .. PixelPrototypes.Anomaly], 2, PixelPrototypes.Dimension),
            E("bank.mid1", Mid1.Data, Mid1.Rows, Mid1.Width),
            E("bank.mid2", Mid2.Data, Mid2.Rows, Mid2.Width),
        ], Metadata.ToDictionary());
    }

    /// <summary>The backend-taking form of Load: the model is host-side, so <paramref name="backend"/> is only checked for null;
    /// <see cref="Pipeline.Detector"/> uploads the banks to the weights' backend.</summary>
    public static PromptAdModel Load(string path, IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return Load(path);
    }

    /// <summary>
    /// Reads a model file, checking the format version, the metadata and every tensor's presence, dtype and shape
    /// (shapes follow from the metadata's hyper-parameters and shot count) and that every value is finite; any problem
    /// names the file and tensor.
    /// </summary>
    public static PromptAdModel Load(string path)
    {
        SafeTensorsFile file;
        try
        {
            // A FIFO would block the open forever: the input rule decides before opening.
            Clip.IO.InputFile.Check(path, "model file", Clip.IO.InputFile.SafetensorsCap);
            file = SafeTensorsFile.Open(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SafeTensorsFormatException)
        {
            throw new ModelFileException(path, null, ex.Message, ex);
        }
        using (file)
        {
            var meta = ModelMetadata.Parse(file.Metadata, path);
            var o = meta.Options;

            (float[] Data, int[] Shape) Read(string name, int? rows, int? cols)
            {
                if (!file.Contains(name)) throw new ModelFileException(path, name, "tensor missing");
                var info = file.GetInfo(name);
                if (info.Shape.Length != 2 || (rows is { } r && info.Shape[0] != r) || (cols is { } c && info.Shape[1] != c))
                    throw new ModelFileException(path, name, $"shape {info.ShapeText}, expected [{rows?.ToString() ?? "any"}, {cols?.ToString() ?? "any"}]");
                if (info.DType != SafeTensorDType.F32)
                    throw new ModelFileException(path, name, $"dtype {info.DType.HeaderName()}, expected F32");
                float[] data = file.ReadFloat32(name);
                if (Clip.IO.FiniteValues.Problem(data) is { } problem) throw new ModelFileException(path, name, problem);
                return (data, info.Shape);
            }

            var (ic, s) = Read("image.ctx", o.NProImage * o.NCtx, null);
            int w = s[1];
            var (ica, _) = Read("image.ctx_ab", o.NProAb * o.NCtxAb, w);
            var (pc, _) = Read("pixel.ctx", o.NProPixel * o.NCtx, w);
            var (pca, _) = Read("pixel.ctx_ab", o.NProAb * o.NCtxAb, w);
            var (ip, ps) = Read("image.prototypes", 2, null);
            int e = ps[1];
            var (pp, _) = Read("pixel.prototypes", 2, e);
            var (b1, bs) = Read("bank.mid1", null, null);
            if (meta.Shots < 1 || bs[0] % meta.Shots != 0)
                throw new ModelFileException(path, "bank.mid1", $"{bs[0]} rows are not a whole number of patch grids for {meta.Shots} shots");
            var (b2, _) = Read("bank.mid2", bs[0], bs[1]);
            return new PromptAdModel(meta, new HeadVectors(ic, ica, w), new HeadVectors(pc, pca, w),
                new Prototypes(ip[..e], ip[e..]), new Prototypes(pp[..e], pp[e..]),
                new MemoryBank(b1, bs[0], bs[1]), new MemoryBank(b2, bs[0], bs[1])) { SourcePath = path };
        }
    }

    /// <summary>
    /// Throws a <see cref="ModelFileException"/> unless this model was trained on <paramref name="config"/>'s backbone
    /// (name and every dimension) and, when both hashes are known, on the same weights file.
    /// </summary>
    public void CheckCompatible(ClipConfig config, string? weightsSha256 = null)
    {
        var m = Metadata;
        if (!string.Equals(m.Backbone, config.Name, StringComparison.Ordinal))
            throw new ModelFileException(SourcePath, "backbone", $"trained on backbone '{m.Backbone}', but the CLIP weights are '{config.Name}'; " +
                $"use the '{m.Backbone}' weights or retrain");
        var problems = new List<string>();
        if (Image.Width != config.Text.Width) problems.Add($"prompt vectors are {Image.Width} wide, the text encoder {config.Text.Width}");
        if (ImagePrototypes.Dimension != config.EmbedDim) problems.Add($"prototypes are {ImagePrototypes.Dimension}-d, the embedding {config.EmbedDim}-d");
        if (Mid1.Width != config.Vision.Width) problems.Add($"memory banks are {Mid1.Width} wide, the vision encoder {config.Vision.Width}");
        if (Mid1.Rows != m.Shots * config.Vision.Patches) problems.Add($"memory banks have {Mid1.Rows} rows, expected {m.Shots}×{config.Vision.Patches}");
        if (problems.Count > 0)
            throw new ModelFileException(SourcePath, null, $"does not fit backbone '{config.Name}': {string.Join("; ", problems)}");
        if (weightsSha256 is not null && m.WeightsSha256 is not null && !string.Equals(weightsSha256, m.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelFileException(SourcePath, "weights_sha256", $"trained with weights {m.WeightsSha256}, but these weights hash to {weightsSha256}");
    }

    public void Dispose() { }
}
