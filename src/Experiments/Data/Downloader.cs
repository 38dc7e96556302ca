using Spectre.Console;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Masking.Experiments.Data;

/// <summary>A download that could not be completed; the message is one line.</summary>
public sealed class DownloadError(string message) : Exception(message);

/// <summary>
/// Fetches files into the data root: resumable (bytes go to <c>FILE.part</c> and a retry asks for the rest
/// with a Range request), verified (SHA-256 against the manifest, or against the hash recorded at the first
/// download in <c>.masking-sha256</c> when the manifest has none), and atomic (renamed into place only when
/// verified). Progress: a live line on a terminal, a line per 10% otherwise.
/// </summary>
public sealed class Downloader(HttpClient http, TextWriter log, bool interactive, int attempts = 4)
{
    public const string ChecksumFile = ".masking-sha256";

    public enum Outcome { UpToDate, Downloaded }

    public async Task<Outcome> FetchAsync(DataFile file, string root, CancellationToken cancel = default)
    {
        var target = Path.Combine(root, file.Path);
        var part = target + ".part";
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var recorded = RecordedHashes(root);
        var expected = file.Sha256 ?? recorded.GetValueOrDefault(file.Path);

        if (File.Exists(target) && expected is not null && await HashAsync(target, cancel) == expected)
        {
            log.WriteLine($"{file.Path}: up to date");
            return Outcome.UpToDate;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await TransferAsync(file, part, cancel);
                break;
            }
            catch (Exception e) when (e is IOException or HttpRequestException && attempt < attempts)
            {
                log.WriteLine($"{file.Path}: interrupted ({Flatten(e)}); resuming, attempt {attempt + 1} of {attempts}");
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancel);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new DownloadError($"{file.Url}: download failed after {attempts} attempts ({Flatten(e)}); {part} keeps what arrived, run again to resume");
            }
        }

        var actual = await HashAsync(part, cancel);
        if (expected is not null && actual != expected)
        {
            File.Delete(part);
            throw new DownloadError($"{file.Url}: SHA-256 mismatch for {file.Path} (expected {expected}, got {actual}); the download was discarded");
        }
        if (expected is null)
        {
            File.AppendAllText(Path.Combine(root, ChecksumFile), $"{actual}  {file.Path}\n");
            log.WriteLine($"{file.Path}: no known SHA-256; recorded {actual} in {ChecksumFile} for later downloads to match");
        }
        File.Move(part, target, overwrite: true);
        log.WriteLine($"{file.Path}: downloaded and verified");
        return Outcome.Downloaded;
    }

    private async Task TransferAsync(DataFile file, string part, CancellationToken cancel)
    {
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);

        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0) return; // already complete
        if (!response.IsSuccessStatusCode)
            throw new DownloadError($"{file.Url}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}");

        var resumed = response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed) have = 0; // the server sent the whole file: start over
        long? total = response.Content.Headers.ContentLength is { } length ? length + have : null;

        await using var output = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write);
        await using var input = await response.Content.ReadAsStreamAsync(cancel);
        async Task Copy(Action<long> report)
        {
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await input.ReadAsync(buffer, cancel)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancel);
                have += read;
                report(have);
            }
        }

        if (interactive)
        {
            // Spectre.Console's download columns, drawn where the log goes (stderr), like training's live bar.
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(log) });
            await console.Progress().AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                    new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(file.Path, maxValue: total ?? 1);
                    task.IsIndeterminate = total is null;
                    task.Value = have;
                    await Copy(h => task.Value = h);
                    task.Value = total ?? 1;
                });
        }
        else
        {
            var lines = new Deciles(log, file.Path, total, have);
            await Copy(lines.Report);
        }
        if (total is { } t && have < t) throw new IOException($"the connection closed after {have} of {t} bytes");
    }

    private static Dictionary<string, string> RecordedHashes(string root)
    {
        var path = Path.Combine(root, ChecksumFile);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path)) return result;
        foreach (var line in File.ReadAllLines(path))
        {
            var parts = line.Split("  ", 2);
            if (parts.Length == 2) result[parts[1]] = parts[0];
        }
        return result;
    }

    public static async Task<string> HashAsync(string path, CancellationToken cancel = default)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexString(await SHA256.HashDataAsync(stream, cancel)).ToLowerInvariant();
    }

    private static string Flatten(Exception e) => (e.InnerException?.Message ?? e.Message).Split('\n')[0];

    /// <summary>A line per 10% when the output is not a terminal (a log file, CI).</summary>
    private sealed class Deciles(TextWriter log, string name, long? total, long start)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _lastDecile = total is { } t && t > 0 ? (int)(10 * start / t) : 0;

        public void Report(long have)
        {
            if (total is not { } t || t <= 0 || (int)(10 * have / t) <= _lastDecile) return;
            _lastDecile = (int)(10 * have / t);
            var rate = (have - start) / Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
            log.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{name} {(double)have / t,6:P1} {have / 1048576.0:F1}/{t / 1048576.0:F1} MiB {rate / 1048576.0:F1} MiB/s"));
        }
    }
}
