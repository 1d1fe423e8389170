// S3's REST error document and the small XML bodies it reads and writes (Amazon S3 API Reference, "Error
// responses": `<Error><Code/><Message/>…<RequestId/></Error>` with an HTTP status per code). Requests carry only
// plain elements (CompleteMultipartUpload, Delete, Retention), so the reader below takes elements, text and
// the five entities and refuses anything else as S3 does, with MalformedXML.

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Further elements of the error document, e.g. Key, Condition, BadChunkSize. */
    readonly details: Record<string, string> = {},
    /** Headers sent with the error, e.g. x-amz-delete-marker on a GET of a delete marker. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/'

export function malformedXml(): S3Error {
  return new S3Error(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  )
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  )
}

/** `<name>text</name>`, escaped; nothing when the value is undefined. */
export function tag(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`
}

export function xmlDocument(root: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${body}</${root}>`
}

export interface XmlElement {
  /** Local name, without a namespace prefix. */
  name: string
  children: XmlElement[]
  /** The element's own text, entities decoded, untrimmed (keys may start or end with spaces). */
  text: string
}

/** The first child of that name, if any. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name)
}

const TOKEN =
  /<\?xml[^?]*\?>|<!--[\s\S]*?-->|<\/([A-Za-z_][\w.:-]*)\s*>|<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)/y

export function parseXml(source: string): XmlElement {
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  let at = 0
  while (at < source.length) {
    TOKEN.lastIndex = at
    const match = TOKEN.exec(source)
    if (!match) throw malformedXml()
    at = TOKEN.lastIndex
    const [whole, closing, opening, , selfClosing, text] = match
    const parent = stack[stack.length - 1]
    if (text !== undefined) {
      if (parent) parent.text += decodeEntities(text)
      else if (text.trim() !== '') throw malformedXml()
    } else if (opening !== undefined) {
      if (!parent && root) throw malformedXml()
      const element: XmlElement = { name: localName(opening), children: [], text: '' }
      if (parent) parent.children.push(element)
      else root = element
      if (!selfClosing) stack.push(element)
    } else if (closing !== undefined) {
      if (!parent || parent.name !== localName(closing)) throw malformedXml()
      stack.pop()
    } else if (whole.startsWith('<?xml') && at !== whole.length) {
      throw malformedXml()
    }
  }
  if (!root || stack.length > 0) throw malformedXml()
  return root
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1)
}

function decodeEntities(text: string): string {
  return text.replace(/&([^;]*);?/g, (entity, name: string) => {
    if (!entity.endsWith(';')) throw malformedXml()
    const named = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[name]
    if (named) return named
    const code = /^#x([0-9a-fA-F]+)$/.exec(name)?.[1] ?? /^#([0-9]+)$/.exec(name)?.[1]
    if (code === undefined) throw malformedXml()
    const point = parseInt(code, name.startsWith('#x') ? 16 : 10)
    if (point > 0x10ffff) throw malformedXml()
    return String.fromCodePoint(point)
  })
}
