using System.Text.Json;
using Masking.Experiments.Training;
using Masking.Tasks;
using Microsoft.FSharp.Core;
using TorchSharp;
using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>Learned policies on the generated world: supervised and meta-learned scorers, and intermediate
/// pre-training driven by them.</summary>
public class LearnedPolicyStageTests
{
    private static readonly string Masking = MaskingProcess.Executable;

    private static (int Code, string Err) Run(params string[] args) => MaskingProcess.Run(args);

    [Fact]
    public void Supervised_and_meta_scorers_train_and_drive_intermediate_pretraining()
    {
        var root = CliRunner.TempPath("");
        var pre = Path.Combine(root, "pre");
        // A few hundred steps give the scorer an encoder that has seen the world's language (6 s).
        Assert.Equal(0, Run("pretrain", "--preset", "micro", "--vocab-size", "600", "--steps", "300", "--batch-size", "16", "--threads", "2", "--out", pre).Code);

        var sup = Path.Combine(root, "sup");
        var (code, err) = Run("learn-policy", "--kind", "supervised", "--task", "world-cqa", "--from", pre, "--steps", "400", "--lr", "0.001",
            "--eval-every", "50", "--patience", "4", "--threads", "2", "--out", sup);
        Assert.True(code == 0, err);
        var final = JsonDocument.Parse(File.ReadAllText(Path.Combine(sup, "final.json"))).RootElement;
        var f1 = final.GetProperty("dev_span_f1").GetDouble();
        var random = final.GetProperty("dev_random_span_f1").GetDouble();
        // Held-out contexts: the scorer finds answer spans far more often than a random span does.
        Assert.True(f1 > 1.5 * random, $"dev span F1 {f1} vs random spans {random}");
        // The checkpoint early stopping chose is also scored on the test contexts, which chose nothing.
        // Far above a random span there too, and above choosing a random salient span (what SSM does).
        var testF1 = final.GetProperty("test_span_f1").GetDouble();
        Assert.True(testF1 > 1.5 * final.GetProperty("test_random_span_f1").GetDouble(), $"test span F1 {testF1}");
        Assert.True(testF1 > final.GetProperty("test_random_entity_span_f1").GetDouble(), $"test span F1 {testF1} vs random entities");
        Assert.True(final.GetProperty("test_contexts").GetInt32() > 50);
        // The scorer started from the language model's encoder and left its embedding matrix as it was.
        var (scorer, _, _) = Scorer.Load(Path.Combine(sup, "scorer.safetensors"), torch.CPU);
        var lm = ModelState.FromModelDirectory(pre, torch.CPU);
        Assert.Equal("lm", scorer.Encoder);
        Assert.True(scorer.Parameters["model.shared.weight"].allclose(lm.Parameters["model.shared.weight"], rtol: 0, atol: 0));
        Assert.False(scorer.Parameters["model.encoder.layers.0.fc1.weight"].allclose(lm.Parameters["model.encoder.layers.0.fc1.weight"], rtol: 0, atol: 0));

        var meta = Path.Combine(root, "meta");
        (code, err) = Run("learn-policy", "--kind", "meta", "--task", "world-cbqa", "--from", pre, "--steps", "10", "--init", sup,
            "--threads", "2", "--out", meta);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(meta, "scorer.safetensors")));
        Assert.Contains("meta_loss", File.ReadAllText(Path.Combine(meta, "metrics.jsonl")));
        // Closed-book contexts come from the fact's own passages: every question has one, and the answer-string
        // search they replace would often have picked a passage about another subject.
        var metaFinal = JsonDocument.Parse(File.ReadAllText(Path.Combine(meta, "final.json"))).RootElement;
        Assert.Equal(1.0, metaFinal.GetProperty("train_context_found_rate").GetDouble());
        Assert.InRange(metaFinal.GetProperty("train_answer_search_states_fact").GetDouble(), 0.05, 0.9);
        Assert.Contains("contexts come from the fact's own passages", err);

        // Transfer: a scorer learned on one task drives intermediate pre-training before any task.
        (code, err) = Run("intermediate", "--from", pre, "--policy", "scored", "--scorer", sup, "--steps", "5", "--batch-size", "8",
            "--threads", "2", "--out", Path.Combine(root, "ipt"));
        Assert.True(code == 0, err);
        Assert.Contains("scored by the supervised scorer", err);
    }

    [Fact]
    public void A_killed_supervised_scorer_resumes_and_ends_exactly_like_an_uninterrupted_one()
    {
        var root = CliRunner.TempPath("");
        var pre = Path.Combine(root, "pre");
        Assert.Equal(0, Run("pretrain", "--preset", "micro", "--vocab-size", "600", "--steps", "5", "--batch-size", "8", "--threads", "1", "--out", pre).Code);
        string[] Args(string name) => ["learn-policy", "--kind", "supervised", "--task", "world-cqa", "--from", pre, "--steps", "600", "--eval-every", "25",
            "--patience", "100", "--threads", "1", "--out", Path.Combine(root, name)];
        var (code, err) = Run(Args("whole"));
        Assert.True(code == 0, err);

        var killed = Path.Combine(root, "killed");
        (code, _) = MaskingProcess.RunWith(StageTests.KillAt(50), Args("killed"));
        Assert.Equal(137, code);
        Assert.False(File.Exists(Path.Combine(killed, "final.json")));
        Assert.True(File.Exists(Path.Combine(killed, "checkpoints", "last.safetensors")));

        (code, err) = Run(Args("killed"));
        Assert.True(code == 0, err);
        Assert.Contains("resuming from step", err);
        Assert.Equal(File.ReadAllText(Path.Combine(root, "whole", "final.json")), File.ReadAllText(Path.Combine(killed, "final.json")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(root, "whole", "scorer.safetensors")), File.ReadAllBytes(Path.Combine(killed, "scorer.safetensors")));
        Assert.Equal(File.ReadAllText(Path.Combine(root, "whole", "metrics.jsonl")), File.ReadAllText(Path.Combine(killed, "metrics.jsonl")));
    }

    [Fact]
    public void A_meta_learned_policy_resumes_with_the_language_model_it_trained_alongside()
    {
        var root = CliRunner.TempPath("");
        var pre = Path.Combine(root, "pre");
        Assert.Equal(0, Run("pretrain", "--preset", "micro", "--vocab-size", "600", "--steps", "5", "--batch-size", "8", "--threads", "1", "--out", pre).Code);
        string[] Args(string name, int steps) => ["learn-policy", "--kind", "meta", "--task", "world-cqa", "--from", pre, "--steps", steps.ToString(),
            "--meta-gradient", "first-order", "--train-lm-along", "--threads", "1", "--out", Path.Combine(root, name)];
        Assert.Equal(0, Run(Args("whole", 20)).Code);
        // A run stopped after its step-10 checkpoint: the same directory asked for 20 steps continues from it.
        Assert.Equal(0, Run(Args("part", 10)).Code);
        File.Delete(Path.Combine(root, "part", "final.json"));
        var config = Path.Combine(root, "part", "run.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"steps\": 10", "\"steps\": 20"));
        var (code, err) = Run(Args("part", 20));
        Assert.True(code == 0, err);
        Assert.Contains("resuming from step 10", err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(root, "whole", "scorer.safetensors")), File.ReadAllBytes(Path.Combine(root, "part", "scorer.safetensors")));
    }

    [Fact]
    public void Learn_policy_is_deterministic()
    {
        var root = CliRunner.TempPath("");
        var pre = Path.Combine(root, "pre");
        Assert.Equal(0, Run("pretrain", "--preset", "micro", "--vocab-size", "600", "--steps", "5", "--batch-size", "8", "--threads", "1", "--out", pre).Code);
        foreach (var name in new[] { "a", "b" })
            Assert.Equal(0, Run("learn-policy", "--kind", "meta", "--task", "world-cqa", "--from", pre, "--steps", "4", "--threads", "1",
                "--out", Path.Combine(root, name)).Code);
        Assert.Equal(File.ReadAllBytes(Path.Combine(root, "a", "scorer.safetensors")), File.ReadAllBytes(Path.Combine(root, "b", "scorer.safetensors")));
    }
}
