// deck's ${{ env "DECK_X" }} templating (GDR pkg/file/template.go): a Go text/template with the
// delimiters ${{ }} and the functions env, toBool, toInt, toFloat and indent. This implements the
// pipelines those functions are used in, with text/template's error texts and positions.

import { DeckError, goQuote } from './gostr.mjs'

export class TemplateError extends DeckError {}

const NAME = 'state'
const FUNCS = ['env', 'toBool', 'toInt', 'toFloat', 'indent']
const BUILTINS = [
  'and',
  'call',
  'html',
  'index',
  'slice',
  'js',
  'len',
  'not',
  'or',
  'print',
  'printf',
  'println',
  'urlquery',
  'eq',
  'ge',
  'gt',
  'le',
  'lt',
  'ne',
]
const KEYWORDS = ['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']

const byteLen = (s) => Buffer.byteLength(s)

// ---- lexing and parsing of one action ----

function lineOf(text, pos) {
  return 1 + (text.slice(0, pos).match(/\n/g)?.length ?? 0)
}

function parseError(text, pos, msg) {
  return new TemplateError(`template: ${NAME}:${lineOf(text, pos)}: ${msg}`)
}

// Go string literal (strconv.Unquote) for the escapes templates use.
function unquote(lit) {
  if (lit.startsWith('`')) return lit.slice(1, -1)
  return JSON.parse(
    lit
      .replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')
      .replace(/\\'/g, "'")
      .replace(/\\a/g, '\\u0007')
      .replace(/\\v/g, '\\u000b'),
  )
}

function tokenize(text, start, end) {
  const tokens = []
  let i = start
  while (i < end) {
    const c = text[i]
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === '"' || c === '`') {
      let j = i + 1
      while (j < end && text[j] !== c) j += text[j] === '\\' && c === '"' ? 2 : 1
      if (j >= end)
        throw parseError(text, i, c === '"' ? 'unterminated quoted string' : 'unterminated raw quoted string')
      tokens.push({ type: 'string', text: text.slice(i, j + 1), pos: i })
      i = j + 1
    } else if (/[0-9]/.test(c) || (/[-+]/.test(c) && /[0-9.]/.test(text[i + 1] ?? ''))) {
      // text/template's lexer: a digit always starts a number (`indent 4`), a sign only before a digit or a dot.
      const m = /^[-+]?(0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+([eE][-+]?[0-9]+)?)/.exec(text.slice(i, end))
      tokens.push({ type: 'number', text: m[0], pos: i })
      i += m[0].length
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, end))
      tokens.push({ type: 'ident', text: m[0], pos: i })
      i += m[0].length
    } else if ('()|'.includes(c)) {
      tokens.push({ type: c, text: c, pos: i })
      i++
    } else if (c === '.' || c === '$') {
      throw new TemplateError(`deck double: template fields and variables (${goQuote(c)}) are not emulated`)
    } else {
      throw parseError(text, i, `unexpected ${goQuote(c)} in command`)
    }
  }
  return tokens
}

function parsePipeline(text, tokens, k, closer) {
  const commands = []
  let args = []
  const pos = tokens[k]?.pos
  for (; k < tokens.length; k++) {
    const t = tokens[k]
    if (t.type === ')' && closer === ')') break
    if (t.type === ')') throw parseError(text, t.pos, 'unexpected ")" in command')
    if (t.type === '|') {
      if (args.length === 0) throw parseError(text, t.pos, 'missing value for command')
      commands.push({ args, pos: args[0].pos })
      args = []
      continue
    }
    if (t.type === '(') {
      const inner = parsePipeline(text, tokens, k + 1, ')')
      if (tokens[inner.next]?.type !== ')') throw parseError(text, t.pos, 'unclosed left paren')
      args.push({ type: 'pipe', pipe: inner.pipe, pos: t.pos, text: `(${pipeString(inner.pipe)})` })
      k = inner.next
      continue
    }
    if (t.type === 'ident') {
      if (KEYWORDS.includes(t.text)) {
        throw new TemplateError(`deck double: template keyword ${goQuote(t.text)} is not emulated`)
      }
      if (!['true', 'false', 'nil'].includes(t.text) && !FUNCS.includes(t.text)) {
        if (BUILTINS.includes(t.text)) {
          throw new TemplateError(`deck double: template function ${goQuote(t.text)} is not emulated`)
        }
        throw parseError(text, t.pos, `function ${goQuote(t.text)} not defined`)
      }
    }
    args.push(t)
  }
  if (args.length) commands.push({ args, pos: args[0].pos })
  else if (commands.length) throw parseError(text, tokens[k - 1].pos, 'missing value for command')
  return { pipe: { commands, pos }, next: k }
}

const argString = (a) => (a.type === 'pipe' ? a.text : a.text)
const cmdString = (cmd) => cmd.args.map(argString).join(' ')
const pipeString = (pipe) => pipe.commands.map(cmdString).join(' | ')

/** Splits the template into text and actions, as text/template's lexer does with ${{ }}. */
function parse(text) {
  const nodes = []
  let i = 0
  while (i < text.length) {
    const open = text.indexOf('${{', i)
    if (open < 0) {
      nodes.push({ type: 'text', text: text.slice(i) })
      break
    }
    let before = text.slice(i, open)
    let start = open + 3
    if (/^-[ \t\r\n]/.test(text.slice(start, start + 2))) {
      before = before.replace(/[ \t\r\n]+$/, '')
      start += 1
    }
    nodes.push({ type: 'text', text: before })
    if (text.startsWith('/*', start) || text.slice(start).trimStart().startsWith('/*')) {
      const close = text.indexOf('*/', start)
      const end = close < 0 ? -1 : text.indexOf('}}', close)
      if (close < 0) throw parseError(text, open, 'unclosed comment')
      if (end < 0) throw parseError(text, open, 'comment ends before closing delimiter')
      i = end + 2
      continue
    }
    // The action ends at the first }} outside a quoted string.
    let j = start
    let end = -1
    while (j < text.length) {
      const c = text[j]
      if (c === '"' || c === '`') {
        let k = j + 1
        while (k < text.length && text[k] !== c) {
          if (c === '"' && text[k] === '\n') break
          k += text[k] === '\\' && c === '"' ? 2 : 1
        }
        j = k + 1
        continue
      }
      if (text.startsWith('}}', j)) {
        end = j
        break
      }
      j++
    }
    if (end < 0) throw parseError(text, open, 'unclosed action')
    let actionEnd = end
    let after = end + 2
    if (/[ \t\r\n]-$/.test(text.slice(end - 2, end))) {
      actionEnd = end - 1
      const rest = text.slice(after)
      after += rest.length - rest.replace(/^[ \t\r\n]+/, '').length
    }
    const tokens = tokenize(text, start, actionEnd)
    if (tokens.length === 0) throw parseError(text, open, 'missing value for command')
    const { pipe } = parsePipeline(text, tokens, 0, null)
    nodes.push({ type: 'action', pipe })
    i = after
  }
  return nodes
}

// ---- execution ----

function location(text, pos) {
  const before = text.slice(0, pos)
  const nl = before.lastIndexOf('\n')
  const column = nl < 0 ? byteLen(before) : byteLen(before.slice(nl + 1))
  return `${NAME}:${lineOf(text, pos)}:${column}`
}

function execError(text, node, msg) {
  return new TemplateError(
    `template: ${location(text, node.pos)}: executing ${goQuote(NAME)} at <${node.context}>: ${msg}`,
  )
}

const typeName = (v) =>
  typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : v?.float ? 'float64' : 'int'

// fmt's %v for a float64.
function goFloatV(v) {
  if (v === 0) return '0'
  const [mantissa, e] = v.toExponential().split('e')
  const exp = Number(e)
  if (exp < -4 || exp >= 21)
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  return String(v)
}

function printValue(v) {
  if (v === null || v === undefined) return '<no value>'
  if (typeof v === 'object' && v.float) return goFloatV(v.value)
  return String(v)
}

const GO_INT = /^[-+]?[0-9]+$/

function callFunction(name, args, env) {
  switch (name) {
    case 'env': {
      const key = args[0]
      if (!key.startsWith('DECK_')) {
        throw new Error(
          `environment variables in the state file must be prefixed with 'DECK_', found: '${key}'`,
        )
      }
      if (!(key in env)) throw new Error(`environment variable '${key}' present in state file but not set`)
      return env[key]
    }
    case 'toBool': {
      const s = args[0]
      if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
      if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
      throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`)
    }
    case 'toInt': {
      const s = args[0]
      if (!GO_INT.test(s)) throw new Error(`strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`)
      const n = BigInt(s)
      if (n > 9223372036854775807n || n < -9223372036854775808n) {
        throw new Error(`strconv.Atoi: parsing ${goQuote(s)}: value out of range`)
      }
      return Number(n)
    }
    case 'toFloat': {
      const s = args[0]
      const t = s.replace(/_/g, '')
      if (
        !/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|[iI]nf(inity)?|NaN|0[xX][0-9a-fA-F.]+[pP][-+]?\d+)$/.test(
          t,
        )
      ) {
        throw new Error(`strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`)
      }
      return { float: true, value: Number(t) }
    }
    case 'indent': {
      const [spaces, v] = args
      return v.replaceAll('\n', '\n' + ' '.repeat(Math.max(spaces, 0)))
    }
  }
  throw new Error(`unknown function ${name}`)
}

const PARAMS = {
  env: ['string'],
  toBool: ['string'],
  toInt: ['string'],
  toFloat: ['string'],
  indent: ['int', 'string'],
}

function evalArg(text, arg, type, env) {
  const context = argString(arg)
  if (arg.type === 'pipe') {
    const v = evalPipe(text, arg.pipe, env)
    return checkType(text, { pos: arg.pos, context }, v, type)
  }
  if (arg.type === 'ident' && FUNCS.includes(arg.text)) {
    const v = evalCommand(text, { args: [arg], pos: arg.pos }, undefined, env)
    return checkType(text, { pos: arg.pos, context }, v, type)
  }
  const node = { pos: arg.pos, context }
  if (type === 'string') {
    if (arg.type === 'string') return unquote(arg.text)
    throw execError(text, node, `expected string; found ${context}`)
  }
  if (arg.type === 'number' && /^[-+]?[0-9]+$/.test(arg.text)) return Number(arg.text)
  throw execError(text, node, `expected integer; found ${context}`)
}

function checkType(text, node, v, type) {
  const got = typeName(v)
  if ((type === 'string' && got !== 'string') || (type === 'int' && got !== 'int')) {
    throw execError(text, node, `wrong type for value; expected ${type}; got ${got}`)
  }
  return v
}

function evalCommand(text, cmd, final, env) {
  const [head, ...rest] = cmd.args
  const context = cmdString(cmd)
  if (head.type !== 'ident' || !FUNCS.includes(head.text)) {
    if (rest.length > 0 || final !== undefined) {
      throw execError(
        text,
        { pos: head.pos, context: argString(head) },
        `can't give argument to non-function ${argString(head)}`,
      )
    }
    if (head.type === 'pipe') return evalPipe(text, head.pipe, env)
    if (head.type === 'string') return unquote(head.text)
    if (head.type === 'number')
      return /[.eE]/.test(head.text) ? { float: true, value: Number(head.text) } : Number(head.text)
    if (head.text === 'nil') throw execError(text, { pos: head.pos, context: 'nil' }, 'nil is not a command')
    return head.text === 'true'
  }
  const name = head.text
  const params = PARAMS[name]
  const count = rest.length + (final === undefined ? 0 : 1)
  if (count !== params.length) {
    throw execError(
      text,
      { pos: head.pos, context: name },
      `wrong number of args for ${name}: want ${params.length} got ${count}`,
    )
  }
  const args = rest.map((a, i) => evalArg(text, a, params[i], env))
  if (final !== undefined)
    args.push(checkType(text, { pos: head.pos, context: name }, final, params[params.length - 1]))
  try {
    return callFunction(name, args, env)
  } catch (err) {
    throw execError(text, { pos: cmd.pos, context }, `error calling ${name}: ${err.message}`)
  }
}

function evalPipe(text, pipe, env) {
  let value
  for (const cmd of pipe.commands) value = evalCommand(text, cmd, value, env)
  return value
}

const EXPR = /\$\{\{[^}]*\}\}/g

/** GDR's renderTemplate(content, EnvVarsExpand). Throws TemplateError with text/template's message. */
export function renderTemplate(content, env) {
  // Expressions on YAML comment lines are kept verbatim, not evaluated.
  const placeholders = new Map()
  let counter = 0
  const text = content
    .split('\n')
    .map((line) => {
      if (!line.trim().startsWith('#')) return line
      return line.replace(EXPR, (m) => {
        const ph = `__NO_MATCH__${counter++}__`
        placeholders.set(ph, m)
        return ph
      })
    })
    .join('\n')
  let out = ''
  for (const node of parse(text)) {
    out += node.type === 'text' ? node.text : printValue(evalPipe(text, node.pipe, env))
  }
  for (const [ph, orig] of placeholders) out = out.replaceAll(ph, orig)
  return out
}
