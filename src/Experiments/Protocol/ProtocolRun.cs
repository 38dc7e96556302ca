using System.Globalization;
using System.Text;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Experiments.Training;
using Masking.Metrics;
using Masking.Tasks;

namespace Masking.Experiments.Protocol;

/// <summary>A preset of the whole protocol: sizes, steps, arms, tasks and seeds.</summary>
public sealed record ProtocolPreset(
    string Name, string Model, int PretrainSteps, int IntermediateSteps, int FinetuneSteps, int EvalEvery, int SupervisedSteps,
    int MetaSteps, int Seeds, IReadOnlyList<string> Tasks, int BatchSize, int VocabSize)
{
    /// <summary>The generated world, every arm, one task of each family, 3 seeds.</summary>
    public static readonly ProtocolPreset Demo = new("demo", "tiny", 600, 300, 200, 100, 600, 40, 3,
        ["world-cbqa", "world-slot", "world-cqa"], 32, 4000);

    /// <summary>Seconds-long version of the demo for tests: micro model, one task, two seeds.</summary>
    public static readonly ProtocolPreset Smoke = new("smoke", "micro", 20, 10, 10, 10, 30, 2, 2, ["world-cqa"], 8, 600);

    public static ProtocolPreset? Find(string name) => name switch { "demo" => Demo, "smoke" => Smoke, _ => null };
}

/// <summary>
/// <c>masking run --preset demo</c>: general pre-training → intermediate pre-training for every arm (no IPT,
/// orig, rand, ssm, supervised, meta-learned; the learned policies are trained on the way) → fine-tuning on
/// each task and seed → test evaluation → results.json and report.md. Every cell is a run directory under
/// --out; a finished cell is skipped, an interrupted one resumes.
/// </summary>
public static class ProtocolRun
{
    public static readonly string[] Arms = ["none", "orig", "rand", "ssm", "supervised", "meta"];

    public static int Run(ProtocolPreset preset, string outDir, StageEnvironment env, TextWriter stdout)
    {
        Directory.CreateDirectory(outDir);
        string Dir(params string[] parts) => Path.Combine([outDir, .. parts]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Say(string line) => env.Log.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}");
        RunConfig Base(string stage) => new()
        {
            Stage = stage, BatchSize = preset.BatchSize, LogEvery = 10, CheckpointEvery = 50, MaxTargetLength = 24, MaxSourceLength = 128,
        };

        Say("general pre-training (background world, random masking, full-sequence target)");
        Stages.Pretrain(Base("pretrain") with { Preset = preset.Model, Corpus = "world-background", Policy = "orig", Steps = preset.PretrainSteps, LearningRate = 1e-3, VocabSize = preset.VocabSize },
            new RunDirectory(Dir("pretrain")), env);

        Say("learning the supervised policy (world-cqa contexts and answers)");
        PolicyLearning.Run(new PolicyLearning.Options("supervised", "world-cqa", Dir("pretrain"), "world-target", preset.SupervisedSteps, 3e-3, 1e-2, 0.15,
            "exact", false, null, Math.Max(1, preset.SupervisedSteps / 4), 10, 0), new RunDirectory(Dir("policy-supervised")), env);
        Say("meta-learning a policy (world-cbqa; from the supervised scorer)");
        PolicyLearning.Run(new PolicyLearning.Options("meta", "world-cbqa", Dir("pretrain"), "world-target", preset.MetaSteps, 1e-3, 1e-2, 0.15,
            "first-order", false, Dir("policy-supervised"), 100, 5, 0), new RunDirectory(Dir("policy-meta")), env);

        foreach (var arm in Arms.Where(a => a != "none"))
        {
            Say($"intermediate pre-training: {arm}");
            var (policy, scorer) = arm switch
            {
                "supervised" => ("scored", Dir("policy-supervised")),
                "meta" => ("scored:budget=0.15", Dir("policy-meta")),
                _ => (arm, (string?)null),
            };
            Stages.Intermediate(Base("intermediate") with { From = Dir("pretrain"), Corpus = "world-target", Policy = policy, Scorer = scorer, Steps = preset.IntermediateSteps, LearningRate = 5e-4 },
                new RunDirectory(Dir("ipt", arm)), env);
        }

        var results = new Dictionary<string, Dictionary<string, List<double>>>();
        foreach (var arm in Arms)
        {
            results[arm] = new Dictionary<string, List<double>>();
            foreach (var task in preset.Tasks)
            {
                results[arm][task] = [];
                for (var seed = 1; seed <= preset.Seeds; seed++)
                {
                    var cell = Dir("finetune", arm, task, $"seed{seed}");
                    Say($"fine-tuning: {arm} → {task}, seed {seed}");
                    Stages.Finetune(Base("finetune") with
                    {
                        From = arm == "none" ? Dir("pretrain") : Dir("ipt", arm), Task = task, Steps = preset.FinetuneSteps, EvalEvery = preset.EvalEvery,
                        Patience = 3, LearningRate = 5e-4, Seed = (ulong)seed,
                    }, new RunDirectory(cell), env);
                    var metrics = Path.Combine(cell, "eval-test", "metrics.json");
                    if (!File.Exists(metrics)) Stages.Evaluate(cell, "test", 1, null, env);
                    using var doc = JsonDocument.Parse(File.ReadAllText(metrics));
                    var key = MetricModule.key(Registry.find(task).ResultValue.Metrics.Head);
                    results[arm][task].Add(doc.RootElement.GetProperty(key).GetDouble());
                }
            }
        }

        WriteResults(preset, outDir, results, clock.Elapsed);
        Say($"done: {Path.Combine(outDir, "report.md")}");
        stdout.WriteLine(File.ReadAllText(Path.Combine(outDir, "report.md")));
        return 0;
    }

    private static void WriteResults(ProtocolPreset preset, string outDir, Dictionary<string, Dictionary<string, List<double>>> results, TimeSpan elapsed)
    {
        var json = new Dictionary<string, object>
        {
            ["preset"] = preset.Name,
            ["seconds"] = Math.Round(elapsed.TotalSeconds),
            ["cells"] = results.ToDictionary(a => a.Key, a => a.Value.ToDictionary(t => t.Key, t =>
            {
                var s = Statistics.summarize(Microsoft.FSharp.Collections.ListModule.OfSeq(t.Value));
                var against = Statistics.welch(Microsoft.FSharp.Collections.ListModule.OfSeq(t.Value),
                    Microsoft.FSharp.Collections.ListModule.OfSeq(results["none"][t.Key]));
                return (object)new Dictionary<string, object?>
                {
                    ["scores"] = t.Value, ["mean"] = s.Mean, ["std"] = s.Std,
                    ["p_vs_none"] = a.Key == "none" || against.IsError ? null : against.ResultValue.PValue,
                };
            })),
        };
        RunDirectory.WriteAtomically(Path.Combine(outDir, "results.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }) + "\n");

        var md = new StringBuilder();
        md.AppendLine($"# Masking — `{preset.Name}` protocol on the generated world").AppendLine();
        md.AppendLine($"Test-split {string.Join(", ", preset.Tasks.Select(t => $"{t} {MetricModule.key(Registry.find(t).ResultValue.Metrics.Head)}"))}, " +
                      $"mean ± sample std over {preset.Seeds} fine-tuning seeds; * marks p < 0.05 against no intermediate pre-training (Welch). " +
                      $"Model `{preset.Model}`, pre-training {preset.PretrainSteps} steps, intermediate pre-training {preset.IntermediateSteps} steps, " +
                      $"fine-tuning ≤ {preset.FinetuneSteps} steps. Wall time {elapsed:hh\\:mm\\:ss}.").AppendLine();
        md.AppendLine("| arm | " + string.Join(" | ", preset.Tasks) + " |");
        md.AppendLine("| --- |" + string.Concat(preset.Tasks.Select(_ => " --- |")));
        foreach (var (arm, row) in results)
        {
            md.Append("| ").Append(arm == "none" ? "no IPT" : "+" + arm).Append(" |");
            foreach (var task in preset.Tasks)
            {
                var s = Statistics.summarize(Microsoft.FSharp.Collections.ListModule.OfSeq(row[task]));
                var p = Statistics.welch(Microsoft.FSharp.Collections.ListModule.OfSeq(row[task]), Microsoft.FSharp.Collections.ListModule.OfSeq(results["none"][task]));
                var star = arm != "none" && p.IsOk && p.ResultValue.PValue < 0.05 ? "*" : "";
                md.Append(string.Create(CultureInfo.InvariantCulture, $" {100 * s.Mean:F1} ± {100 * s.Std:F1}{star} |"));
            }
            md.AppendLine();
        }
        md.AppendLine().AppendLine("Analyses (POS and frequency of masked tokens, learning curves, transfer) and plots are not part of this version yet (issue #7).");
        RunDirectory.WriteAtomically(Path.Combine(outDir, "report.md"), md.ToString());
    }
}
