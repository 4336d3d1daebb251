using Cairn.Serialization;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// Runs created straight in a store, as an engine would create them, so that only the nodes under test execute them:
/// an engine that started them would claim them itself.
/// </summary>
internal static class NewRuns
{
    private static readonly CairnOptions Defaults = new();

    public static NewRun For<TState>(Flow<TState> flow, TState input, string recoveryId)
    {
        var bytes = Defaults.Serializer.Serialize(input);
        return new NewRun(
            RunId.New(),
            flow.Name,
            flow.Version,
            recoveryId,
            bytes,
            Checksum.Compute(bytes),
            new RunSettings(flow.RetryPolicy ?? Defaults.DefaultRetryPolicy, flow.Fingerprint).ToJson());
    }
}
