// Cairn's operator console: plain DOM, no framework. Every text from the API goes into the page as textContent
// (through el() below), never as markup, so a status message holding <script> shows as text.
'use strict';

(function () {
  const STATUSES = ['Pending', 'Running', 'WaitingForRetry', 'Waiting', 'Interrupted', 'Completed', 'Failed', 'Cancelled', 'Compensated'];
  // As the operator API's rules (StoreRules): the buttons the status forbids are turned off; the server decides anyway.
  const RERUNNABLE = ['Failed', 'WaitingForRetry', 'Waiting', 'Interrupted', 'Cancelled'];
  const UNCANCELLABLE = ['Completed', 'Cancelled', 'Compensated'];
  const POLL_MS = 3000;
  const PAGE_SIZE = 25;

  const main = document.getElementById('main');
  const errorBox = document.getElementById('error');
  const live = document.getElementById('live');

  // The list's filter, shared with the bulk repair page ("with the current filter").
  const filter = { status: '', flow: '', recoveryId: '' };
  let cursors = [null]; // The cursor of each page seen so far; the last one is the page shown.
  let refresh = null;   // The current page's refresh, called by the poller.
  let busy = false;     // A dialog or an edit is open: the poller leaves the page alone.
  let token = null;     // The anti-forgery token's promise.

  // el('td', { class: 'x', onclick: f }, 'text', child...): strings become text nodes, never markup.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    return add(node, children);
  }

  // Replaces a node's children; arrays nest freely, null and false are skipped, strings become text.
  function fill(node, ...children) {
    node.textContent = '';
    return add(node, children);
  }

  function add(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function time(value) {
    if (!value) return '';
    const date = new Date(value);
    return isNaN(date) ? String(value) : date.toLocaleString();
  }

  function badge(status) {
    return el('span', { class: 'status status-' + status, 'data-status': status }, status);
  }

  // A run's last error explains its status only while it has not recovered since.
  function failing(run) {
    return !!run.lastError && ['Failed', 'WaitingForRetry', 'Interrupted'].includes(run.status);
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== '') search.set(key, value);
    }
    const text = search.toString();
    return text ? '?' + text : '';
  }

  // One request for the token however many writes want it at once: each answer sets a new cookie, which would not
  // match the token another write holds.
  function antiforgery() {
    if (!token) {
      token = fetch('api/antiforgery', { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(response => {
        if (!response.ok) throw new Error('Could not get the anti-forgery token (HTTP ' + response.status + ')');
        return response.json();
      });
      token.catch(() => { token = null; });
    }
    return token;
  }

  // Calls the API with a URL relative to the console's prefix; a write sends the anti-forgery token.
  async function api(path, options) {
    const method = (options && options.method) || 'GET';
    const headers = { Accept: 'application/json' };
    let body;
    if (options && options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    for (let attempt = 0; ; attempt++) {
      if (method !== 'GET') {
        const t = await antiforgery();
        headers[t.headerName] = t.token;
      }
      const response = await fetch('api/' + path, { method, headers, body, credentials: 'same-origin' });
      const text = await response.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch { data = null; }
      if (response.ok) return data;
      if (method !== 'GET' && attempt === 0 && response.status === 400 && data && /anti-forgery/i.test(data.title || '')) {
        token = null; // Expired or rotated: fetch a fresh one and try once more.
        continue;
      }
      if (response.status === 401) throw new Error('Not signed in, or the session has ended (HTTP 401): reload the page to sign in.');
      const detail = data && (data.detail || data.title);
      throw new Error((detail || 'HTTP ' + response.status) + (detail ? ' (HTTP ' + response.status + ')' : ''));
    }
  }

  // A modal confirmation; resolves true when the operator confirms.
  function confirmAction(title, text, verb) {
    const dialog = document.getElementById('confirm');
    document.getElementById('confirm-title').textContent = title;
    document.getElementById('confirm-text').textContent = text;
    const yes = document.getElementById('confirm-yes');
    const no = document.getElementById('confirm-no');
    yes.textContent = verb || 'Confirm';
    busy = true;
    return new Promise(resolve => {
      function done(answer) {
        yes.removeEventListener('click', onYes);
        no.removeEventListener('click', onNo);
        dialog.removeEventListener('cancel', onNo);
        if (dialog.open) dialog.close();
        busy = false;
        resolve(answer);
      }
      function onYes() { done(true); }
      function onNo() { done(false); }
      yes.addEventListener('click', onYes);
      no.addEventListener('click', onNo);
      dialog.addEventListener('cancel', onNo);
      dialog.showModal();
    });
  }

  async function act(title, text, verb, call, after) {
    if (!await confirmAction(title, text, verb)) return;
    try {
      const result = await call();
      showError('');
      if (after) await after(result);
    } catch (e) {
      showError(e.message);
    }
  }

  function filterControls(flows, onChange) {
    const status = el('select', { id: 'filter-status', 'aria-label': 'Status' },
      el('option', { value: '' }, 'All statuses'),
      STATUSES.map(s => el('option', { value: s, selected: filter.status === s }, s)));
    const flow = el('select', { id: 'filter-flow', 'aria-label': 'Flow' },
      el('option', { value: '' }, 'All flows'),
      [...new Set(flows.map(f => f.name))].map(name => el('option', { value: name, selected: filter.flow === name }, name)));
    if (filter.flow && !flows.some(f => f.name === filter.flow)) flow.append(el('option', { value: filter.flow, selected: true }, filter.flow));
    const search = el('input', { id: 'filter-recovery-id', type: 'search', placeholder: 'Recovery ID', value: filter.recoveryId, 'aria-label': 'Recovery ID' });
    function apply() {
      filter.status = status.value;
      filter.flow = flow.value;
      filter.recoveryId = search.value.trim();
      onChange();
    }
    status.addEventListener('change', apply);
    flow.addEventListener('change', apply);
    search.addEventListener('keydown', e => { if (e.key === 'Enter') apply(); });
    return el('div', { class: 'filters' }, status, flow, search, el('button', { type: 'button', id: 'filter-apply', onclick: apply }, 'Apply'));
  }

  function filterParams() {
    return { status: filter.status, flow: filter.flow, recoveryId: filter.recoveryId };
  }

  async function flowsOrNone() {
    try { return await api('flows'); } catch { return []; }
  }

  // ---- Status list ----

  async function runsPage() {
    const flows = await flowsOrNone();
    const counts = el('div', { class: 'counts', id: 'counts' });
    const body = el('tbody', { id: 'runs' });
    const paging = el('div', { class: 'paging' });
    fill(main, 
      el('h1', {}, 'Runs'),
      counts,
      filterControls(flows, () => { cursors = [null]; load(); }),
      el('table', { class: 'runs' },
        el('thead', {}, el('tr', {}, ['Status', 'Flow', 'Recovery ID', 'Last recovery point', 'Status message', 'Owner', 'Updated'].map(h => el('th', {}, h)))),
        body),
      paging);

    async function load() {
      const [summary, page] = await Promise.all([
        api('summary' + query({ flow: filter.flow, recoveryId: filter.recoveryId })),
        api('runs' + query({ ...filterParams(), limit: PAGE_SIZE, cursor: cursors[cursors.length - 1] })),
      ]);
      fill(counts, 
        el('button', { type: 'button', class: 'count' + (filter.status ? '' : ' selected'), onclick: () => pick('') }, 'All ', el('b', {}, summary.total)),
        STATUSES.map(s => el('button', { type: 'button', class: 'count' + (filter.status === s ? ' selected' : ''), 'data-count': s, onclick: () => pick(s) },
          badge(s), ' ', el('b', {}, summary.countsByStatus[s] || 0))));
      fill(body, (page.runs.length ? page.runs.map(row) : [el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'No run matches.'))]));
      fill(paging, 
        el('button', { type: 'button', id: 'page-previous', disabled: cursors.length === 1, onclick: () => { cursors.pop(); load(); } }, '‹ Previous'),
        el('span', {}, 'Page ' + cursors.length),
        el('button', { type: 'button', id: 'page-next', disabled: !page.nextCursor, onclick: () => { cursors.push(page.nextCursor); load(); } }, 'Next ›'));
    }

    function pick(status) {
      filter.status = status;
      cursors = [null];
      document.getElementById('filter-status').value = status;
      load();
    }

    function row(run) {
      return el('tr', { 'data-run': run.id, 'data-recovery-id': run.recoveryId },
        el('td', {}, badge(run.status)),
        el('td', {}, run.flowName, el('span', { class: 'muted' }, ' v' + run.flowVersion)),
        el('td', {}, el('a', { href: '#/runs/' + encodeURIComponent(run.id) }, run.recoveryId)),
        el('td', {}, run.lastRecoveryPoint || ''),
        el('td', { class: 'message' }, run.statusMessage || '', failing(run) ? el('div', { class: 'run-error' }, run.lastError) : null),
        el('td', {}, run.owner || ''),
        el('td', { title: run.updatedAt }, time(run.updatedAt)));
    }

    await load();
    return load;
  }

  // ---- Run detail ----

  async function runPage(id) {
    const header = el('div');
    const fields = el('dl', { class: 'fields' });
    const actions = el('div', { class: 'actions' });
    const timeline = el('ol', { class: 'timeline', id: 'timeline' });
    const checkpoints = el('tbody', { id: 'checkpoints' });
    const state = el('div', { id: 'state' });
    const result = el('div', { id: 'result' });
    const editor = el('div', { id: 'editor' });
    fill(main, 
      el('p', {}, el('a', { href: '#/runs' }, '‹ Runs')),
      header, actions, editor, fields,
      el('div', { class: 'columns' },
        el('section', {}, el('h2', {}, 'Events'), timeline),
        el('section', {},
          el('h2', {}, 'Kept checkpoints'),
          el('table', {}, el('thead', {}, el('tr', {}, ['#', 'Recovery point', 'Status message', 'Created', 'Size', ''].map(h => el('th', {}, h)))), checkpoints),
          el('h2', {}, 'State'), state,
          result)));
    let detail = null;
    let viewing = null; // The sequence of the older checkpoint whose state is shown, or null for the latest.

    function showLatest() {
      viewing = null;
      showState(state, detail.state, detail.latestCheckpoint ? 'Latest checkpoint #' + detail.latestCheckpoint.sequence + ' (' + detail.latestCheckpoint.recoveryPoint + ')' : null);
    }

    function checkpointState(checkpoint) {
      return api('runs/' + encodeURIComponent(id) + '/checkpoints/' + checkpoint.sequence);
    }

    async function viewCheckpoint(checkpoint) {
      try {
        const found = await checkpointState(checkpoint);
        showError('');
        viewing = checkpoint.sequence;
        showState(state, found.state, 'Checkpoint #' + checkpoint.sequence + ' (' + checkpoint.recoveryPoint + ')');
        state.prepend(el('p', {}, el('button', { type: 'button', id: 'state-latest', onclick: showLatest }, 'Show the latest checkpoint\'s state')));
      } catch (e) {
        showError(e.message);
      }
    }

    async function load() {
      detail = await api('runs/' + encodeURIComponent(id));
      const run = detail.run;
      fill(header, el('h1', {}, run.flowName, ' / ', el('span', { id: 'run-recovery-id' }, run.recoveryId), ' ', el('span', { id: 'run-status' }, badge(run.status))));
      const rows = [
        ['Run ID', run.id], ['Flow', run.flowName + ' v' + run.flowVersion], ['Recovery ID', run.recoveryId], ['Status', run.status],
        ['Status message', run.statusMessage], ['Last recovery point', run.lastRecoveryPoint], ['Attempt', run.attempt],
        ['Retries used', run.retriesUsed], ['Owner', run.owner], ['Lease expires', time(run.leaseExpiresAt)], ['Created', time(run.createdAt)],
        ['Updated', time(run.updatedAt)], ['Due', time(run.dueAt)], ['Finished', time(run.finishedAt)], ['Checkpoint sequence', run.checkpointSequence],
      ];
      fill(fields, rows.filter(r => r[1] !== null && r[1] !== undefined && r[1] !== '').flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
        run.parentRunId ? [el('dt', {}, 'Parent run'), el('dd', {}, el('a', { href: '#/runs/' + encodeURIComponent(run.parentRunId) }, run.parentRunId))] : [],
        failing(run) ? [el('dt', {}, 'Last error'), el('dd', {}, el('pre', { class: 'run-error', id: 'run-last-error' }, run.lastError))] : []);
      fill(actions, 
        el('button', { type: 'button', id: 'action-rerun', disabled: !RERUNNABLE.includes(run.status), onclick: rerun }, 'Rerun'),
        el('button', { type: 'button', id: 'action-cancel', class: 'danger', disabled: UNCANCELLABLE.includes(run.status), onclick: () => cancel(false) }, 'Cancel'),
        el('button', { type: 'button', id: 'action-cancel-compensate', class: 'danger', disabled: UNCANCELLABLE.includes(run.status), onclick: () => cancel(true) }, 'Cancel with compensation'));
      fill(timeline, detail.events.map(e => el('li', { class: 'event event-' + e.kind, 'data-kind': e.kind },
        el('span', { class: 'event-time', title: e.time }, time(e.time)),
        el('span', { class: 'event-kind' }, e.kind),
        el('span', { class: 'muted' }, ' attempt ' + e.attempt),
        e.recoveryPoint ? el('span', { class: 'event-point' }, ' ◆ ' + e.recoveryPoint) : null,
        el('div', { class: 'event-message' }, e.message))));
      fill(checkpoints, (detail.checkpoints.length ? detail.checkpoints.map(c => el('tr', { 'data-sequence': c.sequence },
        el('td', {}, c.sequence),
        el('td', {}, '◆ ' + c.recoveryPoint),
        el('td', { class: 'message' }, c.statusMessage || ''),
        el('td', { title: c.createdAt }, time(c.createdAt)),
        el('td', {}, c.stateSize + ' B'),
        el('td', { class: 'row-buttons' },
          el('button', { type: 'button', class: 'view-state', onclick: () => viewCheckpoint(c) }, 'View state'),
          el('button', { type: 'button', class: 'rerun-from', onclick: () => openEditor(c) }, 'Rerun from here'))))
        : [el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No kept checkpoint.'))]));
      if (viewing === null) showLatest();
      if (detail.result) {
        fill(result, el('h2', {}, 'Result'));
        const box = el('div', { id: 'result-view' });
        showState(box, detail.result, null);
        result.append(box);
      } else {
        fill(result);
      }
    }

    function rerun() {
      act('Rerun', 'Run ' + detail.run.recoveryId + ' again from its latest checkpoint?', 'Rerun',
        () => api('runs/' + encodeURIComponent(id) + '/rerun', { method: 'POST' }), load);
    }

    function cancel(compensate) {
      act(compensate ? 'Cancel with compensation' : 'Cancel',
        compensate ? 'Cancel ' + detail.run.recoveryId + ' and undo its completed stages?' : 'Cancel ' + detail.run.recoveryId + '?',
        compensate ? 'Cancel with compensation' : 'Cancel the run',
        () => api('runs/' + encodeURIComponent(id) + '/cancel' + (compensate ? '?compensate=true' : ''), { method: 'POST' }), load);
    }

    async function openEditor(checkpoint) {
      busy = true;
      let view = null;
      try {
        view = (await checkpointState(checkpoint)).state;
      } catch (e) {
        showError(e.message);
      }
      const known = view && view.shown && !view.truncated && !view.redacted ? pretty(view.text) : '';
      const why = !view ? 'The checkpoint\'s state could not be read'
        : !view.shown ? 'The console does not show this state (' + (view.reason || 'turned off') + ')'
          : view.truncated ? 'The state is longer than the console shows'
            : view.redacted ? 'The console redacts this state' : null;
      const edit = el('input', { type: 'checkbox', id: 'editor-edit' });
      const area = el('textarea', { id: 'editor-state', rows: 12, spellcheck: 'false', disabled: true, 'aria-label': 'Edited state (JSON)' });
      area.value = known;
      edit.addEventListener('change', () => { area.disabled = !edit.checked; });
      function close() { fill(editor); busy = false; }
      async function go() {
        let state;
        if (edit.checked) {
          try { state = JSON.parse(area.value); } catch (e) { showError('The edited state is not JSON: ' + e.message); return; }
        }
        const text = edit.checked
          ? 'Run ' + detail.run.recoveryId + ' again from checkpoint #' + checkpoint.sequence + ' (' + checkpoint.recoveryPoint + ') with the edited state?'
          : 'Run ' + detail.run.recoveryId + ' again from checkpoint #' + checkpoint.sequence + ' (' + checkpoint.recoveryPoint + ') with its kept state?';
        await act('Rerun from here', text, 'Rerun',
          () => api('runs/' + encodeURIComponent(id) + '/rerun-from', { method: 'POST', body: state === undefined ? { sequence: checkpoint.sequence } : { sequence: checkpoint.sequence, state } }),
          async () => { close(); await load(); });
        busy = editor.childElementCount > 0;
      }
      fill(editor, el('section', { class: 'editor' },
        el('h2', {}, 'Rerun from checkpoint #' + checkpoint.sequence + ' (' + checkpoint.recoveryPoint + ')'),
        el('label', {}, edit, ' Replace the checkpoint\'s state with this JSON'),
        why ? el('p', { class: 'muted', id: 'editor-why' }, why + ': type the whole state to replace it.') : null,
        area,
        el('div', { class: 'dialog-buttons' },
          el('button', { type: 'button', id: 'editor-close', onclick: close }, 'Close'),
          el('button', { type: 'button', id: 'editor-rerun', class: 'danger', onclick: go }, 'Rerun from here'))));
    }

    await load();
    return load;
  }

  function pretty(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
  }

  function showState(box, view, caption) {
    if (!view) {
      fill(box, el('p', { class: 'muted' }, 'No state: the run has no checkpoint.'));
      return;
    }
    if (!view.shown) {
      fill(box, el('p', { class: 'muted state-hidden' }, 'State not shown: ' + (view.reason || 'turned off') + '.'));
      return;
    }
    const checksum = view.checksumMatches === true ? el('span', { class: 'ok', id: 'checksum' }, 'checksum verified')
      : view.checksumMatches === false ? el('span', { class: 'bad', id: 'checksum' }, 'checksum MISMATCH: the state is corrupted')
        : null;
    fill(box, 
      el('p', { class: 'state-meta' }, caption ? caption + ' · ' : '', view.size + ' bytes', checksum ? [' · ', checksum] : null,
        view.truncated ? el('span', { class: 'bad' }, ' · cut to the console\'s limit') : null,
        view.redacted ? el('span', { class: 'muted' }, ' · redacted') : null),
      el('pre', { class: 'json' }, view.truncated ? view.text : pretty(view.text)));
  }

  // ---- Flows ----

  async function flowsPage() {
    const flows = await api('flows');
    fill(main, el('h1', {}, 'Flows'),
      flows.length ? flows.map(f => el('section', { class: 'flow', 'data-flow': f.name },
        el('h2', {}, f.name, el('span', { class: 'muted' }, ' v' + f.version)),
        el('p', { class: 'muted' }, 'Recorded ' + time(f.recordedAt) + ' by ' + f.recordedBy + ' · ' + f.recoveryPoints.length + ' recovery points · fingerprint ' + f.fingerprint),
        steps(f.structure)))
        : el('p', { class: 'muted' }, 'No flow recorded yet: an engine records its flows when it starts.'));
    return null;
  }

  function steps(list) {
    return el('ol', { class: 'steps' }, list.map(step => {
      const point = step.kind === 'recovery point';
      const tags = [step.transactional ? 'transactional' : null, step.compensated ? 'compensated' : null,
        step.dataSource ? 'data source ' + step.dataSource : null, step.childFlow ? 'child flow ' + step.childFlow : null].filter(Boolean);
      return el('li', { class: 'step ' + (point ? 'step-point' : 'step-' + step.kind.replace(/\W+/g, '-')) },
        el('span', { class: 'step-kind' }, point ? '◆ recovery point' : step.kind),
        ' ', el('b', {}, step.name),
        step.statusMessage ? el('span', { class: 'muted' }, ' “' + step.statusMessage + '”') : null,
        tags.length ? el('span', { class: 'tags' }, ' ' + tags.join(', ')) : null,
        (step.bodies || []).map(body => el('div', { class: 'body' }, body.name ? el('div', { class: 'body-name' }, body.name) : null, steps(body.steps))));
    }));
  }

  // ---- Bulk repair ----

  async function bulkPage() {
    const flows = await flowsOrNone();
    const outcome = el('div', { id: 'bulk-outcome' });
    const buttons = el('div', { class: 'actions' });
    fill(main, el('h1', {}, 'Bulk repair'),
      el('p', { class: 'muted' }, 'Acts on every run the filter matches (the runs list shares it). Count them first.'),
      filterControls(flows, reset),
      el('div', { class: 'actions' }, el('button', { type: 'button', id: 'bulk-dry-run', onclick: dryRun }, 'Count (dry run)')),
      outcome, buttons);

    function reset() { fill(outcome); fill(buttons); }

    function described() {
      const parts = [filter.status && 'status ' + filter.status, filter.flow && 'flow ' + filter.flow, filter.recoveryId && 'recovery ID ' + filter.recoveryId].filter(Boolean);
      return parts.length ? parts.join(', ') : 'no filter';
    }

    async function dryRun() {
      reset();
      try {
        const [rerun, cancel] = await Promise.all([
          api('runs/bulk/rerun' + query({ ...filterParams(), dryRun: true }), { method: 'POST' }),
          api('runs/bulk/cancel' + query({ ...filterParams(), dryRun: true }), { method: 'POST' }),
        ]);
        showError('');
        fill(outcome, el('p', { id: 'bulk-count' },
          rerun.matched + ' runs match (' + described() + '): ' + rerun.eligible + ' can be re-run, ' + cancel.eligible + ' can be cancelled.'));
        fill(buttons, 
          el('button', { type: 'button', id: 'bulk-rerun', disabled: rerun.eligible === 0, onclick: () => run('rerun', 'Re-run all', rerun.eligible, '') }, 'Re-run all ' + rerun.eligible),
          el('button', { type: 'button', id: 'bulk-cancel', class: 'danger', disabled: cancel.eligible === 0, onclick: () => run('cancel', 'Cancel all', cancel.eligible, '') }, 'Cancel all ' + cancel.eligible),
          el('button', { type: 'button', id: 'bulk-cancel-compensate', class: 'danger', disabled: cancel.eligible === 0, onclick: () => run('cancel', 'Cancel all with compensation', cancel.eligible, 'true') }, 'Cancel all with compensation'));
      } catch (e) {
        showError(e.message);
      }
    }

    function run(action, title, count, compensate) {
      act(title, title + ': ' + count + ' runs (' + described() + ')?', title,
        () => api('runs/bulk/' + action + query({ ...filterParams(), compensate }), { method: 'POST' }),
        done => {
          fill(buttons);
          fill(outcome, el('p', { id: 'bulk-done' }, title + ': ' + done.changed + ' of ' + done.matched + ' runs changed.'),
            done.skipped.length ? el('ul', { class: 'skipped' }, done.skipped.map(s => el('li', {}, s.runId + ': ' + s.reason))) : null);
        });
    }

    return null;
  }

  // ---- Outbox ----

  async function outboxPage() {
    const status = el('select', { id: 'outbox-status', 'aria-label': 'Outbox status' },
      el('option', { value: '' }, 'Pending and dead-lettered'),
      el('option', { value: 'Pending' }, 'Pending'),
      el('option', { value: 'DeadLettered' }, 'Dead-lettered'));
    const body = el('tbody', { id: 'outbox' });
    const buttons = el('div', { class: 'actions' });
    status.addEventListener('change', load);
    fill(main, el('h1', {}, 'Outbox'),
      el('p', { class: 'muted' }, 'Messages committed with their runs\' checkpoints and not yet delivered; a dead-lettered one waits for a re-drive.'),
      el('div', { class: 'filters' }, status), buttons,
      el('table', { class: 'outbox' },
        el('thead', {}, el('tr', {}, ['Status', 'Destination', 'Run', 'Attempts', 'Created', 'Next attempt', 'Last error', 'Payload', ''].map(h => el('th', {}, h)))),
        body));

    async function load() {
      const messages = await api('outbox' + query({ status: status.value, limit: 500 }));
      const dead = messages.filter(m => m.status === 'DeadLettered');
      fill(buttons, el('button', { type: 'button', id: 'outbox-redrive-all', disabled: dead.length === 0, onclick: () => redrive(null, dead.length) },
        'Re-drive every dead letter'));
      fill(body, messages.length ? messages.map(m => el('tr', { 'data-message': m.id, 'data-outbox-status': m.status },
        el('td', {}, el('span', { class: 'status status-' + (m.status === 'DeadLettered' ? 'Failed' : 'Pending') }, m.status)),
        el('td', {}, m.destination),
        el('td', {}, el('a', { href: '#/runs/' + encodeURIComponent(m.runId) }, m.runId.slice(0, 12) + '…'), el('div', { class: 'muted' }, 'checkpoint #' + m.checkpointSequence + ', message ' + m.index)),
        el('td', {}, m.attempts),
        el('td', { title: m.createdAt }, time(m.createdAt)),
        el('td', { title: m.dueAt || '' }, m.status === 'DeadLettered' ? '' : time(m.dueAt)),
        el('td', { class: 'message' }, m.lastError ? el('div', { class: 'run-error' }, m.lastError) : ''),
        el('td', { class: 'message' }, el('details', {}, el('summary', {}, m.payload.size + ' bytes'), payload(m.payload))),
        el('td', {}, m.status === 'DeadLettered'
          ? el('button', { type: 'button', class: 'redrive', onclick: () => redrive([m.id], 1) }, 'Re-drive')
          : null)))
        : [el('tr', {}, el('td', { colspan: 9, class: 'empty' }, 'No message waits in the outbox.'))]);
    }

    function payload(view) {
      const box = el('div');
      showState(box, view, null);
      return box;
    }

    function redrive(ids, count) {
      act('Re-drive', ids ? 'Send this message again?' : 'Send all ' + count + ' dead-lettered messages again?', 'Re-drive',
        () => api('outbox/redrive', { method: 'POST', body: { ids } }),
        async done => { await load(); fill(buttons.appendChild(el('span', { id: 'outbox-done' })), done.redriven + ' messages re-driven.'); });
    }

    await load();
    return load;
  }

  // ---- Schedules ----

  async function schedulesPage() {
    const body = el('tbody', { id: 'schedules' });
    fill(main, el('h1', {}, 'Schedules'),
      el('p', { class: 'muted' }, 'Each slot starts one run across all nodes; a paused schedule starts nothing until resumed, and the slots it misses meanwhile are skipped.'),
      el('table', { class: 'schedules' },
        el('thead', {}, el('tr', {}, ['Schedule', 'Flow', 'When', 'State', 'Next slot', 'Last slot', 'Last run', 'Policies', ''].map(h => el('th', {}, h)))),
        body));

    async function load() {
      const schedules = await api('schedules');
      fill(body, schedules.length ? schedules.map(s => el('tr', { 'data-schedule': s.name, 'data-paused': s.paused ? 'true' : 'false' },
        el('td', {}, s.name, el('div', { class: 'muted' }, s.definedInCode ? 'defined in code' : 'defined at run time')),
        el('td', {}, s.flow),
        el('td', { title: s.spec }, when(s.spec)),
        el('td', {}, el('span', { class: 'status status-' + (s.paused ? 'WaitingForRetry' : 'Completed'), 'data-state': s.paused ? 'paused' : 'active' }, s.paused ? 'paused' : 'active'),
          s.triggeredAt ? el('div', { class: 'muted' }, 'run requested ' + time(s.triggeredAt)) : null),
        el('td', { title: s.nextSlotAt || '' }, s.paused ? '' : time(s.nextSlotAt)),
        el('td', { title: s.lastSlotAt || '' }, time(s.lastSlotAt)),
        el('td', {}, s.lastRunId ? el('a', { href: '#/runs/' + encodeURIComponent(s.lastRunId) }, s.lastRunId.slice(0, 12) + '…') : ''),
        el('td', { class: 'muted' }, 'missed: ' + s.missedSlots + (s.missedSlots === 'RunAll' ? ' (up to ' + s.missedSlotLimit + ')' : '') + ', overlap: ' + s.overlap),
        el('td', { class: 'schedule-actions' },
          s.paused
            ? el('button', { type: 'button', class: 'schedule-resume', onclick: () => change(s, 'resume', 'Resume', 'Resume schedule ' + s.name + ' from its next slot? The slots it missed while paused are skipped.') }, 'Resume')
            : el('button', { type: 'button', class: 'schedule-pause', onclick: () => change(s, 'pause', 'Pause', 'Pause schedule ' + s.name + '? It starts nothing until resumed.') }, 'Pause'),
          el('button', { type: 'button', class: 'schedule-trigger', onclick: () => change(s, 'trigger', 'Run now', 'Start a run of ' + s.flow + ' for schedule ' + s.name + ' now? An engine serving the flow starts it.') }, 'Run now'),
          el('button', { type: 'button', class: 'schedule-delete danger', onclick: () => remove(s) }, 'Delete'))))
        : [el('tr', {}, el('td', { colspan: 9, class: 'empty' }, 'No schedule: define one with AddSchedule in code, or RunOperator.SaveScheduleAsync.'))]);
    }

    // "cron 0 2 * * * @ Europe/Berlin" and "every 01:00:00 from 1970-01-01T00:00:00.0000000+00:00" in words.
    function when(spec) {
      const cron = /^cron (.+) @ (.+)$/.exec(spec);
      if (cron) return [el('code', {}, cron[1]), ' ', el('span', { class: 'muted' }, cron[2])];
      const every = /^every (\S+) from (\S+)$/.exec(spec);
      if (!every) return spec;
      return ['every ' + duration(every[1]), every[2].startsWith('1970-01-01T00:00:00') ? null : el('div', { class: 'muted' }, 'from ' + time(every[2]))];
    }

    function change(schedule, verb, title, text) {
      act(title, text, title, () => api('schedules/' + encodeURIComponent(schedule.name) + '/' + verb, { method: 'POST' }), load);
    }

    function remove(schedule) {
      act('Delete', 'Delete schedule ' + schedule.name + '? Its runs are kept.' + (schedule.definedInCode ? ' It is defined in code: it comes back when an engine whose code defines it starts.' : ''),
        'Delete', () => api('schedules/' + encodeURIComponent(schedule.name), { method: 'DELETE' }), load);
    }

    await load();
    return load;
  }

  // ---- Retention ----

  // A .NET TimeSpan as JSON ("30.00:00:00", "01:00:00") in words.
  function duration(text) {
    const match = /^(?:(\d+)\.)?(\d+):(\d+):(\d+)/.exec(text || '');
    if (!match) return String(text);
    const [days, hours, minutes, seconds] = match.slice(1).map(v => Number(v || 0));
    const parts = [[days, 'day'], [hours, 'hour'], [minutes, 'minute'], [seconds, 'second']].filter(p => p[0] > 0).map(p => p[0] + ' ' + p[1] + (p[0] === 1 ? '' : 's'));
    return parts.length ? parts.join(' ') : '0 seconds';
  }

  async function purgePage() {
    const settings = await api('purge');
    const age = el('input', { id: 'purge-older-than', value: '30d', size: 8, 'aria-label': 'Older than' });
    const outcome = el('p', { id: 'purge-done' });
    fill(main, el('h1', {}, 'Retention'),
      el('section', { class: 'flow', id: 'purge-settings' },
        el('h2', {}, 'Scheduled purge'),
        !settings.known ? el('p', {}, 'Not known here: this console runs over a store alone, and each engine purges by its own options (CairnOptions.RetentionPeriod).')
          : settings.retentionPeriod ? el('p', {}, 'The engine deletes finished runs older than ', el('b', {}, duration(settings.retentionPeriod)), ', checking every ', duration(settings.interval), '.')
            : el('p', {}, 'No retention period: the engine keeps finished runs until they are purged by hand.')),
      el('section', { class: 'flow' },
        el('h2', {}, 'Purge now'),
        el('p', { class: 'muted' }, 'Deletes completed, failed, cancelled and compensated runs that finished longer ago than this (30d, 12h, 90m), with their checkpoints and events. Unfinished runs are never purged.'),
        el('div', { class: 'filters' }, 'Finished more than', age, 'ago',
          el('button', { type: 'button', id: 'purge-now', class: 'danger', onclick: purge }, 'Purge')),
        outcome));

    function purge() {
      const olderThan = age.value.trim();
      act('Purge', 'Delete every run that finished more than ' + olderThan + ' ago? This cannot be undone.', 'Purge',
        () => api('purge' + query({ olderThan }), { method: 'POST' }),
        done => { fill(outcome, done.purged + ' finished runs purged.'); });
    }

    return null;
  }

  // ---- Routing and polling ----

  async function route() {
    const hash = location.hash || '#/runs';
    const parts = hash.slice(2).split('/');
    for (const link of document.querySelectorAll('nav a')) link.classList.toggle('current', link.dataset.page === parts[0]);
    refresh = null;
    busy = false;
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
    if (refresh && !busy && !document.hidden) {
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
})();
