import t from 'tap'
import { compilePattern, matchPattern, patternCouldMatchRoute, defaultParamCheck } from '../../src/core/grants/patterns.js'

t.test('patternCouldMatchRoute: false only where no request to the route can match', async (t) => {
  const p = compilePattern('/courses/:courseId/*', 'test')
  const table: Array<[string, boolean]> = [
    ['/courses/:id/player', true],
    // With ignoreTrailingSlash, /courses/42/ reaches this route and matches the pattern.
    ['/courses/:id', true],
    ['/courses/:id/', true],
    ['/courses/42/player', true],
    ['/courses/*', true],
    ['/*', true],
    ['/courses/:id(^\\d+)/x', true],
    ['/courses/file-:id/x', true],
    ['/public', false],
    ['/api/courses/:id/x', false],
    ['/Courses/:id/x', false]
  ]
  for (const [route, expected] of table) t.equal(patternCouldMatchRoute(p, route), expected, route)
  const exact = compilePattern('/a/:x', 'test')
  t.equal(patternCouldMatchRoute(exact, '/a/:x'), true)
  t.equal(patternCouldMatchRoute(exact, '/a/:x/b'), false)
  t.equal(patternCouldMatchRoute(exact, '/a'), false)
})

t.test('whatever the pre-filter keeps, matching decides on the raw path', async (t) => {
  const p = compilePattern('/courses/:courseId/*', 'test')
  t.same(matchPattern(p, '/courses/42/player'), { courseId: '42' })
  t.same(matchPattern(p, '/courses/42/'), { courseId: '42' })
  t.equal(matchPattern(p, '/courses/42'), null)
  t.same(matchPattern(p, '/courses/%2A/x'), { courseId: '%2A' })
  t.equal(defaultParamCheck('%2A', 'courseId'), false)
})
