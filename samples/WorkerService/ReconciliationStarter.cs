using Cairn;
using Cairn.Flows;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Reconciliation;

namespace WorkerService;

/// <summary>
/// Starts the reconciliation of each period when the period begins (and at startup for the current one). Starting is
/// idempotent through the recovery ID, so every node may do it; which node executes the run is the store's business.
/// </summary>
internal sealed partial class ReconciliationStarter(
    CairnEngine engine, Flow<ReconciliationState> flow, ReconciliationSchedule schedule, ILogger<ReconciliationStarter> logger, TimeProvider? timeProvider = null) : BackgroundService
{
    private readonly TimeProvider _clock = timeProvider ?? TimeProvider.System;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (schedule.SampleAccounts > 0 && !File.Exists(Path.Combine(schedule.Folder, "accounts.txt")))
        {
            SampleData.Write(schedule.Folder, schedule.SampleAccounts);
        }

        string? started = null;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _clock);
        do
        {
            var recoveryId = schedule.RecoveryIdAt(_clock.GetUtcNow());
            if (recoveryId == started)
            {
                continue;
            }

            try
            {
                var run = await engine.StartRunAsync(flow, new ReconciliationState { Folder = schedule.Folder }, recoveryId, stoppingToken);
                LogStarted(recoveryId, run.Id.ToString(), run.Status.ToString());
                started = recoveryId;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store is down, say: try again on the next tick.
                LogStartFailed(ex, recoveryId);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(1, LogLevel.Information, "Reconciliation {RecoveryId} is run {RunId} ({Status})")]
    private partial void LogStarted(string recoveryId, string runId, string status);

    [LoggerMessage(2, LogLevel.Warning, "Could not start reconciliation {RecoveryId}; trying again")]
    private partial void LogStartFailed(Exception exception, string recoveryId);
}
