using System.Text;
using Masking.Facade;

namespace Masking.Experiments.Cli;

/// <summary>Reading user files and choosing tokenizers, with errors that name the file and line.</summary>
public static class Inputs
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>One example a line: a line longer than this is not text meant for these commands (or is
    /// /dev/zero), and is refused before it fills memory.</summary>
    public const int MaxLineBytes = 1 << 20;

    /// <summary>The lines of a UTF-8 text file; invalid bytes are an error naming the line.</summary>
    public static IEnumerable<string> Lines(string path)
    {
        if (!File.Exists(path)) throw new CliError($"{path}:0: expected a readable text file");
        using var stream = new BufferedStream(File.OpenRead(path), 1 << 16);
        var line = new MemoryStream();
        var lineNumber = 0;
        var atStart = true;
        while (true)
        {
            var b = stream.ReadByte();
            if (b == '\n' || (b < 0 && line.Length > 0))
            {
                lineNumber++;
                yield return Decode(path, lineNumber, line, atStart);
                atStart = false;
                line.SetLength(0);
            }
            else if (b >= 0)
            {
                if (line.Length == MaxLineBytes)
                    throw new CliError($"{path}:{lineNumber + 1}: expected lines of at most {MaxLineBytes >> 20} MiB (one example a line)");
                line.WriteByte((byte)b);
            }
            if (b < 0) yield break;
        }
    }

    private static string Decode(string path, int lineNumber, MemoryStream bytes, bool first)
    {
        var span = bytes.GetBuffer().AsSpan(0, (int)bytes.Length);
        if (first && span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
        if (span.Length > 0 && span[^1] == '\r') span = span[..^1];
        if (span.IndexOf((byte)0) >= 0) throw new CliError($"{path}:{lineNumber}: expected text, found a NUL byte (binary file?)");
        try { return StrictUtf8.GetString(span); }
        catch (DecoderFallbackException) { throw new CliError($"{path}:{lineNumber}: expected UTF-8 text"); }
    }

    /// <summary><c>gpt2</c> (embedded), <c>gpt2-files[:DIR]</c> (encoder.json + vocab.bpe) or <c>bpe:FILE</c>.</summary>
    public static TextTokenizer Tokenizer(string? spec, Func<string> dataRoot)
    {
        spec ??= "gpt2";
        try
        {
            if (spec == "gpt2") return TextTokenizer.Gpt2();
            if (spec == "gpt2-files") return TextTokenizer.Gpt2FromFiles(Path.Combine(dataRoot(), "gpt2_bpe"));
            if (spec.StartsWith("gpt2-files:", StringComparison.Ordinal)) return TextTokenizer.Gpt2FromFiles(spec["gpt2-files:".Length..]);
            if (spec.StartsWith("bpe:", StringComparison.Ordinal))
            {
                var path = spec["bpe:".Length..];
                if (!File.Exists(path)) throw new CliError($"{path}:0: expected a vocabulary written by `masking tokenizer train`");
                return TextTokenizer.LoadBpe(path);
            }
        }
        catch (ArgumentException e) { throw new CliError(e.Message); }
        throw new CliError($"--tokenizer: unknown tokenizer '{spec}'; known: gpt2, gpt2-files[:DIR], bpe:FILE");
    }
}
