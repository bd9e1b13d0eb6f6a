using PromptAD.Tensors.Checkpoints;
using PromptAD.Tests.Clip;
using static PromptAD.Tests.Adversarial.HostileCheckpoints;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// Hostile PyTorch checkpoints: each breaks one rule and must be refused with a <see cref="CheckpointFormatException"/>
/// of the matching <see cref="CheckpointProblem"/>, naming the global, opcode, entry or tensor, within a bounded
/// allocation (no case may make the reader allocate what the file merely declares), with nothing executed and no file
/// written. Seeded mutations of a real torch.save file either read fully or fail with that exception, never another.
/// </summary>
[Collection("Console")]
public sealed class HostileCheckpointTests : IDisposable
{
    /// <summary>Managed bytes one refused open may allocate (the files here are a few KB; what they declare is GBs).</summary>
    private const long AllocationBound = 32L << 20;

    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-hostile-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Opens (and reads every tensor of) the file; returns the refusal, checking it names the file.</summary>
    private CheckpointFormatException Refused(byte[] file, CheckpointProblem expected, string? mentions = null)
    {
        string path = Write("hostile.pt", file);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<CheckpointFormatException>(() =>
        {
            using var source = TensorFiles.Open(path);
            foreach (var t in source.Tensors) source.ReadFloat32(t.Name, new float[t.ElementCount]);
        });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < AllocationBound, $"{expected}: refusing took {allocated} bytes of allocation");
        Assert.Equal(expected, ex.Problem);
        Assert.Contains(path, ex.Message);
        if (mentions is not null) Assert.Contains(mentions, ex.Message);
        return ex;
    }

    [Fact]
    public void ValidHandWrittenCheckpoint_Reads()
    {
        // The builders' baseline: the same bytes with nothing broken open and read, so each case below fails for its one rule.
        string path = Write("ok.pt", Checkpoint(StateDict(4, 0, [2, 2], [2, 1])));
        using var source = TensorFiles.Open(path);
        Assert.Equal([2, 2], source.GetInfo("w").Shape);
        source.ReadFloat32("w", new float[4]);
    }

    [Fact]
    public void PickleCallingOsSystem_IsRefusedNamingIt_AndNothingRuns()
    {
        string marker = Path.Combine(_dir, "pwned");
        var pickle = new Pickle().Global("os", "system").Mark().Str($"touch {marker}").Tuple().Reduce().Stop().ToArray();
        Refused(Checkpoint(pickle), CheckpointProblem.ForbiddenGlobal, "'os.system'");
        Assert.False(File.Exists(marker));
        var posix = new Pickle().Global("posix", "system").Mark().Str($"touch {marker}").Tuple().Reduce().Stop().ToArray();
        Refused(Checkpoint(posix), CheckpointProblem.ForbiddenGlobal, "'posix.system'");
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [InlineData("builtins", "eval")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch.nn.modules.linear", "Linear")] // torch.save(model) instead of its state dict
    [InlineData("numpy.core.multiarray", "_reconstruct")]
    [InlineData("__torch__.Evil", "Module")] // TorchScript classes only inside TorchScript archives
    [InlineData("torch", "load")]
    public void UnknownGlobal_IsRefusedNamingIt(string module, string name)
    {
        var pickle = new Pickle().Global(module, name).EmptyTuple().Reduce().Stop().ToArray();
        Refused(Checkpoint(pickle), CheckpointProblem.ForbiddenGlobal, $"'{module}.{name}'");
    }

    [Fact]
    public void StackGlobal_IsCheckedLikeGlobal()
    {
        var pickle = new Pickle().Str("os").Str("system").Op(0x93).Stop().ToArray();
        Refused(Checkpoint(pickle), CheckpointProblem.ForbiddenGlobal, "'os.system'");
    }

    [Fact]
    public void ReduceOnSomethingOtherThanARebuilder_IsRefused()
    {
        // A storage type is allowed as a marker, never as a callable.
        var storage = new Pickle().Global("torch", "FloatStorage").Mark().Int(10).Tuple().Reduce().Stop().ToArray();
        Refused(Checkpoint(storage), CheckpointProblem.ForbiddenCall, "'torch.FloatStorage'");
        // A string is not callable either.
        var text = new Pickle().Str("os.system").EmptyTuple().Reduce().Stop().ToArray();
        Refused(Checkpoint(text), CheckpointProblem.ForbiddenCall, "REDUCE");
        // OrderedDict with arguments is not a form torch writes.
        var dict = new Pickle().Global("collections", "OrderedDict").Mark().Str("x").Tuple().Reduce().Stop().ToArray();
        Refused(Checkpoint(dict), CheckpointProblem.ForbiddenCall, "collections.OrderedDict");
    }

    [Theory]
    [InlineData((byte)'i', "INST")]
    [InlineData((byte)'o', "OBJ")]
    [InlineData(0x92, "NEWOBJ_EX")]
    [InlineData(0x82, "EXT")]
    [InlineData((byte)'P', "PERSID")]
    public void ForbiddenOpcode_IsRefusedNamingIt(byte op, string name)
    {
        var pickle = new Pickle().Op(op, (byte)'x', (byte)'\n', (byte)'y', (byte)'\n').Stop().ToArray();
        Refused(Checkpoint(pickle), CheckpointProblem.ForbiddenOpcode, name);
    }

    [Fact]
    public void DeepNesting_IsBounded()
    {
        // 100 000 marks: the mark stack is capped.
        var marks = new Pickle();
        for (int i = 0; i < 100_000; i++) marks.Mark();
        Refused(Checkpoint(marks.Stop().ToArray()), CheckpointProblem.TooDeep, "marks");

        // Dicts nested 10 000 deep: decoding is iterative, the walk that names tensors is capped.
        var nested = new Pickle().EmptyDict();
        for (int i = 0; i < 10_000; i++) nested.Str("a").EmptyDict();
        for (int i = 0; i < 10_000; i++) nested.Op((byte)'s');
        Refused(Checkpoint(nested.Stop().ToArray()), CheckpointProblem.TooDeep, "nested deeper");

        // A dict that holds itself (memo): a cycle, not an endless walk.
        var cycle = new Pickle().EmptyDict().Op((byte)'q', 0).Str("self").Op((byte)'h', 0).Op((byte)'s').Stop().ToArray();
        Refused(Checkpoint(cycle), CheckpointProblem.TooDeep);
    }

    [Fact]
    public void StorageOrViewPastItsRecord_IsRefused()
    {
        // The storage says 1 000 000 floats; its record holds 16 bytes.
        Refused(Checkpoint(StateDict(1_000_000, 0, [1000, 1000], [1000, 1])), CheckpointProblem.OutOfBounds, "tensor 'w'");
        // The view reaches past its storage through its offset.
        Refused(Checkpoint(StateDict(4, 3, [2], [1])), CheckpointProblem.OutOfBounds, "reaches element 4 of a storage of 4");
        // ... or through a stride.
        Refused(Checkpoint(StateDict(4, 0, [2, 2], [3, 1])), CheckpointProblem.OutOfBounds, "tensor 'w'");
        // A storage whose record does not exist.
        var other = new Pickle().EmptyDict().Mark().Str("w").Tensor("7", 4, 0, [4], [1]).SetItems().Stop().ToArray();
        Refused(Checkpoint(other), CheckpointProblem.MissingRecord, "'archive/data/7'");
    }

    [Fact]
    public void ElementCountOverflow_IsRefused()
    {
        Refused(Checkpoint(StateDict(4, 0, [1L << 30, 1L << 30, 1L << 30], [0, 0, 0])), CheckpointProblem.BadShape, "more elements than fit in 64 bits");
        Refused(Checkpoint(StateDict(4, 0, [int.MaxValue, int.MaxValue], [0, 0])), CheckpointProblem.BadShape, "at most");
        Refused(Checkpoint(StateDict(4, 0, [-1], [1])), CheckpointProblem.BadShape, "negative");
        Refused(Checkpoint(StateDict(4, 0, [1L << 31], [0])), CheckpointProblem.BadShape, "over 2^31");
        Refused(Checkpoint(StateDict(long.MaxValue, 0, [1], [1])), CheckpointProblem.BadShape, "overflows");
    }

    [Theory]
    [InlineData("../../evil/data.pkl")]
    [InlineData("archive/../../../etc/data.pkl")]
    [InlineData("/tmp/archive/data.pkl")]
    [InlineData("archive\\..\\data.pkl")]
    [InlineData("C:/archive/data.pkl")]
    public void PathTraversalNames_AreRefused(string name)
    {
        var zip = Zip(("archive/data.pkl", StateDict(4, 0, [4], [1])), ("archive/data/0", new byte[16]), (name, [1, 2, 3]));
        Refused(zip, CheckpointProblem.UnsafeEntryName, "is not a plain relative path");
        Assert.Equal(["hostile.pt"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void DuplicateEntries_AreRefused()
    {
        var zip = Zip(("archive/data.pkl", StateDict(4, 0, [4], [1])), ("archive/data/0", new byte[16]), ("archive/data/0", new byte[16]));
        Refused(zip, CheckpointProblem.DuplicateEntry, "'archive/data/0' twice");
        var twoPickles = Zip(("a/data.pkl", StateDict(4, 0, [4], [1])), ("b/data.pkl", StateDict(4, 0, [4], [1])));
        Refused(twoPickles, CheckpointProblem.DuplicateEntry, "data.pkl records");
    }

    [Fact]
    public void CompressionBomb_IsRefusedWithoutInflating()
    {
        // 1 MB of zeros deflates to about 1 KB; the directory then claims 4 GB: more than deflate can produce.
        var zeros = new byte[1 << 20];
        Refused(WithDeclaredSize(DeflatedZip("archive/data.pkl", zeros), uint.MaxValue - 1), CheckpointProblem.CompressionBomb, "declares");
        // Claiming 100 bytes, the same data inflates far past them: stopped at the claim.
        Refused(WithDeclaredSize(DeflatedZip("archive/data.pkl", zeros), 100), CheckpointProblem.CompressionBomb, "inflates past");
    }

    [Fact]
    public void TruncatedArchive_IsRefusedAtEveryCut()
    {
        byte[] real = File.ReadAllBytes(ClipTestPaths.Golden("checkpoints", "tiny-test.torch-save.bin"));
        foreach (int cut in new[] { 0, 3, 21, 100, real.Length / 4, real.Length / 2, 3 * real.Length / 4, real.Length - 23, real.Length - 1 })
        {
            string path = Write("cut.bin", real[..cut]);
            var ex = Assert.ThrowsAny<Exception>(() => { using var s = TensorFiles.Open(path); });
            // Under 4 bytes the file is not recognisably a zip and goes to the safetensors reader, which names its own error.
            Assert.True(ex is CheckpointFormatException { Problem: CheckpointProblem.TruncatedArchive } || (cut < 4 && ex is PromptAD.Tensors.SafeTensors.SafeTensorsFormatException),
                $"cut at {cut}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    [Fact]
    public void LegacyFormat_IsRefusedSayingHowToConvert()
    {
        // What torch.save wrote before 1.6: a bare pickle starting with protocol 2 and its magic number.
        byte[] legacy = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.'];
        var ex = Refused(legacy, CheckpointProblem.UnsupportedFormat, "legacy");
        Assert.Contains("open_clip_model.safetensors", ex.Message);
        Assert.Contains("torch.save(torch.load(", ex.Message);
    }

    /// <summary>Through the CLI: exit 1, one line naming the problem, and nothing written (convert's --out included).</summary>
    [Fact]
    public void Cli_RefusesHostileWeights_WritingNothing()
    {
        string marker = Path.Combine(_dir, "pwned");
        string weights = Write("model.bin", Checkpoint(new Pickle().Global("os", "system").Mark().Str($"touch {marker}").Tuple().Reduce().Stop().ToArray()));
        string output = Path.Combine(_dir, "out.safetensors");
        foreach (var args in new[] { new[] { "weights", "convert", weights, "--out", output }, ["weights", "info", weights],
                     ["encode", "--weights", weights, "--images", Path.Combine(Path.GetTempPath(), "promptad-no-such-images"), "--out", output] })
        {
            var (code, _, err) = ConsoleCapture.Run(() => PromptAD.Program.Main(args));
            Assert.Equal(1, code);
            Assert.Contains($"promptad: error: Checkpoint '{weights}': archive/data.pkl: pickle global 'os.system'", err);
            Assert.Contains("'os.system' is not allowed", err);
            Assert.Equal(["model.bin"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
        }
    }

    /// <summary>Seeded single-byte mutations of a real torch.save file: a full read or a CheckpointFormatException, nothing else.</summary>
    [Fact]
    public void Mutations_ReadFullyOrFailNamed()
    {
        byte[] real = File.ReadAllBytes(ClipTestPaths.Golden("checkpoints", "features.torch-save.pt"));
        var rng = new Random(18);
        int refused = 0;
        for (int round = 0; round < 400; round++)
        {
            var bytes = (byte[])real.Clone();
            int edits = 1 + rng.Next(3);
            for (int e = 0; e < edits; e++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            string path = Write("mutant.pt", bytes);
            try
            {
                using var source = TensorFiles.Open(path);
                foreach (var t in source.Tensors.Where(t => t.DType is PromptAD.Tensors.SafeTensors.SafeTensorDType.F32 or PromptAD.Tensors.SafeTensors.SafeTensorDType.F16 or PromptAD.Tensors.SafeTensors.SafeTensorDType.BF16))
                    source.ReadFloat32(t.Name, new float[t.ElementCount]);
            }
            catch (CheckpointFormatException) { refused++; }
            catch (PromptAD.Tensors.SafeTensors.SafeTensorsFormatException) { refused++; } // the zip signature itself was hit
        }
        Assert.InRange(refused, 1, 399); // some mutations hit tensor bytes only (values change), some hit structure
    }
}
