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
