/** An error the user can fix: printed as one line on stderr, no stack trace, exit code 2. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
