namespace PromptAD.Training;

/// <summary>
/// The model training was asked to start from has learned vectors of other shapes than the options make (another
/// backbone width or prompt length): a usage error, which the command line reports against the option that named it.
/// </summary>
public sealed class InitModelMismatchException(string message) : ArgumentException(message);
