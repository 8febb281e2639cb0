// Mocha prints only the title of a skipped test; every skip in this suite also says why, on its own line.

/** Skips the running test (or, from a `before` hook, its whole suite) after printing the reason. */
export function skipBecause(ctx: Mocha.Context, reason: string): never {
  console.log(`    skipped: ${reason}`);
  ctx.skip();
}
