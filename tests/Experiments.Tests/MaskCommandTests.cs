using System.Text.Json;
using Masking.Facade;
using Xunit;

namespace Masking.Experiments.Tests;

public class MaskCommandTests
{
    // The fixtures' excerpt of WikiText-2 valid (7 whole articles), so the test needs no data root.
    private static readonly string Wiki = Path.Combine(CliRunner.FixtureRoot, "wikitext2", "wiki.valid.raw");

    public static TheoryData<string> NamedPolicies()
    {
        var data = new TheoryData<string>();
        foreach (var p in PolicyCatalog.All) data.Add(p.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(NamedPolicies))]
    public void Masks_all_of_WikiText_valid_with_every_named_policy(string policy)
    {
        // pmi masks from a vocabulary: the committed golden one of this very excerpt.
        var spec = policy == "pmi"
            ? "pmi:vocab=" + Path.Combine(CliRunner.RepoRoot, "golden", "pmi", "wiki.valid.json")
            : policy;
        var r = CliRunner.Run("mask", "--policy", spec, "--input", Wiki, "--seed", "3");
        // loss-guided scores words with the model a training stage trains; mask has none and says so.
        if (policy == "loss-guided")
        {
            Assert.Equal(2, r.ExitCode);
            Assert.Equal("", r.Stdout);
            Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.Contains("loss-guided takes its scores from the model a training stage trains", r.Stderr);
            return;
        }
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(File.ReadAllLines(Wiki).Length, lines.Length);
        var masked = 0;
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            Assert.Equal(JsonValueKind.String, root.GetProperty("source").ValueKind);
            Assert.Equal(JsonValueKind.String, root.GetProperty("target").ValueKind);
            var spans = root.GetProperty("spans");
            foreach (var s in spans.EnumerateArray())
                Assert.True(s[0].GetInt32() < s[1].GetInt32());
            if (spans.GetArrayLength() > 0) masked++;
        }
        // `scored` needs a scorer's candidates and `oracle` the evaluated questions' answers; plain text has
        // neither, so both mask nothing.
        if (policy is "scored" or "oracle") Assert.Equal(0, masked);
        else
        {
            // Every non-empty line has something to mask, except for ssm a line without an entity or date.
            var nonEmpty = File.ReadAllLines(Wiki).Count(l => l.Trim().Length > 0);
            Assert.True(masked > nonEmpty * (policy == "ssm" ? 0.5 : 0.95), $"{policy} masked only {masked} of {nonEmpty} lines");
        }
    }

    [Fact]
    public void Same_seed_same_bytes_other_seed_other_masks()
    {
        var input = CliRunner.TempFile("Ada Lovelace was born in London in 1815. She worked with Charles Babbage.\nA second, longer line of text with several words to mask at random for the test.\n");
        var a = CliRunner.Run("mask", "--policy", "rand", "--input", input, "--seed", "7");
        var b = CliRunner.Run("mask", "--policy", "rand", "--input", input, "--seed", "7");
        var c = CliRunner.Run("mask", "--policy", "rand", "--input", input, "--seed", "8");
        Assert.Equal(a.Stdout, b.Stdout);
        Assert.NotEqual(a.Stdout, c.Stdout);
    }

    [Fact]
    public void Ssm_masks_a_salient_span_and_targets_it_alone()
    {
        var input = CliRunner.TempFile("Ada Lovelace was born in London on 10 December 1815.\n");
        var r = CliRunner.Run("mask", "--policy", "ssm", "--input", input);
        using var doc = JsonDocument.Parse(r.Stdout);
        var target = doc.RootElement.GetProperty("target").GetString()!;
        Assert.Contains(target.Trim(), new[] { "Ada Lovelace", "London", "10 December 1815" });
        Assert.Contains("<mask>", doc.RootElement.GetProperty("source").GetString());
    }

    [Fact]
    public void Empty_lines_give_empty_results()
    {
        var input = CliRunner.TempFile("\n\n");
        var r = CliRunner.Run("mask", "--policy", "t5", "--input", input);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("{\"source\":\"\",\"target\":\"\",\"spans\":[]}\n{\"source\":\"\",\"target\":\"\",\"spans\":[]}\n", r.Stdout);
    }

    [Fact]
    public void Learned_bpe_vocabulary_can_drive_mask()
    {
        var vocab = CliRunner.TempPath(".json");
        var corpus = CliRunner.TempFile(string.Join('\n', File.ReadLines(Wiki).Take(300)));
        var train = CliRunner.Run("tokenizer", "train", "--input", corpus, "--vocab-size", "600", "--out", vocab);
        Assert.Equal(0, train.ExitCode);
        var r = CliRunner.Run("mask", "--policy", "t5", "--input", corpus, "--tokenizer", "bpe:" + vocab);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("<extra_id_0>", r.Stdout);
    }
}
