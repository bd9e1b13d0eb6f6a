using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using PromptAD.Kernels.Native;
using PromptAD.Tensors;

namespace PromptAD.Kernels;

/// <summary>Forwards <see cref="Trace"/> ranges to NVTX. Range names are a small fixed set (ops, stages), so their
/// UTF-8 strings are made once and kept for the process.</summary>
public sealed unsafe class NvtxTraceSink : ITraceSink
{
    private readonly ConcurrentDictionary<string, nint> _names = new(StringComparer.Ordinal);

    private NvtxTraceSink() { }

    /// <summary>Installs NVTX as the trace sink when libnvToolsExt loads; returns whether it did.</summary>
    public static bool TryInstall()
    {
        if (Trace.Sink is NvtxTraceSink) return true;
        if (!CudaLibraryResolver.TryRequire(CudaLibraryResolver.NvtxName, out _, out _)) return false;
        Trace.Sink = new NvtxTraceSink();
        return true;
    }

    public void Push(string name) => Nvtx.nvtxRangePushA((byte*)_names.GetOrAdd(name, Utf8));

    public void Pop() => Nvtx.nvtxRangePop();

    private static nint Utf8(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s + "\0");
        nint p = Marshal.AllocHGlobal(bytes.Length);
        Marshal.Copy(bytes, 0, p, bytes.Length);
        return p;
    }
}
