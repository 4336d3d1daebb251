using System.Security.Cryptography;

namespace Cairn.Serialization;

/// <summary>The checksum stored with every checkpoint and input: SHA-256, written as lower-case hex.</summary>
internal static class Checksum
{
    public static string Compute(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static bool Matches(ReadOnlySpan<byte> data, string checksum) => Compute(data) == checksum;
}
