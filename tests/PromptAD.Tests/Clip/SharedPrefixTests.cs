using PromptAD.Clip;
using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;
using PromptAD.Tensors.Cpu;
using O = PromptAD.Tensors.Ops;

namespace PromptAD.Tests.Clip;

/// <summary>
/// Computing shared prompt prefixes once (and nothing after each end token) must be exact: a batch of prompts that
/// share their start token and learned vectors gives the same features and the same gradients as encoding every
/// prompt on its own, where nothing can be shared.
/// </summary>
public sealed class SharedPrefixTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SharedBatchEqualsPromptsEncodedAlone(bool structuralLayout)
    {
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, seed: 5);
        var encoder = new ClipTextEncoder(weights);
        int w = config.Text.Width, start = config.Text.StartToken, end = config.Text.EndToken;
        // Two groups (learned rows 0-1 and 2-3) at positions 1-2; different suffixes and end positions.
        int[][] ids = [[start, 9, 9, 5, end], [start, 9, 9, 6, 7, end], [start, 9, 9, 5, end], [start, 9, 9, 8, 8, 8, end]];
        int[][] groupRows = [[0, 1], [0, 1], [2, 3], [0, 1]];
        var rng = new Random(3);
        var paramValues = Enumerable.Range(0, 4 * w).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();

        (float[] Features, float[] Grad) Run(int[] prompts)
        {
            using var scope = TensorScope.Open();
            var param = Tensor.FromArray(CpuBackend.Instance, paramValues, 4, w);
            param.RequiresGrad = true;
            int[] rows = [.. prompts.SelectMany(p => groupRows[p])];
            var learned = O.GatherRows(param, rows);
            var features = encoder.Encode([.. prompts.Select(p => ids[p])], learned, [.. prompts.Select(_ => new[] { 1, 2 })],
                structuralLayout ? rows : null);
            // A fixed target per prompt (not per batch row), so each prompt's loss is the same alone and batched.
            var weightsOut = Tensor.FromArray(CpuBackend.Instance,
                [.. prompts.SelectMany(p => Enumerable.Range(0, features.Cols).Select(i => MathF.Sin(p * 100 + i)))], features.Rows, features.Cols);
            var f = features.ToArray();
            Backprop.Backward(O.Mean(O.SquaredDistance(features, weightsOut)));
            return (f, param.Grad!.ToArray());
        }

        var (batched, batchedGrad) = Run([0, 1, 2, 3]);
        var gradSum = new float[4 * w];
        for (int p = 0; p < 4; p++)
        {
            var (alone, aloneGrad) = Run([p]);
            for (int i = 0; i < alone.Length; i++) Assert.True(Math.Abs(alone[i] - batched[p * alone.Length + i]) <= 1e-5f, $"prompt {p} feature {i}: alone {alone[i]}, batched {batched[p * alone.Length + i]}");
            for (int i = 0; i < gradSum.Length; i++) gradSum[i] += aloneGrad[i] / 4; // Mean over 4 rows vs 1 row
        }
        for (int i = 0; i < gradSum.Length; i++) Assert.Equal(gradSum[i], batchedGrad[i], 1e-5f);
    }

    [Fact]
    public void LayoutFromKeysEqualsLayoutFromValues()
    {
        // Prompts 0, 1 and 3 share the start token and learned rows (keys 7, 8) at positions 1-2, prompt 2 has other
        // learned rows at the same positions; 0 and 2 also share the token 5 after them, which must not merge them.
        const int seq = 7, width = 3;
        int[] ends = [4, 5, 4, 6];
        int[][] keys = [[49, -8, -9, 5, 50], [49, -8, -9, 6, 7, 50], [49, -10, -11, 5, 50], [49, -8, -9, 8, 8, 8, 50]];
        var flat = new int[keys.Length * seq];
        var values = new float[keys.Length * seq * width];
        for (int b = 0; b < keys.Length; b++)
            for (int t = 0; t < seq; t++)
            {
                int key = t < keys[b].Length ? keys[b][t] : 0;
                flat[b * seq + t] = key;
                for (int c = 0; c < width; c++) values[(b * seq + t) * width + c] = key * 0.25f + t + c * 1000; // position embedding: + t
            }
        var fromKeys = SharedPrefixLayout.FromKeys(flat, keys.Length, seq, ends);
        var fromValues = SharedPrefixLayout.Build(values, keys.Length, seq, width, ends);
        Assert.Equal(fromValues.Representatives, fromKeys.Representatives);
        Assert.Equal(fromValues.Expand, fromKeys.Expand);
        Assert.Equal(fromValues.EndRows, fromKeys.EndRows);
        Assert.Equal(5 + 3 + 4 + 4, fromKeys.UniqueCount); // new rows per prompt: 5, then 3 after the shared prefix, 4 (own learned rows), 4
    }
}
