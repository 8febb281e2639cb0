// kubectl's flag conventions for the plugin: `-n ns`, `-nns`, `-o wide`, `-owide`, `-A`, `--namespace=ns`,
// rewritten into the long flags the sub-commands declare (src/runtime/flags.ts has no short flags).
const SHORT: Record<string, string> = { '-n': '--namespace', '-o': '--output', '-A': '--all-namespaces' };

export function kubectlArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    if (arg === '--') {
      out.push(...argv.slice(argv.indexOf(arg)));
      break;
    }
    const long = SHORT[arg];
    if (long) out.push(long);
    else if (/^-[no]./.test(arg) && !arg.startsWith('--')) out.push(`${SHORT[arg.slice(0, 2)]}=${arg.slice(2).replace(/^=/, '')}`);
    else out.push(arg);
  }
  return out;
}

/** Help and error texts name what the user typed: `kubectl locus …` rather than `locus kubectl …`. */
export function asPluginText(text: string): string {
  return text.replace(/(^|\n)(usage: | {7})?locus kubectl([ :])/g, '$1$2kubectl locus$3');
}
