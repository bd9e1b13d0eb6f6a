using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// Writes hostile PyTorch checkpoints byte by byte: pickles opcode by opcode (as Python's pickle module would emit
/// them, protocol 2) and zip archives entry by entry, so each case breaks exactly one rule.
/// </summary>
internal static class HostileCheckpoints
{
    /// <summary>A pickle program, opcode by opcode.</summary>
    internal sealed class Pickle
    {
        private readonly MemoryStream _bytes = new();

        public Pickle() => Op(0x80, 2); // PROTO 2

        public Pickle Op(params byte[] bytes)
        {
            _bytes.Write(bytes);
            return this;
        }

        public Pickle Global(string module, string name) => Op((byte)'c').Op(Encoding.UTF8.GetBytes($"{module}\n{name}\n"));

        public Pickle Str(string s)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(s);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
            return Op((byte)'X').Op(length).Op(utf8);
        }

        public Pickle Int(long v)
        {
            var b = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(b, v);
            return Op(0x8a, 8).Op(b); // LONG1 with 8 bytes: any 64-bit value
        }

        public Pickle Mark() => Op((byte)'(');
        public Pickle Tuple() => Op((byte)'t');
        public Pickle EmptyTuple() => Op((byte)')');
        public Pickle EmptyDict() => Op((byte)'}');
        public Pickle SetItems() => Op((byte)'u');
        public Pickle Reduce() => Op((byte)'R');
        public Pickle False() => Op(0x89);
        public Pickle Stop() => Op((byte)'.');

        /// <summary>A tensor as torch.save writes it: _rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict()).</summary>
        public Pickle Tensor(string key, long storageElements, long offset, long[] size, long[] stride, string storageType = "FloatStorage")
        {
            Global("torch._utils", "_rebuild_tensor_v2").Mark();
            Mark().Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(storageElements).Tuple().Op((byte)'Q');
            Int(offset);
            Mark(); foreach (long s in size) Int(s); Tuple();
            Mark(); foreach (long s in stride) Int(s); Tuple();
            False().Global("collections", "OrderedDict").EmptyTuple().Reduce();
            return Tuple().Reduce();
        }

        public byte[] ToArray() => _bytes.ToArray();
    }

    /// <summary>{"w": tensor} with the given view of storage "0".</summary>
    public static byte[] StateDict(long storageElements, long offset, long[] size, long[] stride) =>
        new Pickle().EmptyDict().Mark().Str("w").Tensor("0", storageElements, offset, size, stride).SetItems().Stop().ToArray();

    /// <summary>A zip of (name, content) entries, stored, in order (duplicates and any names allowed).</summary>
    public static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(content);
            }
        }
        return stream.ToArray();
    }

    /// <summary>A zip whose one entry is deflated.</summary>
    public static byte[] DeflatedZip(string name, byte[] content)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var s = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
            s.Write(content);
        }
        return stream.ToArray();
    }

    /// <summary>A checkpoint: archive/data.pkl plus archive/data/0 holding <paramref name="storageBytes"/> bytes.</summary>
    public static byte[] Checkpoint(byte[] pickle, int storageBytes = 16) =>
        Zip(("archive/data.pkl", pickle), ("archive/data/0", new byte[storageBytes]));

    /// <summary>Sets the uncompressed size of every central-directory entry (the size a reader would allocate).</summary>
    public static byte[] WithDeclaredSize(byte[] zip, uint size)
    {
        var copy = (byte[])zip.Clone();
        for (int i = 0; i + 46 <= copy.Length; i++)
            if (BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(i)) == 0x02014b50)
                BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(i + 24), size);
        return copy;
    }
}
