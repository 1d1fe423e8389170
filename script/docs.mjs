// Generates every action.yml and the README's input/output tables from actions/spec.ts, so the three
// can never disagree, and docs/secrets.md's tables from the secret catalogue. `--check` fails instead
// of writing when anything is out of date. docs/guarantees.md lists the fault tests of test/hostile/.
import { build } from 'esbuild'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')

async function loadSpec() {
  return bundleModule('actions/spec.ts')
}

async function bundleModule(path) {
  const out = await build({
    entryPoints: [join(root, path)],
    bundle: true,
    format: 'esm',
    write: false,
    platform: 'node',
  })
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].contents).toString('base64')}`)
}

const { COMMANDS, rootInputs } = await loadSpec()

function actionYaml(name, description, inputs, outputs, main) {
  const doc = {
    name,
    description,
    author: 'deckhand',
    branding: { icon: 'anchor', color: 'blue' },
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([key, input]) => [
        key,
        {
          description: input.description,
          required: Boolean(input.required),
          ...(input.default !== undefined ? { default: input.default } : {}),
        },
      ]),
    ),
    outputs: Object.fromEntries(Object.entries(outputs).map(([key, description]) => [key, { description }])),
    runs: { using: 'node24', main },
  }
  return `# Generated from actions/spec.ts by 'npm run docs': edit the spec, not this file.\n${stringify(doc, { lineWidth: 0 })}`
}

function table(inputs, outputs) {
  const esc = (s) => String(s).replace(/\|/g, '\\|')
  const rows = Object.entries(inputs).map(
    ([key, i]) =>
      `| \`${key}\` | ${i.required ? 'yes' : 'no'} | ${i.default !== undefined ? `\`${i.default}\`` : ''} | ${esc(i.description)}${i.secret ? ' (secret)' : ''}${i.actionOnly ? ' (action only)' : ''} |`,
  )
  const outs = Object.entries(outputs).map(([key, d]) => `| \`${key}\` | ${esc(d)} |`)
  return [
    '| input | required | default | description |',
    '|---|---|---|---|',
    ...rows,
    '',
    '| output | description |',
    '|---|---|',
    ...outs,
  ].join('\n')
}

const files = new Map()
const allOutputs = {}
for (const spec of Object.values(COMMANDS)) {
  Object.assign(allOutputs, spec.outputs)
  files.set(
    `actions/${spec.name}/action.yml`,
    actionYaml(
      `deckhand ${spec.name}`,
      spec.summary,
      spec.inputs,
      spec.outputs,
      `../../dist/${spec.name}/index.js`,
    ),
  )
}
files.set(
  'action.yml',
  actionYaml(
    'deckhand',
    'Back up, validate and restore Kong gateway configuration with deck. Set command to one of: ' +
      Object.keys(COMMANDS).join(', ') +
      '.',
    rootInputs(),
    allOutputs,
    'dist/main/index.js',
  ),
)

const readmePath = join(root, 'README.md')
let readme = await readFile(readmePath, 'utf8')
for (const spec of Object.values(COMMANDS)) {
  const start = `<!-- generated:${spec.name} -->`
  const end = `<!-- /generated:${spec.name} -->`
  const from = readme.indexOf(start)
  const to = readme.indexOf(end)
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} … ${end} markers`)
  readme = `${readme.slice(0, from + start.length)}\n${table(spec.inputs, spec.outputs)}\n${readme.slice(to)}`
}
files.set('README.md', readme)

// docs/secrets.md: the catalogue's fields, judged by the same rule redaction uses.
const { isSecretFlag } = await bundleModule('actions/engine/secrets/schema-tree.ts')
const catalogue = JSON.parse(await readFile(join(root, 'actions/engine/secrets/kong-catalogue.json'), 'utf8'))
const secretsPath = join(root, 'docs/secrets.md')
let secrets = await readFile(secretsPath, 'utf8')
const field = (path) =>
  path
    .split('.')
    .filter((p) => p !== '[]' && p !== '*')
    .pop()
const code = (paths) =>
  paths
    .map((p) => `\`${p.replace(/ \(by entry\)$/, '')}\`${p.endsWith(' (by entry)') ? ' (by entry)' : ''}`)
    .join(', ')
const src = catalogue.sources
const catalogueLines = [
  `Read from Kong ${src.kong.release} (\`${src.kong.commit.slice(0, 12)}\`), the plugin schemas of Gateway ${src.docs.pluginSchemaReleases.join(', ')}, ` +
    `the Enterprise Admin API of ${src.docs.adminApiReleases.join(', ')} and the configuration reference (\`${src.docs.commit.slice(0, 12)}\`).`,
]
for (const [kind, title] of [
  ['plugins', 'Plugins'],
  ['entities', 'Entities'],
  ['partials', 'Partials'],
  ['vaults', 'Vault backends'],
]) {
  catalogueLines.push('', `### ${title}`, '', '| name | secrets | kept |', '|---|---|---|')
  for (const [name, paths] of Object.entries(catalogue[kind])) {
    const entries = Object.entries(paths)
    // A referenceable map or list is judged entry by entry (header rule), not as a whole.
    const byEntry = ([p, f]) => f === 'referenceable' && /\.(\*|\[\])$/.test(p)
    const secret = entries
      .filter(([p, f]) => isSecretFlag(f, field(p)))
      .map((e) => (byEntry(e) ? `${e[0]} (by entry)` : e[0]))
    const kept = entries.filter(([p, f]) => !isSecretFlag(f, field(p))).map(([p]) => p)
    catalogueLines.push(`| \`${name}\` | ${code(secret)} | ${code(kept)} |`)
  }
}
{
  const start = '<!-- generated:catalogue -->'
  const end = '<!-- /generated:catalogue -->'
  const from = secrets.indexOf(start)
  const to = secrets.indexOf(end)
  if (from < 0 || to < from) throw new Error(`docs/secrets.md lacks the ${start} … ${end} markers`)
  secrets = `${secrets.slice(0, from + start.length)}\n${catalogueLines.join('\n')}\n${secrets.slice(to)}`
}
files.set('docs/secrets.md', secrets)

// docs/guarantees.md: what deckhand promises under faults, one section per test file of test/hostile/,
// from the file's leading comment (the promise) and its test names (the cases that prove it).
const guaranteesPath = join(root, 'docs/guarantees.md')
let guarantees = await readFile(guaranteesPath, 'utf8')
{
  const lines = []
  const names = (await readdir(join(root, 'test/hostile'))).filter((n) => n.endsWith('.test.ts')).sort()
  for (const name of names) {
    const text = await readFile(join(root, 'test/hostile', name), 'utf8')
    const comment = /^\/\*\*([\s\S]*?)\*\//m.exec(text)
    if (!comment)
      throw new Error(`test/hostile/${name} needs a leading /** … */ comment: the promise it proves`)
    const promise = comment[1]
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, '').trim())
      .filter(Boolean)
      .join(' ')
    lines.push('', `### [${name.replace(/\.test\.ts$/, '')}](../test/hostile/${name})`, '', promise, '')
    // describe(...) titles (bold) group the test(...) titles that follow; `%s` of .each stays as written.
    let grouped = false
    for (const m of text.matchAll(/^\s*(describe|test|it)(?:\.each\([^\n]*?\))?\(\s*(['"`])(.+?)\2/gm)) {
      if (m[1] === 'describe') grouped = true
      lines.push(m[1] === 'describe' ? `- **${m[3]}**` : `${grouped ? '  ' : ''}- ${m[3]}`)
    }
  }
  lines.push('')
  const start = '<!-- generated:guarantees -->'
  const end = '<!-- /generated:guarantees -->'
  const from = guarantees.indexOf(start)
  const to = guarantees.indexOf(end)
  if (from < 0 || to < from) throw new Error(`docs/guarantees.md lacks the ${start} … ${end} markers`)
  guarantees = `${guarantees.slice(0, from + start.length)}\n${lines.join('\n')}\n${guarantees.slice(to)}`
}
files.set('docs/guarantees.md', guarantees)

// docs/cli.md: the CLI reference, rendered by the CLI's own code from its help texts.
async function cliReferenceDoc() {
  const { cliReference } = await bundleModule('actions/cli/reference.ts')
  return cliReference()
}
files.set('docs/cli.md', await cliReferenceDoc())

const stale = []
for (const [path, content] of files) {
  const current = await readFile(join(root, path), 'utf8').catch(() => undefined)
  if (current === content) continue
  stale.push(path)
  if (!check) await writeFile(join(root, path), content)
}
if (check && stale.length > 0) {
  console.error(
    `Out of date with their sources (actions/spec.ts, the secret catalogue, test/hostile/): ${stale.join(', ')}. Run 'npm run docs' and commit.`,
  )
  process.exit(1)
}
console.log(
  check
    ? 'action.yml files and README tables match actions/spec.ts'
    : `updated: ${stale.join(', ') || 'nothing'}`,
)
