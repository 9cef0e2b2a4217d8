// Range requests on the directory origin, answered as S3 answers them behind CloudFront.

// RFC 9110 §14.1.1: int-range = first-pos "-" [ last-pos ], suffix-range = "-" suffix-length.
const INT_RANGE = /^(\d+)-(\d*)$/
const SUFFIX_RANGE = /^-\d+$/

/**
 * Whether a `Range` header is a syntactically valid bytes range-set. RFC 9110 §14.2 lets a server
 * ignore an invalid one and serve the whole representation (S3 does): an int-range whose last-pos
 * is below its first-pos (`bytes=5-2`) makes the whole set invalid, unlike an unsatisfiable one
 * (`bytes=100-` on a 10-byte file), which gets 416.
 */
export function isValidBytesRange (header: string): boolean {
  const eq = header.indexOf('=')
  if (eq === -1 || header.slice(0, eq).toLowerCase() !== 'bytes') return false
  let specs = 0
  // 1#range-spec: a list with optional whitespace around commas, where empty elements are allowed.
  for (const part of header.slice(eq + 1).split(',')) {
    const spec = part.replace(/^[ \t]+|[ \t]+$/g, '')
    if (spec === '') continue
    specs++
    const m = INT_RANGE.exec(spec)
    if (m !== null) {
      if (m[2] !== '' && BigInt(m[2] as string) < BigInt(m[1] as string)) return false
    } else if (!SUFFIX_RANGE.test(spec)) {
      return false
    }
  }
  return specs > 0
}

/** Whether a valid range set holds a suffix-range (`-500`): the one form whose meaning needs the file's size. */
export function hasSuffixRange (header: string): boolean {
  return header.slice(header.indexOf('=') + 1).split(',').some((part) => SUFFIX_RANGE.test(part.trim()))
}

/**
 * A valid range set as RFC 9110 §14.1.1 reads its suffix-ranges against a file of `size` bytes: a
 * suffix longer than the file means the whole file (`bytes=-20000` on 10,000 bytes: `bytes=0-`,
 * answered 206 `bytes 0-9999/10000`, as S3 does), which a file server that subtracts would refuse.
 * On an empty file a non-zero suffix-range is satisfiable, yet no Content-Range can name its bytes:
 * undefined then, to serve the (empty) file whole with 200, as S3 does. `-0` is left alone: unsatisfiable.
 */
export function resolveSuffixRanges (header: string, size: number): string | undefined {
  const eq = header.indexOf('=')
  let wholeEmpty = false
  const specs = header.slice(eq + 1).split(',').map((part) => {
    const spec = part.trim()
    if (!SUFFIX_RANGE.test(spec)) return part
    const length = BigInt(spec.slice(1))
    if (length === 0n) return part
    if (size === 0) wholeEmpty = true
    return length > BigInt(size) ? '0-' : part
  })
  return wholeEmpty ? undefined : `${header.slice(0, eq + 1)}${specs.join(',')}`
}

function xmlEscape (text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/[^\x20-\x7e]/g, '?')
}

/** S3's error document for an unsatisfiable range; the range is the viewer's, so it is escaped. */
export function invalidRangeXml (range: string, size: number | undefined): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRange</Code><Message>The requested range is ' +
    'not satisfiable</Message>' +
    `<RangeRequested>${xmlEscape(range.slice(0, 256))}</RangeRequested>` +
    (size !== undefined ? `<ActualObjectSize>${size}</ActualObjectSize>` : '') + '</Error>'
}
