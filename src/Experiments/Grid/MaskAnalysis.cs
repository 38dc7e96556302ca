using Masking.Experiments.Training;
using Masking.Policies;
using Masking.Tokenizers;

namespace Masking.Experiments.Grid;

/// <summary>What a policy masks: the POS tags of its masked tokens and the rank–frequency curve of the words they belong to.</summary>
public sealed record MaskProfile(string Arm, IReadOnlyDictionary<string, int> PosCounts, IReadOnlyList<(string Token, int Count)> Frequencies, double ZipfExponent, int MaskedTokens, int Examples);

/// <summary>
/// Masks the first sentences of the intermediate pre-training corpus with each arm's policy (seed 0, the
/// learned scorers included) and profiles the masked tokens against the corpus's own tokens.
/// </summary>
public static class MaskAnalysis
{
    public const string Corpus = "(corpus)";

    public static IReadOnlyList<MaskProfile> Profiles(GridConfig config, string outDir, string? dataRoot, TextWriter log)
    {
        var vocab = HuggingFace.ModelDirectory.LoadTokenizer(CellRunner.StartingModel(config, outDir)).Tokenizer;
        var texts = Corpora.Texts(config.Intermediate.Corpus, dataRoot).Take(config.AnalysisSentences).ToList();
        var examples = Corpora.Examples(config.Intermediate.Corpus, vocab, dataRoot).Take(texts.Count).ToArray();
        var pos = TaggerModels.Default("pos") is null ? null : TaggerModels.Load("pos", null);
        if (pos is null) log.WriteLine("report: no POS model (models/pos.tagger); the POS analysis is skipped");
        var tags = pos is null ? null : texts.Select(t => Taggers.Annotate.posTags(pos, vocab, t).Item2).ToArray();
        // Each token's word, so that frequencies count words ("Thobroushia"), not subword pieces ("ia").
        var words = texts.Select(t =>
        {
            var ws = Taggers.Annotate.words(t);
            var index = Taggers.Annotate.tokenToWord(ws.Select(w => w.Item2).ToArray(), vocab.Encode(t).Offsets);
            return (Text: ws.Select(w => w.Item1).ToArray(), Index: index);
        }).ToArray();

        var profiles = new List<MaskProfile> { Profile(Corpus, examples.Select(e => Enumerable.Range(0, e.Tokens.Length).ToArray()).ToArray(), tags, words) };
        foreach (var arm in config.Arms.Where(a => a.Policy is not null))
        {
            // pmi:vocab=corpus: the vocabulary its (first) IPT cell built.
            var ipt = GridPlan.Cells(config).FirstOrDefault(c => c.Kind == CellKind.Intermediate && (c.Id == $"ipt/{arm.Name}" || c.Id.StartsWith($"ipt/{arm.Name}/", StringComparison.Ordinal)));
            var spec = ipt is null ? arm.Policy! : RunPmiVocabulary.Resolve(arm.Policy!, Path.Combine(outDir, ipt.Id), vocab, null, log);
            if (spec is null)
            {
                log.WriteLine($"report: {arm.Name}: no PMI vocabulary yet (its IPT cell has not run); its mask profile is left out");
                continue;
            }
            var resolved = PolicySpecModule.resolve(vocab.Specials, spec);
            if (resolved.IsError) throw new InputError(resolved.ErrorValue);
            var scored = examples;
            if (arm.Scorer is not null)
            {
                var path = Path.Combine(outDir, "policy", arm.Scorer, Scorer.FileName);
                if (!File.Exists(path))
                {
                    log.WriteLine($"report: {arm.Name}: no trained scorer yet ({path}); its mask profile is left out");
                    continue;
                }
                var scorer = Scorer.Load(path, TorchSharp.torch.CPU).Scorer;
                scored = examples.Select(e => new Example(e.Tokens, e.WordStarts, e.Sentences, e.Annotations, scorer.ScoreUnits(e.Tokens, e.WordStarts, e.Annotations, vocab.Specials, TorchSharp.torch.CPU))).ToArray();
            }
            if (ipt is not null && LossGuidance.For(spec, Path.Combine(outDir, ipt.Id), vocab, TorchSharp.torch.CPU) is { } guidance)
            {
                var runConfig = RunConfig.FromJson(File.ReadAllText(Path.Combine(outDir, ipt.Id, "run.json")));
                if (runConfig is null) continue;
                // The scores the IPT cell had at step 0, for the corpus's first examples.
                var all = Corpora.Examples(config.Intermediate.Corpus, vocab, dataRoot);
                try { scored = guidance.At(0, -1, all, null, HuggingFace.ModelDirectory.LoadTokenizer(Path.Combine(outDir, ipt.Id)), runConfig).Take(examples.Length).ToArray(); }
                catch (InputError e)
                {
                    log.WriteLine($"report: {arm.Name}: {e.Message}; its mask profile is left out");
                    continue;
                }
            }
            var masked = scored.Select((e, i) =>
            {
                var m = resolved.ResultValue.Apply.Invoke(new MaskContext(Seeds.derive(0UL, 0, i), 0L)).Invoke(e);
                return m.Spans.SelectMany(s => Enumerable.Range(s.Start, s.End - s.Start)).ToArray();
            }).ToArray();
            profiles.Add(Profile(arm.Name, masked, tags, words));
        }
        return profiles;
    }

    private static MaskProfile Profile(string arm, int[][] positions, string[][]? tags, (string[] Text, int[] Index)[] words)
    {
        var posCounts = new Dictionary<string, int>();
        var tokenCounts = new Dictionary<string, int>();
        var total = 0;
        for (var i = 0; i < positions.Length; i++)
        {
            var maskedWords = new SortedSet<int>();
            foreach (var p in positions[i])
            {
                total++;
                if (tags is not null && p < tags[i].Length) posCounts[tags[i][p]] = posCounts.GetValueOrDefault(tags[i][p]) + 1;
                if (p < words[i].Index.Length && words[i].Index[p] >= 0) maskedWords.Add(words[i].Index[p]);
            }
            foreach (var w in maskedWords) tokenCounts[words[i].Text[w]] = tokenCounts.GetValueOrDefault(words[i].Text[w]) + 1;
        }
        var frequencies = tokenCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)).ToList();
        return new MaskProfile(arm, posCounts, frequencies, Zipf(frequencies.Select(f => f.Value).ToList()), total, positions.Length);
    }

    /// <summary>
    /// The Zipf exponent s of count ∝ rank^−s: minus the least-squares slope of log count on log rank, over the
    /// ranks whose count is at least 2 (the tail of singletons is flat by construction and would bias it).
    /// </summary>
    public static double Zipf(IReadOnlyList<int> countsByRank)
    {
        var points = countsByRank.Select((c, i) => (X: Math.Log(i + 1), Y: Math.Log(c))).Where((p, i) => countsByRank[i] >= 2).ToList();
        if (points.Count < 3) return double.NaN;
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxy = points.Sum(p => (p.X - mx) * (p.Y - my));
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        return sxx == 0 ? double.NaN : -sxy / sxx;
    }
}
