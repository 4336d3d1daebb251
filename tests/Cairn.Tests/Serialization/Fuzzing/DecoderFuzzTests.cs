namespace Cairn.Tests.Serialization.Fuzzing;

/// <summary>
/// Every decoder of stored bytes and text, fed 2,000 seeded cases of random bytes and mutated valid encodings: only its
/// typed errors, never another exception, a case over the time bound or a hang. A failure names the seed that replays
/// it (<see cref="FuzzInput.Make"/>); <c>Cairn.Bench fuzz --cases 100000</c> runs the long form.
/// </summary>
public sealed class DecoderFuzzTests
{
    private const int Cases = 2_000;
    private const int Seed = 12_000_000;

    public static TheoryData<string> Decoders => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Decoders))]
    public async Task Decode_RandomAndMutatedInput_RaisesOnlyTypedErrorsWithinTheBound(string decoder)
    {
        var report = await FuzzRunner.RunAsync(FuzzTargets.Named(decoder), Cases, Seed, TimeSpan.FromSeconds(1));

        Assert.True(report.FailureCount == 0, $"{decoder}: {report.FailureCount} of {report.Cases} cases failed:\n{string.Join('\n', report.Failures)}");
        Assert.Equal(Cases, report.Cases);
        Assert.True(report.Decoded > 0 && report.Rejected > 0, $"{decoder}: {report.Decoded} decoded, {report.Rejected} rejected: the cases miss one side");
    }
}
