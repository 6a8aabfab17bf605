/** One CSV line (RFC 4180 quoting), shared by every export so they all quote alike. */
export function csvRow(fields: readonly (string | number)[]): string {
  return fields
    .map((value) => {
      const text = String(value);
      return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    })
    .join(',');
}

export function csv(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map(csvRow).join('\n') + '\n';
}
