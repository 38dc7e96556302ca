using System.CommandLine;
using Masking.Experiments.Commands;

namespace Masking.Experiments.Cli;

/// <summary>
/// The command line, parsed by System.CommandLine: every command with its options, their ranges and defaults
/// (<c>masking COMMAND --help</c>), unknown options refused, and bad input turned into exit code 2 and one line.
/// </summary>
public static class CommandLine
{
    /// <summary>The command tree. Built per run: a command's action writes to the run's stdout and stderr.</summary>
    public static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Masking: masking policies for intermediate pre-training of text-to-text transformers.")
        {
            PoliciesCommand.Build(stdout),
            MaskCommand.Build(stdout),
            ScoreCommand.Build(stdout),
            WorldCommand.Build(stdout, stderr),
            DataCommand.Build(stdout, stderr),
            TagCommand.Build(stdout, stderr),
            TrainCommands.Pretrain(stderr),
            TrainCommands.Intermediate(stderr),
            TrainCommands.Finetune(stderr),
            TrainCommands.Evaluate(stderr),
            GenerateCommand.Build(stdout, stderr),
            LossCommand.Build(stdout, stderr),
            HfCommand.Build(stdout, stderr),
            TrainCommands.LearnPolicy(stderr),
            GridCommand.BuildRun(stdout, stderr),
            GridCommand.Build(stdout, stderr),
            BenchCommands.Build(stdout, stderr),
            TokenizerCommand.Build(stdout, stderr),
            PmiVocabCommand.Build(stderr),
        };
        var help = new Command("help", "this list, or a command's options: masking help COMMAND (= masking COMMAND --help)");
        var words = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.ZeroOrMore };
        help.Arguments.Add(words);
        help.SetAction(p => Run([.. p.GetValue(words) ?? [], "--help"], stdout, stderr));
        root.Subcommands.Add(help);
        return root;
    }

    /// <summary>Every command that does something, as typed: "mask", "data download", "bench train", …</summary>
    public static IReadOnlyList<string> CommandPaths()
    {
        var paths = new List<string>();
        void Walk(Command command, string prefix)
        {
            foreach (var sub in command.Subcommands)
            {
                var path = prefix.Length == 0 ? sub.Name : prefix + " " + sub.Name;
                if (sub.Action is not null) paths.Add(path);
                Walk(sub, path);
            }
        }
        Walk(Build(TextWriter.Null, TextWriter.Null), "");
        return paths;
    }

    /// <summary>Runs one command; bad input gives exit code 2 and one line on stderr.</summary>
    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var root = Build(stdout, stderr);
            // No response files: "@name" is an ordinary word here (a text to tokenize, say).
            var parse = root.Parse(argv, new ParserConfiguration { ResponseFileTokenReplacer = null });
            // Help, and the [suggest] directive behind shell completion, answer whatever else the line holds.
            var answersItself = parse.Action is not null and not System.CommandLine.Invocation.ParseErrorAction && parse.Action != parse.CommandResult.Command.Action;
            if (!answersItself && FirstError(parse) is { } error)
            {
                stderr.WriteLine($"masking: {error}");
                return 2;
            }
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (InputError e)
        {
            stderr.WriteLine($"masking: {e.Message}");
            return 2;
        }
        catch (Training.RunInterrupted e)
        {
            stderr.WriteLine($"masking: {e.Message}");
            return 130;
        }
    }

    /// <summary>The first problem with the command line, in the command line's own words.</summary>
    private static string? FirstError(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var path = CommandPath(parse);
        if (parse.UnmatchedTokens.Count > 0)
        {
            var word = parse.UnmatchedTokens[0];
            if (word.StartsWith('-'))
            {
                var known = command.Options.Where(o => !o.Hidden).Select(o => o.Name).Order(StringComparer.Ordinal);
                return $"{path}: unknown option {word}; known: {string.Join(", ", known)}";
            }
            if (command.Subcommands.Count > 0)
                return $"{(path.Length == 0 ? "" : path + ": ")}unknown command '{word}'; known: {string.Join(", ", command.Subcommands.Select(c => c.Name))}";
            return $"{path}: unexpected argument '{word}'";
        }
        if (command.Action is null)
            return command is RootCommand
                ? "expected a command; try `masking help`"
                : $"{path}: expected one of {string.Join(", ", command.Subcommands.Select(c => c.Name))}; try `masking help {path}`";
        if (parse.Errors.Count == 0) return null;
        // The library's "Required argument missing for option" names no value; say what the option wants.
        var first = parse.Errors[0];
        return first.SymbolResult is System.CommandLine.Parsing.OptionResult { Tokens.Count: 0, Option: var o } && o.Arity.MinimumNumberOfValues > 0
            ? $"{o.Name} expects a value ({o.HelpName ?? "a word"})"
            : first.Message;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            if (r.Command is not RootCommand) names.Insert(0, r.Command.Name);
        return string.Join(" ", names);
    }
}
