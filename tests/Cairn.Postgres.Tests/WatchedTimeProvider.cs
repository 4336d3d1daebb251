using System.Threading.Channels;

namespace Cairn.Postgres.Tests;

/// <summary>
/// A fake clock that reports every timer started on it, so that a test advances the clock only once the code under
/// test waits on it (a timer started after an advance would not see it).
/// </summary>
public sealed class WatchedTimeProvider : TimeProvider
{
    private readonly FakeTimeProvider _fake = new();
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override TimeZoneInfo LocalTimeZone => _fake.LocalTimeZone;

    public override long TimestampFrequency => _fake.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

    public override long GetTimestamp() => _fake.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = _fake.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    public void Advance(TimeSpan delta) => _fake.Advance(delta);

    /// <summary>Waits until a timer of <paramref name="dueTime"/> has been started since the last such wait; skips the others.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            while (await _timers.Reader.ReadAsync(cancellation.Token) != dueTime)
            {
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"No timer of {dueTime} was started on the fake clock within {timeout}.");
        }
    }
}
