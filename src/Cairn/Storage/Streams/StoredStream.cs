using System.Globalization;
using System.Text.RegularExpressions;

namespace Cairn.Storage;

/// <summary>Stream content as a stream store keeps it: its SHA-256 and its length in bytes.</summary>
public sealed partial record StoredStream
{
    /// <summary>Names stored content.</summary>
    /// <param name="sha256">Its SHA-256, 64 lower-case hex digits.</param>
    /// <param name="length">Its length in bytes.</param>
    /// <exception cref="ArgumentException">The hash is not 64 lower-case hex digits, or the length is negative.</exception>
    public StoredStream(string sha256, long length)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        if (!Sha256Pattern().IsMatch(sha256))
        {
            throw new ArgumentException($"'{sha256}' is not a SHA-256 in 64 lower-case hex digits.", nameof(sha256));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Sha256 = sha256;
        Length = length;
    }

    /// <summary>The content's SHA-256, 64 lower-case hex digits: its name in the store.</summary>
    public string Sha256 { get; }

    /// <summary>The content's length in bytes.</summary>
    public long Length { get; }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"sha256:{Sha256} ({Length:N0} bytes)");

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
