namespace Masking.Experiments.Tests;

/// <summary>Runs the <c>masking</c> command in-process and captures what it prints.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] argv)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = Program.Run(argv, stdout, stderr);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    public static string DataRoot
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("MASKING_DATA");
            if (!string.IsNullOrEmpty(env)) return env;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate)) return candidate;
            }
            throw new InvalidOperationException("no data directory: expected ../shared/data beside the repository, or MASKING_DATA");
        }
    }

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
