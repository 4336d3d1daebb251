using Cairn.Runs;
using Cairn.Schedules;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.Console.BrowserTests;

/// <summary>The Schedules page, as an operator pauses, resumes, triggers and deletes the schedules that start runs.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SchedulesPageTests(BrowserFixture browser) : ConsolePageTest(browser)
{
    [Fact]
    public async Task Schedules_PauseResumeTriggerDelete_EachAsksFirstAndActs()
    {
        await App.Engine.Operator.SaveScheduleAsync(
            "hourly-orders", "orders", new ConsoleApp.Order { Id = "scheduled" }, ScheduleSpec.Every(TimeSpan.FromHours(1)),
            new ScheduleOptions { MissedSlots = MissedSlotPolicy.RunAll, MissedSlotLimit = 3, Overlap = OverlapPolicy.Queue });
        await App.Engine.Operator.SaveScheduleAsync(
            "nightly-orders", "orders", new ConsoleApp.Order { Id = "nightly" }, ScheduleSpec.Cron("0 2 * * *", "Europe/Berlin"));
        await Page.GotoAsync(App.BaseUrl + "#/schedules");
        var row = Page.Locator("#schedules tr[data-schedule='hourly-orders']");
        await Expect(row).ToHaveAttributeAsync("data-paused", "false");
        await Expect(row).ToContainTextAsync("orders");
        await Expect(row).ToContainTextAsync("every 1 hour");
        await Expect(row).ToContainTextAsync("missed: RunAll (up to 3), overlap: Queue");
        await Expect(row).ToContainTextAsync("defined at run time");

        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(Page.Locator("#confirm-text")).ToContainTextAsync("Pause schedule hourly-orders?");
        await Page.ClickAsync("#confirm-no");
        Assert.False((await App.Engine.Operator.GetScheduleAsync("hourly-orders"))!.Paused);
        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Page.ClickAsync("#confirm-yes");
        await Expect(row).ToHaveAttributeAsync("data-paused", "true");
        Assert.True((await App.Engine.Operator.GetScheduleAsync("hourly-orders"))!.Paused);

        await row.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Page.ClickAsync("#confirm-yes");
        await Expect(row).ToHaveAttributeAsync("data-paused", "false");

        await row.GetByRole(AriaRole.Button, new() { Name = "Run now" }).ClickAsync();
        await Expect(Page.Locator("#confirm-text")).ToContainTextAsync("Start a run of orders for schedule hourly-orders now?");
        await Page.ClickAsync("#confirm-yes");
        await Expect(row.GetByRole(AriaRole.Link)).ToBeVisibleAsync(new() { Timeout = 20_000 });
        var runs = await App.Engine.Operator.ListRunsAsync(new RunQuery { FlowName = "orders" });
        var triggered = Assert.Single(runs.Runs);
        Assert.StartsWith("schedule:hourly-orders:manual:", triggered.RecoveryId, StringComparison.Ordinal);
        Assert.Equal(triggered.Id.ToString(), (await row.GetByRole(AriaRole.Link).GetAttributeAsync("href"))!.Split('/')[^1]);
        if (Environment.GetEnvironmentVariable("CAIRN_CONSOLE_SCREENSHOTS") is { } folder)
        {
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, "console-schedules.png"), FullPage = true });
        }

        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(Page.Locator("#confirm-text")).ToContainTextAsync("Its runs are kept.");
        await Page.ClickAsync("#confirm-yes");
        await Expect(row).ToHaveCountAsync(0);
        await Expect(Page.Locator("#schedules tr[data-schedule='nightly-orders']")).ToContainTextAsync("0 2 * * * Europe/Berlin");
        Assert.Null(await App.Engine.Operator.GetScheduleAsync("hourly-orders"));
        Assert.NotNull(await App.Engine.Operator.GetRunAsync(triggered.Id));
        AssertCleanPage();
    }
}
