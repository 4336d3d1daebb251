using Microsoft.EntityFrameworkCore;

namespace Cairn.EntityFrameworkCore.Tests;

/// <summary>The application's own database in these tests: one table of orders.</summary>
public sealed class OrdersContext(DbContextOptions<OrdersContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();
}

public sealed class Order
{
    public int Id { get; set; }

    public required string RunId { get; set; }

    public int Amount { get; set; }
}

/// <summary>The flows' state.</summary>
public sealed class OrderState
{
    public int Amount { get; set; }

    public List<string> Trace { get; set; } = [];
}
