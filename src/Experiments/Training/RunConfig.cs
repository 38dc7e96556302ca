using System.Text.Json;
using System.Text.Json.Serialization;

namespace Masking.Experiments.Training;

/// <summary>Everything a stage's result depends on, written to the run directory as run.json.</summary>
public sealed record RunConfig
{
    public required string Stage { get; init; }
    public string? From { get; init; }
    public string Preset { get; init; } = "tiny";
    /// <summary>Pre-norm layers instead of BART's post-norm (pretrain only; later stages inherit the model).</summary>
    public bool PreNorm { get; init; }
    /// <summary>Dropout override (pretrain only); null keeps the preset's.</summary>
    public double? Dropout { get; init; }
    public string Corpus { get; init; } = "";
    public string? Policy { get; init; }
    public string? Task { get; init; }
    /// <summary>A learn-policy run whose span scorer drives the <c>scored</c> policy.</summary>
    public string? Scorer { get; init; }
    public int Steps { get; init; } = 1000;
    /// <summary>Fine-tuning on this fraction of the training split (a seeded subset), for learning-efficiency curves.</summary>
    public double TrainFraction { get; init; } = 1.0;
    /// <summary>Fine-tuning on the first N training examples only (after the fraction); null: all of them.</summary>
    public int? MaxTrainExamples { get; init; }
    /// <summary>Early stopping on the first N dev examples only; null: all of them.</summary>
    public int? MaxDevExamples { get; init; }
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 5e-4;
    public double WarmupFraction { get; init; } = 0.06;
    public double WeightDecay { get; init; } = 0.01;
    public double LabelSmoothing { get; init; } = 0.1;
    public double ClipNorm { get; init; } = 1.0;
    public int MaxSourceLength { get; init; } = 128;
    public int MaxTargetLength { get; init; } = 128;
    public int VocabSize { get; init; } = 4000;
    public ulong Seed { get; init; }
    public int CheckpointEvery { get; init; } = 100;
    public int LogEvery { get; init; } = 10;
    public int EvalEvery { get; init; } = 100;
    public int Patience { get; init; } = 5;
    /// <summary>Multiple-choice questions (examples with options): <c>rank</c> scores every option by the model's
    /// likelihood and picks the best; <c>generate</c> decodes freely and compares the text with the gold option.</summary>
    public string Choice { get; init; } = "rank";
    /// <summary>Rank classification's score: <c>mean</c> log-probability per target token, or their <c>sum</c>.</summary>
    public string ChoiceNormalisation { get; init; } = "mean";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Null for text that is not a run configuration (a truncated file, say).</summary>
    public static RunConfig? FromJson(string json)
    {
        try { return JsonSerializer.Deserialize<RunConfig>(json, Options); }
        catch (JsonException) { return null; }
    }
}
