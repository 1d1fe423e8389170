// The lint pass `deck file convert` runs after the 2.8 -> 3.4, 3.4 -> 3.10 and 3.10 -> 3.14 hops. Sources:
// Kong/deck convert/convert.go (Convert: the input file read again from disk, linted with the hop's embedded
// ruleset, fail severity "error", format "plain") and lint/lint.go (WithContent, GetLintOutput) at v1.65.1
// (at v1.47.0 for the ruleset read from the working directory, at v1.63.0 for the empty-file warning);
// the rule functions of daveshanley/vacuum (functions/core/pattern.go, defined.go, falsy.go and
// utils.FindKeyNode), the linter deck bundles. The rules themselves are in convert-lint-rules.yaml.

import { existsSync, readFileSync, statSync } from 'node:fs'

import { isMap, isScalar, isSeq, LineCounter, parse, parseDocument } from 'yaml'

import { yellow } from './commands.mjs'
import { DeckError } from './gostr.mjs'
import { atLeast, inRange } from './versions.mjs'

const HOPS = parse(readFileSync(new URL('./convert-lint-rules.yaml', import.meta.url), 'utf8'))

// Prints what deck prints after converting `from` -> `to`: nothing when the release does not lint the hop.
export function lintConvertInput(ctx, from, to, input) {
  const hop = HOPS[`${from} -> ${to}`]
  if (hop?.rulesetFile && inRange(ctx.version, hop.rulesetFile.since, hop.since))
    readRulesetFile(hop.rulesetFile.path)
  if (!hop || !atLeast(ctx.version, hop.since)) return
  // Read again from disk: stdin was consumed by the conversion, so `-` gives nothing to lint.
  if (input !== '-' && statSync(input, { throwIfNoEntry: false })?.isDirectory())
    throw new DeckError('deck double: linting a directory is not emulated')
  const text = input === '-' ? '' : readFileSync(input, 'utf8')
  if (parse(text) == null) {
    // Before v1.63.0 vacuum's parse error on an empty spec went to RuleSetExecutionResult.Errors, which
    // lint.go never reads: nothing printed.
    if (!atLeast(ctx.version, '1.63.0')) return
    ctx.err(yellow(ctx, 'Warning: state file is empty or contains only comments, skipping linting') + '\n')
    return
  }
  const lineCounter = new LineCounter()
  const root = parseDocument(text, { lineCounter }).contents
  const findings = []
  // Real deck applies the rules in Go map order (random); the double keeps the file order.
  for (const rule of Object.values(hop.rules)) {
    if (!inRange(ctx.version, rule.since, rule.until)) continue
    const givens = [rule.given].flat()
    const actions = [rule.then].flat()
    for (const given of givens) {
      const nodes = select(root, given)
      for (const action of actions) {
        for (const node of nodes) {
          if (!FUNCTIONS[action.function](node, action)) continue
          const { line, col } = lineCounter.linePos(node.range[0])
          findings.push(`[${rule.severity}][${line}:${col}] ${rule.message}\n`)
        }
      }
    }
  }
  if (findings.length === 0) return
  const failures = findings.filter((f) => f.startsWith('[error]')).length
  ctx.out(`Linting Violations: ${findings.length}\nFailures: ${failures}\n\n${findings.join('')}`)
}

// lint.go getRuleSet at v1.47.0: filebasics.ReadFile (os.ReadFile) of a path relative to the working
// directory, before the input is read.
function readRulesetFile(path) {
  if (existsSync(path))
    throw new DeckError("deck double: linting with deck's source tree rulesets is not emulated")
  throw new DeckError(`error reading ruleset file: open ${path}: no such file or directory`)
}

// go-yaml's Node.Value: the scalar as written (unquoted), "" for collections.
const valueOf = (node) => (isScalar(node) ? (node.source ?? String(node.value)) : '')
// go-yaml's Node.Content: keys and values of a mapping in turn, the items of a sequence.
const contentOf = (node) =>
  isMap(node) ? node.items.flatMap((p) => [p.key, p.value]) : isSeq(node) ? node.items : []

// vacuum utils.FindKeyNode: a key of the node, or any entry one level down whose value is the key (a key of
// a nested mapping, or a sequence item).
function hasKey(node, key) {
  return contentOf(node).some(
    (v, i) => (i % 2 === 0 && valueOf(v) === key) || contentOf(v).some((j) => valueOf(j) === key),
  )
}

// A true result is a finding. `pattern` (no field) tests the selected scalar; `defined` and `falsy` (field)
// report the selected mapping: falsy.go's condition holds whenever the field is found, whatever its value.
const FUNCTIONS = {
  pattern: (node, { functionOptions: { match, notMatch } }) =>
    match !== undefined ? !new RegExp(match).test(valueOf(node)) : new RegExp(notMatch).test(valueOf(node)),
  defined: (node, { field }) => !hasKey(node, field),
  falsy: (node, { field }) => hasKey(node, field),
}

// The JSONPath the rulesets use, and only that: `$`, `.key`, `..key`, `[*]` and filters `[?(@.k == 'v' || ...)]`.
function select(root, path) {
  let nodes = [root]
  const steps = /\.\.([\w-]+)|\.([\w-]+)|\[\*\]|\[\?\((.*?)\)\]/gy
  steps.lastIndex = 1
  for (let m; steps.lastIndex < path.length && (m = steps.exec(path));) {
    const [, deep, key, filter] = m
    if (deep) nodes = nodes.flatMap((n) => descendants(n, deep))
    else if (key) nodes = nodes.flatMap((n) => (isMap(n) && n.has(key) ? [n.get(key, true)] : []))
    else {
      const items = nodes.flatMap((n) => (isSeq(n) ? n.items : isMap(n) ? n.items.map((p) => p.value) : []))
      nodes = filter ? items.filter(matches(filter)) : items
    }
  }
  return nodes.filter(Boolean)
}

// The values of `key` at any depth, in document order.
function descendants(node, key) {
  if (isSeq(node)) return node.items.flatMap((n) => descendants(n, key))
  if (!isMap(node)) return []
  return node.items.flatMap((p) => [
    ...(valueOf(p.key) === key ? [p.value] : []),
    ...descendants(p.value, key),
  ])
}

function matches(filter) {
  const terms = filter.split(' || ').map((t) => /^@\.([\w-]+) == '([^']*)'$/.exec(t))
  return (n) => isMap(n) && terms.some(([, k, v]) => valueOf(n.get(k, true)) === v)
}
