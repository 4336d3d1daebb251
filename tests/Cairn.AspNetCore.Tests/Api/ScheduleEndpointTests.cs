using System.Net;
using Cairn.Schedules;

namespace Cairn.AspNetCore.Tests.Api;

public sealed class ScheduleEndpointTests
{
    [Fact]
    public async Task Schedules_ListShowPauseResumeTriggerDelete()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);
        await host.Operator.SaveScheduleAsync("nightly", "orders", new ConsoleHost.Order { Id = "N" }, ScheduleSpec.Cron("0 2 * * *", "Europe/Berlin"));

        var listed = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/schedules"));
        var nightly = Assert.Single(listed.EnumerateArray());
        Assert.Equal(("nightly", "orders", "cron 0 2 * * * @ Europe/Berlin", false), (nightly.GetProperty("name").GetString(), nightly.GetProperty("flow").GetString(), nightly.GetProperty("spec").GetString(), nightly.GetProperty("paused").GetBoolean()));

        var paused = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/schedules/nightly/pause"));
        Assert.True(paused.GetProperty("paused").GetBoolean());
        var triggered = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/schedules/nightly/trigger"));
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, triggered.GetProperty("triggeredAt").ValueKind);
        var resumed = await Json.ReadAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/schedules/nightly/resume"));
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        Assert.False((await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/schedules/nightly"))).GetProperty("paused").GetBoolean());

        var deleted = await host.SendAsync(HttpMethod.Delete, "/cairn/api/schedules/nightly");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await host.Operator.ListSchedulesAsync());
    }

    [Fact]
    public async Task Schedules_UnknownNameOrAction_404And400()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);
        await host.Operator.SaveScheduleAsync("nightly", "orders", new ConsoleHost.Order(), ScheduleSpec.Every(TimeSpan.FromHours(1)));

        var missing = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/schedules/weekly/pause"), HttpStatusCode.NotFound);
        Assert.Equal("No schedule is named 'weekly'; 'cairn schedules list' shows them.", missing);
        await Json.ProblemAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/schedules/weekly"), HttpStatusCode.NotFound);
        var bad = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Post, "/cairn/api/schedules/nightly/explode"), HttpStatusCode.BadRequest);
        Assert.Contains("not an action on a schedule", bad, StringComparison.Ordinal);
        Assert.False((await host.Operator.GetScheduleAsync("nightly"))!.Paused);
    }
}
