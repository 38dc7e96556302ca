using Masking.Experiments.Cli;
using System.Diagnostics;
using System.Globalization;
using Masking.Experiments.Training;

namespace Masking.Experiments.Grid;

/// <summary>
/// Runs a grid's cells on this machine: each cell is a <c>masking grid cell</c> process with its own threads,
/// up to <c>parallel</c> at once, a cell starting as soon as the cells it depends on have finished. Finished
/// cells are skipped, so a killed grid run again does only the rest; an interrupted cell resumes from its
/// last checkpoint.
/// </summary>
public static class LocalBackend
{
    /// <summary>Exit code of a cell that another process is running.</summary>
    public const int Busy = 75;

    public static int Run(GridConfig config, string configPath, string outDir, string? dataRoot, TextWriter log)
    {
        Directory.CreateDirectory(Path.Combine(outDir, "logs"));
        var clock = Stopwatch.StartNew();
        void Say(string line) => log.WriteLine($"[{Durations.Clock(clock.Elapsed)}] {line}");
        var cells = GridPlan.Cells(config);
        var indexed = CellRunner.ReadIndex(outDir).Select(r => r.Cell).ToHashSet();
        var done = cells.Where(c => CellRunner.IsFinished(config, outDir, c, indexed)).Select(c => c.Id).ToHashSet();
        var pending = cells.Where(c => !done.Contains(c.Id)).ToList();
        Say($"grid {config.Name}: {cells.Count} cells, {done.Count} already finished, {pending.Count} to run, {config.Parallel} at once " +
            $"× {config.Threads} thread(s); logs in {Path.Combine(outDir, "logs")}");
        var running = new Dictionary<Task<int>, (Cell Cell, Stopwatch Clock)>();
        var estimate = new GridEstimate(config.Parallel);
        var failure = 0;
        var retried = new Dictionary<string, int>();
        var total = pending.Count;
        var finished = 0;
        // Ctrl-C reaches the cells too (one process group): they stop at a checkpoint while the grid starts no
        // new cell and waits for them.
        using var loop = Interruption.Loop();

        while (pending.Count > 0 || running.Count > 0)
        {
            while (failure == 0 && !Interruption.Requested && running.Count < config.Parallel && pending.FirstOrDefault(c => c.DependsOn.All(done.Contains)) is { } next)
            {
                pending.Remove(next);
                Say($"start {next.Id}");
                running[Start(config, configPath, outDir, dataRoot, next)] = (next, Stopwatch.StartNew());
            }
            if (running.Count == 0) break;
            var task = Task.WhenAny(running.Keys).GetAwaiter().GetResult();
            var (cell, cellClock) = running[task];
            running.Remove(task);
            var code = task.GetAwaiter().GetResult();
            if (code != 0 && Interruption.Requested)
            {
                Say($"{cell.Id} stopped (exit {code}); it resumes from its last checkpoint");
                continue;
            }
            if (code != 0)
            {
                var logFile = LogFile(outDir, cell);
                var tail = File.Exists(logFile) ? File.ReadLines(logFile).TakeLast(5) : [];
                // Exit codes above 128 are deaths by signal (128 + signal): not the cell's verdict on its input.
                var attempts = retried.GetValueOrDefault(cell.Id);
                if (code > 128 && code != 128 + 2 && attempts < config.Retries && failure == 0)
                {
                    retried[cell.Id] = attempts + 1;
                    Say($"{cell.Id} died of signal {code - 128} (exit {code}); running it again from its last checkpoint " +
                        $"(retry {attempts + 1} of {config.Retries}); its log {logFile} ended:\n    " + string.Join("\n    ", tail));
                    pending.Insert(0, cell);
                    continue;
                }
                Say(code == Busy
                    ? $"{cell.Id} is being run by another process (an earlier grid still running?); stop it or wait, then run again"
                    : $"{cell.Id} failed (exit {code}); its log {logFile} ends:\n    " + string.Join("\n    ", tail));
                if (failure == 0) failure = code == Busy ? 1 : code;
                continue;
            }
            done.Add(cell.Id);
            finished++;
            estimate.Finished(cell, cellClock.Elapsed.TotalSeconds);
            var result = cell.IsResult ? CellRunner.ReadIndex(outDir).FirstOrDefault(r => r.Cell == cell.Id) : null;
            Say($"done  {cell.Id} in {Durations.Clock(cellClock.Elapsed)}" +
                (result is null ? "" : string.Create(CultureInfo.InvariantCulture, $" ({result.Metric} {result.Score:F3})")) +
                $" — {finished}/{total}, " + estimate.Left(pending, running.Values.Select(r => (r.Cell, r.Clock.Elapsed.TotalSeconds))));
        }
        if (Interruption.Requested)
        {
            Say("grid interrupted: finished cells are kept and stopped ones resume from their checkpoints; run the same command to go on");
            return 130;
        }
        if (failure != 0) Say("grid stopped: the cells above failed; finished cells are kept, run the same command again to go on");
        return failure;
    }

    public static string LogFile(string outDir, Cell cell) => Path.Combine(outDir, "logs", cell.Id.Replace('/', '_') + ".log");

    private static Task<int> Start(GridConfig config, string configPath, string outDir, string? dataRoot, Cell cell)
    {
        var (file, prefix) = Self();
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix) info.ArgumentList.Add(a);
        var threads = GridPlan.Threads(config, cell);
        foreach (var a in new[] { "grid", "cell", "--config", configPath, "--out", outDir, "--cell", cell.Id, "--threads",
                     threads.ToString(CultureInfo.InvariantCulture), "--log", LogFile(outDir, cell) })
            info.ArgumentList.Add(a);
        if (dataRoot is not null) { info.ArgumentList.Add("--data"); info.ArgumentList.Add(dataRoot); }
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + file);
        // The cell logs to its own file; drain the pipes so it never blocks on them.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (process) File.AppendAllText(LogFile(outDir, cell), e.Data + "\n"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process.WaitForExitAsync().ContinueWith(_ => process.ExitCode);
    }

    /// <summary>This executable (the apphost), or <c>dotnet masking.dll</c> when run through the muxer.</summary>
    internal static (string File, string[] Prefix) Self()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("unknown executable path");
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? (path, [typeof(LocalBackend).Assembly.Location])
            : (path, []);
    }
}
