using System.Diagnostics;
using System.Globalization;

namespace Cairn.Tests.Serialization.Fuzzing;

/// <summary>What a fuzz run of one decoder found.</summary>
/// <param name="Decoder">The decoder's name.</param>
/// <param name="Cases">The cases run.</param>
/// <param name="Decoded">Cases it decoded (valid input, or damage it cannot tell from valid input).</param>
/// <param name="Rejected">Cases it rejected with one of its typed errors.</param>
/// <param name="FailureCount">Cases that failed: another error, over the time bound, a hang, or a broken property.</param>
/// <param name="Failures">The first failures, each with the seed that replays it.</param>
/// <param name="Elapsed">How long the run took.</param>
internal sealed record FuzzReport(string Decoder, int Cases, int Decoded, int Rejected, int FailureCount, IReadOnlyList<string> Failures, TimeSpan Elapsed);

/// <summary>
/// Runs seeded fuzz cases against a decoder on a thread of its own, watched: an unexpected error, a case slower than the
/// bound, or a case that never returns (a hang) is a failure named with the seed that replays it.
/// </summary>
internal static class FuzzRunner
{
    /// <summary>Failures kept in a report; the count goes on.</summary>
    private const int KeptFailures = 20;

    /// <summary>Runs cases <paramref name="firstSeed"/>, <paramref name="firstSeed"/> + 1, … against the decoder.</summary>
    /// <param name="target">The decoder.</param>
    /// <param name="cases">How many cases.</param>
    /// <param name="firstSeed">The seed of the first case; case <c>i</c> has the seed <c>firstSeed + i</c>.</param>
    /// <param name="perCase">The time bound of one case.</param>
    public static async Task<FuzzReport> RunAsync(FuzzTarget target, int cases, int firstSeed, TimeSpan perCase)
    {
        var failures = new List<string>();
        int decoded = 0, rejected = 0, failed = 0;
        var current = firstSeed;
        var caseStarted = Stopwatch.GetTimestamp();
        var started = Stopwatch.GetTimestamp();

        void Fail(int seed, string what)
        {
            failed++;
            if (failures.Count < KeptFailures)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"seed {seed}: {what}"));
            }
        }

        var work = Task.Factory.StartNew(
            () =>
            {
                for (var i = 0; i < cases; i++)
                {
                    var seed = firstSeed + i;
                    Volatile.Write(ref current, seed);
                    Volatile.Write(ref caseStarted, Stopwatch.GetTimestamp());
                    var (original, input) = FuzzInput.Make(seed, target.Valid);
                    var begun = Stopwatch.GetTimestamp();
                    try
                    {
                        target.Decode(original, input);
                        decoded++;
                    }
                    catch (Exception ex) when (target.IsExpected(ex))
                    {
                        rejected++;
                    }
                    catch (Exception ex)
                    {
                        Fail(seed, $"{ex.GetType().Name}: {ex.Message} (input {input.Length} bytes: {Convert.ToHexString(input.AsSpan(0, Math.Min(48, input.Length)))}…)");
                    }

                    if (Stopwatch.GetElapsedTime(begun) is var took && took > perCase)
                    {
                        Fail(seed, string.Create(CultureInfo.InvariantCulture, $"took {took.TotalMilliseconds:N0} ms, over the bound of {perCase.TotalMilliseconds:N0} ms"));
                    }
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // The watchdog waits for the work, woken only when a whole hang bound passes without it finishing.
        while (!await FinishesWithinAsync(work, 10 * perCase))
        {
            var running = Stopwatch.GetElapsedTime(Volatile.Read(ref caseStarted));
            if (running > 10 * perCase)
            {
                // The case hangs: report it and leave its thread behind (a background thread does not hold up the process's exit).
                var hung = new List<string>(failures) { string.Create(CultureInfo.InvariantCulture, $"seed {Volatile.Read(ref current)}: no result after {running.TotalSeconds:N1} s (a hang)") };
                return new FuzzReport(target.Name, Volatile.Read(ref current) - firstSeed + 1, decoded, rejected, failed + 1, hung, Stopwatch.GetElapsedTime(started));
            }
        }

        await work;
        return new FuzzReport(target.Name, cases, decoded, rejected, failed, failures, Stopwatch.GetElapsedTime(started));
    }

    private static async Task<bool> FinishesWithinAsync(Task work, TimeSpan bound)
    {
        try
        {
            await work.WaitAsync(bound);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
