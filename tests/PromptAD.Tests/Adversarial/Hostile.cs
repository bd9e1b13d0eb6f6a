using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// Shared ground for the adversarial suite: a synthetic dataset, tiny random weights and a trained model in a
/// temporary folder; the CLI run in-process (stdout/stderr captured) or as a child process (to be killed); FIFOs and
/// device nodes made with the system's mkfifo/mknod.
/// </summary>
internal sealed class Hostile : IDisposable
{
    private readonly TinyWorkspace _workspace = new("promptad-adv-", size: 32);

    public string Dir => _workspace.Dir;
    public string Data => _workspace.Data;
    public string Weights => _workspace.Weights;
    public string Category => Path.Combine(Data, SyntheticDataset.Category);

    public string P(params string[] parts) => Path.Combine([Dir, .. parts]);

    public void Dispose() => _workspace.Dispose();

    /// <summary>Program.Main in this process with stdout and stderr captured (tests using it share the Console collection).</summary>
    public static (int Code, string Out, string Err) Cli(params string[] args) => ConsoleCapture.Run(() => PromptAD.Program.Main(args));

    public string[] TrainArgs(string output, int epochs = 2, string shots = "2") =>
        ["train", "--weights", Weights, "--backbone", "tiny-test", "--data", Data, "--category", SyntheticDataset.Category, "--shots", shots,
            "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", output];

    public string TrainModel(string name = "model.safetensors")
    {
        string path = P(name);
        var r = Cli(TrainArgs(path));
        Assert.True(r.Code == 0, r.Err);
        return path;
    }

    /// <summary>The built CLI (promptad.dll beside the tests) started as a child process.</summary>
    public static Process Start(params string[] args) => StartWith(null, args);

    /// <summary><see cref="Start"/> with environment variables set for the child only (never for this process's other tests).</summary>
    public static Process StartWith(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        // A self-contained test build (build.ps1 device) runs where no .NET is installed: nothing to start the CLI with.
        string? host = DotnetHost();
        if (host is null) Assert.Skip("no `dotnet` host here to start the CLI as a child process");
        var psi = new ProcessStartInfo(host!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "promptad.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        var p = Process.Start(psi)!;
        return p;
    }

    /// <summary>Runs the child to the end: exit code and both streams.</summary>
    public static (int Code, string Out, string Err) RunChild(params string[] args) => RunChildWith(null, args);

    public static (int Code, string Out, string Err) RunChildWith(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var p = StartWith(environment, args);
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    private static string? DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Process.GetCurrentProcess().MainModule?.FileName is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        string[] roots = [Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? "", .. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)];
        return roots.Where(r => r.Length > 0).Select(r => Path.Combine(r, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet")).FirstOrDefault(File.Exists);
    }

    /// <summary>Runs a system tool (mkfifo, mknod); false when it is missing or fails (e.g. mknod without root).</summary>
    public static bool Tool(string name, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(name) { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public static string MakeFifo(string path)
    {
        Assert.True(Tool("mkfifo", path), "mkfifo failed");
        return path;
    }

    /// <summary>A character device like /dev/null at <paramref name="path"/> (root only); null where it cannot be made.</summary>
    public static string? MakeCharDevice(string path) => Tool("mknod", path, "c", "1", "3") ? path : null;

    /// <summary>A FIFO or character device still (checked by the system's test(1), independent of our code).</summary>
    public static bool IsSpecial(string path) => Tool("test", "-p", path) || Tool("test", "-c", path);

    /// <summary>Every file under a folder with its bytes' SHA-256, to prove nothing changed.</summary>
    public static Dictionary<string, string> Snapshot(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(folder, f),
            f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>A usage error (exit 2) whose one-line message names <paramref name="mentions"/>, and no bug.</summary>
    public static void Usage((int Code, string Out, string Err) r, string mentions)
    {
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.Contains(mentions, r.Err);
        Assert.DoesNotContain("internal error", r.Err);
    }

    public static string Sha(string file) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
}
