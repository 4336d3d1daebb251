using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.Runs;

/// <summary>What a run captures when it is first started, stored with it as JSON.</summary>
/// <param name="RetryPolicy">The retry policy in force when the run started.</param>
/// <param name="Fingerprint">The structure of the flow's definition the run started on (null for runs of older engines).</param>
/// <param name="ParentRunId">The parent run, for the child run of a detached sub-flow.</param>
/// <param name="TraceParent">The W3C <c>traceparent</c> of the activity that started the run, which its attempts link to; null without one.</param>
/// <param name="TraceState">The W3C <c>tracestate</c> of that activity.</param>
internal sealed record RunSettings(
    RetryPolicy RetryPolicy,
    string? Fingerprint = null,
    string? ParentRunId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceState = null)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static RunSettings FromJson(string json) =>
        JsonSerializer.Deserialize<RunSettings>(json, JsonOptions) ?? throw new JsonException("The run settings are JSON null.");

    /// <summary>The trace context a run's settings stored when it was created; null without one, or when unreadable.</summary>
    public static ActivityContext? TraceContextOf(string json)
    {
        // Most runs are started outside any trace: skip parsing their settings.
        if (!json.Contains("\"traceParent\"", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            var settings = FromJson(json);
            return ActivityContext.TryParse(settings.TraceParent, settings.TraceState, isRemote: true, out var context) ? context : null;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return null;
        }
    }
}
