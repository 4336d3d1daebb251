// The operator console's other pages: flows, bulk repair, outbox, schedules and retention.
import { act, api, duration, el, fill, filter, filterControls, filterParams, flowsOrNone, main, query, showError, showState, time } from './console-core.js';

// ---- Flows ----

export async function flowsPage() {
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

export async function bulkPage() {
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

export async function outboxPage() {
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

export async function schedulesPage() {
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

export async function purgePage() {
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
