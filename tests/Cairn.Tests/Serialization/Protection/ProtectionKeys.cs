using Cairn.Serialization.Protection;

namespace Cairn.Tests.Serialization.Protection;

/// <summary>Fixed keys for the protection tests: the same bytes in every run.</summary>
internal static class ProtectionKeys
{
    public static CheckpointKey Key(string id, byte seed)
    {
        var bytes = new byte[32];
        new Random(seed).NextBytes(bytes);
        return new CheckpointKey(id, bytes);
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
