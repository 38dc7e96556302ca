using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Masking.Experiments.Data;
using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>A small HTTP server on 127.0.0.1 that serves fixed files, can drop a connection midway, and
/// honours Range requests unless told not to. Bounded: it stops when disposed.</summary>
public sealed class LocalFileServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    public string Prefix { get; }
    public List<string> Requests { get; } = [];
    /// <summary>Paths whose first request is cut off after half the bytes.</summary>
    public HashSet<string> DropFirst { get; } = [];
    public bool HonourRange { get; set; } = true;

    public LocalFileServer(Dictionary<string, byte[]> files)
    {
        _files = files;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Prefix = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(Prefix);
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    private async Task Serve()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            var path = context.Request.Url!.AbsolutePath.TrimStart('/');
            var range = context.Request.Headers["Range"];
            lock (Requests) Requests.Add($"{path} {range}".Trim());
            var response = context.Response;
            if (!_files.TryGetValue(path, out var bytes))
            {
                response.StatusCode = 404;
                response.Close();
                continue;
            }
            long from = 0;
            if (HonourRange && range is not null && range.StartsWith("bytes="))
            {
                from = long.Parse(range["bytes=".Length..].TrimEnd('-'));
                response.StatusCode = 206;
                response.AddHeader("Content-Range", $"bytes {from}-{bytes.Length - 1}/{bytes.Length}");
            }
            response.ContentLength64 = bytes.Length - from;
            try
            {
                if (DropFirst.Remove(path))
                {
                    var half = (int)(bytes.Length - from) / 2;
                    await response.OutputStream.WriteAsync(bytes.AsMemory((int)from, half));
                    await response.OutputStream.FlushAsync();
                    response.Abort(); // the connection drops midway
                    continue;
                }
                await response.OutputStream.WriteAsync(bytes.AsMemory((int)from));
                response.Close();
            }
            catch (Exception) { response.Abort(); }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}

public class DownloadTests : IDisposable
{
    private static byte[] Content(int size, int seed) =>
        Enumerable.Range(0, size).Select(i => (byte)((i * 31 + seed * 7) % 251)).ToArray();

    private static string Sha(byte[] b) => Convert.ToHexString(SHA256.HashData(b)).ToLowerInvariant();

    private readonly byte[] _good = Content(300_000, 1);
    private readonly byte[] _drop = Content(500_000, 2);
    private readonly byte[] _corrupt = Content(10_000, 3);
    private readonly LocalFileServer _server;
    private readonly string _root = CliRunner.TempPath("");
    private readonly StringWriter _log = new();
    // A bound against a hang, not a speed check: generous enough for a machine under full load.
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(5) };

    public DownloadTests()
    {
        _server = new LocalFileServer(new() { ["good.txt"] = _good, ["drop.txt"] = _drop, ["corrupt.txt"] = _corrupt });
        Directory.CreateDirectory(_root);
    }

    public void Dispose()
    {
        _server.Dispose();
        _http.Dispose();
    }

    private Downloader NewDownloader() => new(_http, _log, interactive: false);

    [Fact]
    public async Task Downloads_verifies_and_then_skips_an_up_to_date_file()
    {
        var file = new DataFile(_server.Prefix + "good.txt", "sub/good.txt", Sha(_good));
        Assert.Equal(Data.Downloader.Outcome.Downloaded, await NewDownloader().FetchAsync(file, _root));
        Assert.Equal(_good, File.ReadAllBytes(Path.Combine(_root, "sub/good.txt")));
        Assert.False(File.Exists(Path.Combine(_root, "sub/good.txt.part")));
        Assert.Equal(Data.Downloader.Outcome.UpToDate, await NewDownloader().FetchAsync(file, _root));
        // Progress lines (a line per 10% when the log is no terminal).
        Assert.Matches(@"sub/good\.txt +\d+\.\d %.*MiB/s", _log.ToString());
    }

    [Fact]
    public async Task On_a_terminal_the_download_runs_under_Spectre_progress_and_resumes_the_same()
    {
        _server.DropFirst.Add("drop.txt");
        var file = new DataFile(_server.Prefix + "drop.txt", "live/drop.txt", Sha(_drop));
        Assert.Equal(Data.Downloader.Outcome.Downloaded, await new Downloader(_http, _log, interactive: true).FetchAsync(file, _root));
        Assert.Equal(_drop, File.ReadAllBytes(Path.Combine(_root, "live/drop.txt")));
        Assert.Contains("live/drop.txt", _log.ToString()); // the progress task's description
        Assert.Contains("live/drop.txt: downloaded and verified", _log.ToString());
    }

    [Fact]
    public async Task A_corrupted_file_is_rejected_and_nothing_is_left_in_place()
    {
        var file = new DataFile(_server.Prefix + "corrupt.txt", "corrupt.txt", Sha(Encoding.UTF8.GetBytes("what it should have been")));
        var e = await Assert.ThrowsAsync<DownloadError>(() => NewDownloader().FetchAsync(file, _root));
        Assert.Contains("SHA-256 mismatch for corrupt.txt", e.Message);
        Assert.False(File.Exists(Path.Combine(_root, "corrupt.txt")));
        Assert.False(File.Exists(Path.Combine(_root, "corrupt.txt.part")));
    }

    [Fact]
    public async Task A_dropped_connection_resumes_with_a_range_request()
    {
        _server.DropFirst.Add("drop.txt");
        var file = new DataFile(_server.Prefix + "drop.txt", "drop.txt", Sha(_drop));
        Assert.Equal(Data.Downloader.Outcome.Downloaded, await NewDownloader().FetchAsync(file, _root));
        Assert.Equal(_drop, File.ReadAllBytes(Path.Combine(_root, "drop.txt")));
        lock (_server.Requests)
        {
            Assert.Equal("drop.txt", _server.Requests[0]);
            Assert.Matches(@"^drop\.txt bytes=\d+-$", _server.Requests[1]);
        }
        Assert.Contains("interrupted", _log.ToString());
    }

    [Fact]
    public async Task A_partial_file_from_an_earlier_run_is_resumed()
    {
        File.WriteAllBytes(Path.Combine(_root, "good.txt.part"), _good[..100_000]);
        var file = new DataFile(_server.Prefix + "good.txt", "good.txt", Sha(_good));
        await NewDownloader().FetchAsync(file, _root);
        Assert.Equal(_good, File.ReadAllBytes(Path.Combine(_root, "good.txt")));
        lock (_server.Requests) Assert.Equal("good.txt bytes=100000-", _server.Requests.Single());
    }

    [Fact]
    public async Task A_server_without_range_support_restarts_from_zero()
    {
        _server.HonourRange = false;
        File.WriteAllBytes(Path.Combine(_root, "good.txt.part"), Content(100_000, 9)); // wrong bytes, must be discarded
        var file = new DataFile(_server.Prefix + "good.txt", "good.txt", Sha(_good));
        await NewDownloader().FetchAsync(file, _root);
        Assert.Equal(_good, File.ReadAllBytes(Path.Combine(_root, "good.txt")));
    }

    [Fact]
    public async Task Without_a_known_hash_the_first_download_records_one_that_later_downloads_must_match()
    {
        var file = new DataFile(_server.Prefix + "good.txt", "good.txt", null);
        await NewDownloader().FetchAsync(file, _root);
        Assert.Contains($"{Sha(_good)}  good.txt", File.ReadAllText(Path.Combine(_root, Data.Downloader.ChecksumFile)));
        Assert.Equal(Data.Downloader.Outcome.UpToDate, await NewDownloader().FetchAsync(file, _root));
        // The recorded hash now guards the file: a server that changes it is caught.
        File.Delete(Path.Combine(_root, "good.txt"));
        var changed = new DataFile(_server.Prefix + "corrupt.txt", "good.txt", null);
        await Assert.ThrowsAsync<DownloadError>(() => NewDownloader().FetchAsync(changed, _root));
    }

    [Fact]
    public void The_command_downloads_a_manifest_task_and_reports_failures_in_one_line()
    {
        var manifest = CliRunner.TempFile($$"""
            {"demo": [{"url": "{{_server.Prefix}}good.txt", "path": "demo/good.txt", "sha256": "{{Sha(_good)}}"}],
             "broken": [{"url": "{{_server.Prefix}}corrupt.txt", "path": "demo/corrupt.txt", "sha256": "{{Sha(_good)}}"}],
             "missing": [{"url": "{{_server.Prefix}}nope.txt", "path": "demo/nope.txt", "sha256": null}]}
            """, ".json");
        var ok = CliRunner.Run("data", "download", "demo", "--data", _root, "--manifest", manifest);
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(_good, File.ReadAllBytes(Path.Combine(_root, "demo/good.txt")));
        var bad = CliRunner.Run("data", "download", "broken", "--data", _root, "--manifest", manifest);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("SHA-256 mismatch", bad.Stderr.Split('\n').Last(l => l.Length > 0));
        var gone = CliRunner.Run("data", "download", "missing", "--data", _root, "--manifest", manifest);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("answered 404", gone.Stderr);
        var unknown = CliRunner.Run("data", "download", "nosuchtask", "--data", _root, "--manifest", manifest);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no files known for 'nosuchtask'", unknown.Stderr);
    }

    [Fact]
    public void The_built_in_manifest_covers_every_paper_task()
    {
        foreach (var task in Masking.Tasks.Registry.paper)
            Assert.True(DataManifest.BuiltIn.ContainsKey(task.Name), task.Name);
    }
}
