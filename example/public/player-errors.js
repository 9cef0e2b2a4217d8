// What the pages say when hls.js gives up, in words a viewer understands. hls.js's own terms
// (manifestLoadError, fragLoadError…) and the HTTP status go to the "Details" line beside it, for whoever
// reads it to a developer; the URL is given without its query, which may be a signature.

const PARSING = new Set(['manifestParsingError', 'levelParsingError', 'levelEmptyError', 'manifestIncompatibleCodecsError'])

/**
 * `refused`: the page's own words for a 401 or 403, which only it can explain.
 * Returns `{ text, detail }`.
 */
export function describePlayerError (data, refused) {
  const status = (data.response && data.response.code) || 0
  const part = data.frag ? 'Part of the video' : 'The video'
  let text
  if (status === 401 || status === 403) {
    text = refused
  } else if (status === 404 || status === 410) {
    text = `${part} could not be found: it may have been moved or removed.`
  } else if (status >= 500) {
    text = `${part} could not be loaded: the media server had a problem. Try again in a moment.`
  } else if (/TimeOut$/.test(data.details)) {
    text = `${part} could not be loaded: the media server took too long to answer. Reload the page.`
  } else if (PARSING.has(data.details)) {
    text = 'The video could not be read: its playlist is not one this player understands.'
  } else if (data.type === 'networkError') {
    // No answer the page may read: the server is down or refused this page's origin, or it refused the
    // request without the CORS headers that would let the page see why (a CloudFront 403 often has none).
    text = `${part} could not be loaded: your access may have expired, or the media server could not be reached. Reload the page.`
  } else if (data.type === 'mediaError') {
    text = 'The video could not be played: this browser could not decode it.'
  } else {
    text = 'The video stopped because of an error. Reload the page.'
  }
  const url = data.frag?.url ?? data.context?.url ?? data.url
  const detail = [
    `${data.type}: ${data.details}`,
    status ? `HTTP ${status}` : '',
    url ? withoutQuery(url) : ''
  ].filter(Boolean).join(', ')
  return { text, detail }
}

function withoutQuery (url) {
  try {
    const u = new URL(url, document.baseURI)
    return `${u.origin}${u.pathname}`
  } catch {
    return ''
  }
}

/** Shows the technical line in the page's details element (`#player-details`), or hides it. */
export function showDetail (detail) {
  const details = document.getElementById('player-details')
  if (details === null) return
  details.querySelector('code').textContent = detail || ''
  details.hidden = !detail
}
