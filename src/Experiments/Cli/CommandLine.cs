using Masking.Experiments.Commands;

namespace Masking.Experiments.Cli;

/// <summary>The command line: the usage text, and each command run with bad input turned into exit code 2 and one line.</summary>
public static class CommandLine
{
    private const string Usage =
        "usage: masking <command> [options]\n" +
        "  policies                                  list policies, knobs and defaults\n" +
        "  mask --policy SPEC --input FILE [--seed N] [--epoch E] [--tokenizer gpt2|gpt2-files[:DIR]|bpe:FILE]\n" +
        "       [--annotator ner|rules] [--scorer LEARN_POLICY_RUN]\n" +
        "  score --task TASK --gold FILE --pred FILE    the task's metrics over KILT-format JSONL\n" +
        "  world [--seed N] [--people N] [--paraphrases N] --out DIR    write the generated world\n" +
        "  data download TASK|all --data DIR [--manifest FILE] | data list   fetch task files (resumable, SHA-256)\n" +
        "  pretrain --out DIR [--preset micro|tiny|small|bart-base] [--corpus world-background|FILE] [--steps N] [--policy orig]\n" +
        "           [--vocab-size 4000] [--pre-norm] [--dropout P]\n" +
        "  intermediate --from RUN|HF_DIR --policy SPEC --out DIR [--corpus world-target|FILE] [--steps N]\n" +
        "  finetune --from RUN|HF_DIR --task TASK --out DIR [--steps N] [--eval-every N] [--patience N]\n" +
        "           [--choice rank|generate] [--choice-normalisation mean|sum]   (questions with options)\n" +
        "  evaluate --from RUN [--split test] [--beam 4] [--out DIR] [--max-examples N]\n" +
        "           (--from HF_DIR --task TASK [--max-source-length N] [--max-target-length N]: a model that is not a finetune run)\n" +
        "  hf import HF_DIR --out RUN | hf export --from RUN --out DIR   Hugging Face BART directories in and out\n" +
        "  generate --from RUN|HF_DIR --input FILE [--beam N] [--max-length N | --max-new-tokens N] [--min-length N]\n" +
        "           [--length-penalty X] [--no-repeat-ngram-size N] [--early-stopping true|false] [--batch-size 16] [--no-cache]\n" +
        "           one JSON line per input: {source, prediction, ids} (Hugging Face's generate semantics)\n" +
        "  loss --from RUN|HF_DIR --input FILE     each JSONL {source, target}'s mean cross-entropy over its label tokens\n" +
        "  learn-policy --kind supervised|meta --task TASK --from RUN|HF_DIR --out DIR [--steps N] [--init SCORER_RUN]\n" +
        "    [--encoder lm|scratch (the language model's encoder, embeddings frozen, or a small new one)] [--train-embeddings]\n" +
        "    (then: intermediate --policy scored --scorer DIR ...; meta: --inner-lr --inner-steps --budget --meta-gradient exact|first-order --train-lm-along)\n" +
        "    (training options: --seed --batch-size --lr --warmup --clip --device cpu|cuda --threads N)\n" +
        "  bench mask --policy SPEC [--input FILE] [--seq-len 128] [--seconds 3] [--warmup 1]\n" +
        "  bench train [--preset tiny] [--threads N] [--seconds 10] [--peak] [--memory-steps 1000] [--warmup-steps 3]\n" +
        "  bench generate [--preset tiny] [--beam 4] [--batch-size 16] [--source-length 64] [--max-length 32] [--no-cache]\n" +
        "  tokenizer train --input FILE --vocab-size N --out FILE | tokenizer encode --text TEXT\n" +
        "  tag train --kind pos|ner | tag eval --kind pos|ner --data FILE | tag annotate --input FILE --out FILE\n" +
        "    (tag train: [--iterations N] [--ensemble K (perceptrons averaged; ner 6)] [--seed S] [--no-clusters] [--out FILE])\n" +
        "  run --preset demo|smoke|paper [--out runs/NAME] [--parallel N] [--threads N]   = grid --config configs/NAME.json\n" +
        "  grid --config FILE [--out DIR] [--backend local|slurm] [--dry-run] [--parallel N] [--threads N] [--init HF_DIR]\n" +
        "       every cell (arm × task × seed) and the report; grid cell --config F --out DIR --cell ID; grid report --out DIR\n" +
        "options common to all: --data DIR (or MASKING_DATA) for the datasets";

    /// <summary>Runs one command; bad input gives exit code 2 and one line on stderr.</summary>
    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var args = new Args(argv);
            var command = args.Positional.Count > 0 ? args.Positional[0] : "";
            return command switch
            {
                "policies" => PoliciesCommand.Run(args, stdout),
                "mask" => MaskCommand.Run(args, stdout),
                "score" => ScoreCommand.Run(args, stdout),
                "world" => WorldCommand.Run(args, stdout, stderr),
                "data" => DataCommand.Run(args, stdout, stderr),
                "pretrain" or "intermediate" or "finetune" or "evaluate" => TrainCommands.Run(command, args, stderr),
                "learn-policy" => TrainCommands.LearnPolicy(args, stderr),
                "generate" => GenerateCommand.Run(args, stdout, stderr),
                "loss" => LossCommand.Run(args, stdout, stderr),
                "hf" => HfCommand.Run(args, stdout, stderr),
                "bench" when args.Positional.Count > 1 && args.Positional[1] == "mask" => BenchMaskCommand.Run(args, stdout, stderr),
                "bench" when args.Positional.Count > 1 && args.Positional[1] == "train" => BenchTrainCommand.Run(args, stdout, stderr),
                "bench" when args.Positional.Count > 1 && args.Positional[1] == "generate" => BenchGenerateCommand.Run(args, stdout, stderr),
                "bench" => throw new CliError("bench: expected `bench mask`, `bench train` or `bench generate`"),
                "tokenizer" => TokenizerCommand.Run(args, stdout, stderr),
                "tag" => TagCommand.Run(args, stdout, stderr),
                "run" => GridCommand.RunGrid(args, args.Optional("preset") ?? "demo", stdout, stderr),
                "grid" => GridCommand.Run(args, stdout, stderr),
                "help" or "--help" or "-h" => Help(stdout),
                "" => throw new CliError("expected a command; try `masking help`"),
                _ => throw new CliError($"unknown command '{command}'; known: policies, mask, score, world, data, tag, pretrain, intermediate, finetune, evaluate, generate, loss, hf, learn-policy, bench mask, bench train, bench generate, tokenizer, run, grid, help"),
            };
        }
        catch (InputError e)
        {
            stderr.WriteLine($"masking: {e.Message}");
            return 2;
        }
    }

    private static int Help(TextWriter stdout)
    {
        stdout.WriteLine(Usage);
        return 0;
    }
}
