using Masking.Tokenizers;

namespace Masking.Facade;

/// <summary>A tokenized text: ids, which tokens start a word, and each token's character range.</summary>
public sealed record TokenizedText(IReadOnlyList<int> Ids, IReadOnlyList<bool> WordStarts, IReadOnlyList<TokenSpan> Offsets);

/// <summary>The tokenizers policies run on: GPT-2/BART byte-level BPE, or a small BPE learned from a corpus.</summary>
public sealed class TextTokenizer
{
    internal ITokenizer Inner { get; }

    private TextTokenizer(ITokenizer inner) => Inner = inner;

    /// <summary>GPT-2 BPE from the data package shipped with Microsoft.ML.Tokenizers.</summary>
    public static TextTokenizer Gpt2() => new(Gpt2Tokenizer.Embedded());

    /// <summary>GPT-2 BPE from a folder with encoder.json and vocab.bpe.</summary>
    /// <exception cref="ArgumentException">The files are missing or malformed.</exception>
    public static TextTokenizer Gpt2FromFiles(string directory)
    {
        var r = Gpt2Tokenizer.FromFiles(directory);
        return r.IsOk ? new TextTokenizer(r.ResultValue) : throw new ArgumentException(r.ErrorValue);
    }

    /// <summary>Learns a byte-level BPE vocabulary of the given size (deterministic).</summary>
    public static TextTokenizer TrainBpe(IEnumerable<string> texts, int vocabSize, int sentinels = 100, int minFrequency = 2) =>
        new(new ByteBpeTokenizer(ByteBpeTrainer.train(texts, vocabSize, sentinels, minFrequency)));

    /// <summary>Loads a vocabulary written by <see cref="Save"/>.</summary>
    /// <exception cref="ArgumentException">The file is missing or malformed (the message names file and line).</exception>
    public static TextTokenizer LoadBpe(string path)
    {
        var r = ByteBpeModelModule.load(path);
        return r.IsOk ? new TextTokenizer(new ByteBpeTokenizer(r.ResultValue)) : throw new ArgumentException(r.ErrorValue);
    }

    /// <summary>Writes a learned vocabulary (atomically); only learned BPE vocabularies can be saved.</summary>
    public void Save(string path)
    {
        if (Inner is not ByteBpeTokenizer bpe) throw new InvalidOperationException($"{Inner.Name} is not a learned vocabulary");
        ByteBpeModelModule.save(path, bpe.Model);
    }

    public string Name => Inner.Name;
    public int VocabSize => Inner.Specials.VocabSize;
    public int MaskId => Inner.Specials.Mask;
    public int PadId => Inner.Specials.Pad;
    public IReadOnlyList<int> SentinelIds => Inner.Specials.Sentinels;
    public bool IsSpecial(int id) => Inner.Specials.IsSpecialId(id);

    public TokenizedText Encode(string text)
    {
        var e = Inner.Encode(text);
        return new TokenizedText(e.Ids, e.WordStarts, e.Offsets.Select(o => new TokenSpan(o.Start, o.End)).ToArray());
    }

    /// <summary>Decodes ids to text; special tokens render by name (<c>&lt;mask&gt;</c>).</summary>
    public string Decode(IReadOnlyList<int> ids) => Inner.Decode(ids as int[] ?? ids.ToArray());

    public string TokenText(int id) => Inner.TokenText(id);
}
