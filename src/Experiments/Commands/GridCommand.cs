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
    public static int Run(Args args, TextWriter stdout, TextWriter stderr)
    {
        var verb = args.Positional.Count > 1 ? args.Positional[1] : null;
        return verb switch
        {
            null => RunGrid(args, null, stdout, stderr),
            "cell" => RunCell(args, stderr),
            "report" => Report(args, stdout, stderr),
            "pending" => Pending(args, stdout),
            _ => throw new CliError($"grid: unknown verb '{verb}'; expected `grid --config FILE`, `grid cell` or `grid report`"),
        };
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

    public static int RunGrid(Args args, string? preset, TextWriter stdout, TextWriter stderr)
    {
        var configPath = Path.GetFullPath(preset is null ? args.Required("config", "a grid config file (JSON; see configs/)") : PresetFile(preset));
        var config = GridConfig.Load(configPath);
        var init = args.Optional("init") ?? config.Init;
        config = config with
        {
            Parallel = args.Int("parallel", config.Parallel, min: 1),
            Threads = args.Int("threads", config.Threads, min: 1),
            // Absolute in the frozen config, so that every cell (on any node) finds the same model.
            Init = init is null ? null : Path.GetFullPath(init),
        };
        var outDir = Path.GetFullPath(args.Optional("out") ?? Path.Combine("runs", config.Name));
        var backend = args.Optional("backend") ?? "local";
        var dryRun = args.Optional("dry-run") is not null;
        var data = args.Optional("data");
        args.EnsureAllUsed(preset is null ? "grid" : "run");
        Directory.CreateDirectory(outDir);
        // The cells read the config from the run directory, so a later edit of the source file cannot change a
        // running grid; the --parallel/--threads overrides are part of it.
        var frozen = Path.Combine(outDir, "grid.json");
        var json = config.ToJson() + "\n";
        if (File.Exists(frozen) && File.ReadAllText(frozen) is var old && old != json && !SameExceptScheduling(old, config))
            throw new CliError($"{frozen}:0: this directory holds another grid configuration; use another --out or delete it");
        RunDirectory.WriteAtomically(frozen, json);
        if (dryRun && backend == "local") return DryRun(config, outDir, stdout);
        return backend switch
        {
            "local" => Local(config, frozen, outDir, data, stdout, stderr),
            "slurm" => SlurmBackend.Submit(config, frozen, outDir, data, dryRun, stderr),
            _ => throw new CliError($"--backend: expected local or slurm, got '{backend}'"),
        };
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

    private static int RunCell(Args args, TextWriter stderr)
    {
        var configPath = args.Required("config", "the grid config (OUT/grid.json)");
        var config = GridConfig.Load(configPath);
        var outDir = Path.GetFullPath(args.Required("out", "the grid's output directory"));
        var id = args.Required("cell", "a cell id (see OUT/slurm/cells.txt or the grid's log)");
        var logPath = args.Optional("log");
        var cell = GridPlan.Cells(config).FirstOrDefault(c => c.Id == id) ?? throw new CliError($"--cell: no cell '{id}' in {configPath}");
        using var logFile = logPath is null ? null : new StreamWriter(logPath, append: true) { AutoFlush = true };
        var log = (TextWriter?)logFile ?? stderr;
        var threads = args.Int("threads", GridPlan.Threads(config, cell), min: 1);
        var data = args.Optional("data");
        args.EnsureAllUsed("grid cell");
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
    private static int Pending(Args args, TextWriter stdout)
    {
        var config = GridConfig.Load(args.Required("config", "the grid config (OUT/grid.json)"));
        var outDir = Path.GetFullPath(args.Required("out", "the grid's output directory"));
        var first = args.Int("first", 1, min: 1);
        var count = args.Int("count", 1, min: 1);
        args.EnsureAllUsed("grid pending");
        var cells = GridPlan.Waves(GridPlan.Cells(config)).SelectMany(w => w).ToList();
        if (first - 1 + count > cells.Count)
            throw new CliError($"--first {first} --count {count}: the grid has {cells.Count} cells");
        var indexed = CellRunner.ReadIndex(outDir).Select(r => r.Cell).ToHashSet();
        var todo = Enumerable.Range(0, count).Where(i => !CellRunner.IsFinished(config, outDir, cells[first - 1 + i], indexed)).ToList();
        stdout.WriteLine(GridPlan.ArrayRanges(todo));
        return 0;
    }

    private static int Report(Args args, TextWriter stdout, TextWriter stderr)
    {
        var outDir = Path.GetFullPath(args.Required("out", "the grid's output directory"));
        var configPath = args.Optional("config") ?? Path.Combine(outDir, "grid.json");
        var config = GridConfig.Load(configPath);
        var data = args.Optional("data");
        args.EnsureAllUsed("grid report");
        GridReport.Write(config, outDir, data, stderr);
        stdout.Write(File.ReadAllText(Path.Combine(outDir, "report.md")));
        return 0;
    }
}
