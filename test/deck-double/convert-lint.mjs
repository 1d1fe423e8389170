// The lint pass `deck file convert` runs after the 2.8 -> 3.4, 3.4 -> 3.10 and 3.10 -> 3.14 hops. Sources:
// Kong/deck convert/convert.go (Convert: the input file read again from disk, linted with the hop's embedded
// ruleset, fail severity "error", format "plain") and lint/lint.go (WithContent, GetLintOutput) at v1.65.1
// (at v1.47.0 for the ruleset read from the working directory, at v1.63.0 for the empty-file warning);
// the rule functions of daveshanley/vacuum, the linter deck bundles, are in lint-functions.mjs and the rules
// themselves in convert-lint-rules.yaml.

import { existsSync, readFileSync, statSync } from 'node:fs'

import { isMap, isSeq, LineCounter, parse, parseDocument } from 'yaml'

import { yellow } from './commands.mjs'
import { DeckError } from './gostr.mjs'
import { lintFunctions, valueOf } from './lint-functions.mjs'
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
  const position = (node) => lineCounter.linePos(node.range[0])
  const functions = lintFunctions({ ...nodeMap(root, position), position })
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
          for (const at of functions[action.function](node, action)) {
            const { line, col } = position(at)
            findings.push(`[${rule.severity}][${line}:${col}] ${rule.message}\n`)
          }
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

// libopenapi's node map (index/map_index_nodes.go): every node by line and column, a collection winning over
// the first key or item that starts where it does.
function nodeMap(root, position) {
  const byPosition = new Map()
  let firstLine = Infinity
  const visit = (node) => {
    if (!node) return
    const children = isMap(node) ? node.items.flatMap((p) => [p.key, p.value]) : isSeq(node) ? node.items : []
    children.forEach(visit)
    const { line, col } = position(node)
    byPosition.set(`${line}:${col}`, node)
    firstLine = Math.min(firstLine, line)
  }
  visit(root)
  return { nodeAt: (line, col) => byPosition.get(`${line}:${col}`), firstLine }
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
