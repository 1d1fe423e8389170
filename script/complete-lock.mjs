// Completes package-lock.json with platform-specific optional packages the registry mirror could not
// serve (napi-rs bindings for other operating systems), so that `npm ci` accepts the lock everywhere.
// Each entry carries the os/cpu/libc that napi-rs encodes in the package name, so npm skips it on other
// platforms without fetching it, exactly as with a lock written against the full registry.
// Run after `npm install` when `npm ci` reports "Missing: <package> from lock file".
import { readFile, writeFile } from 'node:fs/promises'

const OS = {
  android: 'android',
  darwin: 'darwin',
  freebsd: 'freebsd',
  linux: 'linux',
  openharmony: 'openharmony',
  win32: 'win32',
}
const CPU = new Set(['arm', 'arm64', 'ia32', 'x64', 'loong64', 'ppc64', 'riscv64', 's390x'])
const LIBC = { gnu: 'glibc', gnueabihf: 'glibc', musl: 'musl', musleabihf: 'musl' }

function platformOf(name) {
  const match = /-(android|darwin|freebsd|linux|openharmony|win32)-([a-z0-9]+)(?:-([a-z]+))?$/.exec(name)
  if (!match || !CPU.has(match[2])) return undefined
  const entry = { os: [OS[match[1]]], cpu: [match[2]] }
  if (match[1] === 'linux' && LIBC[match[3]]) entry.libc = [LIBC[match[3]]]
  return entry
}

const path = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(await readFile(path, 'utf8'))
const added = []
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const at = `node_modules/${dep}`
    if (lock.packages[at] || lock.packages[`${key}/${at}`]) continue
    const platform = platformOf(dep)
    if (!platform)
      throw new Error(`${dep} (optional dependency of ${key}) is missing and is not a platform binding`)
    lock.packages[at] = { version, ...platform, ...(pkg.dev ? { dev: true } : {}), optional: true }
    added.push(at)
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
)
await writeFile(path, `${JSON.stringify(lock, null, 2)}\n`)
console.log(
  added.length
    ? `added ${added.length} platform entries:\n${added.join('\n')}`
    : 'package-lock.json is complete',
)
