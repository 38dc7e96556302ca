namespace Masking.Experiments.Cli;

/// <summary>Bad input from the user on the command line: printed as one line on stderr, exit code 2, never a stack trace.</summary>
public sealed class CliError(string message) : InputError(message);
