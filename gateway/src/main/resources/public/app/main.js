// Linkbase's web UI: sign in, the sidebar of tables, the grid, the column menu (rename, type,
// unique, display column, link, unlink, undo of a link, delete) and the table's history. It talks only to the
// public HTTP API (api.js), with the token from the URL fragment or pasted, kept in sessionStorage.
import { api, ApiError, claims, clearToken, describe, setToken, token } from './api.js';
import { Grid, TYPES } from './grid.js';
import { linkDialog } from './link.js';
import { confirm, dialog, h, menu, prompt, toast, toastError } from './ui.js';

const $ = id => document.getElementById(id);

const state = {
  tables: [],
  table: null,
  grid: null,
  watching: null,
};

// ------------------------------------------------------------------ sign in

function tokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const t = params.get('token');
  if (t) {
    setToken(t);
    params.delete('token');
    // The token leaves the address bar (and so the history) at once; it never went to the server.
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : ''));
  }
}

function showSignIn(message) {
  $('app').hidden = true;
  $('signin').hidden = false;
  const error = $('signin-error');
  error.textContent = message || '';
  error.hidden = !message;
  $('token-input').focus();
}

async function signIn(event) {
  event.preventDefault();
  const t = $('token-input').value.trim();
  if (!claims(t)) {
    showSignIn('That is not a token (a JWT has three parts separated by dots).');
    return;
  }
  setToken(t);
  $('token-input').value = '';
  await start();
}

function signOut() {
  clearToken();
  state.table = null;
  state.tables = [];
  history.replaceState(null, '', location.pathname);
  showSignIn('Signed out.');
}

async function start() {
  const t = token();
  const c = claims(t);
  if (!t || !c) {
    showSignIn();
    return;
  }
  if (c.exp && c.exp * 1000 < Date.now()) {
    clearToken();
    showSignIn('Your token has expired. Paste a new one, or open the link bin/linkbase dev printed.');
    return;
  }
  try {
    await loadTables();
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      clearToken();
      showSignIn(describe(e));
      return;
    }
    throw e;
  }
  $('signin').hidden = true;
  $('app').hidden = false;
  $('tenant').textContent = `${c.tenant || ''}${c.roles ? ' · ' + [].concat(c.roles).join(', ') : ''}`;
  $('tenant').title = `signed in as ${c.sub || '?'} in tenant ${c.tenant || '?'}`;
  if (!state.grid) state.grid = new Grid($('grid'), gridHooks);
  const wanted = new URLSearchParams(location.hash.slice(1)).get('table');
  const first = state.tables.find(x => x.id === wanted) || state.tables[0];
  if (first) await selectTable(first.id);
  else showNoTables();
}

// ------------------------------------------------------------------ sidebar

async function loadTables() {
  const { tables } = await api('GET', '/tables');
  state.tables = tables;
  renderSidebar();
}

function renderSidebar() {
  const list = $('table-list');
  list.replaceChildren(...state.tables.map(t => {
    const current = state.table && state.table.id === t.id;
    const open = h('button.table-link', { type: 'button', 'aria-current': current ? 'page' : null, 'data-table': t.id }, t.name);
    open.addEventListener('click', () => { selectTable(t.id); closeDrawer(); });
    const more = h('button.table-more', { type: 'button', 'aria-label': `Actions for table ${t.name}`, 'aria-haspopup': 'menu', 'aria-expanded': 'false' }, '⋯');
    more.addEventListener('click', () => menu(more, `Table ${t.name}`, [
      { label: 'Rename…', id: 'table-rename', run: () => renameTable(t) },
      { label: 'Delete…', id: 'table-delete', danger: true, run: () => deleteTable(t) },
    ]));
    return h('li' + (current ? '.current' : ''), null, open, more);
  }));
  $('no-tables').hidden = state.tables.length > 0;
}

function showNoTables() {
  state.table = null;
  $('table-title').textContent = 'No tables yet';
  $('table-actions').hidden = true;
  $('grid').hidden = true;
  $('welcome').hidden = false;
}

async function selectTable(id, reload = true) {
  const table = await api('GET', `/tables/${id}`).catch(e => { toastError(e); return null; });
  if (!table) return;
  const changed = !state.table || state.table.id !== id;
  state.table = table;
  const i = state.tables.findIndex(t => t.id === id);
  if (i >= 0) state.tables[i] = table;
  $('welcome').hidden = true;
  $('grid').hidden = false;
  $('table-actions').hidden = false;
  $('table-title').textContent = table.name;
  document.title = table.name + ' · Linkbase';
  history.replaceState(null, '', location.pathname + '#table=' + encodeURIComponent(id));
  renderSidebar();
  await state.grid.show(table, reload || changed);
  if (!$('history').hidden) showHistory();
  watchLinks();
}

/** The current table again (after a schema change), keeping the records unless asked. */
async function refreshTable(reloadRecords = false) {
  if (!state.table) return;
  await selectTable(state.table.id, reloadRecords);
}

function newTable() {
  return prompt('New table', 'Name', '', async name => {
    const table = await api('POST', '/tables', { name });
    await loadTables();
    await selectTable(table.id);
    toast(`Table ${table.name} created.`);
    return table;
  }, 'Create');
}

function renameTable(t) {
  return prompt('Rename table', 'Name', t.name, async name => {
    await api('PATCH', `/tables/${t.id}`, { name });
    await loadTables();
    if (state.table && state.table.id === t.id) await refreshTable();
    return true;
  });
}

function deleteTable(t) {
  return confirm('Delete table', `Delete the table “${t.name}” and all its records? This cannot be undone.`, 'Delete table', async () => {
    await api('DELETE', `/tables/${t.id}`, undefined, { ifMatch: t.version });
    await loadTables();
    if (state.table && state.table.id === t.id) {
      state.table = null;
      if (state.tables.length) await selectTable(state.tables[0].id); else showNoTables();
    }
    toast(`Table ${t.name} deleted.`);
    return true;
  });
}

// ------------------------------------------------------------------ records and columns

const gridHooks = {
  tables: () => state.tables,
  openHeaderMenu: (column, button) => columnMenu(column, button),
  addColumn: () => addColumn(),
  deleteRecord: record => deleteRecord(record),
  changed: () => {},
};

async function addRecord() {
  try {
    const record = await api('POST', `/tables/${state.table.id}/records`, { values: {} });
    state.grid.added(record);
  } catch (e) {
    toastError(e);
  }
}

function deleteRecord(record) {
  return confirm('Delete record', `Delete record ${record.id}?`, 'Delete record', async () => {
    await api('DELETE', `/tables/${state.table.id}/records/${record.id}`);
    state.grid.remove(record.id);
    toast(`Record ${record.id} deleted.`);
    return true;
  });
}

async function addColumn() {
  try {
    const column = await api('POST', `/tables/${state.table.id}/columns`, {});
    await refreshTable();
    toast(`Column “${column.name}” added (text).`);
    const btn = document.querySelector(`.colhead-btn[data-column="${column.id}"]`);
    if (btn) { state.grid.revealColumn(btn); btn.focus({ preventScroll: true }); }
  } catch (e) {
    toastError(e);
  }
}

/** A schema write; on version_conflict the table is reloaded and the error shown. */
async function schemaWrite(method, path, payload) {
  try {
    return await api(method, path, payload, { ifMatch: state.table.version });
  } catch (e) {
    if (e instanceof ApiError && e.code === 'version_conflict') await refreshTable();
    throw e;
  }
}

function columnMenu(column, button) {
  const t = state.table;
  const base = `/tables/${t.id}/columns/${column.id}`;
  const items = [
    { label: 'Rename…', id: 'col-rename', run: () => prompt('Rename column', 'Name', column.name, async name => {
      await schemaWrite('PATCH', base, { name });
      await refreshTable();
      return true;
    }) },
  ];
  if (!column.primaryKey && !column.link) {
    items.push({ label: 'Change type…', id: 'col-type', run: () => changeType(column) });
    items.push({ label: column.unique ? 'Allow duplicates' : 'Make unique', id: 'col-unique', run: async () => {
      try {
        await schemaWrite('PATCH', base, { unique: !column.unique });
        await refreshTable();
      } catch (e) {
        toastError(e);
      }
    } });
  }
  if (t.displayColumnId !== column.id) {
    items.push({ label: 'Show as the record summary', id: 'col-display', run: async () => {
      try {
        await api('PATCH', `/tables/${t.id}`, { displayColumnId: column.id });
        await refreshTable();
        toast(`Links to ${t.name} now show “${column.name}”.`);
      } catch (e) {
        toastError(e);
      }
    } });
  }
  if (!column.primaryKey && !column.link) {
    items.push({ label: 'Link to another table…', id: 'col-link', run: () => linkColumn(column) });
  }
  if (column.link) {
    items.push({ label: 'Unlink', id: 'col-unlink', run: () => unlink(column) });
    items.push({ label: 'Undo link…', id: 'col-undo-link', run: () => undoLink(column) });
  }
  if (!column.primaryKey) {
    items.push({ label: 'Delete column…', id: 'col-delete', danger: true, run: () => confirm('Delete column',
      `Delete the column “${column.name}” and its values?`, 'Delete column', async () => {
        await schemaWrite('DELETE', base);
        await refreshTable(true);
        return true;
      }) });
  }
  menu(button, `Column ${column.name}`, items);
}

function changeType(column) {
  const select = h('select', { id: 'type-select' }, TYPES.map(ty => h('option', { value: ty, selected: ty === column.type }, ty)));
  const content = h('div', null, h('label.field', null, h('span', null, 'Type'), select),
    h('p.muted', null, 'Values that convert to the new type are kept; the others are cleared.'));
  return dialog(`Type of “${column.name}”`, content, [{ label: 'Change type', primary: true, id: 'type-ok', run: async () => {
    await schemaWrite('PATCH', `/tables/${state.table.id}/columns/${column.id}`, { type: select.value });
    await refreshTable(true);
    return true;
  } }]);
}

async function linkColumn(column) {
  try {
    const link = await linkDialog(state.table, column);
    if (!link) return;
    toast(`Linking “${column.name}”…`);
    await refreshTable(true); // the records again: the link may be ACTIVE already
  } catch (e) {
    toastError(e);
  }
}

function unlink(column) {
  const target = state.tables.find(t => t.id === column.link.targetTableId);
  return confirm('Unlink column', `Remove the link of “${column.name}” to ${target ? target.name : 'its table'}? `
    + `The column keeps its values and its type (${column.type}).`, 'Unlink', async () => {
    await api('DELETE', `/tables/${state.table.id}/columns/${column.id}/link?wait=10`);
    await refreshTable(true);
    toast(`“${column.name}” is a ${column.type} column again.`);
    return true;
  }, false);
}

/**
 * Undo of a link (API.md "POST .../link/undo"): the column gets back the type it had before the
 * link and every value the link cleared; values written since are kept. The records are read
 * again at the table's new version, so the grid shows the restored values at once.
 */
function undoLink(column) {
  const target = state.tables.find(t => t.id === column.link.targetTableId);
  const cleared = column.link.clearedCount || 0;
  const restored = cleared === 0 ? '' : ` and the ${cleared} value${cleared === 1 ? '' : 's'} the link cleared`;
  return confirm('Undo link', `Remove the link of “${column.name}” to ${target ? target.name : 'its table'} and give the `
    + `column back its type from before the link${restored}. Values written since are kept.`, 'Undo link', async () => {
    const table = await schemaWrite('POST', `/tables/${state.table.id}/columns/${column.id}/link/undo`);
    await refreshTable(true);
    const now = table.columns.find(c => c.id === column.id);
    toast(`The link of “${column.name}” is undone: a ${now ? now.type : ''} column again`
      + (cleared === 0 ? '.' : `, ${cleared} value${cleared === 1 ? '' : 's'} restored.`));
    return true;
  }, false);
}

/** While a link of the table is not ACTIVE: its progress in the header, then the summaries in the cells. */
function watchLinks() {
  const t = state.table;
  if (!t || state.watching === t.id) return;
  if (!t.columns.some(c => c.link && c.link.state !== 'ACTIVE')) return;
  state.watching = t.id;
  const poll = async () => {
    if (!state.table || state.table.id !== t.id) { state.watching = null; return; }
    try {
      const fresh = await api('GET', `/tables/${t.id}`);
      const pending = fresh.columns.some(c => c.link && c.link.state !== 'ACTIVE');
      state.table = fresh;
      if (pending) {
        await state.grid.show(fresh, false);
        setTimeout(poll, 500);
        return;
      }
      state.watching = null;
      await state.grid.show(fresh, true);
      const done = fresh.columns.filter(c => c.link);
      done.forEach(c => toast(`“${c.name}” is linked: ${c.link.keptCount} kept, ${c.link.clearedCount} cleared.`));
      if (!$('history').hidden) showHistory();
    } catch (e) {
      state.watching = null;
      toastError(e);
    }
  };
  setTimeout(poll, 300);
}

// ------------------------------------------------------------------ history

const NAMES = {
  TEXT: 'text', INTEGER: 'integer', NUMBER: 'number', BOOLEAN: 'boolean', DATE: 'date', TIMESTAMP: 'timestamp',
  DURATION: 'duration', UUID: 'uuid',
};

async function showHistory() {
  const panel = $('history');
  panel.hidden = false;
  $('history-btn').setAttribute('aria-expanded', 'true');
  const list = $('history-list');
  const t = state.table;
  if (!t) return;
  try {
    const { events } = await api('GET', `/tables/${t.id}/events`);
    const column = id => (t.columns.find(c => c.id === id) || { name: 'a dropped column' }).name;
    const table = id => (state.tables.find(x => x.id === id) || { name: 'another table' }).name;
    const lastLinked = new Map();
    events.forEach((e, i) => { if (e.type === 'ColumnLinked') lastLinked.set(e.data.columnId, i); });
    const detail = (e, i) => {
      const d = e.data || {};
      switch (e.type) {
        case 'TableCreated': return `“${d.name}” with ${(d.columns || []).length} columns`;
        case 'TableRenamed': return `now “${d.name}”`;
        case 'ColumnAdded': return `“${d.column && d.column.name}”, ${NAMES[d.column && d.column.type] || 'text'}`;
        case 'ColumnRenamed': return `now “${d.name}”`;
        case 'ColumnTypeChanged': return `“${column(d.columnId)}”: ${NAMES[d.fromType] || 'text'} → ${NAMES[d.toType] || 'text'}`;
        case 'ColumnUniqueChanged': return `“${column(d.columnId)}” ${d.unique ? 'unique' : 'allows duplicates'}`;
        case 'ColumnDropped': return `a column was deleted`;
        case 'DisplayColumnChanged': return `summaries show “${column(d.displayColumnId)}”`;
        case 'ColumnLinked': {
          // the counts come with the event once the link was reconciled, and stay after an unlink or undo
          const c = t.columns.find(x => x.id === d.columnId);
          const counts = d.keptCount !== undefined ? `: ${d.keptCount} kept, ${d.clearedCount} cleared`
            : c && c.link && lastLinked.get(d.columnId) === i && c.link.state === 'ACTIVE'
              ? `: ${c.link.keptCount} kept, ${c.link.clearedCount} cleared` : '';
          return `“${column(d.columnId)}” → ${table(d.targetTableId)} (${NAMES[d.targetColumnType] || 'text'})${counts}`;
        }
        case 'ColumnUnlinked': return `“${column(d.columnId)}” from ${table(d.targetTableId)}; stays ${NAMES[d.restoredType] || 'text'}, values kept`;
        case 'ColumnLinkUndone': return `“${column(d.columnId)}” from ${table(d.targetTableId)}; back to ${NAMES[d.restoredType] || 'text'} with the values the link cleared`;
        default: return '';
      }
    };
    const items = events.map((e, i) => h('li', { 'data-type': e.type },
      h('div.ev-head', null, h('strong', null, e.type.replace(/([a-z])([A-Z])/g, (m, a, b) => a + ' ' + b.toLowerCase())),
        h('time', { datetime: e.occurredAt }, new Date(e.occurredAt).toLocaleString())),
      h('div.ev-detail', null, detail(e, i))));
    list.replaceChildren(...items.reverse());
  } catch (e) {
    list.replaceChildren(h('li.error', null, describe(e)));
  }
}

function toggleHistory() {
  if ($('history').hidden) showHistory();
  else { $('history').hidden = true; $('history-btn').setAttribute('aria-expanded', 'false'); }
}

// ------------------------------------------------------------------ phone layout

function closeDrawer() {
  document.body.classList.remove('drawer-open');
  $('menu-toggle').setAttribute('aria-expanded', 'false');
}

function toggleDrawer() {
  const open = document.body.classList.toggle('drawer-open');
  $('menu-toggle').setAttribute('aria-expanded', String(open));
  if (open) { const first = document.querySelector('#table-list button'); if (first) first.focus(); }
}

// ------------------------------------------------------------------ start

window.addEventListener('linkbase:unauthorized', e => {
  clearToken();
  showSignIn(describe(e.detail));
});
window.addEventListener('unhandledrejection', e => { toastError(e.reason); });

$('signin-form').addEventListener('submit', signIn);
$('signout').addEventListener('click', signOut);
$('new-table').addEventListener('click', newTable);
$('welcome-new-table').addEventListener('click', newTable);
$('add-record').addEventListener('click', addRecord);
$('history-btn').addEventListener('click', toggleHistory);
$('history-close').addEventListener('click', toggleHistory);
$('menu-toggle').addEventListener('click', toggleDrawer);
$('scrim').addEventListener('click', closeDrawer);
document.addEventListener('keydown', e => {
  if (e.key === 'Escape' && document.body.classList.contains('drawer-open')) closeDrawer();
});

// A link with a token opened in a tab that already shows the UI: sign in with that token.
window.addEventListener('hashchange', () => {
  if (!new URLSearchParams(location.hash.slice(1)).has('token')) return;
  tokenFromFragment();
  state.table = null;
  start().catch(toastError);
});

tokenFromFragment();
start().catch(toastError);
