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
    private readonly Lock _lock = new();
    private Dictionary<string, StoredStream> _current = new(restored, StringComparer.Ordinal);
    private HashSet<string> _unsaved = new(StringComparer.Ordinal);

    public RunId Run { get; } = run;

    /// <summary>The last checkpoint's recovery point, for messages: where the streams were saved.</summary>
    public string? SavedAt { get; set; }

    public IStreamStore Store => store ?? throw new InvalidOperationException(
        $"Run {Run} cannot keep streams: its store keeps none. Call UseStorageFolder(path) or UseStreamStore(...) on the engine builder.");

    public bool HasStore => store is not null;

    /// <summary>The streams now, as the next checkpoint saves them.</summary>
    public IReadOnlyDictionary<string, StoredStream> Manifest
    {
        get
        {
            lock (_lock)
            {
                return _current.Count == 0 ? StreamManifest.Empty : _current.ToFrozenDictionary(StringComparer.Ordinal);
            }
        }
    }

    public StoredStream? Find(string name)
    {
        lock (_lock)
        {
            return _current.GetValueOrDefault(name);
        }
    }

    public IReadOnlyCollection<string> Names
    {
        get
        {
            lock (_lock)
            {
                return [.. _current.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    public void Set(string name, StoredStream stream)
    {
        lock (_lock)
        {
            _current[name] = stream;
            _unsaved.Add(name);
        }
    }

    public bool Remove(string name)
    {
        lock (_lock)
        {
            _unsaved.Remove(name);
            return _current.Remove(name);
        }
    }

    /// <summary>What a stage starts from, to take its changes back if it fails.</summary>
    public Mark Take()
    {
        lock (_lock)
        {
            return new Mark(new Dictionary<string, StoredStream>(_current, StringComparer.Ordinal), [.. _unsaved]);
        }
    }

    public void Restore(Mark mark)
    {
        lock (_lock)
        {
            _current = new Dictionary<string, StoredStream>(mark.Streams, StringComparer.Ordinal);
            _unsaved = new HashSet<string>(mark.Unsaved, StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// Touches the content put since the last checkpoint, just before the next one refers to it, so that a sweep of
    /// untouched content cannot take it in between; content already gone fails the save with a message saying why.
    /// </summary>
    public Task PrepareSaveAsync(string recoveryPoint, CancellationToken cancellationToken)
    {
        List<(string Name, StoredStream Stream)> unsaved;
        lock (_lock)
        {
            if (_unsaved.Count == 0)
            {
                return Task.CompletedTask; // The hot path: a run without new streams allocates nothing here.
            }

            unsaved = [.. _unsaved.Select(n => (n, _current[n]))];
        }

        return TouchAsync(unsaved, recoveryPoint, cancellationToken);
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

    /// <summary>The checkpoint that holds <paramref name="saved"/> committed.</summary>
    public void Saved(IReadOnlyDictionary<string, StoredStream> saved, string recoveryPoint)
    {
        lock (_lock)
        {
            _unsaved.RemoveWhere(n => saved.TryGetValue(n, out var s) && _current.TryGetValue(n, out var c) && s == c);
            SavedAt = recoveryPoint;
        }
    }

    public sealed record Mark(Dictionary<string, StoredStream> Streams, List<string> Unsaved);
}
