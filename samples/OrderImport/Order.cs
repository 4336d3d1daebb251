namespace OrderImport;

/// <summary>One line of the orders CSV.</summary>
public sealed record Order(string Id, string Customer, string Sku, int Quantity, decimal UnitPrice)
{
    public decimal Amount => Quantity * UnitPrice;
}
