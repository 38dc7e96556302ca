using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>Bad input: exit code 2 and one line on stderr naming what was expected; never a stack trace.</summary>
public class CliErrorTests
{
    private static void AssertOneLineError(CliRunner.Result r, string expected)
    {
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    private static readonly string Text = CliRunner.TempFile("Some text to mask.\n");

    [Fact]
    public void Unknown_policy_lists_what_exists() =>
        AssertOneLineError(CliRunner.Run("mask", "--policy", "foo", "--input", Text),
            "unknown policy 'foo'; known: orig, rand, ssm, whole-word, bart-infilling, spanbert, t5, scored");

    [Fact]
    public void Bad_knob_lists_the_knobs() =>
        AssertOneLineError(CliRunner.Run("mask", "--policy", "rand:q=0.2", "--input", Text), "policy 'rand' has no knob 'q'; its knobs: p,");

    [Fact]
    public void Bad_knob_value_says_what_is_expected() =>
        AssertOneLineError(CliRunner.Run("mask", "--policy", "t5:noise_density=abc", "--input", Text), "expects a number in [0, 1], got 'abc'");

    [Fact]
    public void Missing_input_file_names_it() =>
        AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", "/nonexistent/file.txt"), "/nonexistent/file.txt:0: expected a readable text file");

    [Fact]
    public void Binary_garbage_names_file_and_line()
    {
        var path = CliRunner.TempPath(".txt");
        File.WriteAllBytes(path, [(byte)'o', (byte)'k', (byte)'\n', 0xC3, 0x28, 0xFF, 0xFE, (byte)'\n']);
        AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", path), $"{path}:2: expected UTF-8 text");
    }

    [Fact]
    public void Nul_bytes_name_file_and_line()
    {
        var path = CliRunner.TempFile("fine\nalso fine\nbad\0line\n");
        AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", path), $"{path}:3: expected text, found a NUL byte");
    }

    [Fact]
    public void Missing_required_option() =>
        AssertOneLineError(CliRunner.Run("mask", "--input", Text), "missing --policy");

    [Fact]
    public void Unknown_option() =>
        AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", Text, "--sed", "3"), "unknown option --sed");

    [Fact]
    public void Bad_seed() =>
        AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", Text, "--seed", "-1"), "--seed expects a non-negative integer, got '-1'");

    [Fact]
    public void Unknown_command() =>
        AssertOneLineError(CliRunner.Run("frobnicate"), "unknown command 'frobnicate'");

    [Fact]
    public void Malformed_vocabulary_file()
    {
        var vocab = CliRunner.TempFile("{\"format\": \"masking-byte-bpe/1\", \"sentinels\": \"many\"}", ".json");
        AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", Text, "--tokenizer", "bpe:" + vocab), vocab + ":1:");
    }

    [Fact]
    public void Too_many_spans_for_the_sentinels_names_the_line()
    {
        var vocab = CliRunner.TempPath(".json");
        var corpus = CliRunner.TempFile("one two three four five six seven eight nine ten\n");
        Assert.Equal(0, CliRunner.Run("tokenizer", "train", "--input", corpus, "--vocab-size", "300", "--sentinels", "1", "--out", vocab).ExitCode);
        AssertOneLineError(
            CliRunner.Run("mask", "--policy", "t5:noise_density=0.5,mean_noise_span_length=1", "--input", corpus, "--tokenizer", "bpe:" + vocab),
            $"{corpus}:1: ");
    }
}
