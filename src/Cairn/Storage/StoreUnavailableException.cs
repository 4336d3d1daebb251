namespace Cairn.Storage;

/// <summary>The store cannot be used: it is locked by another engine, unreachable, or its schema is newer than this code.</summary>
public sealed class StoreUnavailableException : CairnException
{
    /// <summary>Creates the error.</summary>
    public StoreUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
