using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.Console.BrowserTests;

/// <summary>The console driven the way an operator uses it: a real browser against a real server, store and engine.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ConsolePageTests(BrowserFixture browser) : ConsolePageTest(browser)
{
    [Fact]
    public async Task StatusList_FailedRunRerunAndConfirmed_ShowsCompleted()
    {
        await App.RunAsync("order-1");
        await Page.GotoAsync(App.BaseUrl);
        var row = Row("order-1");
        await Expect(row.Locator("[data-status]")).ToHaveTextAsync("Failed");
        await Expect(row).ToContainTextAsync("the mail server refused the order");

        await row.GetByRole(AriaRole.Link, new() { Name = "order-1" }).ClickAsync();
        await Expect(Page.Locator("#run-status")).ToHaveTextAsync("Failed");
        await Expect(Page.Locator("#timeline [data-kind=Failed]")).ToHaveCountAsync(1);
        App.MailServerDown = false;
        await Page.ClickAsync("#action-rerun");
        await Expect(Page.Locator("#confirm")).ToBeVisibleAsync();
        await Page.ClickAsync("#confirm-yes");
        await Expect(Page.Locator("#run-status")).ToHaveTextAsync("Completed");

        await Page.ClickAsync("text=‹ Runs");
        await Expect(Row("order-1").Locator("[data-status]")).ToHaveTextAsync("Completed");
        Assert.Equal(RunStatus.Completed, (await App.RunOfAsync("order-1")).Status);
        AssertCleanPage();
    }

    [Fact]
    public async Task RunDetail_CancelBackedOutThenConfirmed_CancelsOnlyOnConfirm()
    {
        await App.RunAsync("order-1");
        await Page.GotoAsync(App.BaseUrl + "#/runs/" + (await App.RunOfAsync("order-1")).Id);
        await Expect(Page.Locator("#run-status")).ToHaveTextAsync("Failed");

        await Page.ClickAsync("#action-cancel");
        await Page.ClickAsync("#confirm-no");
        await Expect(Page.Locator("#confirm")).ToBeHiddenAsync();
        Assert.Equal(RunStatus.Failed, (await App.RunOfAsync("order-1")).Status);
        await Page.ClickAsync("#action-cancel");
        await Page.ClickAsync("#confirm-yes");

        await Expect(Page.Locator("#run-status")).ToHaveTextAsync("Cancelled");
        await Expect(Page.Locator("#action-cancel")).ToBeDisabledAsync();
        await Expect(Page.Locator("#timeline [data-kind=Cancelled]")).ToContainTextAsync("cancelled by anonymous loopback user from the console");
        AssertCleanPage();
    }

    [Fact]
    public async Task StatusMessage_HoldingScript_ShowsAsText()
    {
        await App.RunAsync("order-1");
        await Page.GotoAsync(App.BaseUrl);

        await Expect(Row("order-1").Locator("td.message")).ToContainTextAsync(ConsoleApp.PricedMessage);
        await Row("order-1").GetByRole(AriaRole.Link).ClickAsync();
        await Expect(Page.Locator("#checkpoints")).ToContainTextAsync(ConsoleApp.PricedMessage);
        await Expect(Page.Locator("#timeline")).ToContainTextAsync("priced");
        await Page.GotoAsync(App.BaseUrl + "#/flows");
        await Expect(Page.Locator("[data-flow=orders]")).ToContainTextAsync(ConsoleApp.PricedMessage);

        Assert.Equal(0, await Page.Locator("main script, main img").CountAsync());
        AssertCleanPage();
    }

    [Fact]
    public async Task RerunFromHere_OlderCheckpointWithEditedState_EditsThatCheckpointsStateAndCompletes()
    {
        await App.RunAsync("order-1", quantity: 1); // Fails after 'priced': checkpoint #1 'loaded' (Total 0), #2 'priced' (Total 10).
        App.MailServerDown = false;
        await Page.GotoAsync(App.BaseUrl + "#/runs/" + (await App.RunOfAsync("order-1")).Id);
        await Expect(Page.Locator("#state pre.json")).ToContainTextAsync("\"Total\": 10");
        var loaded = Page.Locator("#checkpoints tr[data-sequence]").Filter(new() { HasText = "loaded" });

        await loaded.GetByRole(AriaRole.Button, new() { Name = "View state" }).ClickAsync();
        await Expect(Page.Locator("#state .state-meta")).ToContainTextAsync("Checkpoint #1 (loaded)");
        await Expect(Page.Locator("#state pre.json")).ToContainTextAsync("\"Total\": 0");
        await Expect(Page.Locator("#checksum")).ToHaveTextAsync("checksum verified");
        await loaded.GetByRole(AriaRole.Button, new() { Name = "Rerun from here" }).ClickAsync();
        await Expect(Page.Locator("#editor-state")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("\"Total\": 0"));
        var state = JsonNode.Parse(await Page.InputValueAsync("#editor-state"))!;
        state["Quantity"] = 3;
        await Page.CheckAsync("#editor-edit");
        await Page.FillAsync("#editor-state", state.ToJsonString());
        await Page.ClickAsync("#editor-rerun");
        await Expect(Page.Locator("#confirm-text")).ToContainTextAsync("from checkpoint #1 (loaded) with the edited state");
        await Page.ClickAsync("#confirm-yes");

        await Expect(Page.Locator("#run-status")).ToHaveTextAsync("Completed");
        await Expect(Page.Locator("#result-view pre.json")).ToContainTextAsync("\"Total\": 30");
        await Expect(Page.Locator("#timeline [data-kind=RerunRequested]")).ToHaveCountAsync(1);
        AssertCleanPage();
    }

    [Fact]
    public async Task RunDetail_TamperedCheckpoint_SaysItsChecksumFailsAndRefusesARerunFromIt()
    {
        await App.RunAsync("order-1");
        var run = await App.RunOfAsync("order-1");
        await App.TamperLatestCheckpointAsync(run.Id);
        App.MailServerDown = false;

        await Page.GotoAsync(App.BaseUrl + "#/runs/" + run.Id);
        await Expect(Page.Locator("#checksum")).ToHaveTextAsync("checksum MISMATCH: the state is corrupted");
        await Page.ClickAsync("#action-rerun");
        await Page.ClickAsync("#confirm-yes");

        // The operator API refuses to resume from a quarantined checkpoint: nothing changes.
        await Expect(Page.Locator("#error")).ToContainTextAsync("is corrupt: its checksum does not match its data, so the checkpoint is quarantined");
        await Expect(Page.Locator("#timeline [data-kind=RerunRequested]")).ToHaveCountAsync(0);
        await Expect(Page.Locator("#run-status")).ToHaveTextAsync("Failed");
        await Expect(Page.Locator("#checksum")).ToHaveTextAsync("checksum MISMATCH: the state is corrupted");
        Assert.Equal(RunStatus.Failed, (await App.RunOfAsync("order-1")).Status);
        AssertCleanPage(409);
    }

    [Fact]
    public async Task RerunFromHere_EditedStateNotJson_SaysSoAndSendsNothing()
    {
        await App.RunAsync("order-1");
        await Page.GotoAsync(App.BaseUrl + "#/runs/" + (await App.RunOfAsync("order-1")).Id);
        await Page.Locator("#checkpoints tr[data-sequence]").Filter(new() { HasText = "priced" }).GetByRole(AriaRole.Button, new() { Name = "Rerun from here" }).ClickAsync();
        await Expect(Page.Locator("#editor-state")).ToBeDisabledAsync();
        await Expect(Page.Locator("#editor-state")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("\"Quantity\": 1"));

        await Page.CheckAsync("#editor-edit");
        await Page.FillAsync("#editor-state", "{ not json");
        await Page.ClickAsync("#editor-rerun");

        await Expect(Page.Locator("#error")).ToContainTextAsync("The edited state is not JSON");
        await Expect(Page.Locator("#confirm")).ToBeHiddenAsync();
        Assert.Equal(RunStatus.Failed, (await App.RunOfAsync("order-1")).Status);
        AssertCleanPage();
    }

    [Fact]
    public async Task BulkRepair_TwentyFailedRuns_DryRunThenRerunAll_CompletesThem()
    {
        for (var i = 0; i < 20; i++)
        {
            await App.RunAsync($"order-{i:00}");
        }

        App.MailServerDown = false;
        await Page.GotoAsync(App.BaseUrl + "#/bulk");
        await Page.SelectOptionAsync("#filter-status", "Failed");
        await Page.ClickAsync("#bulk-dry-run");
        await Expect(Page.Locator("#bulk-count")).ToContainTextAsync("20 runs match (status Failed): 20 can be re-run");
        Assert.Equal(20, (await App.Engine.Operator.CountRunsAsync(new RunQuery { Statuses = [RunStatus.Failed] })).GetValueOrDefault(RunStatus.Failed));

        await Page.ClickAsync("#bulk-rerun");
        await Expect(Page.Locator("#confirm-text")).ToContainTextAsync("20 runs (status Failed)");
        await Page.ClickAsync("#confirm-yes");
        await Expect(Page.Locator("#bulk-done")).ToHaveTextAsync("Re-run all: 20 of 20 runs changed.");

        await Page.ClickAsync("nav >> text=Runs");
        await Page.SelectOptionAsync("#filter-status", "");
        await Expect(Page.Locator("[data-count=Completed] b")).ToHaveTextAsync("20");
        await Expect(Page.Locator("[data-count=Failed] b")).ToHaveTextAsync("0");
        AssertCleanPage();
    }

    [Fact]
    public async Task StatusList_ThirtyRuns_PagesByCursorAndFindsARecoveryId()
    {
        for (var i = 0; i < 30; i++)
        {
            await App.RunAsync($"order-{i:00}");
        }

        await Page.GotoAsync(App.BaseUrl);
        await Expect(Page.Locator("#runs tr[data-run]")).ToHaveCountAsync(25);
        await Page.ClickAsync("#page-next");
        await Expect(Page.Locator("#runs tr[data-run]")).ToHaveCountAsync(5);
        await Expect(Page.Locator("#page-next")).ToBeDisabledAsync();
        await Page.ClickAsync("#page-previous");
        await Expect(Page.Locator("#runs tr[data-run]")).ToHaveCountAsync(25);

        await Page.FillAsync("#filter-recovery-id", "order-07");
        await Page.PressAsync("#filter-recovery-id", "Enter");
        await Expect(Page.Locator("#runs tr[data-run]")).ToHaveCountAsync(1);
        await Expect(Row("order-07")).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-count=Failed] b")).ToHaveTextAsync("1");
        await Page.SelectOptionAsync("#filter-status", "Completed");
        await Expect(Page.Locator("#runs td.empty")).ToHaveTextAsync("No run matches.");
        AssertCleanPage();
    }

    [Fact]
    public async Task RunDetail_StateTurnedOff_SaysSoAndShowsNoState()
    {
        await using var app = await ConsoleApp.StartAsync(o => o.ShowState = false);
        await app.RunAsync("order-1");

        await Page.GotoAsync(app.BaseUrl + "#/runs/" + (await app.RunOfAsync("order-1")).Id);

        await Expect(Page.Locator("#state .state-hidden")).ToContainTextAsync("ShowState is off");
        Assert.Equal(0, await Page.Locator("#state pre").CountAsync());
        AssertCleanPage();
    }

    /// <summary>Renders each page (the README shows the first two); saves them where <c>CAIRN_CONSOLE_SCREENSHOTS</c> names a folder.</summary>
    [Fact]
    public async Task Screenshots_EachPage_Renders()
    {
        // An app of its own, whose status messages read as a real flow's do (the shared one's hold a script on purpose).
        await using var app = await ConsoleApp.StartAsync(pricedMessage: "order priced");
        app.MailServerDown = false;
        foreach (var id in new[] { "order-1041", "order-1042", "order-1043", "order-1045" })
        {
            await app.RunAsync(id, quantity: 2);
        }

        await app.RunAsync("order-1044", quantity: -1);
        app.MailServerDown = true;
        await app.RunAsync("order-1046", quantity: 1);
        await app.RunAsync("order-1047", quantity: 4);
        var folder = Environment.GetEnvironmentVariable("CAIRN_CONSOLE_SCREENSHOTS");

        await Page.GotoAsync(app.BaseUrl);
        await Expect(Page.Locator("#runs tr[data-run]")).ToHaveCountAsync(7);
        await Expect(Page.Locator("[data-count=Failed] b")).ToHaveTextAsync("3");
        if (folder is not null)
        {
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, "console-status-list.png"), FullPage = true });
        }

        await Row("order-1044").GetByRole(AriaRole.Link).ClickAsync();
        await Expect(Page.Locator("#checksum")).ToHaveTextAsync("checksum verified");
        if (folder is not null)
        {
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, "console-run-detail.png"), FullPage = true });
        }

        await Page.ClickAsync("nav >> text=Flows");
        await Expect(Page.Locator("[data-flow=orders] > ol > .step-point")).ToHaveCountAsync(2);
        await Expect(Page.Locator("[data-flow=orders] .step-branch .body .step-point")).ToContainTextAsync("approved by a manager");
        if (folder is not null)
        {
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, "console-flows.png"), FullPage = true });
        }

        await Page.ClickAsync("nav >> text=Bulk repair");
        await Page.SelectOptionAsync("#filter-status", "Failed");
        await Page.ClickAsync("#bulk-dry-run");
        await Expect(Page.Locator("#bulk-count")).ToContainTextAsync("3 runs match");
        if (folder is not null)
        {
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, "console-bulk.png"), FullPage = true });
        }

        AssertCleanPage();
    }
}
