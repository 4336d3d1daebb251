using System.Text.Json;

namespace Cairn.Flows;

/// <summary>
/// The outbox a stage adds messages to (<see cref="StageContext{TState}.Outbox"/>). A message is committed with the
/// run's next checkpoint — in a transactional stage, with the stage's own transaction — and delivered after that commit
/// to the publisher registered for its destination (<see cref="CairnEngineBuilder.AddOutboxPublisher(string, Outbox.IOutboxPublisher)"/>): at least once,
/// in order per run, each delivery with the same <see cref="Storage.OutboxMessage.Id"/>. Messages of a stage that
/// fails, or of an attempt that dies before the commit, are never sent: the stage adds them again when it runs again.
/// </summary>
public sealed class StageOutbox
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly List<PendingMessage> _pending;

    internal StageOutbox(List<PendingMessage> pending) => _pending = pending;

    /// <summary>Adds a message whose body is <paramref name="message"/> as JSON (System.Text.Json, web defaults).</summary>
    /// <param name="destination">Where it goes: the name a publisher is registered under.</param>
    /// <param name="message">The message.</param>
    /// <exception cref="NotSupportedException">The message cannot be serialized.</exception>
    public void Add<T>(string destination, T message) =>
        AddPayload(destination, JsonSerializer.SerializeToUtf8Bytes(message, Json));

    /// <summary>Adds a message with a body already serialized (JSON, Protobuf, anything the publisher understands).</summary>
    /// <param name="destination">Where it goes: the name a publisher is registered under.</param>
    /// <param name="payload">The message's body.</param>
    public void AddPayload(string destination, ReadOnlyMemory<byte> payload)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        _pending.Add(new PendingMessage(destination, payload.ToArray()));
    }

    /// <summary>A message added and not yet committed.</summary>
    internal readonly record struct PendingMessage(string Destination, byte[] Payload);

    /// <summary>Messages as a stage's completion record keeps them (JSON, payloads in base64); null for none.</summary>
    internal static byte[]? Serialize(IReadOnlyList<PendingMessage> messages) =>
        messages.Count == 0 ? null : JsonSerializer.SerializeToUtf8Bytes(messages.Select(m => new SavedMessage(m.Destination, m.Payload)).ToArray(), Json);

    /// <summary>Reads what <see cref="Serialize"/> wrote.</summary>
    /// <exception cref="JsonException">The bytes are not saved messages.</exception>
    internal static IReadOnlyList<PendingMessage> Deserialize(byte[]? saved) =>
        saved is null || saved.Length == 0
            ? []
            : [.. (JsonSerializer.Deserialize<SavedMessage[]>(saved, Json) ?? []).Select(m => new PendingMessage(m.Destination, m.Payload))];

    private sealed record SavedMessage(string Destination, byte[] Payload);
}
