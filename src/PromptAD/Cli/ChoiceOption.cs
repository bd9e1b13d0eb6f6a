using System.CommandLine;

namespace PromptAD.Cli;

/// <summary>
/// An option whose value is one of a few names, each standing for a typed value: the parser refuses any other name
/// (naming the option and every choice), help and completion show the names, and the verb reads the typed value.
/// </summary>
internal sealed class ChoiceOption<T>
{
    private readonly (string Name, T Value)[] _choices;

    public ChoiceOption(string name, string description, string defaultName, params (string Name, T Value)[] choices)
    {
        _choices = choices;
        DefaultName = defaultName;
        if (!choices.Any(c => c.Name == defaultName)) throw new ArgumentException($"{name}: default '{defaultName}' is not a choice");
        Option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultName };
        Option.CompletionSources.Add([.. choices.Select(c => c.Name)]);
        Option.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (!TryParse(value, out _)) result.AddError($"{name}: '{value}' is not one of {Names}");
        });
    }

    public Option<string> Option { get; }

    /// <summary>The choice taken when the option is not given.</summary>
    public string DefaultName { get; }

    /// <summary>Whether <paramref name="name"/> is one of the choices.</summary>
    public bool IsChoice(string name) => TryParse(name, out _);

    /// <summary>The chosen name as a command's validator sees it: the default when the option was not given (the
    /// parser adds defaults only after validating).</summary>
    public string NameIn(System.CommandLine.Parsing.CommandResult result) => result.GetValue(Option) ?? DefaultName;

    /// <summary>The choices' names, comma-separated, for help and messages.</summary>
    public string Names => string.Join(", ", _choices.Select(c => c.Name));

    /// <summary>The typed value the command line chose (the parser has already refused any other name).</summary>
    public T Value(ParseResult parse) =>
        TryParse(parse.GetValue(Option), out var value) ? value : throw new ArgumentException($"{Option.Name}: '{parse.GetValue(Option)}' is not one of {Names}");

    private bool TryParse(string? text, out T value)
    {
        foreach (var (name, v) in _choices)
            if (name == text)
            {
                value = v;
                return true;
            }
        value = default!;
        return false;
    }

    public static implicit operator Option(ChoiceOption<T> choice) => choice.Option;
}
