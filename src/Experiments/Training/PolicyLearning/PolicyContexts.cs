using Masking.Experiments.Cli;
using Masking.Tasks;
using Masking.World;

namespace Masking.Experiments.Training;

/// <summary>A context (tokenised with &lt;s&gt; … &lt;/s&gt;), the token span of its answer, and its example.</summary>
internal sealed record Located(int[] Tokens, Span Answer, TaskExample Example);

/// <summary>
/// What the context search found for one split: the located contexts, how many examples there were, and, where
/// the corpus knows which passage states which fact, how often the answer-string search would have picked a
/// passage about the question's subject.
/// </summary>
internal sealed record PolicyContexts(List<Located> Found, int Examples, double? AnswerSearchStatesFact)
{
    public double FoundRate => Examples == 0 ? 0 : (double)Found.Count / Examples;

    /// <summary>
    /// Each example's context with the token span of the answer's first occurrence. A task with its own context
    /// uses it. A closed-book task of the generated world takes a passage about the question's subject, which
    /// states the fact asked about; a real closed-book task takes the first corpus passage that holds the answer
    /// string (which may state another fact with the same answer). Contexts over <paramref name="longest"/>
    /// tokens are left out.
    /// </summary>
    public static PolicyContexts Locate(TaskInfo task, Split split, ITokenizer vocab, string corpus, StageEnvironment env, int longest)
    {
        var passages = new Lazy<IReadOnlyList<string>>(() => Corpora.Texts(corpus, env.DataRoot));
        var world = Corpora.IsWorld(corpus) ? Registry.defaultWorld.Value : null;
        // A world task's examples come with their subjects; any other task's from its reader.
        var examples = (world is null ? null : WorldTasks.examplesAbout(task.Name, world, split)?.Value)
            ?.Select(x => (Example: x.Item1, Subject: (int?)x.Item2)).ToList();
        if (examples is null)
        {
            var loaded = task.Load.Invoke(task.NeedsDataRoot ? DataRoot.Resolve(env.DataRoot) : "").Invoke(split);
            if (loaded.IsError) throw new InputError(loaded.ErrorValue);
            examples = loaded.ResultValue.Select(e => (Example: e, Subject: (int?)null)).ToList();
        }
        var result = new List<Located>();
        int searched = 0, searchStatesFact = 0;
        foreach (var (e, subject) in examples)
        {
            var answer = e.Targets.Head;
            string? AnswerSearch() => passages.Value.FirstOrDefault(p => p.Contains(answer, StringComparison.OrdinalIgnoreCase));
            string? context = e.Context?.Value;
            if (context is null && subject is { } s)
            {
                var about = WorldTasks.passagesAbout(world!, s);
                context = about.Select(p => p.Text).FirstOrDefault(t => t.Contains(answer, StringComparison.OrdinalIgnoreCase));
                // The search real tasks rely on, measured against what the world knows.
                var searchedText = AnswerSearch();
                searched++;
                if (searchedText is not null && about.Any(p => p.Text == searchedText)) searchStatesFact++;
            }
            context ??= AnswerSearch();
            if (context is null) continue;
            var at = context.IndexOf(answer, StringComparison.OrdinalIgnoreCase);
            if (at < 0) continue;
            var encoded = vocab.Encode(context);
            var spans = Masking.Text.Sentences.toTokenSpans(encoded.Offsets, [new Span(at, at + answer.Length)]);
            if (spans.Length == 0 || encoded.Ids.Length > longest) continue;
            var tokens = new[] { vocab.Specials.Bos }.Concat(encoded.Ids).Append(vocab.Specials.Eos).ToArray();
            result.Add(new Located(tokens, new Span(spans[0].Start + 1, spans[0].End + 1), e));
        }
        return new PolicyContexts(result, examples.Count, searched == 0 ? null : (double)searchStatesFact / searched);
    }

    /// <summary>One line on stderr for the split's contexts.</summary>
    public void Log(string splitName, TextWriter log)
    {
        var line = $"learn-policy: {splitName}: {Found.Count} of {Examples} examples have a context holding the answer ({100 * FoundRate:F1}%)";
        if (AnswerSearchStatesFact is { } s)
            line += $"; contexts come from the fact's own passages (the answer-string search would pick a passage about the question's subject for {100 * s:F1}%)";
        log.WriteLine(line);
    }

    /// <summary>The final.json fields for the split's contexts.</summary>
    public void Record(string splitName, Dictionary<string, object> result)
    {
        result[$"{splitName}_contexts"] = Found.Count;
        result[$"{splitName}_context_found_rate"] = Math.Round(FoundRate, 6);
        if (AnswerSearchStatesFact is { } rate) result[$"{splitName}_answer_search_states_fact"] = Math.Round(rate, 6);
    }
}
