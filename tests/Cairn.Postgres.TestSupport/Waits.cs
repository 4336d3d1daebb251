using System.Diagnostics;

namespace Cairn.Postgres.TestSupport;

/// <summary>Awaiting a state that other processes or background loops bring about, on a timer with a deadline.</summary>
public static class Waits
{
    /// <summary>Evaluates <paramref name="condition"/> on every tick of a timer until it holds, or throws after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout} waiting for {what}");
            }

            await timer.WaitForNextTickAsync();
        }
    }
}
