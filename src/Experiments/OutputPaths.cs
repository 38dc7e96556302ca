namespace Masking.Experiments;

/// <summary>
/// Where a command writes, checked before any work starts: a directory must be a directory (or creatable) and
/// writable, a file's name must not be a directory. Every command that writes goes through here, so an output
/// that cannot be used is one line naming it, never a stack trace after minutes of work or a stray .tmp file.
/// </summary>
public static class OutputPaths
{
    /// <summary>A directory to write into: created when missing. Returns its full path.</summary>
    public static string Directory(string path, string option)
    {
        var full = Path.GetFullPath(path);
        if (System.IO.File.Exists(full)) throw new InputError($"{full}:0: {option}: expected a directory to write into, found a file");
        try
        {
            System.IO.Directory.CreateDirectory(full);
            // Permissions, a read-only mount, /proc: only writing tells.
            using (System.IO.File.Create(Path.Combine(full, $".masking-write-check-{Environment.ProcessId}"), 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputError($"{full}:0: {option}: expected a directory this process can write to ({e.Message})");
        }
        return full;
    }

    /// <summary>A file to write (through a temporary name beside it): its directory is checked as above.</summary>
    public static string File(string path, string option)
    {
        var full = Path.GetFullPath(path);
        if (System.IO.Directory.Exists(full)) throw new InputError($"{full}:0: {option}: expected a file name, found a directory");
        Directory(Path.GetDirectoryName(full)!, option);
        return full;
    }
}
