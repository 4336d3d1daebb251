using Cairn.AspNetCore.Security;
using Cairn.Diagnostics;
using Cairn.Flows;
using Cairn.Serialization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Cairn.AspNetCore.Api;

/// <summary>The REST API's endpoints, every one built on <see cref="RunOperator"/>.</summary>
internal static partial class ConsoleEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        Read(api.MapGet("/runs", ListRunsAsync)).Produces<RunListResponse>();
        Read(api.MapGet("/runs/{id}", GetRunAsync)).Produces<RunDetailResponse>();
        Read(api.MapGet("/runs/{id}/checkpoints/{sequence}", GetCheckpointAsync)).Produces<CheckpointDetailResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        Write(api.MapPost("/runs/{id}/rerun", RerunAsync)).Produces<RunResponse>();
        Write(api.MapPost("/runs/{id}/rerun-from", RerunFromAsync)).Accepts<RerunFromRequest>("application/json").Produces<RunResponse>();
        Write(api.MapPost("/runs/{id}/cancel", CancelAsync)).Produces<RunResponse>();
        Read(api.MapGet("/runs/{id}/signals", ListSignalsAsync)).Produces<IReadOnlyList<SignalInfo>>();
        Write(api.MapPost("/runs/{id}/signals/{name}", SignalAsync)).Accepts<object>("application/json").Produces<SignalDelivery>();
        Write(api.MapPost("/runs/bulk/rerun", BulkRerunAsync)).Produces<BulkResponse>();
        Write(api.MapPost("/runs/bulk/cancel", BulkCancelAsync)).Produces<BulkResponse>();
        Read(api.MapGet("/purge", PurgeSettings)).Produces<PurgeSettingsResponse>();
        Write(api.MapPost("/purge", PurgeAsync)).Produces<PurgeResponse>();
        Read(api.MapGet("/outbox", ListOutboxAsync)).Produces<IReadOnlyList<OutboxMessageResponse>>();
        Write(api.MapPost("/outbox/redrive", RedriveAsync)).Accepts<RedriveRequest>("application/json").Produces<RedriveResponse>();
        Read(api.MapGet("/schedules", ListSchedulesAsync)).Produces<IReadOnlyList<ScheduleResponse>>();
        Read(api.MapGet("/schedules/{name}", GetScheduleAsync)).Produces<ScheduleResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        Write(api.MapPost("/schedules/{name}/{action}", ScheduleActionAsync)).Produces<ScheduleResponse>();
        Write(api.MapDelete("/schedules/{name}", DeleteScheduleAsync)).Produces(StatusCodes.Status204NoContent);
        Read(api.MapGet("/summary", SummaryAsync)).Produces<RunSummaryResponse>();
        Read(api.MapGet("/flows", ListFlowsAsync)).Produces<IReadOnlyList<FlowInfo>>();
        Read(api.MapGet("/antiforgery", Antiforgery)).Produces<AntiforgeryTokenResponse>();
        Read(api.MapGet("/openapi.json", OpenApiAsync)).ExcludeFromDescription();
    }

    private static RouteHandlerBuilder Read(RouteHandlerBuilder endpoint) =>
        endpoint.WithMetadata(ConsoleAccess.Read).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden);

    private static RouteHandlerBuilder Write(RouteHandlerBuilder endpoint) =>
        Read(endpoint).WithMetadata(ConsoleAccess.Write).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

    private static IResult Json<T>(T value) => Results.Json(value, ConsoleJson.Options);

    private static async Task<IResult> ListRunsAsync(
        ConsoleOperator console, [FromQuery] string? status, [FromQuery] string? flow, [FromQuery] string? recoveryId, [FromQuery] string? createdFrom,
        [FromQuery] string? createdTo, [FromQuery] string? cursor, [FromQuery] string? limit, CancellationToken cancellationToken)
    {
        var query = ConsoleInput.Filter(status, flow, recoveryId, createdFrom, createdTo) with
        {
            After = ConsoleInput.Cursor(cursor),
            Limit = ConsoleInput.Limit(limit, 50),
        };
        var page = await console.Operator.ListRunsAsync(query, cancellationToken).ConfigureAwait(false);
        return Json(new RunListResponse(page.Runs.Select(RunResponse.From).ToList(), page.NextCursor?.ToString()));
    }

    private static async Task<IResult> GetRunAsync(ConsoleOperator console, IOptions<CairnConsoleOptions> options, string id, CancellationToken cancellationToken)
    {
        var runId = ConsoleInput.RunIdOf(id);
        var op = console.Operator;
        var run = await op.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
        var events = await op.GetEventsAsync(runId, cancellationToken).ConfigureAwait(false);
        var checkpoints = await op.GetCheckpointsAsync(runId, cancellationToken).ConfigureAwait(false);
        var latest = run.Status == RunStatus.Completed ? null : await op.GetLatestCheckpointAsync(runId, cancellationToken).ConfigureAwait(false);
        var result = run.Status == RunStatus.Completed ? await op.GetResultAsync(runId, cancellationToken).ConfigureAwait(false) : null;
        return Json(new RunDetailResponse(
            RunResponse.From(run),
            events.Select(e => new RunEventResponse(e.Time, e.Kind, e.Attempt, e.Message, e.RecoveryPoint)).ToList(),
            checkpoints.Select(CheckpointResponse.From).ToList(),
            latest is null ? null : CheckpointResponse.From(latest.Checkpoint),
            latest is null ? null : StateView.Of(latest.State, latest.ChecksumMatches, options.Value),
            result is { } bytes ? StateView.Of(bytes, null, options.Value) : null));
    }

    /// <summary>One kept checkpoint with its state (checksum verified), for viewing or editing before a re-run from it.</summary>
    private static async Task<IResult> GetCheckpointAsync(
        ConsoleOperator console, IOptions<CairnConsoleOptions> options, string id, string sequence, CancellationToken cancellationToken)
    {
        var runId = ConsoleInput.RunIdOf(id);
        var number = ConsoleInput.Sequence(sequence);
        var op = console.Operator;
        if (await op.GetCheckpointAsync(runId, number, cancellationToken).ConfigureAwait(false) is { } found)
        {
            return Json(new CheckpointDetailResponse(CheckpointResponse.From(found.Checkpoint), StateView.Of(found.State, found.ChecksumMatches, options.Value)));
        }

        _ = await op.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
        var kept = await op.GetCheckpointsAsync(runId, cancellationToken).ConfigureAwait(false);
        return Results.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Checkpoint not found",
            detail: new CheckpointNotFoundException(runId, $"checkpoint {number}", kept).Message);
    }

    private static async Task<IResult> RerunAsync(ConsoleOperator console, ILoggerFactory loggers, HttpContext context, string id, CancellationToken cancellationToken)
    {
        var runId = ConsoleInput.RunIdOf(id);
        var user = ConsoleUser.NameOf(context);
        var run = await console.Operator.RerunAsync(runId, $"re-run requested by {user} from the console", cancellationToken).ConfigureAwait(false);
        Log.Console.RunAction(Logger(loggers), "Re-run", runId, user);
        return Json(RunResponse.From(run));
    }

    private static async Task<IResult> RerunFromAsync(ConsoleOperator console, ILoggerFactory loggers, HttpContext context, string id, CancellationToken cancellationToken)
    {
        var runId = ConsoleInput.RunIdOf(id);
        var request = await ConsoleInput.BodyAsync(context.Request, new RerunFromRequest(null, null, null), cancellationToken).ConfigureAwait(false);
        if (request.RecoveryPoint is not null && request.Sequence is not null)
        {
            throw new ConsoleInputException("Name either recoveryPoint or sequence, not both.");
        }

        var user = ConsoleUser.NameOf(context);
        var run = await console.Operator.RerunAsync(
            runId,
            new RerunOptions
            {
                RecoveryPoint = request.RecoveryPoint,
                CheckpointSequence = request.Sequence,
                State = request.State is { } state ? System.Text.Encoding.UTF8.GetBytes(state.GetRawText()) : null,
                Message = $"re-run requested by {user} from the console",
            },
            cancellationToken).ConfigureAwait(false);
        Log.Console.RunAction(Logger(loggers), request.State is null ? "Re-run from a checkpoint" : "Re-run from a checkpoint with an edited state", runId, user);
        return Json(RunResponse.From(run));
    }

    private static async Task<IResult> CancelAsync(
        ConsoleOperator console, ILoggerFactory loggers, HttpContext context, string id, [FromQuery] string? compensate, CancellationToken cancellationToken)
    {
        var runId = ConsoleInput.RunIdOf(id);
        var user = ConsoleUser.NameOf(context);
        var run = ConsoleInput.Flag(compensate, "compensate")
            ? await console.Operator.CancelWithCompensationAsync(runId, $"cancelled with compensation by {user} from the console", cancellationToken).ConfigureAwait(false)
            : await console.Operator.CancelAsync(runId, $"cancelled by {user} from the console", cancellationToken).ConfigureAwait(false);
        Log.Console.RunAction(Logger(loggers), ConsoleInput.Flag(compensate, "compensate") ? "Cancel with compensation" : "Cancel", runId, user);
        return Json(RunResponse.From(run));
    }

    private static Task<IResult> BulkRerunAsync(
        ConsoleOperator console, IOptions<CairnConsoleOptions> options, ILoggerFactory loggers, HttpContext context, [FromQuery] string? status,
        [FromQuery] string? flow, [FromQuery] string? recoveryId, [FromQuery] string? createdFrom, [FromQuery] string? createdTo, [FromQuery] string? dryRun,
        CancellationToken cancellationToken)
    {
        var user = ConsoleUser.NameOf(context);
        return BulkAsync(
            console.Operator, options.Value, Logger(loggers), user, "re-run", ConsoleInput.Filter(status, flow, recoveryId, createdFrom, createdTo),
            ConsoleInput.Flag(dryRun, "dryRun"), StoreRules.CanRerun,
            (op, id, ct) => op.RerunAsync(id, $"re-run requested by {user} from the console (bulk re-run)", ct), cancellationToken);
    }

    private static Task<IResult> BulkCancelAsync(
        ConsoleOperator console, IOptions<CairnConsoleOptions> options, ILoggerFactory loggers, HttpContext context, [FromQuery] string? status,
        [FromQuery] string? flow, [FromQuery] string? recoveryId, [FromQuery] string? createdFrom, [FromQuery] string? createdTo, [FromQuery] string? dryRun,
        [FromQuery] string? compensate, CancellationToken cancellationToken)
    {
        var user = ConsoleUser.NameOf(context);
        var withCompensation = ConsoleInput.Flag(compensate, "compensate");
        return BulkAsync(
            console.Operator, options.Value, Logger(loggers), user, withCompensation ? "cancel with compensation" : "cancel",
            ConsoleInput.Filter(status, flow, recoveryId, createdFrom, createdTo), ConsoleInput.Flag(dryRun, "dryRun"), StoreRules.CanCancel,
            withCompensation
                ? (op, id, ct) => op.CancelWithCompensationAsync(id, $"cancelled with compensation by {user} from the console (bulk cancel)", ct)
                : (op, id, ct) => op.CancelAsync(id, $"cancelled by {user} from the console (bulk cancel)", ct),
            cancellationToken);
    }

    /// <summary>
    /// A bulk action over every run the filter matches: the matching runs are collected first by paging through the
    /// list (the action changes their statuses, which would move the pages), then acted on one by one; a run whose status
    /// forbids the action by then is skipped and named.
    /// </summary>
    private static async Task<IResult> BulkAsync(
        RunOperator op, CairnConsoleOptions options, ILogger logger, string user, string action, RunQuery filter, bool dryRun, Func<RunStatus, bool> eligible,
        Func<RunOperator, RunId, CancellationToken, Task<RunInfo>> act, CancellationToken cancellationToken)
    {
        if (ConsoleInput.IsEmpty(filter))
        {
            throw new ConsoleInputException($"A bulk {action} needs a filter: status, flow, recoveryId, createdFrom or createdTo.");
        }

        if (dryRun)
        {
            var counts = await op.CountRunsAsync(filter, cancellationToken).ConfigureAwait(false);
            return Json(new BulkResponse(true, (int)counts.Values.Sum(), (int)counts.Where(c => eligible(c.Key)).Sum(c => c.Value), 0, []));
        }

        var matched = new List<RunInfo>();
        var query = filter with { Limit = 500 };
        while (true)
        {
            var page = await op.ListRunsAsync(query, cancellationToken).ConfigureAwait(false);
            matched.AddRange(page.Runs);
            if (matched.Count > options.MaxBulkRuns)
            {
                throw new ConsoleInputException(
                    $"More than {options.MaxBulkRuns:N0} runs match, the most one bulk {action} takes (CairnConsoleOptions.MaxBulkRuns): narrow the filter.");
            }

            if (page.NextCursor is null)
            {
                break;
            }

            query = query with { After = page.NextCursor };
        }

        var candidates = matched.Where(r => eligible(r.Status)).ToList();
        var skipped = matched.Where(r => !eligible(r.Status)).Select(r => new BulkSkip(r.Id.ToString(), $"{r.Status}")).ToList();

        var changed = 0;
        foreach (var run in candidates)
        {
            try
            {
                await act(op, run.Id, cancellationToken).ConfigureAwait(false);
                changed++;
            }
            catch (Exception ex) when (ex is InvalidRunStateException or RunNotFoundException or CheckpointCorruptedException or CheckpointNotFoundException)
            {
                skipped.Add(new BulkSkip(run.Id.ToString(), ConsoleInput.FirstLine(ex.Message)));
            }
        }

        Log.Console.BulkAction(logger, action, user, changed, matched.Count);
        return Json(new BulkResponse(false, matched.Count, candidates.Count, changed, skipped));
    }

    /// <summary>The hosting engine's scheduled purge; unknown for a console over a store alone.</summary>
    private static IResult PurgeSettings(ConsoleOperator console) => Json(console.Operator.PurgeSettings is { } settings
        ? new PurgeSettingsResponse(true, settings.RetentionPeriod, settings.Interval)
        : new PurgeSettingsResponse(false, null, null));

    private static async Task<IResult> PurgeAsync(
        ConsoleOperator console, ILoggerFactory loggers, HttpContext context, [FromQuery] string? olderThan, CancellationToken cancellationToken)
    {
        var age = ConsoleInput.Duration(olderThan, "olderThan");
        var purged = await console.Operator.PurgeAsync(age, cancellationToken).ConfigureAwait(false);
        Log.Console.Purged(Logger(loggers), ConsoleUser.NameOf(context), purged, age);
        return Json(new PurgeResponse(purged, age));
    }

    private static async Task<IResult> ListOutboxAsync(
        ConsoleOperator console, IOptions<CairnConsoleOptions> options, [FromQuery] string? status, [FromQuery] string? runId, [FromQuery] string? limit,
        CancellationToken cancellationToken)
    {
        var query = new OutboxQuery
        {
            Status = ConsoleInput.OutboxStatusOf(status),
            RunId = string.IsNullOrWhiteSpace(runId) ? null : ConsoleInput.RunIdOf(runId),
            Limit = ConsoleInput.Limit(limit, 100),
        };
        var messages = await WithOutbox(() => console.Operator.ListOutboxAsync(query, cancellationToken)).ConfigureAwait(false);
        return Json(messages.Select(m => new OutboxMessageResponse(
            m.Id, m.RunId.ToString(), m.CheckpointSequence, m.Index, m.Destination, m.Status, m.Attempts, m.CreatedAt, m.DueAt, m.LastError,
            StateView.Of(m.Payload, null, options.Value))).ToList());
    }

    private static async Task<IResult> RedriveAsync(ConsoleOperator console, ILoggerFactory loggers, HttpContext context, CancellationToken cancellationToken)
    {
        var request = await ConsoleInput.BodyAsync(context.Request, new RedriveRequest(null), cancellationToken).ConfigureAwait(false);
        var count = await WithOutbox(() => console.Operator.RedriveOutboxAsync(request.Ids, cancellationToken)).ConfigureAwait(false);
        Log.Console.OutboxRedriven(Logger(loggers), ConsoleUser.NameOf(context), count);
        return Json(new RedriveResponse(count));
    }

    /// <summary>Counts of the runs the filters match, by status, counted in the store (every status listed, 0 when none).</summary>
    private static async Task<IResult> SummaryAsync(
        ConsoleOperator console, [FromQuery] string? status, [FromQuery] string? flow, [FromQuery] string? recoveryId, [FromQuery] string? createdFrom,
        [FromQuery] string? createdTo, CancellationToken cancellationToken)
    {
        var counts = await console.Operator.CountRunsAsync(ConsoleInput.Filter(status, flow, recoveryId, createdFrom, createdTo), cancellationToken).ConfigureAwait(false);
        var all = Enum.GetValues<RunStatus>().ToDictionary(s => s, s => counts.GetValueOrDefault(s));
        return Json(new RunSummaryResponse(all, all.Values.Sum()));
    }

    private static async Task<IResult> ListFlowsAsync(ConsoleOperator console, CancellationToken cancellationToken) =>
        Json(await console.Operator.ListFlowsAsync(cancellationToken).ConfigureAwait(false));

    private static IResult Antiforgery(IAntiforgery antiforgery, IOptions<AntiforgeryOptions> antiforgeryOptions, HttpContext context)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return Json(new AntiforgeryTokenResponse(tokens.HeaderName ?? antiforgeryOptions.Value.HeaderName!, tokens.RequestToken!));
    }

    private static async Task<IResult> OpenApiAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var provider = context.RequestServices.GetRequiredKeyedService<IOpenApiDocumentProvider>(CairnConsoleDefaults.OpenApiDocumentName);
        var document = await provider.GetOpenApiDocumentAsync(cancellationToken).ConfigureAwait(false);
        var json = await document.SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_1, cancellationToken).ConfigureAwait(false);
        return Results.Text(json, "application/json; charset=utf-8");
    }

    private static async Task<T> WithOutbox<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("has no outbox", StringComparison.Ordinal))
        {
            throw new ConsoleInputException(ex.Message);
        }
    }

    private static ILogger Logger(ILoggerFactory loggers) => loggers.CreateLogger(Log.Console.Category);
}
