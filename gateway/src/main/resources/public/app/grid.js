// The grid of one table: column headers with types and a menu each, records fetched in pages
// with the API's keyset cursor ("after") as the user scrolls, only the rows in view in the DOM
// (windowing), inline editing with the API's validation errors shown on the cell, a record
// picker on linked cells, keyboard navigation (arrows, Enter/F2 to edit, Delete to clear).
import { api, ApiError, describe, NumberText } from './api.js';
import { openPicker } from './picker.js';
import { h, toastError } from './ui.js';

const ROW_HEIGHT = 36;
const PAGE = 200;
const OVERSCAN = 8;

export const TYPES = ['text', 'integer', 'number', 'boolean', 'date', 'timestamp', 'duration', 'uuid'];

const PLACEHOLDER = {
  integer: '42', number: '3.14', date: '2024-01-31', timestamp: '2024-01-31T12:00:00Z',
  duration: 'PT3M25S', uuid: '123e4567-e89b-12d3-a456-426614174000',
};

/** The JSON value of what was typed into a cell of this type ('' is null); the API checks the rest. */
export function parseCell(type, text) {
  const t = text.trim();
  if (t === '') return null;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return new NumberText(t);
  if (type === 'boolean') {
    if (/^(true|yes|1|✓)$/i.test(t)) return true;
    if (/^(false|no|0|✗)$/i.test(t)) return false;
  }
  return type === 'text' ? text : t;
}

export function display(value, type) {
  if (value === null || value === undefined) return '';
  if (type === 'boolean') return value ? '✓' : '✗';
  return String(value);
}

export class Grid {
  /** host: the element to fill; hooks: {tables(): [Table], openHeaderMenu(column, button)} */
  constructor(host, hooks) {
    this.host = host;
    this.hooks = hooks;
    this.table = null;
    this.rows = [];
    this.next = null;
    this.loading = null;
    this.window = [-1, -1];
    this.active = { row: 0, col: 0 };
    this.editing = null;
    this.errors = new Map(); // "recordId/columnId" -> message
    this.scroller = h('div.grid-scroll', { role: 'grid', 'aria-label': 'Records', tabindex: -1 });
    this.head = h('div.grid-head', { role: 'row', 'aria-rowindex': 1 });
    this.body = h('div.grid-body', { role: 'rowgroup' });
    this.empty = h('div.grid-empty', { hidden: true });
    this.scroller.append(h('div.grid-headgroup', { role: 'rowgroup' }, this.head), this.body);
    host.replaceChildren(this.scroller, this.empty);
    this.scroller.addEventListener('scroll', () => this.schedule());
    window.addEventListener('resize', () => this.schedule(true));
    this.body.addEventListener('keydown', e => this.onKey(e));
    this.body.addEventListener('dblclick', e => {
      const cell = e.target.closest('[role=gridcell]');
      if (cell) this.edit(+cell.dataset.row, +cell.dataset.col);
    });
    this.body.addEventListener('click', e => {
      const del = e.target.closest('button.row-delete');
      if (del) { this.hooks.deleteRecord(this.rows[+del.dataset.row]); return; }
      const cell = e.target.closest('[role=gridcell]');
      if (!cell) return;
      this.focusCell(+cell.dataset.row, +cell.dataset.col);
      const column = this.table.columns[+cell.dataset.col];
      if (column && column.link && e.target.closest('.cell-pick')) this.edit(+cell.dataset.row, +cell.dataset.col);
    });
  }

  /** Shows a table (reloading its records when it is another table or reload is asked). */
  async show(table, reload = true) {
    const same = this.table && this.table.id === table.id;
    this.table = table;
    this.renderHead();
    if (!same || reload) {
      this.rows = [];
      this.next = undefined;
      this.errors.clear();
      this.window = [-1, -1];
      if (!same) {
        this.scroller.scrollTop = 0;
        this.active = { row: 0, col: Math.min(1, table.columns.length - 1) };
      }
      await this.loadMore();
    } else {
      this.schedule(true);
    }
  }

  renderHead() {
    const t = this.table;
    const width = ['var(--rowhead)', ...t.columns.map(c => (c.primaryKey ? 'var(--pkcol)' : 'var(--col)')), 'var(--addcol)'].join(' ');
    this.scroller.style.setProperty('--template', width);
    this.scroller.setAttribute('aria-colcount', String(t.columns.length + 1));
    const cells = [h('div.rowhead', { role: 'columnheader' }, h('span.sr-only', null, 'Record'))];
    t.columns.forEach((c, i) => {
      const state = c.link && c.link.state !== 'ACTIVE' ? c.link : null;
      const progress = state && state.progress && state.progress.total
        ? Math.floor(100 * state.progress.done / state.progress.total) : null;
      const target = c.link ? (this.hooks.tables().find(x => x.id === c.link.targetTableId) || { name: 'another table' }) : null;
      const button = h('button.colhead-btn', {
        type: 'button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'data-column': c.id,
        'aria-label': `${c.name}, ${c.type}${c.link ? ', linked to ' + target.name : ''}${c.unique ? ', unique' : ''}: column menu`,
      },
      h('span.colname', null, c.name),
      h('span.coltype', null, (c.link ? '→ ' + target.name + ' · ' : '') + c.type + (c.primaryKey ? ' · key' : c.unique ? ' · unique' : '')),
      state ? h('span.linkstate', { 'data-state': state.state, role: 'status' },
        (state.state === 'RECONCILING' ? 'Reconciling' : 'Indexing') + (progress !== null ? ` ${progress}%` : '…'),
        h('span.bar', null, h('span.fill', { style: progress !== null ? `width:${progress}%` : null }))) : null);
      button.addEventListener('click', () => this.hooks.openHeaderMenu(c, button));
      cells.push(h('div.colhead' + (c.link ? '.linked' : ''), { role: 'columnheader', 'aria-colindex': i + 2 }, button));
    });
    const add = h('button.add-column', { type: 'button', id: 'add-column', title: 'Add new column' }, '+ Add column');
    add.addEventListener('click', () => this.hooks.addColumn());
    cells.push(h('div.colhead.add', null, add));
    this.head.replaceChildren(...cells);
  }

  async loadMore() {
    if (this.loading || this.next === null) return this.loading;
    const table = this.table;
    const after = this.next;
    this.loading = (async () => {
      try {
        const page = await api('GET', `/tables/${table.id}/records?limit=${PAGE}${after ? '&after=' + encodeURIComponent(after) : ''}`);
        if (this.table.id !== table.id) return;
        this.merge(page.records);
        this.next = page.next;
      } catch (e) {
        toastError(e);
        this.next = this.next === undefined ? null : this.next;
      } finally {
        this.loading = null;
      }
      this.schedule(true);
    })();
    return this.loading;
  }

  /** Puts records in id order (replacing those already there). */
  merge(records) {
    for (const r of records) {
      let lo = 0;
      let hi = this.rows.length;
      if (hi && this.rows[hi - 1].id < r.id) { this.rows.push(r); continue; }
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.rows[mid].id < r.id) lo = mid + 1; else hi = mid;
      }
      if (this.rows[lo] && this.rows[lo].id === r.id) this.rows[lo] = r; else this.rows.splice(lo, 0, r);
    }
  }

  indexOf(recordId) {
    return this.rows.findIndex(r => r.id === recordId);
  }

  replace(record) {
    const i = this.indexOf(record.id);
    if (i >= 0) this.rows[i] = record; else this.merge([record]);
    this.schedule(true);
  }

  remove(recordId) {
    const i = this.indexOf(recordId);
    if (i >= 0) this.rows.splice(i, 1);
    if (this.active.row >= this.rows.length) this.active.row = Math.max(0, this.rows.length - 1);
    this.schedule(true);
  }

  schedule(force = false) {
    if (force) this.window = [-1, -1];
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = null; this.render(); });
  }

  render() {
    const t = this.table;
    if (!t) return;
    const n = this.rows.length;
    const more = this.next !== null;
    this.scroller.setAttribute('aria-rowcount', more ? '-1' : String(n + 1));
    this.body.style.height = ((n + (more ? 1 : 0)) * ROW_HEIGHT) + 'px';
    this.empty.hidden = n > 0 || more || this.loading !== null;
    this.empty.textContent = 'No records yet. Add one with “+ New record”.';
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(n - 1, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    if (more && last >= n - 1 - OVERSCAN * 4) this.loadMore();
    if (this.window[0] === first && this.window[1] === last) return;
    this.window = [first, last];
    const hadFocus = this.body.contains(document.activeElement);
    const rows = [];
    for (let i = first; i <= last; i++) rows.push(this.renderRow(i));
    if (more) {
      rows.push(h('div.grid-row.loading-row', { role: 'row', style: `top:${n * ROW_HEIGHT}px` },
        h('div.cell', { role: 'gridcell' }, 'Loading more records…')));
    }
    this.body.replaceChildren(...rows);
    if (hadFocus && !this.editing) this.focusCell(this.active.row, this.active.col, false);
  }

  renderRow(i) {
    const r = this.rows[i];
    const t = this.table;
    const cells = [h('div.cell.rowhead', { role: 'rowheader' },
      h('span.rownum', null, String(i + 1)),
      // Reachable with Shift+Tab from the active cell of its row (one tab stop, not one per row).
      h('button.row-delete', { type: 'button', 'data-row': i, 'aria-label': `Delete record ${r.id}`, title: 'Delete record',
        tabindex: this.active.row === i ? 0 : -1 }, '×'))];
    t.columns.forEach((c, j) => {
      const value = r.values[c.id];
      const key = r.id + '/' + c.id;
      const error = this.errors.get(key);
      const link = c.link && r.links && r.links[c.id];
      const active = this.active.row === i && this.active.col === j;
      const content = c.link
        ? [value !== null && value !== undefined
          ? h('span.chip', { title: String(value) }, link ? link.summary : String(value)) : null,
          h('span.cell-pick', { 'aria-hidden': 'true', title: 'Choose a record' }, '▾')]
        : [h('span.val', null, display(value, c.type))];
      cells.push(h('div.cell' + (c.type === 'integer' || c.type === 'number' ? '.num' : '') + (error ? '.invalid' : '')
        + (c.primaryKey ? '.key' : ''), {
        role: 'gridcell', tabindex: active ? 0 : -1, 'data-row': i, 'data-col': j, 'data-column': c.id,
        'aria-colindex': j + 2, 'aria-readonly': c.primaryKey ? 'true' : null, 'aria-invalid': error ? 'true' : null,
        title: error || null,
      }, ...content, error ? h('span.cell-error', { role: 'alert' }, error) : null));
    });
    return h('div.grid-row', { role: 'row', 'aria-rowindex': i + 2, 'data-record': r.id, style: `top:${i * ROW_HEIGHT}px` }, ...cells);
  }

  cellEl(row, col) {
    return this.body.querySelector(`[role=gridcell][data-row="${row}"][data-col="${col}"]`);
  }

  /** Moves the roving focus to a cell, scrolling it into view. */
  focusCell(row, col, scroll = true) {
    if (!this.rows.length) return;
    row = Math.max(0, Math.min(this.rows.length - 1, row));
    col = Math.max(0, Math.min(this.table.columns.length - 1, col));
    const old = this.cellEl(this.active.row, this.active.col);
    if (old) old.tabIndex = -1;
    this.body.querySelectorAll('button.row-delete[tabindex="0"]').forEach(b => { b.tabIndex = -1; });
    this.active = { row, col };
    const del = this.body.querySelector(`button.row-delete[data-row="${row}"]`);
    if (del) del.tabIndex = 0;
    if (scroll) {
      const top = row * ROW_HEIGHT;
      const view = this.scroller.clientHeight - ROW_HEIGHT; // the sticky header
      if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
      else if (top + ROW_HEIGHT > this.scroller.scrollTop + view) this.scroller.scrollTop = top + ROW_HEIGHT - view;
      this.render();
    }
    const el = this.cellEl(row, col);
    if (el) {
      el.tabIndex = 0;
      el.focus({ preventScroll: true }); // only the grid scrolls, never the page (scrollIntoView would)
      if (scroll) this.revealColumn(el);
    }
  }

  /** Scrolls the grid sideways so that el (a cell or a header) is in view, right of the sticky row header. */
  revealColumn(el) {
    const box = this.scroller.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const rowhead = this.head.firstElementChild ? this.head.firstElementChild.getBoundingClientRect().width : 0;
    if (r.left < box.left + rowhead) this.scroller.scrollLeft -= box.left + rowhead - r.left;
    else if (r.right > box.right) this.scroller.scrollLeft += Math.min(r.right - box.right, r.left - box.left - rowhead);
  }

  onKey(e) {
    if (this.editing || e.target.closest('.cell-editor')) return;
    const { row, col } = this.active;
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
    const moves = {
      ArrowDown: [row + 1, col], ArrowUp: [row - 1, col], ArrowRight: [row, col + 1], ArrowLeft: [row, col - 1],
      PageDown: [row + page, col], PageUp: [row - page, col], Home: [row, 0], End: [row, this.table.columns.length - 1],
    };
    if (moves[e.key]) {
      e.preventDefault();
      const [r, c] = e.ctrlKey && (e.key === 'Home' || e.key === 'End') ? [e.key === 'Home' ? 0 : this.rows.length - 1, col] : moves[e.key];
      this.focusCell(r, c);
    } else if (e.key === 'Enter' || e.key === 'F2') {
      e.preventDefault();
      this.edit(row, col);
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      const c = this.table.columns[col];
      if (!c.primaryKey) this.save(this.rows[row], c, null);
    } else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      this.edit(row, col, e.key);
    }
  }

  /** Opens the editor of a cell (the picker for a linked column; a toggle for a boolean). */
  async edit(row, col, typed) {
    const record = this.rows[row];
    const column = this.table.columns[col];
    if (!record || !column || column.primaryKey || this.editing) return;
    this.focusCell(row, col);
    const cell = this.cellEl(row, col);
    if (column.link) {
      const target = this.hooks.tables().find(t => t.id === column.link.targetTableId);
      this.editing = { record, column };
      try {
        const updated = await openPicker({
          tableId: this.table.id, column, record, anchor: cell, initial: typed || '',
          targetName: target ? target.name : 'the linked table',
        });
        if (updated) {
          this.errors.delete(record.id + '/' + column.id);
          this.replace(updated);
          this.hooks.changed();
        }
      } finally {
        this.editing = null;
        this.schedule(true);
        requestAnimationFrame(() => this.focusCell(this.active.row, this.active.col));
      }
      return;
    }
    if (column.type === 'boolean' && typed === undefined) {
      const v = record.values[column.id];
      await this.save(record, column, v === true ? false : true);
      return;
    }
    this.openEditor(record, column, cell, typed);
  }

  openEditor(record, column, cell, typed) {
    const value = record.values[column.id];
    const key = record.id + '/' + column.id;
    const input = h('input.cell-input', {
      type: 'text', value: typed !== undefined ? typed : display(value, column.type === 'boolean' ? 'text' : column.type),
      'aria-label': `${column.name} of record ${record.id}`, placeholder: PLACEHOLDER[column.type] || '', autocomplete: 'off',
    });
    const error = h('div.editor-error', { role: 'alert', hidden: !this.errors.get(key) }, this.errors.get(key) || '');
    const editor = h('div.cell-editor', null, input, error);
    const r = cell.getBoundingClientRect();
    const host = this.scroller.getBoundingClientRect();
    editor.style.top = (r.top - host.top + this.scroller.scrollTop) + 'px';
    editor.style.left = (r.left - host.left + this.scroller.scrollLeft) + 'px';
    editor.style.width = Math.max(r.width, 160) + 'px';
    this.scroller.append(editor);
    this.editing = { record, column, editor };
    let closing = false;
    const close = (refocus = true) => {
      closing = true;
      editor.remove();
      this.editing = null;
      this.schedule(true);
      if (refocus) requestAnimationFrame(() => this.focusCell(this.active.row, this.active.col));
    };
    const commit = async move => {
      if (closing) return;
      const text = input.value;
      if (text === display(value, column.type) && !this.errors.get(key)) { close(); return; }
      input.disabled = true;
      try {
        const updated = await api('PATCH', `/tables/${this.table.id}/records/${record.id}`,
          { values: { [column.id]: parseCell(column.type, text) } });
        this.errors.delete(key);
        this.replace(updated);
        close();
        if (move) requestAnimationFrame(() => this.focusCell(this.active.row + 1, this.active.col));
      } catch (e) {
        if (e instanceof ApiError && e.status === 400) {
          // The API's validation message stays on the cell, and the editor stays open to fix it.
          const message = describe(e);
          this.errors.set(key, message);
          error.textContent = message;
          error.hidden = false;
          input.setAttribute('aria-invalid', 'true');
          input.disabled = false;
          input.focus();
        } else {
          input.disabled = false;
          toastError(e);
        }
      }
    };
    input.addEventListener('keydown', e => {
      if (e.key === 'Enter') { e.preventDefault(); commit(true); }
      else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
      else if (e.key === 'Tab') { e.preventDefault(); commit(false); }
    });
    input.addEventListener('blur', () => { if (!closing && !input.disabled) commit(false); });
    input.focus();
    if (typed === undefined) input.select();
    else input.setSelectionRange(input.value.length, input.value.length);
  }

  async save(record, column, value) {
    const key = record.id + '/' + column.id;
    try {
      const updated = await api('PATCH', `/tables/${this.table.id}/records/${record.id}`, { values: { [column.id]: value } });
      this.errors.delete(key);
      this.replace(updated);
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) {
        this.errors.set(key, describe(e));
        this.schedule(true);
      } else {
        toastError(e);
      }
    }
  }

  /** After "+ New record": the record at the end, its first editable cell focused. */
  added(record) {
    this.merge([record]);
    this.empty.hidden = true;
    const row = this.indexOf(record.id);
    const col = this.table.columns.findIndex(c => !c.primaryKey);
    this.scroller.scrollTop = row * ROW_HEIGHT;
    this.render();
    this.window = [-1, -1];
    this.render();
    const column = this.table.columns[col];
    if (column && column.type !== 'boolean') this.edit(row, col);
    else this.focusCell(row, Math.max(col, 0));
  }
}
