using System.Collections.Concurrent;

namespace PromptAD.Kernels;

/// <summary>
/// One embedded kernel file as a loaded CUDA module. Nothing touches the GPU until the first function lookup: then the
/// file is compiled (or read from the PTX cache) for the device's architecture and loaded. Functions are looked up by
/// name once and cached.
/// </summary>
public sealed class KernelModule : IDisposable
{
    private readonly KernelCompiler compiler;
    private readonly Lazy<CudaModule> module;
    private readonly ConcurrentDictionary<string, nint> functions = new(StringComparer.Ordinal);

    public KernelModule(CudaContext context, KernelCompiler compiler, string kernelFile)
    {
        Context = context;
        this.compiler = compiler;
        FileName = kernelFile;
        module = new Lazy<CudaModule>(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public CudaContext Context { get; }

    public string FileName { get; }

    /// <summary>The CUfunction of an <c>extern "C"</c> kernel in this file.</summary>
    public nint Function(string name) => functions.GetOrAdd(name, n => module.Value.GetFunction(n));

    /// <summary>Launches a kernel on a stream; see the file's header comment for its grid/block contract.</summary>
    public void Launch(string name, Dim3 grid, Dim3 block, uint sharedMemBytes, CudaStream stream, in KernelArgs args) =>
        args.Launch(Function(name), grid, block, sharedMemBytes, stream.Handle);

    private CudaModule Load()
    {
        CudaException.Check(Native.CudaDriver.cuDriverGetVersion(out int driver), "cuDriverGetVersion");
        byte[] image = compiler.GetImage(FileName, Context.ComputeCapability, driver, out string description);
        return CudaModule.LoadImage(Context, image, description);
    }

    public void Dispose()
    {
        if (module.IsValueCreated) module.Value.Dispose();
    }
}
