/**
 * COMMANDS is the table of `sentinel` subcommands, keyed by their words ("rules test"), in the
 * order `sentinel help` lists them: the daemon first, then the one-shot tools. Each command lives
 * in its own file under src/commands/ and is imported only when it runs, so `sentinel --help`
 * and a quick `sentinel verdict` do not load the daemon's dependencies.
 */
import type { CommandEntry } from './types.js';

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  run: {
    usage: 'run [--config FILE] [--listen HOST:PORT] [--log-level LEVEL]   daemon: probes, rules, notifications, scheduled drills, HTTP API',
    load: async () => (await import('./run.js')).runCommand,
  },
  demo: {
    usage: 'demo [--out DIR]   lab + daemon + one staged drill; prints the verdict',
    load: async () => (await import('./demo.js')).demoCommand,
  },
  lab: {
    usage: 'lab [--config FILE] [--rotate-secrets]   the embedded reference system and fault proxy, in the foreground (keeps its secrets unless told to rotate)',
    load: async () => (await import('./lab.js')).labCommand,
  },
  'config check': {
    usage: 'config check [--config FILE]   validate a configuration file',
    load: async () => (await import('./config-check.js')).configCheckCommand,
  },
  probe: {
    usage: 'probe NAME|all [--config FILE] [--json]   run probes once and print their results',
    load: async () => (await import('./probe.js')).probeCommand,
  },
  query: {
    usage: 'query EXPR [--time T | --start S --end E --step D] [--config FILE | --data-dir DIR] [--json]   PromQL over the local sample store',
    load: async () => (await import('./query.js')).queryCommand,
  },
  'rules check': {
    usage: 'rules check FILE...   validate Prometheus rule files',
    load: async () => (await import('./rules-check.js')).rulesCheckCommand,
  },
  'rules test': {
    usage: 'rules test FILE...   run promtool-format rule unit tests',
    load: async () => (await import('./rules-test.js')).rulesTestCommand,
  },
  drill: {
    usage: 'drill list|run NAME|cleanup [--all | --suite chaos] [--config FILE] [--out DIR] [--dry-run] [--json] [--skip-alert-check]   staged chaos drills through Toxiproxy, with evidence',
    load: async () => (await import('./drill.js')).drillCommand,
  },
  verdict: {
    usage: 'verdict DIR [--config FILE] [--json]   exit 0 allow, 1 block, 2 invalid or tampered',
    load: async () => (await import('./verdict.js')).verdictCommand,
  },
  gate: {
    usage: 'gate [--config FILE] [--out DIR] [--json]   promotion gate: drills + alerts + SLOs',
    load: async () => (await import('./gate.js')).gateCommand,
  },
  rollout: {
    usage: 'rollout staging|production|confirm [--cohorts 5,10,25,50,100] [--cohort-soak-seconds N] [--skip-gates] [--slo-snapshot-url URL] [--max-p95-latency-ms N] [--max-error-budget-ratio R] [--skip-rollback-drill] [--output-dir DIR] [--resume DIR] [--config FILE]   supervised staging canary / production phased rollout, with the operators\' artifacts',
    load: async () => (await import('./rollout.js')).rolloutCommand,
  },
  'announce-cutover': {
    usage: 'announce-cutover [--config FILE] [--output-dir DIR]   cutover-state evidence (control and runtime transport), allow/block',
    load: async () => (await import('./announce-cutover.js')).announceCutoverCommand,
  },
};
