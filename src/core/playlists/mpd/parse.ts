import { SaxesParser, type SaxesAttributeNS, type SaxesTagNS } from 'saxes'
import { FST_ERR_CF_INVALID_MPD } from '../../errors.js'

// One reader of MPD text for every tool that needs it (the mirror's rewrite, a publish-time
// check): saxes, a strict streaming XML parser, reports where each element and attribute value
// sits in the text, so a rewrite can splice values and keep every other byte. It never expands an
// entity beyond XML's five and character references; a DOCTYPE (the only way to declare one),
// processing instructions and any encoding but UTF-8 are refused before they could matter.

/**
 * The MPD namespace (ISO/IEC 23009-1). Compared case-insensitively: ffmpeg's WebM muxer writes
 * `urn:mpeg:DASH:schema:MPD:2011`.
 */
export const DASH_NAMESPACE = 'urn:mpeg:dash:schema:mpd:2011'
export const XLINK_NAMESPACE = 'http://www.w3.org/1999/xlink'

/** Whether a namespace URI is the MPD's, in any letter case. */
export function isDashNamespace (uri: string): boolean {
  return uri.length === DASH_NAMESPACE.length && uri.toLowerCase() === DASH_NAMESPACE
}

/** An attribute, its value decoded, and where its raw value sits in the text (inside the quotes). */
export interface MpdAttribute {
  readonly name: string
  readonly prefix: string
  readonly local: string
  /** Namespace URI; '' for an unprefixed attribute. */
  readonly uri: string
  readonly value: string
  readonly start: number
  readonly end: number
}

/** An element as its start tag is read. */
export interface MpdElement {
  readonly name: string
  readonly prefix: string
  readonly local: string
  readonly uri: string
  /** In the DASH namespace. */
  readonly dash: boolean
  readonly attributes: readonly MpdAttribute[]
  /** The line of its start tag (1-based). */
  readonly line: number
  /** Elements around it (0 for the root). */
  readonly depth: number
  /** Where the start tag ends (after its `>`): the content starts here. */
  readonly openEnd: number
  readonly selfClosing: boolean
}

/** An element's content, when its end tag is read. */
export interface MpdContent {
  /** The raw content: [start, end) of the text, between the tags (empty for `<a/>`). */
  readonly start: number
  readonly end: number
  /** Its text and CDATA, decoded (collected only when `open` asked for it). */
  readonly text: string
  /** Child elements. */
  readonly elements: number
}

export interface MpdHandlers {
  /** An element opens; return true to have its text collected for `close`. */
  open: (element: MpdElement) => boolean
  close: (element: MpdElement, content: MpdContent) => void
}

// C0 controls but tab and LF, a CR not before LF, DEL, C1 controls (NEL among them), and the
// Unicode line and paragraph separators: XML allows most of them, but a player's URL parser and
// this reader could read a value holding one differently. Tab is XML white space (indentation).
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]|\r(?!\n)/

/** Characters given to the parser between two looks at the clock. */
const SLICE_CHARS = 16 * 1024

function lineAt (text: string, at: number): number {
  let line = 1
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) line++
  return line
}

function fail (line: number, what: string): never {
  throw new FST_ERR_CF_INVALID_MPD(`line ${line}: ${what}`)
}

interface Open {
  element: MpdElement
  collect: boolean
  text: string
  elements: number
}

/**
 * Reads an MPD (or a remote element) in slices: `advance` until it returns true. Calls the
 * handlers in document order; throws FST_ERR_CF_INVALID_MPD with the line for text that is not
 * well-formed, namespace-well-formed XML, or holds a DOCTYPE, a processing instruction, a control
 * character or an encoding other than UTF-8.
 */
export class MpdReader {
  private readonly parser = new SaxesParser({ xmlns: true, position: true })
  private at = 0
  private readonly stack: Open[] = []
  /** Raw value spans of the start tag being read, in the order saxes pushed them. */
  private spans: Array<[string, number, number]> = []

  constructor (private readonly text: string, private readonly handlers: MpdHandlers) {
    const found = CONTROL_RE.exec(text)
    if (found !== null) {
      const code = text.charCodeAt(found.index)
      const cr = code === 13 ? ' (a CR that does not end a line)' : ''
      const hex = code.toString(16).toUpperCase().padStart(4, '0')
      fail(lineAt(text, found.index), `the control character U+${hex}${cr}: ` +
        'the mirror refuses text a player could read differently')
    }
    const p = this.parser
    p.on('error', (err) => fail(p.line, err.message.replace(/^\d+:\d+: /, '')))
    // Reported on the line it starts on (saxes reports it once read, after any internal subset).
    p.on('doctype', () => fail(lineAt(text, text.lastIndexOf('<!DOCTYPE', p.position)),
      'a DOCTYPE: the mirror refuses document type declarations (entities are never expanded)'))
    p.on('processinginstruction', (pi) => fail(p.line,
      `the processing instruction <?${pi.target}: only the XML declaration is allowed`))
    p.on('xmldecl', (decl) => {
      if (decl.encoding !== undefined && !['utf-8', 'utf8'].includes(decl.encoding.toLowerCase())) {
        fail(p.line, `the encoding "${decl.encoding}": the mirror reads and serves UTF-8`)
      }
    })
    p.on('attribute', (a) => {
      // Called as the closing quote is read: the raw value ends just before it, and cannot hold
      // its own quote character, so it starts after the previous one.
      const end = p.position - 1
      const quote = text[end] as string
      this.spans.push([a.name, text.lastIndexOf(quote, end - 1) + 1, end])
    })
    p.on('opentag', (tag) => this.open(tag as SaxesTagNS))
    p.on('closetag', (tag) => this.close(tag as SaxesTagNS))
    p.on('text', (t) => this.addText(t))
    p.on('cdata', (t) => this.addText(t))
  }

  /** Gives the parser text until it is all read (true) or `deadline` (performance.now()) has passed (false). */
  advance (deadline: number): boolean {
    const n = this.text.length
    while (this.at < n) {
      const to = Math.min(n, this.at + SLICE_CHARS)
      this.parser.write(this.text.slice(this.at, to))
      this.at = to
      if (this.at < n && performance.now() > deadline) return false
    }
    this.parser.close()
    return true
  }

  private open (tag: SaxesTagNS): void {
    const p = this.parser
    const attributes: MpdAttribute[] = []
    const spans = this.spans
    this.spans = []
    // saxes refuses a name given twice: each attribute has exactly one span.
    for (const [name, start, end] of spans) {
      const a = tag.attributes[name] as SaxesAttributeNS
      attributes.push({ name, prefix: a.prefix, local: a.local, uri: a.uri, value: a.value, start, end })
    }
    const depth = this.stack.length
    if (depth > 0) (this.stack[depth - 1] as Open).elements++
    const element: MpdElement = {
      name: tag.name,
      prefix: tag.prefix,
      local: tag.local,
      uri: tag.uri,
      dash: isDashNamespace(tag.uri),
      attributes,
      line: p.line,
      depth,
      openEnd: p.position,
      selfClosing: tag.isSelfClosing
    }
    const collect = this.handlers.open(element)
    this.stack.push({ element, collect, text: '', elements: 0 })
  }

  private close (tag: SaxesTagNS): void {
    const open = this.stack.pop() as Open
    const element = open.element
    const start = element.openEnd
    // The end tag is the last "<" before the parser's position ("<" cannot occur inside it).
    const end = tag.isSelfClosing ? start : this.text.lastIndexOf('<', this.parser.position - 1)
    this.handlers.close(element, { start, end, text: open.text, elements: open.elements })
  }

  private addText (t: string): void {
    const top = this.stack[this.stack.length - 1]
    if (top !== undefined && top.collect) top.text += t
  }
}

/** Reads a whole MPD at once (a publish-time tool, a test). */
export function readMpd (text: string, handlers: MpdHandlers): void {
  if (typeof text !== 'string') throw new FST_ERR_CF_INVALID_MPD('the MPD must be a string')
  new MpdReader(text, handlers).advance(Infinity)
}
