// The MPD rewrite on hand-written MPDs of every shape the rewrite must know (test/fixtures/mpd:
// each source with its exact expected output), read back by a strict XML parser; and what it refuses:
// DOCTYPEs (billion laughs, XXE), processing instructions, malformed XML, control characters,
// foreign namespaces, URLs out of the grant, and sources too large.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { SaxesParser, type SaxesTagNS } from 'saxes'
import { rewriteMpd, compileMpd, renderMpd, xmlQuery, readMpd } from '../../../src/core/playlists/index.js'
import { compileMpdInSlices } from '../../../src/core/playlists/mpd-rewrite.js'
import { renderPlaylistBody } from '../../../src/core/playlists/rewrite.js'

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'mpd')
const QUERY = 'Policy=P&Signature=S&Key-Pair-Id=K'
const CTX = { playlistPath: '/courses/42/dash/index.mpd', distribution: 'https://media.example.com', prefix: '/courses/42/', mirror: '/hls' }
const rewrite = (text: string, extra: Record<string, unknown> = {}): string => rewriteMpd(text, { ...CTX, query: QUERY, ...extra })

const LEAVES: Record<string, string[]> = {
  SegmentTemplate: ['media', 'initialization', 'index', 'bitstreamSwitching'],
  SegmentURL: ['media', 'index'],
  Initialization: ['sourceURL'],
  RepresentationIndex: ['sourceURL'],
  BitstreamSwitching: ['sourceURL']
}

/** Every URL value of a served MPD, read by saxes in strict mode (it throws on a bare "&"). */
function urlsOf (xml: string): Array<{ what: string, value: string }> {
  const out: Array<{ what: string, value: string }> = []
  const parser = new SaxesParser({ xmlns: true })
  const open: Array<{ local: string, text: string }> = []
  parser.on('opentag', (tag) => {
    const { local, attributes } = tag as SaxesTagNS
    for (const name of LEAVES[local] ?? []) {
      const a = attributes[name]
      if (a !== undefined) out.push({ what: `${local}@${name}`, value: a.value })
    }
    const href = Object.values(attributes).find((a) => a.local === 'href' && a.uri === 'http://www.w3.org/1999/xlink')
    if (href !== undefined) out.push({ what: `${local}@xlink:href`, value: href.value })
    open.push({ local, text: '' })
  })
  parser.on('text', (text) => { const top = open[open.length - 1]; if (top !== undefined) top.text += text })
  parser.on('cdata', (text) => { const top = open[open.length - 1]; if (top !== undefined) top.text += text })
  parser.on('closetag', () => {
    const top = open.pop()
    if (top !== undefined && ['BaseURL', 'Location', 'PatchLocation'].includes(top.local)) out.push({ what: top.local, value: top.text.trim() })
  })
  parser.write(xml).close()
  return out
}

const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.mpd') && !f.endsWith('.expected.mpd')).sort()

t.test('fixtures: every shape rewritten to the exact expected text, which a strict XML parser reads', async (t) => {
  t.ok(names.length >= 8)
  for (const name of names) {
    const source = readFileSync(join(FIXTURES, name), 'utf8')
    const expected = readFileSync(join(FIXTURES, name.replace('.mpd', '.expected.mpd')), 'utf8')
    const playlistPath = name === 'dynamic.mpd' ? '/courses/42/dash/live/index.mpd' : CTX.playlistPath
    const out = rewrite(source, { playlistPath })
    t.equal(out, expected, `${name}: exact output`)
    t.notMatch(out, /&(?!amp;|lt;|gt;|quot;|apos;|#)/, `${name}: no bare "&"`)
    const urls = urlsOf(out)
    const signed = urls.filter((u) => u.value.includes('Policy='))
    t.ok(signed.length > 0, `${name}: signed URLs`)
    for (const u of signed) t.match(u.value, /[?&]Policy=P&Signature=S&Key-Pair-Id=K(#.*)?$/, `${name}: ${u.what} ends with the whole query, decoded by the parser`)
    // The same text, less the query: every other byte kept (the spliced values are the fixtures' point).
    t.equal(out.split('Policy=P&amp;Signature=S&amp;Key-Pair-Id=K').length - 1, signed.length, `${name}: one query per signed URL`)
  }
})

t.test('which URLs carry the query, and which are left alone', async (t) => {
  const urls = (name: string, playlistPath = CTX.playlistPath): Record<string, string[]> => {
    const out: Record<string, string[]> = {}
    for (const u of urlsOf(rewrite(readFileSync(join(FIXTURES, name), 'utf8'), { playlistPath }))) (out[u.what] ??= []).push(u.value)
    return out
  }
  const template = urls('template-number.mpd')
  t.same(template['SegmentTemplate@bitstreamSwitching'], [`https://media.example.com/courses/42/dash/switch-$$-$RepresentationID$.mp4?${QUERY}`], 'a literal "$" stays "$$", the query after the identifiers')
  const dynamic = urls('dynamic.mpd', '/courses/42/dash/live/index.mpd')
  t.same(dynamic.Location, ['/hls/courses/42/live/index.mpd'], 'Location: the mirror\'s path, unsigned')
  t.same(dynamic.PatchLocation, ['/hls/courses/42/dash/live/patch.mpp?publishTime=2026-01-01T00%3A00%3A10Z'])
  t.same(dynamic['Period@xlink:href'], ['/hls/courses/42/dash/live/ads/period-1.xml', 'urn:mpeg:dash:resolve-to-zero:2013'], 'remote elements through the mirror; resolve-to-zero kept')
  const text = rewrite(readFileSync(join(FIXTURES, 'dynamic.mpd'), 'utf8'))
  t.match(text, '<dashif:laurl>https://licence.example.net/widevine?course=42</dashif:laurl>', 'a licence URL is left alone')
  t.match(text, 'value="https://time.example.com/now"', 'UTCTiming is left alone')
  t.match(rewrite(readFileSync(join(FIXTURES, 'template-number.mpd'), 'utf8')), 'moreInformationURL="https://example.org/about"', 'moreInformationURL is left alone')
  const levels = urls('base-levels.mpd')
  t.same(levels.BaseURL, [
    'https://media.example.com/courses/42/dash/media/', 'p1/', 'video/', '720p/', '../video-low/360p/', `audio/en.mp4?${QUERY}`
  ], 'the top BaseURL absolute (the MPD is served from the app), the others kept; the single file signed')
  t.same(levels['SegmentTemplate@media'], [`$Number$.m4s?${QUERY}`], 'a template under BaseURLs stays relative, with the query')
  t.same(urls('single-file.mpd').BaseURL, [`https://media.example.com/courses/42/dash/index-stream0.mp4?${QUERY}`], 'ffmpeg\'s single_file: a SegmentList of byte ranges of the BaseURL, which is the file')
  t.same(urls('segment-base.mpd').BaseURL, [`https://media.example.com/courses/42/dash/video.webm?${QUERY}`], 'SegmentBase: the BaseURL is the file')
  const service = urls('service-location.mpd')
  t.same(service['SegmentTemplate@media'], [`./$RepresentationID$/$Number$.m4s?${QUERY}`], 'kept relative across both serviceLocations; "./" before an id')
})

t.test('a template starting with $RepresentationID$ stays a path whatever the id', async (t) => {
  const mpd = (media: string): string => `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><BaseURL>v/</BaseURL><Period><AdaptationSet><SegmentTemplate media="${media}"/><Representation id="//evil.example" bandwidth="1"/></AdaptationSet></Period></MPD>`
  const out = rewrite(mpd('$RepresentationID$/$Number$.m4s'))
  t.match(out, 'media="./$RepresentationID$/$Number$.m4s?Policy=P&amp;')
  // What a player does with it: the id substituted, resolved against the BaseURL.
  const played = new URL(`./${'//evil.example'}/1.m4s`, 'https://media.example.com/courses/42/dash/v/')
  t.equal(played.host, 'media.example.com', 'still the CDN')
  t.match(rewrite(mpd('/courses/42/$RepresentationID$/$Number$.m4s')), 'media="https://media.example.com/courses/42/$RepresentationID$/$Number$.m4s?Policy=P&amp;', 'an absolute path is written absolute (the host fixed)')
  t.match(rewrite(mpd('seg-$RepresentationID$.m4s')), 'media="./seg-$RepresentationID$.m4s?', 'an id anywhere in the first segment')
  t.match(rewrite(mpd('x/$RepresentationID$.m4s')), 'media="x/$RepresentationID$.m4s?', 'an id after the first "/": kept as written')
})

t.test('a "$" in the MPD\'s own path is literal: "$$" in a template written absolute, checked against the prefix', async (t) => {
  const mpd = '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><SegmentTemplate media="$Number$.m4s"/><SegmentList><SegmentURL media="a.m4s"/></SegmentList><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>'
  const out = rewrite(mpd, { playlistPath: '/courses/4$2/x.mpd', prefix: '/courses/4$2/' })
  t.match(out, 'media="https://media.example.com/courses/4$$2/$Number$.m4s?Policy=')
  t.match(out, 'media="https://media.example.com/courses/4$2/a.m4s?Policy=', 'a SegmentURL is no template: "$" as it is')
})

t.test('compiled once, rendered per user: the same text; the lifetime and reload time', async (t) => {
  const source = readFileSync(join(FIXTURES, 'template-number.mpd'), 'utf8')
  const compiled = compileMpd(source, CTX)
  t.equal(compiled.signed, 4)
  t.equal(compiled.xml, true)
  t.equal(compiled.duration, 4)
  t.equal(compiled.immutable, true)
  t.equal(renderMpd(compiled, QUERY), rewrite(source))
  t.equal(renderPlaylistBody(compiled, xmlQuery(QUERY)).toString(), rewrite(source), 'the mirror\'s body')
  const sliced = await compileMpdInSlices(source, CTX)
  t.same(sliced.chunks, compiled.chunks)
  const live = compileMpd(readFileSync(join(FIXTURES, 'dynamic.mpd'), 'utf8'), CTX)
  t.equal(live.immutable, false, 'a dynamic MPD is loaded again')
  t.equal(live.targetDuration, 2, 'after minimumUpdatePeriod')
  const once = compileMpd('<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"><Period/></MPD>', CTX)
  t.equal(once.immutable, true, 'dynamic without minimumUpdatePeriod: the MPD does not change')
  t.equal(once.signed, 0)
  t.equal(renderMpd(once, QUERY), '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"><Period/></MPD>')
  t.throws(() => rewrite(source, { query: 'Policy=P&Signature=S$' }), { code: 'FST_ERR_CF_INVALID_OPTION' }, 'a query that is not a signed query')
  t.throws(() => xmlQuery('a"b'), { code: 'FST_ERR_CF_INVALID_OPTION' })
})

const NS = 'xmlns="urn:mpeg:dash:schema:mpd:2011"'
const BODY = '<Period><AdaptationSet><SegmentTemplate media="$Number$.m4s"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>'
const VALID = `<MPD ${NS}>${BODY}</MPD>`

t.test('refused: DOCTYPE (billion laughs, XXE), processing instructions, malformed XML, other encodings', async (t) => {
  const laughs = '<?xml version="1.0"?>\n<!DOCTYPE MPD [\n<!ENTITY lol "lol">\n' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('\n') +
    `\n]>\n<MPD ${NS}><Period><AdaptationSet><SegmentTemplate media="&lol9;$Number$.m4s"/></AdaptationSet></Period></MPD>`
  const xxe = `<?xml version="1.0"?>\n<!DOCTYPE MPD [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<MPD ${NS}><BaseURL>&xxe;</BaseURL>${BODY}</MPD>`
  const cases: Array<[string, string, RegExp]> = [
    ['billion laughs', laughs, /^Invalid DASH MPD: line 2: a DOCTYPE/],
    ['XXE', xxe, /line 2: a DOCTYPE/],
    ['a bare DOCTYPE', `<!DOCTYPE MPD>\n<MPD ${NS}>${BODY}</MPD>`, /line 1: a DOCTYPE/],
    ['an undeclared entity', `<MPD ${NS}>\n<BaseURL>&xxe;</BaseURL>${BODY}</MPD>`, /line 2: .*undefined entity/i],
    ['a stylesheet PI', `<?xml version="1.0"?>\n<?xml-stylesheet href="x.xsl"?>\n${VALID}`, /line 2: the processing instruction <\?xml-stylesheet/],
    ['a PI in the body', `<MPD ${NS}>\n<?php echo 1 ?>${BODY}</MPD>`, /line 2: the processing instruction <\?php/],
    ['an unclosed element', `<MPD ${NS}>\n<Period>\n</MPD>`, /line 3: unexpected close tag/],
    ['a bare "&"', `<MPD ${NS}>\n<BaseURL>a?b=1&c=2</BaseURL>${BODY}</MPD>`, /line 2: /],
    ['an unbound prefix', `<mpd:MPD>${BODY}</mpd:MPD>`, /line 1: .*prefix/],
    ['two roots', `${VALID}\n<MPD ${NS}/>`, /line 2: /],
    ['text', 'not xml', /line 1: /],
    ['nothing', '', /document must contain a root element/],
    ['latin-1', `<?xml version="1.0" encoding="ISO-8859-1"?>\n${VALID}`, /line 1: the encoding "ISO-8859-1"/]
  ]
  for (const [name, text, message] of cases) {
    t.throws(() => rewrite(text), { code: 'FST_ERR_CF_INVALID_MPD', statusCode: 502, message }, name)
  }
  t.doesNotThrow(() => rewrite(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- a comment -->\n${VALID}`), 'the XML declaration and comments are fine')
  t.doesNotThrow(() => rewrite(`\uFEFF${VALID}`), 'a byte order mark')
  t.throws(() => rewriteMpd(42 as unknown as string, { ...CTX, query: QUERY }), { code: 'FST_ERR_CF_INVALID_MPD' })
  t.throws(() => readMpd(null as unknown as string, { open: () => false, close: () => {} }), { code: 'FST_ERR_CF_INVALID_MPD' })
})

t.test('refused: control characters anywhere, and in a decoded URL value', async (t) => {
  const cases: Array<[string, string]> = [
    ['lone CR', `<MPD ${NS}>\r<BaseURL>a/</BaseURL>${BODY}</MPD>`],
    ['NEL', `<MPD ${NS}><BaseURL>a/\u0085https://evil.example/</BaseURL>${BODY}</MPD>`],
    ['DEL', `<MPD ${NS}><BaseURL>a\u007f/</BaseURL>${BODY}</MPD>`],
    ['U+2028', `<MPD ${NS}><BaseURL>a/\u2028</BaseURL>${BODY}</MPD>`],
    ['ESC', `<MPD ${NS}>\u001b${BODY}</MPD>`]
  ]
  for (const [name, text] of cases) t.throws(() => rewrite(text), { code: 'FST_ERR_CF_INVALID_MPD', message: /line 1: the control character U\+/ }, name)
  for (const ref of ['&#10;', '&#9;', '&#13;', '&#x85;', '&#x2028;']) {
    t.throws(() => rewrite(`<MPD ${NS}>\n<Period><AdaptationSet><SegmentTemplate media="a${ref}https://evil.example/$Number$.m4s"/></AdaptationSet></Period></MPD>`),
      { code: 'FST_ERR_CF_INVALID_MPD', message: /line 2: media holds a control character/ }, ref)
  }
  t.doesNotThrow(() => rewrite(`<MPD ${NS}>\r\n\t${BODY}\r\n</MPD>\r\n`), 'CRLF and tab indentation are fine')
})

t.test('namespaces: the MPD\'s in any case, prefixed or not; an unknown one refused; DASH names elsewhere refused', async (t) => {
  t.match(rewrite(`<MPD xmlns="urn:mpeg:DASH:schema:MPD:2011">${BODY}</MPD>`), 'media="https://media.example.com/courses/42/dash/$Number$.m4s?Policy=P&amp;', 'ffmpeg\'s upper case: rewritten')
  t.match(rewrite('<d:MPD xmlns:d="urn:mpeg:dash:schema:mpd:2011"><d:Period><d:AdaptationSet><d:SegmentTemplate media="x.m4s"/></d:AdaptationSet></d:Period></d:MPD>'), 'media="https://media.example.com/courses/42/dash/x.m4s?Policy=')
  const refused: Array<[string, string, RegExp]> = [
    ['no namespace', `<MPD>${BODY}</MPD>`, /line 1: the root element <MPD> is in the namespace ""/],
    ['the 2001 draft', `<MPD xmlns="urn:mpeg:DASH:schema:MPD:2010">${BODY}</MPD>`, /namespace "urn:mpeg:DASH:schema:MPD:2010"/],
    ['another root', `<Patch ${NS}/>`, /the root element is <Patch>/],
    ['a DASH element in no namespace', `<MPD ${NS}>\n<Period><AdaptationSet><SegmentTemplate xmlns="" media="x.m4s"/></AdaptationSet></Period></MPD>`, /line 2: <SegmentTemplate> is in the namespace ""/],
    ['a DASH element under another prefix', `<MPD ${NS} xmlns:o="urn:other"><Period><o:BaseURL>https://evil.example/</o:BaseURL></Period></MPD>`, /<o:BaseURL> is in the namespace "urn:other"/],
    ['a prefixed leaf attribute', `<MPD ${NS} xmlns:o="urn:other"><Period><AdaptationSet><SegmentTemplate o:media="x.m4s"/></AdaptationSet></Period></MPD>`, /<SegmentTemplate> has o:media/]
  ]
  for (const [name, text, message] of refused) t.throws(() => rewrite(text), { code: 'FST_ERR_CF_INVALID_MPD', message }, name)
  t.doesNotThrow(() => rewrite(`<MPD ${NS} xmlns:o="urn:other"><o:Note>x</o:Note>${BODY}</MPD>`), 'other elements in other namespaces are kept')
  t.match(rewrite(`<Period ${NS}><AdaptationSet><SegmentTemplate media="x.m4s"/></AdaptationSet></Period>`), 'x.m4s?Policy=', 'a remote Period (xlink) is read too')
})

t.test('URLs out of the grant: refused naming the element and line, or kept unsigned with outside: keep', async (t) => {
  const cases: Array<[string, string, RegExp, string]> = [
    ['another host', `<MPD ${NS}>\n<Period><AdaptationSet><SegmentTemplate media="https://evil.example/courses/42/$Number$.m4s"/></AdaptationSet></Period></MPD>`,
      /line 2: SegmentTemplate@media "https:\/\/evil\.example/, 'media="https://evil.example/courses/42/$Number$.m4s"'],
    ['../ out of the prefix', `<MPD ${NS}>\n<Period><AdaptationSet><SegmentList><SegmentURL media="../../43/a.m4s"/></SegmentList></AdaptationSet></Period></MPD>`,
      /line 2: SegmentURL@media "\.\.\/\.\.\/43\/a\.m4s" resolves to "https:\/\/media\.example\.com\/courses\/43\/a\.m4s"/, 'media="https://media.example.com/courses/43/a.m4s"'],
    ['a BaseURL elsewhere', `<MPD ${NS}>\n<BaseURL>https://evil.example/</BaseURL>\n<Period><AdaptationSet><SegmentTemplate media="$Number$.m4s"/></AdaptationSet></Period></MPD>`,
      /line 3: SegmentTemplate@media "\$Number\$\.m4s" resolves to "https:\/\/evil\.example\/\$Number\$\.m4s"/, 'media="$Number$.m4s"'],
    ['a single file elsewhere', `<MPD ${NS}>\n<BaseURL>https://evil.example/</BaseURL><Period><AdaptationSet><Representation id="a" bandwidth="1">\n<BaseURL>a.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>`,
      /line 3: BaseURL "a\.mp4"/, '<BaseURL>a.mp4</BaseURL>'],
    ['a top single file elsewhere', `<MPD ${NS}><Period><AdaptationSet><Representation id="a" bandwidth="1">\n<BaseURL>../../43/a.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>`,
      /line 2: BaseURL/, '<BaseURL>https://media.example.com/courses/43/a.mp4</BaseURL>'],
    ['one serviceLocation elsewhere', `<MPD ${NS}>\n<BaseURL>https://media.example.com/courses/42/</BaseURL><BaseURL>https://evil.example/</BaseURL><Period><AdaptationSet><SegmentTemplate media="$Number$.m4s"/></AdaptationSet></Period></MPD>`,
      /resolves to "https:\/\/evil\.example\/\$Number\$\.m4s"/, 'media="$Number$.m4s"'],
    ['an xlink elsewhere', `<MPD ${NS} xmlns:xlink="http://www.w3.org/1999/xlink">\n<Period xlink:href="https://evil.example/p.xml"/></MPD>`,
      /line 2: Period@xlink:href/, 'xlink:href="https://evil.example/p.xml"'],
    ['a Location elsewhere', `<MPD ${NS}>\n<Location>https://evil.example/x.mpd</Location>${BODY}</MPD>`, /line 2: Location/, '<Location>https://evil.example/x.mpd</Location>']
  ]
  for (const [name, text, message, kept] of cases) {
    t.throws(() => rewrite(text), { code: 'FST_ERR_CF_MPD_OUTSIDE', statusCode: 502, message }, `${name}: refused`)
    const out = rewrite(text, { outside: 'keep' })
    t.match(out, kept, `${name}: kept`)
    t.notMatch(out.replace(/[^\n]*courses\/42\/[^\n]*Policy=[^\n]*/g, ''), /evil\.example[^"<]*Policy=|courses\/43[^"<]*Policy=/, `${name}: the query never goes out of the grant`)
  }
})

t.test('refused: shapes the mirror cannot sign safely, and sizes past the bounds', async (t) => {
  const mixed = `<MPD ${NS}><Period><AdaptationSet>\n<SegmentTemplate media="$Number$.m4s"/><Representation id="a" bandwidth="1"><BaseURL>a/</BaseURL></Representation><Representation id="b" bandwidth="1"/></AdaptationSet></Period></MPD>`
  t.throws(() => rewrite(mixed), { code: 'FST_ERR_CF_INVALID_MPD', message: /line 2: SegmentTemplate@media .* some Representations and against the MPD's URL for others/ })
  const based = mixed.replace('<Representation id="b" bandwidth="1"/>', '<Representation id="b" bandwidth="1"><BaseURL>b/</BaseURL></Representation>')
  t.match(rewrite(based), 'media="$Number$.m4s?Policy=', 'every Representation with its BaseURL: kept relative')
  t.match(rewrite(based), '<BaseURL>https://media.example.com/courses/42/dash/a/</BaseURL>')
  t.throws(() => rewrite(`<MPD ${NS}>\n<BaseURL/>${BODY}</MPD>`), { code: 'FST_ERR_CF_INVALID_MPD', message: /line 2: <BaseURL\/> is empty/ })
  t.throws(() => rewrite(`<MPD ${NS}>\n<BaseURL>a<b/></BaseURL>${BODY}</MPD>`), { code: 'FST_ERR_CF_INVALID_MPD', message: /line 2: <BaseURL> holds elements/ })
  t.match(rewrite(`<MPD ${NS}><BaseURL></BaseURL>${BODY}</MPD>`), '<BaseURL>https://media.example.com/courses/42/dash/index.mpd</BaseURL>', 'an empty BaseURL is the MPD\'s URL, written absolute')
  const many = (n: number): string => `<MPD ${NS}>${'<BaseURL>a/</BaseURL>'.repeat(n)}<Period>${'<BaseURL>b/</BaseURL>'.repeat(n)}<AdaptationSet><SegmentTemplate media="$Number$.m4s"/><Representation id="a" bandwidth="1"/></AdaptationSet></Period></MPD>`
  t.throws(() => rewrite(many(9)), { code: 'FST_ERR_CF_INVALID_MPD', message: /81 BaseURL alternatives/ })
  t.doesNotThrow(() => rewrite(many(8)), '64 alternatives')
  const list = (n: number): string => `<MPD ${NS}><Period><AdaptationSet><SegmentList>${'<SegmentURL media="s.m4s"/>'.repeat(n)}</SegmentList></AdaptationSet></Period></MPD>`
  t.doesNotThrow(() => rewriteMpd(list(101), { ...CTX, query: QUERY }), 'the default bound (10,000)')
  t.throws(() => compileMpd(list(101), CTX, { maxUris: 100 }), { code: 'FST_ERR_CF_PLAYLIST_TOO_LARGE', message: /more than 100 URIs/ })
  t.equal(compileMpd(list(100), CTX, { maxUris: 100 }).signed, 100)
  await t.rejects(compileMpdInSlices(list(101), CTX, { maxUris: 100 }), { code: 'FST_ERR_CF_PLAYLIST_TOO_LARGE' })
  await t.rejects(compileMpdInSlices(42 as unknown as string, CTX), { code: 'FST_ERR_CF_INVALID_MPD' })
  await t.rejects(compileMpdInSlices(VALID, { ...CTX, prefix: 'x' }), { code: 'FST_ERR_CF_INVALID_OPTION' })
  t.throws(() => rewrite(`<MPD ${NS}><Period><AdaptationSet><SegmentTemplate media="http://[x/$Number$.m4s"/></AdaptationSet></Period></MPD>`), { code: 'FST_ERR_CF_INVALID_MPD', message: /cannot be resolved/ })
})

t.test('already signed, data: and fragments: kept as they are', async (t) => {
  const out = rewrite(`<MPD ${NS}><Period><AdaptationSet><SegmentList>` +
    '<Initialization sourceURL="data:video/mp4;base64,AAAA"/><SegmentURL media="a.m4s?Policy=X&amp;Signature=Y&amp;Key-Pair-Id=Z"/><SegmentURL media="b.m4s?"/><SegmentURL media="c.m4s#t=1"/>' +
    '</SegmentList></AdaptationSet></Period></MPD>')
  t.match(out, 'sourceURL="data:video/mp4;base64,AAAA"')
  t.match(out, 'media="https://media.example.com/courses/42/dash/a.m4s?Policy=X&amp;Signature=Y&amp;Key-Pair-Id=Z"/>')
  t.match(out, `media="https://media.example.com/courses/42/dash/b.m4s?${xmlQuery(QUERY)}"`)
  t.match(out, `media="https://media.example.com/courses/42/dash/c.m4s?${xmlQuery(QUERY)}#t=1"`)
})
