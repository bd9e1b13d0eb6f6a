using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// #12 items 7, 8, 12–14 and deliverable 4: every numeric option is range-checked before any work (usage error,
/// exit 2, naming the option and its range); data failures are exit 1; messages name what a user can act on.
/// </summary>
[Collection("Console")]
public sealed class OptionsAndMessagesTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    private static void Usage((int Code, string Out, string Err) r, string mentions)
    {
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.StartsWith("promptad: error: ", r.Err);
        Assert.Contains(mentions, r.Err);
        Assert.DoesNotContain("internal error", r.Err);
    }

    [Fact]
    public void NumericOptions_OutOfRange_AreUsageErrorsBeforeAnyWork()
    {
        string model = _h.TrainModel();
        string images = Path.Combine(_h.Category, "test", "good");
        string[] Predict(params string[] extra) => ["predict", "--model", model, "--weights", _h.Weights, images, "--out", _h.P("p"), .. extra];
        Usage(Hostile.Cli(Predict("--size", "100000")), "--size must be between 1 and 4096, got 100000");
        Usage(Hostile.Cli(Predict("--size", "20000")), "--size");
        Usage(Hostile.Cli(Predict("--size", "0")), "--size");
        Usage(Hostile.Cli(Predict("--batch", "0")), "--batch");
        Usage(Hostile.Cli(Predict("--batch", "100000")), "--batch");
        Usage(Hostile.Cli(Predict("--threshold", "NaN")), "--threshold must be a finite number");
        Usage(Hostile.Cli(Predict("--threshold", "Infinity")), "--threshold");
        Assert.False(Directory.Exists(_h.P("p")));

        Usage(Hostile.Cli(_h.TrainArgs(_h.P("m.safetensors"), epochs: -1)), "--epochs");
        Usage(Hostile.Cli(_h.TrainArgs(_h.P("m.safetensors"), epochs: 1_000_000)), "--epochs");
        Usage(Hostile.Cli(_h.TrainArgs(_h.P("m.safetensors"), shots: "0")), "--shots");
        Usage(Hostile.Cli(_h.TrainArgs(_h.P("m.safetensors"), shots: "5000")), "--shots");
        string[] run = ["run", "--weights", _h.Weights, "--backbone", "tiny-test", "--data", _h.Data, "--shots", "1", "--epochs", "1", "--out", _h.P("r")];
        Usage(Hostile.Cli([.. run, "--seeds", "0"]), "--seeds");
        Usage(Hostile.Cli([.. run, "--seeds", "100000"]), "--seeds");
        Assert.False(File.Exists(_h.P("m.safetensors")));
    }

    [Fact]
    public void ShotNames_GivenTwice_AreRefused()
    {
        var r = Hostile.Cli([.. _h.TrainArgs(_h.P("m.safetensors")), "--shot-names", "000.png", "000.png"]);
        Usage(r, "'000.png' 2 times");
    }

    [Fact]
    public void Run_ChecksEveryShotCountUpFront()
    {
        var r = Hostile.Cli("run", "--weights", _h.Weights, "--backbone", "tiny-test", "--data", _h.Data, "--shots", "1,1000", "--seeds", "1", "--epochs", "1",
            "--size", "32", "--out", _h.P("r"));
        Assert.Equal(1, r.Code);
        Assert.Contains("Cannot choose 1000 shots from 8 training images", r.Err);
        Assert.DoesNotContain("[1/", r.Out); // nothing trained
    }

    [Fact]
    public void ParseErrors_HaveOurPrefix_AndNoClrTypeNames()
    {
        var r = Hostile.Cli("predict", "--model", "m", "--weights", "w", "x.png", "--out", "o", "--threshold", "abc");
        Assert.Equal(2, r.Code);
        Assert.StartsWith("promptad: error: ", r.Err);
        Assert.DoesNotContain("System.", r.Err);
        Assert.Contains("a number", r.Err);

        r = Hostile.Cli("train", "--epochs", "many");
        Assert.Equal(2, r.Code);
        Assert.All(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("promptad: ", line));
    }

    [Fact]
    public void DirectoryAsModel_SaysItIsAFolder()
    {
        var r = Hostile.Cli("predict", "--model", _h.Data, "--weights", _h.Weights, Path.Combine(_h.Category, "test", "good"), "--out", _h.P("p"));
        Assert.Equal(1, r.Code);
        Assert.Contains("is a folder", r.Err);
        Assert.DoesNotContain("does not exist", r.Err);
    }

    [Fact]
    public void CudaWithoutAGpu_SaysWhatIsMissing_NotInternalError()
    {
        if (PromptAD.Kernels.CudaBackend.TryCreate(out var cuda, out _))
        {
            cuda!.Dispose();
            Assert.Skip("a CUDA device is present");
        }
        var r = Hostile.Cli([.. _h.TrainArgs(_h.P("m.safetensors")), "--device", "cuda"]);
        Assert.Equal(1, r.Code);
        Assert.Contains("--device cuda", r.Err);
        Assert.Contains("promptad doctor", r.Err);
        Assert.Contains("--device cpu", r.Err);
        Assert.DoesNotContain("internal error", r.Err);
        Assert.DoesNotContain("looks like a bug", r.Err);
    }

    [Fact]
    public void DataFailures_ExitOne()
    {
        string model = _h.TrainModel();
        // A test set with only good images: image AUPR/F1 and AUPRO are undefined — the data's fault, not the options'.
        Directory.Delete(Path.Combine(_h.Category, "test", SyntheticDataset.DefectType), recursive: true);
        Directory.Delete(Path.Combine(_h.Category, "ground_truth"), recursive: true);
        var r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", _h.P("t"));
        Assert.Equal(1, r.Code);
        Assert.Contains("undefined", r.Err);
        Assert.Contains(_h.Category, r.Err);
    }

    [Fact]
    public void WeightsMismatch_NamesAFewTensorsAndACount()
    {
        // ViT-B-16 weights expected, tiny ones given: ~200 tensors missing.
        var r = Hostile.Cli("train", "--weights", _h.Weights, "--backbone", "ViT-B-16", "--data", _h.Data, "--category", SyntheticDataset.Category,
            "--shots", "1", "--epochs", "1", "--out", _h.P("m.safetensors"));
        Assert.Equal(1, r.Code);
        Assert.Contains("more", r.Err);
        Assert.True(r.Err.Length < 2000, $"{r.Err.Length} characters");
    }

    [Fact]
    public void WriteErrors_NameTheDestination_NotTheTemporaryFile()
    {
        string target = _h.P("out", "metrics.json");
        Directory.CreateDirectory(target); // a folder where the file should go: the rename fails
        var ex = Assert.ThrowsAny<IOException>(() => PromptAD.Files.AtomicFile.WriteAllText(target, "{}"));
        Assert.Contains(target, ex.Message);
        Assert.DoesNotContain(".tmp-", ex.Message);
        Assert.Empty(Directory.GetFiles(_h.P("out")));

        // Model and feature files (the safetensors writer) too.
        ex = Assert.ThrowsAny<IOException>(() => PromptAD.Tensors.SafeTensors.SafeTensorsWriter.Write(target, [new("x", [1], new float[] { 1 })]));
        Assert.Contains(target, ex.Message);
        Assert.DoesNotContain(".tmp-", ex.Message);
        Assert.Empty(Directory.GetFiles(_h.P("out")));
    }

    [Fact]
    public void NonFiniteLoss_StopsTrainingWithAClearError()
    {
        // logit_scale 100 with --logit-scale exp: exp(100) overflows float, every logit is ±Inf or NaN.
        string weights = _h.P("hot.safetensors");
        using (var w = ClipWeights.Random(ClipConfigs.Load("tiny-test"), CpuBackend.Instance, seed: 1))
        {
            w["logit_scale"].CopyFrom([100f]);
            w.SaveSafetensors(weights);
        }
        string[] a = _h.TrainArgs(_h.P("m.safetensors"));
        var r = Hostile.Cli([.. a[..2], weights, .. a[3..], "--logit-scale", "exp"]);
        Assert.Equal(1, r.Code);
        Assert.Contains("non-finite at epoch 1/", r.Err);
        Assert.False(File.Exists(_h.P("m.safetensors")));
    }
}
