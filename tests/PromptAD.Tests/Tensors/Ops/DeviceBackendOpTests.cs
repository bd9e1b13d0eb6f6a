using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Ops;

/// <summary>
/// For backends other than the CPU: besides the scalar references, every op's output is compared with the CPU
/// backend's on the same inputs (relative tolerance 1e-4 of the output's scale in FP32, times ToleranceScale).
/// </summary>
public abstract class DeviceBackendOpTests : BackendOpTests
{
    private const double RelativeToCpu = 1e-4;

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void MatchesCpuBackend(string name)
    {
        var be = Require();
        var c = OpTable.Get(name);
        var inputs = c.MakeInputs();
        using var scope = TensorScope.Open();
        var cpu = c.Run(Upload(CpuBackend.Instance, c, inputs, requireGrad: false)).ToArray();
        var device = c.Run(Upload(be, c, inputs, requireGrad: false)).ToArray();
        Assert.Equal(cpu.Length, device.Length);
        double scale = Math.Max(1e-6, cpu.Max(v => Math.Abs((double)v)));
        double worst = 0;
        int at = 0;
        for (int i = 0; i < cpu.Length; i++)
        {
            double err = Math.Abs(device[i] - cpu[i]);
            if (double.IsNaN(device[i]) || err > worst) { worst = double.IsNaN(device[i]) ? double.PositiveInfinity : err; at = i; }
        }
        double tolerance = RelativeToCpu * ToleranceScale * scale;
        Assert.True(worst <= tolerance, $"{name}: {be.Name} differs from cpu by {worst:E3} at [{at}] ({device[at]} vs {cpu[at]}), tolerance {tolerance:E3}");
    }
}
