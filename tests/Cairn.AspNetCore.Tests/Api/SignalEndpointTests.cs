using System.Net;

namespace Cairn.AspNetCore.Tests.Api;

public sealed class SignalEndpointTests
{
    [Fact]
    public async Task Signal_UnfinishedRun_IsKeptOnce_AndListed()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);
        await host.Operator.RerunAsync(run.Id); // pending again: no engine runs here

        var delivered = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/signals/approval?signalId=hook-1", body: """{"approved":true}"""));
        var again = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/signals/approval?signalId=hook-1", body: """{"approved":false}"""));

        Assert.Equal(("approval", "hook-1", false), (delivered.GetProperty("signal").GetString(), delivered.GetProperty("signalId").GetString(), delivered.GetProperty("duplicate").GetBoolean()));
        Assert.True(again.GetProperty("duplicate").GetBoolean());
        var listed = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}/signals"));
        var signal = Assert.Single(listed.EnumerateArray());
        Assert.Equal("""{"approved":true}""", signal.GetProperty("payload").GetString());
        var events = await host.Operator.GetEventsAsync(run.Id);
        Assert.Contains(events, e => e.Kind == RunEventKind.Signalled && e.Message.Contains("hook-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Signal_BadInput_Returns400_FinishedRun409_UnknownRun404_NothingKept()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 1);
        var failed = await host.RunAsync(RunStatus.Failed);
        var completed = await host.RunAsync(RunStatus.Completed);

        var notJson = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{failed.Id}/signals/approval", body: "approved"), HttpStatusCode.BadRequest);
        Assert.Contains("The payload of signal 'approval' is not JSON", notJson, StringComparison.Ordinal);
        await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/not-a-run/signals/approval", body: "{}"), HttpStatusCode.BadRequest);
        var finished = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{completed.Id}/signals/approval", body: "{}"), HttpStatusCode.Conflict);
        Assert.Contains("cannot be signalled", finished, StringComparison.Ordinal);
        await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{RunId.New()}/signals/approval", body: "{}"), HttpStatusCode.NotFound);

        Assert.Empty(await host.Operator.ListSignalsAsync(failed.Id));
        Assert.Empty(await host.Operator.ListSignalsAsync(completed.Id));
    }
}
