using System.Net;

namespace Cairn.AspNetCore.Tests.Api;

public sealed class OutboxAndSummaryTests
{
    [Fact]
    public async Task ListOutbox_NoMessages_ReturnsEmptyList()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 1);

        var messages = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/outbox?status=DeadLettered"));

        Assert.Empty(messages.EnumerateArray());
    }

    [Theory]
    [InlineData("status=Lost", "status 'Lost' is not an outbox status")]
    [InlineData("runId=abc", "'abc' is not a run ID")]
    [InlineData("limit=100000", "limit '100000' must be")]
    public async Task ListOutbox_BadQuery_Returns400(string query, string detail)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        Assert.StartsWith(detail, await Json.ProblemAsync(await host.SendAsync(HttpMethod.Get, $"/cairn/api/outbox?{query}"), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Redrive_NothingDeadLettered_ReturnsZero()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var all = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/outbox/redrive"));
        var named = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/outbox/redrive", body: $$"""{"ids":["{{Guid.NewGuid()}}"]}"""));

        Assert.Equal(0, all.GetProperty("redriven").GetInt32());
        Assert.Equal(0, named.GetProperty("redriven").GetInt32());
    }

    [Fact]
    public async Task Redrive_BadBody_Returns400()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var detail = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/outbox/redrive", body: """{"ids":["not-a-guid"]}"""), HttpStatusCode.BadRequest);

        Assert.StartsWith("The request's body is not the JSON expected", detail);
    }

    [Fact]
    public async Task Summary_CountsRunsByStatusInTheStore()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 2, completed: 1);

        var summary = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/summary"));
        var completed = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/summary?recoveryId=completed-0"));

        var counts = summary.GetProperty("countsByStatus");
        Assert.Equal(2, counts.GetProperty("Failed").GetInt32());
        Assert.Equal(1, counts.GetProperty("Completed").GetInt32());
        Assert.Equal(0, counts.GetProperty("Running").GetInt32());
        Assert.Equal(3, summary.GetProperty("total").GetInt32());
        Assert.Equal(1, completed.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task PurgeSettings_ConsoleOverAStoreAlone_AreUnknown()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var purge = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/purge"));

        Assert.False(purge.GetProperty("known").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, purge.GetProperty("retentionPeriod").ValueKind);
    }

    [Fact]
    public async Task Summary_BadFilter_Returns400()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        Assert.StartsWith("status 'Lost' is not a run status", await Json.ProblemAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/summary?status=Lost"), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task ListFlows_FlowRecordedByItsEngine_ShowsStructureAndRecoveryPoints()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 1);

        using var response = await host.SendAsync(HttpMethod.Get, "/cairn/api/flows");
        var raw = await response.Content.ReadAsStringAsync();
        var flows = await Json.ReadAsync(response);

        var flow = Assert.Single(flows.EnumerateArray());
        Assert.Equal("orders", flow.GetProperty("name").GetString());
        Assert.Equal(["loaded"], flow.GetProperty("recoveryPoints").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["load", "loaded", "send"], flow.GetProperty("structure").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.DoesNotContain("<script>", raw);
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheApiOnly()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var document = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/openapi.json"));

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/cairn/api/runs", paths);
        Assert.Contains("/cairn/api/runs/{id}/rerun-from", paths);
        Assert.DoesNotContain("/cairn/api/openapi.json", paths);
    }
}
