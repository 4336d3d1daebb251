using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cairn.Diagnostics;

/// <summary>What <see cref="CairnHealthCheck"/> reports as unhealthy or degraded. Validated when the check is created.</summary>
public sealed class CairnHealthCheckOptions
{
    /// <summary>
    /// How long the engine's worker loop (the claim loop, which begins an iteration at least every
    /// <see cref="CairnOptions.PollInterval"/>) may go without beginning one before it is reported as not alive; never less
    /// than twice the poll interval. Default 1 minute.
    /// </summary>
    public TimeSpan WorkerLoopTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The status reported when the worker loop is not alive: <see cref="HealthStatus.Unhealthy"/> (the default) or <see cref="HealthStatus.Degraded"/>.</summary>
    public HealthStatus WorkerLoopFailureStatus { get; set; } = HealthStatus.Unhealthy;

    /// <summary>
    /// The most runs that may be due and waiting for a free slot before the check reports <see cref="HealthStatus.Degraded"/>;
    /// null to not check the backlog. 0 to 9,999. Default 1,000.
    /// </summary>
    public int? MaxDueRuns { get; set; } = 1000;

    /// <summary>
    /// How long the store may take to answer before it is reported as unreachable, on the engine's clock (the system clock
    /// when the check has a store alone). Default 5 seconds.
    /// </summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A copy, checked: what a check keeps, so that later changes to these options do not reach it.</summary>
    internal CairnHealthCheckOptions Validated()
    {
        List<string> problems = [];
        if (WorkerLoopTimeout <= TimeSpan.Zero)
        {
            problems.Add($"WorkerLoopTimeout is {WorkerLoopTimeout}; it must be positive");
        }

        if (WorkerLoopFailureStatus is not (HealthStatus.Unhealthy or HealthStatus.Degraded))
        {
            problems.Add($"WorkerLoopFailureStatus is {WorkerLoopFailureStatus}; it must be Unhealthy or Degraded");
        }

        if (MaxDueRuns is < 0 or >= CairnEngine.CountLimit)
        {
            problems.Add($"MaxDueRuns is {MaxDueRuns}; it must be from 0 to {CairnEngine.CountLimit - 1}, or null");
        }

        if (StoreTimeout <= TimeSpan.Zero)
        {
            problems.Add($"StoreTimeout is {StoreTimeout}; it must be positive");
        }

        return problems.Count == 0
            ? (CairnHealthCheckOptions)MemberwiseClone()
            : throw new ArgumentException($"Invalid Cairn health check options: {string.Join("; ", problems)}.");
    }
}
