using Microsoft.Playwright;

namespace Cairn.Console.BrowserTests;

/// <summary>
/// What every page test shares: a fresh <see cref="ConsoleApp"/>, a browser context and page of its own, and a check that
/// the page raised no dialog (an <c>alert</c> from injected script) and logged no error (a Content-Security-Policy violation).
/// </summary>
public abstract class ConsolePageTest(BrowserFixture browser) : IAsyncLifetime
{
    private readonly List<string> _dialogs = [];
    private readonly List<string> _consoleErrors = [];

    protected BrowserFixture Browser { get; } = browser;

    private protected ConsoleApp App { get; private set; } = null!;

    protected IBrowserContext Context { get; private set; } = null!;

    protected IPage Page { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await ConsoleApp.StartAsync();
        Context = await Browser.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1360, Height = 900 } });
        Page = await Context.NewPageAsync();
        Page.Dialog += (_, dialog) =>
        {
            lock (_dialogs)
            {
                _dialogs.Add(dialog.Message);
            }

            _ = dialog.DismissAsync();
        };
        Page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_consoleErrors)
                {
                    _consoleErrors.Add($"{message.Text} ({message.Location})");
                }
            }
        };
    }

    public async Task DisposeAsync()
    {
        await Context.DisposeAsync();
        await App.DisposeAsync();
    }

    protected ILocator Row(string recoveryId) => Page.Locator($"#runs tr[data-recovery-id='{recoveryId}']");

    /// <param name="expectedStatuses">HTTP error statuses the test provoked on purpose: Chromium logs each failed request as an error.</param>
    protected void AssertCleanPage(params int[] expectedStatuses)
    {
        lock (_dialogs)
        {
            Assert.Empty(_dialogs);
        }

        lock (_consoleErrors)
        {
            // A Content-Security-Policy violation would be reported here.
            var unexpected = _consoleErrors.Where(e => !expectedStatuses.Any(status => e.Contains($"the server responded with a status of {status}", StringComparison.Ordinal))).ToList();
            Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
        }
    }
}
