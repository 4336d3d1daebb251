namespace Cairn.Serialization;

/// <summary>Turns flow states into bytes and back for checkpoints. Replace it to use another format.</summary>
public abstract class StateSerializer
{
    /// <summary>Serializes a state.</summary>
    /// <exception cref="Exception">Any exception means the state cannot be serialized; the engine reports it with the flow and recovery point.</exception>
    public abstract byte[] Serialize<T>(T value);

    /// <summary>Deserializes a state written by <see cref="Serialize{T}"/>.</summary>
    public abstract T Deserialize<T>(ReadOnlySpan<byte> data);

    /// <summary>
    /// Names the member of the state that <paramref name="error"/> is about, as a path such as <c>$.Customer.Handle</c>,
    /// or null when the error does not say.
    /// </summary>
    public virtual string? FindMember(Exception error) => null;
}
