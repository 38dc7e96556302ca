using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>Bad input: exit code 2 and one line on stderr naming what was expected; never a stack trace.</summary>
public class CliErrorTests
{
    private static readonly string Text = CliRunner.TempFile("Some text to mask.\n");

    [Fact]
    public void Unknown_policy_lists_what_exists() =>
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "foo", "--input", Text),
            "unknown policy 'foo'; known: orig, rand, ssm, oracle, whole-word, bart-infilling, spanbert, t5, pmi, loss-guided, scored");

    [Fact]
    public void Bad_knob_lists_the_knobs() =>
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "rand:q=0.2", "--input", Text), "policy 'rand' has no knob 'q'; its knobs: p,");

    [Fact]
    public void Bad_knob_value_says_what_is_expected() =>
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "t5:noise_density=abc", "--input", Text), "expects a number in [0, 1], got 'abc'");

    [Fact]
    public void Missing_input_file_names_it() =>
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", "/nonexistent/file.txt"), "/nonexistent/file.txt:0: expected a readable text file");

    [Fact]
    public void Binary_garbage_names_file_and_line()
    {
        var path = CliRunner.TempPath(".txt");
        File.WriteAllBytes(path, [(byte)'o', (byte)'k', (byte)'\n', 0xC3, 0x28, 0xFF, 0xFE, (byte)'\n']);
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", path), $"{path}:2: expected UTF-8 text");
    }

    [Fact]
    public void Nul_bytes_name_file_and_line()
    {
        var path = CliRunner.TempFile("fine\nalso fine\nbad\0line\n");
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", path), $"{path}:3: expected text, found a NUL byte");
    }

    [Fact]
    public void Missing_required_option() =>
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--input", Text), "missing --policy");

    [Fact]
    public void Unknown_option() =>
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", Text, "--sed", "3"), "unknown option --sed");

    [Fact]
    public void Bad_seed() =>
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", Text, "--seed", "-1"), "--seed expects a non-negative integer, got '-1'");

    [Fact]
    public void Unknown_command() =>
        CliRunner.AssertOneLineError(CliRunner.Run("frobnicate"), "unknown command 'frobnicate'");

    [Fact]
    public void Malformed_vocabulary_file()
    {
        var vocab = CliRunner.TempFile("{\"format\": \"masking-byte-bpe/1\", \"sentinels\": \"many\"}", ".json");
        CliRunner.AssertOneLineError(CliRunner.Run("mask", "--policy", "rand", "--input", Text, "--tokenizer", "bpe:" + vocab), vocab + ":1:");
    }

    [Fact]
    public void Too_many_spans_for_the_sentinels_names_the_line()
    {
        var vocab = CliRunner.TempPath(".json");
        var corpus = CliRunner.TempFile("one two three four five six seven eight nine ten\n");
        Assert.Equal(0, CliRunner.Run("tokenizer", "train", "--input", corpus, "--vocab-size", "300", "--sentinels", "1", "--out", vocab).ExitCode);
        CliRunner.AssertOneLineError(
            CliRunner.Run("mask", "--policy", "t5:noise_density=0.5,mean_noise_span_length=1", "--input", corpus, "--tokenizer", "bpe:" + vocab),
            $"{corpus}:1: ");
    }
}

public class TagCommandTests
{
    /// <summary>POS on the first 400 lines of EWT dev, NER on the first 600 lines of a CoNLL-2003 file.</summary>
    private static void EvalPrintsTheFigures(string root, double minimumF1)
    {
        var conllu = CliRunner.TempFile(string.Join('\n', File.ReadLines(Path.Combine(root, "ud_english_ewt", "en_ewt-ud-dev.conllu")).Take(400)) + "\n\n");
        var pos = CliRunner.Run("tag", "eval", "--kind", "pos", "--data", conllu);
        Assert.True(pos.ExitCode == 0, pos.Stderr);
        Assert.Matches(@"accuracy=0\.9\d+", pos.Stdout);
        Assert.Contains("tokens_per_second=", pos.Stdout);
        var conll = CliRunner.TempFile(string.Join('\n', File.ReadLines(Path.Combine(root, "conll2003", "valid.txt")).Take(600)) + "\n");
        var ner = CliRunner.Run("tag", "eval", "--kind", "ner", "--data", conll);
        Assert.True(ner.ExitCode == 0, ner.Stderr);
        var f1 = double.Parse(System.Text.RegularExpressions.Regex.Match(ner.Stdout, @"f1=([0-9.]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(f1, minimumF1, 1.0);
    }

    // The fixtures: EWT's first 80 dev sentences and the synthetic CoNLL-2003 file.
    [Fact]
    public void Eval_prints_the_figures_for_both_taggers_on_the_fixtures() => EvalPrintsTheFigures(CliRunner.FixtureRoot, 0.5);

    [DataFact]
    public void Eval_prints_the_figures_for_both_taggers() => EvalPrintsTheFigures(CliRunner.DataRoot, 0.6);

    [Theory]
    [InlineData("EU NNP B-NP B-ORG\nrejects VBZ B-VP\n", 2, "expected 4 space-separated columns (word POS chunk NER), found 3")]
    [InlineData("EU NNP B-NP B-ORG\nrejects VBZ B-VP PERSON\n", 2, "expected an IOB2 NER tag (O, B-X or I-X), found 'PERSON'")]
    [InlineData("", 1, "expected CoNLL-2003 documents (the file is empty)")]
    public void Malformed_conll_gives_exit_2_with_file_and_line(string content, int line, string expected)
    {
        var path = CliRunner.TempFile(content);
        var r = CliRunner.Run("tag", "eval", "--kind", "ner", "--data", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"masking: {path}:{line}: {expected}", r.Stderr.Trim());
    }

    [Fact]
    public void Malformed_conllu_gives_exit_2_with_file_and_line()
    {
        var path = CliRunner.TempFile("# sent_id = 1\n1\tHello\thello\tINTJ\tUH\t_\t0\troot\n");
        var r = CliRunner.Run("tag", "eval", "--kind", "pos", "--data", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"masking: {path}:2: expected 10 tab-separated CoNLL-U columns, found 8", r.Stderr.Trim());
    }

    [Fact]
    public void Annotate_writes_words_tags_and_entities()
    {
        var input = CliRunner.TempFile("Ada Lovelace was born in London on 10 December 1815.\n");
        var output = CliRunner.TempPath(".jsonl");
        var r = CliRunner.Run("tag", "annotate", "--input", input, "--out", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var line = File.ReadAllText(output);
        Assert.Contains("[\"Ada\",0,3,\"PROPN\"]", line);
        Assert.Contains("[0,12,\"PER\"]", line);
        Assert.Contains("[25,31,\"LOC\"]", line);
        Assert.Contains("\"DATE\"", line);
    }
}
