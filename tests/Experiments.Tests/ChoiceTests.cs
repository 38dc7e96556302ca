using System.Text.Json;
using Masking.Tasks;
using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>Questions with options: rank classification (the default) always answers with an option; free
/// generation is still there and says how often its text is no option.</summary>
public class ChoiceTests
{
    [Fact]
    public void Rank_classification_answers_every_multiple_choice_question_with_one_of_its_options()
    {
        var root = CliRunner.TempPath("");
        var pre = Path.Combine(root, "pre");
        var (code, err) = MaskingProcess.Run("pretrain", "--preset", "micro", "--vocab-size", "600", "--steps", "3", "--batch-size", "8", "--threads", "1", "--out", pre);
        Assert.True(code == 0, err);
        var ft = Path.Combine(root, "ft");
        (code, err) = MaskingProcess.Run("finetune", "--from", pre, "--task", "world-cqa", "--steps", "2", "--batch-size", "8", "--eval-every", "2",
            "--max-dev-examples", "20", "--max-target-length", "16", "--threads", "1", "--out", ft);
        Assert.True(code == 0, err);
        var dev = Registry.find("world-cqa").ResultValue.Load.Invoke("").Invoke(Split.Dev).ResultValue.Take(20).ToList();
        var answers = File.ReadAllLines(Path.Combine(ft, "predictions.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("output")[0].GetProperty("answer").GetString()).ToList();
        Assert.Equal(20, answers.Count);
        for (var i = 0; i < answers.Count; i++) Assert.Contains(answers[i], dev[i].Options);

        (code, err) = MaskingProcess.Run("evaluate", "--from", ft, "--split", "dev", "--max-examples", "20", "--out", Path.Combine(root, "rank"));
        Assert.True(code == 0, err);
        var rank = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "rank", "metrics.json"))).RootElement;
        Assert.Equal("rank", rank.GetProperty("choice").GetString());
        Assert.Equal(0.0, rank.GetProperty("outside_options").GetDouble());

        // A barely trained model's free text is rarely an option; the metrics say how often.
        (code, err) = MaskingProcess.Run("evaluate", "--from", ft, "--split", "dev", "--max-examples", "20", "--choice", "generate", "--beam", "1",
            "--out", Path.Combine(root, "generate"));
        Assert.True(code == 0, err);
        var generate = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "generate", "metrics.json"))).RootElement;
        Assert.Equal("generate", generate.GetProperty("choice").GetString());
        Assert.InRange(generate.GetProperty("outside_options").GetDouble(), 0.0, 1.0);

        (code, err) = MaskingProcess.Run("evaluate", "--from", ft, "--split", "dev", "--choice", "vote");
        Assert.Equal(2, code);
        Assert.Contains("--choice: expected rank or generate, got 'vote'", err);
    }
}
