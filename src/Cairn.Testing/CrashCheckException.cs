namespace Cairn.Testing;

/// <summary>A check of the crash kit failed (<see cref="CrashJournal.AssertNoCommittedStageRepeated"/>, <see cref="CrashCase{TState}.AssertCompleted"/>, ...).</summary>
public sealed class CrashCheckException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CrashCheckException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public CrashCheckException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public CrashCheckException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
