using System.Runtime.InteropServices;
using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>
/// A driver object that belongs to a <see cref="CudaContext"/>. It holds a reference on the context for its whole life
/// and makes the context current before freeing, because frees may run on the finalizer thread, where no context is
/// current.
/// </summary>
public abstract class ContextBoundHandle : SafeHandle
{
    private bool contextRefAdded;

    protected ContextBoundHandle(CudaContext context) : base(0, ownsHandle: true)
    {
        Context = context;
        context.DangerousAddRef(ref contextRefAdded);
    }

    public CudaContext Context { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>Frees the native object; the context is current when this runs.</summary>
    protected abstract CUresult Free();

    protected sealed override bool ReleaseHandle()
    {
        bool ok = CudaDriver.cuCtxSetCurrent(Context.DangerousGetHandle()) == CUresult.Success && Free() == CUresult.Success;
        if (contextRefAdded) Context.DangerousRelease();
        return ok;
    }

    /// <summary>Used by constructors when the native create call failed: drop the context reference now.</summary>
    protected void ReleaseContextReference()
    {
        if (contextRefAdded)
        {
            contextRefAdded = false;
            Context.DangerousRelease();
        }
    }
}
