namespace Cairn.Storage;

/// <summary>A stream a stage asked for is not there: no stream of that name in the run, or its content is missing from the store or folder.</summary>
public sealed class StreamNotFoundException : CairnException
{
    /// <summary>Creates the error.</summary>
    /// <param name="message">What is missing and where, in one line.</param>
    public StreamNotFoundException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Stored stream content does not match what its checkpoint recorded: shorter or longer than its length, or another
/// SHA-256. The content is kept as found for inspection; the stage that read it fails.
/// </summary>
public sealed class StreamCorruptedException : CairnException
{
    /// <summary>Creates the error.</summary>
    /// <param name="message">What is damaged and where, in one line.</param>
    public StreamCorruptedException(string message)
        : base(message)
    {
    }

    /// <summary>Always true: reading the same damaged content again cannot help.</summary>
    public override bool IsPermanent => true;
}
