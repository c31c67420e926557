/**
 * topicToStream is the sync lane's topic → stream mapping (SYSTEM.md, "Delivery contract"):
 * the token probe checks that every granted topic's stream is granted too.
 */
export function topicToStream(topic: string): string {
  let m = /^run:([^:]+):events$/.exec(topic);
  if (m) return `runtime.run.${m[1]}.events`;
  m = /^worker:([^:]+):lifecycle$/.exec(topic);
  if (m) return `runtime.worker.${m[1]}.lifecycle`;
  m = /^fleet:(user|guest):([^:]+):workers$/.exec(topic);
  if (m) return `runtime.fleet.${m[1]}.${m[2]}.workers`;
  if (topic === 'runtime.codex_worker_events') return 'runtime.codex.worker.events';
  return `runtime.topic.${topic.replace(/:/g, '.')}`;
}
