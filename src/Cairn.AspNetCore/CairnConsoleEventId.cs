namespace Cairn.AspNetCore;

/// <summary>
/// The event IDs of the console's log messages (3xxx), logged under the category <c>Cairn.Console</c>. They are part of
/// the public contract: a number never changes meaning. No message carries state.
/// </summary>
public static class CairnConsoleEventId
{
    /// <summary>An operator re-ran or cancelled a run (Information).</summary>
    public const int RunAction = 3001;

    /// <summary>An operator re-ran or cancelled the runs matching a filter (Information).</summary>
    public const int BulkAction = 3002;

    /// <summary>An operator purged finished runs (Information).</summary>
    public const int Purged = 3003;

    /// <summary>An operator re-drove dead-lettered outbox messages (Information).</summary>
    public const int OutboxRedriven = 3004;

    /// <summary>A request from a non-loopback address was refused: no authorization is configured (Warning).</summary>
    public const int RemoteRefused = 3005;

    /// <summary>A mutating request without a valid anti-forgery token was refused (Warning).</summary>
    public const int CsrfRefused = 3006;
}
