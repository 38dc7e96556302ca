using System.CommandLine;
using System.Text.RegularExpressions;
using Masking.Experiments.Cli;
using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>The command line's contracts: help for every command, options in range before any work, one-line errors.</summary>
public class CommandLineTests
{
    private static Command Find(string path)
    {
        Command command = CommandLine.Build(TextWriter.Null, TextWriter.Null);
        foreach (var word in path.Split(' '))
            command = command.Subcommands.Single(c => c.Name == word);
        return command;
    }

    public static TheoryData<string> Paths() => [.. CommandLine.CommandPaths()];

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_command_has_help_listing_each_option_with_its_default(string path)
    {
        var r = CliRunner.Run([.. path.Split(' '), "--help"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        // The usage line; the program's name is the test host's here.
        Assert.Matches(new Regex($@"Usage:\n\s+\S+ {Regex.Escape(path)}( |\n)"), r.Stdout);
        var command = Find(path);
        foreach (var option in command.Options.Where(o => !o.Hidden))
        {
            var row = r.Stdout.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(option.Name + " ", StringComparison.Ordinal))
                ?? r.Stdout.Split('\n').FirstOrDefault(l => l.Contains(option.Name, StringComparison.Ordinal));
            Assert.True(row is not null, $"{path} --help does not list {option.Name}:\n{r.Stdout}");
            if (option.HasDefaultValue && option.ValueType != typeof(bool))
                Assert.Contains("[default: ", row);
        }
        // `masking help PATH` is the same text.
        Assert.Equal(r.Stdout, CliRunner.Run(["help", .. path.Split(' ')]).Stdout);
    }

    [Fact]
    public void Help_lists_every_command()
    {
        var r = CliRunner.Run("help");
        Assert.Equal(0, r.ExitCode);
        foreach (var command in CommandLine.Build(TextWriter.Null, TextWriter.Null).Subcommands)
            Assert.Matches(new Regex($@"^\s+{Regex.Escape(command.Name)}\b", RegexOptions.Multiline), r.Stdout);
    }

    [Fact]
    public void The_README_lists_exactly_the_commands_there_are()
    {
        var readme = File.ReadAllText(Path.Combine(CliRunner.RepoRoot, "README.md"));
        var start = readme.IndexOf("**Command line**", StringComparison.Ordinal);
        var end = start < 0 ? -1 : readme.IndexOf("(`./masking help`", start, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md: expected the **Command line** bullet ending in (`./masking help` …)");
        var listed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(readme[start..end], "`([^`]+)`"))
        {
            // "masking tag train|eval|annotate" is three commands.
            var words = m.Groups[1].Value.Split(' ').Where(w => w != "masking").ToArray();
            foreach (var last in words[^1].Split('|'))
                listed.Add(string.Join(" ", words[..^1].Append(last)));
        }
        Assert.Equal(new SortedSet<string>(CommandLine.CommandPaths(), StringComparer.Ordinal), listed);
    }

    [Fact]
    public void A_switch_never_takes_the_next_word_as_its_value() =>
        CliRunner.AssertOneLineError(CliRunner.Run("bench", "generate", "--no-cache", "stray"), "bench generate: unexpected argument 'stray'");

    [Fact]
    public void An_option_without_its_value_says_what_it_expects() =>
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input"), "--input expects a value (FILE)");

    [Fact]
    public void An_unknown_option_lists_the_known_ones() =>
        CliRunner.AssertOneLineError(CliRunner.Run("world", "--out", CliRunner.TempPath(""), "--peeple", "5"),
            "world: unknown option --peeple; known: --out, --paraphrases, --people, --seed");

    [Fact]
    public void A_command_group_alone_names_its_commands() =>
        CliRunner.AssertOneLineError(CliRunner.Run("tag"), "tag: expected one of train, eval, annotate");

    [Theory]
    [InlineData("--dropout", "2", "--dropout expects a number in [0, 1), got '2'")]
    [InlineData("--steps", "0", "--steps expects an integer in [1, 100000000], got '0'")]
    [InlineData("--vocab-size", "abc", "--vocab-size expects an integer in [400, 262144], got 'abc'")]
    [InlineData("--preset", "huge", "--preset: expected micro, tiny, small or bart-base, got 'huge'")]
    [InlineData("--lr", "nan", "--lr expects a number in [0, 10], got 'nan'")]
    public void An_option_out_of_range_is_refused_before_the_run_directory_is_written(string option, string value, string expected)
    {
        var dir = CliRunner.TempPath("");
        CliRunner.AssertOneLineError(CliRunner.Run("pretrain", "--out", dir, option, value), expected);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Sizes_are_bounded_by_what_makes_sense() =>
        CliRunner.AssertOneLineError(CliRunner.Run("world", "--people", "100000000", "--out", CliRunner.TempPath("")),
            "--people expects an integer in [4, 100000], got '100000000'");

    [Fact]
    public void Threads_are_bounded_by_the_machine() =>
        CliRunner.AssertOneLineError(CliRunner.Run("bench", "train", "--threads", "100000"), $"--threads expects an integer in [0, {CommonOptions.MaxThreads}]");

    [Fact]
    public void A_word_starting_with_an_at_sign_is_text_not_a_response_file()
    {
        var r = CliRunner.Run("tokenizer", "encode", "--text", "@nobody");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("@", r.Stdout);
    }

    [Fact]
    public void The_suggest_directive_completes_commands_for_the_shell()
    {
        var r = CliRunner.Run("[suggest:9]", "masking g");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("grid", r.Stdout.Split('\n'));
        Assert.Contains("generate", r.Stdout.Split('\n'));
    }
}
