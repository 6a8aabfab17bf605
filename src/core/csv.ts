/** Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NUMBER = /^[+-]?\d+(\.\d+)?(e[+-]?\d+)?$/i;

/**
 * One cell: text that a spreadsheet would run as a formula gets a leading apostrophe
 * (numbers, even signed ones, are left alone), then RFC 4180 quoting.
 */
function csvCell(value: string | number): string {
  const raw = String(value);
  const text = typeof value === 'string' && FORMULA_START.test(raw) && !NUMBER.test(raw) ? `'${raw}` : raw;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line, shared by every export so they all quote and neutralise alike. */
export function csvRow(fields: readonly (string | number)[]): string {
  return fields.map(csvCell).join(',');
}

export function csv(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map(csvRow).join('\n') + '\n';
}

/**
 * Rows of RFC 4180 CSV: fields in double quotes may hold commas, line breaks and doubled
 * quotes; CRLF or LF ends a row; blank lines are dropped. An unclosed quote is an error.
 * Hand-written rather than a dependency: the manifest needs nothing more than this.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== '') rows.push(row);
    [row, field] = [[], ''];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') [field, i] = [field + '"', i + 2];
      else if (c === '"') [quoted, i] = [false, i + 1];
      else [field, i] = [field + c, i + 1];
    } else if (c === '"' && field.trim() === '') [quoted, field, i] = [true, '', i + 1];
    else if (c === ',') [row, field, i] = [[...row, field], '', i + 1];
    else if (c === '\n' || c === '\r') {
      endRow();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else [field, i] = [field + c, i + 1];
  }
  if (quoted) throw new Error('a quoted field is not closed');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}
