using System.Net;
using System.Net.Http.Json;

namespace Purchase;

/// <summary>Takes payments from the payment service, always with the caller's idempotency key.</summary>
public sealed class PaymentClient(HttpClient http)
{
    /// <summary>
    /// Charges the order's total to its card. The same <paramref name="idempotencyKey"/> charges once however often it is
    /// sent: pass the stage's <c>IdempotencyKey</c>, which stays the same when the stage runs again after a crash.
    /// </summary>
    /// <returns>The payment's ID.</returns>
    /// <exception cref="PaymentDeclinedException">The card was declined: permanent, retrying does not help.</exception>
    public async Task<string> ChargeAsync(PurchaseOrder order, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "payments")
        {
            Content = JsonContent.Create(new PaymentRequest(order.OrderId, order.TotalCents(), order.Card)),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.PaymentRequired)
        {
            throw new PaymentDeclinedException($"The payment of order {order.OrderId} was declined: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        response.EnsureSuccessStatusCode(); // Anything else may pass: the flow's retry policy tries again, with the same key.
        var payment = await response.Content.ReadFromJsonAsync<PaymentResponse>(cancellationToken);
        return payment!.PaymentId;
    }
}

/// <summary>The card was declined.</summary>
public sealed class PaymentDeclinedException(string message) : Exception(message);
