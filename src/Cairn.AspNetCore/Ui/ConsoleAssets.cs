using System.Reflection;
using Cairn.AspNetCore.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cairn.AspNetCore.Ui;

/// <summary>
/// The console's web pages: one HTML page, its scripts (ES modules) and one style sheet, embedded in this assembly and
/// served under the console's prefix with a Content-Security-Policy that allows only them (no inline script, no other origin).
/// </summary>
internal static class ConsoleAssets
{
    /// <summary>Only this origin's script, styles and API; nothing inline, no frames, no forms, no plugins.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Asset Index = Load("index.html", "text/html; charset=utf-8");
    private static readonly Asset[] Scripts =
        [.. new[] { "console.js", "console-core.js", "console-runs.js", "console-pages.js" }.Select(name => Load(name, "text/javascript; charset=utf-8"))];
    private static readonly Asset Styles = Load("console.css", "text/css; charset=utf-8");

    public static void Map(RouteGroupBuilder group)
    {
        // Routing matches the prefix with and without its slash; without it the page's relative URLs (console.js,
        // api/runs) would resolve above the prefix, so that one is sent to the slash.
        Serve(group.MapGet("/", (HttpContext context) => context.Request.Path.Value?.EndsWith('/') == true
            ? Send(context, Index)
            : Results.Redirect($"{context.Request.PathBase}{context.Request.Path}/{context.Request.QueryString}")));
        Serve(group.MapGet("/index.html", (HttpContext context) => Send(context, Index)));
        foreach (var script in Scripts)
        {
            Serve(group.MapGet("/" + script.Name, (HttpContext context) => Send(context, script)));
        }

        Serve(group.MapGet("/console.css", (HttpContext context) => Send(context, Styles)));
    }

    private static void Serve(RouteHandlerBuilder endpoint) => endpoint.WithMetadata(ConsoleAccess.Read).ExcludeFromDescription();

    private static IResult Send(HttpContext context, Asset asset)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static Asset Load(string name, string contentType)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream("Cairn.AspNetCore.Ui." + name)
            ?? throw new InvalidOperationException($"The console's page '{name}' is missing from {typeof(ConsoleAssets).Assembly.GetName().Name}.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return new Asset(name, memory.ToArray(), contentType);
    }

    private sealed record Asset(string Name, byte[] Bytes, string ContentType);
}
