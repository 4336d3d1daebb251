namespace OpenTelemetry.Trace;

/// <summary>Adds Cairn's activities to OpenTelemetry tracing.</summary>
public static class TracerProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to the activity source <c>Cairn</c> (<see cref="Telemetry.Name"/>): the start of each run in its caller's
    /// trace, each attempt in a trace of its own linked to it, its stages and checkpoints, and outbox deliveries.
    /// Example: <c>services.AddOpenTelemetry().WithTracing(t => t.AddCairnInstrumentation().AddOtlpExporter())</c>.
    /// </summary>
    public static TracerProviderBuilder AddCairnInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(Telemetry.Name);
    }
}
