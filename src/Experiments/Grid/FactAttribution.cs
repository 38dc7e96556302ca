using System.Text.Json;
using Masking.Experiments.Training;
using Masking.Policies;
using Masking.Tasks;
using Masking.Text;
using Masking.World;

namespace Masking.Experiments.Grid;

/// <summary>A fact of the target world: its subject and relation (each subject has one fact per relation).</summary>
public readonly record struct FactKey(int Subject, string Relation);

/// <summary>How often intermediate pre-training masked each fact's object and its subject's name, per epoch.</summary>
public sealed record FactMaskCounts(IReadOnlyDictionary<FactKey, int[]> Object, IReadOnlyDictionary<FactKey, int[]> Subject, int Epochs);

/// <summary>
/// Replays an IPT cell's masks after the run: masks are a function of (run seed, epoch, example index, step) and
/// the batches of the epoch plan, so the masks of every step are drawn again exactly as the cell drew them
/// (nothing is logged during training). A span counts as masked when every one of its tokens is [R: a partly
/// masked answer still shows part of it; the method notes are silent].
/// </summary>
public static class FactAttribution
{
    public static FactMaskCounts? Replay(string iptCellDir, TextWriter log)
    {
        var runFile = Path.Combine(iptCellDir, "run.json");
        if (!File.Exists(runFile) || !File.Exists(Path.Combine(iptCellDir, "final.json"))) return null;
        var run = RunConfig.FromJson(File.ReadAllText(runFile));
        if (run is null || run.Corpus != "world-target") return null;
        var vocab = HuggingFace.ModelDirectory.LoadTokenizer(iptCellDir).Tokenizer;
        var spec = RunPmiVocabulary.Resolve(run.Policy ?? "orig", iptCellDir, vocab, null, log);
        if (spec is null) return null;
        var resolved = PolicySpecModule.resolve(vocab.Specials, spec);
        if (resolved.IsError) throw new InputError(resolved.ErrorValue);
        var policy = resolved.ResultValue;
        var world = Registry.defaultWorld.Value;
        var examples = Corpora.Examples(run.Corpus, vocab);
        if (run.Scorer is not null)
        {
            var path = Path.Combine(run.Scorer, Scorer.FileName);
            if (!File.Exists(path)) { log.WriteLine($"report: no scorer at {path}; the attribution of {iptCellDir} is left out"); return null; }
            var scorer = Scorer.Load(path, TorchSharp.torch.CPU).Scorer;
            examples = examples.Select(e => new Example(e.Tokens, e.WordStarts, e.Sentences, e.Annotations,
                scorer.ScoreUnits(e.Tokens, e.WordStarts, e.Annotations, vocab.Specials, TorchSharp.torch.CPU))).ToArray();
        }
        // Each passage's objects and subjects in tokens, with their facts.
        var spans = world.TargetCorpus.Select(p =>
        {
            var offsets = vocab.Encode(p.Text).Offsets;
            (Span Span, FactKey Fact)[] Of(Tuple<Span, Fact>[] found) =>
                Sentences.toTokenSpans(offsets, found.Select(f => f.Item1).ToArray())
                    .Select((s, k) => (s, new FactKey(found[k].Item2.Subject, Masking.World.RelationModule.name(found[k].Item2.Relation)))).ToArray();
            return (Objects: Of(p.Objects), Subjects: Of(p.Subjects));
        }).ToArray();

        // loss-guided: the scores the cell kept for each window.
        var guidance = LossGuidance.For(spec, iptCellDir, vocab, TorchSharp.torch.CPU);
        var modelTokenizer = guidance is null ? null : HuggingFace.ModelDirectory.LoadTokenizer(iptCellDir);
        var perEpoch = (examples.Length + run.BatchSize - 1) / run.BatchSize;
        var epochs = (int)((run.Steps + perEpoch - 1) / perEpoch);
        var objects = new Dictionary<FactKey, int[]>();
        var subjects = new Dictionary<FactKey, int[]>();
        foreach (var p in spans)
            foreach (var (_, fact) in p.Objects) { objects.TryAdd(fact, new int[epochs]); subjects.TryAdd(fact, new int[epochs]); }
        IReadOnlyList<int[]> batches = [];
        var planned = -1;
        for (long step = 0; step < run.Steps; step++)
        {
            var epoch = (int)(step / perEpoch);
            if (epoch != planned) { batches = EpochPlan.Batches(examples.Length, i => examples[i].Tokens.Length, run.BatchSize, run.Seed, epoch); planned = epoch; }
            Example[] seen;
            try { seen = guidance is null ? examples : guidance.At(step, -1, examples, null, modelTokenizer!, run); }
            catch (InputError e)
            {
                log.WriteLine($"report: {e.Message}; the attribution of {iptCellDir} is left out");
                return null;
            }
            foreach (var i in batches[(int)(step % batches.Count)])
            {
                var m = policy.Apply.Invoke(new MaskContext(Seeds.derive(run.Seed, epoch, i), step)).Invoke(seen[i]);
                var masked = new bool[examples[i].Tokens.Length];
                foreach (var s in m.Spans) for (var t = s.Start; t < s.End; t++) masked[t] = true;
                bool Hidden(Span s) => s.End > s.Start && Enumerable.Range(s.Start, s.End - s.Start).All(t => masked[t]);
                foreach (var (span, fact) in spans[i].Objects) if (Hidden(span)) objects[fact][epoch]++;
                foreach (var (span, fact) in spans[i].Subjects) if (Hidden(span)) subjects[fact][epoch]++;
            }
        }
        return new FactMaskCounts(objects, subjects, epochs);
    }

    /// <summary>attribution/ARM.jsonl: one line per fact, its object's and subject's mask counts per epoch.</summary>
    public static void Write(string path, FactMaskCounts counts)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var lines = counts.Object.Keys.OrderBy(f => f.Subject).ThenBy(f => f.Relation, StringComparer.Ordinal).Select(f => JsonSerializer.Serialize(new
        {
            subject = f.Subject, relation = f.Relation, object_masked = counts.Object[f], subject_masked = counts.Subject[f],
        }, RunDirectory.Json));
        AtomicFile.writeAllText(path, string.Concat(lines.Select(l => l + "\n")));
    }
}
