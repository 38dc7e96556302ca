using System.Globalization;
using System.Text;
using Masking.Model;
using Masking.Policies;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>
/// The scores of the <c>loss-guided</c> policy in a denoising stage: every word of every passage scored by the
/// mean per-token loss of the model being trained, or by its excess over a reference model (Rho-1's token
/// selection, Lin et al. 2024, as a masking policy). A passage is scored as the target of an empty source, the
/// decoder reading it as a language model would (one forward pass a passage) [R: the method notes are silent on
/// how a denoiser's token loss is taken]. The corpus is scored again at every multiple of <c>every</c> steps, by
/// the model as it is at that step; each scoring is kept in <c>loss-scores/STEP.txt</c>, so a resumed run masks
/// with the very scores the uninterrupted run had.
/// </summary>
public sealed class LossGuidance
{
    private const int Chunk = 16;
    private readonly long _every;
    // Loaded only when a scoring is computed: the report's replays read the kept files and need no model.
    private readonly Lazy<ModelState>? _reference;
    private readonly string _directory;
    private double[][]? _referenceScores;
    private long _window = -1;
    private Example[] _scored = [];

    private LossGuidance(long every, Lazy<ModelState>? reference, string directory) =>
        (_every, _reference, _directory) = (every, reference, directory);

    /// <summary>Whether a spec is the <c>loss-guided</c> policy itself, which needs a training stage's model.</summary>
    public static bool IsLossGuided(string spec) => Named(spec) is not null;

    private static PolicySpec.NamedSpec? Named(string spec)
    {
        var parsed = PolicySpecModule.parse(spec);
        return !parsed.IsError && parsed.ResultValue is PolicySpec.NamedSpec { name: "loss-guided" } named ? named : null;
    }

    /// <summary>The guidance for a <c>loss-guided</c> spec (checked already), or null for any other policy.</summary>
    public static LossGuidance? For(string spec, string runDir, ITokenizer vocab, torch.Device device)
    {
        if (Named(spec) is not { } named) return null;
        string? Knob(string name) => named.knobs.FirstOrDefault(k => k.Item1 == name)?.Item2.ToString();
        var every = (long)double.Parse(Knob("every") ?? "100", CultureInfo.InvariantCulture);
        Lazy<ModelState>? reference = null;
        if (Knob("reference") is { } dir and not "none")
        {
            if (!HuggingFace.ModelDirectory.HasModel(dir)) throw new InputError($"{dir}:0: loss-guided reference: expected a model directory (config.json and model.safetensors)");
            var size = HuggingFace.ModelDirectory.LoadTokenizer(dir).Tokenizer.Specials.VocabSize;
            if (size != vocab.Specials.VocabSize)
                throw new InputError($"{dir}:0: loss-guided reference: expected the run's tokenizer ({vocab.Specials.VocabSize} ids), found {size} ids");
            reference = new Lazy<ModelState>(() => ModelState.FromModelDirectory(dir, device));
        }
        return new LossGuidance(every, reference, Path.Combine(runDir, "loss-scores"));
    }

    /// <summary>The examples with the scores of the window that holds <paramref name="step"/>. A window's scores
    /// are read from its file, or computed by <paramref name="state"/> when <paramref name="current"/> (the step
    /// that model is at) starts the window; without a model (the report's replays) only files are read.</summary>
    public Example[] At(long step, long current, Example[] examples, ModelState? state, HuggingFace.ModelTokenizer tokenizer, RunConfig run)
    {
        var window = step / _every * _every;
        if (window == _window) return _scored;
        var path = Path.Combine(_directory, $"{window}.txt");
        double[][] scores;
        if (File.Exists(path)) scores = Read(path, examples);
        else if (state is not null && window == current)
        {
            scores = Words(examples, state, tokenizer, run);
            if (_reference is not null)
            {
                _referenceScores ??= Words(examples, _reference.Value, tokenizer, run);
                scores = scores.Select((row, i) => row.Select((s, w) => s - _referenceScores[i][w]).ToArray()).ToArray();
            }
            Directory.CreateDirectory(_directory);
            AtomicFile.writeAllText(path, string.Concat(scores.Select(row => string.Join(' ', row.Select(s => s.ToString("R", CultureInfo.InvariantCulture))) + "\n")));
        }
        else throw new InputError($"{path}:0: expected the loss scores of steps {window}… to resume this run with the same masks; start it again in a new --out");
        var specials = tokenizer.Tokenizer.Specials;
        _scored = examples.Select((e, i) =>
        {
            var words = Units.words(specials, e);
            if (scores[i].Length != words.Length) throw new InputError($"{path}:{i + 1}: expected {words.Length} scores (one per word), found {scores[i].Length}");
            var candidates = words.Select((w, k) => new ScoredSpan(w, scores[i][k])).Where(c => double.IsFinite(c.Score)).ToArray();
            return new Example(e.Tokens, e.WordStarts, e.Sentences, e.Annotations, candidates);
        }).ToArray();
        _window = window;
        return _scored;
    }

    /// <summary>Each word's mean token loss (NaN for a word the target length cuts off).</summary>
    private static double[][] Words(Example[] examples, ModelState state, HuggingFace.ModelTokenizer tokenizer, RunConfig run)
    {
        var specials = tokenizer.Tokenizer.Specials;
        var device = state.Parameters.First().Value.device;
        var result = new double[examples.Length][];
        for (var start = 0; start < examples.Length; start += Chunk)
        {
            using var scope = torch.NewDisposeScope();
            var part = examples.Skip(start).Take(Chunk).ToArray();
            var pairs = part.Select(e => new SequencePair(Prediction.Wrap(specials.Bos, [], specials.Eos, run.MaxSourceLength),
                Prediction.Wrap(tokenizer.LabelStart, e.Tokens, specials.Eos, run.MaxTargetLength))).ToList();
            using var batch = Batch.Create(pairs, specials.Pad, state.Config.DecoderStartId, device);
            var losses = Likelihood.tokenLosses(state.Config, state.Parameters, batch.Source, batch.DecoderInput, batch.Target);
            for (var k = 0; k < part.Length; k++)
            {
                // Token t's loss is at t + the label tokens before the text; the last loss is </s>'s.
                var row = losses[k];
                var known = row.Length - 1 - tokenizer.ExtraLabelTokens;
                result[start + k] = Units.words(specials, part[k]).Select(w => w.End <= known
                    ? Enumerable.Range(w.Start, w.End - w.Start).Average(t => row[t + tokenizer.ExtraLabelTokens])
                    : double.NaN).ToArray();
            }
        }
        return result;
    }

    private static double[][] Read(string path, Example[] examples)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length != examples.Length) throw new InputError($"{path}:{lines.Length}: expected one line of scores per passage ({examples.Length})");
        return lines.Select((l, i) => l.Length == 0 ? [] : l.Split(' ').Select(x => double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new InputError($"{path}:{i + 1}: expected numbers, found '{x}'")).ToArray()).ToArray();
    }
}
