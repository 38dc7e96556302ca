using System.Text.Json;
using Xunit;

namespace Masking.Experiments.Tests;

/// <summary><c>masking score</c> over KILT-format gold and prediction JSONL.</summary>
public class ScoreCommandTests
{
    private static string Gold(params (string Id, string[] Answers)[] items) =>
        CliRunner.TempFile(string.Join('\n', items.Select(i => JsonSerializer.Serialize(new
        {
            id = i.Id,
            input = "question " + i.Id,
            output = i.Answers.Select(a => new { answer = a }),
        }))) + "\n", ".jsonl");

    private static string Pred(params (string Id, string Answer)[] items) =>
        CliRunner.TempFile(string.Join('\n', items.Select(i => JsonSerializer.Serialize(new
        {
            id = i.Id,
            output = new[] { new { answer = i.Answer } },
        }))) + "\n", ".jsonl");

    private static JsonElement Score(string task, string gold, string pred)
    {
        var r = CliRunner.Run("score", "--task", task, "--gold", gold, "--pred", pred);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Fact]
    public void Closed_book_tasks_report_em_and_f1_with_SQuAD_normalisation()
    {
        var gold = Gold(("1", ["The Eiffel Tower"]), ("2", ["Paris", "Paris, France"]), ("3", ["Zürich"]), ("4", ["red green", "blue green"]));
        var pred = Pred(("1", "eiffel tower!"), ("2", "paris france"), ("3", ""), ("4", "red blue"));
        var s = Score("nq", gold, pred);
        Assert.Equal("nq", s.GetProperty("task").GetString());
        Assert.Equal(4, s.GetProperty("count").GetInt32());
        Assert.Equal(0.5, s.GetProperty("em").GetDouble(), 6);      // 1 + 1 + 0 + 0
        Assert.Equal(0.625, s.GetProperty("f1").GetDouble(), 6);    // 1 + 1 + 0 + 0.5 (a tie between golds)
    }

    [Fact]
    public void An_empty_guess_scores_zero_everywhere_as_in_KILT_even_against_an_answer_that_normalises_to_nothing()
    {
        // NQ-open dev has a gold answer "---"; KILT's eval_downstream.py skips an empty guess (0 on every metric).
        var gold = Gold(("1", ["---"]), ("2", ["---", "Paris"]), ("3", ["Paris"]));
        var pred = Pred(("1", ""), ("2", "   "), ("3", "Paris"));
        var s = Score("nq", gold, pred);
        Assert.Equal(1.0 / 3, s.GetProperty("em").GetDouble(), 6);
        Assert.Equal(1.0 / 3, s.GetProperty("f1").GetDouble(), 6);
        var wow = Score("wow", gold, pred);
        Assert.Equal(1.0 / 3, wow.GetProperty("f1").GetDouble(), 6);
    }

    [Fact]
    public void Kilt_accuracy_is_strict()
    {
        var s = Score("ay2", Gold(("a", ["Germany"]), ("b", ["United Kingdom"])), Pred(("a", "Germany"), ("b", "united kingdom")));
        Assert.Equal(0.5, s.GetProperty("accuracy").GetDouble(), 6);
        Assert.False(s.TryGetProperty("em", out _));
    }

    [Fact]
    public void Wow_reports_f1_and_rougeL() =>
        Assert.True(Score("wow", Gold(("w", ["I love jazz music"])), Pred(("w", "I love music"))).TryGetProperty("rougeL", out _));

    private static void AssertError(string[] argv, string expected)
    {
        var r = CliRunner.Run(argv);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, r.Stderr);
    }

    [Fact]
    public void Missing_and_unknown_predictions_are_errors()
    {
        var gold = Gold(("1", ["a"]), ("2", ["b"]));
        AssertError(["score", "--task", "nq", "--gold", gold, "--pred", Pred(("1", "a"))], "expected a prediction for gold id \"2\"");
        var extra = Pred(("1", "a"), ("2", "b"), ("3", "c"));
        AssertError(["score", "--task", "nq", "--gold", gold, "--pred", extra], $"{extra}:3: expected an id of the gold file");
        var twice = Pred(("1", "a"), ("1", "b"), ("2", "b"));
        AssertError(["score", "--task", "nq", "--gold", gold, "--pred", twice], $"{twice}:2: expected one prediction per id");
        // A gold id twice would count its question twice.
        var doubled = Gold(("1", ["a"]), ("2", ["b"]), ("1", ["c"]));
        AssertError(["score", "--task", "nq", "--gold", doubled, "--pred", Pred(("1", "a"), ("2", "b"))],
            $"{doubled}:3: expected each id once; \"1\" is on line 1 already");
    }

    [Theory]
    [InlineData("{\"id\": \"1\", \"output\": [{\"answer\": \"a\"}]}\n{\"id\": \"2\", \"output\": [{\"ans", 2, "expected the end of a JSON string")]
    [InlineData("{\"id\": \"1\"}\n", 1, "expected a field \"output\"")]
    [InlineData("{\"id\": \"1\", \"output\": \"a\"}\n", 1, "expected \"output\" as an array, found a string")]
    [InlineData("{\"id\": \"1\", \"output\": [{\"answer\": 3}]}\n", 1, "expected \"answer\" as a string, found a number")]
    [InlineData("{\"id\": \"1\", \"output\": []}\n", 1, "expected at least one entry in \"output\"")]
    [InlineData("", 1, "expected at least one JSON object (the file is empty)")]
    [InlineData("\u0001\u0000\u00ff garbage", 1, "expected text, found a NUL byte")]
    [InlineData("not json at all\n", 1, "expected a JSON value, found 'n'")]
    public void Malformed_predictions_give_exit_2_with_file_and_line(string content, int line, string expected)
    {
        var pred = CliRunner.TempFile(content, ".jsonl");
        AssertError(["score", "--task", "nq", "--gold", Gold(("1", ["a"])), "--pred", pred], $"{pred}:{line}: {expected}");
    }

    [Fact]
    public void Malformed_gold_names_its_file_and_line()
    {
        var gold = CliRunner.TempFile("{\"id\": \"1\", \"output\": [{\"answer\": \"a\"}]}\n{\"id\": \"2\" \"output\": []}\n", ".jsonl");
        AssertError(["score", "--task", "nq", "--gold", gold, "--pred", Pred(("1", "a"))], $"{gold}:2: expected ',' or '}}' in a JSON object");
    }

    [Fact]
    public void Unknown_task_lists_the_tasks() =>
        AssertError(["score", "--task", "squad", "--gold", "x", "--pred", "y"], "unknown task 'squad'; known: tqa, nq, wq, ay2, zsre, wow, wiqa, quartz, ropes, world-cbqa");
}

public class WorldCommandTests
{
    [Fact]
    public void Writes_corpora_and_scorable_tasks_deterministically()
    {
        var dir = CliRunner.TempPath("");
        var a = CliRunner.Run("world", "--people", "20", "--out", dir);
        Assert.Equal(0, a.ExitCode);
        var b = CliRunner.Run("world", "--people", "20", "--out", dir + "-again");
        Assert.Equal(a.Stdout, b.Stdout);
        Assert.StartsWith("fingerprint=", a.Stdout);
        foreach (var f in new[] { "background.txt", "target.txt", "target.spans.jsonl", "world-cbqa.train.jsonl", "world-cqa.test.jsonl", "world-slot.dev.jsonl" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "target.txt")), File.ReadAllText(Path.Combine(dir + "-again", "target.txt")));
        var gold = Path.Combine(dir, "world-cbqa.dev.jsonl");
        var s = CliRunner.Run("score", "--task", "world-cbqa", "--gold", gold, "--pred", gold);
        Assert.Contains("\"em\":1", s.Stdout);
    }
}
