using Masking.Metrics;
using Masking.Tasks;

namespace Masking.Facade;

/// <summary>A task as C# callers see it.</summary>
public sealed record TaskDescription(string Name, string Family, IReadOnlyList<string> Metrics, string Summary, string Splits);

/// <summary>One example cast to text-to-text.</summary>
public sealed record TaskItem(string Id, string Source, IReadOnlyList<string> Targets, string? Context, IReadOnlyList<string> Options);

/// <summary>The paper's nine tasks and the generated world's three, with their metrics.</summary>
public static class TaskCatalog
{
    public static IReadOnlyList<TaskDescription> All { get; } =
        Registry.all.Select(t => new TaskDescription(
            t.Name,
            t.Family.IsClosedBookQA ? "closed-book QA" : t.Family.IsKnowledgeIntensive ? "knowledge-intensive" : "context QA",
            t.Metrics.Select(MetricModule.key).Distinct().ToArray(),
            t.Summary,
            t.Splits)).ToArray();

    /// <summary>Reads a split ("train", "dev" or "test") of a task from the data root.</summary>
    /// <exception cref="ArgumentException">Unknown task or split, or a file that does not read (the message names file and line).</exception>
    public static IReadOnlyList<TaskItem> Load(string task, string split, string dataRoot)
    {
        var info = Registry.find(task);
        if (info.IsError) throw new ArgumentException(info.ErrorValue, nameof(task));
        var s = SplitModule.parse(split);
        if (s.IsError) throw new ArgumentException(s.ErrorValue, nameof(split));
        var examples = info.ResultValue.Load.Invoke(dataRoot).Invoke(s.ResultValue);
        if (examples.IsError) throw new ArgumentException(examples.ErrorValue);
        return examples.ResultValue
            .Select(e => new TaskItem(e.Id, e.Source, e.Targets.ToArray(), e.Context?.Value, e.Options.ToArray()))
            .ToArray();
    }
}

/// <summary>SQuAD/KILT answer scores; each takes the best over the gold answers.</summary>
public static class AnswerMetrics
{
    public static string Normalize(string answer) => Answers.normalize(answer);
    public static double ExactMatch(string prediction, IEnumerable<string> golds) => Best(Answers.exactMatch, prediction, golds);
    public static double F1(string prediction, IEnumerable<string> golds) => Best(Answers.f1, prediction, golds);
    public static double StrictAccuracy(string prediction, IEnumerable<string> golds) => Best(Answers.strictAccuracy, prediction, golds);
    public static double RougeL(string prediction, IEnumerable<string> golds) => Best(Answers.rougeL, prediction, golds);

    private static double Best(Func<string, string, double> score, string prediction, IEnumerable<string> golds) =>
        golds.Select(g => score(prediction, g)).DefaultIfEmpty(0.0).Max();
}

/// <summary>Mean ± sample standard deviation over seeds, Welch's t-test between two arms, the paired bootstrap over
/// seeds × test questions the report uses, and Holm's adjustment.</summary>
public static class SeedStatistics
{
    public static (double Mean, double Std) Summarize(IEnumerable<double> values)
    {
        var s = Statistics.summarize(Microsoft.FSharp.Collections.ListModule.OfSeq(values));
        return (s.Mean, s.Std);
    }

    /// <exception cref="ArgumentException">Fewer than two values in an arm.</exception>
    public static (double Difference, double T, double DegreesOfFreedom, double PValue) Welch(IEnumerable<double> a, IEnumerable<double> b)
    {
        var r = Statistics.welch(Microsoft.FSharp.Collections.ListModule.OfSeq(a), Microsoft.FSharp.Collections.ListModule.OfSeq(b));
        if (r.IsError) throw new ArgumentException(r.ErrorValue);
        return (r.ResultValue.Difference, r.ResultValue.T, r.ResultValue.DegreesOfFreedom, r.ResultValue.PValue);
    }

    /// <summary>Arm A minus arm B with a 95% paired bootstrap interval: <paramref name="a"/>[s][q] is seed s's score on
    /// test question q; seeds pair by index.</summary>
    /// <exception cref="ArgumentException">No seeds, no questions, or rows of different lengths.</exception>
    public static (double Difference, double Low, double High, double PValue) PairedBootstrap(
        IReadOnlyList<IReadOnlyList<double>> a, IReadOnlyList<IReadOnlyList<double>> b, ulong seed = 0, int resamples = 2000)
    {
        var r = Masking.Metrics.PairedBootstrap.compare(seed, resamples, a.Select(x => x.ToArray()).ToArray(), b.Select(x => x.ToArray()).ToArray());
        if (r.IsError) throw new ArgumentException(r.ErrorValue);
        return (r.ResultValue.Difference, r.ResultValue.Low, r.ResultValue.High, r.ResultValue.PValue);
    }

    /// <summary>Holm's step-down adjustment of a family of p-values, in the given order.</summary>
    public static IReadOnlyList<double> Holm(IReadOnlyList<double> pValues) => Masking.Metrics.PairedBootstrap.holm(pValues.ToArray());
}
