using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Experiments.Training;
using Masking.Taggers;
using Masking.Tasks;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking tag train --kind pos|ner</c> trains a tagger from the shared data (UD EWT for POS, CoNLL-2003
/// for NER) and writes models/&lt;kind&gt;.tagger with its training data, options and dev score;
/// <c>masking tag eval --kind pos|ner --data FILE</c> prints <c>accuracy=</c> (POS) or <c>f1=</c> (NER,
/// entity level) and the tagging speed; <c>masking tag annotate --input FILE --out FILE</c> writes each line's
/// words, POS tags and entity spans as JSONL.
/// </summary>
public static class TagCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string? DefaultModel(string kind) => TaggerModels.Default(kind);


    private sealed record TrainSettings(string Kind, string? Data, int? Iterations, ulong Seed, int? Ensemble, int? BucketBits, bool Xpos,
        string? Out, bool NoClusters);

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var (pos, ner) = (TaggerTrainingOptionsModule.defaults(TaggerKind.PosTagger), TaggerTrainingOptionsModule.defaults(TaggerKind.NerTagger));
        string Defaults(Func<TaggerTrainingOptions, object> knob) => $"(default: pos {knob(pos)}, ner {knob(ner)})";

        var train = new Command("train", "train a tagger from the data root (UD EWT for pos, CoNLL-2003 for ner) and write it with its training data, options and dev score");
        var trainKind = Kind(train);
        var iterations = Opts.OptionalInt("--iterations", "training passes " + Defaults(o => o.Iterations), min: 1, max: 10_000);
        // Both taggers' default seed is the same, so one default is shown.
        var seed = Opts.Seed(pos.Seed, "the seed of the sentence orders");
        var ensemble = Opts.OptionalInt("--ensemble", "perceptrons averaged " + Defaults(o => o.Ensemble), min: 1, max: 64);
        var bits = Opts.OptionalInt("--bucket-bits", "log2 of the feature table's size " + Defaults(o => o.BucketBits), min: 10, max: 30);
        var trainXpos = Xpos();
        var output = Opts.Text("--out", "FILE", "where to write the model (default: models/KIND.tagger under the working directory)");
        var noClusters = Opts.Flag("--no-clusters", "no word clusters from unlabelled text");
        foreach (var o in new Option[] { iterations, seed, ensemble, bits, trainXpos, output, noClusters }) train.Options.Add(o);
        var data = CommonOptions.Data(train);
        train.SetAction(p => Train(new TrainSettings(p.GetValue(trainKind)!, p.GetValue(data), p.GetValue(iterations), p.GetValue(seed),
            p.GetValue(ensemble), p.GetValue(bits), p.GetValue(trainXpos), p.GetValue(output), p.GetValue(noClusters)), stdout, stderr));

        var eval = new Command("eval", "accuracy (pos) or entity-level precision, recall and F1 (ner) on a file, and the tagging speed");
        var evalKind = Kind(eval);
        var evalData = Opts.Required(eval, "--data", "FILE", "a CoNLL-U (pos) or CoNLL-2003/IOB2 (ner) file");
        var model = Opts.Text("--model", "FILE", "the tagger (default: models/KIND.tagger)");
        var evalXpos = Xpos();
        eval.Options.Add(model);
        eval.Options.Add(evalXpos);
        eval.SetAction(p => Eval(p.GetValue(evalKind)!, p.GetValue(evalData)!, p.GetValue(model), p.GetValue(evalXpos), stdout, stderr));

        var annotate = new Command("annotate", "each line's words, POS tags and entity spans as JSONL");
        var input = Opts.Required(annotate, "--input", "FILE", "a text file, one example per line");
        var annotateOut = Opts.Required(annotate, "--out", "FILE", "where to write the JSONL");
        var nerModel = Opts.Text("--ner-model", "FILE", "the NER tagger (default: models/ner.tagger)");
        var posModel = Opts.Text("--pos-model", "FILE", "the POS tagger (default: models/pos.tagger)");
        annotate.Options.Add(nerModel);
        annotate.Options.Add(posModel);
        annotate.SetAction(p => AnnotateFile(p.GetValue(input)!, p.GetValue(annotateOut)!, p.GetValue(nerModel), p.GetValue(posModel), stderr));

        return new Command("tag", "the POS and NER taggers: train, evaluate, annotate") { train, eval, annotate };
    }

    private static Option<string> Kind(Command command) =>
        Opts.Require(command, Opts.Choice("--kind", "which tagger (required)", null, "pos", "ner"), "pos or ner");

    private static Option<bool> Xpos() => Opts.Flag("--xpos", "Penn Treebank tags (XPOS) instead of universal ones (UPOS)");

    private static List<TaggedSentence> Read(string kind, string path, bool xpos)
    {
        var r = TaskExampleModule.attempt(
            Microsoft.FSharp.Core.FuncConvert.FromFunc<string, Microsoft.FSharp.Collections.FSharpList<TaggedSentence>>(p =>
                kind == "pos" ? TaggedCorpora.conllu(p, xpos)
                : p.EndsWith(".iob2", StringComparison.Ordinal) ? TaggedCorpora.iob2(p) : TaggedCorpora.conllNer(p)),
            path);
        return r.IsOk ? r.ResultValue.ToList() : throw new CliError(r.ErrorValue);
    }

    private static int Train(TrainSettings settings, TextWriter stdout, TextWriter stderr)
    {
        var kind = settings.Kind;
        var root = DataRoot.Resolve(settings.Data);
        var defaults = TaggerTrainingOptionsModule.defaults(kind == "pos" ? TaggerKind.PosTagger : TaggerKind.NerTagger);
        var iterations = settings.Iterations ?? defaults.Iterations;
        var seed = settings.Seed;
        var ensemble = settings.Ensemble ?? defaults.Ensemble;
        var bits = settings.BucketBits ?? defaults.BucketBits;
        var xpos = settings.Xpos;
        var output = OutputPaths.File(settings.Out ?? Path.Combine(Directory.GetCurrentDirectory(), "models", kind + ".tagger"), "--out");
        var noClusters = settings.NoClusters;

        var (trainFile, devFile) = kind == "pos"
            ? (Path.Combine(root, "ud_english_ewt", "en_ewt-ud-train.conllu.gz"), Path.Combine(root, "ud_english_ewt", "en_ewt-ud-dev.conllu"))
            : (Path.Combine(root, "conll2003", "train.txt"), Path.Combine(root, "conll2003", "valid.txt"));
        var train = Read(kind, trainFile, xpos);
        var dev = Read(kind, devFile, xpos);
        var gazetteer = new Dictionary<string, int>();
        if (kind == "ner")
        {
            var g = Gazetteer.fromNltk(Path.Combine(root, "nltk_data"));
            gazetteer = g.IsOk ? g.ResultValue : throw new CliError(g.ErrorValue);
        }
        var clock = Stopwatch.StartNew();
        var unlabeled = noClusters ? [] : UnlabeledFiles(root);
        var sentences = UnlabeledSentences(root, unlabeled, xpos).ToList();
        var clusters = noClusters
            ? new Dictionary<string, int[]>()
            : WordClusters.build(WordClusterOptionsModule.defaults, sentences,
                Microsoft.FSharp.Core.FuncConvert.FromAction<string>(m => stderr.WriteLine($"tag train: {m} ({Durations.Clock(clock.Elapsed)})")));
        // Case profiles read the same unlabelled text (NER only: capitalisation is what tells names apart).
        var caseProfiles = kind == "ner" && !noClusters ? CaseProfiles.build(2, sentences) : new Dictionary<string, int>();
        var options = new TaggerTrainingOptions(defaults.Kind, gazetteer, clusters, caseProfiles, iterations, ensemble, seed, bits);
        var model = TaggerTraining.train(options, Microsoft.FSharp.Collections.ListModule.OfSeq(train),
            Microsoft.FSharp.Core.FuncConvert.FromAction<string, int, double>((pass, iteration, accuracy) =>
                stderr.WriteLine($"tag train: {pass} iteration {iteration}/{iterations}" + (accuracy > 0 ? $" train accuracy {accuracy:F4}" : "") + $" ({Durations.Clock(clock.Elapsed)})")));
        var (score, metric) = Score(kind, model, dev);
        var meta = new Dictionary<string, string>
        {
            ["train"] = Describe(trainFile),
            ["dev"] = Describe(devFile),
            ["options"] = $"iterations={iterations} ensemble={ensemble} seed={seed} bucket_bits={bits} tagset={(kind == "pos" ? (xpos ? "xpos" : "upos") : "iob2")}",
            ["dev_" + metric] = score.ToString("F4", CultureInfo.InvariantCulture),
        };
        if (kind == "ner") meta["gazetteers"] = "nltk_data/gazetteers.zip, nltk_data/names.zip";
        if (kind == "ner") meta["case_profiles"] = $"{caseProfiles.Count} words";
        meta["clusters"] = noClusters ? "none" : $"{clusters.Count} words from " + string.Join(", ", unlabeled.Select(Describe));
        model = new TaggerModel(model.Kind, model.Tags, model.Perceptron, model.Lexicon, model.Gazetteer, model.Clusters, model.CaseProfiles, model.DocumentPass,
            Microsoft.FSharp.Collections.MapModule.OfSeq(meta.Select(kv => Tuple.Create(kv.Key, kv.Value))));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        TaggerFile.save(output, model);
        stdout.WriteLine($"dev_{metric}={score:F4}");
        stderr.WriteLine($"tag train: {output} ({new FileInfo(output).Length} bytes)");
        return 0;
    }

    /// <summary>Unlabelled text for the word clusters: Wikipedia (WikiText-2, WikiSplit) and the words of both
    /// taggers' training splits. No tagging dev or test split is read.</summary>
    private static List<string> UnlabeledFiles(string root) =>
    [
        Path.Combine(root, "wikitext2", "wiki.valid.raw"),
        Path.Combine(root, "wikitext2", "wiki.test.raw"),
        Path.Combine(root, "wikisplit", "tune.tsv"),
        Path.Combine(root, "wikisplit", "validation.tsv"),
        Path.Combine(root, "wikisplit", "test.tsv"),
        Path.Combine(root, "conll2003", "train.txt"),
        Path.Combine(root, "ud_english_ewt", "en_ewt-ud-train.conllu.gz"),
    ];

    private static IEnumerable<string[]> UnlabeledSentences(string root, List<string> files, bool xpos)
    {
        foreach (var file in files)
        {
            if (!File.Exists(file)) throw new CliError($"{file}:0: expected unlabelled text for the word clusters (or pass --no-clusters)");
            if (file.EndsWith(".conllu.gz", StringComparison.Ordinal) || file.EndsWith("train.txt", StringComparison.Ordinal))
            {
                foreach (var s in Read(file.EndsWith(".gz", StringComparison.Ordinal) ? "pos" : "ner", file, xpos)) yield return s.Words;
                continue;
            }
            foreach (var line in File.ReadLines(file))
            {
                // WikiSplit: the unsplit sentence is the first column; WikiText: skip the " = Heading = " lines.
                var text = file.EndsWith(".tsv", StringComparison.Ordinal) ? line.Split('\t')[0] : line;
                if (text.TrimStart().StartsWith('=')) continue;
                var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words.Length > 0) yield return words;
            }
        }
    }

    private static string Describe(string path) =>
        $"{Path.GetFileName(Path.GetDirectoryName(path))}/{Path.GetFileName(path)} sha256:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant()[..16]}";

    /// <summary>Tags every document and scores it: token accuracy (POS) or entity-level F1 (NER).</summary>
    private static (double Score, string Metric) Score(string kind, TaggerModel model, List<TaggedSentence> gold)
    {
        var predicted = TagAll(model, gold);
        var goldTags = Microsoft.FSharp.Collections.ListModule.OfSeq(gold.Select(s => s.Tags));
        var predictedTags = Microsoft.FSharp.Collections.ListModule.OfSeq(predicted);
        return kind == "pos"
            ? (Evaluation.accuracy(goldTags, predictedTags), "accuracy")
            : (Evaluation.entityF1(goldTags, predictedTags).Item3, "f1");
    }

    private static List<string[]> TagAll(TaggerModel model, List<TaggedSentence> sentences)
    {
        var result = new List<string[]>(sentences.Count);
        foreach (var group in sentences.Select((s, i) => (s, i)).GroupBy(x => x.s.Document >= 0 ? x.s.Document : -1 - x.i))
            result.AddRange(Tagger.tagDocument(model, Microsoft.FSharp.Collections.ListModule.OfSeq(group.Select(x => x.s.Words))));
        return result;
    }

    private static int Eval(string kind, string data, string? modelPath, bool xpos, TextWriter stdout, TextWriter stderr)
    {
        var model = TaggerModels.Load(kind, modelPath);
        var gold = Read(kind, data, xpos);
        // Speed in the steady state: tiered compilation re-compiles the hot loops in the background during the
        // first passes (on one pinned core that halves the figure), so warm up for a second before timing.
        var warmUp = Stopwatch.StartNew();
        do TagAll(model, gold); while (warmUp.Elapsed.TotalSeconds < 1);
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        var passes = 0;
        while (clock.Elapsed.TotalSeconds < 2)
        {
            TagAll(model, gold);
            tokens += gold.Sum(s => s.Words.Length);
            passes++;
        }
        var perSecond = tokens / clock.Elapsed.TotalSeconds;
        var (score, metric) = Score(kind, model, gold);
        if (kind == "ner")
        {
            var (p, r, _) = Evaluation.entityF1(Microsoft.FSharp.Collections.ListModule.OfSeq(gold.Select(s => s.Tags)),
                Microsoft.FSharp.Collections.ListModule.OfSeq(TagAll(model, gold)));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"precision={p:F4}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"recall={r:F4}"));
        }
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{metric}={score:F4}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tokens_per_second={perSecond:F0}"));
        stderr.WriteLine($"tag eval: {gold.Count} sentences, {gold.Sum(s => s.Words.Length)} tokens, {passes} timed passes on one thread");
        return 0;
    }

    private static int AnnotateFile(string input, string output, string? nerModel, string? posModel, TextWriter stderr)
    {
        output = OutputPaths.File(output, "--out");
        var ner = TaggerModels.Load("ner", nerModel);
        var pos = TaggerModels.Load("pos", posModel);
        var lines = TextFile.nonEmptyLines(input);
        if (lines.IsError) throw new CliError(lines.ErrorValue);
        var tmp = AtomicFile.tempFor(output);
        using (var writer = new StreamWriter(tmp))
            foreach (var line in Inputs.Lines(input))
            {
                var words = Annotate.words(line);
                var tagged = Annotate.posTags(pos, Masking.Tokenizers.Gpt2Tokenizer.Embedded(100), line).Item1;
                writer.WriteLine(JsonSerializer.Serialize(new
                {
                    text = line,
                    words = tagged.Select(t => new object[] { t.Item1, t.Item2.Start, t.Item2.End, t.Item3 }),
                    entities = Annotate.entities(ner, line).Select(e => new object[] { e.Item1.Start, e.Item1.End, e.Item2 }),
                }, Json));
            }
        AtomicFile.commit(tmp, output);
        stderr.WriteLine($"tag annotate: {output}");
        return 0;
    }
}
