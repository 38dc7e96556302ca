using Masking.Facade;
using Xunit;

namespace Masking.Experiments.Tests;

public class FacadeTests
{
    private static readonly TextTokenizer Gpt2 = TextTokenizer.Gpt2();

    [Fact]
    public void Masks_tokens_and_recovers_them()
    {
        var policy = PolicyCatalog.Parse("spanbert", Gpt2);
        var text = Gpt2.Encode("Charles Babbage designed the Analytical Engine, a general-purpose mechanical computer.");
        var input = new MaskInput(text.Ids) { WordStarts = text.WordStarts };
        var result = policy.Mask(input, MaskSeeds.Derive(1, 0, 0));
        Assert.NotEmpty(result.Spans);
        Assert.Equal(text.Ids, policy.Recover(result));
    }

    [Fact]
    public void Same_seed_same_result()
    {
        var policy = PolicyCatalog.Parse("mix(ssm:0.5,rand:0.5)", Gpt2);
        var a = policy.MaskText("Ada Lovelace was born in London in 1815.", 5);
        var b = policy.MaskText("Ada Lovelace was born in London in 1815.", 5);
        Assert.Equal(a.Source, b.Source);
        Assert.Equal(a.Target, b.Target);
        Assert.Equal(a.Spans, b.Spans);
    }

    [Fact]
    public void Bad_specs_throw_a_PolicySpecException_that_names_what_exists()
    {
        var e = Assert.Throws<PolicySpecException>(() => PolicyCatalog.Parse("nope", Gpt2));
        Assert.Contains("known: orig, rand", e.Message);
        Assert.False(PolicyCatalog.TryParse("rand:p=7", Gpt2, out _, out var error));
        Assert.Contains("expects a number in [0, 1]", error);
    }

    [Fact]
    public void Inconsistent_inputs_are_argument_errors()
    {
        var policy = PolicyCatalog.Parse("rand", Gpt2);
        Assert.Throws<ArgumentException>(() => policy.Mask(new MaskInput([1, 2, 999999]), 0));
        Assert.Throws<ArgumentException>(() => policy.Mask(new MaskInput([1, 2, 3]) { WordStarts = [true] }, 0));
        Assert.Throws<ArgumentException>(() =>
            policy.Mask(new MaskInput([1, 2, 3]) { Annotations = [new SpanAnnotation(new TokenSpan(2, 9), "PER")] }, 0));
    }

    [Fact]
    public void Scored_policy_uses_the_callers_scores()
    {
        var policy = PolicyCatalog.Parse("scored", Gpt2);
        var ids = Gpt2.Encode("one two three four five six").Ids;
        var input = new MaskInput(ids)
        {
            Scores = [new SpanScore(new TokenSpan(1, 3), 2.0), new SpanScore(new TokenSpan(4, 5), 5.0)],
        };
        var result = policy.Mask(input, 0);
        Assert.Equal([new TokenSpan(4, 5)], result.Spans);
        Assert.Equal(Gpt2.Decode([ids[4]]), Gpt2.Decode(result.Target));
    }

    [Fact]
    public void Seeds_are_derived_not_drawn()
    {
        Assert.Equal(MaskSeeds.Derive(1, 2, 3), MaskSeeds.Derive(1, 2, 3));
        Assert.NotEqual(MaskSeeds.Derive(1, 2, 3), MaskSeeds.Derive(1, 2, 4));
        Assert.NotEqual(MaskSeeds.Derive(1, 2, 3), MaskSeeds.Derive(1, 3, 3));
    }
}

public class TaskFacadeTests
{
    [Fact]
    public void Lists_the_paper_tasks_and_the_world_tasks()
    {
        Assert.Equal(
            new[] { "tqa", "nq", "wq", "ay2", "zsre", "wow", "wiqa", "quartz", "ropes", "world-cbqa", "world-occupation", "world-slot", "world-cqa", "world-bio" },
            TaskCatalog.All.Select(t => t.Name));
        Assert.Equal(new[] { "em", "f1" }, TaskCatalog.All.Single(t => t.Name == "nq").Metrics);
        Assert.Equal("context QA", TaskCatalog.All.Single(t => t.Name == "ropes").Family);
    }

    [Fact]
    public void Loads_a_split_and_scores_it()
    {
        var dev = TaskCatalog.Load("ropes", "dev", CliRunner.FixtureRoot);
        Assert.Equal(8, dev.Count); // the last 10% of the fixture's 82 ROPES train questions
        Assert.NotNull(dev[0].Context);
        Assert.Equal(1.0, AnswerMetrics.ExactMatch(dev[0].Targets[0].ToUpperInvariant(), dev[0].Targets));
        Assert.Throws<ArgumentException>(() => TaskCatalog.Load("ropes", "validation", CliRunner.FixtureRoot));
        var e = Assert.Throws<ArgumentException>(() => TaskCatalog.Load("ropes", "dev", "/nonexistent"));
        Assert.StartsWith("/nonexistent/ropes/train-v1.0.json:0:", e.Message);
    }

    [Fact]
    public void Answer_metrics_and_seed_statistics()
    {
        Assert.Equal("eiffel tower", AnswerMetrics.Normalize("The Eiffel Tower!"));
        Assert.Equal(0.5, AnswerMetrics.F1("red blue", ["red green", "blue green"]), 6);
        Assert.Equal(0.0, AnswerMetrics.StrictAccuracy("germany", ["Germany"]));
        var (mean, std) = SeedStatistics.Summarize([1, 2, 3, 4]);
        Assert.Equal(2.5, mean, 9);
        Assert.Equal(Math.Sqrt(5.0 / 3.0), std, 9);
        Assert.True(SeedStatistics.Welch([10, 10.5, 9.5], [1, 1.5, 0.5]).PValue < 1e-3);
        double[][] good = [[1, 1, 1, 0, 1, 1, 1, 1], [1, 1, 0, 1, 1, 1, 1, 1]], bad = [[0, 0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0, 0]];
        var (difference, low, high, p) = SeedStatistics.PairedBootstrap(good, bad, seed: 3);
        Assert.Equal(0.75, difference, 9);
        Assert.True(low > 0 && high <= 1 && p < 0.05);
        Assert.Equal([0.02, 0.04], SeedStatistics.Holm([0.01, 0.04]));
        Assert.Throws<ArgumentException>(() => SeedStatistics.PairedBootstrap([], bad));
    }
}
