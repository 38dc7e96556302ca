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
        foreach (var name in new[] { "orig", "rand", "ssm", "whole-word", "bart-infilling", "spanbert", "t5", "scored" })
            Assert.Contains($"{name}  —  ", r.Stdout);
        Assert.Contains("p=0.15 (alias mlm_probability)", r.Stdout);
        Assert.Contains("noise_density=0.15", r.Stdout);
        Assert.Contains("mean_noise_span_length=3", r.Stdout);
        Assert.Contains("poisson_lambda=3", r.Stdout);
        Assert.Contains("mask_replace_prob=0.8", r.Stdout);
        Assert.Contains("random_replace_prob=0.1", r.Stdout);
        Assert.Contains("geometric_p=0.2", r.Stdout);
    }

    [Fact]
    public void Catalog_describes_the_same_policies_to_CSharp_callers()
    {
        Assert.Equal(new[] { "orig", "rand", "ssm", "whole-word", "bart-infilling", "spanbert", "t5", "scored" },
            PolicyCatalog.All.Select(p => p.Name));
        var t5 = PolicyCatalog.All.Single(p => p.Name == "t5");
        Assert.Equal("0.15", t5.Knobs.Single(k => k.Name == "noise_density").Default);
    }
}
