using System.Runtime.InteropServices;

namespace PromptAD.Kernels.Native;

/// <summary>nvrtcResult.</summary>
public enum NvrtcResult
{
    Success = 0,
    OutOfMemory = 1,
    ProgramCreationFailure = 2,
    InvalidInput = 3,
    InvalidProgram = 4,
    InvalidOption = 5,
    Compilation = 6,
    BuiltinOperationFailure = 7,
    InternalError = 11,
}

/// <summary>
/// Raw NVRTC API (libnvrtc.so.N / nvrtc64_*.dll), logical name "nvrtc". Strings in are UTF-8 <c>byte*</c> built by
/// <see cref="KernelCompiler"/> (arrays of <c>const char*</c> do not marshal without runtime code generation).
/// NVRTC needs no GPU and no driver, which is what lets CI compile every kernel.
/// </summary>
public static unsafe partial class Nvrtc
{
    private const string Lib = CudaLibraryResolver.NvrtcName;

    static Nvrtc() => CudaLibraryResolver.Register();

    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcVersion(out int major, out int minor);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetNumSupportedArchs(out int count);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetSupportedArchs(int* archs);
    [LibraryImport(Lib)] public static partial nint nvrtcGetErrorString(NvrtcResult result);

    [LibraryImport(Lib)]
    public static partial NvrtcResult nvrtcCreateProgram(out nint program, byte* source, byte* name,
        int headerCount, byte** headers, byte** includeNames);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcCompileProgram(nint program, int optionCount, byte** options);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetProgramLogSize(nint program, out nuint size);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetPTXSize(nint program, out nuint size);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetPTX(nint program, byte* ptx);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetCUBINSize(nint program, out nuint size);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetCUBIN(nint program, byte* cubin);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcDestroyProgram(ref nint program);

    /// <summary>The NVRTC_ERROR_* name of a result (nvrtcGetErrorString returns the name, not a sentence).</summary>
    public static string ResultName(NvrtcResult result)
    {
        try
        {
            return Marshal.PtrToStringUTF8(nvrtcGetErrorString(result)) ?? $"NVRTC_ERROR_{(int)result}";
        }
        catch (DllNotFoundException)
        {
            return $"NVRTC_ERROR_{(int)result}";
        }
    }
}
