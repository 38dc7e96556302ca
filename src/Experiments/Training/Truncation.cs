using System.Globalization;

namespace Masking.Experiments.Training;

/// <summary>
/// How many of a stage's sources and targets the length limits cut (<see cref="Prediction.Wrap"/> keeps the first
/// tokens). A cut is never silent: each stage prints its counts and keeps them in final.json, and the
/// report shows them per task.
/// </summary>
public sealed record Truncation(int Examples, int SourcesCut, int TargetsCut)
{
    /// <summary>Whether a body of <paramref name="length"/> tokens is cut: a source also carries &lt;s&gt; and
    /// &lt;/s&gt;, a target only &lt;/s&gt;.</summary>
    public static bool Cuts(bool isSource, int length, int maxLength) => length > maxLength - 1 - (isSource ? 1 : 0);

    /// <summary>"3 of 200 sources cut to 96 tokens, 0 targets cut to 24"; without a target limit, sources only.</summary>
    public string Describe(int maxSource, int? maxTarget) =>
        string.Create(CultureInfo.InvariantCulture, $"{SourcesCut} of {Examples} sources cut to {maxSource} tokens") +
        (maxTarget is { } t ? string.Create(CultureInfo.InvariantCulture, $", {TargetsCut} targets cut to {t}") : "");

    public Dictionary<string, object> ToJson() => new()
    {
        ["examples"] = Examples, ["sources_cut"] = SourcesCut, ["targets_cut"] = TargetsCut,
    };
}
