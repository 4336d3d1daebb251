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
    /// Serializes a state into <paramref name="destination"/> as it goes, for states too large to hold serialized in one
    /// array (<see cref="CairnOptions.StateSpillThreshold"/>). Writes the same bytes as <see cref="Serialize{T}"/>. The
    /// default serializes to an array and writes it; override it to stream.
    /// </summary>
    /// <exception cref="Exception">Any exception but the destination's means the state cannot be serialized.</exception>
    public virtual async Task SerializeAsync<T>(Stream destination, T value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        await destination.WriteAsync(Serialize(value), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deserializes a state from <paramref name="source"/>, read to its end, as it goes. The default reads it into one
    /// array and calls <see cref="Deserialize{T}"/>; override it to stream.
    /// </summary>
    public virtual async Task<T> DeserializeAsync<T>(Stream source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var copy = new MemoryStream();
        await source.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        return Deserialize<T>(copy.GetBuffer().AsSpan(0, (int)copy.Length));
    }

    /// <summary>
    /// Names the member of the state that <paramref name="error"/> is about, as a path such as <c>$.Customer.Handle</c>,
    /// or null when the error does not say.
    /// </summary>
    public virtual string? FindMember(Exception error) => null;
}
