using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Experiments.HuggingFace;
using Masking.Experiments.Training;
using Masking.Model;
using TorchSharp;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking generate --from RUN|HF_DIR --input FILE [--beam N] [--max-length N | --max-new-tokens N]
/// [--min-length N] [--length-penalty X] [--no-repeat-ngram-size N] [--early-stopping true|false] [--batch-size N]
/// [--no-cache]</c>:
/// one JSON line per input, <c>{"source", "prediction", "ids"}</c>, <c>ids</c> being what Hugging Face's
/// generate returns for the input alone minus the decoder start token. Settings not given come from the model's
/// generation_config.json and config.json, as in Hugging Face.
/// </summary>
public static class GenerateCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Settings given on the command line; null ones come from the model.</summary>
    private sealed record Overrides(int? MaxLength, int? MaxNewTokens, int? MinLength, int? Beam, double? LengthPenalty,
        bool? EarlyStopping, int? NoRepeatNgramSize, bool NoCache);

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("generate",
            "one JSON line per input: {source, prediction, ids}, with Hugging Face's generate semantics; settings not given come from the model's generation_config.json and config.json");
        var from = Opts.Required(command, "--from", "RUN|HF_DIR", "a run directory or a Hugging Face BART directory");
        var input = Opts.Required(command, "--input", "FILE", "one text a line, or JSONL with a \"source\" field");
        var maxLength = Opts.OptionalInt("--max-length", "the longest output, the decoder start token included", min: 2, max: 1 << 20);
        var maxNewTokens = Opts.OptionalInt("--max-new-tokens", "the most tokens generated (instead of --max-length)", min: 1, max: 1 << 20);
        var minLength = Opts.OptionalInt("--min-length", "</s> is not allowed before this length", min: 0);
        var beam = Opts.OptionalInt("--beam", "beams (1: greedy)", min: 1, max: 1024);
        var lengthPenalty = Opts.OptionalDouble("--length-penalty", "beam scores are divided by length to this power");
        var earlyStopping = Opts.Boolean("--early-stopping", "stop a row's beam search when it has enough finished beams");
        var noRepeat = Opts.OptionalInt("--no-repeat-ngram-size", "no n-gram of this size twice in an output (0: off)", min: 0);
        var batchSize = Opts.Int("--batch-size", 16, "inputs decoded together", min: 1, max: 1 << 16);
        var noCache = Opts.Flag("--no-cache", "recompute the decoder over the whole prefix at every step (no key/value cache)");
        foreach (var o in new Option[] { maxLength, maxNewTokens, minLength, beam, lengthPenalty, earlyStopping, noRepeat, batchSize, noCache })
            command.Options.Add(o);
        var compute = CommonOptions.Compute.AddTo(command);
        command.SetAction(p => Run(p.GetValue(from)!, p.GetValue(input)!,
            new Overrides(p.GetValue(maxLength), p.GetValue(maxNewTokens), p.GetValue(minLength), p.GetValue(beam), p.GetValue(lengthPenalty),
                p.GetValue(earlyStopping) is { } early ? early == "true" : null, p.GetValue(noRepeat), p.GetValue(noCache)),
            p.GetValue(batchSize), compute.Read(p, stderr), stdout, stderr));
        return command;
    }

    private static int Run(string from, string input, Overrides given, int batchSize, StageEnvironment env, TextWriter stdout, TextWriter stderr)
    {
        if (given is { MaxLength: not null, MaxNewTokens: not null }) throw new CliError("--max-length and --max-new-tokens: give one of them");
        var model = ModelSource.Open(from, env.Device);
        var s = model.Generation;
        // The decoder start token is the prompt: max_length = 1 + max_new_tokens, as generate computes it.
        var maxLength = given.MaxNewTokens is { } newTokens ? 1 + newTokens : given.MaxLength ?? s.MaxLength;
        s = new GenerationSettings(maxLength, given.MinLength ?? s.MinLength, given.Beam ?? s.NumBeams, given.LengthPenalty ?? s.LengthPenalty,
            given.EarlyStopping ?? s.EarlyStopping, given.NoRepeatNgramSize ?? s.NoRepeatNgramSize, s.ForcedBosId, s.ForcedEosId,
            s.UseCache && !given.NoCache);

        var sources = ReadSources(input);
        var specials = model.Specials;
        for (var start = 0; start < sources.Count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var chunk = sources.Skip(start).Take(batchSize).ToList();
            var pairs = chunk.Select(text => new SequencePair(model.Source(text), [specials.Eos])).ToList();
            using var batch = Batch.Create(pairs, specials.Pad, model.Config.DecoderStartId, env.Device);
            var generated = Generation.generate(model.Config, model.Parameters, s, batch.Source);
            for (var i = 0; i < chunk.Count; i++)
            {
                var shown = generated[i].Where(id => !specials.IsSpecialId(id)).ToArray();
                stdout.WriteLine(JsonSerializer.Serialize(new { source = chunk[i], prediction = model.Tokenizer.Decode(shown).Trim(), ids = generated[i] }, Json));
            }
        }
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"generate: {sources.Count} inputs, {(s.NumBeams > 1 ? $"beam {s.NumBeams}" : "greedy")}, max_length {s.MaxLength} ({model.Path})"));
        return 0;
    }

    /// <summary>Plain text lines, or JSONL objects with a "source" string (decided by the first non-empty line).</summary>
    internal static List<string> ReadSources(string path) =>
        ReadRecords(path, needTarget: false).Select(r => r.Source).ToList();

    internal static List<(string Source, string Target)> ReadRecords(string path, bool needTarget)
    {
        var records = new List<(string, string)>();
        bool? jsonl = null;
        var n = 0;
        foreach (var line in Inputs.Lines(path))
        {
            n++;
            if (line.Trim().Length == 0) continue;
            jsonl ??= needTarget || line.TrimStart().StartsWith('{');
            if (!jsonl.Value) { records.Add((line, "")); continue; }
            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 64 });
                root = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new CliError($"{path}:{n}: expected a JSON object with \"source\"{(needTarget ? " and \"target\"" : "")} ({e.Message.Split('.')[0]})");
            }
            string Field(string name) =>
                root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                    ? v.GetString()!
                    : throw new CliError($"{path}:{n}: expected a string field \"{name}\"");
            records.Add((Field("source"), needTarget ? Field("target") : ""));
        }
        if (records.Count == 0) throw new CliError($"{path}:1: expected at least one input");
        return records;
    }
}
