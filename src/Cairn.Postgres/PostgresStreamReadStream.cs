using System.Buffers;
using System.Data;
using Npgsql;

namespace Cairn.Postgres;

/// <summary>
/// Reads stored content from its chunks, one chunk at a time: the next is fetched (one round trip on a pooled connection,
/// no connection held in between) when the caller has read the previous one, so at most a chunk is in memory.
/// </summary>
internal sealed class PostgresStreamReadStream(PostgresRunStore store, Guid upload, long length, StoredStream stream) : ReadOnlyStream
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Cairn.Storage.StreamContent.ChunkSize);
    private int _offset;
    private int _count;
    private int _nextChunk;
    private long _position;
    private bool _disposed;

    public override bool CanRead => !_disposed;

    public override long Length => length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        // The fetch with async: false runs synchronously on Npgsql's synchronous API.
        if (buffer.Length > 0 && _offset == _count && !FillAsync(async: false, CancellationToken.None).AsTask().GetAwaiter().GetResult())
        {
            return 0;
        }

        return Take(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length > 0 && _offset == _count && !await FillAsync(async: true, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        return Take(buffer.Span);
    }

    private int Take(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, _count - _offset);
        _buffer.AsSpan(_offset, n).CopyTo(destination);
        _offset += n;
        _position += n;
        return n;
    }

    // Fetches the next chunk into the buffer; false at the content's end. A chunk missing before the end means the content
    // went while it was read (a sweep deleted it) or the store is damaged; either way it cannot be read to its end.
    private async ValueTask<bool> FillAsync(bool async, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_position >= length)
        {
            return false;
        }

        int? read;
        try
        {
            read = await FetchAsync(_nextChunk, async, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            throw store.StreamError(ex);
        }

        if (read is not { } count)
        {
            throw new StreamNotFoundException(
                $"{store.StreamsWhere} lost stream content {stream} while it was read: chunk {_nextChunk} is gone (a sweep deleted the content, or the store is damaged).");
        }

        _nextChunk++;
        _offset = 0;
        _count = count;

        // An empty chunk is never written; should one be found, the content ends here (and its check finds it short).
        return count > 0;
    }

    private async ValueTask<int?> FetchAsync(int index, bool async, CancellationToken cancellationToken)
    {
        var connection = async
            ? await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false)
            : store.DataSource.OpenConnection();
        await using (connection.ConfigureAwait(false))
        {
            using var command = new NpgsqlCommand(store.StreamSql.ReadChunk, connection);
            command.Parameters.Add(new NpgsqlParameter<Guid>("upload_id", upload));
            command.Parameters.Add(new NpgsqlParameter<int>("idx", index));

            // Sequential access: the bytes are copied from the connection into the buffer instead of into a new array.
            var reader = async
                ? await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false)
                : command.ExecuteReader(CommandBehavior.SequentialAccess);
            await using (reader.ConfigureAwait(false))
            {
                if (!(async ? await reader.ReadAsync(cancellationToken).ConfigureAwait(false) : reader.Read()))
                {
                    return null;
                }

                var size = reader.GetInt32(0);
                if (size > _buffer.Length)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = ArrayPool<byte>.Shared.Rent(size);
                }

                var bytes = async ? await reader.GetStreamAsync(1, cancellationToken).ConfigureAwait(false) : reader.GetStream(1);
                await using (bytes.ConfigureAwait(false))
                {
                    var filled = 0;
                    while (filled < size)
                    {
                        var n = async
                            ? await bytes.ReadAsync(_buffer.AsMemory(filled, size - filled), cancellationToken).ConfigureAwait(false)
                            : bytes.Read(_buffer, filled, size - filled);
                        if (n == 0)
                        {
                            break;
                        }

                        filled += n;
                    }

                    return filled;
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        base.Dispose(disposing);
    }
}
