namespace Cairn.CrashTest.Chaos;

/// <summary>The soak's runs that completed in the 10 seconds from <paramref name="FromSecond"/> (by the database's clock, from the soak's start).</summary>
internal sealed record ThroughputBucket(int FromSecond, int Completed);
