using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cairn.AspNetCore.Api;

/// <summary>How the console shows a serialized state, result or payload: hidden, redacted and cut as the options say.</summary>
internal static class StateView
{
    public static StateResponse Of(ReadOnlyMemory<byte> bytes, bool? checksumMatches, CairnConsoleOptions options)
    {
        if (!options.ShowState)
        {
            return new(false, "hidden by the console's options (ShowState is off)", checksumMatches, bytes.Length, false, false, null);
        }

        var text = Encoding.UTF8.GetString(bytes.Span);
        var redacted = false;
        if (options.RedactedStateProperties.Count > 0)
        {
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                return new(false, "not JSON, so it cannot be redacted, and the console redacts states", checksumMatches, bytes.Length, false, false, null);
            }

            redacted = Redact(node, options.RedactedStateProperties);
            text = node?.ToJsonString() ?? "null";
        }

        var truncated = false;
        if (Encoding.UTF8.GetByteCount(text) > options.MaxStateBytes)
        {
            // Cut on a character boundary at most MaxStateBytes bytes long.
            var length = Math.Min(text.Length, options.MaxStateBytes);
            while (length > 0 && Encoding.UTF8.GetByteCount(text.AsSpan(0, length)) > options.MaxStateBytes)
            {
                length--;
            }

            if (length > 0 && char.IsHighSurrogate(text[length - 1]))
            {
                length--;
            }

            text = text[..length];
            truncated = true;
        }

        return new(true, null, checksumMatches, bytes.Length, truncated, redacted, text);
    }

    private static bool Redact(JsonNode? node, ISet<string> names)
    {
        var any = false;
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    if (names.Contains(name))
                    {
                        obj[name] = "***";
                        any = true;
                    }
                    else
                    {
                        any |= Redact(obj[name], names);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    any |= Redact(item, names);
                }

                break;
        }

        return any;
    }
}
