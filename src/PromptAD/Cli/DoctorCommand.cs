using System.CommandLine;
using System.Runtime.Intrinsics;
using PromptAD.Kernels;

namespace PromptAD.Cli;

/// <summary>`promptad doctor`: what this machine offers the engine (CPU features, CUDA driver, cuBLAS, NVRTC).</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var command = new Command("doctor", "Prints what was found on this machine: CPU SIMD support, CUDA driver and device, cuBLAS and NVRTC (and where they were looked for when missing).");
        command.SetAction(_ =>
        {
            Console.WriteLine($"promptad {typeof(DoctorCommand).Assembly.GetName().Version}");
            Console.WriteLine($"CPU: {Environment.ProcessorCount} logical cores, AVX-512: {(Vector512.IsHardwareAccelerated ? "yes" : "no")}, AVX2: {(Vector256.IsHardwareAccelerated ? "yes" : "no")}");
            Console.Write(CudaDoctor.Report());
            return 0;
        });
        return command;
    }
}
