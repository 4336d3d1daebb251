using Cairn;
using Cairn.Diagnostics;
using Cairn.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

// Extension methods on IHealthChecksBuilder live in its namespace, as the platform's own do.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers <see cref="CairnHealthCheck"/> with Microsoft.Extensions.Diagnostics.HealthChecks.</summary>
public static class CairnHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of the container's <see cref="CairnEngine"/> (registered by <c>services.AddCairn(...)</c>): Unhealthy when
    /// its store cannot be reached or it is not running, Unhealthy (or Degraded) when its worker loop is not alive, Degraded
    /// when too many runs are due. Without an engine in the container, a check of its <see cref="RunStore"/> alone (a
    /// console that only reads a store): Unhealthy when the store cannot be reached.
    /// Example: <c>services.AddHealthChecks().AddCairn(o => o.MaxDueRuns = 500)</c>, then <c>app.MapHealthChecks("/healthz")</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="configure">Sets the thresholds; the defaults are in <see cref="CairnHealthCheckOptions"/>.</param>
    /// <param name="name">The check's name. Default <c>cairn</c>.</param>
    /// <param name="tags">Tags to filter the check by (for a readiness endpoint, say).</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static IHealthChecksBuilder AddCairn(
        this IHealthChecksBuilder builder, Action<CairnHealthCheckOptions>? configure = null, string name = "cairn", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new CairnHealthCheckOptions();
        configure?.Invoke(options);
        // Checked here, so that bad thresholds fail at start-up rather than at the first probe.
        var checkedOptions = options.Validated();
        return builder.Add(new HealthCheckRegistration(name, provider => Create(provider, checkedOptions), failureStatus: null, tags));
    }

    private static IHealthCheck Create(IServiceProvider provider, CairnHealthCheckOptions options) =>
        provider.GetService<CairnEngine>() is { } engine ? new CairnHealthCheck(engine, options)
        : provider.GetService<RunStore>() is { } store ? new CairnHealthCheck(store, options)
        : new NothingToCheck();

    private sealed class NothingToCheck : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Unhealthy(
                $"Neither a {nameof(CairnEngine)} (services.AddCairn) nor a {nameof(RunStore)} is registered in the container for the Cairn health check."));
    }
}
