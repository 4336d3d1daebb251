using System.Globalization;
using System.Text.Json;
using Cairn.CrashTest.Chaos;

namespace Cairn.CrashTests;

/// <summary>
/// Runs the chaos soak of the crash-test harness (bench/Cairn.CrashTest <c>chaos</c>) for a CI-sized while: three nodes on
/// a throwaway PostgreSQL cluster under load, every kind of fault at least once, then the drain and the invariants.
/// </summary>
public sealed class ChaosSoakTests
{
    // CI's budget (issue 15: a 2-minute version): 120 s of load and faults, a few more for the cluster, the nodes, the drain and the checks.
    // CAIRN_CHAOS_TEST_SECONDS runs a longer soak through the same test.
    private static readonly int Seconds = int.TryParse(Environment.GetEnvironmentVariable("CAIRN_CHAOS_TEST_SECONDS"), CultureInfo.InvariantCulture, out var seconds) ? seconds : 120;

    // The limit only catches a soak that hangs: the drain gives up after 60 s by itself.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(Seconds + 300);

    [Fact]
    public async Task Chaos_ShortSoak_EveryScheduledFaultHappensAndNoInvariantIsViolated()
    {
        var json = Path.Combine(Path.GetTempPath(), $"cairn-chaos-{Guid.NewGuid():N}.json");
        try
        {
            var (exitCode, output, errors) = await DotnetProgram.RunAsync("Cairn.CrashTest.dll", workingDirectory: null, Patience,
                "chaos", "--duration", Seconds.ToString(CultureInfo.InvariantCulture), "--seed", "15", "--rate", "3", "--drain-timeout", "60", "--json", json);
            var all = $"{output}\n{errors}";
            Assert.True(exitCode == 0, $"exit code {exitCode}\n{all}");
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            var root = report.RootElement;
            Assert.True(root.GetProperty("violations").GetArrayLength() == 0, all);
            Assert.True(root.GetProperty("runs").GetProperty("completed").GetInt32() > 0, all);
            var scheduled = root.GetProperty("faultsScheduled");
            var injected = root.GetProperty("faultsInjected");
            var leftOut = root.GetProperty("notes").EnumerateArray().Any(n => n.GetString()!.StartsWith("the storage-folder fault is left out", StringComparison.Ordinal));
            foreach (var kind in scheduled.EnumerateObject())
            {
                if (kind.Name != "storage-fill" || !leftOut)
                {
                    Assert.True(kind.Value.GetInt32() >= 1, $"no {kind.Name} scheduled\n{all}");
                }

                Assert.True(injected.GetProperty(kind.Name).GetInt32() >= Math.Min(1, kind.Value.GetInt32()), $"no {kind.Name} took effect\n{all}");
            }
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void FaultSchedule_SameSeed_SameFaults()
    {
        var kinds = Enum.GetValues<FaultKind>();
        var first = FaultSchedule.Create(15, TimeSpan.FromMinutes(10), kinds, nodes: 3, TimeSpan.FromSeconds(3));
        var again = FaultSchedule.Create(15, TimeSpan.FromMinutes(10), kinds, nodes: 3, TimeSpan.FromSeconds(3));
        var other = FaultSchedule.Create(16, TimeSpan.FromMinutes(10), kinds, nodes: 3, TimeSpan.FromSeconds(3));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.InRange(first.Count, 60, 180);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(40)]
    [InlineData(120)]
    public void FaultSchedule_ShortSoak_EveryKindOnceBeforeTheEnd(int seconds)
    {
        var duration = TimeSpan.FromSeconds(seconds);
        for (var seed = 1; seed <= 50; seed++)
        {
            var faults = FaultSchedule.Create(seed, duration, Enum.GetValues<FaultKind>(), nodes: 3, TimeSpan.FromSeconds(3));

            Assert.All(Enum.GetValues<FaultKind>(), kind => Assert.Contains(faults, f => f.Kind == kind));
            Assert.All(faults, f => Assert.True(f.At < duration, $"seed {seed}: {f} is not before the end"));
            foreach (var node in faults.Where(f => f.Node >= 0).GroupBy(f => f.Node))
            {
                var onNode = node.OrderBy(f => f.At).ToList();
                for (var i = 1; i < onNode.Count; i++)
                {
                    Assert.True(onNode[i].At >= onNode[i - 1].At + onNode[i - 1].Hold, $"seed {seed}: {onNode[i]} begins before {onNode[i - 1]} ends");
                }
            }
        }
    }
}
