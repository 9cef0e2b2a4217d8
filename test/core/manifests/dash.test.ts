// The publish-time template for DASH (Annex I URL parameters), on the mirror's MPD reader.
import t from 'tap'
import { templateMpd, URLPARAM_PROPERTY } from '../../../src/core/manifests/index.js'

const settings = { keyPairId: 'K2JCJMDEHXQW5F' }

const MPD = (body: string, root = '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S">'): string => `<?xml version="1.0" encoding="utf-8"?>
${root}
  <Period id="0">
    <AdaptationSet contentType="video">
${body}
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="https://time.example.com/"/>
</MPD>
`

const TEMPLATE = '      <Representation id="v0" bandwidth="1000"><SegmentTemplate initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1" duration="1"/></Representation>'

t.test('the Annex I property at MPD level, after the periods and before UTCTiming, every other byte kept', async (t) => {
  const out = templateMpd(MPD(TEMPLATE), 'c/manifest.mpd', settings)
  t.equal(out.text, MPD(TEMPLATE).replace('  </Period>\n', `  </Period>\n  ${URLPARAM_PROPERTY}\n`))
  t.equal(URLPARAM_PROPERTY, '<SupplementalProperty schemeIdUri="urn:mpeg:dash:urlparam:2014"><up:UrlQueryInfo xmlns:up="urn:mpeg:dash:schema:urlparam:2014" queryTemplate="$querypart$" useMPDUrlQuery="true"/></SupplementalProperty>')
  t.equal(out.uris, 2)
  t.equal(out.changed, true)
  const once = templateMpd(out.text, 'c/manifest.mpd', settings)
  t.equal(once.text, out.text, 'templated twice: the same text')
  t.equal(once.changed, false)
  t.equal(templateMpd(out.text, 'c/manifest.mpd', { keyPairId: 'K3NEWKEY000000' }).text, out.text, 'no key in an MPD: nothing to change for another')
})

t.test('a prefixed MPD on one line', async (t) => {
  const text = '<dash:MPD xmlns:dash="urn:mpeg:dash:schema:mpd:2011"><dash:Period><dash:BaseURL>video/</dash:BaseURL></dash:Period></dash:MPD>'
  t.equal(templateMpd(text, 'm.mpd', settings).text, text.replace('</dash:Period>', '</dash:Period>' + URLPARAM_PROPERTY))
})

t.test('BaseURLs and every segment URL checked: below the folder, on the distribution', async (t) => {
  const refused: Array<[string, RegExp, Record<string, string>?]> = [
    ['<BaseURL>../</BaseURL>', /BaseURL "\.\.\/" climbs with "\.\."/],
    ['<Representation id="a" bandwidth="1"><BaseURL>sub/</BaseURL><SegmentList><SegmentURL media="../../x.m4s"/></SegmentList></Representation>', /SegmentURL@media "\.\.\/\.\.\/x\.m4s" climbs/],
    ['<Representation id="a" bandwidth="1"><SegmentTemplate media="%2e%2e/$Number$.m4s"/></Representation>', /climbs/],
    ['<BaseURL>https://other.example.net/c/</BaseURL>', /is an absolute URL/],
    ['<BaseURL>https://other.example.net/c/</BaseURL>', /on another host/, { baseUrl: 'https://media.example.com/c/' }],
    ['<BaseURL>/d/</BaseURL>', /not under \/c\//, { baseUrl: 'https://media.example.com/c/' }],
    ['<Representation id="a" bandwidth="1"><SegmentBase><Initialization sourceURL="init.mp4?Signature=x"/></SegmentBase></Representation>', /already carries a CloudFront query parameter/],
    ['<Representation id="a" bandwidth="1"><SegmentTemplate media="ftp://x/$Number$"/></Representation>', /only http\(s\) URLs/],
    ['<Representation xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="remote.xml" id="a" bandwidth="1"/>', /remote element \(xlink:href\)/],
    ['<SupplementalProperty schemeIdUri="urn:mpeg:dash:urlparam:2014"><up:UrlQueryInfo xmlns:up="urn:mpeg:dash:schema:urlparam:2014" queryTemplate="$querypart$" useMPDUrlQuery="true"/></SupplementalProperty>', /URL parameters \(urn:mpeg:dash:urlparam\) of its own/]
  ]
  for (const [body, message, extra] of refused) {
    t.throws(() => templateMpd(MPD(body), 'c/manifest.mpd', { ...settings, ...extra }), { code: 'FST_ERR_CF_MANIFEST_TEMPLATE', message }, body)
  }
  t.throws(() => templateMpd(MPD(TEMPLATE, '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"><Location>https://media.example.com/c/live.mpd</Location>'), 'c/m.mpd', settings),
    { code: 'FST_ERR_CF_MANIFEST_TEMPLATE', message: /<Location>: a player fetches the MPD again from there without its query/ })
  t.throws(() => templateMpd('<?xml version="1.0"?><!DOCTYPE MPD [<!ENTITY a "b">]><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"/>', 'm.mpd', settings), { code: 'FST_ERR_CF_INVALID_MPD', message: /DOCTYPE/ })
  t.throws(() => templateMpd('<MPD xmlns="urn:other"/>', 'm.mpd', settings), { code: 'FST_ERR_CF_MANIFEST_TEMPLATE', message: /root element/ })
  const accepted: Array<[string, Record<string, string>?]> = [
    ['<BaseURL>video/</BaseURL>' + TEMPLATE],
    ['<Representation id="a" bandwidth="1"><BaseURL>a/b/</BaseURL><SegmentList><SegmentURL media="c/./x.m4s"/></SegmentList></Representation>'],
    ['<BaseURL>https://media.example.com/c/video/</BaseURL>', { baseUrl: 'https://media.example.com/c/' }],
    ['<Representation id="a" bandwidth="1"><SegmentTemplate media="x-$$-$Time$.m4s"/></Representation>']
  ]
  for (const [body, extra] of accepted) {
    t.equal(templateMpd(MPD(body), 'c/manifest.mpd', { ...settings, ...extra }).changed, true, body)
  }
})
