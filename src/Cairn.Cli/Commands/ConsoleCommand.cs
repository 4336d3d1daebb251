using System.Net;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Cairn.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn console --store STORE [--urls URL] [--token TOKEN]</c>: serves the operator console (web pages and REST API) over a store,
/// bound to 127.0.0.1 unless told otherwise. Off loopback it needs <c>--token</c>: a token that grants the operator role,
/// sent by scripts as a bearer token and typed once by people at <c>/cairn/signin</c> (<see cref="ConsoleSignIn"/>). <c>/healthz</c> answers whether the store is reachable.
/// </summary>
internal static class ConsoleCommand
{
    public const string Name = "console";

    private const string DefaultUrl = "http://127.0.0.1:5005";

    public static Command Create()
    {
        var store = StoreOption.Create();
        var urls = new Option<string>("--urls")
        {
            Description = $"Where to listen, separated by ';' (default {DefaultUrl}); an address off this machine needs --token",
            DefaultValueFactory = _ => DefaultUrl,
        };
        var token = new Option<string?>("--token")
        {
            Description = "A bearer token (16 characters or more) that grants the operator role; with it every request must send 'Authorization: Bearer TOKEN'",
        };
        var command = new Command(Name, "Serve the operator console (web pages at /cairn/, REST API at /cairn/api) over a store until Ctrl+C or SIGTERM")
        {
            store, urls, token,
        };
        command.SetAction(async (parse, ct) =>
        {
            var storeValue = parse.GetRequiredValue(store);
            var addresses = parse.GetRequiredValue(urls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var secret = parse.GetValue(token);
            CheckAddresses(addresses, secret);

            await using var opened = await StoreOption.OpenOperatorAsync(storeValue, ct);
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
            builder.WebHost.UseUrls(addresses);
            builder.Logging.ClearProviders()
                .SetMinimumLevel(LogLevel.Warning)
                .AddFilter("Cairn", LogLevel.Information)
                .AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "HH:mm:ss ";
                    console.UseUtcTimestamp = true;
                });
            // Standard output carries the one line saying where the console listens; logs go to standard error.
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
            builder.Services.AddSingleton(opened.Operator);
            builder.Services.AddSingleton(opened.Store);
            builder.Services.AddHealthChecks().AddCairn();
            if (secret is not null)
            {
                ConsoleSignIn.AddTokenAuthentication(builder.Services, secret);
            }

            builder.Services.AddCairnConsole(options =>
            {
                if (secret is not null)
                {
                    options.ViewerPolicy = CairnConsoleDefaults.ViewerPolicy;
                    options.OperatorPolicy = CairnConsoleDefaults.OperatorPolicy;
                }
            });

            await using var app = builder.Build();
            app.MapCairnConsole("/cairn");
            if (secret is not null)
            {
                ConsoleSignIn.Map(app);
            }
            // The store's reachability, open like serve's --health-urls: it tells nothing about the runs.
            app.MapHealthChecks("/healthz");
            await app.StartAsync(ct);
            var listening = string.Join(", ", app.Urls.Select(url => url.TrimEnd('/') + "/cairn/api"));
            Console.Out.WriteLine($"cairn console: serving {StoreOption.Describe(storeValue)} at {listening}{(secret is null ? " (loopback only)" : $" (bearer token required; people sign in at {ConsoleSignIn.SignInPath})")}; Ctrl+C to stop");
            Console.Out.Flush();
            await app.WaitForShutdownAsync(ct);
            Console.Out.WriteLine("cairn console: stopped");
            return 0;
        });
        return command;
    }

    /// <summary>Refuses an address off this machine without a token, and a token too short to guess.</summary>
    private static void CheckAddresses(string[] addresses, string? token)
    {
        if (addresses.Length == 0)
        {
            throw new FormatException("--urls names no address: give one such as http://127.0.0.1:5005.");
        }

        if (token is not null && token.Length < 16)
        {
            throw new FormatException("--token must be at least 16 characters long.");
        }

        foreach (var address in addresses)
        {
            BindingAddress parsed;
            try
            {
                parsed = BindingAddress.Parse(address);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"--urls '{address}' is not an address to listen on: {ex.Message}");
            }

            var host = parsed.Host.Trim('[', ']');
            var loopback = !parsed.IsUnixPipe
                && (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip)));
            if (!loopback && token is null)
            {
                throw new InvalidOperationException(
                    $"--urls '{address}' is reachable from other machines: pass --token TOKEN so that requests must authenticate, or listen on 127.0.0.1.");
            }
        }
    }
}
