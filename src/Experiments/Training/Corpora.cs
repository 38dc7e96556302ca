using Masking.Experiments.Cli;
using Masking.Policies;
using Masking.Tasks;
using Masking.Text;
using Masking.World;

namespace Masking.Experiments.Training;

/// <summary>
/// The corpora stages train on: <c>world-background</c> and <c>world-target</c> (the generated world, with
/// its sentences and salient spans), or a text file (one example per non-empty line; sentences and salient
/// spans by rule).
/// </summary>
public static class Corpora
{
    public static IReadOnlyList<string> Texts(string corpus) => corpus switch
    {
        "world-background" => Registry.defaultWorld.Value.BackgroundCorpus.Select(p => p.Text).ToList(),
        "world-target" => Registry.defaultWorld.Value.TargetCorpus.Select(p => p.Text).ToList(),
        _ => ReadFile(corpus),
    };

    private static List<string> ReadFile(string path)
    {
        var lines = TaskExampleModule.nonEmptyLines(path);
        if (lines.IsError) throw new CliError(lines.ErrorValue);
        if (lines.ResultValue.Length == 0) throw new CliError($"{path}:1: expected at least one line of text");
        return lines.ResultValue.ToList();
    }

    public static Example[] Examples(string corpus, ITokenizer tokenizer) => corpus switch
    {
        "world-background" => Registry.defaultWorld.Value.BackgroundCorpus.Select(p => FromPassage(p, tokenizer)).ToArray(),
        "world-target" => Registry.defaultWorld.Value.TargetCorpus.Select(p => FromPassage(p, tokenizer)).ToArray(),
        _ => ReadFile(corpus).Select(t => SalientSpans.annotate(tokenizer, t)).ToArray(),
    };

    /// <summary>A world paragraph with its known sentences and entity/date spans mapped onto tokens.</summary>
    public static Example FromPassage(Passage p, ITokenizer tokenizer)
    {
        var e = tokenizer.Encode(p.Text);
        var annotations = p.Spans
            .SelectMany(s => Sentences.toTokenSpans(e.Offsets, [s.Item1]).Select(t => new Annotation(t, s.Item2)))
            .ToArray();
        return new Example(e.Ids, e.WordStarts, Sentences.toTokenSpans(e.Offsets, p.Sentences), annotations, []);
    }
}
