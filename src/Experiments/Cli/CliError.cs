namespace Masking.Experiments.Cli;

/// <summary>Bad input from the user: printed as one line on stderr, exit code 2, never a stack trace.</summary>
public sealed class CliError(string message) : Exception(message);
