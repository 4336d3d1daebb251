using System.Text.Json;

namespace Cairn;

/// <summary>What a run captures when it is first started, stored with it as JSON.</summary>
internal sealed record RunSettings(RetryPolicy RetryPolicy)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RunSettings FromJson(string json) =>
        JsonSerializer.Deserialize<RunSettings>(json, JsonOptions) ?? throw new JsonException("The run settings are JSON null.");
}
