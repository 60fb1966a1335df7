/** Returns `count` followed by `noun`, in the plural unless `count` is 1: "1 record", "3 records". */
export function countOf(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}

/** Returns what to check when the buffer directory cannot be created or listed, for the error with `code`. */
export function directoryHint(code: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'check that the user running this process may create and write to it and read every folder above it';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'the path or a folder above it is a file, so choose another path or move the file';
    case 'EROFS':
      return 'the file system is mounted read-only, so choose a writable path';
    case 'ENOSPC':
      return 'the disk is full';
    default:
      return 'check that it is a folder this process can write to';
  }
}
