using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using PromptAD.Kernels.Native;
using PromptAD.Tensors;

namespace PromptAD.Kernels;

/// <summary>
/// Forwards <see cref="Trace"/> ranges to NVTX: to the tool named by NVTX_INJECTION64_PATH through NVTX3's injection
/// protocol (<see cref="NvtxInjection"/>; what Nsight uses on current CUDA), else to libnvToolsExt.so.1 (NVTX2, removed
/// from the toolkit in CUDA 12.9). Range names are a small fixed set (ops, stages), so their UTF-8 strings are made
/// once and kept for the process.
/// </summary>
public sealed unsafe class NvtxTraceSink : ITraceSink
{
    private readonly ConcurrentDictionary<string, nint> _names = new(StringComparer.Ordinal);
    private readonly bool _injected;

    private NvtxTraceSink(bool injected) => _injected = injected;

    /// <summary>
    /// Installs NVTX as the trace sink when a tool is injected or libnvToolsExt loads; returns whether it did. An
    /// injection library that fails to load is reported on standard error (the user asked for it) and the old
    /// library tried instead.
    /// </summary>
    public static bool TryInstall()
    {
        if (Trace.Sink is NvtxTraceSink) return true;
        string? injection = Environment.GetEnvironmentVariable(NvtxInjection.Variable);
        if (!string.IsNullOrEmpty(injection))
        {
            if (NvtxInjection.TryLoad(injection, out string reason)) { Trace.Sink = new NvtxTraceSink(injected: true); return true; }
            Console.Error.WriteLine($"promptad: warning: {reason}; trying libnvToolsExt");
        }
        if (!CudaLibraryResolver.TryRequire(CudaLibraryResolver.NvtxName, out _, out _)) return false;
        Trace.Sink = new NvtxTraceSink(injected: false);
        return true;
    }

    /// <summary>A sink on an injection library already loaded with <see cref="NvtxInjection.TryLoad"/>.</summary>
    public static NvtxTraceSink Injected() => new(injected: true);

    public void Push(string name)
    {
        byte* text = (byte*)_names.GetOrAdd(name, Utf8);
        if (!_injected) Nvtx.nvtxRangePushA(text);
        else if (NvtxInjection.Slot(NvtxInjection.RangePushA) is var push && push is not null) ((delegate* unmanaged<byte*, int>)push)(text);
    }

    public void Pop()
    {
        if (!_injected) Nvtx.nvtxRangePop();
        else if (NvtxInjection.Slot(NvtxInjection.RangePop) is var pop && pop is not null) ((delegate* unmanaged<int>)pop)();
    }

    private static nint Utf8(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s + "\0");
        nint p = Marshal.AllocHGlobal(bytes.Length);
        Marshal.Copy(bytes, 0, p, bytes.Length);
        return p;
    }
}
