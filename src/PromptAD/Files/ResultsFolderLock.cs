using System.Diagnostics;
using System.Globalization;

namespace PromptAD.Files;

/// <summary>
/// One writer per results folder: <c>.promptad.lock</c> holds the owner's pid, host, process start time and verb.
/// A second <c>run</c>, <c>test</c> or <c>predict</c> into the same folder fails at once naming the owner. A lock
/// left by a dead process on this host (no such pid, or the pid now belongs to a process started at another time)
/// is stale and taken over; a lock from another host cannot be checked and is reported with how to remove it.
/// The lock file is created complete (written aside, then linked into place without overwriting), so no reader
/// ever sees a half-written one.
/// </summary>
public sealed class ResultsFolderLock : IDisposable
{
    public const string FileName = ".promptad.lock";

    private readonly string _path;
    private readonly string _content;

    private ResultsFolderLock(string path, string content)
    {
        _path = path;
        _content = content;
    }

    public static ResultsFolderLock Acquire(string folder, string verb)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        using var self = Process.GetCurrentProcess();
        string content = Owner.Format(Environment.ProcessId, Environment.MachineName, self.StartTime.ToUniversalTime(), verb);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            if (TryCreate(path, content)) return new ResultsFolderLock(path, content);
            string existing;
            try { existing = File.ReadAllText(path); }
            catch (FileNotFoundException) { continue; } // released meanwhile
            var owner = Owner.Parse(existing);
            if (owner is null || !owner.IsDeadOnThisHost()) throw InUse(folder, path, owner);
            TakeOver(path, existing);
        }
        throw InUse(folder, path, Owner.Parse(SafeRead(path)));
    }

    /// <summary>
    /// Throws (<see cref="ResultsFolderBusyException"/>, naming the owner) when a live process holds the folder's lock:
    /// for readers that must not take a folder still being written (run --merge reading a shard), without writing there.
    /// </summary>
    public static void ThrowIfHeld(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (SafeRead(path) is not { } text) return;
        var owner = Owner.Parse(text);
        if (owner is null || !owner.IsDeadOnThisHost()) throw InUse(folder, path, owner);
    }

    /// <summary>Removes the lock if it is still ours.</summary>
    public void Dispose()
    {
        try
        {
            if (SafeRead(_path) == _content) File.Delete(_path);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static bool TryCreate(string path, string content)
    {
        string temp = path + ".tmp-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(temp, content);
        try
        {
            File.Move(temp, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Moves the stale lock aside first: of two processes taking over at once, only one rename succeeds.</summary>
    private static void TakeOver(string path, string staleContent)
    {
        string aside = path + ".stale-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try { File.Move(path, aside, overwrite: true); }
        catch (FileNotFoundException) { return; }
        if (SafeRead(aside) != staleContent)
        {
            // Someone else's fresh lock landed in between: put it back (never over a newer one).
            try { File.Move(aside, path, overwrite: false); } catch (IOException) { }
        }
        if (File.Exists(aside)) File.Delete(aside);
    }

    private static string? SafeRead(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static IOException InUse(string folder, string path, Owner? owner) => new ResultsFolderBusyException(
        $"results folder '{folder}' is in use by " + (owner is null ? "another promptad process" : owner.Describe())
        + $"; wait for it to finish or use another results folder (if that process is gone, delete '{path}').");

    private sealed record Owner(int Pid, string Host, DateTime StartedUtc, string Verb)
    {
        public static string Format(int pid, string host, DateTime startedUtc, string verb) => string.Create(CultureInfo.InvariantCulture,
            $"pid={pid}\nhost={host}\nstarted={startedUtc:O}\nverb={verb}\n");

        public static Owner? Parse(string? text)
        {
            if (text is null) return null;
            var fields = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            if (!fields.TryGetValue("pid", out var pid) || !int.TryParse(pid, CultureInfo.InvariantCulture, out int id)
                || !fields.TryGetValue("host", out var host)
                || !fields.TryGetValue("started", out var s) || !DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var started))
                return null;
            return new Owner(id, host, started.ToUniversalTime(), fields.GetValueOrDefault("verb") ?? "promptad");
        }

        public bool IsDeadOnThisHost()
        {
            if (!string.Equals(Host, Environment.MachineName, StringComparison.Ordinal)) return false;
            try
            {
                using var p = Process.GetProcessById(Pid);
                if (p.HasExited) return true;
                // The pid was reused by a later process: the owner is gone.
                return Math.Abs((p.StartTime.ToUniversalTime() - StartedUtc).TotalSeconds) > 1;
            }
            catch (ArgumentException) { return true; } // no such process
            catch (InvalidOperationException) { return true; }
        }

        public string Describe() => $"`promptad {Verb}` (pid {Pid} on host {Host}, started {StartedUtc:yyyy-MM-dd HH:mm:ss} UTC)";
    }
}

/// <summary>Another process writes into the results folder.</summary>
public sealed class ResultsFolderBusyException(string message) : IOException(message);
