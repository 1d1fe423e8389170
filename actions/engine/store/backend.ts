/**
 * Where backups are kept, reduced to what deckhand needs of it: objects under keys (`db/kong/20261206T071500Z/
 * toc.dat`), listed by prefix, written whole, read back with their SHA-256. The local folder and S3 implement it;
 * everything about layouts, manifests and retention is in store.ts, the same for both.
 */
export interface StoredObject {
  /** Relative to the store's root (its prefix). */
  key: string
  size: number
}

export interface Backend {
  /** For messages: `s3://bucket/prefix` or the folder's path. */
  readonly description: string
  /** Every object whose key starts with `prefix`, in pages; memory does not grow with the store. */
  list(prefix: string): AsyncIterable<StoredObject>
  /**
   * Writes the local file under `key`. `sha256` (hex) is the file's digest, which the store checks on arrival
   * where it can (S3 verifies the checksum it is sent and refuses a body that does not match).
   */
  putFile(key: string, file: string, sha256: string, size: number): Promise<void>
  /**
   * Writes the object `produce` writes into the local path it is given (a temporary file: beside the object in a
   * folder store, so nothing is copied twice); returns its SHA-256 and size.
   */
  putProduced(
    key: string,
    produce: (path: string) => Promise<void>,
  ): Promise<{ sha256: string; size: number }>
  /** Writes a small object (a manifest, a mark). */
  putBytes(key: string, data: Uint8Array): Promise<void>
  /** Reads `key` into the local file (created 0600); the SHA-256 and size of what arrived. */
  getFile(key: string, file: string): Promise<{ sha256: string; size: number }>
  /** A small object, or undefined when there is none; larger than `maxBytes` is an error. */
  getBytes(key: string, maxBytes: number): Promise<Uint8Array | undefined>
  /** Removes one object (absent is not an error). */
  remove(key: string): Promise<void>
}
