using Xunit;

namespace Masking.Experiments.Tests.Robustness;

/// <summary>
/// A table of bad inputs through the command line, a few of every class a red team found: each gives exit code 2
/// and one line on stderr naming the file (or the option) and what was expected, never a stack trace, and leaves
/// nothing half-written behind.
/// </summary>
public class BadInputTests
{
    private static readonly string Dir = CliRunner.TempPath("");
    private static readonly string AFile = Write("a-file", "not a directory\n");
    private static readonly string ADirectory = Directory.CreateDirectory(Path.Combine(Dir, "a-directory")).FullName;
    private static readonly string Text = Write("text.txt", "Ada Lovelace met Charles Babbage in London in 1833.\n");

    private static string Write(string name, string content)
    {
        Directory.CreateDirectory(Dir);
        var path = Path.Combine(Dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string Gold(params string[] ids) =>
        Write($"gold-{string.Join("-", ids)}.jsonl", string.Concat(ids.Select(id => $"{{\"id\": \"{id}\", \"output\": [{{\"answer\": \"a\"}}]}}\n")));

    private static string Deep(string name, int depth) =>
        Write(name, new string('[', depth) + new string(']', depth) + "\n");

    /// <summary>argv (with {file}, {dir}, {text} for the fixtures above) and what the one line must contain.</summary>
    public static TheoryData<string, string[], string> Rows() => new()
    {
        // Output paths that cannot be used, checked before any work.
        { "output", ["world", "--out", "{file}"], "{file}:0: --out: expected a directory to write into, found a file" },
        { "output", ["pretrain", "--preset", "micro", "--out", "{file}"], "{file}:0: --out: expected a directory to write into, found a file" },
        { "output", ["tag", "annotate", "--input", "{text}", "--out", "{dir}"], "{dir}:0: --out: expected a file name, found a directory" },
        { "output", ["tokenizer", "train", "--input", "{text}", "--out", "/proc/masking-vocab.json"], "/proc:0: --out: expected a directory this process can write to" },
        { "output", ["run", "--preset", "smoke", "--out", "{file}"], "{file}:0: --out: expected a directory to write into, found a file" },
        { "output", ["pmi-vocab", "--corpus", "{text}", "--out", "{dir}"], "{dir}:0: --out: expected a file name, found a directory" },
        { "input", ["mask", "--policy", "loss-guided", "--input", "{text}"], "--policy: loss-guided takes its scores from the model a training stage trains" },
        { "input", ["mask", "--policy", "pmi:vocab=corpus", "--input", "{text}"], "vocab=corpus is built by a training stage (intermediate) from its own corpus; here expects vocab=FILE" },
        { "input", ["pmi-vocab", "--corpus", "{dir}/none.txt", "--out", "{dir}/v.json"], "{dir}/none.txt:0: expected a readable text file" },
        { "output", ["world", "--out", "{file}/below"], "{file}/below:0: --out: expected a directory this process can write to" },
        // Nesting deeper than any real file: a limit, not a stack overflow.
        { "nesting", ["score", "--task", "nq", "--gold", Deep("deep-gold.jsonl", 40_000), "--pred", "{text}"], "expected JSON nested at most 64 levels deep" },
        { "nesting", ["grid", "--config", Deep("deep-grid.json", 40_000)], "deep-grid.json:1:" },
        // Options out of range, refused while parsing (before a run directory is written).
        { "option", ["pretrain", "--out", "{dir}/never", "--dropout", "2"], "--dropout expects a number in [0, 1), got '2'" },
        { "option", ["finetune", "--from", "{dir}", "--task", "world-cqa", "--out", "{dir}/never", "--patience", "0"], "--patience expects an integer ≥ 1, got '0'" },
        { "option", ["generate", "--from", "{dir}", "--input", "{text}", "--early-stopping", "maybe"], "--early-stopping: expected true or false, got 'maybe'" },
        // Sizes bounded by what makes sense.
        { "size", ["world", "--people", "100000000", "--out", "{dir}/never"], "--people expects an integer in [4, 100000]" },
        { "size", ["pretrain", "--out", "{dir}/never", "--threads", "100000"], "--threads expects an integer in [0, " },
        { "size", ["mask", "--policy", "rand", "--input", "/dev/zero"], "/dev/zero:1: expected lines of at most 1 MiB" },
        // Messages that used to mislead.
        { "message", ["mask", "--policy", "rand", "--input"], "--input expects a value (FILE)" },
        { "message", ["tag", "eval", "--kind", "ner", "--data", "{text}", "--model", "{repo}/models/pos.tagger"], "pos.tagger:0: expected a ner tagger, found a pos tagger" },
        { "message", ["mask", "--policy", "rand", "--input", "{text}", "--ner-model", "{repo}/models/pos.tagger"], "pos.tagger:0: expected a ner tagger, found a pos tagger" },
        // Accepted without a word before.
        { "silent", ["score", "--task", "nq", "--gold", Gold("1", "2", "1"), "--pred", "{text}"], ":3: expected each id once; \"1\" is on line 1 already" },
        { "silent", ["mask", "--policy", "schedule(rand@0,ssm@0)", "--input", "{text}"], "expected a start step after 0" },
        { "silent", ["mask", "--policy", "rand:p=0.1,p=0.2", "--input", "{text}"], "knob 'p' is given twice" },
        { "silent", ["mask", "--policy", "within(rand,NOSUCH)", "--input", "{text}"], "unknown annotation label 'NOSUCH'" },
        { "silent", ["tokenizer", "train", "--input", "{text}", "--vocab-size", "300", "--out", "{dir}/v.json"], "--vocab-size expects at least 361 with --sentinels 100" },
        { "silent", ["mask", "--policy", Nested(65), "--input", "{text}"], "expected policies nested at most 64 levels deep" },
    };

    private static string Nested(int depth)
    {
        var spec = "rand";
        for (var i = 0; i < depth; i++) spec = $"mix({spec}:1)";
        return spec;
    }

    private static string Fill(string s) =>
        s.Replace("{file}", AFile).Replace("{dir}", ADirectory).Replace("{text}", Text).Replace("{repo}", CliRunner.RepoRoot);

    [Theory]
    [MemberData(nameof(Rows))]
    public void Bad_input_gives_exit_2_and_one_line_naming_what_was_expected(string kind, string[] argv, string expected)
    {
        var r = CliRunner.Run([.. argv.Select(Fill)]);
        Assert.True(r.ExitCode == 2, $"{kind}: exit {r.ExitCode}\n{r.Stderr}");
        var lines = r.Stderr.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1, $"{kind}: expected one line, got:\n{r.Stderr}");
        Assert.Contains(Fill(expected), lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("System.", r.Stderr);
        // Nothing half-written: no .tmp and no directory the refused command would have made.
        Assert.Empty(Directory.GetFiles(Dir, "*.tmp", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(Path.Combine(ADirectory, "never")));
    }
}
