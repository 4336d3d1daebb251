using Cairn.Diagnostics;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cairn.AspNetCore.Security;

/// <summary>
/// The console's own checks, before every endpoint: loopback only while no authorization applies to the endpoint, and an
/// anti-forgery token on every write, except from an authenticated caller that sent an <c>Authorization</c> header
/// (a browser never adds that header to a cross-site request on its own, so such a request cannot be forged).
/// </summary>
internal sealed class ConsoleSecurityFilter(IAntiforgery antiforgery, ILogger logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var metadata = context.GetEndpoint()?.Metadata;
        var authorized = metadata is not null && (metadata.GetMetadata<IAuthorizeData>() is not null || metadata.GetMetadata<AuthorizationPolicy>() is not null);
        if (!authorized && !ConsoleUser.IsLoopback(context.Connection.RemoteIpAddress))
        {
            Log.Console.RemoteRefused(logger, context.Connection.RemoteIpAddress?.ToString() ?? "an unknown address");
            return Results.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden",
                detail: "The Cairn console answers only loopback requests until authorization is configured (CairnConsoleOptions policies or RequireAuthorization).");
        }

        // A web page whose own name was re-pointed at 127.0.0.1 (DNS rebinding) sends loopback requests as its own
        // origin, token and all; only a loopback name in the Host header tells them apart.
        if (!authorized && !ConsoleUser.IsLoopbackHost(context.Request.Host.Host))
        {
            Log.Console.RemoteRefused(logger, $"a loopback address for the host name '{context.Request.Host.Host}'");
            return Results.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden",
                detail: "Until authorization is configured the Cairn console answers only requests addressed to localhost, 127.0.0.1 or [::1].");
        }

        if (metadata?.GetMetadata<ConsoleAccess>() is { IsWrite: true } && !IsExempt(context))
        {
            try
            {
                await antiforgery.ValidateRequestAsync(context).ConfigureAwait(false);
            }
            catch (AntiforgeryValidationException ex)
            {
                Log.Console.CsrfRefused(logger, context.Request.Method, context.Request.Path, ex.Message);
                return Results.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    title: "Missing or invalid anti-forgery token",
                    detail: "This request changes runs and needs an anti-forgery token: GET api/antiforgery and send its token in the header it names.");
            }
        }

        return await next(invocation).ConfigureAwait(false);
    }

    private static bool IsExempt(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true && context.Request.Headers.Authorization.Count > 0;
}
