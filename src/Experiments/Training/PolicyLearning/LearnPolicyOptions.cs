using System.Text.Json;
using System.Text.Json.Serialization;

namespace Masking.Experiments.Training;

/// <summary>
/// Everything a <c>learn-policy</c> run depends on, as plain data with its defaults: the command line and the
/// grid fill it in, and the run directory keeps it as run.json (a run resumes only with the same options).
/// </summary>
public sealed record LearnPolicyOptions
{
    /// <summary>supervised (span extraction from context and answer) or meta (the bilevel objective).</summary>
    public required string Kind { get; init; }
    public required string Task { get; init; }
    /// <summary>The pretrain or intermediate run (or Hugging Face directory) that gives the vocabulary and, for
    /// meta and the lm encoder, the model.</summary>
    public required string From { get; init; }
    /// <summary>Where closed-book tasks' contexts come from.</summary>
    public string Corpus { get; init; } = "world-target";
    public int Steps { get; init; } = 600;
    public double LearningRate { get; init; } = 1e-3;
    public double InnerLearningRate { get; init; } = 1e-2;
    /// <summary>How many times the meta-objective unrolls its pair of inner steps (MLM, then task).</summary>
    public int InnerSteps { get; init; } = 1;
    /// <summary>The share of tokens the meta-objective's mask spends.</summary>
    public double Budget { get; init; } = 0.15;
    /// <summary>exact (second order) or first-order.</summary>
    public string Gradient { get; init; } = "exact";
    /// <summary>Meta only: θ trains alongside the policy instead of being reset every meta-step.</summary>
    public bool TrainAlong { get; init; }
    /// <summary>Another learn-policy run whose scorer is the starting point.</summary>
    public string? Init { get; init; }
    public int EvalEvery { get; init; } = 100;
    public int Patience { get; init; } = 5;
    public ulong Seed { get; init; }
    /// <summary>lm: the scorer starts from the language model's encoder; scratch: a small encoder of its own.</summary>
    public string Encoder { get; init; } = "lm";
    /// <summary>With the lm encoder: train its token embeddings too (frozen by default).</summary>
    public bool TrainEmbeddings { get; init; }

    /// <summary>The options' own check of their words (the numbers are checked where they are read).</summary>
    public string? Invalid() =>
        Kind is not ("supervised" or "meta") ? $"kind: expected supervised or meta, got '{Kind}'"
        : Encoder is not ("scratch" or "lm") ? $"encoder: expected scratch or lm, got '{Encoder}'"
        : Gradient is not ("exact" or "first-order") ? $"meta gradient: expected exact or first-order, got '{Gradient}'"
        : null;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static LearnPolicyOptions? FromJson(string json)
    {
        try { return JsonSerializer.Deserialize<LearnPolicyOptions>(json, Json); }
        catch (JsonException) { return null; }
    }
}
