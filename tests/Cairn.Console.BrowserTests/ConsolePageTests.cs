using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.Console.BrowserTests;

/// <summary>The console driven the way an operator uses it: a real browser against a real server, store and engine.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ConsolePageTests(BrowserFixture browser) : IAsyncLifetime
{
    private readonly List<string> _dialogs = [];
    private readonly List<string> _consoleErrors = [];
    private ConsoleApp _app = null!;
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _app = await ConsoleApp.StartAsync();
        _context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1360, Height = 900 } });
        _page = await _context.NewPageAsync();
        _page.Dialog += (_, dialog) =>
        {
            lock (_dialogs)
            {
                _dialogs.Add(dialog.Message);
            }

            _ = dialog.DismissAsync();
        };
        _page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_consoleErrors)
                {
                    _consoleErrors.Add($"{message.Text} ({message.Location})");
                }
            }
        };
    }

    public async Task DisposeAsync()
    {
        await _context.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task StatusList_FailedRunRerunAndConfirmed_ShowsCompleted()
    {
        await _app.RunAsync("order-1");
        await _page.GotoAsync(_app.BaseUrl);
        var row = Row("order-1");
        await Expect(row.Locator("[data-status]")).ToHaveTextAsync("Failed");
        await Expect(row).ToContainTextAsync("the mail server refused the order");

        await row.GetByRole(AriaRole.Link, new() { Name = "order-1" }).ClickAsync();
        await Expect(_page.Locator("#run-status")).ToHaveTextAsync("Failed");
        await Expect(_page.Locator("#timeline [data-kind=Failed]")).ToHaveCountAsync(1);
        _app.MailServerDown = false;
        await _page.ClickAsync("#action-rerun");
        await Expect(_page.Locator("#confirm")).ToBeVisibleAsync();
        await _page.ClickAsync("#confirm-yes");
        await Expect(_page.Locator("#run-status")).ToHaveTextAsync("Completed");

        await _page.ClickAsync("text=‹ Runs");
        await Expect(Row("order-1").Locator("[data-status]")).ToHaveTextAsync("Completed");
        Assert.Equal(RunStatus.Completed, (await _app.RunOfAsync("order-1")).Status);
        AssertCleanPage();
    }

    [Fact]
    public async Task RunDetail_CancelBackedOutThenConfirmed_CancelsOnlyOnConfirm()
    {
        await _app.RunAsync("order-1");
        await _page.GotoAsync(_app.BaseUrl + "#/runs/" + (await _app.RunOfAsync("order-1")).Id);
        await Expect(_page.Locator("#run-status")).ToHaveTextAsync("Failed");

        await _page.ClickAsync("#action-cancel");
        await _page.ClickAsync("#confirm-no");
        await Expect(_page.Locator("#confirm")).ToBeHiddenAsync();
        Assert.Equal(RunStatus.Failed, (await _app.RunOfAsync("order-1")).Status);
        await _page.ClickAsync("#action-cancel");
        await _page.ClickAsync("#confirm-yes");

        await Expect(_page.Locator("#run-status")).ToHaveTextAsync("Cancelled");
        await Expect(_page.Locator("#action-cancel")).ToBeDisabledAsync();
        await Expect(_page.Locator("#timeline [data-kind=Cancelled]")).ToContainTextAsync("cancelled by anonymous loopback user from the console");
        AssertCleanPage();
    }

    [Fact]
    public async Task StatusMessage_HoldingScript_ShowsAsText()
    {
        await _app.RunAsync("order-1");
        await _page.GotoAsync(_app.BaseUrl);

        await Expect(Row("order-1").Locator("td.message")).ToContainTextAsync(ConsoleApp.PricedMessage);
        await Row("order-1").GetByRole(AriaRole.Link).ClickAsync();
        await Expect(_page.Locator("#checkpoints")).ToContainTextAsync(ConsoleApp.PricedMessage);
        await Expect(_page.Locator("#timeline")).ToContainTextAsync("priced");
        await _page.GotoAsync(_app.BaseUrl + "#/flows");
        await Expect(_page.Locator("[data-flow=orders]")).ToContainTextAsync(ConsoleApp.PricedMessage);

        Assert.Equal(0, await _page.Locator("main script, main img").CountAsync());
        AssertCleanPage();
    }

    [Fact]
    public async Task RerunFromHere_EarlierPointWithEditedState_Completes()
    {
        await _app.RunAsync("order-1", quantity: -1);
        _app.MailServerDown = false;
        await _page.GotoAsync(_app.BaseUrl + "#/runs/" + (await _app.RunOfAsync("order-1")).Id);
        await Expect(_page.Locator("#run-last-error")).ToContainTextAsync("quantity -1 is not positive");
        var state = JsonNode.Parse(await _page.Locator("#state pre.json").TextContentAsync() ?? "")!;
        await Expect(_page.Locator("#checksum")).ToHaveTextAsync("checksum verified");

        state["Quantity"] = 3;
        await _page.Locator("#checkpoints tr[data-sequence]").Filter(new() { HasText = "loaded" }).GetByRole(AriaRole.Button, new() { Name = "Rerun from here" }).ClickAsync();
        await _page.CheckAsync("#editor-edit");
        await _page.FillAsync("#editor-state", state.ToJsonString());
        await _page.ClickAsync("#editor-rerun");
        await Expect(_page.Locator("#confirm-text")).ToContainTextAsync("with the edited state");
        await _page.ClickAsync("#confirm-yes");

        await Expect(_page.Locator("#run-status")).ToHaveTextAsync("Completed");
        await Expect(_page.Locator("#result-view pre.json")).ToContainTextAsync("\"Total\": 30");
        await Expect(_page.Locator("#timeline [data-kind=RerunRequested]")).ToHaveCountAsync(1);
        AssertCleanPage();
    }

    [Fact]
    public async Task RerunFromHere_EditedStateNotJson_SaysSoAndSendsNothing()
    {
        await _app.RunAsync("order-1");
        await _page.GotoAsync(_app.BaseUrl + "#/runs/" + (await _app.RunOfAsync("order-1")).Id);
        await _page.Locator("#checkpoints tr[data-sequence]").Filter(new() { HasText = "priced" }).GetByRole(AriaRole.Button, new() { Name = "Rerun from here" }).ClickAsync();
        await Expect(_page.Locator("#editor-state")).ToBeDisabledAsync();
        await Expect(_page.Locator("#editor-state")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("\"Quantity\": 1"));

        await _page.CheckAsync("#editor-edit");
        await _page.FillAsync("#editor-state", "{ not json");
        await _page.ClickAsync("#editor-rerun");

        await Expect(_page.Locator("#error")).ToContainTextAsync("The edited state is not JSON");
        await Expect(_page.Locator("#confirm")).ToBeHiddenAsync();
        Assert.Equal(RunStatus.Failed, (await _app.RunOfAsync("order-1")).Status);
        AssertCleanPage();
    }

    [Fact]
    public async Task BulkRepair_TwentyFailedRuns_DryRunThenRerunAll_CompletesThem()
    {
        for (var i = 0; i < 20; i++)
        {
            await _app.RunAsync($"order-{i:00}");
        }

        _app.MailServerDown = false;
        await _page.GotoAsync(_app.BaseUrl + "#/bulk");
        await _page.SelectOptionAsync("#filter-status", "Failed");
        await _page.ClickAsync("#bulk-dry-run");
        await Expect(_page.Locator("#bulk-count")).ToContainTextAsync("20 runs match (status Failed): 20 can be re-run");
        Assert.Equal(20, (await _app.Engine.Operator.CountRunsAsync(new RunQuery { Statuses = [RunStatus.Failed] })).GetValueOrDefault(RunStatus.Failed));

        await _page.ClickAsync("#bulk-rerun");
        await Expect(_page.Locator("#confirm-text")).ToContainTextAsync("20 runs (status Failed)");
        await _page.ClickAsync("#confirm-yes");
        await Expect(_page.Locator("#bulk-done")).ToHaveTextAsync("Re-run all: 20 of 20 runs changed.");

        await _page.ClickAsync("nav >> text=Runs");
        await _page.SelectOptionAsync("#filter-status", "");
        await Expect(_page.Locator("[data-count=Completed] b")).ToHaveTextAsync("20");
        await Expect(_page.Locator("[data-count=Failed] b")).ToHaveTextAsync("0");
        AssertCleanPage();
    }

    [Fact]
    public async Task StatusList_ThirtyRuns_PagesByCursorAndFindsARecoveryId()
    {
        for (var i = 0; i < 30; i++)
        {
            await _app.RunAsync($"order-{i:00}");
        }

        await _page.GotoAsync(_app.BaseUrl);
        await Expect(_page.Locator("#runs tr[data-run]")).ToHaveCountAsync(25);
        await _page.ClickAsync("#page-next");
        await Expect(_page.Locator("#runs tr[data-run]")).ToHaveCountAsync(5);
        await Expect(_page.Locator("#page-next")).ToBeDisabledAsync();
        await _page.ClickAsync("#page-previous");
        await Expect(_page.Locator("#runs tr[data-run]")).ToHaveCountAsync(25);

        await _page.FillAsync("#filter-recovery-id", "order-07");
        await _page.PressAsync("#filter-recovery-id", "Enter");
        await Expect(_page.Locator("#runs tr[data-run]")).ToHaveCountAsync(1);
        await Expect(Row("order-07")).ToBeVisibleAsync();
        await Expect(_page.Locator("[data-count=Failed] b")).ToHaveTextAsync("1");
        await _page.SelectOptionAsync("#filter-status", "Completed");
        await Expect(_page.Locator("#runs td.empty")).ToHaveTextAsync("No run matches.");
        AssertCleanPage();
    }

    [Fact]
    public async Task RunDetail_StateTurnedOff_SaysSoAndShowsNoState()
    {
        await using var app = await ConsoleApp.StartAsync(o => o.ShowState = false);
        await app.RunAsync("order-1");

        await _page.GotoAsync(app.BaseUrl + "#/runs/" + (await app.RunOfAsync("order-1")).Id);

        await Expect(_page.Locator("#state .state-hidden")).ToContainTextAsync("ShowState is off");
        Assert.Equal(0, await _page.Locator("#state pre").CountAsync());
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

        await _page.GotoAsync(app.BaseUrl);
        await Expect(_page.Locator("#runs tr[data-run]")).ToHaveCountAsync(7);
        await Expect(_page.Locator("[data-count=Failed] b")).ToHaveTextAsync("3");
        if (folder is not null)
        {
            await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, "console-status-list.png"), FullPage = true });
        }

        await Row("order-1044").GetByRole(AriaRole.Link).ClickAsync();
        await Expect(_page.Locator("#checksum")).ToHaveTextAsync("checksum verified");
        if (folder is not null)
        {
            await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, "console-run-detail.png"), FullPage = true });
        }

        await _page.ClickAsync("nav >> text=Flows");
        await Expect(_page.Locator("[data-flow=orders] > ol > .step-point")).ToHaveCountAsync(2);
        await Expect(_page.Locator("[data-flow=orders] .step-branch .body .step-point")).ToContainTextAsync("approved by a manager");
        if (folder is not null)
        {
            await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, "console-flows.png"), FullPage = true });
        }

        await _page.ClickAsync("nav >> text=Bulk repair");
        await _page.SelectOptionAsync("#filter-status", "Failed");
        await _page.ClickAsync("#bulk-dry-run");
        await Expect(_page.Locator("#bulk-count")).ToContainTextAsync("3 runs match");
        if (folder is not null)
        {
            await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, "console-bulk.png"), FullPage = true });
        }

        AssertCleanPage();
    }

    private ILocator Row(string recoveryId) => _page.Locator($"#runs tr[data-recovery-id='{recoveryId}']");

    private void AssertCleanPage()
    {
        lock (_dialogs)
        {
            Assert.Empty(_dialogs);
        }

        lock (_consoleErrors)
        {
            Assert.True(_consoleErrors.Count == 0, string.Join("\n", _consoleErrors)); // A Content-Security-Policy violation would be reported here.
        }
    }
}
