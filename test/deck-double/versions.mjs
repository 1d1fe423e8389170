// deck release versions: parsing, comparison, and the short commit each release reports.

export const DEFAULT_VERSION = '1.65.1'

export function parseVersion(text) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(String(text).trim())
  if (!m) return null
  return [Number(m[1]), Number(m[2]), Number(m[3])]
}

export function compareVersions(a, b) {
  const x = typeof a === 'string' ? parseVersion(a) : a
  const y = typeof b === 'string' ? parseVersion(b) : b
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1
  return 0
}

/** True when version is at least min (both "x.y.z"). */
export function atLeast(version, min) {
  return compareVersions(version, min) >= 0
}

/** True when since <= version < until (until optional). */
export function inRange(version, since, until) {
  return (!since || atLeast(version, since)) && (!until || !atLeast(version, until))
}

// `git rev-parse --short` of each Kong/deck release tag: deck prints it after the version.
const COMMITS = `
1.0.0 30c731d 1.0.1 5550012 1.0.2 b9c8341 1.0.3 1169670 1.1.0 acdb161 1.2.0 01c9002 1.2.1 59afa2a 1.2.2 8c15c77
1.2.3 57bfa63 1.2.4 8e68931 1.3.0 d892b82 1.4.0 b906b43 1.5.0 99f3a84 1.5.1 c5799d9 1.6.0 c8f40a9 1.7.0 de1c830
1.8.0 bfac2a3 1.8.1 3d742a3 1.8.2 b538f70 1.9.0 cdda3c5 1.10.0 27094f2 1.11.0 4235c73 1.12.0 e6da448 1.12.1 2ce9a2b
1.12.2 6811b77 1.12.3 f4aa113 1.12.4 f483570 1.13.0 86ca2c4 1.14.0 fe0f337 1.15.0 c7262ae 1.15.1 bb70f8f
1.16.0 cad388e 1.16.1 4ee5ad6 1.17.0 2d89df1 1.17.1 ea42563 1.17.2 9590cc6 1.17.3 f03e00d 1.18.0 55721b6
1.18.1 c7f142e 1.19.0 31c4856 1.19.1 0d80472 1.20.0 0dd4961 1.21.0 735fbe2 1.22.0 7447a09 1.22.1 43ac0a8
1.23.0 69aa892 1.24.0 d3f0a67 1.25.0 86497a5 1.26.0 63b9742 1.26.1 b193a18 1.27.0 c155000 1.27.1 c589a3a
1.28.0 48e236c 1.28.1 62defae 1.29.0 b3ccdd5 1.29.1 3b884e3 1.29.2 77682ca 1.30.0 6146f3a 1.31.0 27c7d1b
1.31.1 1f3135f 1.32.0 856c55d 1.32.1 da7aa1d 1.33.0 9efd8b4 1.34.0 7b5fefb 1.35.0 0190a88 1.36.0 2af58c0
1.36.1 920cf1d 1.36.2 9d89a33 1.37.0 dd3b1b1 1.38.0 b6aba61 1.38.1 526baa3 1.39.0 fd1286c 1.39.1 4fbb49b
1.39.2 57c8e3c 1.39.3 200a471 1.39.4 aca781a 1.39.5 e23136a 1.39.6 e44d6c4 1.40.0 cd7cdf7 1.40.1 74b1859
1.40.2 a50b695 1.40.3 cd165de 1.41.0 da3d70e 1.41.1 947e349 1.41.2 c88f497 1.41.3 63dc5b4 1.41.4 4da4246
1.42.0 63fd4c7 1.42.1 f73569d 1.43.0 b786101 1.43.1 cf002e0 1.44.0 4624063 1.44.1 8afb15c 1.44.2 21866d2
1.45.0 b97bb33 1.46.0 048a7dd 1.46.1 f22457e 1.46.2 167feea 1.46.3 b20e10e 1.47.0 308526f 1.47.1 5095f80
1.48.0 c18e668 1.49.0 b5f7764 1.49.1 2f0f0ba 1.49.2 933b11b 1.50.0 0f948d4 1.51.0 0eed563 1.51.1 47a2106
1.52.0 4cfd1bf 1.52.1 49f4455 1.53.0 c8b1fcc 1.53.1 fcedc74 1.53.2 fc58690 1.54.0 b46c2fd 1.55.0 19a389c
1.55.1 7845293 1.55.2 8bfab74 1.56.0 32d8415 1.57.0 aba1a57 1.57.2 f1eaee1 1.57.3 596cf2d 1.58.0 3a3e31d
1.59.0 0eaff75 1.59.1 1691c5d 1.60.0 bddbb6a 1.61.0 d45e00b 1.62.0 c67dea7 1.62.1 d65cc81 1.63.0 6424dc6
1.64.0 0225ff3 1.65.1 7fcd888`
  .trim()
  .split(/\s+/)

const COMMIT_BY_VERSION = new Map()
for (let i = 0; i < COMMITS.length; i += 2) COMMIT_BY_VERSION.set(COMMITS[i], COMMITS[i + 1])

/** The commit deck reports for a release; unknown versions get deck's build default. */
export function commitFor(version) {
  return COMMIT_BY_VERSION.get(version) ?? 'unknown'
}
