using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>Runs the <c>masking</c> command in-process and captures what it prints.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Bad input's contract: exit code 2 and one line on stderr holding <paramref name="expected"/>, never a
    /// stack trace.</summary>
    public static void AssertOneLineError(Result r, string expected)
    {
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    public static Result Run(params string[] argv)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = Masking.Experiments.Cli.CommandLine.Run(argv, stdout, stderr);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// The full datasets, when this machine has them: MASKING_DATA, else a <c>shared/data</c> folder above the test
    /// binaries (a clone beside ../shared); null otherwise.
    /// </summary>
    public static readonly string? DataRootFound = FindDataRoot();

    public const string NoDataRoot = "no data root: set MASKING_DATA, or place the datasets in ../shared/data beside the repository";

    private static string? FindDataRoot()
    {
        var env = Environment.GetEnvironmentVariable("MASKING_DATA");
        if (!string.IsNullOrEmpty(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    public static string DataRoot => DataRootFound ?? throw new InvalidOperationException(NoDataRoot);

    /// <summary>The repository root (where Masking.sln is).</summary>
    public static string RepoRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Masking.sln"))) return d.FullName;
            throw new InvalidOperationException("Masking.sln not found above the test binaries");
        }
    }

    /// <summary>Small excerpts of every format, laid out as the data root is (tests/fixtures/data).</summary>
    public static string FixtureRoot => Path.Combine(RepoRoot, "tests", "fixtures", "data");

    private static readonly Lazy<string> TempDirectory = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("masking-tests-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(dir, recursive: true);
        return dir;
    });

    /// <summary>A fresh path in this test run's scratch folder, removed when the run ends.</summary>
    public static string TempPath(string extension) => Path.Combine(TempDirectory.Value, $"{Guid.NewGuid():N}{extension}");

    public static string TempFile(string content, string extension = ".txt")
    {
        var path = TempPath(extension);
        File.WriteAllText(path, content);
        return path;
    }
}

/// <summary>A test of the full datasets: skipped, with the reason, on a machine without them.</summary>
public sealed class DataFactAttribute : FactAttribute
{
    public DataFactAttribute()
    {
        if (CliRunner.DataRootFound is null) Skip = CliRunner.NoDataRoot;
    }
}

/// <summary>A theory over the full datasets: skipped, with the reason, on a machine without them.</summary>
public sealed class DataTheoryAttribute : TheoryAttribute
{
    public DataTheoryAttribute()
    {
        if (CliRunner.DataRootFound is null) Skip = CliRunner.NoDataRoot;
    }
}

/// <summary>
/// A theory that needs Debian's PyTorch (<c>/usr/bin/python3</c> with torch and numpy: python3-torch, which
/// test.sh installs when it runs as root): skipped, with the reason, where it is missing.
/// </summary>
public sealed class PythonTorchTheoryAttribute : TheoryAttribute
{
    internal static readonly Lazy<bool> Available = new(() =>
    {
        try
        {
            var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-c", "import torch, numpy"])
            { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public PythonTorchTheoryAttribute()
    {
        if (!Available.Value) Skip = "no PyTorch reference: /usr/bin/python3 cannot import torch and numpy (apt-get install python3-torch; bash test.sh does it as root)";
    }
}

/// <summary>A fact that needs Debian's PyTorch: skipped, with the reason, where it is missing.</summary>
public sealed class PythonTorchFactAttribute : FactAttribute
{
    public PythonTorchFactAttribute()
    {
        if (!PythonTorchTheoryAttribute.Available.Value)
            Skip = "no PyTorch reference: /usr/bin/python3 cannot import torch and numpy (apt-get install python3-torch; bash test.sh does it as root)";
    }
}
