using Cairn.Storage;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.Console.BrowserTests;

/// <summary>The outbox and retention pages, as an operator repairs deliveries and frees space.</summary>
[Collection(BrowserCollection.Name)]
public sealed class OperationsPageTests(BrowserFixture browser) : ConsolePageTest(browser)
{
    [Fact]
    public async Task Outbox_DeadLetterRedriven_IsDeliveredAndLeavesTheList()
    {
        App.BrokerDown = true;
        await App.RunAsync("order-1");
        var run = await App.RunOfAsync("order-1");
        await Page.GotoAsync(App.BaseUrl + "#/outbox");
        var row = Page.Locator("#outbox tr[data-message]");
        await Expect(row).ToHaveAttributeAsync("data-outbox-status", "DeadLettered", new() { Timeout = 20_000 });
        await Expect(row).ToContainTextAsync("the broker is down");
        await Expect(row).ToContainTextAsync("mail");
        await row.Locator("summary").ClickAsync();
        await Expect(row.Locator("pre.json")).ToContainTextAsync("\"total\": 10");
        Assert.Equal(run.Id.ToString(), (await row.GetByRole(AriaRole.Link).GetAttributeAsync("href"))!.Split('/')[^1]);

        App.BrokerDown = false;
        await row.GetByRole(AriaRole.Button, new() { Name = "Re-drive" }).ClickAsync();
        await Expect(Page.Locator("#confirm-text")).ToHaveTextAsync("Send this message again?");
        await Page.ClickAsync("#confirm-yes");

        await Expect(Page.Locator("#outbox td.empty")).ToHaveTextAsync("No message waits in the outbox.");
        Assert.Empty(await App.Engine.Operator.ListOutboxAsync(new OutboxQuery()));
        AssertCleanPage();
    }

    [Fact]
    public async Task Outbox_RedriveEveryDeadLetter_AsksFirstAndSendsAll()
    {
        App.BrokerDown = true;
        await App.RunAsync("order-1");
        await App.RunAsync("order-2");
        await Page.GotoAsync(App.BaseUrl + "#/outbox");
        await Page.SelectOptionAsync("#outbox-status", "DeadLettered");
        await Expect(Page.Locator("#outbox tr[data-outbox-status=DeadLettered]")).ToHaveCountAsync(2, new() { Timeout = 20_000 });

        App.BrokerDown = false;
        await Page.ClickAsync("#outbox-redrive-all");
        await Expect(Page.Locator("#confirm-text")).ToHaveTextAsync("Send all 2 dead-lettered messages again?");
        await Page.ClickAsync("#confirm-no");
        Assert.Equal(2, (await App.Engine.Operator.ListOutboxAsync(new OutboxQuery { Status = OutboxStatus.DeadLettered })).Count);
        await Page.ClickAsync("#outbox-redrive-all");
        await Page.ClickAsync("#confirm-yes");

        await Expect(Page.Locator("#outbox-done")).ToHaveTextAsync("2 messages re-driven.");
        await Expect(Page.Locator("#outbox td.empty")).ToHaveTextAsync("No message waits in the outbox.");
        AssertCleanPage();
    }

    [Fact]
    public async Task Retention_PurgeNowConfirmed_DeletesTheFinishedRuns()
    {
        App.MailServerDown = false;
        await App.RunAsync("order-done");
        App.MailServerDown = true;
        await App.RunAsync("order-failed");
        await Page.GotoAsync(App.BaseUrl + "#/purge");
        await Expect(Page.Locator("#purge-settings")).ToContainTextAsync("older than 7 days, checking every");

        await Page.FillAsync("#purge-older-than", "0s");
        await Page.ClickAsync("#purge-now");
        await Expect(Page.Locator("#confirm-text")).ToContainTextAsync("Delete every run that finished more than 0s ago?");
        await Page.ClickAsync("#confirm-yes");

        await Expect(Page.Locator("#purge-done")).ToHaveTextAsync("2 finished runs purged.");
        Assert.Null(await App.Engine.Operator.FindRunAsync("orders", "order-done"));
        Assert.Null(await App.Engine.Operator.FindRunAsync("orders", "order-failed"));
        await Page.ClickAsync("nav >> text=Runs");
        await Expect(Page.Locator("#runs td.empty")).ToHaveTextAsync("No run matches.");
        AssertCleanPage();
    }

    [Fact]
    public async Task Retention_BadDuration_SaysWhyAndPurgesNothing()
    {
        App.MailServerDown = false;
        await App.RunAsync("order-done");
        await Page.GotoAsync(App.BaseUrl + "#/purge");

        await Page.FillAsync("#purge-older-than", "soon");
        await Page.ClickAsync("#purge-now");
        await Page.ClickAsync("#confirm-yes");

        await Expect(Page.Locator("#error")).ToContainTextAsync("olderThan 'soon' is not a duration");
        Assert.NotNull(await App.Engine.Operator.FindRunAsync("orders", "order-done"));
        AssertCleanPage(400);
    }
}
