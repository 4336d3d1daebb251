using System.Collections.Concurrent;

namespace OrderApproval;

/// <summary>
/// Stands in for a payment provider that deduplicates by idempotency key, as real ones do: charging the same key twice
/// charges once and returns the first reference.
/// </summary>
public sealed class Payments
{
    private readonly ConcurrentDictionary<string, (string Reference, decimal Amount)> _charges = new(StringComparer.Ordinal);

    public int Charges => _charges.Count;

    public string Charge(string idempotencyKey, decimal amount) =>
        _charges.GetOrAdd(idempotencyKey, key => ($"pay-{_charges.Count + 1:D4}", amount)).Reference;
}
