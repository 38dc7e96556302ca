namespace Masking.Experiments.Cli;

/// <summary>
/// Where the datasets live: <c>--data DIR</c>, else <c>MASKING_DATA</c>, else the first <c>shared/data</c>
/// found walking up from the working directory (the development layout keeps the repository beside shared/).
/// </summary>
public static class DataRoot
{
    public static string Resolve(string? option)
    {
        var explicitRoot = option ?? Environment.GetEnvironmentVariable("MASKING_DATA");
        if (!string.IsNullOrEmpty(explicitRoot))
            return Directory.Exists(explicitRoot)
                ? Path.GetFullPath(explicitRoot)
                : throw new CliError($"{explicitRoot}:0: expected a data directory (from --data or MASKING_DATA)");
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new CliError("no data directory: pass --data DIR or set MASKING_DATA (expected ../shared/data beside the repository)");
    }
}
