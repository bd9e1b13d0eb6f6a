using PromptAD.Bench;

namespace PromptAD.Tests.Clip;

public class ClipBenchTests
{
    /// <summary>The benchmark's own code path on the tiny config (no PyTorch side): it must run to the table.</summary>
    [Fact]
    public void TinyConfig_RunsWithoutReference()
    {
        Assert.Equal(0, ClipBench.Run(["--config", "tiny-test", "--reps", "1", "--no-torch"]));
    }
}
