using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Masking.Experiments.Cli;

/// <summary>
/// System.CommandLine options of the kinds the commands take, each with its range, its default shown in
/// <c>--help</c>, and an error in the command line's own words ("--steps expects an integer ≥ 1, got 'x'")
/// instead of the library's, which names .NET types.
/// </summary>
public static class Opts
{
    public static Option<int> Int(string name, int defaultValue, string description, int min = int.MinValue, int max = int.MaxValue) =>
        new(name)
        {
            Description = description, HelpName = "N", DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseInt(r, name, min, max) ?? defaultValue,
        };

    /// <summary>An integer with no default: null when not given.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = int.MinValue, int max = int.MaxValue) =>
        new(name) { Description = description, HelpName = "N", CustomParser = r => ParseInt(r, name, min, max) };

    public static Option<ulong> Seed(ulong defaultValue = 0, string description = "the seed every random draw derives from") =>
        new("--seed")
        {
            Description = description, HelpName = "N", DefaultValueFactory = _ => defaultValue,
            CustomParser = r =>
            {
                var s = Token(r);
                if (ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) return v;
                r.AddError($"--seed expects a non-negative integer, got '{s}'");
                return defaultValue;
            },
        };

    /// <summary>A number in [min, max] (or [min, max) when <paramref name="maxExclusive"/>).</summary>
    public static Option<double> Double(string name, double defaultValue, string description, double min = double.MinValue,
        double max = double.MaxValue, bool maxExclusive = false) =>
        new(name)
        {
            Description = description, HelpName = "X", DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseDouble(r, name, min, max, maxExclusive) ?? defaultValue,
        };

    /// <summary>A number with no default: null when not given.</summary>
    public static Option<double?> OptionalDouble(string name, string description, double min = double.MinValue,
        double max = double.MaxValue, bool maxExclusive = false) =>
        new(name) { Description = description, HelpName = "X", CustomParser = r => ParseDouble(r, name, min, max, maxExclusive) };

    /// <summary>A word or a path; null when not given and there is no default.</summary>
    public static Option<string> Text(string name, string helpName, string description, string? defaultValue = null)
    {
        var option = new Option<string>(name) { Description = description, HelpName = helpName };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>
    /// A value the command cannot do without. Its absence is reported as "missing --name (what it is)" by a
    /// validator of the command, so that it comes out as one line like every other error.
    /// </summary>
    public static Option<string> Required(Command command, string name, string helpName, string what) =>
        Require(command, new Option<string>(name) { Description = what + " (required)", HelpName = helpName }, what);

    /// <summary>Adds an option the command cannot do without (a choice, say), with the same one-line error.</summary>
    public static Option<T> Require<T>(Command command, Option<T> option, string what)
    {
        command.Options.Add(option);
        command.Validators.Add(r =>
        {
            if (r.GetResult(option) is null) r.AddError($"missing {option.Name} ({what})");
        });
        return option;
    }

    /// <summary>One of a few words.</summary>
    public static Option<string> Choice(string name, string description, string? defaultValue, params string[] values)
    {
        var option = new Option<string>(name) { Description = description, HelpName = string.Join("|", values) };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        option.CustomParser = r =>
        {
            var s = Token(r);
            if (values.Contains(s, StringComparer.Ordinal)) return s;
            r.AddError($"{name}: expected {Words(values)}, got '{s}'");
            return defaultValue;
        };
        option.CompletionSources.Add(values);
        return option;
    }

    /// <summary>A switch: present or not. It never takes the next word as its value.</summary>
    public static Option<bool> Flag(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>true or false, written out (a word option: the library's bool would leave "maybe" unread).</summary>
    public static Option<string> Boolean(string name, string description) => Choice(name, description, null, "true", "false");

    /// <summary>"a or b", "a, b or c".</summary>
    private static string Words(IReadOnlyList<string> values) =>
        values.Count == 1 ? values[0] : string.Join(", ", values.Take(values.Count - 1)) + " or " + values[^1];

    private static string Token(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[0].Value : "";

    private static int? ParseInt(ArgumentResult r, string name, int min, int max)
    {
        var s = Token(r);
        if (int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max) return v;
        r.AddError(max == int.MaxValue
            ? $"{name} expects an integer ≥ {min}, got '{s}'"
            : $"{name} expects an integer in [{min}, {max}], got '{s}'");
        return null;
    }

    private static double? ParseDouble(ArgumentResult r, string name, double min, double max, bool maxExclusive)
    {
        var s = Token(r);
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= min
            && (maxExclusive ? v < max : v <= max))
            return v;
        var range = max == double.MaxValue
            ? min == double.MinValue ? "a number" : $"a number ≥ {min.ToString(CultureInfo.InvariantCulture)}"
            : $"a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}{(maxExclusive ? ")" : "]")}";
        r.AddError($"{name} expects {range}, got '{s}'");
        return null;
    }
}
