using System.Net;
using Cairn.AspNetCore.Ui;

namespace Cairn.AspNetCore.Tests.Ui;

public sealed class ConsoleAssetsTests
{
    [Theory]
    [InlineData("/cairn/", "text/html", "console.js")]
    [InlineData("/cairn/index.html", "text/html", "console.css")]
    [InlineData("/cairn/console.js", "text/javascript", "from './console-core.js'")]
    [InlineData("/cairn/console-core.js", "text/javascript", "textContent")]
    [InlineData("/cairn/console-runs.js", "text/javascript", "export async function runPage")]
    [InlineData("/cairn/console-pages.js", "text/javascript", "export async function schedulesPage")]
    [InlineData("/cairn/console.css", "text/css", ".status-Failed")]
    public async Task Page_Loopback_IsServedWithItsTypeAndAStrictPolicy(string path, string contentType, string holds)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        using var response = await host.SendAsync(HttpMethod.Get, path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(ConsoleAssets.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("script-src 'self';", ConsoleAssets.ContentSecurityPolicy);
        Assert.DoesNotContain("unsafe", ConsoleAssets.ContentSecurityPolicy);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains(holds, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("console.js")]
    [InlineData("console-core.js")]
    [InlineData("console-runs.js")]
    [InlineData("console-pages.js")]
    public async Task Page_NoInlineScriptOrStyle_AndNothingFromElsewhere(string module)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var html = await (await host.SendAsync(HttpMethod.Get, "/cairn/")).Content.ReadAsStringAsync();
        var script = await (await host.SendAsync(HttpMethod.Get, "/cairn/" + module)).Content.ReadAsStringAsync();

        Assert.Matches("<script type=\"module\" src=\"console.js\"></script>", html);
        Assert.DoesNotMatch("import .* from '(?!\\./console-[a-z]+\\.js')", script);
        Assert.DoesNotMatch("<script>|<style|style=\"| on[a-z]+=|https?://", html);
        Assert.DoesNotContain("innerHTML", script);
        Assert.DoesNotContain("insertAdjacentHTML", script);
        Assert.DoesNotContain("eval(", script);
        Assert.DoesNotMatch("fetch\\('/|https?://", script);
    }

    [Fact]
    public async Task Prefix_WithoutSlash_RedirectsToThePage()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        using var response = await host.SendAsync(HttpMethod.Get, "/cairn");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/cairn/", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task Page_Remote_IsRefusedLikeTheApi()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        using var response = await host.SendAsync(HttpMethod.Get, "/cairn/console.js", Caller.AnonymousRemote);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Page_ViewerPolicy_NeedsAViewer()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0, options: o => o.ViewerPolicy = CairnConsoleDefaults.ViewerPolicy);

        using var viewer = await host.SendAsync(HttpMethod.Get, "/cairn/", Caller.Viewer);
        using var anonymous = await host.SendAsync(HttpMethod.Get, "/cairn/");

        Assert.Equal(HttpStatusCode.OK, viewer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
