// Cairn's operator console: routing between its pages and polling the current one. The pages are ES modules served
// from this assembly (console-core.js, console-runs.js, console-pages.js); nothing is loaded from anywhere else.
import { page, POLL_MS, showError } from './console-core.js';
import { runsPage, runPage } from './console-runs.js';
import { flowsPage, bulkPage, outboxPage, schedulesPage, purgePage } from './console-pages.js';

const live = document.getElementById('live');
let refresh = null; // The current page's refresh, called by the poller.

async function route() {
  const hash = location.hash || '#/runs';
  const parts = hash.slice(2).split('/');
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('current', link.dataset.page === parts[0]);
  refresh = null;
  page.busy = false;
  showError('');
  try {
    if (parts[0] === 'runs' && parts[1]) refresh = await runPage(decodeURIComponent(parts[1]));
    else if (parts[0] === 'flows') refresh = await flowsPage();
    else if (parts[0] === 'bulk') refresh = await bulkPage();
    else if (parts[0] === 'outbox') refresh = await outboxPage();
    else if (parts[0] === 'schedules') refresh = await schedulesPage();
    else if (parts[0] === 'purge') refresh = await purgePage();
    else refresh = await runsPage();
  } catch (e) {
    showError(e.message);
  }
}

async function poll() {
  if (refresh && !page.busy && !document.hidden) {
    try {
      await refresh();
      live.classList.remove('stale');
    } catch (e) {
      live.classList.add('stale');
    }
  }
  setTimeout(poll, POLL_MS);
}

window.addEventListener('hashchange', route);
route();
setTimeout(poll, POLL_MS);
