namespace Cairn.Serialization.Protection;

/// <summary>A read-only, forward-only stream that hands out chunks its subclass makes one at a time (a frame, a header).</summary>
internal abstract class ChunkedReadStream : ReadOnlyStream
{
    private ReadOnlyMemory<byte> _pending;
    private bool _ended;

    /// <summary>The next chunk of output (possibly empty), or null at the end.</summary>
    protected abstract ValueTask<ReadOnlyMemory<byte>?> NextAsync(CancellationToken cancellationToken);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_pending.IsEmpty && !_ended && !buffer.IsEmpty)
        {
            if (await NextAsync(cancellationToken).ConfigureAwait(false) is { } next)
            {
                _pending = next;
            }
            else
            {
                _ended = true;
            }
        }

        var n = Math.Min(buffer.Length, _pending.Length);
        _pending[..n].CopyTo(buffer);
        _pending = _pending[n..];
        return n;
    }

    // Stores and stages read asynchronously; a synchronous reader waits.
    public override int Read(Span<byte> buffer)
    {
        var array = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var n = ReadAsync(array.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
            array.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(array);
        }
    }
}
