using System.Text;
using System.Text.Json;
using Cairn.Flows;

namespace Cairn.Tests.Outbox;

/// <summary>A stage's outbox: what it adds, and the messages as a stage's completion record keeps them.</summary>
public sealed class StageOutboxTests
{
    [Fact]
    public void Add_SerializesTheMessageAsWebJson_AndAddPayloadKeepsACopyOfTheBytes()
    {
        var pending = new List<StageOutbox.PendingMessage>();
        var outbox = new StageOutbox(pending);
        var payload = "raw"u8.ToArray();

        outbox.Add("NewOrder", new { OrderId = 42 });
        outbox.AddPayload("Audit", payload);
        payload[0] = (byte)'R';

        Assert.Equal(["NewOrder", "Audit"], pending.Select(m => m.Destination));
        Assert.Equal(["{\"orderId\":42}", "raw"], pending.Select(m => Encoding.UTF8.GetString(m.Payload)));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void AddPayload_WithoutADestination_IsRefused(string destination)
    {
        var pending = new List<StageOutbox.PendingMessage>();

        Assert.Throws<ArgumentException>(() => new StageOutbox(pending).AddPayload(destination, "{}"u8.ToArray()));
        Assert.Empty(pending);
    }

    [Fact]
    public void Serialize_OfNoMessage_IsNull()
    {
        Assert.Null(StageOutbox.Serialize([]));
    }

    [Fact]
    public void Serialize_KeepsDestinationsAndBase64Payloads_AndDeserializeReadsThemBack()
    {
        StageOutbox.PendingMessage[] messages = [new("NewOrder", "{}"u8.ToArray()), new("Audit", [1, 2, 3])];

        var saved = StageOutbox.Serialize(messages);
        var read = StageOutbox.Deserialize(saved);

        Assert.Equal("""[{"destination":"NewOrder","payload":"e30="},{"destination":"Audit","payload":"AQID"}]""", Encoding.UTF8.GetString(saved!));
        Assert.Equal(messages.Select(m => (m.Destination, Convert.ToBase64String(m.Payload))), read.Select(m => (m.Destination, Convert.ToBase64String(m.Payload))));
    }

    [Fact]
    public void Deserialize_OfNothingOrJsonNull_IsNoMessage_AndOfOtherJsonAnException()
    {
        Assert.Empty(StageOutbox.Deserialize(null));
        Assert.Empty(StageOutbox.Deserialize([]));
        Assert.Empty(StageOutbox.Deserialize("null"u8.ToArray()));
        Assert.ThrowsAny<JsonException>(() => StageOutbox.Deserialize("{\"destination\":1}"u8.ToArray()));
    }
}
