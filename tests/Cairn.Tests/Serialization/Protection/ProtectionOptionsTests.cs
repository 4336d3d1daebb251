using Cairn.Serialization.Protection;

namespace Cairn.Tests.Serialization.Protection;

/// <summary>The compression option is validated when the engine is built.</summary>
public sealed class ProtectionOptionsTests
{
    [Fact]
    public void Build_UnknownStateCompression_ThrowsNamingTheOption()
    {
        var builder = CairnEngine.CreateBuilder().UseInMemoryStore();
        builder.Options.StateCompression = (StateCompression)7;

        var error = Assert.Throws<ArgumentException>(() => builder.Build());

        Assert.Contains("StateCompression is 7; it must be one of None, Brotli", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckpointKey_NotThirtyTwoBytes_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new CheckpointKey("short", new byte[16]));

        Assert.Contains("Key 'short' is 16 bytes; an AES-256 key is 32 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckpointKeyRing_SameIdForAnotherKey_IsRefused()
    {
        var ring = new CheckpointKeyRing(ProtectionKeys.Key("k1", 1));

        Assert.Throws<ArgumentException>(() => ring.Add(ProtectionKeys.Key("k1", 2)));
    }
}
