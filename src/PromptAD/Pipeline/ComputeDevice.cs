using PromptAD.Kernels;

namespace PromptAD.Pipeline;

/// <summary>Where the engine computes.</summary>
public enum DeviceKind
{
    /// <summary>The multi-threaded SIMD CPU backend (the reference).</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda,

    /// <summary>Our CUDA kernels compiled for the CPU (kernels/emulation): the GPU backend without a GPU.</summary>
    Emulated,
}

/// <summary>
/// The device a command computes on, read once from the command line and carried as it is to where the backend is
/// made: the kind, its GEMM precision (reduced precisions exist on a GPU only) and, for the emulated GPU, the
/// library of the kernels compiled for the CPU (null: from the environment).
/// </summary>
public sealed record ComputeDevice(DeviceKind Kind, GemmPrecision Precision = GemmPrecision.Fp32, FileInfo? Emulator = null)
{
    public static ComputeDevice Cpu { get; } = new(DeviceKind.Cpu);

    /// <summary>The kind as the command line and job files spell it.</summary>
    public string Name => Kind.Name();
}

/// <summary>Names of <see cref="DeviceKind"/> as the command line spells them.</summary>
public static class DeviceKinds
{
    public static string Name(this DeviceKind kind) => kind switch
    {
        DeviceKind.Cuda => "cuda",
        DeviceKind.Emulated => "emulated",
        _ => "cpu",
    };
}
