using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.AspNetCore.Api;

/// <summary>
/// The API's JSON settings, its own so that the host's are never changed: web defaults (camelCase), enums as strings.
/// The default encoder escapes <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c>, so no text comes back as markup.
/// </summary>
internal static class ConsoleJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };
}
