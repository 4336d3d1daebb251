using System.Data.Common;
using System.Runtime.ExceptionServices;

namespace Cairn.Execution;

internal sealed partial class StepRunner<TS>
{
    /// <summary>
    /// Runs a stage bound to an application data source, unless the data source has its completion recorded: in a
    /// transaction of that database, which commits the stage's writes and its completion record (the state it produced,
    /// the messages it added) together. An attempt that finds the record, or loses the race to commit one, takes the
    /// recorded state and messages instead of running the stage.
    /// </summary>
    private async Task ExecuteDataSourceStageAsync(StageStep<TS> stage, CancellationToken cancellationToken)
    {
        var iterations = EnterStage(stage);
        var stageWhere = Where;
        var source = stage.DataSource!;
        var key = iterations.Count == 0 ? stage.Name : $"{stage.Name}:{string.Join(':', iterations)}";

        // Looked up in a transaction of its own: the stage's transaction is begun only when it runs, and a racing attempt
        // that commits in between makes this one's insert fail on the primary key.
        Where = $"while reading the completion of stage '{stage.Name}' from data source '{source.Name}'{WhereSuffix}";
        var recorded = await FindCompletionAsync(source, key, cancellationToken).ConfigureAwait(false);
        var how = "found before running it";
        if (recorded is null)
        {
            if (await TryRunAndCommitAsync(stage, iterations, source, key, stageWhere, cancellationToken).ConfigureAwait(false) is not { } failed)
            {
                return;
            }

            Where = $"while reading the completion of stage '{stage.Name}' from data source '{source.Name}' after its commit failed{WhereSuffix}";
            recorded = await FindCompletionAsync(source, key, cancellationToken).ConfigureAwait(false);
            if (recorded is null)
            {
                Where = $"while committing stage '{stage.Name}' to data source '{source.Name}'{WhereSuffix}";
                failed.Throw();
            }

            how = "committed first by a racing attempt; this attempt's writes were rolled back";
            Where = $"while reading the completion of stage '{stage.Name}' from data source '{source.Name}'{WhereSuffix}";
        }

        TakeRecorded(stage, iterations, source, recorded!, how);
    }

    /// <summary>
    /// Runs the stage in a unit of work of its data source and commits its writes with its completion record. Returns
    /// null once committed; else the error of the insert or the commit (most likely the primary key: another attempt
    /// committed the stage first), with the unit rolled back and the stage's messages taken back.
    /// </summary>
    private async Task<ExceptionDispatchInfo?> TryRunAndCommitAsync(
        StageStep<TS> stage, List<int> iterations, StageDataSource source, string key, string stageWhere, CancellationToken cancellationToken)
    {
        Where = $"while opening the transaction of stage '{stage.Name}' on data source '{source.Name}'{WhereSuffix}";
        var added = _outbox.Count;
        var unit = await source.BeginAsync(cancellationToken).ConfigureAwait(false);
        await using (unit.ConfigureAwait(false))
        {
            Where = stageWhere;
            var context = await InvokeStageAsync(stage, iterations, context => stage.InUnitOfWork!(context, unit, cancellationToken)).ConfigureAwait(false);
            try
            {
                Where = $"while committing stage '{stage.Name}' to data source '{source.Name}'{WhereSuffix}";
                await unit.BeforeCommitAsync(cancellationToken).ConfigureAwait(false);
                var runId = Scope.Run.Id;
                var state = Scope.Context.Codec.Serialize(
                    context.State, $"Flow {Scope.Flow} could not record the completion of stage '{stage.Name}' for run {runId}: the state", " The stage's writes were rolled back.");
                var completion = new StageCompletion(
                    runId, key, Scope.Run.Attempt, state, StageOutbox.Serialize(_outbox[added..]), Scope.Context.Clock.GetUtcNow());
                try
                {
                    await source.Completions.InsertAsync(unit.Connection, unit.Transaction, completion, cancellationToken).ConfigureAwait(false);
                    await unit.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (DbException ex)
                {
                    _outbox.RemoveRange(added, _outbox.Count - added);
                    return ExceptionDispatchInfo.Capture(ex);
                }
            }
            catch
            {
                _outbox.RemoveRange(added, _outbox.Count - added);
                throw;
            }

            FinishStage(stage, iterations, context.State, context.StatusMessage);
            return null;
        }
    }

    /// <summary>Takes what a completion record holds in place of running the stage: its state and its messages.</summary>
    private void TakeRecorded(StageStep<TS> stage, List<int> iterations, StageDataSource source, StageCompletion recorded, string how)
    {
        var runId = Scope.Run.Id;
        Log.StageCompletionFound(Scope.Context.Logger, stage.Name, runId, source.Name, recorded.Attempt, how, Scope.Run.Attempt);
        var where = $"stage '{stage.Name}' of run {runId} in data source '{source.Name}' (table {source.Completions.TableName})";
        var state = Scope.Context.Codec.Deserialize<TS>(recorded.State, $"The state recorded by {where}");
        try
        {
            _outbox.AddRange(StageOutbox.Deserialize(recorded.Outbox));
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new CheckpointCorruptedException($"The outbox messages recorded by {where} are unreadable: {ex.Message}");
        }

        // A skipped stage keeps the status message the sequence has: the record does not hold one.
        FinishStage(stage, iterations, state, statusMessage: null);
    }

    private async Task<StageCompletion?> FindCompletionAsync(StageDataSource source, string key, CancellationToken cancellationToken)
    {
        var unit = await source.BeginAsync(cancellationToken).ConfigureAwait(false);
        await using (unit.ConfigureAwait(false))
        {
            return await source.Completions.FindAsync(unit.Connection, unit.Transaction, Scope.Run.Id, key, cancellationToken).ConfigureAwait(false);
        }
    }
}
