using System.CommandLine;
using PromptAD.Clip;

namespace PromptAD.Cli;

/// <summary>`--mid-features as-published|block-output` (SPEC §4 item 3), on train and encode.</summary>
internal static class MidFeaturesOption
{
    public static Option<string> Create()
    {
        var o = new Option<string>("--mid-features")
        {
            Description = $"mid-level features behind the memory banks: {MidFeatureModes.AsPublishedName} = what the authors' code " +
                $"stores (block k's output plus block k+1's attention residual; the published numbers), {MidFeatureModes.BlockOutputName} = the plain block output",
            DefaultValueFactory = _ => MidFeatureModes.AsPublishedName,
        };
        o.CompletionSources.Add(MidFeatureModes.AsPublishedName, MidFeatureModes.BlockOutputName);
        o.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (!MidFeatureModes.TryParse(value, out _))
                result.AddError($"--mid-features: '{value}' is neither {MidFeatureModes.AsPublishedName} nor {MidFeatureModes.BlockOutputName}");
        });
        return o;
    }

    public static MidFeatureMode Parse(string value) =>
        MidFeatureModes.TryParse(value, out var mode) ? mode : throw new ArgumentException(
            $"--mid-features: '{value}' is neither {MidFeatureModes.AsPublishedName} nor {MidFeatureModes.BlockOutputName}");
}
