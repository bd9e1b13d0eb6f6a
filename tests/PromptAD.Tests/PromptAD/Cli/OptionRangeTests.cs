namespace PromptAD.Tests.Cli;

/// <summary>Shared numeric options carry their one range into every verb: out of range is a usage error at parse time,
/// before anything is loaded, naming the option and the range.</summary>
[Collection("Console")]
public sealed class OptionRangeTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args) => Adversarial.Hostile.Cli(args);

    [Theory]
    [InlineData("calibrate", "--size", "5000", "--size must be between 1 and 4096, got 5000")]
    [InlineData("serve", "--size", "5000", "--size must be between 1 and 4096, got 5000")]
    [InlineData("predict", "--size", "0", "--size must be between 1 and 4096, got 0")]
    [InlineData("serve", "--batch", "0", "--batch must be between 1 and 1024, got 0")]
    [InlineData("calibrate", "--batch", "2000", "--batch must be between 1 and 1024, got 2000")]
    [InlineData("demo", "--epochs", "-1", "--epochs must be between 0 and 100000, got -1")]
    [InlineData("train", "--epochs", "100001", "--epochs must be between 0 and 100000, got 100001")]
    [InlineData("run", "--epochs", "-5", "--epochs must be between 0 and 100000, got -5")]
    [InlineData("calibrate", "--fpr", "1.5", "--fpr must be a rate from 1e-6 up to (not including) 1, got 1.5")]
    public void OutOfRange_IsAUsageErrorNamingTheRange(string verb, string option, string value, string message)
    {
        var r = Cli(verb, option, value);
        Assert.Equal(2, r.Code);
        Assert.Contains(message, r.Err);
    }
}
