using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cairn.Serialization;

/// <summary>The default serializer: System.Text.Json with web defaults (camelCase, numbers as written).</summary>
public sealed partial class JsonStateSerializer : StateSerializer
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates the serializer.</summary>
    /// <param name="options">The JSON options. Default: <see cref="JsonSerializerDefaults.General"/> with fields excluded.</param>
    public JsonStateSerializer(JsonSerializerOptions? options = null) => _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.General);

    /// <inheritdoc />
    public override byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, _options);

    /// <inheritdoc />
    public override T Deserialize<T>(ReadOnlySpan<byte> data) =>
        JsonSerializer.Deserialize<T>(data, _options) ?? throw new JsonException("The stored state is JSON null.");

    /// <inheritdoc />
    public override Task SerializeAsync<T>(Stream destination, T value, CancellationToken cancellationToken) =>
        JsonSerializer.SerializeAsync(destination, value, _options, cancellationToken);

    /// <inheritdoc />
    public override async Task<T> DeserializeAsync<T>(Stream source, CancellationToken cancellationToken) =>
        await JsonSerializer.DeserializeAsync<T>(source, _options, cancellationToken).ConfigureAwait(false)
        ?? throw new JsonException("The stored state is JSON null.");

    /// <inheritdoc />
    public override string? FindMember(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is JsonException { Path: { Length: > 0 } path })
            {
                return path;
            }

            // System.Text.Json puts the path only into the message of NotSupportedException and InvalidOperationException.
            var match = PathInMessage().Match(e.Message);
            if (match.Success)
            {
                return match.Groups[1].Value;
            }
        }

        return null;
    }

    [GeneratedRegex(@"Path: (\$[^\s|]*?)\.?(?:\s|\||$)")]
    private static partial Regex PathInMessage();
}
