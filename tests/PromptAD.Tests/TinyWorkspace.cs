using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests;

/// <summary>
/// A temporary folder holding what the CLI tests run on: the synthetic dataset (images of <c>size</c> pixels) under
/// <see cref="Data"/> and random tiny-test weights (seed 1) in <see cref="Weights"/>. Deleted on Dispose.
/// </summary>
internal sealed class TinyWorkspace : IDisposable
{
    public TinyWorkspace(string prefix, int size)
    {
        Dir = Directory.CreateTempSubdirectory(prefix).FullName;
        Data = Path.Combine(Dir, "data");
        SyntheticDataset.Generate(Data, size: size);
        Weights = Path.Combine(Dir, "tiny.safetensors");
        using var w = ClipWeights.Random(ClipConfigs.Load("tiny-test"), CpuBackend.Instance, seed: 1);
        w.SaveSafetensors(Weights);
    }

    public string Dir { get; }
    public string Data { get; }
    public string Weights { get; }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
