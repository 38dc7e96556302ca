using Masking.Experiments.Cli;
using Masking.Facade;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking tokenizer train --input FILE --vocab-size N --out FILE</c>: learns a byte-level BPE vocabulary
/// (deterministic). <c>masking tokenizer encode --text TEXT [--tokenizer SPEC]</c> shows the tokens.
/// </summary>
public static class TokenizerCommand
{
    public static int Run(Args args, TextWriter stdout, TextWriter stderr)
    {
        var verb = args.Positional.Count > 1 ? args.Positional[1] : throw new CliError("tokenizer: expected `train` or `encode`");
        switch (verb)
        {
            case "train":
            {
                var input = args.Required("input", "a text file to learn from");
                var size = args.Int("vocab-size", 8000, min: 261);
                var sentinels = args.Int("sentinels", 100, min: 0);
                var minFrequency = args.Int("min-frequency", 2, min: 1);
                var output = args.Required("out", "where to write the vocabulary (JSON)");
                args.EnsureAllUsed("tokenizer train");
                var t = TextTokenizer.TrainBpe(Inputs.Lines(input).Select(l => l + "\n"), size, sentinels, minFrequency);
                t.Save(output);
                stderr.WriteLine($"tokenizer train: {t.VocabSize} tokens written to {output}");
                return 0;
            }
            case "encode":
            {
                var text = args.Required("text", "the text to tokenize");
                var dataOption = args.Optional("data");
                var tokenizer = Inputs.Tokenizer(args.Optional("tokenizer"), () => DataRoot.Resolve(dataOption));
                args.EnsureAllUsed("tokenizer encode");
                var e = tokenizer.Encode(text);
                for (var i = 0; i < e.Ids.Count; i++)
                    stdout.WriteLine($"{e.Ids[i]}\t{(e.WordStarts[i] ? "word-start" : "")}\t{tokenizer.TokenText(e.Ids[i]).Replace("\n", "\\n")}");
                return 0;
            }
            default:
                throw new CliError($"tokenizer: unknown verb '{verb}'; known: train, encode");
        }
    }
}
