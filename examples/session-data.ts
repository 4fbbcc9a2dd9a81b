import { type Session, storable } from 'elysia-sessions'

/** The logged-in user, stored in the session with `session.object('user', user)`. */
export class User {
  constructor(
    readonly name: string,
    readonly loggedInAt: string,
  ) {}

  toJSON() {
    return { name: this.name, loggedInAt: this.loggedInAt }
  }

  static fromJSON(json: { name: string; loggedInAt: string }): User {
    return new User(json.name, json.loggedInAt)
  }
}

storable(User)

/** The user logged in to `session`, or null: `instanceof` narrows the stored object to a `User` without a cast. */
export function currentUser(session: Session): User | null {
  const user = session.objectOrNull('user')
  return user instanceof User ? user : null
}
