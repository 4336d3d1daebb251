namespace OpenTelemetry.Metrics;

/// <summary>Adds Cairn's instruments to OpenTelemetry metrics.</summary>
public static class MeterProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to the meter <c>Cairn</c> (<see cref="Telemetry.Name"/>): runs started, completed and failed, retries,
    /// attempts by outcome, checkpoint duration and size, due runs waiting, outbox lag and outbox messages pending.
    /// Example: <c>services.AddOpenTelemetry().WithMetrics(m => m.AddCairnInstrumentation().AddOtlpExporter())</c>.
    /// </summary>
    public static MeterProviderBuilder AddCairnInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(Telemetry.Name);
    }
}
