using System.Security.Cryptography;

namespace Cairn.Storage;

/// <summary>
/// Reads stored content and checks it against what its checkpoint recorded: a stream that ends early, runs on past its
/// length or ends with another SHA-256 raises <see cref="StreamCorruptedException"/> naming where it was read.
/// </summary>
internal sealed class VerifiedReadStream(Stream inner, StoredStream expected, string what) : ReadOnlyStream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _verified;

    public override long Length => expected.Length;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        return Check(buffer[..n], buffer.Length);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Check(buffer.Span[..n], buffer.Length);
    }

    private int Check(ReadOnlySpan<byte> read, int asked)
    {
        if (read.Length == 0 && asked > 0)
        {
            if (!_verified)
            {
                _verified = true;
                var sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
                if (_read != expected.Length)
                {
                    throw new StreamCorruptedException($"{what} is truncated: {_read:N0} of its {expected.Length:N0} bytes are stored. It is kept as found.");
                }

                if (sha256 != expected.Sha256)
                {
                    throw new StreamCorruptedException($"{what} is corrupt: its content's SHA-256 is {sha256}, not the {expected.Sha256} its checkpoint recorded. It is kept as found.");
                }
            }

            return 0;
        }

        _read += read.Length;
        if (_read > expected.Length)
        {
            throw new StreamCorruptedException($"{what} is corrupt: more than the {expected.Length:N0} bytes its checkpoint recorded are stored. It is kept as found.");
        }

        _hash.AppendData(read);
        return read.Length;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
