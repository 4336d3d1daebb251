using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Cairn.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Cairn.Cli.Commands;

/// <summary>
/// How <c>cairn console --token</c> authenticates: a script sends <c>Authorization: Bearer TOKEN</c>; a person signs in
/// once at <c>/cairn/signin</c> with the same token and gets a session cookie (HTTP-only, same-site strict), so that the
/// pages load and their writes carry the anti-forgery token like any cookie-authenticated request. A page request without
/// either goes to the sign-in page; an API request gets 401.
/// </summary>
internal static partial class ConsoleSignIn
{
    public const string SignInPath = "/cairn/signin";

    private const string Scheme = "cairn-token";
    private const string ApiPath = "/cairn/api";
    private const string UserName = "token holder";

    /// <summary>The sign-in page's one style block, allowed by its hash and nothing else.</summary>
    private const string Style =
        "body{font:15px system-ui,sans-serif;margin:12vh auto;max-width:26rem;color:#1d2733}" +
        "input{width:100%;padding:.45rem;margin:.4rem 0 .8rem;box-sizing:border-box}" +
        "button{padding:.45rem 1.2rem}.error{color:#b3261e}";

    public static void AddTokenAuthentication(IServiceCollection services, string token)
    {
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Bearer token or the session it signed in", o =>
                o.ForwardDefaultSelector = context => context.Request.Headers.Authorization.Count > 0
                    ? BearerToken.Scheme
                    : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddScheme<BearerTokenOptions, BearerToken>(BearerToken.Scheme, o => o.Token = token)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o =>
            {
                o.Cookie.Name = "cairn-console";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.LoginPath = SignInPath;
                o.Events.OnRedirectToLogin = context => Refuse(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => Refuse(context, StatusCodes.Status403Forbidden);
            });
        services.AddSingleton(new SignInToken(token));
    }

    public static void Map(WebApplication app)
    {
        app.MapGet(SignInPath, (HttpContext context) => Page(context, ReturnUrl(context.Request.Query["returnUrl"]), error: null, StatusCodes.Status200OK));
        app.MapPost(SignInPath, SignInAsync).DisableAntiforgery();
        app.MapPost("/cairn/signout", async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect(SignInPath);
        }).DisableAntiforgery();
    }

    /// <summary>
    /// Checks the token typed in and starts the session. Not behind an anti-forgery token: a forged sign-in could only
    /// sign a browser in with the console's own token, which the forger would have to know already.
    /// </summary>
    private static async Task<IResult> SignInAsync(HttpContext context, SignInToken expected, ILoggerFactory loggers)
    {
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
        var returnUrl = ReturnUrl(form?["returnUrl"] ?? default);
        if (!expected.Matches(form?["token"].ToString() ?? ""))
        {
            SignInRefused(loggers.CreateLogger("Cairn.Cli.Console"), context.Connection.RemoteIpAddress?.ToString() ?? "an unknown address");
            return Page(context, returnUrl, "That is not this console's token.", StatusCodes.Status401Unauthorized);
        }

        var identity = Operator(CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return Results.Redirect(returnUrl);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a sign-in to the console from {Address}: the token is not the console's")]
    private static partial void SignInRefused(ILogger logger, string address);

    private static ClaimsIdentity Operator(string scheme) =>
        new([new Claim(ClaimTypes.Name, UserName), new Claim(ClaimTypes.Role, CairnConsoleDefaults.OperatorRole)], scheme);

    /// <summary>Only a path of the console itself: never another site, never a protocol-relative <c>//host</c>.</summary>
    private static string ReturnUrl(string? requested) =>
        requested is { } path && path.StartsWith("/cairn/", StringComparison.Ordinal) && !path.StartsWith("/cairn//", StringComparison.Ordinal)
            && !path.Contains('\\', StringComparison.Ordinal)
            ? path
            : "/cairn/";

    private static Task Refuse(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments(ApiPath, StringComparison.Ordinal))
        {
            context.Response.StatusCode = status;
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }
        else
        {
            context.Response.Redirect(SignInPath + "?returnUrl=" + Uri.EscapeDataString(context.Request.PathBase + context.Request.Path + context.Request.QueryString));
        }

        return Task.CompletedTask;
    }

    private static IResult Page(HttpContext context, string returnUrl, string? error, int status)
    {
        var html = HtmlEncoder.Default;
        var page = $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Sign in · Cairn console</title><style>{Style}</style></head>
            <body>
            <h1>Cairn console</h1>
            <p>This console needs the token it was started with (<code>cairn console --token</code>).</p>
            {(error is null ? "" : $"<p class=\"error\" id=\"signin-error\" role=\"alert\">{html.Encode(error)}</p>")}
            <form method="post" action="{SignInPath}">
            <input type="hidden" name="returnUrl" value="{html.Encode(returnUrl)}">
            <label for="token">Token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" autofocus required>
            <button type="submit" id="signin">Sign in</button>
            </form>
            </body></html>
            """;
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy =
            $"default-src 'none'; style-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style)))}'; " +
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
        headers.XFrameOptions = "DENY";
        headers.CacheControl = "no-store";
        return Results.Content(page, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>The token, compared in constant time.</summary>
    private sealed class SignInToken(string token)
    {
        private readonly byte[] _token = Encoding.UTF8.GetBytes(token);

        public bool Matches(string given) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given.Trim()), _token);
    }

    /// <summary>Authenticates <c>Authorization: Bearer TOKEN</c> with the one token given, as a user with the operator role.</summary>
    private sealed class BearerToken(IOptionsMonitor<BearerTokenOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<BearerTokenOptions>(options, logger, encoder)
    {
        public new const string Scheme = "Bearer";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.FirstOrDefault();
            if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            if (!new SignInToken(Options.Token).Matches(header["Bearer ".Length..]))
            {
                return Task.FromResult(AuthenticateResult.Fail("The bearer token is not the console's."));
            }

            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(Operator(Scheme)), Scheme)));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = "Bearer";
            return Task.CompletedTask;
        }
    }

    /// <summary>The one token <see cref="BearerToken"/> accepts.</summary>
    private sealed class BearerTokenOptions : AuthenticationSchemeOptions
    {
        public string Token { get; set; } = "";
    }
}
