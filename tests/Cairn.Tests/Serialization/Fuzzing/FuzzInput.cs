using System.Buffers.Binary;

namespace Cairn.Tests.Serialization.Fuzzing;

/// <summary>
/// The input of one fuzz case, made from its seed alone (so a failure replays from its seed): a valid encoding as it is,
/// random bytes, or a valid encoding with one to three mutations — bit flips, truncation, insertion of random bytes or of
/// lengths that point far past the end, overwrites with edge values, a duplicated or deleted slice.
/// </summary>
internal static class FuzzInput
{
    private static readonly int[] EdgeLengths = [-1, 0, 1, 127, 128, 255, 65_535, 0x7FFF_FFF0, int.MaxValue, int.MinValue];

    /// <summary>The case's input and the valid encoding it was made from.</summary>
    public static (byte[] Original, byte[] Input) Make(int seed, Func<Random, byte[]> valid)
    {
        var random = new Random(seed);
        var original = valid(random);
        var kind = random.Next(16);
        if (kind == 0)
        {
            return (original, original.ToArray());
        }

        if (kind <= 2)
        {
            var bytes = new byte[random.Next(257)];
            random.NextBytes(bytes);
            return (original, bytes);
        }

        var input = original;
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            input = Mutate(random, input);
        }

        return (original, input);
    }

    private static byte[] Mutate(Random random, byte[] bytes)
    {
        var at = random.Next(bytes.Length + 1);
        switch (random.Next(7))
        {
            case 0 when bytes.Length > 0:
                var flipped = bytes.ToArray();
                var bit = random.Next(bytes.Length * 8);
                flipped[bit / 8] ^= (byte)(1 << (bit % 8));
                return flipped;
            case 1:
                return bytes[..random.Next(bytes.Length + 1)];
            case 2:
                var inserted = new byte[random.Next(1, 9)];
                random.NextBytes(inserted);
                return [.. bytes[..at], .. inserted, .. bytes[at..]];
            case 3:
                // A length field that claims far more than is there (or a negative one): the way decoders run out of memory.
                var length = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(length, EdgeLengths[random.Next(EdgeLengths.Length)]);
                return [.. bytes[..at], .. length, .. bytes[at..]];
            case 4 when bytes.Length > 0:
                var overwritten = bytes.ToArray();
                overwritten[random.Next(bytes.Length)] = (byte)(random.Next(4) switch { 0 => 0x00, 1 => 0xFF, 2 => 0x7F, _ => 0x80 });
                return overwritten;
            case 5 when bytes.Length > 0:
                var from = random.Next(bytes.Length);
                var slice = bytes[from..Math.Min(bytes.Length, from + random.Next(1, 17))];
                return [.. bytes[..at], .. slice, .. bytes[at..]];
            default:
                var end = Math.Min(bytes.Length, at + random.Next(1, 9));
                return [.. bytes[..at], .. bytes[end..]];
        }
    }
}
