// The example's data: two demo users and two courses, each owned by one user.
// A real app would keep these in a database.

export interface User {
  id: string
  name: string
}

export interface Course {
  id: string
  title: string
  owner: string
  /** The course's folder at the edge, in example/media/. */
  prefix: string
  /** The video's length in seconds: a static manifest URL must outlive the viewing. */
  seconds: number
}

/** Where the edge serves the static manifests' copy of every course folder: `/static/courses/hls-basics/`. */
export const STATIC_ROOT = '/static'

export const users: Record<string, User> = {
  alice: { id: 'alice', name: 'Alice' },
  bob: { id: 'bob', name: 'Bob' }
}

export const courses: Record<string, Course> = {
  'hls-basics': { id: 'hls-basics', title: 'HLS Basics', owner: 'alice', prefix: '/courses/hls-basics/', seconds: 16 },
  'edge-caching': { id: 'edge-caching', title: 'Caching at the Edge', owner: 'bob', prefix: '/courses/edge-caching/', seconds: 16 }
}

export function findCourse (id: string): Course | undefined {
  return Object.hasOwn(courses, id) ? courses[id] : undefined
}

export function owns (userId: string | null, courseId: string): boolean {
  return userId !== null && findCourse(courseId)?.owner === userId
}

/**
 * Whether the user owns the course whose media folder is `prefix` (`/courses/hls-basics/`), or its
 * static manifests' copy (`/static/courses/hls-basics/`).
 */
export function ownsPrefix (userId: string | null, prefix: string): boolean {
  return userId !== null && Object.values(courses).some((c) =>
    (c.prefix === prefix || STATIC_ROOT + c.prefix === prefix) && c.owner === userId)
}
