namespace Masking.Experiments;

/// <summary>
/// Input that the program cannot use, named by file, line and what was expected: raised by training, the grid,
/// the data and model readers, which are not the command line. The command line prints it as one line with exit
/// code 2, as it does its own errors; code that calls the library catches it like any exception.
/// </summary>
public class InputError(string message) : Exception(message);
