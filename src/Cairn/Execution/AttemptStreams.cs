using System.Collections.Frozen;

namespace Cairn.Execution;

/// <summary>
/// The named streams of one attempt: those of the checkpoint it resumed from, changed by its stages, saved with each
/// checkpoint it writes. A stage that fails takes its changes back; content it wrote stays in the store until the sweep.
/// </summary>
/// <param name="store">Where content goes; null when the engine has none (then a put says how to configure one).</param>
/// <param name="run">The run, for messages.</param>
/// <param name="restored">The streams of the checkpoint the attempt resumes from.</param>
internal sealed class AttemptStreams(IStreamStore? store, RunId run, IReadOnlyDictionary<string, StoredStream> restored)
{
    private static readonly FrozenSet<string> NoneUnsaved = FrozenSet<string>.Empty;
    private readonly Lock _lock = new();

    // Copied on every change (changes are rare, stages many): a stage's mark is then the two references, allocating nothing.
    private IReadOnlyDictionary<string, StoredStream> _current = restored;
    private IReadOnlySet<string> _unsaved = NoneUnsaved;

    public RunId Run { get; } = run;

    /// <summary>The last checkpoint's recovery point, for messages: where the streams were saved.</summary>
    public string? SavedAt { get; set; }

    public IStreamStore Store => store ?? throw new InvalidOperationException(
        $"Run {Run} cannot keep streams: its store keeps none. Call UseStorageFolder(path) or UseStreamStore(...) on the engine builder.");

    /// <summary>The streams now, as the next checkpoint saves them.</summary>
    public IReadOnlyDictionary<string, StoredStream> Manifest => Volatile.Read(ref _current);

    public StoredStream? Find(string name) => Manifest.GetValueOrDefault(name);

    public IReadOnlyCollection<string> Names => [.. Manifest.Keys.Order(StringComparer.Ordinal)];

    public void Set(string name, StoredStream stream) => Change(name, stream);

    public bool Remove(string name)
    {
        lock (_lock)
        {
            if (!_current.ContainsKey(name))
            {
                return false;
            }

            Change(name, null);
            return true;
        }
    }

    private void Change(string name, StoredStream? stream)
    {
        lock (_lock)
        {
            var current = new Dictionary<string, StoredStream>(_current, StringComparer.Ordinal);
            var unsaved = new HashSet<string>(_unsaved, StringComparer.Ordinal);
            if (stream is null)
            {
                current.Remove(name);
                unsaved.Remove(name);
            }
            else
            {
                current[name] = stream;
                unsaved.Add(name);
            }

            _current = current.ToFrozenDictionary(StringComparer.Ordinal);
            _unsaved = unsaved.ToFrozenSet(StringComparer.Ordinal);
        }
    }

    /// <summary>What a stage starts from, to take its changes back if it fails.</summary>
    public Mark Take()
    {
        lock (_lock)
        {
            return new Mark(_current, _unsaved);
        }
    }

    public void Restore(Mark mark)
    {
        lock (_lock)
        {
            _current = mark.Streams;
            _unsaved = mark.Unsaved;
        }
    }

    /// <summary>
    /// Touches the content put since the last checkpoint, just before the next one refers to it, so that a sweep of
    /// untouched content cannot take it in between; content already gone fails the save with a message saying why.
    /// </summary>
    public Task PrepareSaveAsync(string recoveryPoint, CancellationToken cancellationToken)
    {
        var (current, unsaved) = Take();
        return unsaved.Count == 0
            ? Task.CompletedTask // The hot path: a run without new streams allocates nothing here.
            : TouchAsync([.. unsaved.Select(n => (n, current[n]))], recoveryPoint, cancellationToken);
    }

    private async Task TouchAsync(List<(string Name, StoredStream Stream)> unsaved, string recoveryPoint, CancellationToken cancellationToken)
    {
        foreach (var (name, stream) in unsaved)
        {
            if (!await Store.TouchAsync(stream, cancellationToken).ConfigureAwait(false))
            {
                throw new StreamNotFoundException(
                    $"Run {Run} cannot save recovery point '{recoveryPoint}': the content of its stream '{name}' ({stream}) is no longer in the store; " +
                    "the sweep deletes content no checkpoint refers to once untouched for CairnOptions.OrphanStreamAge. The stage that put it runs again.");
            }
        }
    }

    /// <summary>The checkpoint that holds <paramref name="saved"/> committed: what it saved needs no touch before the next one.</summary>
    public void Saved(IReadOnlyDictionary<string, StoredStream> saved, string recoveryPoint)
    {
        lock (_lock)
        {
            SavedAt = recoveryPoint;
            if (_unsaved.Count > 0 && ReferenceEquals(saved, _current))
            {
                _unsaved = NoneUnsaved;
            }
        }
    }

    /// <summary>The streams and the unsaved names at a moment; both never change once made.</summary>
    public readonly record struct Mark(IReadOnlyDictionary<string, StoredStream> Streams, IReadOnlySet<string> Unsaved);
}
