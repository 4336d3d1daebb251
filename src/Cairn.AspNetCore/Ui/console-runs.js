// The operator console's runs list and run detail (re-run, re-run from a checkpoint with an edited state, cancel).
import { PAGE_SIZE, RERUNNABLE, STATUSES, UNCANCELLABLE, act, api, badge, el, failing, fill, filter, filterControls, filterParams, flowsOrNone, main, page, pretty, query, showError, showState, time } from './console-core.js';

// ---- Status list ----

let cursors = [null]; // The cursor of each page of the list seen so far; the last one is the page shown.

export async function runsPage() {
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

export async function runPage(id) {
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
    page.busy = true;
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
    function close() { fill(editor); page.busy = false; }
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
      page.busy = editor.childElementCount > 0;
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
