namespace Cairn.Cli.Demo;

/// <summary>One line of the orders CSV.</summary>
internal sealed record Order(string Id, string Customer, string Sku, int Quantity, decimal UnitPrice)
{
    public decimal Amount => Quantity * UnitPrice;
}
