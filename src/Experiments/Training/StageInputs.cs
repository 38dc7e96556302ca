using System.Globalization;
using Masking.Experiments.Cli;
using Masking.Model;
using Masking.Tasks;
using Masking.Tokenizers;

namespace Masking.Experiments.Training;

/// <summary>What a stage reads before it trains: task splits and subsets, the vocabulary, the model it starts from,
/// and a checkpoint's metadata.</summary>
public static class StageInputs
{
    /// <summary>The first ⌈fraction·n⌉ examples of a seeded shuffle; the whole split at fraction 1.</summary>
    public static IReadOnlyList<TaskExample> Subset(IReadOnlyList<TaskExample> examples, double fraction, ulong seed)
    {
        if (fraction >= 1.0) return examples;
        var rng = new Rng(Seeds.derive(seed, -7, 0L));
        var order = Enumerable.Range(0, examples.Count).ToArray();
        rng.Shuffle(order);
        var keep = Math.Max(1, (int)Math.Ceiling(fraction * examples.Count));
        return order.Take(keep).Order().Select(i => examples[i]).ToList();
    }

    /// <summary>The first <paramref name="max"/> examples (all when null): real tasks' subsets for quick runs.</summary>
    internal static IReadOnlyList<TaskExample> Limit(IReadOnlyList<TaskExample> examples, int? max) =>
        max is { } m && m < examples.Count ? examples.Take(m).ToList() : examples;

    internal static string DataRootOf(TaskInfo task, StageEnvironment env) =>
        task.NeedsDataRoot ? DataRoot.Resolve(env.DataRoot) : "the generated world";

    internal static IReadOnlyList<TaskExample> LoadSplit(TaskInfo task, Split split, StageEnvironment env) => LoadSplit(task, split, env.DataRoot);

    /// <summary>A split of a task: the generated world's, or read under the data root.</summary>
    internal static IReadOnlyList<TaskExample> LoadSplit(TaskInfo task, Split split, string? dataRoot)
    {
        var root = task.NeedsDataRoot ? DataRoot.Resolve(dataRoot) : "";
        var loaded = task.Load.Invoke(root).Invoke(split);
        if (loaded.IsError) throw new InputError(loaded.ErrorValue);
        return loaded.ResultValue.ToList();
    }

    internal static TaskInfo FindTask(string? name)
    {
        var t = Registry.find(name ?? throw new InputError("expected --task TASK"));
        return t.IsOk ? t.ResultValue : throw new InputError(t.ErrorValue);
    }

    internal static ByteBpeTokenizer LoadVocab(string path)
    {
        var m = ByteBpeModelModule.load(path);
        return m.IsOk ? new ByteBpeTokenizer(m.ResultValue) : throw new InputError(m.ErrorValue);
    }

    /// <summary>
    /// Checks the model a stage starts from (a finished run, or a Hugging Face BART directory), copies its
    /// config.json and tokenizer into the new run, and gives the tokenizer with its label convention.
    /// </summary>
    internal static HuggingFace.ModelTokenizer StartFrom(string from, RunDirectory to)
    {
        var source = new RunDirectory(from);
        if (!Directory.Exists(source.Path)) throw new InputError($"{from}:0: expected a run directory or a Hugging Face BART directory (--from)");
        if (File.Exists(source.ConfigFile) && !File.Exists(source.FinalFile))
            throw new InputError($"{source.FinalFile}:0: expected the run given by --from to have finished");
        if (!HuggingFace.ModelDirectory.HasModel(source.Path))
            throw new InputError($"{source.ModelFile}:0: expected a model here (a finished run, or a Hugging Face BART directory: config.json with {HuggingFace.BartDirectory.Safetensors} or {HuggingFace.BartDirectory.PyTorchBin})");
        // The source's tokenizer is checked before anything is copied: an error then names the file to fix, and a
        // damaged copy never sits in the new run to fail it again once the source is fixed.
        HuggingFace.ModelDirectory.LoadTokenizer(source.Path);
        HuggingFace.ModelDirectory.CopyConfigAndTokenizer(source.Path, to.Path);
        return HuggingFace.ModelDirectory.LoadTokenizer(to.Path);
    }

    internal static IReadOnlyDictionary<string, string> MetaOf(string checkpoint)
    {
        var meta = Checkpoint.meta(checkpoint);
        if (meta.IsError) throw new InputError(meta.ErrorValue);
        return meta.ResultValue.ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    /// <summary>The step a checkpoint was written at (0 for a fresh run: no metadata).</summary>
    internal static long StepOf(string checkpoint, IReadOnlyDictionary<string, string> meta) =>
        meta.Count == 0 ? 0
        : meta.TryGetValue("step", out var step) && long.TryParse(step, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s
        : throw new InputError($"{checkpoint}:0: expected a \"step\" in the checkpoint's metadata");
}
