import { join } from 'node:path'

import { DeckhandError, fileSystemError } from '../errors.js'
import { writeFileAtomic } from '../fs-atomic.js'
import { describeAnswer, type KongAdmin, parseJson } from '../kong/admin.js'

/** The file in the upgrade's folder that holds X's keyring export: what restore's keyring-export takes. */
export const KEYRING_EXPORT_FILE = 'keyring-export'

const NEEDS =
  'it needs Kong Enterprise with keyring_enabled, keyring_strategy cluster and keyring_public_key and keyring_private_key set'

/**
 * Exports the Enterprise keyring of a cluster into `folder`, private (0600): without it, the fields Kong
 * encrypted in a database backup cannot be read once the keys are lost. POST /keyring/export answers
 * {"data": "<base64>"}, and only with the cluster strategy and the management key pair configured (Kong's
 * Keyring and Data Encryption reference, "Export Keyring"). The data is key material: handed to `secret` before
 * anything else, never returned.
 */
export async function exportKeyring(
  admin: KongAdmin,
  folder: string,
  secret: (value: string) => void,
): Promise<string> {
  const res = await admin.request('POST', '/keyring/export')
  if (res.status === 404) {
    throw new DeckhandError(
      `export-keyring is set, but ${admin.address} has no keyring (${describeAnswer(res)}): ${NEEDS}. Turn export-keyring off when X encrypts nothing with a keyring.`,
    )
  }
  if (res.status !== 200) {
    throw new DeckhandError(
      `export-keyring is set, but ${admin.address} did not export its keyring (${describeAnswer(res)}): ${NEEDS}.`,
    )
  }
  const data = (parseJson(res) as { data?: unknown }).data
  if (typeof data !== 'string' || data === '') {
    throw new DeckhandError(`${admin.address} answered POST /keyring/export without its data.`)
  }
  secret(data)
  const file = join(folder, KEYRING_EXPORT_FILE)
  try {
    await writeFileAtomic(file, `${data}\n`, 0o600)
  } catch (err) {
    throw fileSystemError(err, `writing ${file}`)
  }
  return file
}
