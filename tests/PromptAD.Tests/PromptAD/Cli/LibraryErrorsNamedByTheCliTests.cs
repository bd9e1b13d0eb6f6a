using PromptAD.Serving;
using PromptAD.Training;

namespace PromptAD.Tests.Cli;

/// <summary>
/// Library code reports a value or file in its own terms; the command line names the option it came from: serve's
/// model list, and a model to start training from whose vectors do not fit.
/// </summary>
[Collection("Console")]
public sealed class LibraryErrorsNamedByTheCliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("promptad-names-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => ConsoleCapture.Run(() => PromptAD.Program.Main(args));

    [Fact]
    public void ServesModelListErrorsNameTheModelOption()
    {
        string weights = Path.Combine(dir, "w.safetensors");
        File.WriteAllText(weights, "not read: the model list is checked first");
        string missing = Path.Combine(dir, "nope.safetensors");

        var library = Assert.Throws<FileNotFoundException>(() => ModelList.Resolve(["x=" + missing]));
        Assert.DoesNotContain("--model", library.Message);
        Assert.Contains("nope.safetensors", library.Message);

        var (code, _, err) = Cli("serve", "--model", "x=" + missing, "--weights", weights);
        Assert.Equal(1, code);
        Assert.Contains("--model: Model file", err);
        Assert.Contains("nope.safetensors", err);

        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        (code, _, err) = Cli("serve", "--model", Path.Combine(dir, "empty"), "--weights", weights);
        Assert.Equal(2, code);
        Assert.Contains("--model: the folder", err);
        Assert.Contains("holds no .safetensors model", err);
    }

    [Fact]
    public void AnInitModelMismatchIsAUsageErrorTheCliCanTellApart()
    {
        var e = new InitModelMismatchException("the initial model's image vectors do not match");
        Assert.IsAssignableFrom<ArgumentException>(e); // exit 2 even where no caller names the option
        Assert.Equal(PromptAD.Cli.CliErrors.Usage, PromptAD.Cli.CliErrors.ExitCode(e));
    }
}
