// "Link to another table…": the candidates (every table, itself included), the one-side table's
// primary key preselected and its unique columns offered, the on-delete choice, and the preview
// (values kept and cleared, with samples) before the user confirms.
import { api, describe } from './api.js';
import { dialog, h } from './ui.js';

const ON_DELETE = [
  ['SET_NULL', 'Clear the cell (set null)'],
  ['RESTRICT', 'Refuse to delete a linked record'],
  ['CASCADE', 'Delete the records that link to it'],
];

/** Resolves to the Link the API answered (state RECONCILING or later), or null when cancelled. */
export async function linkDialog(table, column) {
  const base = `/tables/${table.id}/columns/${column.id}`;
  const { tables } = await api('GET', base + '/link-candidates');
  if (!tables.length) {
    return dialog('Link to another table', h('p', null, 'There is no table to link to yet.'), []);
  }
  const tableSelect = h('select', { id: 'link-table' },
    tables.map(t => h('option', { value: t.tableId }, t.name + (t.tableId === table.id ? ' (this table)' : ''))));
  const columnSelect = h('select', { id: 'link-column' });
  const onDelete = h('select', { id: 'link-on-delete' }, ON_DELETE.map(([v, label]) => h('option', { value: v }, label)));
  const preview = h('div.preview', { id: 'link-preview', 'aria-live': 'polite' }, 'Checking the values…');
  const content = h('div.link-form', null,
    h('p.muted', null, `Link “${column.name}” of ${table.name} to the records of another table. `
      + 'Each cell keeps its value only where it exactly matches a value of the chosen column; the others are cleared.'),
    h('label.field', null, h('span', null, 'Table (the “one” side)'), tableSelect),
    h('label.field', null, h('span', null, 'Column to match'), columnSelect),
    h('label.field', null, h('span', null, 'When a linked record is deleted'), onDelete),
    preview);

  let current = null; // the preview on screen: {tableId, columnId, result}
  let seq = 0;
  let confirmButton;

  const fillColumns = () => {
    const t = tables.find(x => x.tableId === tableSelect.value);
    columnSelect.replaceChildren(...t.columns.map(c => h('option', { value: c.columnId, selected: c.columnId === t.defaultColumnId },
      c.name + ' · ' + c.type + (c.primaryKey ? ' (primary key)' : c.unique ? ' (unique)' : ''))));
  };

  const refresh = async () => {
    const mine = ++seq;
    const body = { targetTableId: tableSelect.value, targetColumnId: columnSelect.value };
    preview.classList.add('loading');
    if (confirmButton) confirmButton.disabled = true;
    try {
      const result = await api('POST', base + '/link/preview', body);
      if (mine !== seq) return;
      current = { ...body, result };
      const kept = result.keptCount;
      const cleared = result.clearedCount;
      preview.replaceChildren(...[
        h('p.counts', null, h('strong', { id: 'preview-kept' }, kept.toLocaleString()), kept === 1 ? ' value kept, ' : ' values kept, ',
          h('strong', { id: 'preview-cleared', class: cleared ? 'cleared' : '' }, cleared.toLocaleString()),
          cleared === 1 ? ' cleared' : ' cleared'),
        cleared ? h('p.muted', null, 'These values match nothing and will be cleared:') : null,
        cleared ? h('ul.samples', { id: 'preview-samples' }, result.clearedSamples.map(s =>
          h('li', null, h('span.rec', null, 'record ' + s.recordId), h('span.val', null, '“' + String(s.value) + '”')))) : null,
        cleared > result.clearedSamples.length ? h('p.muted', null, `…and ${cleared - result.clearedSamples.length} more.`) : null,
      ].filter(Boolean));
      if (confirmButton) {
        confirmButton.textContent = cleared ? `Link and clear ${cleared.toLocaleString()} ${cleared === 1 ? 'value' : 'values'}` : 'Link';
        confirmButton.disabled = false;
      }
    } catch (e) {
      if (mine !== seq) return;
      current = null;
      preview.replaceChildren(h('p.error', { role: 'alert' }, describe(e)));
    } finally {
      if (mine === seq) preview.classList.remove('loading');
    }
  };

  tableSelect.addEventListener('change', () => { fillColumns(); refresh(); });
  columnSelect.addEventListener('change', refresh);
  // The one side: another table than this one first, if there is one.
  const other = tables.find(t => t.tableId !== table.id) || tables[0];
  tableSelect.value = other.tableId;
  fillColumns();

  return dialog('Link to another table', content, [{
    label: 'Link', primary: true, id: 'link-confirm',
    run: async () => {
      if (!current || current.targetTableId !== tableSelect.value || current.targetColumnId !== columnSelect.value) {
        throw new Error('Wait for the preview of this choice.');
      }
      return api('PUT', base + '/link', {
        targetTableId: current.targetTableId, targetColumnId: current.targetColumnId, onDelete: onDelete.value,
      });
    },
  }], {
    wide: true,
    onOpen: (dlg, { buttons }) => {
      confirmButton = buttons[0];
      tableSelect.focus();
      refresh();
    },
  });
}
