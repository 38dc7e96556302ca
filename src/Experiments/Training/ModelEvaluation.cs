using System.Text.Json;
using Masking.Metrics;
using Masking.Tasks;

namespace Masking.Experiments.Training;

/// <summary><c>masking evaluate</c>: a fine-tuned model's predictions on a split, scored by the task's metrics.</summary>
public static class ModelEvaluation
{
    /// <summary>What <c>masking evaluate</c> takes. A fine-tuning run gives its task and length limits; for any other
    /// model directory (a Hugging Face BART one, say) <see cref="Task"/> is required and the limits default to
    /// <see cref="RunConfig"/>'s.</summary>
    public sealed record Options(string From, string Split = "test", int Beam = 4, string? Out = null, int? MaxExamples = null,
        string? Task = null, int? MaxSourceLength = null, int? MaxTargetLength = null, string? Choice = null, string? ChoiceNormalisation = null);

    public static int Run(Options options, StageEnvironment env)
    {
        var (fromPath, splitName, beam, outPath, maxExamples) = (options.From, options.Split, options.Beam, options.Out, options.MaxExamples);
        var from = new RunDirectory(fromPath);
        var outDir = OutputPaths.Directory(outPath ?? Path.Combine(from.Path, "eval-" + splitName), "--out");
        // Two evaluations into one directory would interleave predictions.jsonl and metrics.json.
        using var claim = new RunDirectory(outDir);
        claim.Lock();
        RunConfig run;
        if (File.Exists(from.ConfigFile))
            run = RunConfig.FromJson(File.ReadAllText(from.ConfigFile)) ?? throw new InputError($"{from.ConfigFile}:1: expected a run configuration");
        else if (HuggingFace.ModelDirectory.HasModel(from.Path))
            run = new RunConfig { Stage = "evaluate", Task = options.Task ?? throw new InputError($"evaluate: {from.Path} is not a fine-tuning run; expected --task TASK") };
        else throw new InputError($"{from.ConfigFile}:0: expected a finetune run directory (or a Hugging Face BART directory with --task)");
        run = run with
        {
            Task = options.Task ?? run.Task, MaxSourceLength = options.MaxSourceLength ?? run.MaxSourceLength,
            MaxTargetLength = options.MaxTargetLength ?? run.MaxTargetLength,
            Choice = options.Choice ?? run.Choice, ChoiceNormalisation = options.ChoiceNormalisation ?? run.ChoiceNormalisation,
        };
        var task = StageInputs.FindTask(run.Task);
        var split = SplitModule.parse(splitName);
        if (split.IsError) throw new InputError("--split: " + split.ErrorValue);
        if (!HuggingFace.ModelDirectory.HasModel(from.Path)) throw new InputError($"{from.ModelFile}:0: expected the fine-tuned model (has the run finished?)");
        var state = ModelState.FromModelDirectory(from.Path, env.Device);
        Prediction.CheckLengths(run, state.Config);
        var tokenizer = HuggingFace.ModelDirectory.LoadTokenizer(from.Path);
        var vocab = tokenizer.Tokenizer;
        var examples = StageInputs.Limit(StageInputs.LoadSplit(task, split.ResultValue, env), maxExamples);
        var cut = new Truncation(examples.Count, examples.Count(e => Truncation.Cuts(true, vocab.Encode(e.Source).Ids.Length, run.MaxSourceLength)), 0);
        env.Log.WriteLine($"evaluate: {splitName} {cut.Describe(run.MaxSourceLength, null)}");
        var predictions = Prediction.Predict(state, tokenizer, examples, run, beam, task.Focus?.Value);
        var pairs = Microsoft.FSharp.Collections.ListModule.OfSeq(examples.Select((e, i) => Tuple.Create(predictions[i], e.Targets)));
        var scores = task.Metrics.Select(m => (Key: MetricModule.key(m), Value: MetricModule.score(m, pairs))).DistinctBy(s => s.Key).ToList();

        Prediction.Write(Path.Combine(outDir, "predictions.jsonl"), examples, predictions);
        var result = new Dictionary<string, object> { ["task"] = task.Name, ["split"] = splitName, ["count"] = examples.Count, ["beam"] = beam, ["sources_cut"] = cut.SourcesCut };
        if (examples.Any(e => !e.Options.IsEmpty))
        {
            // Free generation can answer with something that is no option at all; rank classification never does.
            result["choice"] = run.Choice;
            result["outside_options"] = Math.Round(examples.Select((e, i) => (e, i)).Where(x => !x.e.Options.IsEmpty)
                .Average(x => x.e.Options.Any(o => string.Equals(o.Trim(), predictions[x.i].Trim(), StringComparison.OrdinalIgnoreCase)) ? 0.0 : 1.0), 6);
        }
        foreach (var (k, v) in scores) result[k] = Math.Round(v, 6);
        var json = JsonSerializer.Serialize(result, RunDirectory.Json);
        RunDirectory.WriteAtomically(Path.Combine(outDir, "metrics.json"), json + "\n");
        Console.Out.WriteLine(json);
        env.Log.WriteLine($"evaluate: {examples.Count} predictions in {outDir}");
        return 0;
    }
}
