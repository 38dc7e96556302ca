using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Masking.Experiments.Grid;

/// <summary>
/// The line of every field of a JSON config ("finetune.steps", "learned_policies[1].init"), read with the
/// config's own reader settings, so that a problem found after deserialising still names the field's line. A
/// field given twice in one object is an error naming both lines (System.Text.Json would keep the last).
/// </summary>
internal sealed class ConfigLines
{
    private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);

    /// <summary>The field's line; for a field the file leaves out (a default), its nearest enclosing one's; else 1.</summary>
    public int Of(string field)
    {
        for (var f = field; ; f = f.LastIndexOfAny(['.', '[']) is var i and >= 0 ? f[..i] : "")
        {
            if (_lines.TryGetValue(f, out var line)) return line;
            if (f.Length == 0) return 1;
        }
    }

    public static ConfigLines Read(string file, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var starts = new List<int> { 0 };
        for (var i = 0; i < bytes.Length; i++)
            if (bytes[i] == (byte)'\n') starts.Add(i + 1);
        int LineOf(long at)
        {
            var i = starts.BinarySearch((int)at);
            return i >= 0 ? i + 1 : ~i;
        }
        static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

        var result = new ConfigLines();
        // Next: -1 inside an object, else the index of the array's next element.
        var open = new Stack<(string Path, int Next)>();
        var name = "";
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                var line = LineOf(reader.TokenStartIndex);
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        name = reader.GetString()!;
                        var field = Join(open.Peek().Path, name);
                        if (result._lines.TryGetValue(field, out var first))
                            throw new InputError($"{file}:{line}: {field}: expected each field once (first on line {first})");
                        result._lines[field] = line;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        open.Pop();
                        break;
                    default:
                        // A value: of the field just named, or the next element of an array.
                        var at = "";
                        if (open.Count > 0)
                        {
                            var (path, next) = open.Pop();
                            open.Push((path, next < 0 ? next : next + 1));
                            at = next < 0 ? Join(path, name) : $"{path}[{next}]";
                        }
                        result._lines.TryAdd(at, line);
                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                            open.Push((at, reader.TokenType == JsonTokenType.StartObject ? -1 : 0));
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Bad syntax: the deserialiser reports it, with its own line.
        }
        return result;
    }

    /// <summary>
    /// The field a problem message is about: "seeds: …" is seeds; "learned_policies: 'a': init …" is the init of
    /// the learned policy named a (its index found in <paramref name="names"/>).
    /// </summary>
    public static string FieldOf(string message, Func<string, IReadOnlyList<string>> names)
    {
        if (Regex.Match(message, @"^(?<list>arms|learned_policies): '(?<name>[^']*)': (?<sub>[a-z_]+)") is { Success: true } m)
        {
            var index = names(m.Groups["list"].Value).ToList().IndexOf(m.Groups["name"].Value);
            return index < 0 ? m.Groups["list"].Value : $"{m.Groups["list"].Value}[{index}].{m.Groups["sub"].Value}";
        }
        return Regex.Match(message, @"^(?<field>[a-z_][a-z_.\[\]0-9]*):") is { Success: true } f ? f.Groups["field"].Value : "";
    }

    /// <summary>System.Text.Json's "could not be converted to System.Int32" in the config's words.</summary>
    public static string Explain(JsonException e)
    {
        var field = e.Path is { Length: > 1 } p ? p.TrimStart('$').TrimStart('.') : "";
        var message = e.Message.Split(" Path:")[0].Split(". LineNumber")[0];
        if (Regex.Match(message, @"could not be converted to (?<type>[\w.`]+)(\[(?<arg>[^\]]+)\])?") is { Success: true } m)
        {
            var type = m.Groups["type"].Value;
            var arg = m.Groups["arg"].Value;
            var expected =
                type.Contains("Int32") || type.Contains("Int64") ? "an integer"
                : type.Contains("Double") ? "a number"
                : type.Contains("String") ? "a string"
                : type.Contains("Boolean") ? "true or false"
                : type.Contains("Dictionary") ? "an object"
                : type.Contains("List") || type.EndsWith("[]", StringComparison.Ordinal)
                    ? "an array" + (arg.Contains("String") ? " of strings" : arg.Contains("Double") ? " of numbers" : arg.Contains("Int32") ? " of integers" : "")
                : "an object";
            return $"{field}: expected {expected}";
        }
        if (message.Contains("doesn't allow setting null", StringComparison.Ordinal))
            return $"{field}: expected a value, found null";
        // Unknown fields and syntax: the library's words, with no .NET type named.
        return Regex.Replace(message, @" on type '[^']+'| contained in type '[^']+'| for type '[^']+'", "");
    }
}
