using System.Text;
using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>A loaded PTX module. The driver JIT-compiles the PTX for the actual GPU at load time.</summary>
public sealed class CudaModule : ContextBoundHandle
{
    private CudaModule(CudaContext context) : base(context) { }

    public nint Handle => handle;

    /// <summary>Loads PTX text; on failure the exception carries the JIT error log.</summary>
    public static CudaModule LoadPtx(CudaContext context, string ptx, string nameForErrors) =>
        LoadImage(context, Encoding.UTF8.GetBytes(ptx + "\0"), nameForErrors);

    /// <summary>Loads a cubin or NUL-terminated PTX (the driver tells them apart); errors carry the JIT log.</summary>
    public static unsafe CudaModule LoadImage(CudaContext context, byte[] image, string nameForErrors)
    {
        var module = new CudaModule(context);
        context.MakeCurrent();
        const int logSize = 16384;
        byte* errorLog = stackalloc byte[logSize];
        errorLog[0] = 0;
        CUjitOption* options = stackalloc CUjitOption[] { CUjitOption.ErrorLogBuffer, CUjitOption.ErrorLogBufferSizeBytes };
        void** values = stackalloc void*[] { errorLog, (void*)(nint)logSize };
        CUresult r;
        nint raw;
        fixed (byte* p = image) r = CudaDriver.cuModuleLoadDataEx(out raw, p, 2, options, values);
        if (r != CUresult.Success)
        {
            module.ReleaseContextReference();
            module.SetHandleAsInvalid();
            string log = Encoding.UTF8.GetString(errorLog, new ReadOnlySpan<byte>(errorLog, logSize).IndexOf((byte)0) is var n and >= 0 ? n : logSize);
            throw new CudaException("cuModuleLoadDataEx", r, $"module {nameForErrors}: {log}".TrimEnd());
        }
        module.SetHandle(raw);
        return module;
    }

    /// <summary>Looks up an <c>extern "C"</c> kernel; throws naming the module when it is absent.</summary>
    public nint GetFunction(string name)
    {
        CUresult r = CudaDriver.cuModuleGetFunction(out nint function, handle, name);
        if (r != CUresult.Success) throw new CudaException("cuModuleGetFunction", r, $"kernel '{name}'");
        return function;
    }

    protected override CUresult Free() => CudaDriver.cuModuleUnload(handle);
}
