using Masking.Experiments.Cli;
using Masking.Policies;
using Masking.Tasks;
using Masking.Text;
using Masking.World;

namespace Masking.Experiments.Training;

/// <summary>
/// The corpora stages train on: <c>world-background</c> and <c>world-target</c> (the generated world, with
/// its sentences and salient spans); <c>wikitext:RELATIVE</c>, a WikiText raw file under the data root (one
/// example per paragraph line, headings left out); or a text file (one example per non-empty line). Text
/// files get sentences by rule and salient spans from the shipped NER model plus the date and number rules
/// (the rules alone when no model is shipped).
/// </summary>
public static class Corpora
{
    private const string WikiTextPrefix = "wikitext:";

    public static IReadOnlyList<string> Texts(string corpus, string? dataRoot = null) => corpus switch
    {
        "world-background" => Registry.defaultWorld.Value.BackgroundCorpus.Select(p => p.Text).ToList(),
        "world-target" => Registry.defaultWorld.Value.TargetCorpus.Select(p => p.Text).ToList(),
        _ when corpus.StartsWith(WikiTextPrefix, StringComparison.Ordinal) =>
            WikiText(Path.Combine(DataRoot.Resolve(dataRoot), corpus[WikiTextPrefix.Length..])),
        _ => ReadFile(corpus),
    };

    /// <summary>Whether a corpus name is one of the forms above (a file is checked when it is read).</summary>
    public static bool IsWorld(string corpus) => corpus is "world-background" or "world-target";

    /// <summary>A corpus given by name (the generated world's, or <c>wikitext:…</c> under the data root) rather
    /// than by a file path.</summary>
    public static bool IsNamed(string corpus) => IsWorld(corpus) || corpus.StartsWith(WikiTextPrefix, StringComparison.Ordinal);

    private static List<string> ReadFile(string path)
    {
        var lines = TextFile.nonEmptyLines(path);
        if (lines.IsError) throw new InputError(lines.ErrorValue);
        if (lines.ResultValue.Length == 0) throw new InputError($"{path}:1: expected at least one line of text");
        return lines.ResultValue.ToList();
    }

    /// <summary>WikiText's paragraphs: its headings (" = Title = ", " = = Section = = ") are not prose.</summary>
    private static List<string> WikiText(string path)
    {
        var paragraphs = ReadFile(path).Select(l => l.Trim()).Where(l => !(l.StartsWith('=') && l.EndsWith('='))).ToList();
        if (paragraphs.Count == 0) throw new InputError($"{path}:1: expected WikiText paragraphs (found only headings)");
        return paragraphs;
    }

    public static Example[] Examples(string corpus, ITokenizer tokenizer, string? dataRoot = null)
    {
        switch (corpus)
        {
            case "world-background": return Registry.defaultWorld.Value.BackgroundCorpus.Select(p => FromPassage(p, tokenizer)).ToArray();
            case "world-target":
                var world = Registry.defaultWorld.Value;
                return world.TargetCorpus.Select(p => FromPassage(p, tokenizer, WorldTasks.askedSpans(world, p))).ToArray();
            default:
                var ner = TaggerModels.Default("ner") is null ? null : TaggerModels.Load("ner", null);
                var option = ner is null ? null : Microsoft.FSharp.Core.FSharpOption<Masking.Taggers.TaggerModel>.Some(ner);
                return Texts(corpus, dataRoot).Select(t => Masking.Taggers.Annotate.example(option, tokenizer, t)).ToArray();
        }
    }

    /// <summary>A world paragraph with its known sentences and entity/date spans mapped onto tokens, and for the
    /// target corpus the answers the evaluation asks for (labelled for the <c>oracle</c> policy alone).</summary>
    public static Example FromPassage(Passage p, ITokenizer tokenizer, IEnumerable<Tuple<Span, string>>? asked = null)
    {
        var e = tokenizer.Encode(p.Text);
        var annotations = Sentences.toAnnotations(e.Offsets, [.. p.Spans, .. asked ?? []]);
        return new Example(e.Ids, e.WordStarts, Sentences.toTokenSpans(e.Offsets, p.Sentences), annotations, []);
    }
}
