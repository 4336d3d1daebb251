using System.Net;
using System.Text.Json;

namespace Cairn.AspNetCore.Tests.Api;

public sealed class RunsEndpointTests
{
    [Fact]
    public async Task ListRuns_StatusFilter_ReturnsOnlyThoseRunsWithStatusesAsStrings()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 2, completed: 1);

        var page = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/runs?status=failed"));

        var runs = page.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.Equal("Failed", r.GetProperty("status").GetString()));
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task ListRuns_FlowAndRecoveryIdFilters_FindTheOneRun()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 2, completed: 1);

        var page = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/runs?flow=orders&recoveryId=completed-0"));
        var none = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/runs?flow=other"));

        Assert.Equal("completed-0", Assert.Single(page.GetProperty("runs").EnumerateArray()).GetProperty("recoveryId").GetString());
        Assert.Empty(none.GetProperty("runs").EnumerateArray());
    }

    [Fact]
    public async Task ListRuns_LimitAndCursor_PageThroughEveryRunOnce()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 2, completed: 1);

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs?limit=1{(cursor is null ? "" : $"&cursor={cursor}")}"));
            seen.AddRange(page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(3, seen.Distinct().Count());
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public async Task ListRuns_CreatedRange_ExcludesRunsOutsideIt()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);

        var future = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/runs?createdFrom=2999-01-01T00:00:00Z"));
        var past = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/runs?createdFrom=2000-01-01T00:00:00Z&createdTo=2999-01-01T00:00:00Z"));

        Assert.Empty(future.GetProperty("runs").EnumerateArray());
        Assert.Single(past.GetProperty("runs").EnumerateArray());
    }

    [Theory]
    [InlineData("status=Bogus", "status 'Bogus' is not a run status")]
    [InlineData("status=5", "status '5' is not a run status")]
    [InlineData("limit=0", "limit '0' must be a whole number between 1 and 1000.")]
    [InlineData("limit=-1", "limit '-1' must be")]
    [InlineData("cursor=nonsense", "cursor 'nonsense' is not a cursor")]
    [InlineData("createdFrom=yesterday", "createdFrom 'yesterday' is not a time")]
    public async Task ListRuns_BadQuery_Returns400WithOneLine(string query, string detail)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var problem = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs?{query}"), HttpStatusCode.BadRequest);

        Assert.StartsWith(detail, problem);
    }

    [Fact]
    public async Task GetRun_FailedRun_ShowsEventsCheckpointsAndVerifiedState()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        var detail = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}"));

        Assert.Equal("Failed", detail.GetProperty("run").GetProperty("status").GetString());
        Assert.Contains(detail.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == "RecoveryPointPassed");
        Assert.Equal("loaded", Assert.Single(detail.GetProperty("checkpoints").EnumerateArray()).GetProperty("recoveryPoint").GetString());
        var state = detail.GetProperty("state");
        Assert.True(state.GetProperty("shown").GetBoolean());
        Assert.True(state.GetProperty("checksumMatches").GetBoolean());
        Assert.Contains("hunter2", state.GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, detail.GetProperty("result").ValueKind);
    }

    [Fact]
    public async Task GetRun_CompletedRun_ShowsResult()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 1);
        var run = await host.RunAsync(RunStatus.Completed);

        var detail = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}"));

        Assert.Contains("\"C0\"", detail.GetProperty("result").GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, detail.GetProperty("state").ValueKind);
    }

    [Fact]
    public async Task GetRun_ShowStateOff_HidesState()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0, options: o => o.ShowState = false);
        var run = await host.RunAsync(RunStatus.Failed);

        var state = (await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}"))).GetProperty("state");

        Assert.False(state.GetProperty("shown").GetBoolean());
        Assert.Equal(JsonValueKind.Null, state.GetProperty("text").ValueKind);
        Assert.True(state.GetProperty("checksumMatches").GetBoolean());
    }

    [Fact]
    public async Task GetRun_RedactedProperty_ReplacesItsValue()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0, options: o => o.RedactedStateProperties.Add("secret"));
        var run = await host.RunAsync(RunStatus.Failed);

        var state = (await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}"))).GetProperty("state");

        Assert.True(state.GetProperty("redacted").GetBoolean());
        Assert.DoesNotContain("hunter2", state.GetProperty("text").GetString());
        Assert.Contains("***", state.GetProperty("text").GetString());
    }

    [Fact]
    public async Task GetRun_StateOverLimit_IsCutAndMarkedTruncated()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0, options: o => o.MaxStateBytes = 10);
        var run = await host.RunAsync(RunStatus.Failed);

        var state = (await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}"))).GetProperty("state");

        Assert.True(state.GetProperty("truncated").GetBoolean());
        Assert.Equal(10, state.GetProperty("text").GetString()!.Length);
        Assert.True(state.GetProperty("size").GetInt32() > 10);
    }

    [Fact]
    public async Task GetCheckpoint_KeptCheckpoint_ShowsItsVerifiedState()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        var found = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}/checkpoints/1"));

        Assert.Equal(1, found.GetProperty("checkpoint").GetProperty("sequence").GetInt64());
        Assert.Equal("loaded", found.GetProperty("checkpoint").GetProperty("recoveryPoint").GetString());
        var state = found.GetProperty("state");
        Assert.True(state.GetProperty("checksumMatches").GetBoolean());
        Assert.Contains("hunter2", state.GetProperty("text").GetString());
    }

    [Fact]
    public async Task GetCheckpoint_RedactedProperty_ReplacesItsValue()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0, options: o => o.RedactedStateProperties.Add("secret"));
        var run = await host.RunAsync(RunStatus.Failed);

        var state = (await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}/checkpoints/1"))).GetProperty("state");

        Assert.True(state.GetProperty("redacted").GetBoolean());
        Assert.DoesNotContain("hunter2", state.GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("/checkpoints/9", HttpStatusCode.NotFound, "keeps no checkpoint 9")]
    [InlineData("/checkpoints/0", HttpStatusCode.BadRequest, "'0' is not a checkpoint's sequence number (a whole number from 1).")]
    [InlineData("/checkpoints/x1", HttpStatusCode.BadRequest, "'x1' is not a checkpoint's sequence number (a whole number from 1).")]
    public async Task GetCheckpoint_NoSuchCheckpoint_SaysWhich(string suffix, HttpStatusCode status, string detail)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        var problem = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}{suffix}"), status);

        Assert.Contains(detail, problem);
    }

    [Fact]
    public async Task GetCheckpoint_UnknownRun_Returns404()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var detail = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{RunId.New()}/checkpoints/1"), HttpStatusCode.NotFound);

        Assert.Contains("does not exist", detail);
    }

    [Fact]
    public async Task GetRun_UnknownRun_Returns404()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var detail = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{RunId.New()}"), HttpStatusCode.NotFound);

        Assert.Contains("does not exist", detail);
    }

    [Fact]
    public async Task GetRun_BadId_Returns400()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var detail = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/runs/xyz"), HttpStatusCode.BadRequest);

        Assert.Equal("'xyz' is not a run ID (expected 32 hex digits).", detail);
    }

    [Fact]
    public async Task GetRun_ScriptInStatusMessage_ComesBackAsEscapedJsonString()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        using var response = await host.SendAsync(HttpMethod.Get, $"/cairn/api/runs/{run.Id}");
        var raw = await response.Content.ReadAsStringAsync();

        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        Assert.DoesNotContain("<script>", raw);
        Assert.Contains("\\u003Cscript\\u003E", raw);
        var detail = JsonDocument.Parse(raw).RootElement;
        Assert.Equal("<script>alert('loaded')</script>", detail.GetProperty("run").GetProperty("statusMessage").GetString());
    }
}
