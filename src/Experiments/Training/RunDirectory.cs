using System.Text;

namespace Masking.Experiments.Training;

/// <summary>
/// A stage's run directory: run.json (the resolved configuration of the run), metrics.jsonl (one line per log
/// or evaluation), checkpoints/last.safetensors (parameters and optimiser state, for resuming), and the model
/// as Hugging Face keeps one (see <see cref="HuggingFace.ModelDirectory"/>): config.json (BartConfig),
/// model.safetensors (written when the stage finishes; fine-tuning writes its best dev checkpoint there) and the
/// tokenizer; then predictions.jsonl and final.json. Every file is written to a temporary name and renamed.
/// An open run directory is locked (run.lock): a second process on the same run is refused, not interleaved.
/// </summary>
public sealed class RunDirectory : IDisposable
{
    /// <summary>How a run's JSON files (final.json, metrics.json, predictions) are written: text as it is, not
    /// \u-escaped.</summary>
    internal static readonly System.Text.Json.JsonSerializerOptions Json =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string Path { get; }
    public RunDirectory(string path) => Path = System.IO.Path.GetFullPath(path);

    public string ConfigFile => System.IO.Path.Combine(Path, "run.json");
    public string MetricsFile => System.IO.Path.Combine(Path, "metrics.jsonl");
    public string LastCheckpoint => System.IO.Path.Combine(Path, "checkpoints", "last.safetensors");
    public string ModelFile => System.IO.Path.Combine(Path, HuggingFace.ModelDirectory.ModelFile);
    public string ModelConfigFile => System.IO.Path.Combine(Path, HuggingFace.ModelDirectory.ConfigFile);
    public string VocabFile => System.IO.Path.Combine(Path, HuggingFace.ModelDirectory.ByteBpeFile);
    public string FinalFile => System.IO.Path.Combine(Path, "final.json");
    public string PredictionsFile => System.IO.Path.Combine(Path, "predictions.jsonl");
    public string LockFile => System.IO.Path.Combine(Path, "run.lock");

    /// <summary>Who holds the lock, for the message a second process gets (the lock file itself cannot be read
    /// while it is held).</summary>
    private string OwnerFile => System.IO.Path.Combine(Path, "run.owner");

    private FileStream? _lock;

    /// <summary>
    /// Starts a run or takes one up again: a directory with the same run.json resumes; one with another
    /// configuration is refused (a run never mixes two configurations).
    /// </summary>
    public bool Open(RunConfig config) => Open(config, config.ToJson(), RunConfig.FromJson);

    /// <summary>The same for a learn-policy run, whose run.json is its options.</summary>
    public bool Open(LearnPolicyOptions options) => Open(options, options.ToJson(), LearnPolicyOptions.FromJson);

    private bool Open<T>(T config, string json, Func<string, T?> read) where T : class
    {
        OutputPaths.Directory(Path, "--out");
        Lock();
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "checkpoints"));
        if (File.Exists(ConfigFile))
        {
            var existing = File.ReadAllText(ConfigFile);
            if (existing.TrimEnd() != json.TrimEnd())
            {
                T? old;
                try { old = read(existing); }
                catch (System.Text.Json.JsonException) { old = null; }
                var differs = old is null ? "everything" : Differences(old, config);
                throw new InputError($"{ConfigFile}:1: expected the configuration of this run to resume it (differs in: {differs}); use another --out");
            }
            return true;
        }
        WriteAtomically(ConfigFile, json + "\n");
        return false;
    }

    /// <summary>An exclusive lock for as long as this process works on the run (released by Dispose, or by the
    /// system when the process ends, however it ends). Evaluation takes it on the directory it writes into.</summary>
    public void Lock()
    {
        if (_lock is not null) return;
        try
        {
            _lock = new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var owner = File.Exists(OwnerFile) ? File.ReadAllText(OwnerFile).Trim() : "another process";
            throw new InputError($"{LockFile}:0: expected no other process on this run directory, but {owner} holds it; wait for it to finish, or use another --out");
        }
        WriteAtomically(OwnerFile, $"process {Environment.ProcessId}\n");
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    private static string Differences<T>(T a, T b) =>
        string.Join(", ", typeof(T).GetProperties()
            .Where(p => !Equals(p.GetValue(a), p.GetValue(b)))
            .Select(p => p.Name));

    public string TensorBoardDirectory => System.IO.Path.Combine(Path, "tensorboard");

    private TorchSharp.Modules.SummaryWriter? _writer;
    private bool _writerFailed;

    /// <summary>Appends a log line; its numeric fields also go to TensorBoard scalars (when the writer works).</summary>
    public void AppendMetrics(string jsonLine)
    {
        File.AppendAllText(MetricsFile, jsonLine + "\n");
        WriteScalars(jsonLine);
    }

    private void WriteScalars(string jsonLine)
    {
        if (_writerFailed) return;
        try
        {
            _writer ??= TorchSharp.torch.utils.tensorboard.SummaryWriter(TensorBoardDirectory);
            using var doc = System.Text.Json.JsonDocument.Parse(jsonLine);
            var step = (int)doc.RootElement.GetProperty("step").GetInt64();
            foreach (var field in doc.RootElement.EnumerateObject())
                if (field.Name != "step" && field.Value.ValueKind == System.Text.Json.JsonValueKind.Number)
                    _writer.add_scalar(field.Name, (float)field.Value.GetDouble(), step);
        }
        catch (Exception)
        {
            _writerFailed = true; // TensorBoard is a convenience; metrics.jsonl is the record.
        }
    }

    /// <summary>
    /// On resume, drops log lines written after the checkpoint, so the log ends as an uninterrupted run's would.
    /// TensorBoard's event files cannot be cut (each writer appends its own file), so they are written again
    /// from the lines kept: a resumed run shows every step once.
    /// </summary>
    public void TruncateMetricsAfter(long step)
    {
        if (!File.Exists(MetricsFile)) return;
        var lines = File.ReadAllLines(MetricsFile);
        var kept = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var lineStep = StepOf(lines[i]);
            // A kill while a line was appended leaves it torn: the last line may be cut off, no other.
            if (lineStep is null && i == lines.Length - 1) break;
            if (lineStep is null) throw new InputError($"{MetricsFile}:{i + 1}: expected a JSON object with a \"step\" (the log is damaged; delete the run directory to start again)");
            if (lineStep <= step) kept.Add(lines[i]);
        }
        WriteAtomically(MetricsFile, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
        _writer = null; // it keeps no file open: each event is appended and closed
        if (Directory.Exists(TensorBoardDirectory)) Directory.Delete(TensorBoardDirectory, recursive: true);
        foreach (var line in kept) WriteScalars(line);
    }

    private static long? StepOf(string line)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt64(out var v) ? v : null;
        }
        catch (System.Text.Json.JsonException) { return null; }
    }

    public static void WriteAtomically(string path, string content)
    {
        AtomicFile.writeAllText(path, content);
    }
}
