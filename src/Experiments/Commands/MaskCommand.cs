using System.CommandLine;
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

    private sealed record Options(string Spec, string Input, ulong Seed, int Epoch, string? Data, string? Scorer, string? Tokenizer,
        string? Annotator, string? NerModel);

    public static Command Build(TextWriter stdout)
    {
        var command = new Command("mask", "mask each line of a text file: one JSON object per line, {source, target, spans}");
        var spec = Opts.Required(command, "--policy", "SPEC", "a policy spec such as rand:p=0.15; see `masking policies`");
        var input = Opts.Required(command, "--input", "FILE", "a text file, one example per line");
        var seed = Opts.Seed();
        var epoch = Opts.Int("--epoch", 0, "the epoch the seeds derive from (line i's seed is derived from seed, epoch, i)", min: 0);
        var tokenizer = Opts.Text("--tokenizer", "gpt2|gpt2-files[:DIR]|bpe:FILE", "the tokenizer (default: gpt2, or the scorer's vocabulary)");
        var annotator = Opts.Choice("--annotator", "salient spans from the NER model plus date/number rules, or rules alone (default: ner when the model ships)", null, "ner", "rules");
        var nerModel = Opts.Text("--ner-model", "FILE", "the NER tagger (default: models/ner.tagger)");
        var scorer = Opts.Text("--scorer", "LEARN_POLICY_RUN", "a learn-policy run whose span scorer drives the `scored` policy");
        foreach (var o in new Option[] { seed, epoch, tokenizer, annotator, nerModel, scorer }) command.Options.Add(o);
        var data = CommonOptions.Data(command);
        command.SetAction(p => Run(new Options(p.GetValue(spec)!, p.GetValue(input)!, p.GetValue(seed), p.GetValue(epoch), p.GetValue(data),
            p.GetValue(scorer), p.GetValue(tokenizer), p.GetValue(annotator), p.GetValue(nerModel)), stdout));
        return command;
    }

    private static int Run(Options options, TextWriter stdout)
    {
        var (spec, input, seed, epoch) = (options.Spec, options.Input, options.Seed, options.Epoch);
        var dataOption = options.Data;
        // A learned span scorer (learn-policy run) provides the `scored` policy's candidates, in its own vocabulary.
        var scorerDir = options.Scorer;
        var tokenizerSpec = options.Tokenizer ?? (scorerDir is null ? null : "bpe:" + Path.Combine(scorerDir, "vocab.json"));
        var tokenizer = Inputs.Tokenizer(tokenizerSpec, () => DataRoot.Resolve(dataOption));
        Masking.Experiments.Training.Scorer? scorer = null;
        if (scorerDir is not null)
        {
            var path = Path.Combine(scorerDir, Masking.Experiments.Training.Scorer.FileName);
            if (!File.Exists(path)) throw new CliError($"{path}:0: expected a span scorer (made by `masking learn-policy`)");
            scorer = Masking.Experiments.Training.Scorer.Load(path, TorchSharp.torch.CPU).Scorer;
        }
        // Salient spans: the shipped NER model (entities) plus date/number rules; `rules` uses rules alone.
        var annotator = options.Annotator ?? (TagCommand.DefaultModel("ner") is null ? "rules" : "ner");
        var ner = annotator == "ner" ? Training.TaggerModels.Load("ner", options.NerModel) : null;

        if (!PolicyCatalog.TryParse(spec, tokenizer, out var policy, out var error)) throw new CliError(error!);
        if (Training.LossGuidance.IsLossGuided(spec))
            throw new CliError("--policy: loss-guided takes its scores from the model a training stage trains (pretrain, intermediate); mask has no model: use scored with --scorer");

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
