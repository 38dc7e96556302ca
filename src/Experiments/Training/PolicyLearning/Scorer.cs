using System.Globalization;
using System.Text.Json;
using Masking.Learned;
using Masking.Model;
using Microsoft.FSharp.Collections;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>A trained span scorer: its configuration, parameters and kind (supervised or meta).</summary>
/// <remarks><see cref="Encoder"/> is where the encoder came from: scratch, or lm (a language model's encoder).</remarks>
public sealed record Scorer(ModelConfig Config, FSharpMap<string, torch.Tensor> Parameters, string Kind, string Encoder = "scratch")
{
    public const string FileName = "scorer.safetensors";

    public void Save(string path, IReadOnlyDictionary<string, string> meta, AdamWState? optimizer = null)
    {
        var tensors = Parameters.Select(kv => Tuple.Create("param/" + kv.Key, kv.Value)).ToList();
        if (optimizer is not null)
        {
            tensors.AddRange(optimizer.M.Select(kv => Tuple.Create("adam.m/" + kv.Key, kv.Value)));
            tensors.AddRange(optimizer.V.Select(kv => Tuple.Create("adam.v/" + kv.Key, kv.Value)));
        }
        var all = new Dictionary<string, string>(meta) { ["scorer_config"] = JsonSerializer.Serialize(Config), ["kind"] = Kind, ["encoder"] = Encoder };
        if (optimizer is not null) all["adam_step"] = optimizer.Step.ToString(CultureInfo.InvariantCulture);
        Checkpoint.save(path, ListModule.OfSeq(tensors), MapModule.OfSeq(all.Select(kv => Tuple.Create(kv.Key, kv.Value))));
    }

    public static (Scorer Scorer, AdamWState? Optimizer, IReadOnlyDictionary<string, string> Meta) Load(string path, torch.Device device)
    {
        var loaded = Checkpoint.load(path, device);
        if (loaded.IsError) throw new InputError(loaded.ErrorValue);
        var (tensors, meta) = loaded.ResultValue;
        if (!meta.ContainsKey("scorer_config")) throw new InputError($"{path}:0: expected a span scorer checkpoint");
        var config = CheckpointFields.Json<ModelConfig>(meta["scorer_config"], path, "scorer_config");
        var names = tensors.Keys.Where(k => k.StartsWith("param/", StringComparison.Ordinal)).Select(k => k["param/".Length..]).ToList();
        var p = MapModule.OfSeq(names.Select(n => Tuple.Create(n, tensors["param/" + n].requires_grad_(true))));
        // Frozen parameters (the language model's embeddings) have no moments.
        var moving = names.Where(n => tensors.ContainsKey("adam.m/" + n)).ToList();
        AdamWState? optimizer = meta.ContainsKey("adam_step")
            ? new AdamWState(CheckpointFields.Long(meta["adam_step"], path, "adam_step"),
                MapModule.OfSeq(moving.Select(n => Tuple.Create(n, tensors["adam.m/" + n]))),
                MapModule.OfSeq(moving.Select(n => Tuple.Create(n, tensors["adam.v/" + n]))))
            : null;
        return (new Scorer(config, p, CheckpointFields.Text(meta, path, "kind"), meta.TryFind("encoder")?.Value ?? "scratch"), optimizer, meta.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    /// <summary>Candidate spans snapped to whole words and annotated units (<see cref="ScoredSpanModule.snapToUnits"/>):
    /// what the <c>scored</c> policy masks from, so that a learned policy never masks part of a word or an entity.</summary>
    public Masking.Policies.ScoredSpan[] ScoreUnits(int[] tokens, bool[] wordStarts, Masking.Policies.Annotation[] annotations,
        Masking.SpecialTokens specials, torch.Device device) =>
        Masking.Policies.ScoredSpanModule.snapToUnits(wordStarts, annotations, Score(tokens, specials, device));

    /// <summary>Candidate spans with scores for an example: supervised scorers give their best spans
    /// (log p_start + log p_end, up to 10 tokens); meta-learned ones score every token by its masking logit.</summary>
    public Masking.Policies.ScoredSpan[] Score(int[] tokens, Masking.SpecialTokens specials, torch.Device device)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (start, end, token) = SpanScorer.logits(Config, Parameters, Dropout.Off, Ids(tokens, device));
        var eligible = tokens.Select(t => !specials.IsSpecialId(t)).ToArray();
        if (Kind == "meta")
        {
            var logits = token.squeeze(0).cpu().data<float>().ToArray();
            return Enumerable.Range(0, tokens.Length).Where(i => eligible[i])
                .Select(i => new Masking.Policies.ScoredSpan(new Span(i, i + 1), logits[i])).ToArray();
        }
        return SpanScorer.spans(start.squeeze(0).cpu().data<float>().ToArray(), end.squeeze(0).cpu().data<float>().ToArray(), eligible, 10, 20);
    }

    /// <summary>One context as a batch of one: ids [1, T].</summary>
    internal static torch.Tensor Ids(int[] tokens, torch.Device device) =>
        torch.tensor(tokens.Select(t => (long)t).ToArray(), dtype: torch.int64, device: device).unsqueeze(0);
}
