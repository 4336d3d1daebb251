using System.Net;
using Microsoft.AspNetCore.Hosting;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>--health-urls URL[;URL]</c>: the node's health check (<c>AddHealthChecks().AddCairn()</c>) answered at <c>/healthz</c> by
/// Kestrel, for probes: 200 <c>Healthy</c> or <c>Degraded</c>, 503 <c>Unhealthy</c>. Off unless given; a non-loopback
/// address is served, and said so at start, since anyone who can reach it sees the node's health.
/// </summary>
internal static class HealthEndpoint
{
    public const string Path = "/healthz";

    public static Option<string?> CreateOption()
    {
        var option = new Option<string?>("--health-urls")
        {
            Description = $"Answer health probes at {Path} on these http URLs, separated by ';', for example http://127.0.0.1:8081 (default: off)",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text && Parse(text, out var error) is null)
            {
                result.AddError(error!);
            }
        });
        return option;
    }

    /// <summary>The URLs, or null with a one-line error: each an absolute http URL without a path.</summary>
    public static IReadOnlyList<Uri>? Parse(string text, out string? error)
    {
        var urls = new List<Uri>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttp || url.AbsolutePath != "/")
            {
                error = $"--health-urls '{part}' is not an http URL without a path (for example http://127.0.0.1:8081).";
                return null;
            }

            urls.Add(url);
        }

        error = urls.Count == 0 ? "--health-urls is empty: give at least one URL, for example http://127.0.0.1:8081." : null;
        return error is null ? urls : null;
    }

    public static bool IsLoopback(Uri url) =>
        url.IsLoopback || IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);

    /// <summary>Starts answering probes for <paramref name="engine"/>; stopping the returned app stops answering, not the engine.</summary>
    public static async Task<WebApplication> StartAsync(CairnEngine engine, IReadOnlyList<Uri> urls, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls([.. urls.Select(u => u.GetLeftPart(UriPartial.Authority))]);
        // The engine belongs to the command: an instance registered here is not disposed with the web app.
        builder.Services.AddSingleton(engine);
        builder.Services.AddHealthChecks().AddCairn();
        var app = builder.Build();
        app.MapHealthChecks(Path);
        await app.StartAsync(cancellationToken);
        return app;
    }
}
