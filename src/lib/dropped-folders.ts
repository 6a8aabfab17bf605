/** A dropped file with the folder it was found in (the folder name is its label when evaluating). */
export interface DroppedFile {
  file: File;
  folder: string | null;
}

interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  file?(success: (file: File) => void, failure: (error: unknown) => void): void;
  createReader?(): { readEntries(success: (entries: EntryLike[]) => void, failure: (error: unknown) => void): void };
}

async function walk(entry: EntryLike, folder: string | null, out: DroppedFile[]): Promise<void> {
  if (entry.isFile && entry.file) {
    out.push({ file: await new Promise<File>((resolve, reject) => entry.file!(resolve, reject)), folder });
  } else if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader();
    // readEntries returns the listing in batches until it returns an empty one.
    for (;;) {
      const batch = await new Promise<EntryLike[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, entry.name, out);
    }
  }
}

/** Every file in what was dropped, folders walked recursively (a file's label is its nearest folder). */
export async function droppedFiles(items: DataTransferItemList): Promise<DroppedFile[]> {
  // Entries and files must be taken before the first await: the list empties after the event.
  const dropped = Array.from(items)
    .filter((item) => item.kind === 'file')
    .map((item) => ({ entry: item.webkitGetAsEntry() as EntryLike | null, file: item.getAsFile() }));
  const out: DroppedFile[] = [];
  for (const { entry, file } of dropped) {
    if (entry) await walk(entry, null, out);
    else if (file) out.push({ file, folder: null });
  }
  return out;
}
