/**
 * figure prints one headline figure in the form bench/run.ts gathers into its closing table:
 * `FIGURE<TAB>what<TAB>sentinel<TAB>peer<TAB>target<TAB>verdict`. A bench prints its details as it
 * likes; the figure line is what the summary shows beside the others.
 */
export function figure(what: string, sentinel: string, peer: string, target: string, verdict: 'PASS' | 'MISS' | '-'): void {
  console.log(['FIGURE', what, sentinel, peer, target, verdict].map((c) => c.replace(/[\t\n]/g, ' ')).join('\t'));
}
