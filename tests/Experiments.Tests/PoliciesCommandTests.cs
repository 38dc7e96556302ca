using Masking.Facade;
using Xunit;

namespace Masking.Experiments.Tests;

public class PoliciesCommandTests
{
    [Fact]
    public void Lists_every_policy_with_its_knobs_and_defaults()
    {
        var r = CliRunner.Run("policies");
        Assert.Equal(0, r.ExitCode);
        foreach (var name in new[] { "orig", "rand", "ssm", "oracle", "whole-word", "bart-infilling", "spanbert", "t5", "pmi", "loss-guided", "scored" })
            Assert.Contains($"{name}  —  ", r.Stdout);
        Assert.Contains("p=0.15 (alias mlm_probability)", r.Stdout);
        Assert.Contains("noise_density=0.15", r.Stdout);
        Assert.Contains("mean_noise_span_length=3", r.Stdout);
        Assert.Contains("poisson_lambda=3", r.Stdout);
        Assert.Contains("mask_replace_prob=0.8", r.Stdout);
        Assert.Contains("random_replace_prob=0.1", r.Stdout);
        Assert.Contains("geometric_p=0.2", r.Stdout);
        Assert.Contains("order=ngrams-first", r.Stdout);
    }

    [Fact]
    public void Pmi_vocab_ranks_a_corpus_and_the_pmi_policy_masks_its_collocations()
    {
        var vocab = CliRunner.TempPath(".json");
        var r = CliRunner.Run("pmi-vocab", "--corpus", Path.Combine(CliRunner.FixtureRoot, "wikitext2", "wiki.valid.raw"), "--min-count", "3", "--size", "50", "--out", vocab);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"pmi-vocab: 50 n-grams from 22319 words in 429 lines written to {vocab}", r.Stderr);
        Assert.Contains("\"text\":\"Atlantic Ocean\"", File.ReadAllText(vocab));

        var text = CliRunner.TempPath(".txt");
        File.WriteAllText(text, "A ship crossed the Atlantic Ocean.\n");
        r = CliRunner.Run("mask", "--policy", $"pmi:vocab={vocab}", "--input", text);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("\"target\":\"<mask> Atlantic Ocean\"", r.Stdout);

        r = CliRunner.Run("mask", "--policy", "pmi:vocab=" + text, "--input", text);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{text}:1: expected", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Catalog_describes_the_same_policies_to_CSharp_callers()
    {
        Assert.Equal(new[] { "orig", "rand", "ssm", "oracle", "whole-word", "bart-infilling", "spanbert", "t5", "pmi", "loss-guided", "scored" },
            PolicyCatalog.All.Select(p => p.Name));
        var t5 = PolicyCatalog.All.Single(p => p.Name == "t5");
        Assert.Equal("0.15", t5.Knobs.Single(k => k.Name == "noise_density").Default);
    }
}
