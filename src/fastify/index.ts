export { fastifyCloudfrontCookies, default } from './plugin.js'
export type {
  FastifyCloudfrontCookiesOptions, CloudfrontRouteOptions, CloudfrontReply, CloudfrontDecorator
} from './plugin.js'
