// Package root: the Fastify plugin (default and named export) and the framework-agnostic core.
export { fastifyCloudfrontCookies, default } from './fastify/index.js'
export type { FastifyCloudfrontCookiesOptions, CloudfrontRouteOptions, CloudfrontReply, CloudfrontDecorator } from './fastify/index.js'
export * from './core/index.js'
