using System.Text.Encodings.Web;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Facade;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking mask --policy SPEC --input FILE [--seed N] [--epoch E]</c>: one JSON object per input line,
/// <c>{"source", "target", "spans"}</c>, spans as half-open token offsets [start, end). Line i (from 0) is
/// example i: its seed is derived from (seed, epoch, i). Sentences and salient spans come from rules.
/// </summary>
public static class MaskCommand
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int Run(Args args, TextWriter stdout)
    {
        var spec = args.Required("policy", "a policy spec such as rand:p=0.15; see `masking policies`");
        var input = args.Required("input", "a text file, one example per line");
        var seed = args.UInt64("seed", 0);
        var epoch = args.Int("epoch", 0, min: 0);
        var dataOption = args.Optional("data");
        // A learned span scorer (learn-policy run) provides the `scored` policy's candidates, in its own vocabulary.
        var scorerDir = args.Optional("scorer");
        var tokenizerSpec = args.Optional("tokenizer") ?? (scorerDir is null ? null : "bpe:" + Path.Combine(scorerDir, "vocab.json"));
        var tokenizer = Inputs.Tokenizer(tokenizerSpec, () => DataRoot.Resolve(dataOption));
        Masking.Experiments.Training.Scorer? scorer = null;
        if (scorerDir is not null)
        {
            var path = Path.Combine(scorerDir, Masking.Experiments.Training.Scorer.FileName);
            if (!File.Exists(path)) throw new CliError($"{path}:0: expected a span scorer (made by `masking learn-policy`)");
            scorer = Masking.Experiments.Training.Scorer.Load(path, TorchSharp.torch.CPU).Scorer;
        }
        // Salient spans: the shipped NER model (entities) plus date/number rules; `rules` uses rules alone.
        var annotator = args.Optional("annotator") ?? (TagCommand.DefaultModel("ner") is null ? "rules" : "ner");
        if (annotator is not ("ner" or "rules")) throw new CliError($"--annotator: expected ner or rules, got '{annotator}'");
        var ner = annotator == "ner" ? Training.TaggerModels.Load("ner", args.Optional("ner-model")) : null;
        args.EnsureAllUsed("mask");

        if (!PolicyCatalog.TryParse(spec, tokenizer, out var policy, out var error)) throw new CliError(error!);

        var buffer = new MemoryStream();
        using var json = new Utf8JsonWriter(buffer, WriterOptions);
        long index = 0;
        foreach (var line in Inputs.Lines(input))
        {
            MaskResult m;
            try
            {
                var example = Masking.Taggers.Annotate.example(
                    ner is null ? Microsoft.FSharp.Core.FSharpOption<Masking.Taggers.TaggerModel>.None : Microsoft.FSharp.Core.FSharpOption<Masking.Taggers.TaggerModel>.Some(ner),
                    tokenizer.Inner, line);
                if (scorer is not null)
                    example = new Masking.Policies.Example(example.Tokens, example.WordStarts, example.Sentences, example.Annotations,
                        scorer.ScoreUnits(example.Tokens, example.WordStarts, example.Annotations, tokenizer.Inner.Specials, TorchSharp.torch.CPU));
                m = policy!.MaskExample(example, MaskSeeds.Derive(seed, epoch, index));
            }
            catch (ArgumentException e) { throw new CliError($"{input}:{index + 1}: {e.Message.Split(" (Parameter")[0]}"); }
            json.WriteStartObject();
            json.WriteString("source", tokenizer.Decode(m.Source));
            json.WriteString("target", tokenizer.Decode(m.Target));
            json.WriteStartArray("spans");
            foreach (var s in m.Spans)
            {
                json.WriteStartArray();
                json.WriteNumberValue(s.Start);
                json.WriteNumberValue(s.End);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.Flush();
            stdout.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            stdout.Write('\n');
            buffer.SetLength(0);
            json.Reset(buffer);
            index++;
        }
        stdout.Flush();
        return 0;
    }
}
