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

    public static int Run(Args args, TextWriter stdout, TextWriter stderr)
    {
        var env = TrainCommands.Environment(args, stderr);
        var from = args.Required("from", "a run directory or a Hugging Face BART directory");
        var input = args.Required("input", "one text a line, or JSONL with a \"source\" field");
        var model = ModelSource.Open(from, env.Device);
        var s = model.Generation;
        var maxLength = args.Int("max-length", s.MaxLength, min: 2);
        if (args.Optional("max-new-tokens") is not null)
        {
            if (args.Optional("max-length") is not null) throw new CliError("--max-length and --max-new-tokens: give one of them");
            // The decoder start token is the prompt: max_length = 1 + max_new_tokens, as generate computes it.
            maxLength = 1 + args.Int("max-new-tokens", 1, min: 1);
        }
        var earlyStopping = args.Optional("early-stopping") switch
        {
            null => s.EarlyStopping,
            "true" => true,
            "false" => false,
            var v => throw new CliError($"--early-stopping: expected true or false, got '{v}'"),
        };
        s = new GenerationSettings(maxLength, args.Int("min-length", s.MinLength, min: 0), args.Int("beam", s.NumBeams, min: 1),
            args.Double("length-penalty", s.LengthPenalty), earlyStopping, args.Int("no-repeat-ngram-size", s.NoRepeatNgramSize, min: 0),
            s.ForcedBosId, s.ForcedEosId, s.UseCache && args.Optional("no-cache") is null);
        var batchSize = args.Int("batch-size", 16, min: 1);
        args.EnsureAllUsed("generate");

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
