namespace PromptAD.Data;

/// <summary>Failures of the data behind a computation, told apart from usage errors.</summary>
internal static class DataFailure
{
    /// <summary>
    /// Runs a computation on data (metrics of a test set): its argument checks ("AUROC is undefined without a normal
    /// image", NaN scores) are failures of the data, exit 1, not usage errors; the message names <paramref name="source"/>.
    /// </summary>
    public static T Of<T>(Func<T> compute, string source)
    {
        try
        {
            return compute();
        }
        catch (ArgumentException e)
        {
            throw new DatasetException($"'{source}': {e.Message}", e);
        }
    }
}
