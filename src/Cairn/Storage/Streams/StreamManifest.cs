using System.Collections.Frozen;
using System.Text.Json;

namespace Cairn.Storage;

/// <summary>
/// How stores keep a checkpoint's <see cref="Checkpoint.Streams"/>: one JSON text,
/// <c>{"name":{"sha256":"…","length":123}}</c>, or nothing (null) when the run has no stream.
/// </summary>
public static class StreamManifest
{
    /// <summary>No streams.</summary>
    public static IReadOnlyDictionary<string, StoredStream> Empty { get; } = FrozenDictionary<string, StoredStream>.Empty;

    /// <summary>The text to store for <paramref name="streams"/>; null when there are none.</summary>
    public static string? ToText(IReadOnlyDictionary<string, StoredStream> streams)
    {
        ArgumentNullException.ThrowIfNull(streams);
        if (streams.Count == 0)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, stream) in streams.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                writer.WriteStartObject(name);
                writer.WriteString("sha256", stream.Sha256);
                writer.WriteNumber("length", stream.Length);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Reads what <see cref="ToText"/> wrote; null or empty text is no streams.</summary>
    /// <exception cref="FormatException">The text is not a stream manifest.</exception>
    public static IReadOnlyDictionary<string, StoredStream> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Empty;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var streams = new Dictionary<string, StoredStream>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                streams[entry.Name] = new StoredStream(
                    entry.Value.GetProperty("sha256").GetString() ?? throw new FormatException("a stream's sha256 is null"),
                    entry.Value.GetProperty("length").GetInt64());
            }

            return streams.ToFrozenDictionary(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            throw new FormatException($"The checkpoint's list of streams is unreadable: {ex.Message}", ex);
        }
    }
}
