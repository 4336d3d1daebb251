using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Purchase;

/// <summary>
/// A stand-in for a card processor, served on 127.0.0.1 by ASP.NET Core: <c>POST /payments</c> with an
/// <c>Idempotency-Key</c> header charges once per key — a repeated key gets the first answer again and charges nothing
/// — and declines the card <see cref="DeclinedCard"/>. It keeps every call, so the sample and the crash tests can show
/// which keys it saw and how many charges it made.
/// </summary>
public sealed class FakePaymentService : IAsyncDisposable
{
    /// <summary>The card this service always declines.</summary>
    public const string DeclinedCard = "4000-0000-0000-0002";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, PaymentAnswer> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<PaymentCall> _calls = new();

    private FakePaymentService(WebApplication app) => _app = app;

    /// <summary>Where the service listens: <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Every call, in the order they came.</summary>
    public IReadOnlyList<PaymentCall> Calls => [.. _calls];

    /// <summary>The charges made: one per idempotency key that was not declined.</summary>
    public int Charges => _answers.Values.Count(a => a.PaymentId is not null);

    /// <summary>Starts the service on a free port of 127.0.0.1 (or <paramref name="port"/>).</summary>
    public static async Task<FakePaymentService> StartAsync(int port = 0, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        var app = builder.Build();
        var service = new FakePaymentService(app);
        app.MapPost("/payments", (HttpRequest request, PaymentRequest payment) => service.Charge(request.Headers["Idempotency-Key"].ToString(), payment));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        service.Address = new Uri(address.EndsWith('/') ? address : address + "/");
        return service;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private IResult Charge(string key, PaymentRequest payment)
    {
        if (string.IsNullOrEmpty(key))
        {
            return Results.BadRequest(new { error = "the Idempotency-Key header is required" });
        }

        var replayed = true;
        var answer = _answers.GetOrAdd(key, _ =>
        {
            replayed = false;
            return payment.Card == DeclinedCard
                ? new PaymentAnswer(null, "card declined")
                : new PaymentAnswer($"pay_{Guid.NewGuid():N}", null);
        });
        _calls.Enqueue(new PaymentCall(key, payment.OrderId, payment.AmountCents, replayed));
        return answer.PaymentId is null
            ? Results.Json(new { error = answer.Error }, statusCode: StatusCodes.Status402PaymentRequired)
            : Results.Ok(new PaymentResponse(answer.PaymentId));
    }

    private sealed record PaymentAnswer(string? PaymentId, string? Error);
}

/// <summary>One call the payment service received.</summary>
/// <param name="IdempotencyKey">The key the caller sent.</param>
/// <param name="OrderId">The order it was for.</param>
/// <param name="AmountCents">The amount asked.</param>
/// <param name="Replayed">Whether the key had been seen before, so the first answer was returned and nothing charged.</param>
public sealed record PaymentCall(string IdempotencyKey, string OrderId, long AmountCents, bool Replayed);

/// <summary>The body of <c>POST /payments</c>.</summary>
public sealed record PaymentRequest(string OrderId, long AmountCents, string Card);

/// <summary>The answer to a charge.</summary>
public sealed record PaymentResponse(string PaymentId);
