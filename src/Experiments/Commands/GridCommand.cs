using System.CommandLine;
using Masking.Experiments.Cli;
using Masking.Experiments.Grid;
using Masking.Experiments.Training;
using TorchSharp;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking grid --config FILE [--out DIR] [--backend local|slurm] [--dry-run] [--parallel N] [--threads N]</c>
/// runs (or submits) every cell and writes the report; <c>grid cell</c> runs one cell; <c>grid report</c>
/// rebuilds report.md, results.json and the plots from the index. <c>masking run --preset NAME</c> is
/// <c>grid --config configs/NAME.json</c>.
/// </summary>
public static class GridCommand
{
    /// <summary>How a grid is run: from the command line of <c>grid</c> or <c>run</c>.</summary>
    private sealed record Launch(string ConfigPath, string? Out, int? Parallel, int? Threads, string? Init, string Backend, bool DryRun, string? Data);

    /// <summary>Beyond this many cells at once every one of them only waits for a core.</summary>
    private static int MaxParallel => Math.Max(4, 4 * Environment.ProcessorCount);

    /// <summary><c>masking run --preset NAME</c>: a shipped configuration (configs/NAME.json).</summary>
    public static Command BuildRun(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("run", "run a shipped grid, configs/NAME.json (= grid --config configs/NAME.json)");
        var preset = Opts.Text("--preset", "NAME", "demo, smoke, paper, … (the configs/ directory's files)", "demo");
        command.Options.Add(preset);
        var launch = LaunchOptions(command);
        command.SetAction(p => RunGrid(launch(p, PresetFile(p.GetValue(preset)!)), stdout, stderr));
        return command;
    }

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("grid", "every cell of a grid (arm × task × seed), resumable and in parallel (or submitted to Slurm), and the report");
        var config = Opts.Text("--config", "FILE", "a grid config file (JSON; see configs/) (required)");
        command.Options.Add(config);
        var launch = LaunchOptions(command);
        command.SetAction(p => RunGrid(launch(p, p.GetValue(config) ?? throw new CliError("missing --config (a grid config file, JSON; see configs/)")), stdout, stderr));

        var cell = new Command("cell", "run one cell of a grid (what the backends call)");
        var cellConfig = Opts.Required(cell, "--config", "FILE", "the grid config (OUT/grid.json)");
        var cellOut = Opts.Required(cell, "--out", "DIR", "the grid's output directory");
        var cellId = Opts.Required(cell, "--cell", "ID", "a cell id (see OUT/slurm/cells.txt or the grid's log)");
        var log = Opts.Text("--log", "FILE", "append the cell's log to this file (default: stderr)");
        // A cell may run on another node than the one that planned it, so its bound is not this machine's.
        var threads = Opts.OptionalInt("--threads", "libtorch's threads (default: the config's share for this cell)", min: 1, max: 1024);
        cell.Options.Add(log);
        cell.Options.Add(threads);
        var cellData = CommonOptions.Data(cell);
        cell.SetAction(p => RunCell(p.GetValue(cellConfig)!, p.GetValue(cellOut)!, p.GetValue(cellId)!, p.GetValue(log), p.GetValue(threads),
            p.GetValue(cellData), stderr));

        var report = new Command("report", "rebuild report.md, results.json and the plots from a grid's index");
        var reportOut = Opts.Required(report, "--out", "DIR", "the grid's output directory");
        var reportConfig = Opts.Text("--config", "FILE", "the grid config (default: OUT/grid.json)");
        report.Options.Add(reportConfig);
        var reportData = CommonOptions.Data(report);
        report.SetAction(p => Report(p.GetValue(reportOut)!, p.GetValue(reportConfig), p.GetValue(reportData), stdout, stderr));

        var pending = new Command("pending", "the unfinished cells among lines FIRST … FIRST+COUNT−1 of cells.txt, as Slurm array indices (what submit.sh asks)");
        var pendingConfig = Opts.Required(pending, "--config", "FILE", "the grid config (OUT/grid.json)");
        var pendingOut = Opts.Required(pending, "--out", "DIR", "the grid's output directory");
        var first = Opts.Int("--first", 1, "the first line of cells.txt", min: 1);
        var count = Opts.Int("--count", 1, "how many lines", min: 1);
        pending.Options.Add(first);
        pending.Options.Add(count);
        pending.SetAction(p => Pending(p.GetValue(pendingConfig)!, p.GetValue(pendingOut)!, p.GetValue(first), p.GetValue(count), stdout));

        command.Subcommands.Add(cell);
        command.Subcommands.Add(report);
        command.Subcommands.Add(pending);
        return command;
    }

    /// <summary>The options <c>grid</c> and <c>run</c> share, read into a <see cref="Launch"/> once the config's path is known.</summary>
    private static Func<ParseResult, string, Launch> LaunchOptions(Command command)
    {
        var outDir = Opts.Text("--out", "DIR", "the grid's output directory (default: runs/NAME)");
        var parallel = Opts.OptionalInt("--parallel", "cells run at once (default: the config's)", min: 1, max: MaxParallel);
        var threads = Opts.OptionalInt("--threads", "libtorch threads of each cell (default: the config's)", min: 1, max: CommonOptions.MaxThreads);
        var init = Opts.Text("--init", "HF_DIR", "the model every arm starts from, instead of pre-training one (default: the config's)");
        var backend = Opts.Choice("--backend", "run the cells here, or submit them to Slurm", "local", "local", "slurm");
        var dryRun = Opts.Flag("--dry-run", "validate the grid and list its cells (local) or write the Slurm scripts without submitting them; nothing is trained");
        foreach (var o in new Option[] { outDir, parallel, threads, init, backend, dryRun }) command.Options.Add(o);
        var data = CommonOptions.Data(command);
        return (p, configPath) => new Launch(configPath, p.GetValue(outDir), p.GetValue(parallel), p.GetValue(threads), p.GetValue(init),
            p.GetValue(backend)!, p.GetValue(dryRun), p.GetValue(data));
    }

    /// <summary>configs/NAME.json beside the executable's repository (found upwards, like the tagger models).</summary>
    public static string PresetFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var configs = Path.Combine(dir.FullName, "configs");
            if (!Directory.Exists(configs)) continue;
            var path = Path.Combine(configs, name + ".json");
            if (File.Exists(path)) return path;
            var known = Directory.GetFiles(configs, "*.json").Select(Path.GetFileNameWithoutExtension).Order();
            throw new CliError($"--preset: unknown preset '{name}'; known: {string.Join(", ", known)}");
        }
        throw new CliError("--preset: no configs/ directory found above the executable");
    }

    private static int RunGrid(Launch launch, TextWriter stdout, TextWriter stderr)
    {
        var configPath = Path.GetFullPath(launch.ConfigPath);
        var config = GridConfig.Load(configPath);
        var init = launch.Init ?? config.Init;
        config = config with
        {
            Parallel = launch.Parallel ?? config.Parallel,
            Threads = launch.Threads ?? config.Threads,
            // Absolute in the frozen config, so that every cell (on any node) finds the same model.
            Init = init is null ? null : Path.GetFullPath(init),
        };
        var outDir = Path.GetFullPath(launch.Out ?? Path.Combine("runs", config.Name));
        var (backend, dryRun, data) = (launch.Backend, launch.DryRun, launch.Data);
        OutputPaths.Directory(outDir, "--out");
        // The cells read the config from the run directory, so a later edit of the source file cannot change a
        // running grid; the --parallel/--threads overrides are part of it.
        var frozen = Path.Combine(outDir, "grid.json");
        var json = config.ToJson() + "\n";
        if (File.Exists(frozen) && File.ReadAllText(frozen) is var old && old != json && !SameExceptScheduling(old, config))
            throw new CliError($"{frozen}:0: this directory holds another grid configuration; use another --out or delete it");
        RunDirectory.WriteAtomically(frozen, json);
        if (dryRun && backend == "local") return DryRun(config, outDir, stdout);
        return backend == "local"
            ? Local(config, frozen, outDir, data, stdout, stderr)
            : SlurmBackend.Submit(config, frozen, outDir, data, dryRun, stderr);
    }

    /// <summary>
    /// <c>--dry-run</c> with the local backend: the validated grid's cells, stage by stage, and which are finished
    /// already; nothing is trained.
    /// </summary>
    private static int DryRun(GridConfig config, string outDir, TextWriter stdout)
    {
        if (config.Init is { } init)
        {
            // The model every arm starts from is read whole (config, tokenizer, every tensor's name and shape).
            if (!HuggingFace.ModelDirectory.HasModel(init))
                throw new CliError($"{Path.Combine(init, HuggingFace.ModelDirectory.ConfigFile)}:0: init: expected a Hugging Face BART directory (config.json with model.safetensors or pytorch_model.bin) or a finished run");
            var (model, parameters) = HuggingFace.ModelDirectory.LoadModel(init, TorchSharp.torch.CPU);
            var tokenizer = HuggingFace.ModelDirectory.LoadTokenizer(init);
            var count = parameters.Sum(kv => kv.Value.numel());
            foreach (var kv in parameters) kv.Value.Dispose();
            stdout.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"init {init}: d_model {model.DModel}, {model.EncoderLayers}+{model.DecoderLayers} layers, {model.Heads} heads, vocabulary {tokenizer.Tokenizer.Specials.VocabSize}, {count:N0} parameters, {model.MaxPositions} positions"));
            if (Math.Max(config.MaxSourceLength, config.MaxTargetLength) > model.MaxPositions)
                throw new CliError($"max_source_length/max_target_length: {Math.Max(config.MaxSourceLength, config.MaxTargetLength)} is more than init's {model.MaxPositions} positions");
        }
        var indexed = CellRunner.ReadIndex(outDir).Select(r => r.Cell).ToHashSet();
        var waves = GridPlan.Waves(GridPlan.Cells(config));
        stdout.WriteLine($"grid {config.Name}: {waves.Sum(w => w.Count)} cells in {waves.Count} stages (--dry-run: nothing is run)");
        for (var i = 0; i < waves.Count; i++)
        {
            stdout.WriteLine($"stage {i + 1}:");
            foreach (var cell in waves[i])
                stdout.WriteLine($"  {cell.Id}{(CellRunner.IsFinished(config, outDir, cell, indexed) ? " (finished)" : "")}");
        }
        return 0;
    }

    /// <summary>Parallelism and threads may change between runs of one grid; nothing else may.</summary>
    private static bool SameExceptScheduling(string oldJson, GridConfig config)
    {
        var old = GridConfig.FromJson(oldJson);
        return old is not null && (old with { Parallel = config.Parallel, Threads = config.Threads }).ToJson() == config.ToJson();
    }

    private static int Local(GridConfig config, string configPath, string outDir, string? data, TextWriter stdout, TextWriter stderr)
    {
        var code = LocalBackend.Run(config, configPath, outDir, data, stderr);
        if (code != 0) return code;
        GridReport.Write(config, outDir, data, stderr);
        stdout.Write(File.ReadAllText(Path.Combine(outDir, "report.md")));
        return 0;
    }

    private static int RunCell(string configPath, string outDir, string id, string? logPath, int? threadsOption, string? data, TextWriter stderr)
    {
        var config = GridConfig.Load(configPath);
        outDir = OutputPaths.Directory(outDir, "--out");
        if (logPath is not null) logPath = OutputPaths.File(logPath, "--log");
        var cell = GridPlan.Cells(config).FirstOrDefault(c => c.Id == id) ?? throw new CliError($"--cell: no cell '{id}' in {configPath}");
        using var logFile = logPath is null ? null : new StreamWriter(logPath, append: true) { AutoFlush = true };
        var log = (TextWriter?)logFile ?? stderr;
        var threads = threadsOption ?? GridPlan.Threads(config, cell);
        torch.set_num_threads(threads);
        if (config.Device == "cuda" && !torch.cuda.is_available()) throw new CliError($"{configPath}:0: device cuda: no CUDA device is available here");
        var env = new StageEnvironment(config.Device == "cuda" ? torch.CUDA : torch.CPU, log, false, data);

        // One process per cell: a second one (say, an orphan of a killed grid) is refused, not interleaved.
        Directory.CreateDirectory(Path.Combine(outDir, "locks"));
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(outDir, "locks", id.Replace('/', '_') + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            stderr.WriteLine($"masking: cell {id} is running in another process");
            return LocalBackend.Busy;
        }
        using (lockFile)
        {
            var indexed = CellRunner.ReadIndex(outDir).Select(r => r.Cell).ToHashSet();
            if (CellRunner.IsFinished(config, outDir, cell, indexed))
            {
                log.WriteLine($"grid cell {id}: already finished");
                return 0;
            }
            log.WriteLine($"grid cell {id}: {threads} thread(s) on {config.Device}");
            return CellRunner.Run(config, outDir, cell, env);
        }
    }

    /// <summary>
    /// <c>grid pending --config F --out DIR --first N --count M</c>: the unfinished cells among lines N … N+M−1 of
    /// cells.txt (the grid's cells, stage by stage), as Slurm array indices from 0 ("0,2-4"); empty when all are
    /// finished. submit.sh asks this before each stage, so running it again submits only what is left.
    /// </summary>
    private static int Pending(string configPath, string outDir, int first, int count, TextWriter stdout)
    {
        var config = GridConfig.Load(configPath);
        outDir = Path.GetFullPath(outDir);
        var cells = GridPlan.Waves(GridPlan.Cells(config)).SelectMany(w => w).ToList();
        if (first - 1 + count > cells.Count)
            throw new CliError($"--first {first} --count {count}: the grid has {cells.Count} cells");
        var indexed = CellRunner.ReadIndex(outDir).Select(r => r.Cell).ToHashSet();
        var todo = Enumerable.Range(0, count).Where(i => !CellRunner.IsFinished(config, outDir, cells[first - 1 + i], indexed)).ToList();
        stdout.WriteLine(GridPlan.ArrayRanges(todo));
        return 0;
    }

    private static int Report(string outDir, string? configPath, string? data, TextWriter stdout, TextWriter stderr)
    {
        outDir = Path.GetFullPath(outDir);
        var config = GridConfig.Load(configPath ?? Path.Combine(outDir, "grid.json"));
        GridReport.Write(config, outDir, data, stderr);
        stdout.Write(File.ReadAllText(Path.Combine(outDir, "report.md")));
        return 0;
    }
}
