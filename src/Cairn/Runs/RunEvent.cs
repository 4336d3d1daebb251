namespace Cairn.Runs;

/// <summary>One entry in a run's history.</summary>
/// <param name="Time">When it happened (the store's clock).</param>
/// <param name="Kind">What happened.</param>
/// <param name="Attempt">The attempt it belongs to (0 before the first attempt).</param>
/// <param name="Message">A short human description.</param>
public sealed record RunEvent(DateTimeOffset Time, RunEventKind Kind, int Attempt, string Message);
