import { access, constants, stat } from 'node:fs/promises'

/** Whether anything exists at path. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

export async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false
}

export async function isExecutable(path: string): Promise<boolean> {
  // On Windows X_OK is only an existence check, which is what we want there.
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  )
}
