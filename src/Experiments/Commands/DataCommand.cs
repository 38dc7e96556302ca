using System.CommandLine;
using Masking.Experiments.Cli;
using Masking.Experiments.Data;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking data download TASK|all --data DIR [--manifest FILE]</c> fetches a task's files (resumable,
/// SHA-256-checked); <c>masking data list [--data DIR]</c> shows which files are present.
/// </summary>
public static class DataCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var list = new Command("list", "which task files are present under the data root");
        var (listManifest, listData) = (Manifest(list), CommonOptions.Data(list));
        list.SetAction(p => List(Load(p.GetValue(listManifest)), p.GetValue(listData), stdout));

        var download = new Command("download", "fetch a task's files (resumable, SHA-256-checked)");
        var task = new Argument<string>("TASK") { Description = "a task name, or all" };
        download.Arguments.Add(task);
        var (manifest, data) = (Manifest(download), CommonOptions.Data(download));
        var timeout = Opts.Double("--timeout", 60, "seconds before a stalled request is given up", min: 1);
        download.Options.Add(timeout);
        download.SetAction(p => Download(Load(p.GetValue(manifest)), p.GetValue(task)!, p.GetValue(data), p.GetValue(timeout), stderr));

        return new Command("data", "the task datasets: download them, list them") { download, list };
    }

    private static Option<string> Manifest(Command command)
    {
        var option = Opts.Text("--manifest", "FILE", "the files to fetch, with URLs and SHA-256 (default: the built-in list)");
        command.Options.Add(option);
        return option;
    }

    private static IReadOnlyDictionary<string, IReadOnlyList<DataFile>> Load(string? manifestPath) =>
        manifestPath is null ? DataManifest.BuiltIn : DataManifest.Load(manifestPath);

    private static int List(IReadOnlyDictionary<string, IReadOnlyList<DataFile>> manifest, string? dataOption, TextWriter stdout)
    {
        var root = DataRoot.Resolve(dataOption);
        foreach (var (task, files) in manifest.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        foreach (var f in files)
            stdout.WriteLine($"{task}\t{(File.Exists(Path.Combine(root, f.Path)) ? "present" : "missing")}\t{f.Path}\t{f.Url}");
        return 0;
    }

    private static int Download(IReadOnlyDictionary<string, IReadOnlyList<DataFile>> manifest, string task, string? dataOption,
        double timeout, TextWriter stderr)
    {
        // Downloads write: the data root must be given, never guessed (../shared/data is read-only).
        var root = dataOption ?? Environment.GetEnvironmentVariable("MASKING_DATA")
            ?? throw new CliError("data download: pass --data DIR (or set MASKING_DATA) to say where files go");
        root = OutputPaths.Directory(root, "--data");
        var tasks = task == "all" ? manifest.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList() : [task];
        foreach (var t in tasks)
            if (!manifest.ContainsKey(t))
                throw new CliError($"data download: no files known for '{t}'; known: {string.Join(", ", manifest.Keys.Order())}");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(timeout) };
        var downloader = new Downloader(http, stderr, interactive: !Console.IsErrorRedirected);
        try
        {
            foreach (var t in tasks)
            foreach (var f in manifest[t])
                downloader.FetchAsync(f, root).GetAwaiter().GetResult();
        }
        catch (DownloadError e)
        {
            stderr.WriteLine($"masking: {e.Message}");
            return 1;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliError($"{root}:0: cannot write there ({e.Message})");
        }
        return 0;
    }
}
