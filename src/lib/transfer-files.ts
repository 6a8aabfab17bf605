/** The files among dropped or pasted items (text and links are ignored). */
export function filesIn(items: DataTransferItemList | undefined | null): File[] {
  return Array.from(items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => item.getAsFile())
    .filter((file): file is File => file !== null);
}
