using System.Text.Json;
using Cairn.AspNetCore.Security;
using Cairn.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Cairn.AspNetCore.Api;

internal static partial class ConsoleEndpoints
{
    /// <summary>The most bytes a signal's payload may have over HTTP.</summary>
    private const int MaxSignalPayload = 1024 * 1024;

    private static async Task<IResult> ListSignalsAsync(ConsoleOperator console, string id, CancellationToken cancellationToken) =>
        Json(await console.Operator.ListSignalsAsync(ConsoleInput.RunIdOf(id), cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Delivers a signal: the body is its JSON payload, <c>?signalId=</c> its ID (a webhook's delivery ID makes a
    /// delivery sent twice count once).
    /// </summary>
    private static async Task<IResult> SignalAsync(
        ConsoleOperator console, ILoggerFactory loggers, HttpContext context, string id, string name, [FromQuery] string? signalId, CancellationToken cancellationToken)
    {
        var runId = ConsoleInput.RunIdOf(id);
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, cancellationToken).ConfigureAwait(false);
        if (body.Length is 0 or > MaxSignalPayload)
        {
            throw new ConsoleInputException(body.Length == 0
                ? $"The body of signal '{name}' is empty; send its payload as JSON (such as {{}} or null)."
                : $"The payload of signal '{name}' has {body.Length} bytes; at most {MaxSignalPayload} are accepted.");
        }

        var payload = body.ToArray();
        try
        {
            using var parsed = JsonDocument.Parse(payload);
        }
        catch (JsonException ex)
        {
            throw new ConsoleInputException($"The payload of signal '{name}' is not JSON: {ex.Message}");
        }

        var delivery = await console.Operator.SignalJsonAsync(runId, name, payload, signalId, cancellationToken).ConfigureAwait(false);
        Log.Console.RunAction(Logger(loggers), delivery.Duplicate ? $"Signal '{name}' (a duplicate, ignored)" : $"Signal '{name}'", runId, ConsoleUser.NameOf(context));
        return Json(delivery);
    }
}
