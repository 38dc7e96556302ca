namespace Masking.Experiments.Grid;

/// <summary>
/// The time a grid has left, from the durations of the cells this run has finished: a cell is expected to take
/// as long as the finished cells of its kind (fine-tuning cells: of its task, then of any task). A kind nobody
/// has timed yet is not guessed from another kind (pre-training runs on every core, a fine-tuning cell on one
/// and stops early), it is counted and named instead.
/// </summary>
public sealed class GridEstimate(int parallel)
{
    private readonly Dictionary<string, List<double>> _seconds = [];

    private static string KindKey(Cell c) => c.Kind.ToString().ToLowerInvariant();
    private static string TaskKey(Cell c) => $"{KindKey(c)}:{c.Task}";

    public void Finished(Cell cell, double seconds)
    {
        foreach (var key in new[] { KindKey(cell), TaskKey(cell) })
            (_seconds.TryGetValue(key, out var list) ? list : _seconds[key] = []).Add(seconds);
    }

    /// <summary>The expected duration of a cell, or null when no cell of its kind has finished.</summary>
    public double? Expected(Cell cell) =>
        _seconds.TryGetValue(TaskKey(cell), out var same) ? same.Average()
        : _seconds.TryGetValue(KindKey(cell), out var kind) ? kind.Average()
        : null;

    /// <summary>"about 12:40 left", with the cells that have no estimate yet named by kind.</summary>
    public string Left(IEnumerable<Cell> pending, IEnumerable<(Cell Cell, double Elapsed)> running)
    {
        double total = 0;
        var untimed = new Dictionary<string, int>();
        void Add(Cell c, double elapsed)
        {
            if (Expected(c) is { } s) total += Math.Max(0, s - elapsed);
            else untimed[KindKey(c)] = untimed.GetValueOrDefault(KindKey(c)) + 1;
        }
        foreach (var c in pending) Add(c, 0);
        foreach (var (c, elapsed) in running) Add(c, elapsed);
        var timed = $"about {Cli.Durations.Clock(TimeSpan.FromSeconds(total / Math.Max(1, parallel)))} left";
        if (untimed.Count == 0) return timed;
        var rest = string.Join(", ", untimed.OrderBy(kv => kv.Key).Select(kv => $"{kv.Value} {kv.Key} cell{(kv.Value == 1 ? "" : "s")}")) + " not yet timed";
        // Nothing that is left has a measured kind yet: say so rather than "00:00 left".
        return total > 0 ? timed + " + " + rest : rest;
    }
}
