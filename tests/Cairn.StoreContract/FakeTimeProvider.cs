namespace Cairn.StoreContract;

/// <summary>
/// A clock for tests that moves only when the test moves it. Timers created through it (and so
/// <c>Task.Delay(delay, timeProvider)</c>, <c>PeriodicTimer</c> and <c>CancellationTokenSource</c> timeouts) fire when
/// <see cref="Advance"/> or <see cref="SetUtcNow"/> moves the clock past their due time, in due-time order, with the
/// clock set to each due time as it fires. Thread-safe; callbacks run outside the lock, on the advancing thread.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    /// <summary>The default start time: 2026-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _lock = new();
    private readonly List<FakeTimer> _scheduled = [];
    private DateTimeOffset _now;

    // Where the clock is heading: advances from several threads add up even while an earlier one is still firing timers.
    private DateTimeOffset _horizon;
    private long _nextOrder;

    /// <summary>Creates a clock at <see cref="DefaultStart"/>.</summary>
    public FakeTimeProvider()
        : this(DefaultStart)
    {
    }

    /// <summary>Creates a clock at <paramref name="start"/>.</summary>
    public FakeTimeProvider(DateTimeOffset start)
    {
        _now = start.ToUniversalTime();
        _horizon = _now;
    }

    /// <summary>How many timers are waiting to fire: lets a test wait until the code under test is waiting.</summary>
    public int ScheduledTimerCount
    {
        get
        {
            lock (_lock)
            {
                return _scheduled.Count;
            }
        }
    }

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Ticks of the fake clock, so elapsed-time measurements follow it.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    /// <inheritdoc />
    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>Moves the clock forward by <paramref name="delta"/>, firing the timers that fall due on the way.</summary>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_lock)
        {
            _horizon += delta;
            target = _horizon;
        }

        MoveTo(target);
    }

    /// <summary>Sets the clock to <paramref name="value"/>, firing the timers that fall due on the way. Time never goes back.</summary>
    public void SetUtcNow(DateTimeOffset value)
    {
        value = value.ToUniversalTime();
        lock (_lock)
        {
            if (value < _now)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"The fake clock cannot go back from {_now:O}.");
            }

            if (value > _horizon)
            {
                _horizon = value;
            }
        }

        MoveTo(value);
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private void MoveTo(DateTimeOffset target)
    {
        while (true)
        {
            FakeTimer? timer;
            lock (_lock)
            {
                timer = TakeDue(target);
                if (timer is null)
                {
                    if (target > _now)
                    {
                        _now = target;
                    }

                    return;
                }
            }

            timer.Callback(timer.State);
        }
    }

    // Called under the lock: removes or reschedules the earliest timer due at or before the limit, and moves the clock to
    // its due time so that the callback sees the time it was due at.
    private FakeTimer? TakeDue(DateTimeOffset limit)
    {
        FakeTimer? earliest = null;
        foreach (var timer in _scheduled)
        {
            if (timer.DueAt <= limit
                && (earliest is null || timer.DueAt < earliest.DueAt || (timer.DueAt == earliest.DueAt && timer.Order < earliest.Order)))
            {
                earliest = timer;
            }
        }

        if (earliest is null)
        {
            return null;
        }

        if (earliest.DueAt > _now)
        {
            _now = earliest.DueAt;
        }

        if (earliest.Period is { } period)
        {
            earliest.DueAt = _now + period;
            earliest.Order = _nextOrder++;
        }
        else
        {
            _scheduled.Remove(earliest);
        }

        return earliest;
    }

    private bool Schedule(FakeTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        var fireNow = false;
        lock (_lock)
        {
            if (timer.IsDisposed)
            {
                return false;
            }

            _scheduled.Remove(timer);
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return true;
            }

            // A period of zero or infinity means "fire once", as for System.Threading.Timer.
            var periodic = period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero;
            if (dueTime == TimeSpan.Zero)
            {
                // A real timer never calls back on the thread that arms it; fire from the thread pool, as it would.
                fireNow = true;
                timer.Period = periodic ? period : null;
                if (periodic)
                {
                    timer.DueAt = _now + period;
                    timer.Order = _nextOrder++;
                    _scheduled.Add(timer);
                }
            }
            else
            {
                timer.DueAt = _now + dueTime;
                timer.Period = periodic ? period : null;
                timer.Order = _nextOrder++;
                _scheduled.Add(timer);
            }
        }

        if (fireNow)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static t => t.Callback(t.State), timer, preferLocal: false);
        }

        return true;
    }

    private void Unschedule(FakeTimer timer)
    {
        lock (_lock)
        {
            timer.IsDisposed = true;
            _scheduled.Remove(timer);
        }
    }

    private static void ValidateTime(TimeSpan value, string name)
    {
        if (value != Timeout.InfiniteTimeSpan && value < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, "A timer's due time and period must be zero or positive, or Timeout.InfiniteTimeSpan.");
        }
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public TimerCallback Callback { get; } = callback;

        public object? State { get; } = state;

        // The fields below are guarded by the owner's lock.
        public DateTimeOffset DueAt { get; set; }

        public TimeSpan? Period { get; set; }

        public long Order { get; set; }

        public bool IsDisposed { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            ValidateTime(dueTime, nameof(dueTime));
            ValidateTime(period, nameof(period));
            return owner.Schedule(this, dueTime, period);
        }

        public void Dispose() => owner.Unschedule(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
