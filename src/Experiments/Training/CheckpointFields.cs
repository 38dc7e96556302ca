using System.Globalization;
using System.Text.Json;
using Microsoft.FSharp.Collections;

namespace Masking.Experiments.Training;

/// <summary>
/// A checkpoint's metadata fields, read with an error naming the file when one is missing or malformed (a damaged
/// checkpoint, or a safetensors file that is not one of ours), instead of a KeyNotFoundException on resume.
/// </summary>
internal static class CheckpointFields
{
    public static string Text(IReadOnlyDictionary<string, string> meta, string path, string key) =>
        meta.TryGetValue(key, out var v) ? v : throw Missing(path, key, "a value");

    public static string Text(FSharpMap<string, string> meta, string path, string key) =>
        meta.TryFind(key)?.Value ?? throw Missing(path, key, "a value");

    public static long Long(string text, string path, string key) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : throw Missing(path, key, "a whole number");

    public static T Json<T>(string text, string path, string key) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text) ?? throw Missing(path, key, "a JSON object");
        }
        catch (JsonException)
        {
            throw Missing(path, key, "a JSON object");
        }
    }

    private static InputError Missing(string path, string key, string what) =>
        new($"{path}:0: expected \"{key}\" in the checkpoint's metadata as {what} (a damaged checkpoint, or not one this program wrote)");
}
