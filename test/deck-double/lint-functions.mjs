// The vacuum rule functions the convert rulesets use, as daveshanley/vacuum v0.29.7 (the release deck v1.65.1's
// go.mod pins) runs them on one selected node at a time: functions/core/pattern.go, defined.go, falsy.go,
// truthy.go and schema.go, utils/field_path.go (FindFieldPath), pb33f/libopenapi v0.38.4 utils.FindKeyNode and
// FindKeyNodeTop, index/search_rolodex.go (FindNodeOrigin); the schema check after pb33f/libopenapi-validator
// v0.13.13 schema_validation/validate_schema.go and santhosh-tekuri/jsonschema v6 (one failure per failing
// value). Each function returns the nodes it reports a finding at (vacuum's StartNode).

import { isMap, isScalar, isSeq } from 'yaml'

// go-yaml's Node.Value: the scalar as written (unquoted), "" for collections.
export const valueOf = (node) => (isScalar(node) ? (node.source ?? String(node.value)) : '')
// go-yaml's Node.Content: keys and values of a mapping in turn, the items of a sequence.
const contentOf = (node) =>
  isMap(node) ? node.items.flatMap((p) => [p.key, p.value]) : isSeq(node) ? node.items : []

// utils.FindKeyNode (defined, falsy): a key of the node, or any entry one level down whose value is the key
// (a key of a nested mapping, or a sequence item).
function hasKey(node, key) {
  return contentOf(node).some(
    (v, i) => (i % 2 === 0 && valueOf(v) === key) || contentOf(v).some((j) => valueOf(j) === key),
  )
}

// utils.FindKeyNodeTop (truthy, schema): the value of a key of the node itself, compared with
// strings.EqualFold; a key without a value gives the key.
function topValue(node, key) {
  const content = contentOf(node)
  for (let i = 0; i < content.length; i += 2) {
    if (valueOf(content[i]).toLowerCase() === key.toLowerCase()) return content[i + 1] ?? content[i]
  }
  return undefined
}

// truthy.go isFalsyNode: missing, an empty collection, or a scalar written as "", "false" or "0".
const isFalsy = (node) =>
  !node || (contentOf(node).length === 0 && ['', 'false', '0'].includes(valueOf(node)))

// The JSON Schema subset the rulesets use: `type` and `additionalProperties`. The failures jsonschema
// reports, one per value that fails its own schema (the "validation failed" groups are dropped).
function schemaFailures(value, schema) {
  if (value === null || value === undefined) return 0
  if (schema.type && jsonType(value) !== schema.type) return 1
  if (schema.additionalProperties && jsonType(value) === 'object')
    return Object.values(value).reduce(
      (n, v) => n + (jsonType(v) === null ? 1 : schemaFailures(v, schema.additionalProperties)),
      0,
    )
  return 0
}

function jsonType(v) {
  if (v === null) return null
  if (Array.isArray(v)) return 'array'
  return typeof v === 'object' ? 'object' : typeof v
}

/** The functions, over one parsed input: `nodeAt(line, col)` and `firstLine` come from its node map. */
export function lintFunctions({ nodeAt, firstLine, position }) {
  return {
    pattern: (node, { functionOptions: { match, notMatch } }) =>
      (
        match !== undefined
          ? !new RegExp(match).test(valueOf(node))
          : new RegExp(notMatch).test(valueOf(node))
      )
        ? [node]
        : [],
    defined: (node, { field }) => (hasKey(node, field) ? [] : [node]),
    // falsy.go's condition holds whenever the field is found, whatever its value.
    falsy: (node, { field }) => (hasKey(node, field) ? [node] : []),
    // Reported at the selected node, or at the node on the line above whose column is the node map's first
    // line number: truthy.go indexes the line keys it sorted as a column.
    truthy: (node, { field }) => {
      if (!isFalsy(topValue(node, field))) return []
      const { line } = position(node)
      return [(line > 1 && nodeAt(line - 1, firstLine)) || node]
    },
    // Reported at the field's value, once per failure; a missing or null field is not checked.
    schema: (node, { field, functionOptions }) => {
      const value = topValue(node, field)
      if (!value) return []
      return Array(schemaFailures(value.toJSON(), functionOptions.schema)).fill(value)
    },
  }
}
