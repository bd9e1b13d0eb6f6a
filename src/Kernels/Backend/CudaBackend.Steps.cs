using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// The training clock (optimizer.cu) and captured steps: a training step recorded once as a graph and replayed per epoch.
public sealed partial class CudaBackend
{
    public void SgdStep(Tensor parameter, Tensor gradient, Tensor momentumBuffer, Tensor learningRates, Tensor step,
        float momentum, float weightDecay, bool first)
    {
        const string op = StepOps.SgdStepName;
        StepOps.SgdStep(parameter, gradient, momentumBuffer, learningRates, step);
        int n = checked((int)parameter.Length);
        Launch(K.Optimizer.File, K.Optimizer.SgdStep, Elements(n), Threads, new KernelArgs()
            .Pointer(P(parameter, op)).Pointer(P(gradient, op)).Pointer(P(momentumBuffer, op)).Pointer(P(learningRates, op))
            .Pointer(P(step, op)).Float(momentum).Float(weightDecay).Int(first ? 1 : 0).Int(n));
    }

    public void WriteAtStep(Tensor source, Tensor history, Tensor step, int stride, int offset)
    {
        const string op = StepOps.WriteAtStepName;
        StepOps.WriteAtStep(source, history, step, stride, offset);
        int n = checked((int)source.Length);
        Launch(K.Optimizer.File, K.Optimizer.WriteAtStep, Elements(n), Threads, new KernelArgs()
            .Pointer(P(source, op)).Pointer(P(history, op)).Pointer(P(step, op)).Int(n).Int(stride).Int(offset));
    }

    public void AdvanceStep(Tensor step)
    {
        StepOps.AdvanceStep(step);
        Launch(K.Optimizer.File, K.Optimizer.AdvanceStep, 1, 32, new KernelArgs().Pointer(P(step, StepOps.AdvanceStepName)));
    }

    /// <summary>
    /// Whether <see cref="CaptureStep"/> makes graphs: the runtime supports them, the pool caches (a capture must not
    /// reach the driver's allocator) and PROMPTAD_CUDA_GRAPHS is not 0. Without graphs, replays run the step again.
    /// </summary>
    public bool UseGraphs { get; set; } = Environment.GetEnvironmentVariable("PROMPTAD_CUDA_GRAPHS") != "0";

    public ICapturedStep CaptureStep(Action step)
    {
        if (!UseGraphs || !Memory.Caching || !Runtime.SupportsGraphs) return new RerunStep(step);
        var memory = Memory.BeginCapture();
        try
        {
            Runtime.BeginCapture();
            IDeviceGraph graph;
            try
            {
                step();
            }
            catch
            {
                try { Runtime.EndCapture().Dispose(); }
                catch (Exception e) when (e is CudaException or InvalidOperationException) { } // the step's own error is the one to report
                throw;
            }
            finally
            {
                Memory.EndCapture();
            }
            graph = Runtime.EndCapture();
            return new GraphStep(this, graph, memory);
        }
        catch
        {
            Memory.Release(memory);
            throw;
        }
    }

    /// <summary>A step captured as a device graph; its memory stays reserved to it until it is disposed.</summary>
    public sealed class GraphStep : ICapturedStep
    {
        private readonly CudaBackend backend;
        private readonly IDeviceGraph graph;
        private readonly DeviceMemoryPool.GraphMemory memory;
        private bool disposed;

        internal GraphStep(CudaBackend backend, IDeviceGraph graph, DeviceMemoryPool.GraphMemory memory)
        {
            this.backend = backend;
            this.graph = graph;
            this.memory = memory;
        }

        public bool IsGraph => true;

        /// <summary>What one replay runs (kernels, GEMMs, memsets, copies), counted when it was captured.</summary>
        public DeviceCounts Contents => graph.Contents;

        public void Replay()
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            backend.Runtime.LaunchGraph(graph);
        }

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            graph.Dispose();
            backend.Memory.Release(memory);
        }
    }
}
