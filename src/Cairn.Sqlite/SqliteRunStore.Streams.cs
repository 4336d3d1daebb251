using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

/// <summary>
/// Runs' named streams in the database file: content is written as an upload of chunks of up to 1 MiB, each in its own
/// short write (a group commit, like a checkpoint's), with incremental blob I/O, and published by its SHA-256 in one more
/// write once complete; identical content is stored once. Reads open one chunk at a time.
/// </summary>
public sealed partial class SqliteRunStore : IStreamStore, IStreamReferences
{
    /// <inheritdoc />
    public async Task<StoredStream> WriteAsync(Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var upload = await StreamWriteAsync((connection, transaction, now) =>
        {
            var insert = Cached(transaction, "INSERT INTO stream_uploads (started_at) VALUES ($now) RETURNING id");
            Bind(insert, "$now", Ticks(now));
            return (long)insert.ExecuteScalar()!;
        }, cancellationToken).ConfigureAwait(false);

        var published = false;
        try
        {
            var index = 0;
            var stored = await Cairn.Storage.StreamContent.CopyAsync(content, async (chunk, ct) =>
            {
                var chunkIndex = index++;
                await StreamWriteAsync((connection, transaction, _) =>
                {
                    var insert = Cached(transaction,
                        "INSERT INTO stream_chunks (upload_id, idx, bytes) VALUES ($upload, $idx, zeroblob($length)) RETURNING id");
                    Bind(insert, "$upload", upload);
                    Bind(insert, "$idx", chunkIndex);
                    Bind(insert, "$length", chunk.Length);
                    var row = (long)insert.ExecuteScalar()!;
                    using var blob = new SqliteBlob(connection, "stream_chunks", "bytes", row);
                    blob.Write(chunk.Span);
                    return true;
                }, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);

            await StreamWriteAsync((connection, transaction, now) =>
            {
                var touch = Cached(transaction, "UPDATE stream_contents SET touched_at = $now WHERE sha256 = $sha256");
                Bind(touch, "$now", Ticks(now));
                Bind(touch, "$sha256", stored.Sha256);
                if (touch.ExecuteNonQuery() == 0)
                {
                    var publish = Cached(transaction,
                        "INSERT INTO stream_contents (sha256, length, touched_at, upload_id) VALUES ($sha256, $length, $now, $upload); " +
                        "DELETE FROM stream_uploads WHERE id = $upload");
                    Bind(publish, "$sha256", stored.Sha256);
                    Bind(publish, "$length", stored.Length);
                    Bind(publish, "$now", Ticks(now));
                    Bind(publish, "$upload", upload);
                    publish.ExecuteNonQuery();
                }
                else
                {
                    // Stored already: this copy is not needed.
                    DeleteUpload(transaction, upload);
                }

                return true;
            }, cancellationToken).ConfigureAwait(false);
            published = true;
            return stored;
        }
        finally
        {
            if (!published)
            {
                // Best effort; an upload left behind (the database failed, the process died) is discarded by a later sweep.
                try
                {
                    await StreamWriteAsync((_, transaction, _) => DeleteUpload(transaction, upload), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is StoreUnavailableException or ObjectDisposedException)
                {
                    Log.Sqlite.StreamUploadLeft(_logger, _path, upload, ex.Message);
                }
            }
        }
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(StoredStream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return StreamReadAsync<Stream>(connection =>
        {
            using var command = Command(connection, null,
                "SELECT c.id FROM stream_contents s JOIN stream_chunks c ON c.upload_id = s.upload_id WHERE s.sha256 = $sha256 ORDER BY c.idx");
            Bind(command, "$sha256", stream.Sha256);
            var chunks = new List<long>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    chunks.Add(reader.GetInt64(0));
                }
            }

            if (chunks.Count == 0 && !ContentExists(connection, stream.Sha256))
            {
                throw new StreamNotFoundException($"The SQLite database '{_path}' holds no stream content {stream}.");
            }

            return new ChunkReadStream(this, chunks);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> TouchAsync(StoredStream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return StreamWriteAsync((_, transaction, now) =>
        {
            var touch = Cached(transaction, "UPDATE stream_contents SET touched_at = $now WHERE sha256 = $sha256");
            Bind(touch, "$now", Ticks(now));
            Bind(touch, "$sha256", stream.Sha256);
            return touch.ExecuteNonQuery() > 0;
        }, cancellationToken);
    }

    /// <summary>
    /// Lists the contents untouched since <paramref name="untouchedSince"/>; first discards uploads started before it and
    /// never published (left by a crash or a failed write), which no one can read.
    /// </summary>
    public async IAsyncEnumerable<StoredStream> ListUntouchedAsync(DateTimeOffset untouchedSince, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await StreamWriteAsync((_, transaction, _) =>
        {
            var abandoned = Cached(transaction,
                "DELETE FROM stream_chunks WHERE upload_id IN (SELECT id FROM stream_uploads WHERE started_at < $since); " +
                "DELETE FROM stream_uploads WHERE started_at < $since");
            Bind(abandoned, "$since", Ticks(untouchedSince));
            return abandoned.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);

        var found = await StreamReadAsync<List<StoredStream>>(connection =>
        {
            using var command = Command(connection, null, "SELECT sha256, length FROM stream_contents WHERE touched_at < $since");
            Bind(command, "$since", Ticks(untouchedSince));
            using var reader = command.ExecuteReader();
            var list = new List<StoredStream>();
            while (reader.Read())
            {
                list.Add(new StoredStream(reader.GetString(0), reader.GetInt64(1)));
            }

            return list;
        }, cancellationToken).ConfigureAwait(false);

        foreach (var stream in found)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return stream;
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(StoredStream stream, DateTimeOffset untouchedSince, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return StreamWriteAsync((_, transaction, _) =>
        {
            // Checked and deleted in one write transaction: a touch is either before it (and keeps the content) or after.
            var delete = Cached(transaction, "DELETE FROM stream_contents WHERE sha256 = $sha256 AND touched_at < $since RETURNING upload_id");
            Bind(delete, "$sha256", stream.Sha256);
            Bind(delete, "$since", Ticks(untouchedSince));
            if (delete.ExecuteScalar() is not long upload)
            {
                return false;
            }

            DeleteUpload(transaction, upload);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlySet<string>> GetReferencedStreamsAsync(CancellationToken cancellationToken) =>
        StreamReadAsync<IReadOnlySet<string>>(connection =>
        {
            using var command = Command(connection, null,
                "SELECT DISTINCT json_extract(s.value, '$.sha256') FROM checkpoints c, json_each(c.streams) s WHERE c.streams IS NOT NULL");
            return ReadRows(command, reader => reader.GetString(0)).ToHashSet(StringComparer.Ordinal);
        }, cancellationToken);

    private bool DeleteUpload(SqliteTransaction transaction, long upload)
    {
        var delete = Cached(transaction, "DELETE FROM stream_chunks WHERE upload_id = $upload; DELETE FROM stream_uploads WHERE id = $upload");
        Bind(delete, "$upload", upload);
        delete.ExecuteNonQuery();
        return true;
    }

    private static bool ContentExists(SqliteConnection connection, string sha256)
    {
        using var command = Command(connection, null, "SELECT 1 FROM stream_contents WHERE sha256 = $sha256");
        Bind(command, "$sha256", sha256);
        return command.ExecuteScalar() is not null;
    }

    // A stream write is a store write; the database's failure (full, read-only, gone) is the store being unavailable.
    private async Task<T> StreamWriteAsync<T>(Func<SqliteConnection, SqliteTransaction, DateTimeOffset, T> write, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAsync(write, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            throw new StoreUnavailableException($"The SQLite database '{_path}' cannot store stream content: {ex.Message}", ex);
        }
    }

    private async Task<T> StreamReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadAsync(read, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            throw new StoreUnavailableException($"The SQLite database '{_path}' cannot read stream content: {ex.Message}", ex);
        }
    }

    /// <summary>Reads stored content chunk by chunk, each through an incremental blob handle on one connection of its own.</summary>
    private sealed class ChunkReadStream(SqliteRunStore store, List<long> chunks) : ReadOnlyStream
    {
        private SqliteConnection? _connection;
        private SqliteBlob? _blob;
        private int _next;

        public override int Read(Span<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                if (_blob is null)
                {
                    if (_next == chunks.Count)
                    {
                        return 0;
                    }

                    try
                    {
                        _connection ??= store.OpenConnection(forWrites: false);
                        _blob = new SqliteBlob(_connection, "stream_chunks", "bytes", chunks[_next++], readOnly: true);
                    }
                    catch (SqliteException ex)
                    {
                        throw new StoreUnavailableException($"The SQLite database '{store._path}' cannot read stream content: {ex.Message}", ex);
                    }
                }

                var read = _blob.Read(buffer);
                if (read > 0)
                {
                    return read;
                }

                _blob.Dispose();
                _blob = null;
            }

            return 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _blob?.Dispose();
                _connection?.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
