namespace Cairn.DataSources;

/// <summary>The SQL dialect a <see cref="CompletionTable"/> speaks: which column types and which "create if missing" form it uses.</summary>
public enum CompletionDialect
{
    /// <summary>SQLite (Microsoft.Data.Sqlite).</summary>
    Sqlite,

    /// <summary>PostgreSQL (Npgsql).</summary>
    PostgreSql,

    /// <summary>Microsoft SQL Server and Azure SQL (Microsoft.Data.SqlClient).</summary>
    SqlServer,

    /// <summary>MySQL and MariaDB (MySqlConnector, MySql.Data).</summary>
    MySql,
}
