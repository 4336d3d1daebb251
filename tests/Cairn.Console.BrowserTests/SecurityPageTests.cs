using Cairn.Processes.TestSupport;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cairn.Console.BrowserTests;

/// <summary>Requests that look remote are refused; a console started with a token lets a person sign in with it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SecurityPageTests(BrowserFixture browser) : ConsolePageTest(browser)
{
    private const string Token = "browser-test-token-0123456789";

    [Fact]
    public async Task RemoteClient_ThroughAReverseProxy_IsRefused()
    {
        await using var app = await ConsoleApp.StartAsync(behindProxy: true);
        await app.RunAsync("order-1");
        await using var remote = await Browser.Browser.NewContextAsync(new()
        {
            ExtraHTTPHeaders = new Dictionary<string, string> { ["X-Forwarded-For"] = "203.0.113.7" },
        });
        var page = await remote.NewPageAsync();

        var refused = await page.GotoAsync(app.BaseUrl);
        var local = await Page.GotoAsync(app.BaseUrl);

        Assert.Equal(403, refused!.Status);
        await Expect(page.Locator("body")).ToContainTextAsync("The Cairn console answers only loopback requests until authorization is configured");
        await Expect(page.Locator("#runs")).ToHaveCountAsync(0);
        Assert.Equal(200, local!.Status);
        await Expect(Row("order-1")).ToBeVisibleAsync();
        AssertCleanPage();
    }

    [Fact]
    public async Task RemoteSite_RepointedAtThisMachine_IsRefused()
    {
        await App.RunAsync("order-1");
        var rebound = new UriBuilder(App.BaseUrl) { Host = ConsoleApp.RebindingHost }.Uri;

        var page = await Page.GotoAsync(rebound.ToString());
        var api = await Page.GotoAsync(new Uri(rebound, "api/runs").ToString());

        Assert.Equal(403, page!.Status);
        Assert.Equal(403, api!.Status);
        await Expect(Page.Locator("body")).ToContainTextAsync("answers only requests addressed to localhost, 127.0.0.1 or [::1]");
        Assert.DoesNotContain("order-1", await api.TextAsync());
        AssertCleanPage(403, 404); // 404: the browser's own request for a favicon of the refused site.
    }

    [Fact]
    public async Task TokenConsole_PersonSignsInWithTheToken_ThenActsOnARun()
    {
        await App.RunAsync("order-1");
        using var console = DotnetProgram.Start(
            "Cairn.Cli.dll", "console", "--store", App.StorePath, "--urls", "http://127.0.0.1:0", "--token", Token);
        var line = await console.WaitForLineAsync("cairn console: serving");
        var start = line.IndexOf("http://", StringComparison.Ordinal);
        var site = line[start..line.IndexOf("/cairn/api", start, StringComparison.Ordinal)];
        var run = await App.RunOfAsync("order-1");

        await Page.GotoAsync($"{site}/cairn/#/runs/{run.Id}");
        Assert.StartsWith($"{site}/cairn/signin", Page.Url);
        await Page.FillAsync("#token", "not-the-token-at-all");
        await Page.ClickAsync("#signin");
        await Expect(Page.Locator("#signin-error")).ToHaveTextAsync("That is not this console's token.");
        await Page.FillAsync("#token", Token);
        await Page.ClickAsync("#signin");

        await Expect(Row("order-1").Locator("[data-status]")).ToHaveTextAsync("Failed");
        await Row("order-1").GetByRole(AriaRole.Link).ClickAsync();
        await Page.ClickAsync("#action-cancel");
        await Page.ClickAsync("#confirm-yes");
        await Expect(Page.Locator("#run-status")).ToHaveTextAsync("Cancelled");
        await Expect(Page.Locator("#timeline [data-kind=Cancelled]")).ToContainTextAsync("cancelled by token holder from the console");
        Assert.Equal(RunStatus.Cancelled, (await App.RunOfAsync("order-1")).Status);
        AssertCleanPage(401);
    }
}
