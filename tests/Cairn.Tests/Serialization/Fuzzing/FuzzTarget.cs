namespace Cairn.Tests.Serialization.Fuzzing;

/// <summary>
/// One decoder of stored bytes or text under fuzzing: how to make a valid encoding, how to decode, and which typed
/// errors it may raise for damaged input (anything else it throws, and a case over the time bound, is a failure).
/// </summary>
/// <param name="Name">How reports name it.</param>
/// <param name="ExpectedErrors">The typed errors it may raise, for reports and docs.</param>
/// <param name="Valid">Makes a valid encoding from the case's random source.</param>
/// <param name="Decode">Decodes the case's input, given the valid encoding it was made from; throws <see cref="FuzzPropertyException"/> when a result breaks a property.</param>
/// <param name="IsExpected">Whether an error is one of <paramref name="ExpectedErrors"/>.</param>
internal sealed record FuzzTarget(string Name, string ExpectedErrors, Func<Random, byte[]> Valid, Action<byte[], byte[]> Decode, Func<Exception, bool> IsExpected);

/// <summary>A decoder accepted damaged input it must reject, or decoded valid input into something else.</summary>
internal sealed class FuzzPropertyException(string message) : Exception(message);
