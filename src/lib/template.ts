/**
 * A message template filled in: `{name}` takes a value, and `{n|one|other}` the form the locale's
 * plural rules choose for the number n ("1 file", "2 files"; Chinese has one form).
 */
export function fillTemplate(template: string, values: Record<string, string | number>, locale: string): string {
  const plurals = new Intl.PluralRules(locale);
  return template.replace(/\{(\w+)(?:\|([^|}]*)\|([^}]*))?\}/g, (_, key: string, one?: string, other?: string) => {
    const value = values[key];
    if (one === undefined) return String(value ?? `{${key}}`);
    return typeof value === 'number' && plurals.select(value) === 'one' ? one : other!;
  });
}

/** Minutes and seconds, for a time left. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
