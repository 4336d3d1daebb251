using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cairn.Diagnostics;

/// <summary>
/// A health check of a Cairn engine, or of a store alone: <see cref="HealthStatus.Unhealthy"/> when the store cannot be
/// reached (or the engine is not running); for an engine, <see cref="CairnHealthCheckOptions.WorkerLoopFailureStatus"/>
/// when its worker loop has not begun an iteration for <see cref="CairnHealthCheckOptions.WorkerLoopTimeout"/>, and
/// <see cref="HealthStatus.Degraded"/> when more than <see cref="CairnHealthCheckOptions.MaxDueRuns"/> runs are due and waiting.
/// Register it with <c>services.AddHealthChecks().AddCairn()</c> (package <c>Cairn.HealthChecks</c>).
/// </summary>
public sealed class CairnHealthCheck : IHealthCheck
{
    private readonly CairnEngine? _engine;
    private readonly IRunQueries _queries;
    private readonly CairnHealthCheckOptions _options;

    /// <summary>A check of a running engine: its store, its worker loop and its backlog of due runs.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public CairnHealthCheck(CairnEngine engine, CairnHealthCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
        _queries = (IRunQueries)engine.Store;
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validated();
    }

    /// <summary>A check of a store without an engine in this process (a console, a CLI): whether the store answers.</summary>
    /// <exception cref="ArgumentException">The store has no operator queries, or the options are invalid.</exception>
    public CairnHealthCheck(RunStore store, CairnHealthCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        _queries = store as IRunQueries
            ?? throw new ArgumentException($"The store {store.GetType().Name} does not implement {nameof(IRunQueries)}, which a health check reads.", nameof(store));
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validated();
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_engine is { IsRunning: false })
        {
            return HealthCheckResult.Unhealthy($"The Cairn engine {_engine.NodeName} is not running.");
        }

        var due = 0;
        using var timer = new CancellationTokenSource(_options.StoreTimeout, _engine?.TimeProvider ?? TimeProvider.System);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            // One read both proves the store answers and counts the backlog.
            if (_engine is not null && _options.MaxDueRuns is { } max)
            {
                due = await _engine.CountDueRunsAsync(max + 1, timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await _queries.ListRunsAsync(new RunQuery { Limit = 1 }, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The Cairn store did not answer within {_options.StoreTimeout}.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"The Cairn store cannot be reached: {ex.Message}", ex);
        }

        if (_engine is null)
        {
            return HealthCheckResult.Healthy("The Cairn store answers.");
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["node"] = _engine.NodeName };
        var now = _engine.TimeProvider.GetUtcNow();
        if (_engine.LastWorkerLoopAt is { } last)
        {
            data["lastWorkerLoop"] = last.ToString("O", CultureInfo.InvariantCulture);
            // An idle loop begins an iteration every poll interval: never call it dead for waiting that long.
            var limit = TimeSpan.FromTicks(Math.Max(_options.WorkerLoopTimeout.Ticks, 2 * _engine.Options.PollInterval.Ticks));
            if (now - last > limit)
            {
                return new HealthCheckResult(
                    _options.WorkerLoopFailureStatus,
                    $"The worker loop of Cairn engine {_engine.NodeName} last ran {now - last} ago, longer than {limit}.",
                    data: data);
            }
        }

        if (_options.MaxDueRuns is { } maxDue)
        {
            data["dueRuns"] = due;
            if (due > maxDue)
            {
                return HealthCheckResult.Degraded($"More than {maxDue} runs are due and waiting on Cairn engine {_engine.NodeName}'s store.", data: data);
            }
        }

        return HealthCheckResult.Healthy($"Cairn engine {_engine.NodeName} is running and its store answers.", data);
    }
}
