namespace Cairn.CrashTest.Harness;

/// <summary>
/// The journal the crash-test workers append to, one line per stage start (<c>S run stage attempt</c>), per
/// committed checkpoint (<c>C run point attempt</c>) and, on the chaos soak's nodes, per outbox delivery
/// (<c>D run key message-id</c>). Each line is handed to the operating system before the engine
/// goes on, so a SIGKILL cannot lose it: only a power loss could, and the harness kills processes, not machines.
/// </summary>
internal sealed class CrashJournal : IDisposable
{
    private readonly FileStream _stream;
    private readonly Lock _lock = new();

    public CrashJournal(string path)
    {
        _stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 4096);
        _stream.Seek(0, SeekOrigin.End);

        // A worker killed in the middle of a line left it torn: end it, so this worker's first line stands alone.
        if (_stream.Length > 0)
        {
            _stream.Seek(-1, SeekOrigin.End);
            var last = _stream.ReadByte();
            _stream.Seek(0, SeekOrigin.End);
            if (last != '\n')
            {
                _stream.WriteByte((byte)'\n');
                _stream.Flush();
            }
        }
    }

    public void StageStarted(string runId, string stage, int attempt) => Append('S', runId, stage, attempt.ToString(CultureInfo.InvariantCulture));

    public void CheckpointCommitted(string runId, string point, int attempt) => Append('C', runId, point, attempt.ToString(CultureInfo.InvariantCulture));

    public void Delivered(string runId, string key, Guid messageId) => Append('D', runId, key, messageId.ToString());

    public void Dispose() => _stream.Dispose();

    /// <summary>Reads a journal; lines that cannot be read (a torn last line) are counted, not returned.</summary>
    public static (List<JournalEntry> Entries, int TornLines) Read(string path)
    {
        var entries = new List<JournalEntry>();
        var torn = 0;
        if (!File.Exists(path))
        {
            return (entries, torn);
        }

        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            var parts = line.Split(' ');
            if (parts is [var kind and ("S" or "C"), var run, var name, var attempt]
                && Guid.TryParse(run, out var runId)
                && int.TryParse(attempt, NumberStyles.None, CultureInfo.InvariantCulture, out var attemptNumber))
            {
                entries.Add(new JournalEntry(number, kind == "C" ? JournalEntryKind.Commit : JournalEntryKind.Stage, runId, name, attemptNumber));
            }
            else if (parts is ["D", var deliveredRun, var key, var message] && Guid.TryParse(deliveredRun, out var deliveredRunId) && Guid.TryParse(message, out var messageId))
            {
                entries.Add(new JournalEntry(number, JournalEntryKind.Delivery, deliveredRunId, key, 0, messageId));
            }
            else
            {
                torn++;
            }
        }

        return (entries, torn);
    }

    private void Append(char kind, string runId, string name, string last)
    {
        var line = Encoding.UTF8.GetBytes($"{kind} {runId} {name} {last}\n");
        lock (_lock)
        {
            // One write per line, flushed at once: the harness reads the journal after killing this process.
            _stream.Write(line);
            _stream.Flush();
        }
    }
}
