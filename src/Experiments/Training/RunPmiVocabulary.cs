using Masking.Policies;

namespace Masking.Experiments.Training;

/// <summary>
/// <c>pmi:vocab=corpus</c> in a training stage: the PMI vocabulary of the stage's own corpus with the run's own
/// tokenizer (a grid's tokenizer is learned in general pre-training, so no vocabulary can be made before), built
/// once into the run directory (<c>pmi-vocab.json</c>, deterministic) and used from there by the stage, a resume
/// and the report's analyses.
/// </summary>
public static class RunPmiVocabulary
{
    public const string FileName = "pmi-vocab.json";
    public const string FromCorpus = "corpus";

    /// <summary>The spec with <c>vocab=corpus</c> replaced by the run directory's vocabulary, built when
    /// <paramref name="build"/> and missing; other specs unchanged. Null when the vocabulary is needed but not there.</summary>
    public static string? Resolve(string spec, string runDir, ITokenizer tokenizer, Func<IEnumerable<string>>? build, TextWriter log)
    {
        var parsed = PolicySpecModule.parse(spec);
        if (parsed.IsError || parsed.ResultValue is not PolicySpec.NamedSpec { name: "pmi" } named) return spec;
        if (!named.knobs.Any(k => k.Item1 == "vocab" && k.Item2.ToString() == FromCorpus)) return spec;
        var path = Path.Combine(runDir, FileName);
        if (!File.Exists(path))
        {
            if (build is null) return null;
            var (entries, words) = PmiVocabulary.build(tokenizer, PmiOptions.Defaults, build()).ToValueTuple();
            PmiVocabulary.write(path, tokenizer, PmiOptions.Defaults, words, entries);
            log.WriteLine($"pmi: {entries.Length} n-grams of the corpus ({words} words) in {path}");
        }
        var knobs = named.knobs.Select(k => k.Item1 == "vocab" ? Tuple.Create(k.Item1, KnobValue.NewWord(path)) : k);
        return PolicySpecModule.format(PolicySpec.NewNamedSpec("pmi", Microsoft.FSharp.Collections.ListModule.OfSeq(knobs)));
    }
}
