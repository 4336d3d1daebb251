using Cairn.AspNetCore;
using Cairn.AspNetCore.Api;
using Cairn.AspNetCore.Security;
using Cairn.AspNetCore.Ui;
using Cairn.Diagnostics;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// Extension methods on IEndpointRouteBuilder live in the namespace of the other Map* methods.
#pragma warning disable IDE0130
namespace Microsoft.AspNetCore.Builder;
#pragma warning restore IDE0130

/// <summary>Maps Cairn's operator console and REST API into an ASP.NET Core app.</summary>
public static class CairnConsoleEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the console under <paramref name="prefix"/>: its web pages at <c>{prefix}/</c> (status list, run detail, flows,
    /// bulk repair, outbox, retention; embedded in this assembly, served with a strict Content-Security-Policy), the JSON
    /// API under <c>{prefix}/api</c> (runs, run detail, a kept checkpoint's state, re-run, re-run from a point, cancel, bulk
    /// actions, purge, outbox, summary, flows, an anti-forgery token) and its OpenAPI document
    /// at <c>{prefix}/api/openapi.json</c>. Needs <c>services.AddCairnConsole()</c>.
    /// </summary>
    /// <remarks>
    /// Secure by default: with no policy in <see cref="CairnConsoleOptions"/> and no <c>RequireAuthorization</c> on the
    /// returned group, only loopback requests are answered (others get 403). With policies, reads need the viewer policy
    /// and writes the operator policy; <c>RequireAuthorization(...)</c> on the returned group replaces both. Every write
    /// needs the anti-forgery token from <c>GET {prefix}/api/antiforgery</c> in its header, unless it comes from an
    /// authenticated caller with an <c>Authorization</c> header.
    /// </remarks>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="prefix">Where the console lives; starts with <c>/</c>. Default <c>/cairn</c>.</param>
    /// <returns>The console's route group, for the host's own conventions (<c>RequireAuthorization</c>, rate limits, CORS).</returns>
    public static RouteGroupBuilder MapCairnConsole(this IEndpointRouteBuilder endpoints, string prefix = "/cairn")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (string.IsNullOrEmpty(prefix) || prefix[0] != '/')
        {
            throw new ArgumentException($"The Cairn console's prefix must start with '/', not '{prefix}'.", nameof(prefix));
        }

        var services = endpoints.ServiceProvider;
        if (services.GetService<ConsoleOperator>() is null)
        {
            throw new InvalidOperationException("MapCairnConsole needs the console's services: call services.AddCairnConsole() first.");
        }

        var options = services.GetRequiredService<IOptions<CairnConsoleOptions>>().Value;
        var group = endpoints.MapGroup(prefix);
        group.WithGroupName(CairnConsoleDefaults.OpenApiDocumentName);
        group.AddEndpointFilter(new ConsoleSecurityFilter(
            services.GetRequiredService<IAntiforgery>(), services.GetRequiredService<ILoggerFactory>().CreateLogger(Log.Console.Category)));
        group.AddEndpointFilter(new ConsoleErrorFilter());
        ((IEndpointConventionBuilder)group).Finally(endpoint =>
        {
            // Runs after every other convention, the host's RequireAuthorization on this group included: a policy the
            // host set replaces the console's own instead of stacking on it.
            var hostAuthorization = endpoint.Metadata.Any(m => m is IAuthorizeData or AuthorizationPolicy);
            if (!hostAuthorization && options.UsesPolicies && endpoint.Metadata.OfType<ConsoleAccess>().LastOrDefault() is { } access)
            {
                endpoint.Metadata.Add(new AuthorizeAttribute(access.IsWrite ? options.WritePolicy : options.ReadPolicy));
            }
        });
        ConsoleEndpoints.Map(group.MapGroup("/api"));
        ConsoleAssets.Map(group);
        return group;
    }
}
