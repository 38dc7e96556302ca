using System.Text.Json;
using Masking.Model;
using Masking.Tasks;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>
/// A model's answers to task examples, and the sequences it reads and writes: rank classification for questions
/// with options, decoding otherwise; the source and target layouts every stage shares; KILT-format prediction files.
/// </summary>
public static class Prediction
{
    /// <summary>
    /// The answer to every example: for a question with options under <c>--choice rank</c> (the default), the
    /// option the model finds most likely as the target (<see cref="Likelihood"/>); otherwise the decoded text
    /// (greedy when beam = 1), without &lt;s&gt; and &lt;pad&gt; (as Hugging Face's <c>skip_special_tokens</c>;
    /// models with Hugging Face's labels begin with &lt;s&gt;).
    /// </summary>
    public static List<string> Predict(ModelState state, HuggingFace.ModelTokenizer tokenizer, IReadOnlyList<TaskExample> examples, RunConfig run, int beam, string? focus = null)
    {
        var vocab = tokenizer.Tokenizer;
        bool Ranked(TaskExample e) => run.Choice == "rank" && !e.Options.IsEmpty;
        var generated = Generate(state, vocab, examples.Where(e => !Ranked(e)).ToList(), run, beam, focus);
        var ranked = Rank(state, tokenizer, examples.Where(Ranked).ToList(), run, focus);
        int g = 0, r = 0;
        return examples.Select(e => Ranked(e) ? ranked[r++] : generated[g++]).ToList();
    }

    /// <summary>Rank classification: each option's labels scored given the source, the best one chosen.</summary>
    private static List<string> Rank(ModelState state, HuggingFace.ModelTokenizer tokenizer, IReadOnlyList<TaskExample> examples, RunConfig run, string? focus)
    {
        var vocab = tokenizer.Tokenizer;
        var result = new List<string>(examples.Count);
        const int chunk = 16;
        for (var start = 0; start < examples.Count; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var part = examples.Skip(start).Take(chunk).ToList();
            var pairs = part.SelectMany(e =>
            {
                var source = SourceIds(vocab, e.Source, focus, run.MaxSourceLength);
                return e.Options.Select(o => new SequencePair(source, Wrap(tokenizer.LabelStart, vocab.Encode(o).Ids, vocab.Specials.Eos, run.MaxTargetLength)));
            }).ToList();
            using var batch = Batch.Create(pairs, vocab.Specials.Pad, state.Config.DecoderStartId, state.Parameters.First().Value.device);
            var scores = Likelihood.targetLogProbs(state.Config, state.Parameters, batch.Source, batch.DecoderInput, batch.Target);
            var at = 0;
            foreach (var e in part)
            {
                var options = e.Options.ToArray();
                result.Add(options[Likelihood.choose(run.ChoiceNormalisation == "mean", scores[at..(at + options.Length)])]);
                at += options.Length;
            }
        }
        return result;
    }

    /// <summary>Decodes every example (greedy when beam = 1) and renders the answers as text.</summary>
    private static List<string> Generate(ModelState state, ITokenizer vocab, IReadOnlyList<TaskExample> examples, RunConfig run, int beam, string? focus)
    {
        var result = new List<string>(examples.Count);
        const int chunk = 64;
        for (var start = 0; start < examples.Count; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var pairs = examples.Skip(start).Take(chunk)
                .Select(e => new SequencePair(SourceIds(vocab, e.Source, focus, run.MaxSourceLength), [vocab.Specials.Eos]))
                .ToList();
            using var batch = Batch.Create(pairs, vocab.Specials.Pad, state.Config.DecoderStartId, state.Parameters.First().Value.device);
            var ids = beam <= 1
                ? Decode.greedy(state.Config, state.Parameters, batch.Source, run.MaxTargetLength)
                : Decode.beam(state.Config, state.Parameters, batch.Source, beam, run.MaxTargetLength, 1.0);
            result.AddRange(ids.Select(t => vocab.Decode(t.Where(id => id != vocab.Specials.Bos && id != vocab.Specials.Pad).ToArray()).Trim()));
        }
        return result;
    }

    internal static List<SequencePair> Pairs(IReadOnlyList<TaskExample> examples, HuggingFace.ModelTokenizer tokenizer, RunConfig run, string? focus)
    {
        var vocab = tokenizer.Tokenizer;
        return examples.Select(e => new SequencePair(
            SourceIds(vocab, e.Source, focus, run.MaxSourceLength),
            Wrap(tokenizer.LabelStart, vocab.Encode(e.Targets.Head).Ids, vocab.Specials.Eos, run.MaxTargetLength))).ToList();
    }

    /// <summary>A task source as the encoder reads it: &lt;s&gt; + <see cref="SourceBody"/> + &lt;/s&gt;.</summary>
    private static int[] SourceIds(ITokenizer vocab, string text, string? focus, int maxLength) =>
        Wrap(vocab.Specials.Bos, SourceBody(vocab, text, focus, maxLength), vocab.Specials.Eos, maxLength);

    /// <summary>
    /// A source's tokens, at most what fits beside &lt;s&gt; and &lt;/s&gt;: its first tokens, or for a task with a
    /// focus marker (AY2's "[START_ENT]") a window that starts a quarter of the room before the marker, so that a
    /// long document keeps the mention to be linked (the first tokens alone lost it in 198 of 200 AY2 training
    /// sources at 128 tokens).
    /// </summary>
    public static int[] SourceBody(ITokenizer vocab, string text, string? focus, int maxLength)
    {
        var encoded = vocab.Encode(text);
        var room = Math.Max(0, maxLength - 2);
        if (encoded.Ids.Length <= room || focus is null) return encoded.Ids;
        var at = text.IndexOf(focus, StringComparison.Ordinal);
        if (at < 0) return encoded.Ids;
        var token = Array.FindIndex(encoded.Offsets, o => o.End > at);
        if (token < 0) return encoded.Ids;
        var start = Math.Clamp(token - room / 4, 0, encoded.Ids.Length - room);
        return encoded.Ids[start..(start + room)];
    }

    /// <summary>A model has positions for max_position_embeddings tokens: longer limits are refused before training.</summary>
    internal static void CheckLengths(RunConfig run, ModelConfig model)
    {
        if (run.MaxSourceLength > model.MaxPositions)
            throw new InputError($"--max-source-length: {run.MaxSourceLength} is more than the model's {model.MaxPositions} positions (max_position_embeddings)");
        if (run.MaxTargetLength > model.MaxPositions)
            throw new InputError($"--max-target-length: {run.MaxTargetLength} is more than the model's {model.MaxPositions} positions (max_position_embeddings)");
    }

    /// <summary>[bos] + body (cut to fit) + [eos]; bos &lt; 0 means none.</summary>
    public static int[] Wrap(int bos, int[] body, int eos, int maxLength)
    {
        var room = maxLength - 1 - (bos >= 0 ? 1 : 0);
        var list = new List<int>(maxLength);
        if (bos >= 0) list.Add(bos);
        list.AddRange(body.Take(Math.Max(0, room)));
        list.Add(eos);
        return list.ToArray();
    }

    /// <summary>Predictions in KILT's format, one line an example: {"id": …, "output": [{"answer": …}]}.</summary>
    public static void Write(string path, IReadOnlyList<TaskExample> examples, IReadOnlyList<string> predictions) =>
        RunDirectory.WriteAtomically(path, string.Concat(examples.Select((e, i) =>
            JsonSerializer.Serialize(new { id = e.Id, output = new[] { new { answer = predictions[i] } } }, RunDirectory.Json) + "\n")));
}
