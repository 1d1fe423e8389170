// Generates what must never disagree with its sources, and with `--check` fails instead of writing when any of
// it is out of date:
// - every action.yml, from actions/spec.ts;
// - docs/actions/<name>.md (a page per action: the hand-written docs/actions/<name>.intro.md, an example step
//   and the input and output tables) and actions/<name>/README.md, from the spec;
// - docs/secrets.md's tables, from the secret catalogue;
// - docs/guarantees.md's list, from the fault tests of test/hostile/.
import { build } from 'esbuild'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')
/** The release the docs' examples pin (an immutable release; see docs/releasing.md). */
const RELEASE = 'v1.0.0'

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

/** Replaces what lies between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` in text. */
function replaceBlock(text, name, content, file) {
  const start = `<!-- generated:${name} -->`
  const end = `<!-- /generated:${name} -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`${file} lacks the ${start} … ${end} markers`)
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`
}

const readText = (path) => readFile(join(root, path), 'utf8')

const { COMMANDS, rootInputs } = await bundleModule('actions/spec.ts')

// --- action.yml ---

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

async function actionYamlFiles() {
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
  return files
}

// --- a page per action ---

/** The `with:` of each action's example step: the common case, every required input included. */
const EXAMPLES = {
  dump: {
    'kong-addr': '${{ vars.KONG_ADMIN_URL }}',
    'kong-admin-token': '${{ secrets.KONG_ADMIN_TOKEN }}',
    'all-workspaces': true,
    'output-dir': 'kong',
  },
  validate: { state: 'kong', 'age-identity': '${{ secrets.DECKHAND_AGE_IDENTITY }}' },
  diff: {
    state: 'kong',
    'kong-addr': '${{ vars.KONG_ADMIN_URL }}',
    'kong-admin-token': '${{ secrets.KONG_ADMIN_TOKEN }}',
    'age-identity': '${{ secrets.DECKHAND_AGE_IDENTITY }}',
  },
  sync: {
    state: 'kong',
    'kong-addr': '${{ vars.KONG_ADMIN_URL }}',
    'kong-admin-token': '${{ secrets.KONG_ADMIN_TOKEN }}',
    'age-identity': '${{ secrets.DECKHAND_AGE_IDENTITY }}',
    'max-deletes': 5,
  },
  'db-dump': { 'database-url': '${{ secrets.DATABASE_URL }}', 'output-dir': 'db-backup' },
  'db-restore': {
    input: '${{ inputs.backup }}',
    'database-url': '${{ secrets.DATABASE_URL }}',
    clean: true,
  },
  'files-backup': { root: '/', paths: '/etc/kong/kong.conf\n/etc/kong/ssl\n', output: 'kong-files.tar.gz' },
  'files-restore': { input: '${{ inputs.backup }}', target: '/', 'dry-run': true },
  commit: { path: 'kong' },
  restore: {
    'kong-addr': '${{ vars.KONG_ADMIN_URL }}',
    'kong-admin-token': '${{ secrets.KONG_ADMIN_TOKEN }}',
    state: 'kong',
    'age-identity': '${{ secrets.DECKHAND_AGE_IDENTITY }}',
    'smoke-requests': 'GET https://api.example.com/health 200\n',
  },
  upgrade: {
    mode: 'dual-cluster',
    'kong-addr': '${{ vars.KONG_ADMIN_URL }}',
    'kong-admin-token': '${{ secrets.KONG_ADMIN_TOKEN }}',
    'target-kong-addr': '${{ vars.KONG_Y_ADMIN_URL }}',
    'database-url': '${{ secrets.DATABASE_URL }}',
    'smoke-requests': 'GET https://api-y.example.com/health 200\n',
  },
}

/** An example step for an action, checked against its spec so that it cannot name an input that does not exist. */
function exampleStep(spec) {
  const inputs = EXAMPLES[spec.name]
  if (!inputs) throw new Error(`script/docs.mjs has no example step for ${spec.name}: add one to EXAMPLES`)
  for (const key of Object.keys(inputs))
    if (!spec.inputs[key])
      throw new Error(`The example step of ${spec.name} sets ${key}, which it does not take`)
  for (const [key, input] of Object.entries(spec.inputs))
    if (input.required && !(key in inputs))
      throw new Error(`The example step of ${spec.name} lacks its required input ${key}`)
  const step = [{ uses: `deckhand/deckhand/actions/${spec.name}@${RELEASE}`, with: inputs }]
  return ['```yaml', stringify(step, { lineWidth: 0 }).trimEnd(), '```'].join('\n')
}

const esc = (s) => String(s).replace(/\|/g, '\\|')

function inputTable(inputs) {
  return [
    '| input | required | default | description |',
    '|---|---|---|---|',
    ...Object.entries(inputs).map(
      ([key, i]) =>
        `| \`${key}\` | ${i.required ? 'yes' : 'no'} | ${i.default !== undefined ? `\`${i.default}\`` : ''} | ${esc(i.description)}${i.secret ? ' (secret)' : ''}${i.actionOnly ? ' (action only)' : ''} |`,
    ),
  ].join('\n')
}

function outputTable(outputs) {
  return [
    '| output | description |',
    '|---|---|',
    ...Object.entries(outputs).map(([key, d]) => `| \`${key}\` | ${esc(d)} |`),
  ].join('\n')
}

const generatedNote = (sources) =>
  `<!-- Generated from ${sources} by 'npm run docs': edit the sources, not this file. -->`

async function intro(name) {
  const path = `docs/actions/${name}.intro.md`
  const text = await readText(path).catch(() => {
    throw new Error(`${path} is missing: the hand-written part of docs/actions/${name}.md`)
  })
  return text.trim()
}

async function actionPage(spec) {
  return [
    generatedNote(`actions/spec.ts and docs/actions/${spec.name}.intro.md`),
    '',
    `# deckhand ${spec.name}`,
    '',
    spec.summary,
    '',
    await intro(spec.name),
    '',
    '## Example',
    '',
    exampleStep(spec),
    '',
    `The same through the root action: \`uses: deckhand/deckhand@${RELEASE}\` with \`command: ${spec.name}\`; from a`,
    `shell: \`deckhand ${spec.name}\` with the same names as options (see [the CLI](../cli.md)).`,
    '',
    '## Inputs',
    '',
    inputTable(spec.inputs),
    '',
    '## Outputs',
    '',
    outputTable(spec.outputs),
    '',
  ].join('\n')
}

async function rootActionPage() {
  const rows = Object.values(COMMANDS).map((s) => `| [\`${s.name}\`](${s.name}.md) | ${esc(s.summary)} |`)
  return [
    generatedNote('actions/spec.ts and docs/actions/deckhand.intro.md'),
    '',
    '# deckhand (the root action)',
    '',
    'Every command is an action of its own (`deckhand/deckhand/actions/<command>`) and also a `command:` of the',
    `root action \`deckhand/deckhand@${RELEASE}\`, which takes every input of every command and runs the one named.`,
    '',
    '```yaml',
    stringify([{ uses: `deckhand/deckhand@${RELEASE}`, with: { command: 'dump', ...EXAMPLES.dump } }], {
      lineWidth: 0,
    }).trimEnd(),
    '```',
    '',
    '| command | what it does |',
    '|---|---|',
    ...rows,
    '',
    await intro('deckhand'),
    '',
  ].join('\n')
}

/** actions/<name>/README.md: what GitHub shows beside the action, pointing at its page. */
function actionReadme(spec) {
  return [
    generatedNote('actions/spec.ts'),
    '',
    `# deckhand ${spec.name}`,
    '',
    spec.summary,
    '',
    exampleStep(spec),
    '',
    `Inputs, outputs and how it behaves: [docs/actions/${spec.name}.md](../../docs/actions/${spec.name}.md).`,
    '',
  ].join('\n')
}

async function actionDocs() {
  const files = new Map()
  for (const spec of Object.values(COMMANDS)) {
    files.set(`docs/actions/${spec.name}.md`, await actionPage(spec))
    files.set(`actions/${spec.name}/README.md`, actionReadme(spec))
  }
  files.set('docs/actions/deckhand.md', await rootActionPage())
  return files
}

// --- docs/secrets.md: the catalogue's fields, judged by the same rule redaction uses ---

async function secretsCatalogue() {
  const { isSecretFlag } = await bundleModule('actions/engine/secrets/schema-tree.ts')
  const catalogue = JSON.parse(await readText('actions/engine/secrets/kong-catalogue.json'))
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
  const lines = [
    `Read from Kong ${src.kong.release} (\`${src.kong.commit.slice(0, 12)}\`), the plugin schemas of Gateway ${src.docs.pluginSchemaReleases.join(', ')}, ` +
      `the Enterprise Admin API of ${src.docs.adminApiReleases.join(', ')} and the configuration reference (\`${src.docs.commit.slice(0, 12)}\`).`,
  ]
  for (const [kind, title] of [
    ['plugins', 'Plugins'],
    ['entities', 'Entities'],
    ['partials', 'Partials'],
    ['vaults', 'Vault backends'],
  ]) {
    lines.push('', `### ${title}`, '', '| name | secrets | kept |', '|---|---|---|')
    for (const [name, paths] of Object.entries(catalogue[kind])) {
      const entries = Object.entries(paths)
      // A referenceable map or list is judged entry by entry (header rule), not as a whole.
      const byEntry = ([p, f]) => f === 'referenceable' && /\.(\*|\[\])$/.test(p)
      const secret = entries
        .filter(([p, f]) => isSecretFlag(f, field(p)))
        .map((e) => (byEntry(e) ? `${e[0]} (by entry)` : e[0]))
      const kept = entries.filter(([p, f]) => !isSecretFlag(f, field(p))).map(([p]) => p)
      lines.push(`| \`${name}\` | ${code(secret)} | ${code(kept)} |`)
    }
  }
  const path = 'docs/secrets.md'
  return new Map([[path, replaceBlock(await readText(path), 'catalogue', lines.join('\n'), path)]])
}

// --- docs/guarantees.md: one section per test file of test/hostile/, from the file's leading comment (the
// promise) and its test names (the cases that prove it) ---

async function guaranteesList() {
  const lines = []
  const names = (await readdir(join(root, 'test/hostile'))).filter((n) => n.endsWith('.test.ts')).sort()
  for (const name of names) {
    const text = await readText(`test/hostile/${name}`)
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
  const path = 'docs/guarantees.md'
  return new Map([[path, replaceBlock(await readText(path), 'guarantees', lines.join('\n'), path)]])
}

// --- write, or check ---

const GENERATORS = [actionYamlFiles, actionDocs, secretsCatalogue, guaranteesList]

const files = new Map()
for (const generate of GENERATORS) for (const [path, content] of await generate()) files.set(path, content)

// docs/cli.md: the CLI reference, rendered by the CLI's own code from its help texts.
async function cliReferenceDoc() {
  const { cliReference } = await bundleModule('actions/cli/reference.ts')
  return cliReference()
}
files.set('docs/cli.md', await cliReferenceDoc())

const stale = []
for (const [path, content] of files) {
  const current = await readText(path).catch(() => undefined)
  if (current === content) continue
  stale.push(path)
  if (!check) await writeFile(join(root, path), content)
}
if (check && stale.length > 0) {
  console.error(
    `Out of date with their sources (actions/spec.ts, docs/actions/*.intro.md, the secret catalogue, test/hostile/): ${stale.join(', ')}. Run 'npm run docs' and commit.`,
  )
  process.exit(1)
}
console.log(
  check ? `${files.size} generated files match their sources` : `updated: ${stale.join(', ') || 'nothing'}`,
)
