using System.CommandLine;
using Masking.Experiments.Cli;
using Masking.Facade;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking tokenizer train --input FILE --vocab-size N --out FILE</c>: learns a byte-level BPE vocabulary
/// (deterministic). <c>masking tokenizer encode --text TEXT [--tokenizer SPEC]</c> shows the tokens.
/// </summary>
public static class TokenizerCommand
{
    /// <summary>Larger vocabularies than GPT-2's are never meant, and the trainer's merge table grows with the size.</summary>
    public const int MaxVocabSize = 262_144;

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var train = new Command("train", "learn a byte-level BPE vocabulary from a text file (deterministic)");
        var input = Opts.Required(train, "--input", "FILE", "a text file to learn from");
        var size = Opts.Int("--vocab-size", 8000, "the vocabulary's size, specials and sentinels included", min: 261, max: MaxVocabSize);
        var sentinels = Opts.Int("--sentinels", 100, "sentinel tokens (<extra_id_N>) for span-replacing policies", min: 0, max: 10_000);
        var minFrequency = Opts.Int("--min-frequency", 2, "a pair must occur this often to be merged", min: 1);
        foreach (var o in new Option[] { size, sentinels, minFrequency }) train.Options.Add(o);
        var output = Opts.Required(train, "--out", "FILE", "where to write the vocabulary (JSON)");
        train.SetAction(p => Train(p.GetValue(input)!, p.GetValue(size), p.GetValue(sentinels), p.GetValue(minFrequency), p.GetValue(output)!, stderr));

        var encode = new Command("encode", "show a text's tokens: id, whether it starts a word, its text");
        var text = Opts.Required(encode, "--text", "TEXT", "the text to tokenize");
        var tokenizer = Opts.Text("--tokenizer", "gpt2|gpt2-files[:DIR]|bpe:FILE", "the tokenizer", "gpt2");
        encode.Options.Add(tokenizer);
        var data = CommonOptions.Data(encode);
        encode.SetAction(p => Encode(p.GetValue(text)!, p.GetValue(tokenizer), p.GetValue(data), stdout));

        return new Command("tokenizer", "train a byte-level BPE vocabulary, or show how a text is tokenized") { train, encode };
    }

    private static int Train(string input, int size, int sentinels, int minFrequency, string output, TextWriter stderr)
    {
        output = OutputPaths.File(output, "--out");
        // Below this the vocabulary would still hold every byte, and come out larger than asked for.
        var smallest = Masking.Tokenizers.ByteBpeModelModule.firstByteId(sentinels) + 256;
        if (size < smallest)
            throw new CliError($"--vocab-size expects at least {smallest} with --sentinels {sentinels} (the special tokens, the sentinels and the 256 bytes), got '{size}'");
        var t = TextTokenizer.TrainBpe(Inputs.Lines(input).Select(l => l + "\n"), size, sentinels, minFrequency);
        t.Save(output);
        stderr.WriteLine($"tokenizer train: {t.VocabSize} tokens written to {output}");
        return 0;
    }

    private static int Encode(string text, string? tokenizerSpec, string? dataOption, TextWriter stdout)
    {
        var tokenizer = Inputs.Tokenizer(tokenizerSpec, () => DataRoot.Resolve(dataOption));
        var e = tokenizer.Encode(text);
        for (var i = 0; i < e.Ids.Count; i++)
            stdout.WriteLine($"{e.Ids[i]}\t{(e.WordStarts[i] ? "word-start" : "")}\t{tokenizer.TokenText(e.Ids[i]).Replace("\n", "\\n")}");
        return 0;
    }
}
