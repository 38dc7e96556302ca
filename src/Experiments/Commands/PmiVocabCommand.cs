using System.CommandLine;
using Masking.Experiments.Cli;
using Masking.Policies;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking pmi-vocab --corpus FILE --out FILE</c>: the n-gram vocabulary of PMI-masking, ranked by PMI_n from
/// the corpus's counts, for the <c>pmi</c> policy (<c>pmi:vocab=FILE</c>). Deterministic: the same corpus and
/// options give the same bytes.
/// </summary>
public static class PmiVocabCommand
{
    public static Command Build(TextWriter stderr)
    {
        var command = new Command("pmi-vocab", "rank a corpus's word n-grams by PMI: the vocabulary of the pmi policy");
        var corpus = Opts.Required(command, "--corpus", "FILE", "a text file, one passage a line (n-grams never cross lines)");
        var output = Opts.Required(command, "--out", "FILE", "where to write the vocabulary (JSON, one n-gram a line)");
        var defaults = PmiOptions.Defaults;
        var maxN = Opts.Int("--max-n", defaults.MaxN, "the longest n-gram, in words", min: 2, max: 8);
        var minCount = Opts.Int("--min-count", defaults.MinCount, "n-grams seen fewer times are not ranked", min: 1);
        var size = Opts.Int("--size", defaults.Size, "how many n-grams to keep, best PMI first", min: 1, max: 10_000_000);
        var tokenizer = Opts.Text("--tokenizer", "gpt2|gpt2-files[:DIR]|bpe:FILE", "the tokenizer the policy will mask with", "gpt2");
        foreach (var o in new Option[] { maxN, minCount, size, tokenizer }) command.Options.Add(o);
        var data = CommonOptions.Data(command);
        command.SetAction(p => Run(p.GetValue(corpus)!, p.GetValue(output)!, new PmiOptions(p.GetValue(maxN), p.GetValue(minCount), p.GetValue(size)),
            p.GetValue(tokenizer), p.GetValue(data), stderr));
        return command;
    }

    private static int Run(string corpus, string output, PmiOptions options, string? tokenizerSpec, string? dataOption, TextWriter stderr)
    {
        output = OutputPaths.File(output, "--out");
        var tokenizer = Inputs.Tokenizer(tokenizerSpec, () => DataRoot.Resolve(dataOption)).Inner;
        var lines = 0;
        IEnumerable<string> Counted()
        {
            foreach (var line in Inputs.Lines(corpus))
            {
                if (++lines % 10_000 == 0) stderr.WriteLine($"pmi-vocab: {lines} lines counted");
                yield return line;
            }
        }
        var (entries, words) = PmiVocabulary.build(tokenizer, options, Counted()).ToValueTuple();
        PmiVocabulary.write(output, tokenizer, options, words, entries);
        var top = string.Join(", ", entries.Take(5).Select(e => $"'{e.Text}'"));
        stderr.WriteLine($"pmi-vocab: {entries.Length} n-grams from {words} words in {lines} lines written to {output}" + (top.Length > 0 ? $"; best: {top}" : ""));
        return 0;
    }
}
