namespace Cairn.Postgres;

/// <summary>
/// The statements of the stream store on a store's schema (see <see cref="PostgresSql"/>). Content is written chunk by
/// chunk under an upload (<c>stream_uploads</c>), each chunk its own short transaction, and published in one statement:
/// until then no reader finds it, and an upload whose writer died is swept once nothing was written to it for long.
/// </summary>
internal sealed class PostgresStreamSql
{
    /// <summary>How many contents one page of <see cref="ListUntouched"/> returns.</summary>
    public const int ListPageSize = 1000;

    /// <param name="schema">The validated schema name.</param>
    /// <param name="now">The SQL for the current time (see <see cref="PostgresSql"/>).</param>
    public PostgresStreamSql(string schema, string now)
    {
        var uploads = $"\"{schema}\".stream_uploads";
        var chunks = $"\"{schema}\".stream_chunks";
        var contents = $"\"{schema}\".stream_contents";
        var checkpoints = $"\"{schema}\".checkpoints";

        BeginUpload = $"INSERT INTO {uploads} (upload_id, written_at) VALUES (@upload_id, {now})";

        // Only while the upload is there: a sweep that took it for abandoned (and deleted it with its chunks) holds the
        // upload's row lock until it commits, so a chunk either moves written_at on before it, or is written nowhere.
        WriteChunk = $"""
            WITH upload AS (
                UPDATE {uploads} SET written_at = {now} WHERE upload_id = @upload_id RETURNING upload_id
            )
            INSERT INTO {chunks} (upload_id, idx, bytes) SELECT upload_id, @idx, @bytes FROM upload
            RETURNING 1
            """;

        // The upload becomes the content, or, when that content is stored already (by another run or node), the stored
        // one is touched and the upload's chunks go. ON CONFLICT waits for a sweep deleting the stored content and then
        // inserts, so a write never reports content a racing sweep deletes. Returns whether the upload was still there.
        Publish = $"""
            WITH upload AS (
                DELETE FROM {uploads} WHERE upload_id = @upload_id RETURNING upload_id
            ), published AS (
                INSERT INTO {contents} (sha256, length, upload_id, touched_at)
                SELECT @sha256, @length, upload_id, {now} FROM upload
                ON CONFLICT (sha256) DO UPDATE SET touched_at = EXCLUDED.touched_at
                RETURNING upload_id
            ), dropped AS (
                DELETE FROM {chunks} WHERE upload_id = @upload_id AND NOT EXISTS (SELECT FROM published WHERE upload_id = @upload_id)
            )
            SELECT EXISTS (SELECT FROM upload)
            """;

        // The chunks go only with the upload's row: a publish that did commit (its connection broke as it answered)
        // deleted that row, and its chunks are the content's now.
        DropUpload = $"""
            WITH upload AS (
                DELETE FROM {uploads} WHERE upload_id = @upload_id RETURNING upload_id
            )
            DELETE FROM {chunks} WHERE upload_id IN (SELECT upload_id FROM upload)
            """;

        // Uploads nothing was written to since the cutoff: their writers died (or a write stalled for longer than any
        // sweep waits). The row lock of the DELETE keeps a chunk from being added meanwhile (see WriteChunk).
        SweepUploads = $"""
            WITH abandoned AS (
                DELETE FROM {uploads} WHERE written_at < @untouched_since RETURNING upload_id
            )
            DELETE FROM {chunks} WHERE upload_id IN (SELECT upload_id FROM abandoned)
            """;

        Find = $"SELECT upload_id, length FROM {contents} WHERE sha256 = @sha256";

        // Sequential access: the chunk's bytes are copied from the connection into the reader's buffer, not into a new array.
        ReadChunk = $"SELECT octet_length(bytes), bytes FROM {chunks} WHERE upload_id = @upload_id AND idx = @idx";

        Touch = $"UPDATE {contents} SET touched_at = {now} WHERE sha256 = @sha256 RETURNING 1";

        ListUntouched = $"""
            SELECT sha256, length FROM {contents}
            WHERE touched_at < @untouched_since AND sha256 > @after
            ORDER BY sha256 LIMIT {ListPageSize}
            """;

        // Checked as it deletes: a touch or a write that got the row first moved touched_at past the cutoff, and the
        // DELETE's recheck of the row it waited for sees that.
        Delete = $"""
            WITH deleted AS (
                DELETE FROM {contents} WHERE sha256 = @sha256 AND touched_at < @untouched_since RETURNING upload_id
            ), chunks AS (
                DELETE FROM {chunks} WHERE upload_id IN (SELECT upload_id FROM deleted)
            )
            SELECT count(*)::integer FROM deleted
            """;

        // Read and parsed by the store (StreamManifest.Parse), which wrote them: few rows, those of unfinished runs.
        GetReferenced = $"SELECT streams FROM {checkpoints} WHERE streams IS NOT NULL";
    }

    public string BeginUpload { get; }

    public string WriteChunk { get; }

    public string Publish { get; }

    public string DropUpload { get; }

    public string SweepUploads { get; }

    public string Find { get; }

    public string ReadChunk { get; }

    public string Touch { get; }

    public string ListUntouched { get; }

    public string Delete { get; }

    public string GetReferenced { get; }
}
