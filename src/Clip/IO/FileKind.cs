using System.Runtime.InteropServices;

namespace PromptAD.Clip.IO;

/// <summary>What a path names, as the file system says (symbolic links followed).</summary>
public enum FileKindType
{
    Missing,
    Regular,
    Directory,
    /// <summary>A FIFO, socket, character or block device: opening it can block forever or never end.</summary>
    Special,
}

/// <summary>
/// The kind of a path and its identity (device + inode), read with stat(2) without opening the file: opening a FIFO
/// for reading blocks until a writer appears, and a device never ends. .NET's FileInfo tells directories from
/// everything else but not a regular file from a FIFO or device node, hence the call into libc. Where libc's stat is
/// not available (Windows, macOS, musl) every existing non-directory counts as regular and identity is the resolved
/// path.
/// </summary>
public static unsafe class FileKind
{
    private const uint TypeMask = 0xF000, RegularBits = 0x8000, DirectoryBits = 0x4000;

    private static readonly delegate* unmanaged<byte*, byte*, int> StatFn = Resolve(out StModeOffset);
    private static readonly int StModeOffset;

    public static FileKindType Of(string path) => Stat(path, out _, out _);

    /// <summary>"a FIFO, socket or device" and the like, for messages.</summary>
    public static string Describe(FileKindType kind) => kind switch
    {
        FileKindType.Missing => "missing",
        FileKindType.Regular => "a regular file",
        FileKindType.Directory => "a folder",
        _ => "not a regular file (a FIFO, socket or device)",
    };

    /// <summary>True when both paths exist and are the same file (hard links and symbolic links included).</summary>
    public static bool SameFile(string a, string b)
    {
        if (Stat(a, out ulong devA, out ulong inoA) == FileKindType.Missing || Stat(b, out ulong devB, out ulong inoB) == FileKindType.Missing)
            return false;
        if (StatFn != null) return devA == devB && inoA == inoB;
        return string.Equals(Resolved(a), Resolved(b), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The absolute path with every symbolic link in it resolved (as far as the path exists).</summary>
    public static string Resolved(string path)
    {
        string full = Path.GetFullPath(path);
        // Resolve from the deepest existing ancestor down, so a link anywhere in the path counts.
        string? existing = full;
        var rest = new Stack<string>();
        while (existing is not null && !Path.Exists(existing))
        {
            rest.Push(Path.GetFileName(existing));
            existing = Path.GetDirectoryName(existing);
        }
        if (existing is null) return full;
        string resolved = ResolveExisting(existing);
        while (rest.Count > 0) resolved = Path.Combine(resolved, rest.Pop());
        return resolved;
    }

    private static string ResolveExisting(string path)
    {
        string? parent = Path.GetDirectoryName(path);
        string here = parent is null ? path : Path.Combine(ResolveExisting(parent), Path.GetFileName(path));
        for (int hops = 0; hops < 40; hops++)
        {
            FileSystemInfo info = Directory.Exists(here) ? new DirectoryInfo(here) : new FileInfo(here);
            if (info.LinkTarget is not { } target) return here;
            here = Path.GetFullPath(target, Path.GetDirectoryName(here) ?? "/");
            string? p = Path.GetDirectoryName(here);
            if (p is not null) here = Path.Combine(ResolveExisting(p), Path.GetFileName(here));
        }
        return here;
    }

    private static FileKindType Stat(string path, out ulong device, out ulong inode)
    {
        device = inode = 0;
        if (StatFn == null)
        {
            if (Directory.Exists(path)) return FileKindType.Directory;
            return File.Exists(path) ? FileKindType.Regular : FileKindType.Missing;
        }
        byte[] name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        byte* buffer = stackalloc byte[512];
        fixed (byte* p = name)
        {
            if (StatFn(p, buffer) != 0) return FileKindType.Missing;
        }
        device = *(ulong*)buffer;
        inode = *(ulong*)(buffer + 8);
        uint mode = *(uint*)(buffer + StModeOffset) & TypeMask;
        return mode switch
        {
            RegularBits => FileKindType.Regular,
            DirectoryBits => FileKindType.Directory,
            _ => FileKindType.Special,
        };
    }

    /// <summary>glibc ≥ 2.33 exports stat; st_dev and st_ino lead struct stat on x86-64 and arm64, st_mode follows.</summary>
    private static delegate* unmanaged<byte*, byte*, int> Resolve(out int modeOffset)
    {
        modeOffset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24, // st_dev, st_ino, st_nlink (8 bytes each), st_mode
            Architecture.Arm64 => 16, // st_dev, st_ino, st_mode, st_nlink (4 bytes)
            _ => -1,
        };
        if (!OperatingSystem.IsLinux() || modeOffset < 0) return null;
        if (!NativeLibrary.TryLoad("libc.so.6", out nint libc) || !NativeLibrary.TryGetExport(libc, "stat", out nint stat)) return null;
        return (delegate* unmanaged<byte*, byte*, int>)stat;
    }
}
