namespace Cairn.Serialization;

/// <summary>
/// The one place states, inputs, slices and results become bytes and back: it applies the size limit, computes and
/// checks checksums, and words every failure the same way, naming what was being saved or read, the member at fault
/// where the serializer can tell, and what became of the run.
/// </summary>
internal sealed class StateCodec(StateSerializer serializer, long maxStateSize)
{
    /// <summary>The serializer behind the codec.</summary>
    public StateSerializer Serializer { get; } = serializer;

    /// <summary>The largest serialized state accepted, in bytes (<see cref="CairnOptions.MaxStateSize"/>).</summary>
    public long MaxStateSize { get; } = maxStateSize;

    /// <summary>Serializes a state or input, turning any failure and an oversized result into a <see cref="StateSerializationException"/>.</summary>
    /// <param name="value">What to serialize.</param>
    /// <param name="what">How messages name it: "Flow 'x' cannot start: its input".</param>
    /// <param name="consequence">A sentence appended to messages, telling what became of the run (or empty).</param>
    public byte[] Serialize<T>(T value, string what, string consequence)
    {
        byte[] bytes;
        try
        {
            bytes = Serializer.Serialize(value);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SerializationFailure<T>(ex, what, consequence);
        }

        CheckSize(bytes.Length, what, consequence);
        return bytes;
    }

    /// <summary>Refuses a serialized state over the limit.</summary>
    public void CheckSize(long length, string what, string consequence)
    {
        if (length > MaxStateSize)
        {
            throw new StateSerializationException(
                $"{what} is {length:N0} bytes, over the limit of {MaxStateSize:N0} bytes (CairnOptions.MaxStateSize).{consequence}");
        }
    }

    /// <summary>Reads saved bytes as <typeparamref name="T"/>, turning any failure into a <see cref="StateSerializationException"/>.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="what">How messages name them, capitalized: "The checkpoint of run … at recovery point 'x'".</param>
    /// <param name="hint">Added after the type and member: why it may have failed and what to do (or empty).</param>
    /// <param name="consequence">A sentence appended to messages (or empty).</param>
    public T Deserialize<T>(ReadOnlySpan<byte> data, string what, string hint = "", string consequence = " It is kept unchanged.")
    {
        try
        {
            return Serializer.Deserialize<T>(data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw DeserializationFailure<T>(ex, what, hint, consequence);
        }
    }

    /// <summary>The error for a state that could not be serialized: <see cref="Serialize{T}"/>'s wording.</summary>
    public StateSerializationException SerializationFailure<T>(Exception error, string what, string consequence) =>
        Failure(error, atMember => $"{what} of type {typeof(T).Name} cannot be serialized{atMember}: {error.Message}{consequence}");

    /// <summary>The error for saved bytes that could not be read: <see cref="Deserialize{T}"/>'s wording.</summary>
    public StateSerializationException DeserializationFailure<T>(Exception error, string what, string hint, string consequence) =>
        Failure(error, atMember => $"{what} can no longer be read as {typeof(T).Name}{atMember}{hint}: {error.Message}{consequence}");

    /// <summary>The error for a failed (de)serialization, naming the member the serializer failed at when it knows it.</summary>
    /// <param name="error">What the serializer threw.</param>
    /// <param name="message">The message, given <c> at member 'x'</c> or an empty string.</param>
    private StateSerializationException Failure(Exception error, Func<string, string> message)
    {
        var member = Serializer.FindMember(error);
        return new StateSerializationException(message(member is null ? "" : $" at member '{member}'"), member, error);
    }

    /// <summary>The checksum of serialized bytes, as checkpoints and inputs store it (SHA-256, lower-case hex).</summary>
    public static string Checksum(ReadOnlySpan<byte> data) => Serialization.Checksum.Compute(data);

    /// <summary>Whether serialized bytes still match their stored checksum.</summary>
    public static bool Matches(ReadOnlySpan<byte> data, string checksum) => Serialization.Checksum.Matches(data, checksum);
}
