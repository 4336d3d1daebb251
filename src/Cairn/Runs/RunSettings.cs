using System.Text.Json;

namespace Cairn.Runs;

/// <summary>What a run captures when it is first started, stored with it as JSON.</summary>
/// <param name="RetryPolicy">The retry policy in force when the run started.</param>
/// <param name="Fingerprint">The structure of the flow's definition the run started on (null for runs of older engines).</param>
/// <param name="ParentRunId">The parent run, for the child run of a detached sub-flow.</param>
internal sealed record RunSettings(RetryPolicy RetryPolicy, string? Fingerprint = null, string? ParentRunId = null)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RunSettings FromJson(string json) =>
        JsonSerializer.Deserialize<RunSettings>(json, JsonOptions) ?? throw new JsonException("The run settings are JSON null.");
}
