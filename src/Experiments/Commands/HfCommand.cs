using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Experiments.HuggingFace;
using Masking.Experiments.Training;
using TorchSharp;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking hf import DIR --out RUN</c>: a Hugging Face BART directory as a finished run directory, for those
/// who want one (every <c>--from</c> also takes the Hugging Face directory itself).
/// <c>masking hf export --from RUN --out DIR</c>: a run's model as a directory that
/// <c>BartForConditionalGeneration.from_pretrained</c> and <c>AutoTokenizer.from_pretrained</c> load as it is:
/// config.json, model.safetensors, the tokenizer as vocab.json + merges.txt with its configs (Masking's own BPE
/// written in that form), and generation_config.json when the model has one.
/// </summary>
public static class HfCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var import = new Command("import", "a Hugging Face BART directory as a finished run directory");
        var source = new Argument<string>("HF_DIR") { Description = "a Hugging Face BART directory (config.json, model.safetensors, vocab.json, merges.txt)" };
        import.Arguments.Add(source);
        var importOut = Opts.Required(import, "--out", "RUN", "the run directory to write");
        import.SetAction(p =>
        {
            using var dir = new RunDirectory(p.GetValue(importOut)!);
            return Import(Path.GetFullPath(p.GetValue(source)!), dir, stdout, stderr);
        });

        var export = new Command("export", "a run's model as a directory Hugging Face's from_pretrained loads");
        var from = Opts.Required(export, "--from", "RUN", "a finished run directory (or a Hugging Face BART directory)");
        var exportOut = Opts.Required(export, "--out", "DIR", "the directory to write");
        export.SetAction(p => Export(Path.GetFullPath(p.GetValue(from)!), Path.GetFullPath(p.GetValue(exportOut)!), stdout, stderr));

        return new Command("hf", "Hugging Face BART directories in and out") { import, export };
    }

    private static int Import(string source, RunDirectory dir, TextWriter stdout, TextWriter stderr)
    {
        if (!BartDirectory.IsBartDirectory(source))
            throw new CliError($"{Path.Combine(source, ModelDirectory.ConfigFile)}:0: expected a Hugging Face BART directory (config.json with {BartDirectory.Safetensors} or {BartDirectory.PyTorchBin})");
        if (dir.Path == source) throw new CliError($"--out: {dir.Path} is the directory being imported; expected another one");
        dir.Open(new RunConfig { Stage = "hf-import", From = source, Preset = "inherited" });
        if (File.Exists(dir.FinalFile))
        {
            stderr.WriteLine($"already finished: {File.ReadAllText(dir.FinalFile).Trim()} ({dir.Path})");
            return 0;
        }
        // Everything is checked (config, tokenizer, every tensor) before a model file is written.
        var model = BartDirectory.Load(source, torch.CPU);
        ModelDirectory.CopyConfigAndTokenizer(source, dir.Path);
        ModelDirectory.SaveModel(dir.Path, model.Parameters, new Dictionary<string, string>());
        var result = new Dictionary<string, object> { ["stage"] = "hf-import", ["from"] = source, ["tensors"] = model.Parameters.Count };
        RunDirectory.WriteAtomically(dir.FinalFile, JsonSerializer.Serialize(result) + "\n");
        stdout.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    private static int Export(string from, string outDir, TextWriter stdout, TextWriter stderr)
    {
        if (outDir == from) throw new CliError($"--out: {outDir} is the directory being exported; expected another one");
        OutputPaths.Directory(outDir, "--out");
        var model = ModelSource.Open(from, torch.CPU);
        if (!model.LabelsStartWithBos)
            stderr.WriteLine("hf export: this model was trained with Masking's labels (… </s>, no <s> first); its config.json forces no token, so Hugging Face's generate decodes as Masking does");
        Directory.CreateDirectory(outDir);
        // The tokenizer first: a vocabulary with no faithful vocab.json is refused before anything else is written.
        ModelDirectory.ExportTokenizer(from, outDir, model.Config.MaxPositions);
        foreach (var name in new[] { ModelDirectory.ConfigFile, ModelDirectory.GenerationConfigFile })
            if (File.Exists(Path.Combine(from, name)))
                ModelDirectory.CopyFile(Path.Combine(from, name), Path.Combine(outDir, name));
        ModelDirectory.SaveModel(outDir, model.Parameters, new Dictionary<string, string>());
        var files = Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["from"] = from, ["out"] = outDir, ["tensors"] = model.Parameters.Count,
            ["parameters"] = model.Parameters.Sum(kv => kv.Value.numel()), ["files"] = files,
        }));
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"hf export: {files.Count} files in {outDir}"));
        return 0;
    }
}
