using System.Runtime.InteropServices;
using System.Text;
using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>
/// The primary context of one device (the same context the CUDA runtime and cuBLAS use), retained on creation and
/// released when disposed. Objects that live in the context (<see cref="ContextBoundHandle"/>) add a reference to this
/// handle, so the context outlives them even when finalizers run in arbitrary order.
/// </summary>
public sealed class CudaContext : SafeHandle
{
    private CudaContext(nint context, int device) : base(0, ownsHandle: true)
    {
        SetHandle(context);
        Device = device;
    }

    /// <summary>The CUdevice this context belongs to.</summary>
    public int Device { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>Initializes the driver, retains device <paramref name="ordinal"/>'s primary context and makes it current.</summary>
    public static CudaContext Create(int ordinal = 0)
    {
        CudaLibraryResolver.Require(CudaLibraryResolver.CudaName);
        CudaException.Check(CudaDriver.cuInit(0), "cuInit");
        CudaException.Check(CudaDriver.cuDeviceGet(out int device, ordinal), "cuDeviceGet");
        CudaException.Check(CudaDriver.cuDevicePrimaryCtxRetain(out nint ctx, device), "cuDevicePrimaryCtxRetain");
        var context = new CudaContext(ctx, device);
        context.MakeCurrent();
        return context;
    }

    /// <summary>Binds the context to the calling thread (the driver tracks the current context per thread).</summary>
    public void MakeCurrent() => CudaException.Check(CudaDriver.cuCtxSetCurrent(handle), "cuCtxSetCurrent");

    /// <summary>Waits for all work in the context; asynchronous kernel faults surface here.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        CudaException.Check(CudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    public int GetAttribute(CUdeviceAttribute attribute)
    {
        CudaException.Check(CudaDriver.cuDeviceGetAttribute(out int value, attribute, Device), "cuDeviceGetAttribute");
        return value;
    }

    /// <summary>Compute capability as major*10+minor (80 for A100, 90 for H100).</summary>
    public int ComputeCapability =>
        GetAttribute(CUdeviceAttribute.ComputeCapabilityMajor) * 10 + GetAttribute(CUdeviceAttribute.ComputeCapabilityMinor);

    public int MultiprocessorCount => GetAttribute(CUdeviceAttribute.MultiprocessorCount);

    public string DeviceName => GetDeviceName(Device);

    public ulong TotalMemory => GetTotalMemory(Device);

    /// <summary>(free, total) bytes of device memory right now.</summary>
    public (ulong Free, ulong Total) MemoryInfo()
    {
        MakeCurrent();
        CudaException.Check(CudaDriver.cuMemGetInfo_v2(out nuint free, out nuint total), "cuMemGetInfo_v2");
        return (free, total);
    }

    internal static unsafe string GetDeviceName(int device)
    {
        byte* name = stackalloc byte[256];
        CudaException.Check(CudaDriver.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        return Encoding.UTF8.GetString(name, new ReadOnlySpan<byte>(name, 256).IndexOf((byte)0) is var n and >= 0 ? n : 256);
    }

    internal static ulong GetTotalMemory(int device)
    {
        CudaException.Check(CudaDriver.cuDeviceTotalMem_v2(out nuint bytes, device), "cuDeviceTotalMem_v2");
        return bytes;
    }

    protected override bool ReleaseHandle() => CudaDriver.cuDevicePrimaryCtxRelease_v2(Device) == CUresult.Success;
}
