using System.CommandLine;
using System.Diagnostics;
using Masking.Experiments.Cli;
using Masking.Facade;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking bench mask --policy SPEC</c>: masking throughput on one core, source and target built.
/// The text (WikiText-2 valid by default) is GPT-2-tokenised once, untimed, and cut into examples of
/// <c>--seq-len</c> tokens, the same shape bench/hf_collator_mask.py uses, so the two figures compare.
/// </summary>
public static class BenchMaskCommand
{
    private sealed record Settings(string Spec, string? Data, string? Input, int SeqLen, double Seconds, double Warmup, ulong Seed, string? Tokenizer);

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("mask", "masking throughput on one core, source and target built; bench/hf_collator_mask.py is the Python side");
        var spec = Opts.Required(command, "--policy", "SPEC", "a policy spec such as rand");
        var input = Opts.Text("--input", "FILE", "the text (default: wikitext2/wiki.valid.raw under the data root)");
        var seqLen = Opts.Int("--seq-len", 128, "tokens an example", min: 1, max: BenchOptions.MaxLength);
        var seconds = Opts.Double("--seconds", 3.0, "how long to time", min: 0.01, max: 86_400);
        var warmup = Opts.Double("--warmup", 1.0, "untimed seconds first", min: 0, max: 86_400);
        var seed = Opts.Seed();
        var tokenizer = Opts.Text("--tokenizer", "gpt2|gpt2-files[:DIR]|bpe:FILE", "the tokenizer", "gpt2");
        foreach (var o in new Option[] { input, seqLen, seconds, warmup, seed, tokenizer }) command.Options.Add(o);
        var data = CommonOptions.Data(command);
        command.SetAction(p => Run(new Settings(p.GetValue(spec)!, p.GetValue(data), p.GetValue(input), p.GetValue(seqLen), p.GetValue(seconds),
            p.GetValue(warmup), p.GetValue(seed), p.GetValue(tokenizer)), stdout, stderr));
        return command;
    }

    private static int Run(Settings settings, TextWriter stdout, TextWriter stderr)
    {
        var (spec, dataOption, inputOption, seqLen, seconds, warmup, seed, tokenizerSpec) = settings;
        var input = inputOption ?? Path.Combine(DataRoot.Resolve(dataOption), "wikitext2", "wiki.valid.raw");
        var tokenizer = Inputs.Tokenizer(tokenizerSpec, () => DataRoot.Resolve(dataOption));
        if (!PolicyCatalog.TryParse(spec, tokenizer, out var policy, out var error)) throw new CliError(error!);

        var ids = new List<int>();
        var starts = new List<bool>();
        foreach (var line in Inputs.Lines(input))
        {
            var e = tokenizer.Encode(line + "\n");
            ids.AddRange(e.Ids);
            starts.AddRange(e.WordStarts);
        }
        var examples = new List<PreparedInput>();
        for (var i = 0; i + seqLen <= ids.Count; i += seqLen)
            examples.Add(policy!.Prepare(new MaskInput(ids.GetRange(i, seqLen).ToArray()) { WordStarts = starts.GetRange(i, seqLen).ToArray() }));
        if (examples.Count == 0) throw new CliError($"{input}:0: expected at least {seqLen} tokens of text");
        stderr.WriteLine($"bench mask: {spec} on {ids.Count} tokens of {Path.GetFileName(input)} in {examples.Count} examples of {seqLen}");

        // Untimed passes until tiered compilation has settled (on one core it needs the time to recompile).
        var warm = Stopwatch.StartNew();
        do RunPass(policy!, examples, seed, epoch: 0);
        while (warm.Elapsed.TotalSeconds < warmup);
        var sw = Stopwatch.StartNew();
        long tokens = 0, sink = 0;
        var epoch = 1;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            sink += RunPass(policy!, examples, seed, epoch++);
            tokens += (long)examples.Count * seqLen;
        }
        sw.Stop();
        var perSecond = tokens / sw.Elapsed.TotalSeconds;
        stderr.WriteLine($"bench mask: {epoch - 1} passes, {tokens} tokens, {sw.Elapsed.TotalSeconds:F2} s, {sink} output tokens");
        stdout.WriteLine($"tokens_per_second={perSecond:F0}");
        return 0;
    }

    private static long RunPass(MaskingPolicy policy, List<PreparedInput> examples, ulong seed, int epoch)
    {
        long produced = 0;
        for (var i = 0; i < examples.Count; i++)
        {
            var m = policy.Mask(examples[i], MaskSeeds.Derive(seed, epoch, i));
            produced += m.Source.Count + m.Target.Count;
        }
        return produced;
    }
}
