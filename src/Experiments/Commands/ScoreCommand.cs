using System.CommandLine;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Tasks;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking score --task TASK --gold FILE --pred FILE</c>: the task's metrics over KILT-format gold and
/// prediction JSONL, as one JSON object: <c>{"task", "count", "em"/"f1"/"accuracy"/"rougeL" as the task declares}</c>.
/// </summary>
public static class ScoreCommand
{
    public static Command Build(TextWriter stdout)
    {
        var command = new Command("score", "a task's metrics over KILT-format gold and prediction JSONL, as one JSON object");
        var task = Opts.Required(command, "--task", "TASK", "one of " + string.Join(", ", Registry.names));
        var gold = Opts.Required(command, "--gold", "FILE", "KILT-format gold JSONL");
        var pred = Opts.Required(command, "--pred", "FILE", "KILT-format prediction JSONL");
        command.SetAction(p => Run(p.GetValue(task)!, p.GetValue(gold)!, p.GetValue(pred)!, stdout));
        return command;
    }

    private static int Run(string taskName, string gold, string pred, TextWriter stdout)
    {
        var task = Registry.find(taskName);
        if (task.IsError) throw new CliError(task.ErrorValue);
        var report = PredictionFiles.score(task.ResultValue, gold, pred);
        if (report.IsError) throw new CliError(report.ErrorValue);

        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("task", report.ResultValue.Task);
            json.WriteNumber("count", report.ResultValue.Count);
            foreach (var (key, value) in report.ResultValue.Scores) json.WriteNumber(key, Math.Round(value, 6));
            json.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        return 0;
    }
}
