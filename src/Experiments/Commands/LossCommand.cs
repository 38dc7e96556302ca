using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Experiments.HuggingFace;
using Masking.Experiments.Training;
using Masking.Model;
using Microsoft.FSharp.Core;
using TorchSharp;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking loss --from RUN|HF_DIR --input FILE</c> (JSONL with "source" and "target"): each example's mean
/// cross-entropy over its label tokens, without label smoothing, as Hugging Face's BART computes its loss from
/// <c>labels</c> — how someone checks that a loaded model is the model they meant.
/// </summary>
public static class LossCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("loss", "each JSONL {source, target}'s mean cross-entropy over its label tokens");
        var from = Opts.Required(command, "--from", "RUN|HF_DIR", "a run directory or a Hugging Face BART directory");
        var input = Opts.Required(command, "--input", "FILE", "JSONL with \"source\" and \"target\" fields");
        var compute = CommonOptions.Compute.AddTo(command);
        command.SetAction(p => Run(p.GetValue(from)!, p.GetValue(input)!, compute.Read(p, stderr), stdout));
        return command;
    }

    private static int Run(string from, string input, StageEnvironment env, TextWriter stdout)
    {
        var model = ModelSource.Open(from, env.Device);
        var records = GenerateCommand.ReadRecords(input, needTarget: true);
        using var _ = torch.no_grad();
        foreach (var (source, target) in records)
        {
            using var scope = torch.NewDisposeScope();
            using var batch = Batch.Create([new SequencePair(model.Source(source), model.Labels(target))], model.Specials.Pad, model.Config.DecoderStartId, env.Device);
            var logits = Seq2Seq.forward(model.Config, model.Parameters, Dropout.Off, batch.Source, batch.DecoderInput);
            var loss = Loss.labelSmoothed(0.0, model.Specials.Pad, logits, batch.Target, FSharpOption<torch.Tensor>.None).item<float>();
            stdout.WriteLine(JsonSerializer.Serialize(new { source, target, loss = (double)loss }, Json));
        }
        return 0;
    }
}
