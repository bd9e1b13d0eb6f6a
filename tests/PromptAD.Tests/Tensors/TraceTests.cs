using PromptAD.Clip;
using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Tensors;

/// <summary>Profiler ranges (NVTX on a GPU) nest model stages around ops, and backward nodes are named.</summary>
[Collection(TraceCollection.Name)]
public sealed class TraceTests
{
    private sealed class RecordingSink : ITraceSink
    {
        private readonly Stack<string> _open = new();
        public List<string> Paths { get; } = [];
        public void Push(string name) { _open.Push(name); Paths.Add(string.Join("/", _open.Reverse())); }
        public void Pop() => _open.Pop();
        public int Depth => _open.Count;
    }

    [Fact]
    public void RangesNameStagesAndOps()
    {
        var sink = new RecordingSink();
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, seed: 1);
        Trace.Sink = sink;
        try
        {
            using var scope = TensorScope.Open();
            var images = new float[3 * config.Vision.ImageSize * config.Vision.ImageSize];
            using (new ClipImageEncoder(weights).EncodeRaw(images, 1)) { }

            var p = Tensor.FromArray(CpuBackend.Instance, [1f, 2f], 1, 2);
            p.RequiresGrad = true;
            Backprop.Backward(PromptAD.Tensors.Ops.Mean(PromptAD.Tensors.Ops.Gelu(p)));
        }
        finally
        {
            Trace.Sink = null;
        }
        Assert.Equal(0, sink.Depth);
        Assert.Contains("visual.transformer.resblocks.0/attention", sink.Paths);
        Assert.Contains("visual.transformer.resblocks.0/vv_path/vv_attention", sink.Paths);
        Assert.Contains("visual.transformer.resblocks.3/layernorm", sink.Paths);
        Assert.Contains("visual.transformer.resblocks.0/linear_gelu/gemm", sink.Paths);
        Assert.Contains("gelu.backward", sink.Paths);
        Assert.Contains("mean.backward", sink.Paths);
    }
}

/// <summary>Trace.Sink is process-wide: tests that install one run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TraceCollection
{
    public const string Name = "trace sink";
}
