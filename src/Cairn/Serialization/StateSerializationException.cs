namespace Cairn.Serialization;

/// <summary>
/// The state could not be saved or read at a recovery point: it cannot be serialized, it is too large, or a
/// stored checkpoint can no longer be read as the state type. The run keeps its previous checkpoint.
/// </summary>
public sealed class StateSerializationException : CairnException
{
    /// <summary>Creates the error.</summary>
    public StateSerializationException(string message, string? member = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Member = member;
    }

    /// <summary>The offending member as a JSON path (<c>$.Customer.Handle</c>), when known.</summary>
    public string? Member { get; }

    /// <inheritdoc />
    public override bool IsPermanent => true;
}
