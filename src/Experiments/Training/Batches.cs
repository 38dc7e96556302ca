using Masking;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>One training pair in token ids: the encoder input and the decoder target (both ending in &lt;/s&gt;).</summary>
public readonly record struct SequencePair(int[] Source, int[] Target);

/// <summary>A padded batch: source [B, S], decoder input [B, T] (target shifted right after the start token) and target [B, T].</summary>
public sealed class Batch(torch.Tensor source, torch.Tensor decoderInput, torch.Tensor target, int targetTokens) : IDisposable
{
    public torch.Tensor Source { get; } = source;
    public torch.Tensor DecoderInput { get; } = decoderInput;
    public torch.Tensor Target { get; } = target;
    public int TargetTokens { get; } = targetTokens;

    public static Batch Create(IReadOnlyList<SequencePair> pairs, int padId, int decoderStartId, torch.Device device)
    {
        var s = pairs.Max(p => p.Source.Length);
        var t = pairs.Max(p => p.Target.Length);
        var source = new long[pairs.Count * s];
        var input = new long[pairs.Count * t];
        var target = new long[pairs.Count * t];
        Array.Fill(source, padId);
        Array.Fill(input, padId);
        Array.Fill(target, padId);
        var tokens = 0;
        for (var i = 0; i < pairs.Count; i++)
        {
            var (src, tgt) = pairs[i];
            for (var j = 0; j < src.Length; j++) source[i * s + j] = src[j];
            for (var j = 0; j < tgt.Length; j++)
            {
                target[i * t + j] = tgt[j];
                input[i * t + j] = j == 0 ? decoderStartId : tgt[j - 1];
            }
            tokens += tgt.Length;
        }
        return new Batch(
            torch.tensor(source, [pairs.Count, s], torch.int64, device),
            torch.tensor(input, [pairs.Count, t], torch.int64, device),
            torch.tensor(target, [pairs.Count, t], torch.int64, device),
            tokens);
    }

    public void Dispose()
    {
        Source.Dispose();
        DecoderInput.Dispose();
        Target.Dispose();
    }
}

/// <summary>
/// The batches of an epoch, a pure function of (seed, epoch): examples are shuffled, sorted by length within
/// windows of 50 batches (so padding stays small), cut into batches, and the batches shuffled again.
/// </summary>
public static class EpochPlan
{
    public static IReadOnlyList<int[]> Batches(int count, Func<int, int> length, int batchSize, ulong seed, int epoch)
    {
        var rng = new Rng(Seeds.derive(seed, epoch, -1));
        var order = Enumerable.Range(0, count).ToArray();
        rng.Shuffle(order);
        var batches = new List<int[]>();
        var window = batchSize * 50;
        for (var start = 0; start < order.Length; start += window)
        {
            var chunk = order.Skip(start).Take(window).OrderBy(length).ThenBy(i => i).ToArray();
            for (var b = 0; b < chunk.Length; b += batchSize) batches.Add(chunk.Skip(b).Take(batchSize).ToArray());
        }
        var shuffled = batches.ToArray();
        rng.Shuffle(shuffled);
        return shuffled;
    }
}
