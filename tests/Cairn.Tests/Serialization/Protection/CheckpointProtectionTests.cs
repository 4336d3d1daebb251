using System.Text;
using Cairn.Serialization;
using Cairn.Serialization.Protection;

namespace Cairn.Tests.Serialization.Protection;

/// <summary>States, inputs and results at rest: compressed, encrypted, rotated, tampered with, and read after turning protection on or off.</summary>
public sealed class CheckpointProtectionTests
{
    private const string What = "The checkpoint of run r at recovery point 'p'";
    private static readonly byte[] State = Encoding.UTF8.GetBytes(
        "{\"orders\":[" + string.Join(",", Enumerable.Range(0, 2000).Select(i => $"{{\"id\":{i},\"customer\":\"C{i % 97:D4}\",\"status\":\"paid\"}}")) + "]}");

    private static CheckpointProtection Encrypted(CheckpointKeyRing ring, StateCompression compression = StateCompression.None) => new(compression, ring);

    [Theory]
    [InlineData(StateCompression.None, true)]
    [InlineData(StateCompression.Brotli, false)]
    [InlineData(StateCompression.Brotli, true)]
    public void Protect_ThenUnprotect_GivesTheSerializedBytesBack(StateCompression compression, bool encrypt)
    {
        var protection = new CheckpointProtection(compression, encrypt ? new CheckpointKeyRing(ProtectionKeys.Key("k1", 1)) : null);

        var stored = protection.Protect(State);

        Assert.True(ProtectionEnvelope.IsEnvelope(stored));
        Assert.True(stored.AsSpan().IndexOf(State.AsSpan(0, 40)) < 0);
        Assert.Equal(State, protection.Unprotect(stored, What).ToArray());
    }

    [Fact]
    public void Protect_Brotli_StoresFewerBytes()
    {
        var stored = new CheckpointProtection(StateCompression.Brotli, null).Protect(State);

        Assert.True(stored.Length * 5 < State.Length, $"{stored.Length} of {State.Length} bytes");
    }

    [Fact]
    public void Protect_Off_StoresTheSerializedBytesAsTheyAre()
    {
        Assert.Same(State, CheckpointProtection.None.Protect(State));
    }

    [Fact]
    public void Unprotect_PlainBytesWithProtectionOn_ReadsThemAsTheyAre()
    {
        var protection = Encrypted(new CheckpointKeyRing(ProtectionKeys.Key("k1", 1)), StateCompression.Brotli);

        Assert.Equal(State, protection.Unprotect(State, What).ToArray());
    }

    [Fact]
    public void Unprotect_CompressedBytesAfterCompressionIsTurnedOff_ReadsThem()
    {
        var stored = new CheckpointProtection(StateCompression.Brotli, null).Protect(State);

        Assert.Equal(State, CheckpointProtection.None.Unprotect(stored, What).ToArray());
    }

    [Fact]
    public void Unprotect_AfterAKeyRotation_ReadsOldAndNewWithTheirKeys_AndWritesWithTheNewKey()
    {
        var ring = new CheckpointKeyRing(ProtectionKeys.Key("k1", 1));
        var protection = Encrypted(ring);
        var old = protection.Protect(State);

        ring.Add(ProtectionKeys.Key("k2", 2));
        var rotated = protection.Protect(State);

        Assert.Equal("k1", KeyIdOf(old));
        Assert.Equal("k2", KeyIdOf(rotated));
        Assert.Equal(State, protection.Unprotect(old, What).ToArray());
        Assert.Equal(State, protection.Unprotect(rotated, What).ToArray());
        Assert.Equal(State, Encrypted(new CheckpointKeyRing(ProtectionKeys.Key("k2", 2), ProtectionKeys.Key("k1", 1))).Unprotect(old, What).ToArray());
    }

    [Fact]
    public void Protect_SameBytesUnderTheSameKey_GivesTheSameStoredBytes_SoARecoveryIdsInputStillMatches()
    {
        var ring = new CheckpointKeyRing(ProtectionKeys.Key("k1", 1));
        var protection = Encrypted(ring, StateCompression.Brotli);
        var first = protection.Protect(State);

        Assert.Equal(first, Encrypted(ring, StateCompression.Brotli).Protect(State));
        Assert.NotEqual(first, protection.Protect([.. State, (byte)' ']));
        ring.Add(ProtectionKeys.Key("k2", 2));
        Assert.NotEqual(first, protection.Protect(State));
    }

    [Fact]
    public void Unprotect_KeyTheProviderDoesNotKnow_ThrowsNamingTheKey()
    {
        var stored = Encrypted(new CheckpointKeyRing(ProtectionKeys.Key("k1", 1))).Protect(State);

        var error = Assert.Throws<CheckpointCorruptedException>(() => Encrypted(new CheckpointKeyRing(ProtectionKeys.Key("k2", 2))).Unprotect(stored, What).ToArray());

        Assert.Contains(What, error.Message, StringComparison.Ordinal);
        Assert.Contains("key 'k1', which the key provider does not know", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unprotect_EncryptedWithNoKeyProvider_ThrowsSayingToUseEncryption()
    {
        var stored = Encrypted(new CheckpointKeyRing(ProtectionKeys.Key("k1", 1))).Protect(State);

        var error = Assert.Throws<CheckpointCorruptedException>(() => CheckpointProtection.None.Unprotect(stored, What).ToArray());

        Assert.Contains("'k1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("UseEncryption", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unprotect_AnotherKeyUnderTheSameId_FailsAuthentication()
    {
        var stored = Encrypted(new CheckpointKeyRing(ProtectionKeys.Key("k1", 1))).Protect(State);

        var error = Assert.Throws<CheckpointCorruptedException>(() => Encrypted(new CheckpointKeyRing(ProtectionKeys.Key("k1", 9))).Unprotect(stored, What).ToArray());

        Assert.Contains("fails authentication with key 'k1'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5)] // the flags
    [InlineData(9)] // the key id
    [InlineData(20)] // the nonce
    [InlineData(100)] // the ciphertext
    [InlineData(-1)] // the tag
    public void Unprotect_OneByteChanged_ThrowsCheckpointCorrupted(int offset)
    {
        var protection = Encrypted(new CheckpointKeyRing(ProtectionKeys.Key("k1", 1)), StateCompression.Brotli);
        var stored = protection.Protect(State);
        stored[offset < 0 ? stored.Length + offset : offset] ^= 0x20;

        var error = Assert.Throws<CheckpointCorruptedException>(() => protection.Unprotect(stored, What).ToArray());

        Assert.StartsWith(What, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unprotect_CompressedAndCutShort_ThrowsCheckpointCorrupted()
    {
        var stored = new CheckpointProtection(StateCompression.Brotli, null).Protect(State);

        var error = Assert.Throws<CheckpointCorruptedException>(() => CheckpointProtection.None.Unprotect(stored.AsSpan(0, stored.Length / 2), What).ToArray());

        Assert.Contains("cannot be decompressed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StateCodec_WithProtection_ChecksumsTheStoredBytes_AndReadsThemBack()
    {
        var codec = new StateCodec(new JsonStateSerializer(), 1024 * 1024, Encrypted(new CheckpointKeyRing(ProtectionKeys.Key("k1", 1)), StateCompression.Brotli));
        var state = new List<string> { "secret-canary", "two" };

        var stored = codec.Serialize(state, "the state", "");

        Assert.True(ProtectionEnvelope.IsEnvelope(stored));
        Assert.DoesNotContain("secret-canary", Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        Assert.True(StateCodec.Matches(stored, StateCodec.Checksum(stored)));
        Assert.Equal(state, codec.Deserialize<List<string>>(stored, What));
    }

    private static string? KeyIdOf(byte[] stored)
    {
        Assert.Null(ProtectionEnvelope.TryRead(stored, out var header));
        return header.KeyId;
    }
}
