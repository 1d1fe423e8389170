// Generates every action.yml and the README's input/output tables from actions/spec.ts, so the three
// can never disagree. `--check` fails instead of writing when anything is out of date.
import { build } from 'esbuild'
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')

async function loadSpec() {
  const out = await build({
    entryPoints: [join(root, 'actions/spec.ts')],
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

const stale = []
for (const [path, content] of files) {
  const current = await readFile(join(root, path), 'utf8').catch(() => undefined)
  if (current === content) continue
  stale.push(path)
  if (!check) await writeFile(join(root, path), content)
}
if (check && stale.length > 0) {
  console.error(`Out of date with actions/spec.ts: ${stale.join(', ')}. Run 'npm run docs' and commit.`)
  process.exit(1)
}
console.log(
  check
    ? 'action.yml files and README tables match actions/spec.ts'
    : `updated: ${stale.join(', ') || 'nothing'}`,
)
