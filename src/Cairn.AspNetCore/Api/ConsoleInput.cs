using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Cairn.AspNetCore.Api;

/// <summary>Reads the API's query parameters and bodies, refusing bad input with one clear line.</summary>
internal static class ConsoleInput
{
    public const int MaxPageSize = 1000;

    public static RunId RunIdOf(string text) =>
        RunId.TryParse(text, out var id) ? id : throw new ConsoleInputException($"'{text}' is not a run ID (expected 32 hex digits).");

    /// <summary>The run filter shared by the list and the bulk actions.</summary>
    public static RunQuery Filter(string? status, string? flow, string? recoveryId, string? createdFrom, string? createdTo) => new()
    {
        Statuses = status is null ? null : Statuses(status),
        FlowName = Blank(flow) ? null : flow,
        RecoveryId = Blank(recoveryId) ? null : recoveryId,
        CreatedFrom = Time(createdFrom, "createdFrom"),
        CreatedTo = Time(createdTo, "createdTo"),
    };

    public static bool IsEmpty(RunQuery query) =>
        query.Statuses is null && query.FlowName is null && query.RecoveryId is null && query.CreatedFrom is null && query.CreatedTo is null;

    public static RunCursor? Cursor(string? text) =>
        Blank(text) ? null
        : RunCursor.TryParse(text, out var cursor) ? cursor
        : throw new ConsoleInputException($"cursor '{text}' is not a cursor of a page of runs: pass the nextCursor of the previous page.");

    public static int Limit(string? text, int defaultLimit) =>
        Blank(text) ? defaultLimit
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= MaxPageSize ? limit
        : throw new ConsoleInputException($"limit '{text}' must be a whole number between 1 and {MaxPageSize}.");

    public static long Sequence(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence >= 1 ? sequence
        : throw new ConsoleInputException($"'{text}' is not a checkpoint's sequence number (a whole number from 1).");

    public static bool Flag(string? text, string name) =>
        Blank(text) ? false
        : bool.TryParse(text, out var value) ? value
        : throw new ConsoleInputException($"{name} '{text}' must be true or false.");

    public static OutboxStatus? OutboxStatusOf(string? text) =>
        Blank(text) ? null
        : Enum.TryParse<OutboxStatus>(text, ignoreCase: true, out var status) && Enum.IsDefined(status) && !char.IsAsciiDigit(text[0]) ? status
        : throw new ConsoleInputException($"status '{text}' is not an outbox status: use Pending or DeadLettered.");

    /// <summary>A duration such as <c>30d</c>, <c>12h</c>, <c>90m</c> or <c>45s</c>, from 0 to 36,500 days.</summary>
    public static TimeSpan Duration(string? text, string name)
    {
        if (Blank(text))
        {
            throw new ConsoleInputException($"{name} is required: a duration such as 30d, 12h, 90m or 45s.");
        }

        var unit = text[^1];
        var seconds = char.ToLowerInvariant(unit) switch
        {
            'd' => 86_400d,
            'h' => 3_600d,
            'm' => 60d,
            's' => 1d,
            _ => double.NaN,
        };
        if (double.IsNaN(seconds)
            || !double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            throw new ConsoleInputException($"{name} '{text}' is not a duration: use a number and a unit, such as 30d, 12h, 90m or 45s.");
        }

        var total = amount * seconds;
        if (total > 36_500d * 86_400d)
        {
            throw new ConsoleInputException($"{name} '{text}' is more than 36,500 days.");
        }

        return TimeSpan.FromSeconds(total);
    }

    /// <summary>Reads a JSON body; an absent or empty body is <paramref name="empty"/> (null when the body is required).</summary>
    public static async Task<T> BodyAsync<T>(HttpRequest request, T? empty, CancellationToken cancellationToken)
        where T : class
    {
        // Buffered: an HTTP/2 request may carry a body without a length, and an empty one must not read as bad JSON.
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (buffer.Length == 0)
        {
            return empty ?? throw new ConsoleInputException("The request needs a JSON body.");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), ConsoleJson.Options)
                ?? empty
                ?? throw new ConsoleInputException("The request's JSON body is null.");
        }
        catch (JsonException ex)
        {
            throw new ConsoleInputException($"The request's body is not the JSON expected: {FirstLine(ex.Message)}");
        }
    }

    public static string FirstLine(string text)
    {
        var end = text.AsSpan().IndexOfAny('\r', '\n');
        return end < 0 ? text : text[..end];
    }

    private static List<RunStatus> Statuses(string text)
    {
        var statuses = new List<RunStatus>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<RunStatus>(part, ignoreCase: true, out var status) || !Enum.IsDefined(status) || char.IsAsciiDigit(part[0]))
            {
                throw new ConsoleInputException($"status '{part}' is not a run status: use {string.Join(", ", Enum.GetNames<RunStatus>())}.");
            }

            statuses.Add(status);
        }

        return statuses.Count > 0 ? statuses : throw new ConsoleInputException("status is empty: name one or more run statuses, separated by commas.");
    }

    private static DateTimeOffset? Time(string? text, string name) =>
        Blank(text) ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time
        : throw new ConsoleInputException($"{name} '{text}' is not a time: use ISO 8601, such as 2026-01-31T12:00:00Z.");

    private static bool Blank([System.Diagnostics.CodeAnalysis.NotNullWhen(false)] string? text) => string.IsNullOrWhiteSpace(text);
}
