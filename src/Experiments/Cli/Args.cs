using System.Globalization;

namespace Masking.Experiments.Cli;

/// <summary>
/// <c>--name value</c> options and positional words. Every option a command reads is declared by reading
/// it; <see cref="EnsureAllUsed"/> then rejects any the user gave that the command does not know.
/// </summary>
public sealed class Args
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    public IReadOnlyList<string> Positional { get; }

    public Args(IEnumerable<string> argv)
    {
        var positional = new List<string>();
        var list = argv.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var eq = a.IndexOf('=');
                string name, value;
                if (eq > 0) { name = a[2..eq]; value = a[(eq + 1)..]; }
                else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal)) { name = a[2..]; value = list[++i]; }
                else { name = a[2..]; value = "true"; }
                if (!_options.TryAdd(name, value)) throw new CliError($"option --{name} given twice");
            }
            else positional.Add(a);
        }
        Positional = positional;
    }

    public string? Optional(string name)
    {
        _used.Add(name);
        return _options.GetValueOrDefault(name);
    }

    public string Required(string name, string what) =>
        Optional(name) ?? throw new CliError($"missing --{name} ({what})");

    public ulong UInt64(string name, ulong fallback)
    {
        var s = Optional(name);
        if (s is null) return fallback;
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v : throw new CliError($"--{name} expects a non-negative integer, got '{s}'");
    }

    public int Int(string name, int fallback, int min = int.MinValue)
    {
        var s = Optional(name);
        if (s is null) return fallback;
        return int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v : throw new CliError($"--{name} expects an integer ≥ {min}, got '{s}'");
    }

    public double Double(string name, double fallback, double min = double.MinValue)
    {
        var s = Optional(name);
        if (s is null) return fallback;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v : throw new CliError($"--{name} expects a number ≥ {min}, got '{s}'");
    }

    public void EnsureAllUsed(string command)
    {
        var unknown = _options.Keys.Where(k => !_used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new CliError($"{command}: unknown option --{unknown[0]}; known: {string.Join(", ", _used.OrderBy(k => k, StringComparer.Ordinal).Select(k => "--" + k))}");
    }
}
