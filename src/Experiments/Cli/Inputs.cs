using System.Text;
using Masking.Facade;

namespace Masking.Experiments.Cli;

/// <summary>Reading user files and choosing tokenizers, with errors that name the file and line.</summary>
public static class Inputs
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The lines of a UTF-8 text file; invalid bytes are an error naming the line.</summary>
    public static IEnumerable<string> Lines(string path)
    {
        if (!File.Exists(path)) throw new CliError($"{path}:0: expected a readable text file");
        using var reader = new StreamReader(path, StrictUtf8, detectEncodingFromByteOrderMarks: true);
        var lineNumber = 0;
        while (true)
        {
            string? line;
            try { line = reader.ReadLine(); }
            catch (DecoderFallbackException) { throw new CliError($"{path}:{lineNumber + 1}: expected UTF-8 text"); }
            if (line is null) yield break;
            lineNumber++;
            if (line.Contains('\0')) throw new CliError($"{path}:{lineNumber}: expected text, found a NUL byte (binary file?)");
            yield return line;
        }
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
