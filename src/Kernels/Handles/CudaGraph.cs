using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>A captured CUDA graph (cuStreamEndCapture): the recipe, kept until its executable is made.</summary>
public sealed class CudaGraph : ContextBoundHandle
{
    /// <summary>Takes ownership of a graph handle returned by the driver (the context is current).</summary>
    public CudaGraph(CudaContext context, nint graph) : base(context) => SetHandle(graph);

    public nint Handle => handle;

    /// <summary>Number of nodes (kernels, memsets, copies, GEMMs' kernels) in the graph.</summary>
    public unsafe int NodeCount()
    {
        nuint count = 0;
        CudaException.Check(CudaDriver.cuGraphGetNodes(handle, null, ref count), "cuGraphGetNodes");
        return checked((int)count);
    }

    protected override CUresult Free() => CudaDriver.cuGraphDestroy(handle);
}

/// <summary>An instantiated CUDA graph (cuGraphInstantiateWithFlags): launched on a stream as one call.</summary>
public sealed class CudaGraphExec : ContextBoundHandle
{
    public CudaGraphExec(CudaGraph graph) : base(graph.Context)
    {
        graph.Context.MakeCurrent();
        CUresult r = CudaDriver.cuGraphInstantiateWithFlags(out nint exec, graph.Handle, 0);
        if (r != CUresult.Success) ReleaseContextReference();
        CudaException.Check(r, "cuGraphInstantiateWithFlags");
        SetHandle(exec);
    }

    public void Launch(CudaStream stream) => CudaException.Check(CudaDriver.cuGraphLaunch(handle, stream.Handle), "cuGraphLaunch");

    protected override CUresult Free() => CudaDriver.cuGraphExecDestroy(handle);
}
