using System.Net;

namespace Cairn.AspNetCore.Tests.Api;

public sealed class ActionEndpointTests
{
    [Fact]
    public async Task Rerun_FailedRun_IsPendingAndTheEventNamesTheUser()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        var rerun = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/rerun"));

        Assert.Equal("Pending", rerun.GetProperty("status").GetString());
        var events = await host.Operator.GetEventsAsync(run.Id);
        Assert.Contains(events, e => e.Kind == RunEventKind.RerunRequested && e.Message.Contains("re-run requested by anonymous loopback user from the console", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rerun_PendingRun_Returns409()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);
        await host.Operator.RerunAsync(run.Id);

        var detail = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/rerun"), HttpStatusCode.Conflict);

        Assert.Contains("is Pending", detail);
    }

    [Fact]
    public async Task Rerun_UnknownRun_Returns404()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{RunId.New()}/rerun"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task RerunFrom_RecoveryPointWithEditedState_ResumesWithThatState()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        var rerun = await Json.ReadAsync(await host.SendAsync(
            HttpMethod.Post, $"/cairn/api/runs/{run.Id}/rerun-from", body: """{"recoveryPoint":"loaded","state":{"id":"F0","fail":false,"loaded":true}}"""));

        Assert.Equal("Pending", rerun.GetProperty("status").GetString());
        var latest = await host.Operator.GetLatestCheckpointAsync(run.Id);
        Assert.Contains("\"fail\":false", System.Text.Encoding.UTF8.GetString(latest!.State.Span));
        var events = await host.Operator.GetEventsAsync(run.Id);
        Assert.Contains(events, e => e.Kind == RunEventKind.RerunRequested && e.Message.Contains("by anonymous loopback user from the console", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RerunFrom_Sequence_IsAccepted()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);
        var sequence = (await host.Operator.GetCheckpointsAsync(run.Id))[0].Sequence;

        var rerun = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/rerun-from", body: $$"""{"sequence":{{sequence}}}"""));

        Assert.Equal("Pending", rerun.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("""{"recoveryPoint":"loaded","sequence":1}""", "Name either recoveryPoint or sequence, not both.")]
    [InlineData("""{"recoveryPoint":"nowhere"}""", "Run ")]
    [InlineData("""{"sequence":"one"}""", "The request's body is not the JSON expected")]
    [InlineData("""not json""", "The request's body is not the JSON expected")]
    public async Task RerunFrom_BadBody_Returns400AndChangesNothing(string body, string detail)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        var problem = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/rerun-from", body: body), HttpStatusCode.BadRequest);

        Assert.StartsWith(detail, problem);
        Assert.Equal(RunStatus.Failed, (await host.Operator.GetRunAsync(run.Id))!.Status);
    }

    [Theory]
    [InlineData("", "cancelled by anonymous loopback user from the console")]
    [InlineData("?compensate=true", "cancelled with compensation by anonymous loopback user from the console")]
    public async Task Cancel_FailedRun_IsCancelledAndTheEventNamesTheUser(string query, string message)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        var cancelled = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/cancel{query}"));

        // Nothing to compensate: a cancel with compensation is a plain cancel.
        Assert.Equal("Cancelled", cancelled.GetProperty("status").GetString());
        Assert.Contains(await host.Operator.GetEventsAsync(run.Id), e => e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_CompletedRun_Returns409()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 1);
        var run = await host.RunAsync(RunStatus.Completed);

        await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/cancel"), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Cancel_BadCompensateFlag_Returns400()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        var detail = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/cancel?compensate=maybe"), HttpStatusCode.BadRequest);

        Assert.Equal("compensate 'maybe' must be true or false.", detail);
    }

    [Fact]
    public async Task BulkRerun_DryRun_CountsAndChangesNothing()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 3, completed: 1);

        var result = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/runs/bulk/rerun?flow=orders&dryRun=true"));

        Assert.True(result.GetProperty("dryRun").GetBoolean());
        Assert.Equal(4, result.GetProperty("matched").GetInt32());
        Assert.Equal(3, result.GetProperty("eligible").GetInt32());
        Assert.Equal(0, result.GetProperty("changed").GetInt32());
        Assert.Equal(3, (await host.Operator.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Failed] })).Runs.Count);
    }

    [Fact]
    public async Task BulkRerun_Failed_RerunsEveryFailedRunOverSeveralPages()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 3, completed: 0);

        var result = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/runs/bulk/rerun?status=Failed"));

        Assert.Equal(3, result.GetProperty("changed").GetInt32());
        Assert.Equal(3, (await host.Operator.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Pending] })).Runs.Count);
    }

    [Fact]
    public async Task BulkCancel_OverTheLimit_Returns400AndChangesNothing()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 3, completed: 0, options: o => o.MaxBulkRuns = 2);

        var detail = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/runs/bulk/cancel?status=Failed"), HttpStatusCode.BadRequest);

        Assert.StartsWith("More than 2 runs match", detail);
        Assert.Equal(3, (await host.Operator.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Failed] })).Runs.Count);
    }

    [Fact]
    public async Task BulkCancel_Failed_CancelsThemAndSkipsTheCompleted()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 2, completed: 1);

        var result = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/runs/bulk/cancel?flow=orders"));

        Assert.Equal(2, result.GetProperty("changed").GetInt32());
        Assert.Equal("Completed", Assert.Single(result.GetProperty("skipped").EnumerateArray()).GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("/cairn/api/runs/bulk/rerun", "A bulk re-run needs a filter")]
    [InlineData("/cairn/api/runs/bulk/cancel?dryRun=yes", "dryRun 'yes' must be true or false.")]
    public async Task Bulk_BadFilter_Returns400(string url, string detail)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);

        Assert.StartsWith(detail, await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, url), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Purge_ZeroAge_DeletesFinishedRuns()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 2);

        var result = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/purge?olderThan=0s"));

        Assert.Equal(3, result.GetProperty("purged").GetInt32());
    }

    [Theory]
    [InlineData("", "olderThan is required")]
    [InlineData("?olderThan=abc", "olderThan 'abc' is not a duration")]
    [InlineData("?olderThan=1e9d", "olderThan '1e9d' is not a duration")]
    [InlineData("?olderThan=3000000d", "olderThan '3000000d' is more than 36,500 days.")]
    [InlineData("?olderThan=-1d", "olderThan '-1d' is not a duration")]
    public async Task Purge_BadAge_Returns400(string query, string detail)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 1);

        Assert.StartsWith(detail, await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/purge{query}"), HttpStatusCode.BadRequest));
    }
}
