using Masking.Experiments.Cli;
using Masking.Experiments.Data;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking data download TASK|all --data DIR [--manifest FILE]</c> fetches a task's files (resumable,
/// SHA-256-checked); <c>masking data list [--data DIR]</c> shows which files are present.
/// </summary>
public static class DataCommand
{
    public static int Run(Args args, TextWriter stdout, TextWriter stderr)
    {
        var verb = args.Positional.Count > 1 ? args.Positional[1] : throw new CliError("data: expected `download TASK` or `list`");
        var manifestPath = args.Optional("manifest");
        var dataOption = args.Optional("data");
        var manifest = manifestPath is null ? DataManifest.BuiltIn : DataManifest.Load(manifestPath);

        switch (verb)
        {
            case "list":
            {
                args.EnsureAllUsed("data list");
                var root = DataRoot.Resolve(dataOption);
                foreach (var (task, files) in manifest.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                foreach (var f in files)
                    stdout.WriteLine($"{task}\t{(File.Exists(Path.Combine(root, f.Path)) ? "present" : "missing")}\t{f.Path}\t{f.Url}");
                return 0;
            }
            case "download":
            {
                var task = args.Positional.Count > 2 ? args.Positional[2] : throw new CliError("data download: expected a task name or `all`");
                var timeout = args.Double("timeout", 60, min: 1);
                args.EnsureAllUsed("data download");
                // Downloads write: the data root must be given, never guessed (../shared/data is read-only).
                var root = dataOption ?? Environment.GetEnvironmentVariable("MASKING_DATA")
                    ?? throw new CliError("data download: pass --data DIR (or set MASKING_DATA) to say where files go");
                Directory.CreateDirectory(root);
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
            default:
                throw new CliError($"data: unknown verb '{verb}'; known: download, list");
        }
    }
}
